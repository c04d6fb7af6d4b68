"""Fuss-Catalan law FC(order, variance).

The law of the squared singular values of a product of ``order`` = p
independent square Ginibre matrices with entries of variance ``variance/N``
(Prop 8): k-th moment ``s2^(p k) binom((p+1)k, k) / (p k + 1)``, support
``[0, s2^p (p+1)^(p+1) / p^p]``, density ``~ x^(-p/(p+1))`` at 0.  It is
``MP(1, s2)`` free-multiplied p times: ``1/S(w) = s2^p (1 + w)^p``.

Closed form of the density (the "(b)" evaluation): with
``theta in (0, pi/(p+1))`` the support is parametrised by

    x(theta) = s2^p sin((p+1) theta)^(p+1) / (sin(theta) sin(p theta)^p),
    rho(x(theta)) = s2^(-p) sin(theta)^2 sin(p theta)^(p-1) / (pi sin((p+1) theta)^p).

Derivation: on the support ``w = 1 + psi`` solves ``w^(p+1) = x (w - 1)``
with ``x`` real, so ``arg(w - 1) = (p+1) arg(w)``; the triangle 0, 1, w has
angles ``theta``, ``pi - (p+1) theta``, ``p theta`` and the law of sines
gives ``|w| = sin((p+1)theta)/sin(p theta)``, ``|w-1| = sin(theta)/sin(p theta)``,
hence ``x``; the density is ``|Im w| / (pi x)``.  ``x(theta)`` decreases from
the right edge (theta -> 0) to 0 (theta -> pi/(p+1)), so ``theta(x)`` is a
one-dimensional monotone root-find (Newton, safeguarded by bisection).  The
distribution function is closed-form in the same variable:
``F = 1 - (p Im psi - arg psi)/pi`` with ``psi = w - 1`` (base.py).
"""
from __future__ import annotations

import mpmath
import numpy as np
import sympy

from .. import _validate
from .base import AlgebraicLaw, _mp

__all__ = ["FussCatalan"]


class FussCatalan(AlgebraicLaw):
    """FC(order, variance): squared singular values of a product of ``order``
    square Ginibre matrices.

    >>> FussCatalan(2).moments(4)
    [1, 3, 12, 55]
    >>> FussCatalan(3).support()
    (0, 256/27)
    >>> FussCatalan(2).variance(), FussCatalan(3).variance()
    (2, 3)
    """

    name = "Fuss-Catalan"
    _pdf_methods = ("closed", "stieltjes")

    def __init__(self, order, variance=1):
        self.order = _validate.integer("order", order, minimum=1)
        if isinstance(self.order, sympy.Basic):
            raise ValueError(f"order must be an integer >= 1 (got the symbol {order!r}); "
                             "FC(p) with symbolic p: use FussCatalan.moment_formula")
        self.variance_parameter = _validate.to_sympy(_validate.positive("variance", variance))
        super().__init__([(1, self.order)], self.variance_parameter**self.order)

    @property
    def parameters(self):
        return {"order": self.order, "variance": self.variance_parameter}

    @property
    def is_symbolic(self):
        return bool(self.variance_parameter.free_symbols)

    def moment_formula(self, k, order=None):
        """``s2^(p k) binom((p+1) k, k) / (p k + 1)`` (``order`` may be a symbol)."""
        p = self.order if order is None else order
        return (self.variance_parameter**(p * k) * sympy.binomial((p + 1) * k, k)
                / (p * k + 1))

    def atom(self):
        return sympy.Integer(0)

    def support(self):
        """``[0, s2^p (p+1)^(p+1) / p^p]``."""
        p = self.order
        return (sympy.Integer(0),
                self.variance_parameter**p * sympy.Integer(p + 1)**(p + 1) / sympy.Integer(p)**p)

    # ---------------------------------------------------------- parametrisation
    # The unknown is delta = pi/(p+1) - theta, solved for L = log(delta):
    # near x = 0, log x ~ (p+1) L + const is nearly linear in L, and the
    # sines are written so that no cancellation occurs for small delta:
    # sin((p+1) theta) = sin((p+1) delta), sin(p theta) = sin(t0 + p delta).
    def _theta0(self, lib):
        return lib.pi / (self.order + 1)

    def _delta_numpy(self, xu):
        """Vectorised delta(xu): safeguarded Newton on log x in L = log delta."""
        p = self.order
        t0 = np.pi / (p + 1)
        target = np.log(xu)
        # initial guess: interpolation on a grid in L (covers every float x > 0
        # through the x ~ C delta^(p+1) asymptotics below the grid)
        Lg = np.linspace(np.log(t0) - 40.0, np.log(t0) - 1e-9, 2001)
        lx = self._logx_numpy(np.exp(Lg))
        L = np.interp(target, lx, Lg)
        low = target < lx[0]
        L = np.where(low, Lg[0] + (target - lx[0]) / (p + 1), L)
        lo = np.full_like(xu, -np.inf)
        hi = np.full_like(xu, np.log(t0))
        for _ in range(50):
            d = np.exp(L)
            g = self._logx_numpy(d) - target
            dg = d * ((p + 1)**2 / np.tan((p + 1) * d) + 1 / np.tan(t0 - d)
                      - p**2 / np.tan(t0 + p * d))
            lo = np.where(g < 0, L, lo)
            hi = np.where(g < 0, hi, L)
            new = L - g / dg
            bad = ~((new > lo) & (new < hi))
            mid = np.where(np.isfinite(lo), 0.5 * (lo + hi), hi - 1.0)
            new = np.where(bad, mid, new)
            done = np.abs(new - L) <= 1e-15 * np.maximum(1.0, np.abs(L))
            L = new
            if done.all():
                break
        return np.exp(L)

    def _logx_numpy(self, d):
        p = self.order
        t0 = np.pi / (p + 1)
        return ((p + 1) * np.log(np.sin((p + 1) * d)) - np.log(np.sin(t0 - d))
                - p * np.log(np.sin(t0 + p * d)))

    def _delta_mp(self, xu):
        """delta(xu) to the working precision: Newton in L = log delta from the
        float solution, kept inside the bracket (bisection otherwise)."""
        p = self.order
        t0 = mpmath.pi / (p + 1)
        target = mpmath.log(xu)
        d0 = float(self._delta_numpy(np.array([max(float(xu), 1e-300)]))[0])
        if float(xu) < 1e-300:   # below float range: the asymptotic guess
            d0 = None
        L = (mpmath.log(d0) if d0 else
             (target - (p + 1) * mpmath.log((p + 1) / mpmath.sin(t0))) / (p + 1))
        lo, hi = mpmath.mpf("-inf"), mpmath.log(t0)
        for _ in range(400):
            d = mpmath.exp(L)
            g = ((p + 1) * mpmath.log(mpmath.sin((p + 1) * d)) - mpmath.log(mpmath.sin(t0 - d))
                 - p * mpmath.log(mpmath.sin(t0 + p * d))) - target
            dg = d * ((p + 1)**2 * mpmath.cot((p + 1) * d) + mpmath.cot(t0 - d)
                      - p**2 * mpmath.cot(t0 + p * d))
            if g < 0:
                lo = L
            else:
                hi = L
            new = L - g / dg
            if not (lo < new < hi):
                new = (lo + hi) / 2 if lo != mpmath.mpf("-inf") else hi - 1
            if abs(new - L) <= 8 * mpmath.eps * max(1, abs(L)):
                L = new
                break
            L = new
        return mpmath.exp(L)

    def _pdf_closed(self, x):
        p = self.order
        c = _mp(self._scale)
        t0 = mpmath.pi / (p + 1)
        d = self._delta_mp(x / c)
        return (mpmath.sin(t0 - d)**2 * mpmath.sin(t0 + p * d)**(p - 1)
                / (mpmath.pi * mpmath.sin((p + 1) * d)**p)) / c

    def _pdf_numpy_inside(self, x):
        p = self.order
        c = float(self._scale)
        t0 = np.pi / (p + 1)
        d = self._delta_numpy(x / c)
        return (np.sin(t0 - d)**2 * np.sin(t0 + p * d)**(p - 1)
                / (np.pi * np.sin((p + 1) * d)**p)) / c

    def _cdf_inside(self, x):
        p = self.order
        c = _mp(self._scale)
        t0 = mpmath.pi / (p + 1)
        d = self._delta_mp(x / c)
        psi = mpmath.sin((p + 1) * d) / mpmath.sin(t0 + p * d) * mpmath.expj(d - t0) - 1
        return 1 - (p * mpmath.im(psi) - mpmath.arg(psi)) / mpmath.pi

    def _cdf_numpy_inside(self, x):
        p = self.order
        c = float(self._scale)
        t0 = np.pi / (p + 1)
        d = self._delta_numpy(x / c)
        psi = np.sin((p + 1) * d) / np.sin(t0 + p * d) * np.exp(1j * (d - t0)) - 1
        return 1 - (p * psi.imag - np.angle(psi)) / np.pi

    def _latex_density(self):
        t = sympy.Symbol(r"\varphi")
        p, c = self.order, self._scale
        x = c * sympy.sin((p + 1) * t)**(p + 1) / (sympy.sin(t) * sympy.sin(p * t)**p)
        rho = sympy.sin(t)**2 * sympy.sin(p * t)**(p - 1) / (sympy.pi * c * sympy.sin((p + 1) * t)**p)
        return (rf"x(\varphi) = {sympy.latex(x)},\quad \rho\big(x(\varphi)\big) = {sympy.latex(rho)},"
                rf"\quad \varphi \in \left(0, \tfrac{{\pi}}{{{p + 1}}}\right)")
