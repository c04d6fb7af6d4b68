"""Quarter-circle law QC(sigma) with ``sigma^2 = variance``.

The limiting law of the singular values of ``sqrt(n) (A - 11^T/n)`` for a
Random Markov matrix ``A`` (Lemma 3): density
``sqrt(4 sigma^2 - x^2) / (pi sigma^2)`` on ``[0, 2 sigma]``.  Its square
follows ``MP(1, sigma^2)``: the even moments are MP moments (Catalan numbers
times ``sigma^(2j)``), and the odd ones are Beta integrals,

    E x^k = sigma^k 2^k Gamma((k+1)/2) / (sqrt(pi) Gamma(k/2 + 2)),

which involve ``1/pi`` (the mean is ``8 sigma / (3 pi)``).  The Stieltjes
transform of QC contains a logarithm: it satisfies no polynomial equation,
so :meth:`stieltjes_polynomial` refuses and the S-transform is a series (exact
coefficients in ``pi``).  The second density evaluation ("stieltjes") is
``2 x rho_MP(x^2)`` with the MP density from its algebraic equation.
"""
from __future__ import annotations

import mpmath
import numpy as np
import sympy

from .. import _validate
from ..symbols import latex as _tex
from .base import SpectralLaw, _mp
from .marchenko_pastur import MarchenkoPastur

__all__ = ["QuarterCircle"]


class QuarterCircle(SpectralLaw):
    """QC(sigma): singular values of ``sqrt(n)(A - 11^T/n)``; ``variance = sigma^2``.

    >>> qc = QuarterCircle()
    >>> qc.mean(), qc.moment(2), qc.support()
    (8/(3*pi), 1, (0, 2))
    >>> import mpmath
    >>> mpmath.nstr(qc.pdf(1, dps=20), 18)          # sqrt(3)/pi
    '0.55132889542179205'
    """

    name = "quarter-circle"
    _pdf_methods = ("closed", "stieltjes")

    def __init__(self, variance=1):
        self.variance_parameter = _validate.to_sympy(_validate.positive("variance", variance))
        self.sigma = sympy.sqrt(self.variance_parameter)
        self.square_law = MarchenkoPastur(1, self.variance_parameter)

    @property
    def parameters(self):
        return {"variance": self.variance_parameter}

    def moment_formula(self, k):
        """``sigma^k 2^k Gamma((k+1)/2) / (sqrt(pi) Gamma(k/2 + 2))``."""
        return (self.sigma**k * 2**k * sympy.gamma((k + 1) / sympy.Integer(2))
                / (sympy.sqrt(sympy.pi) * sympy.gamma(k / sympy.Integer(2) + 2)))

    def _moments(self, K):
        even = self.square_law.moments(K // 2)
        out = []
        for k in range(1, K + 1):
            if k % 2 == 0:
                out.append(even[k // 2 - 1])
            else:
                out.append(sympy.simplify(self.moment_formula(sympy.Integer(k))))
        return out

    def stieltjes_polynomial(self, z=None, m=None):
        """Not available: the quarter-circle's Stieltjes transform is
        transcendental (it contains a logarithm)."""
        raise ValueError("QuarterCircle has no Stieltjes polynomial: its Stieltjes transform "
                         "contains a logarithm; its square MarchenkoPastur(1, variance) has one "
                         "(law.square_law.stieltjes_polynomial())")

    def support(self):
        """``(0, 2 sigma)``."""
        return (sympy.Integer(0), 2 * self.sigma)

    def _pdf_closed(self, x):
        s2 = _mp(self.variance_parameter)
        return mpmath.sqrt(4 * s2 - x**2) / (mpmath.pi * s2)

    def _pdf_stieltjes(self, x):
        return 2 * x * self.square_law._pdf_stieltjes(x**2)

    def _cdf_inside(self, x):
        return self.square_law._cdf_inside(x**2)

    def _pdf_numpy_inside(self, x):
        s2 = float(self.variance_parameter)
        return np.sqrt(4 * s2 - x**2) / (np.pi * s2)

    def _cdf_numpy_inside(self, x):
        return self.square_law._cdf_numpy_inside(x**2)

    def _latex_density(self):
        x = sympy.Symbol("x")
        s2 = self.variance_parameter
        rho = sympy.sqrt(4 * s2 - x**2) / (sympy.pi * s2)
        return rf"\rho(x) = {_tex(rho)},\quad x \in {_tex(sympy.Interval(*self.support()))}"
