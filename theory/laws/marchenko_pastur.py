"""Marchenko-Pastur law MP(ratio, variance).

Convention (docs/derivations.md, section 0): the limiting eigenvalue law of
``(1/d) G G^T`` for an ``n x d`` matrix ``G`` with i.i.d. entries of variance
``variance``, ``ratio = n/d``.  Mean ``variance``, variance
``ratio * variance^2``, S-transform ``1 / (variance (1 + ratio z))``.

For ``ratio > 1`` the ``n x n`` matrix has rank ``d``: the law has an atom at
0 of mass ``1 - 1/ratio`` (returned by :meth:`atom`).  Moments include it (it
contributes nothing for k >= 1), :meth:`cdf` includes it (``cdf(0) = 1 -
1/ratio``), and :meth:`pdf` is the density of the continuous part (it
integrates to ``1/ratio``).  :meth:`to_scipy` refuses such laws.
"""
from __future__ import annotations

import mpmath
import numpy as np
import sympy

from .. import _validate
from ..symbols import latex as _tex
from .base import AlgebraicLaw, _mp

__all__ = ["MarchenkoPastur"]


class MarchenkoPastur(AlgebraicLaw):
    """MP(ratio, variance): eigenvalues of ``(1/d) G G^T``, ``G`` n x d, ratio = n/d.

    >>> law = MarchenkoPastur(sympy.Rational(1, 2))
    >>> law.moments(3)
    [1, 3/2, 11/4]
    >>> lam = sympy.Symbol("lam", positive=True)
    >>> MarchenkoPastur(lam).variance()
    lam
    >>> MarchenkoPastur(1).support()
    (0, 4)
    >>> import mpmath
    >>> mpmath.nstr(MarchenkoPastur(1).pdf(1, dps=20), 18)       # sqrt(3)/(2 pi)
    '0.275664447710896025'
    """

    name = "Marchenko-Pastur"
    _pdf_methods = ("closed", "stieltjes")

    def __init__(self, ratio, variance=1):
        self.ratio = _validate.to_sympy(_validate.positive("ratio", ratio))
        self.variance_parameter = _validate.to_sympy(_validate.positive("variance", variance))
        super().__init__([(self.ratio, 1)], self.variance_parameter)

    @property
    def parameters(self):
        return {"ratio": self.ratio, "variance": self.variance_parameter}

    @property
    def is_symbolic(self):
        return bool(self.ratio.free_symbols or self.variance_parameter.free_symbols)

    def moment_formula(self, k):
        """Narayana form ``s2^k sum_j (1/k) C(k,j) C(k,j-1) lam^(j-1)``."""
        j = sympy.Symbol("j", integer=True, positive=True)
        lam, s2 = self.ratio, self.variance_parameter
        return s2**k * sympy.Sum(sympy.binomial(k, j) * sympy.binomial(k, j - 1)
                                 * lam**(j - 1) / k, (j, 1, k))

    def atom(self):
        """``max(0, 1 - 1/ratio)``."""
        return sympy.Max(0, 1 - 1 / self.ratio)

    def support(self):
        """``variance (1 -/+ sqrt(ratio))^2`` (continuous part)."""
        s = sympy.sqrt(self.ratio)
        return (self.variance_parameter * (1 - s)**2, self.variance_parameter * (1 + s)**2)

    def _pdf_closed(self, x):
        lam, s2 = _mp(self.ratio), _mp(self.variance_parameter)
        a, b = s2 * (1 - mpmath.sqrt(lam))**2, s2 * (1 + mpmath.sqrt(lam))**2
        return mpmath.sqrt((b - x) * (x - a)) / (2 * mpmath.pi * s2 * lam * x)

    def _pdf_numpy_inside(self, x):
        lam, s2 = float(self.ratio), float(self.variance_parameter)
        a, b = s2 * (1 - np.sqrt(lam))**2, s2 * (1 + np.sqrt(lam))**2
        return np.sqrt((b - x) * (x - a)) / (2 * np.pi * s2 * lam * x)

    def _latex_density(self):
        x = sympy.Symbol("x")
        lam, s2 = self.ratio, self.variance_parameter
        a, b = self.support()
        rho = sympy.sqrt((b - x) * (x - a)) / (2 * sympy.pi * s2 * lam * x)
        out = rf"\rho(x) = {_tex(rho)},\quad x \in {_tex(sympy.Interval(a, b))}"
        if lam.free_symbols or lam > 1:
            out += rf"\ \text{{plus an atom }} {_tex(self.atom())}\,\delta_0"
        return out

