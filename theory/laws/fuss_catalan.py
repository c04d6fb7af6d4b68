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

Meijer G form (Penson-Zyczkowski, ``method="meijer"``): the Mellin transform
of the density is the moment sequence continued to complex k; Gauss's
multiplication formula splits ``Gamma((p+1)k + 1)`` and ``Gamma(pk + 2)`` into
products of ``Gamma(k + c)``, which gives, with ``r = (p+1)^(p+1)/p^p``,

    rho(x) = A/r G^{p+1,0}_{p+1,p+1}(x/r | a; b),
    a = (0, 1/p, 2/p - 1, ..., p/p - 1),  b = (1/(p+1) - 1, ..., (p+1)/(p+1) - 1),
    A = sqrt(p+1) / (sqrt(2 pi) p^(3/2)),

evaluated by ``mpmath.meijerg`` (slower; a third independent evaluation).
"""
from __future__ import annotations

import mpmath
import numpy as np
import sympy

from .. import _validate
from ..symbols import latex as _tex
from .base import AlgebraicLaw, _mp, lower_half_angle

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
    _pdf_methods = ("closed", "meijer", "stieltjes")

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

    def _sines_numpy(self, t, d, left):
        """sin and cos of theta, p theta, (p+1) theta computed from the small
        angle (delta where ``left``, theta elsewhere), without cancellation."""
        p = self.order
        t0 = np.pi / (p + 1)
        s1 = np.where(left, np.sin((p + 1) * d), np.sin((p + 1) * t))
        c1 = np.where(left, -np.cos((p + 1) * d), np.cos((p + 1) * t))
        sp = np.where(left, np.sin(t0 + p * d), np.sin(p * t))
        cp = np.where(left, -np.cos(t0 + p * d), np.cos(p * t))
        return s1, c1, np.sin(t), np.cos(t), sp, cp

    def _angles_numpy(self, xu):
        """Vectorised (theta, delta, left) with x(theta) = xu, delta = pi/(p+1) - theta.

        Two regimes, so that the small angle is always the unknown (no
        cancellation in t0 - angle): near 0 (``left``: theta > t0/2) solve for
        L = log delta, where log x ~ (p+1) L; near the right edge solve for
        L = log theta, where log b - log x ~ kappa theta^2.  Initial guess by
        interpolation on a grid of L, then Newton steps kept inside a bracket
        (bisection in L otherwise)."""
        p = self.order
        t0 = np.pi / (p + 1)
        half = np.log(t0 / 2)
        target = np.log(xu)
        left = target <= self._logx_numpy(np.array([t0 / 2]), np.array([t0 / 2]),
                                          np.array([True]))[0]
        def g_and_dg(L, flag):
            a = np.exp(L)
            if flag:
                d, t = a, t0 - a
                s1, c1 = np.sin((p + 1) * d), -np.cos((p + 1) * d)
                sp, cp = np.sin(t0 + p * d), -np.cos(t0 + p * d)
            else:
                d, t = t0 - a, a
                s1, c1 = np.sin((p + 1) * t), np.cos((p + 1) * t)
                sp, cp = np.sin(p * t), np.cos(p * t)
            s0, c0 = np.sin(t), np.cos(t)
            g = (p + 1) * np.log(s1) - np.log(s0) - p * np.log(sp)
            dlog_dtheta = (p + 1)**2 * c1 / s1 - c0 / s0 - p**2 * cp / sp
            return g, (-a if flag else a) * dlog_dtheta

        Lg = np.linspace(half - 36.0, half, 2001)
        L = np.empty_like(xu)
        for flag in (True, False):
            idx = np.nonzero(left == flag)[0]
            if idx.size == 0:
                continue
            tg = target[idx]
            lg, _ = g_and_dg(Lg, flag)
            if flag:        # increasing in L; below the grid x ~ C delta^(p+1)
                Li = np.interp(tg, lg, Lg)
                Li = np.where(tg < lg[0], Lg[0] + (tg - lg[0]) / (p + 1), Li)
            else:           # decreasing in L
                Li = np.interp(-tg, -lg, Lg)
            sign = 1.0 if flag else -1.0
            lo = np.full(idx.size, -np.inf)
            hi = np.full(idx.size, half)
            act = np.arange(idx.size)
            for _ in range(60):
                La = Li[act]
                g, dg = g_and_dg(La, flag)
                f = g - tg[act]
                up = sign * f < 0                  # L too small
                lo[act] = np.where(up, La, lo[act])
                hi[act] = np.where(up, hi[act], La)
                with np.errstate(divide="ignore", invalid="ignore"):
                    new = La - f / dg
                bad = ~((new > lo[act]) & (new < hi[act])) | ~np.isfinite(new)
                mid = np.where(np.isfinite(lo[act]), 0.5 * (lo[act] + hi[act]), hi[act] - 1.0)
                new = np.where(bad, mid, new)
                converged = np.abs(f) <= 4e-16 * np.maximum(1.0, np.abs(tg[act]))
                new = np.where(converged, La, new)     # residual at rounding level
                Li[act] = new
                keep = ~converged & (np.abs(new - La) > 1e-15 * np.maximum(1.0, np.abs(new)))
                act = act[keep]
                if act.size == 0:
                    break
            L[idx] = Li
        a = np.exp(L)
        d = np.where(left, a, t0 - a)
        t = np.where(left, t0 - a, a)
        return t, d, left

    def _delta_numpy(self, xu):
        return self._angles_numpy(xu)[1]

    def _logx_numpy(self, t, d, left):
        p = self.order
        s1, _, s0, _, sp, _ = self._sines_numpy(t, d, left)
        return (p + 1) * np.log(s1) - np.log(s0) - p * np.log(sp)

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

    def _pdf_meijer(self, x):
        p = self.order
        c = _mp(self._scale)
        pm = mpmath.mpf(p)
        r = (pm + 1)**(p + 1) / pm**p
        a = [0, 1 / pm] + [mpmath.mpf(j + 1) / p - 1 for j in range(1, p)]
        b = [mpmath.mpf(j + 1) / (p + 1) - 1 for j in range(p + 1)]
        amp = mpmath.sqrt(pm + 1) / (mpmath.sqrt(2 * mpmath.pi) * pm**mpmath.mpf(1.5))
        return amp / r * mpmath.re(mpmath.meijerg([[], a], [b, []], x / c / r)) / c

    def _pdf_numpy_inside(self, x):
        p = self.order
        c = float(self._scale)
        t0 = np.pi / (p + 1)
        s1, _, s0, _, sp, _ = self._sines_numpy(*self._angles_numpy(x / c))
        return (s0**2 * sp**(p - 1) / (np.pi * s1**p)) / c

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
        t, d, left = self._angles_numpy(x / c)
        s1, _, _, _, sp, _ = self._sines_numpy(t, d, left)
        psi = s1 / sp * np.exp(-1j * t) - 1
        return np.clip(1 - (p * psi.imag - lower_half_angle(psi)) / np.pi, 0.0, 1.0)

    def _latex_density(self):
        t = sympy.Symbol(r"\varphi")
        p, c = self.order, self._scale
        x = c * sympy.sin((p + 1) * t)**(p + 1) / (sympy.sin(t) * sympy.sin(p * t)**p)
        rho = sympy.sin(t)**2 * sympy.sin(p * t)**(p - 1) / (sympy.pi * c * sympy.sin((p + 1) * t)**p)
        return (rf"x(\varphi) = {_tex(x)},\quad \rho\big(x(\varphi)\big) = {_tex(rho)},"
                rf"\quad \varphi \in \left(0, \tfrac{{\pi}}{{{p + 1}}}\right)")
