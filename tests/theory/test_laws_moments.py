"""Exact side of the laws (issue 2): moments, S-transforms, free products.

Every closed form here (Narayana, Fuss-Catalan numbers, Lemma 4) is compared
with what the machinery derives (Lagrange inversion / series reversion), and
each has a negative control: a perturbed closed form must be rejected.
"""
from __future__ import annotations

import pytest
import sympy
from hypothesis import given, strategies as st

from tests.strategies import rationals
from gapcheck.theory import freeprob
from gapcheck.theory.laws import (FreeProduct, FussCatalan, MarchenkoPastur, QuarterCircle,
                         free_product)

R = sympy.Rational


def narayana(k, lam):
    return sum(R(1, k) * sympy.binomial(k, j) * sympy.binomial(k, j - 1) * lam**(j - 1)
               for j in range(1, k + 1))


def fuss_catalan_number(p, k):
    return sympy.binomial((p + 1) * k, k) / (p * k + 1)


# ------------------------------------------------------------------ MP
@given(lam=rationals, s2=rationals, k=st.integers(1, 12))
def test_mp_moments_are_narayana(lam, s2, k):
    law = MarchenkoPastur(lam, s2)
    s2, lam = sympy.Rational(s2), sympy.Rational(lam)
    assert law.moment(k) == s2**k * narayana(k, lam)
    # negative control: Narayana with lam -> lam + 1 is rejected (k >= 2)
    if k >= 2:
        assert law.moment(k) != s2**k * narayana(k, lam + 1)


def test_mp_moments_symbolic_polynomial_in_ratio():
    lam, s2 = sympy.symbols("lam s2", positive=True)
    moms = MarchenkoPastur(lam, s2).moments(8)
    for k, m in enumerate(moms, start=1):
        assert sympy.expand(m - s2**k * narayana(k, lam)) == 0
        assert m.is_polynomial(lam, s2)
        assert sympy.Poly(m, lam, s2).degree(lam) == k - 1
    assert MarchenkoPastur(lam, s2).mean() == s2
    assert sympy.expand(MarchenkoPastur(lam, s2).variance() - lam * s2**2) == 0


def test_mp_s_transform_is_derived_from_moments():
    """Series reversion of the Narayana moments reproduces 1/(s2 (1 + lam z))."""
    lam, s2, z = sympy.symbols("lam s2 z", positive=True)
    law = MarchenkoPastur(lam, s2)
    derived = law.s_series(7)
    closed = sympy.series(law.s_transform(z), z, 0, 7).removeO()
    for j, c in enumerate(derived):
        assert sympy.simplify(c - closed.coeff(z, j)) == 0
    assert sympy.simplify(law.s_transform(z) - 1 / (s2 * (1 + lam * z))) == 0
    # negative control: 1/(s2 (1 + 2 lam z)) disagrees at order 1
    wrong = sympy.series(1 / (s2 * (1 + 2 * lam * z)), z, 0, 2).removeO()
    assert sympy.simplify(derived[1] - wrong.coeff(z, 1)) != 0


@given(lam=rationals)
def test_mp_free_cumulants(lam):
    """MP(lam) is free Poisson: kappa_k = lam^(k-1); round trip exact."""
    lam = sympy.Rational(lam)
    law = MarchenkoPastur(lam)
    kappa = law.free_cumulants(8)
    assert kappa == [lam**(k - 1) for k in range(1, 9)]
    assert freeprob.moments_from_free_cumulants(kappa) == law.moments(8)
    assert kappa != [(lam + 1)**(k - 1) for k in range(1, 9)]


def test_moment_cumulant_round_trip_symbolic():
    """Moments -> free cumulants -> moments is the identity (symbolic ratios)."""
    lam1, lam2 = sympy.symbols("lam1 lam2", positive=True)
    law = free_product(MarchenkoPastur(lam1), MarchenkoPastur(lam2))
    moms = law.moments(6)
    kappa = freeprob.free_cumulants_from_moments(moms)
    back = freeprob.moments_from_free_cumulants(kappa)
    assert all(sympy.expand(a - b) == 0 for a, b in zip(moms, back))
    # kappa_2 = variance, and it is lam1 + lam2 (Lemma 4), not lam1 + 2 lam2
    assert sympy.expand(kappa[1] - (lam1 + lam2)) == 0
    assert sympy.expand(kappa[1] - (lam1 + 2 * lam2)) != 0


@given(lam1=rationals, lam2=rationals)
def test_s_transform_and_free_cumulants_are_consistent(lam1, lam2):
    """S(z) R(z S(z)) = 1 with the R-transform R(z) = sum kappa_k z^(k-1):
    links the series-reversion path and the cumulant recursion."""
    law = free_product(MarchenkoPastur(lam1), MarchenkoPastur(lam2))
    kappa = law.free_cumulants(5)
    z = sympy.Symbol("z")
    S = sum(c * z**j for j, c in enumerate(law.s_series(5)))
    Rt = sum(kappa[k - 1] * (z * S)**(k - 1) for k in range(1, 6))
    coeffs = sympy.Poly(sympy.expand(S * Rt), z).all_coeffs()[::-1]
    assert coeffs[0] == 1 and all(c == 0 for c in coeffs[1:5])
    # negative control: a perturbed cumulant breaks the identity
    Rb = Rt + z**2 * (z * S)
    bad = sympy.Poly(sympy.expand(S * Rb), z).all_coeffs()[::-1]
    assert any(c != 0 for c in bad[1:5])


# ------------------------------------------------------------------ FC
def test_fc_equals_free_product_of_mp1_every_moment():
    """FC(p) = MP(1)^{boxtimes p} in every exact moment, p <= 6, k <= 12; both
    equal the Fuss-Catalan numbers."""
    for p in range(1, 7):
        prod = free_product(*[MarchenkoPastur(1)] * p).moments(12)
        fc = FussCatalan(p).moments(12)
        assert prod == fc
        assert fc == [fuss_catalan_number(p, k) for k in range(1, 13)]
        # negative controls: one factor fewer / one more differ from k = 2 on
        if p > 1:
            assert free_product(*[MarchenkoPastur(1)] * (p - 1)).moments(12)[1] != fc[1]
        assert fc[1:] != [fuss_catalan_number(p + 1, k) for k in range(2, 13)]


def test_fc_generic_free_product_path_agrees():
    """The generic path (moments -> S-series -> product -> moments) agrees with
    the Lagrange path for FC(3)."""
    mp1 = MarchenkoPastur(1).moments(10)
    assert freeprob.free_multiplicative_moments(mp1, mp1, mp1) == FussCatalan(3).moments(10)


@given(p=st.integers(1, 6), s2=rationals, k=st.integers(1, 10))
def test_fc_moments_with_variance(p, s2, k):
    s2 = sympy.Rational(s2)
    law = FussCatalan(p, s2)
    assert law.moment(k) == s2**(p * k) * fuss_catalan_number(p, k)
    assert law.moment(k) == law.moment_formula(k)
    # Prop 8 ingredients: mean s2^p, variance s2^(2p) p
    assert law.mean() == s2**p and law.variance() == s2**(2 * p) * p
    assert law.variance() != s2**(2 * p) * (p + 1)


# ------------------------------------------------------------------ Lemma 4
@pytest.mark.parametrize("n_factors", [1, 2, 3, 4])
def test_lemma4_mean_variance_symbolic(n_factors):
    lams = sympy.symbols(f"lam1:{n_factors + 1}", positive=True)
    ss = sympy.symbols(f"s1:{n_factors + 1}", positive=True)
    law = free_product(*[MarchenkoPastur(l, s) for l, s in zip(lams, ss)])
    P = sympy.Mul(*ss)
    assert sympy.expand(law.mean() - P) == 0
    assert sympy.expand(law.variance() - P**2 * sum(lams)) == 0
    # relative variances add
    assert sympy.simplify(law.relative_variance()
                          - sum(MarchenkoPastur(l, s).relative_variance()
                                for l, s in zip(lams, ss))) == 0
    # negative controls: 1 + 2 lam style perturbations are rejected
    assert sympy.expand(law.variance() - P**2 * (1 + 2 * lams[0])) != 0
    assert sympy.expand(law.variance() - P**2 * sum(l + 1 for l in lams)) != 0
    assert sympy.expand(law.mean() - P * (1 + lams[0])) != 0


def test_lemma4_worked_example():
    law = free_product(MarchenkoPastur(R(1, 2)), MarchenkoPastur(1), MarchenkoPastur(1))
    assert law.moments(5) == [1, R(7, 2), R(67, 4), R(741, 8), R(8909, 16)]
    assert law.variance() == R(5, 2)
    # the same from the generic moment path
    assert freeprob.free_multiplicative_moments(
        MarchenkoPastur(R(1, 2)).moments(5), FussCatalan(2).moments(5)) == law.moments(5)
    # negative control: swapping 1/2 -> 1 gives FC(3), which differs
    assert FussCatalan(3).moments(5) != law.moments(5)


@given(lams=st.lists(rationals, min_size=1, max_size=4), s2=rationals)
def test_free_product_s_transform_multiplies(lams, s2):
    z = sympy.Symbol("z")
    laws = [MarchenkoPastur(lam, s2) for lam in lams]
    law = free_product(*laws)
    assert sympy.cancel(law.s_transform(z) - sympy.Mul(*[l.s_transform(z) for l in laws])) == 0
    # series reversion of the product's moments gives the product S-series
    closed = freeprob._coefficients(law.s_transform(z), z, 5)
    assert law.s_series(5) == closed
    # relative variance adds
    assert law.relative_variance() == sum(sympy.Rational(l) for l in lams)


def test_free_product_scaling_and_nesting():
    a = free_product(MarchenkoPastur(R(1, 3), 2), FussCatalan(2, R(1, 2)))
    b = free_product(MarchenkoPastur(R(1, 3)), FussCatalan(2))
    assert a.moments(6) == [R(2 * R(1, 4))**k * m for k, m in enumerate(b.moments(6), start=1)]
    nested = free_product(free_product(MarchenkoPastur(1), MarchenkoPastur(R(1, 2))),
                          MarchenkoPastur(1))
    assert nested.moments(8) == free_product(MarchenkoPastur(R(1, 2)), FussCatalan(2)).moments(8)


def test_float_parameters():
    law = MarchenkoPastur(0.5, 2.0)
    assert abs(float(law.moment(3)) - 8 * float(narayana(3, R(1, 2)))) < 1e-12
    exact = free_product(MarchenkoPastur(R(3, 10)), MarchenkoPastur(R(3, 2), R(1, 2)))
    floats = free_product(MarchenkoPastur(0.3), MarchenkoPastur(1.5, 0.5))
    for a, b in zip(floats.moments(6), exact.moments(6)):
        assert abs(float(a) / float(b) - 1) < 1e-12
    for a, b in zip(floats.support(), exact.support()):
        assert abs(float(a) - float(b)) < 1e-12
    assert abs(float(floats.pdf(1.0)) / float(exact.pdf(1.0)) - 1) < 1e-12


# ------------------------------------------------------------------ QC
def test_quarter_circle_moments():
    qc = QuarterCircle()
    m = qc.moments(6)
    # even moments: Catalan numbers (its square is MP(1)); odd: Beta integrals
    assert m[1::2] == [1, 2, 5]
    assert m[0] == 8 / (3 * sympy.pi) and m[2] == 64 / (15 * sympy.pi)
    # QC(sigma): moments scale with sigma^k
    s2 = sympy.Symbol("s2", positive=True)
    assert sympy.simplify(QuarterCircle(s2).moment(3) - s2**R(3, 2) * m[2]) == 0
    assert sympy.simplify(QuarterCircle(s2).moment(4) - 2 * s2**2) == 0
    # the Gamma formula at even k reproduces the MP moments (consistency)
    for k in (2, 4, 6, 8):
        assert sympy.simplify(qc.moment_formula(k) - MarchenkoPastur(1).moment(k // 2)) == 0


def test_free_product_with_quarter_circle():
    """A non-algebraic factor: generic series path; mean multiplies and
    relative variances add."""
    qc = QuarterCircle()
    law = free_product(qc, MarchenkoPastur(R(1, 2)))
    assert isinstance(law, FreeProduct)
    m1, m2 = law.moments(2)
    assert sympy.simplify(m1 - qc.mean()) == 0
    rv = sympy.simplify(law.relative_variance() - (qc.relative_variance() + R(1, 2)))
    assert rv == 0
    assert sympy.simplify(qc.relative_variance() - (9 * sympy.pi**2 / 64 - 1)) == 0


# ------------------------------------------------------------------ equation
@pytest.mark.parametrize("law", [MarchenkoPastur(R(1, 3), 2), MarchenkoPastur(3),
                                 FussCatalan(3), free_product(MarchenkoPastur(R(1, 2)),
                                                              FussCatalan(2, 3))],
                         ids=repr)
def test_stieltjes_polynomial_kills_the_moment_series(law):
    """m(z) = -sum_{k>=0} m_k z^(-k-1) satisfies P(z, m) = O(z^-K) at infinity."""
    K = 8
    u = sympy.Symbol("u")
    z, m = sympy.symbols("z m")
    P = law.stieltjes_polynomial(z, m)
    D = sympy.degree(P, z)
    moms = [1] + law.moments(K)
    m_series = -sum(mk * u**(k + 1) for k, mk in enumerate(moms))

    def lowest_power(series):
        poly = sympy.Poly(sympy.expand(P.subs({z: 1 / u, m: series}) * u**D), u)
        return min(mon[0] for mon in poly.monoms())

    assert lowest_power(m_series) >= K + 1
    # negative control: a perturbed moment breaks it at low order
    assert lowest_power(m_series - u**4) <= 6


@pytest.mark.parametrize("lam", [R(1, 4), R(1, 2), 1, 2, R(9, 2)])
def test_support_from_equation_matches_closed_form(lam):
    law = MarchenkoPastur(lam, 3)
    derived = law._support_from_equation()
    closed = law.support()
    assert all(sympy.simplify(d - c) == 0 for d, c in zip(derived, closed))
    assert law.atom() == max(0, 1 - R(1, 1) / lam)


@pytest.mark.parametrize("p", [1, 2, 3, 5])
def test_fc_support_from_equation(p):
    law = FussCatalan(p, R(1, 2))
    assert law._support_from_equation() == law.support()
    assert law.support()[1] == R(1, 2)**p * (p + 1)**(p + 1) / sympy.Integer(p)**p
