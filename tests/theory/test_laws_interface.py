"""Interface of the laws (issue 2): bad input, LaTeX, precision hygiene."""
from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.theory.laws import (FussCatalan, MarchenkoPastur, QuarterCircle, SpectralLaw,
                         free_product)

R = sympy.Rational


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("ratio", [0, -1, R(-1, 2), float("nan"), float("inf")])
def test_bad_ratio(ratio):
    with pytest.raises(ValueError, match="ratio must be (> 0|a real number)"):
        MarchenkoPastur(ratio)


@pytest.mark.parametrize("make", [lambda v: MarchenkoPastur(1, v), lambda v: QuarterCircle(v),
                                  lambda v: FussCatalan(2, v)])
@pytest.mark.parametrize("variance", [0, -2, R(-1, 3)])
def test_bad_variance(make, variance):
    with pytest.raises(ValueError, match="variance must be > 0"):
        make(variance)


@pytest.mark.parametrize("order", [0, -1, 2.5, R(3, 2), "2", True])
def test_bad_order(order):
    with pytest.raises(ValueError, match="order must be an integer >= 1"):
        FussCatalan(order)


@given(k=st.integers(-50, -1))
def test_negative_k(k):
    with pytest.raises(ValueError, match="k must be an integer >= 0"):
        MarchenkoPastur(1).moment(k)


def test_bad_k_types_and_K():
    with pytest.raises(ValueError, match="k must be an integer"):
        FussCatalan(2).moment(1.5)
    with pytest.raises(ValueError, match="K must be an integer >= 0"):
        FussCatalan(2).moments(-1)
    assert MarchenkoPastur(3).moment(0) == 1 and MarchenkoPastur(3).moments(0) == []


@pytest.mark.parametrize("dps", [0, -3, 2.5])
def test_bad_dps(dps):
    law = FussCatalan(2)
    with pytest.raises(ValueError, match="dps must be an integer >= 1"):
        law.pdf(1, dps=dps)
    with pytest.raises(ValueError, match="dps must be an integer >= 1"):
        law.cdf(1, dps=dps)


def test_bad_x_and_method():
    law = MarchenkoPastur(R(1, 2))
    with pytest.raises(ValueError, match="x must be a"):
        law.pdf("one")
    with pytest.raises(ValueError, match="x must be a"):
        law.pdf(sympy.Symbol("x"))
    with pytest.raises(ValueError, match="method must be one of"):
        law.pdf(1, method="meijer")
    with pytest.raises(ValueError, match="method must be one of"):
        free_product(law, law).pdf(1, method="closed")


class _Signed(SpectralLaw):
    """A law that is not on [0, inf): the semicircle on [-2, 2]."""

    @property
    def parameters(self):
        return {}

    def _moments(self, K):
        return [sympy.catalan(k // 2) if k % 2 == 0 else sympy.Integer(0)
                for k in range(1, K + 1)]

    def support(self):
        return (sympy.Integer(-2), sympy.Integer(2))


def test_free_product_rejects_laws_not_on_the_half_line():
    with pytest.raises(ValueError, match=r"laws\[1\] must be supported on \[0, inf\)"):
        free_product(MarchenkoPastur(1), _Signed())
    with pytest.raises(ValueError, match=r"laws\[0\] must be a law on \[0, inf\)"):
        free_product("MP", MarchenkoPastur(1))
    with pytest.raises(ValueError, match=r"laws\[0\] must be a law on \[0, inf\)"):
        from scipy import stats
        free_product(stats.norm(), MarchenkoPastur(1))
    with pytest.raises(ValueError, match="at least one law"):
        free_product()


def test_outside_support_is_zero_not_an_error():
    for law in (MarchenkoPastur(R(1, 3)), FussCatalan(3), QuarterCircle(),
                free_product(MarchenkoPastur(R(1, 2)), MarchenkoPastur(R(1, 3)))):
        a, b = (float(v) for v in law.support())
        for x in (-5, -1e-300, b * (1 + 1e-12), b + 1, 1e300):
            assert law.pdf(x) == 0
        assert law.cdf(b + 1) == 1 and law.cdf(-1) == 0
        assert np.all(law.pdf_numpy([-1.0, b * 1.5]) == 0)


def test_symbolic_parameters_refuse_numeric_evaluation():
    lam = sympy.Symbol("lam", positive=True)
    with pytest.raises(ValueError, match="needs numeric parameters"):
        MarchenkoPastur(lam).pdf(1)
    with pytest.raises(ValueError, match="needs numeric parameters"):
        MarchenkoPastur(lam).pdf_numpy([1.0])
    with pytest.raises(ValueError, match="needs numeric ratios"):
        free_product(MarchenkoPastur(lam), MarchenkoPastur(1)).support()
    with pytest.raises(ValueError, match="no Stieltjes polynomial"):
        QuarterCircle().stieltjes_polynomial()


def test_mpmath_global_precision_untouched():
    before = mpmath.mp.prec
    law = free_product(MarchenkoPastur(R(1, 2)), FussCatalan(2))
    law.pdf(1, dps=60)
    law.cdf(1, dps=45)
    FussCatalan(3).pdf(2, dps=80)
    assert mpmath.mp.prec == before
    with mpmath.workdps(5):     # a caller's low precision does not leak in
        v = FussCatalan(2).pdf(1, dps=40)
    with mpmath.workdps(40):
        assert abs(v - FussCatalan(2).pdf(1, dps=40)) < mpmath.mpf(10)**-38


# ------------------------------------------------------------------ LaTeX
def test_latex_outputs():
    lam, s2 = sympy.symbols("lambda sigma2", positive=True)
    mp = MarchenkoPastur(lam, s2)
    assert mp.latex("s_transform") == r"S(z) = \frac{1}{\sigma_{2} \left(\lambda z + 1\right)}"
    assert r"\binom{k}{j}" in mp.latex("moments")
    assert mp.latex("mean") == r"\mathbb{E}[x] = \sigma_{2}"
    assert mp.latex("variance") == r"\operatorname{Var}[x] = \lambda \sigma_{2}^{2}"
    assert mp.latex("equation").endswith("= 0") and "m^{2}" in mp.latex("equation")
    assert r"\sqrt{" in mp.latex("density") and r"\delta_0" in mp.latex("density")
    assert r"\delta_0" not in MarchenkoPastur(R(1, 2)).latex("density")
    fc = FussCatalan(3)
    assert fc.latex("moments") == r"m_k = \frac{{\binom{4 k}{k}}}{3 k + 1}"
    assert fc.latex("support") == r"\operatorname{supp} = \left[0, \frac{256}{27}\right]"
    assert r"\varphi" in fc.latex("density")
    prod = free_product(MarchenkoPastur(R(1, 2)), FussCatalan(2))
    assert prod.latex("s_transform") == r"S(z) = \frac{1}{\left(\frac{z}{2} + 1\right) \left(z + 1\right)^{2}}"
    assert r"[w^{k-1}]" in prod.latex("moments")
    with pytest.raises(ValueError, match="what must be one of"):
        fc.latex("pdf")


def test_latex_formula_matches_the_numbers():
    """The LaTeX'd moment formulas are the sympy formulas that the tests check."""
    k = sympy.Symbol("k")
    mp = MarchenkoPastur(R(1, 3), 2)
    for kk in range(1, 6):
        assert mp.moment_formula(k).subs(k, kk).doit() == mp.moment(kk)
        assert FussCatalan(4).moment_formula(kk) == FussCatalan(4).moment(kk)


class _Uniform01(SpectralLaw):
    """A user-defined law through the bare interface: uniform on [0, 1]."""

    _pdf_methods = ("closed",)

    @property
    def parameters(self):
        return {}

    def _moments(self, K):
        return [R(1, k + 1) for k in range(1, K + 1)]

    def support(self):
        return (sympy.Integer(0), sympy.Integer(1))

    def _pdf_closed(self, x):
        return mpmath.mpf(1)


def test_user_defined_law_gets_the_generic_machinery():
    u = _Uniform01()
    assert u.mean() == R(1, 2) and u.variance() == R(1, 12)
    assert u.relative_variance() == R(1, 3)
    with mpmath.workdps(30):
        assert abs(u.cdf(R(1, 3), dps=30) - mpmath.mpf(1) / 3) < mpmath.mpf(10)**-28
    assert np.allclose(u.cdf_numpy([0.25, 2.0]), [0.25, 1.0])
    assert np.allclose(u.pdf_numpy([0.5, -1.0]), [1.0, 0.0])
    # the free product with MP(1) has mean 1/2 and relative variance 1/3 + 1
    prod = free_product(u, MarchenkoPastur(1))
    assert prod.mean() == R(1, 2) and prod.relative_variance() == R(4, 3)
    with pytest.raises(ValueError, match="no known algebraic equation"):
        u.stieltjes_polynomial()
    with pytest.raises(ValueError, match="no density evaluation"):
        _Signed().pdf(0.5)
    with pytest.raises(TypeError):
        SpectralLaw()


def test_cdf_numpy_near_the_hard_edge_stays_on_the_branch():
    """Near x = 0 the physical Stieltjes root has a vanishing imaginary part;
    a cdf that switched branch there returned 2.0 (seen with the structural
    zero singular value of A - 11^T/n). The cdf must stay in [atom, 1],
    be monotone, and follow the hard-edge law F(x) ~ (2/pi) sqrt(x) of MP(1)."""
    import numpy as np
    from gapcheck.theory.laws import FussCatalan, MarchenkoPastur, QuarterCircle

    x = np.array([0.0, 1e-300, 1e-30, 1e-18, 1e-12, 1e-9, 1e-6, 1e-3])
    for law in (QuarterCircle(1), MarchenkoPastur(1), MarchenkoPastur(2), FussCatalan(2),
                FussCatalan(3)):
        c = law.cdf_numpy(x)
        assert np.all((c >= float(law.atom()) - 1e-15) & (c <= 1)), (law, c)
        assert np.all(np.diff(c) >= 0), (law, c)
    small = np.array([1e-12, 1e-9, 1e-6])
    np.testing.assert_allclose(MarchenkoPastur(1).cdf_numpy(small), 2 / np.pi * np.sqrt(small),
                               rtol=1e-3)
