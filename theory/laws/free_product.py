"""Free multiplicative convolution of laws on [0, inf).

S-transforms multiply.  When every factor is algebraic (Marchenko-Pastur,
Fuss-Catalan, or a free product of those) the result is again an
:class:`~theory.laws.base.AlgebraicLaw` (the polynomials ``1/S`` multiply):
exact moments by Lagrange inversion, the Stieltjes polynomial, the support
and the densities.  Otherwise (e.g. a quarter-circle factor, whose S-transform
is not rational) the result is a :class:`FreeProduct` with exact moments and
S-transform series only, from the moment sequences by series reversion.

Scaling: a factor ``c * mu`` contributes ``1/c`` to the S-transform, so the
product of laws with variances is the product of their unit laws scaled by
the product of the scales (Lemma 4: mean = prod s_i).
"""
from __future__ import annotations

import sympy

from .. import freeprob
from ..symbols import latex as _tex
from .base import AlgebraicLaw, SpectralLaw

__all__ = ["free_product", "FreeProduct"]


def _check_factor(i, law):
    if not isinstance(law, SpectralLaw):
        raise ValueError(f"laws[{i}] must be a law on [0, inf) (a theory.laws.SpectralLaw), "
                         f"got {type(law).__name__}")
    try:
        lo = law.support()[0]
    except ValueError:
        return
    if lo.is_negative or (not lo.free_symbols and float(lo) < 0):
        raise ValueError(f"laws[{i}] must be supported on [0, inf) (its support starts at {lo})")
    if sympy.simplify(law.mean()).is_zero:
        raise ValueError(f"laws[{i}] must have a nonzero mean (free multiplicative convolution "
                         "needs S(0) = 1/mean)")


def free_product(*laws):
    """Free multiplicative convolution ``laws[0] boxtimes laws[1] boxtimes ...``.

    >>> from gapcheck.theory.laws import MarchenkoPastur
    >>> import sympy
    >>> law = free_product(MarchenkoPastur(sympy.Rational(1, 2)), MarchenkoPastur(1),
    ...                    MarchenkoPastur(1))
    >>> law.moments(5)
    [1, 7/2, 67/4, 741/8, 8909/16]
    """
    if not laws:
        raise ValueError("laws: free_product needs at least one law")
    for i, law in enumerate(laws):
        _check_factor(i, law)
    if all(isinstance(law, AlgebraicLaw) for law in laws):
        factors = [f for law in laws for f in law._factors]
        scale = sympy.Mul(*[law.scale for law in laws])
        return FreeAlgebraicProduct(factors, scale, laws)
    return FreeProduct(laws)


class FreeAlgebraicProduct(AlgebraicLaw):
    """Free product of algebraic laws (returned by :func:`free_product`)."""

    name = "free product"

    def __init__(self, factors, scale, laws):
        super().__init__(factors, scale)
        self.laws = tuple(laws)

    def __repr__(self):
        return " boxtimes ".join(repr(law) for law in self.laws)


class FreeProduct(SpectralLaw):
    """Free product with a non-algebraic factor: exact moments and S-transform
    series (series reversion); no density."""

    name = "free product"

    def __init__(self, laws):
        self.laws = tuple(laws)

    @property
    def parameters(self):
        return {f"law{i}": law for i, law in enumerate(self.laws)}

    @property
    def is_symbolic(self):
        return any(law.is_symbolic for law in self.laws)

    def __repr__(self):
        return " boxtimes ".join(repr(law) for law in self.laws)

    def _moments(self, K):
        return [sympy.simplify(m) for m in
                freeprob.free_multiplicative_moments(*[law.moments(K) for law in self.laws])]

    def atom(self):
        return sympy.Max(*[law.atom() for law in self.laws])

    def _unavailable(self, what):
        raise ValueError(f"{what} of {self!r} is not available: a factor has no algebraic "
                         "S-transform (only moments and s_transform series are exact here)")

    def stieltjes_polynomial(self, z=None, m=None):
        self._unavailable("stieltjes_polynomial")

    def support(self):
        self._unavailable("support")

    def pdf(self, x, dps=30, method="auto"):
        self._unavailable("pdf")

    def cdf(self, x, dps=30):
        self._unavailable("cdf")

    def pdf_numpy(self, x):
        self._unavailable("pdf_numpy")

    def cdf_numpy(self, x):
        self._unavailable("cdf_numpy")

    def _latex_moments(self):
        return r"m_k:\ " + ", ".join(_tex(m) for m in self.moments(4)) + r",\ \dots"

    def _latex_density(self):
        self._unavailable("latex density")
