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
    def _x_of_theta_mp(self, t):
        p = self.order
        return mpmath.sin((p + 1) * t)**(p + 1) / (mpmath.sin(t) * mpmath.sin(p * t)**p)

    def _theta_mp(self, xu):
        """theta with x(theta) = xu (unit scale), to the working precision."""
        p = self.order
        t = mpmath.mpf(float(self._theta_numpy(np.array([float(xu)]))[0]))
        target = mpmath.log(xu)
        for _ in range(200):
            f = ((p + 1) * mpmath.log(mpmath.sin((p + 1) * t)) - mpmath.log(mpmath.sin(t))
                 - p * mpmath.log(mpmath.sin(p * t))) - target
            df = ((p + 1)**2 * mpmath.cot((p + 1) * t) - mpmath.cot(t)
                  - p**2 * mpmath.cot(p * t))
            step = f / df
            t -= step
            if abs(step) < mpmath.eps * 4 * abs(t):
                break
        return t

    def _theta_numpy(self, xu):
        """Vectorised theta(xu): safeguarded Newton on log x(theta)."""
        p = self.order
        lo = np.zeros_like(xu)
        hi = np.full_like(xu, np.pi / (p + 1))
        target = np.log(xu)
        # initial guess from the two edge asymptotics blended by interpolation
        grid = np.linspace(0, np.pi / (p + 1), 257)[1:-1]
        lx = ((p + 1) * np.log(np.sin((p + 1) * grid)) - np.log(np.sin(grid))
              - p * np.log(np.sin(p * grid)))
        t = np.interp(-target, -lx, grid)
        for _ in range(60):
            s1, s0, sp = np.sin((p + 1) * t), np.sin(t), np.sin(p * t)
            f = (p + 1) * np.log(s1) - np.log(s0) - p * np.log(sp) - target
            df = ((p + 1)**2 * np.cos((p + 1) * t) / s1 - np.cos(t) / s0
                  - p**2 * np.cos(p * t) / sp)
            # f decreasing in t: f > 0 means t too small
            lo = np.where(f > 0, t, lo)
            hi = np.where(f > 0, hi, t)
            new = t - f / df
            bad = ~((new > lo) & (new < hi))
            new = np.where(bad, 0.5 * (lo + hi), new)
            done = np.abs(new - t) <= 4e-16 * np.abs(t)
            t = new
            if done.all():
                break
        return t

    def _pdf_closed(self, x):
        p = self.order
        c = _mp(self._scale)
        t = self._theta_mp(x / c)
        return (mpmath.sin(t)**2 * mpmath.sin(p * t)**(p - 1)
                / (mpmath.pi * mpmath.sin((p + 1) * t)**p)) / c

    def _pdf_numpy_inside(self, x):
        p = self.order
        c = float(self._scale)
        t = self._theta_numpy(x / c)
        return (np.sin(t)**2 * np.sin(p * t)**(p - 1) / (np.pi * np.sin((p + 1) * t)**p)) / c

    def _cdf_inside(self, x):
        p = self.order
        c = _mp(self._scale)
        t = self._theta_mp(x / c)
        psi = mpmath.sin((p + 1) * t) / mpmath.sin(p * t) * mpmath.expj(-t) - 1
        return 1 - (p * mpmath.im(psi) - mpmath.arg(psi)) / mpmath.pi

    def _cdf_numpy_inside(self, x):
        p = self.order
        c = float(self._scale)
        t = self._theta_numpy(x / c)
        psi = np.sin((p + 1) * t) / np.sin(p * t) * np.exp(-1j * t) - 1
        return 1 - (p * psi.imag - np.angle(psi)) / np.pi

    def _latex_density(self):
        t = sympy.Symbol(r"\varphi")
        p, c = self.order, self._scale
        x = c * sympy.sin((p + 1) * t)**(p + 1) / (sympy.sin(t) * sympy.sin(p * t)**p)
        rho = sympy.sin(t)**2 * sympy.sin(p * t)**(p - 1) / (sympy.pi * c * sympy.sin((p + 1) * t)**p)
        return (rf"x(\varphi) = {sympy.latex(x)},\quad \rho\big(x(\varphi)\big) = {sympy.latex(rho)},"
                rf"\quad \varphi \in \left(0, \tfrac{{\pi}}{{{p + 1}}}\right)")
