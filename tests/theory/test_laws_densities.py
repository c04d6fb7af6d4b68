"""Densities of the laws (issue 2): two independent evaluations agree to 25+
digits, masses and moments by quadrature, edge exponents, the float path,
distribution functions and the scipy bridge.

Evaluations compared: (a) the physical root of the Stieltjes-transform
equation (``method="stieltjes"``), (b) closed forms (MP, QC explicit; FC by
the parametrisation of its support), and for FC(2) a third one, the explicit
Penson-Zyczkowski formula.  Free products have (a) only; they are checked
against (b) through FC(p) = MP(1)^{boxtimes p} and by quadrature.
"""
from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from tests.strategies import rationals
from gapcheck.theory.laws import FussCatalan, MarchenkoPastur, QuarterCircle, free_product

R = sympy.Rational

LAWS = {
    "MP(1/3,2)": MarchenkoPastur(R(1, 3), 2),
    "MP(1)": MarchenkoPastur(1),
    "MP(3)": MarchenkoPastur(3),
    "QC(2)": QuarterCircle(2),
    "FC(2)": FussCatalan(2),
    "FC(3,1/2)": FussCatalan(3, R(1, 2)),
    "MP(1/2)xMP(2)xFC(2)": free_product(MarchenkoPastur(R(1, 2)), MarchenkoPastur(2),
                                        FussCatalan(2)),
    "MP(1/4,3)xMP(1/2)": free_product(MarchenkoPastur(R(1, 4), 3), MarchenkoPastur(R(1, 2))),
}
CLOSED = [k for k in LAWS if "x" not in k]


def interior(law, ts):
    a, b = (mpmath.mpf(sympy.N(v, 40)) for v in law.support())
    return [a + (b - a) * mpmath.mpf(t) for t in ts]


def rel(u, v):
    return abs(u - v) / abs(v)


# ------------------------------------------------------------- (a) vs (b)
@pytest.mark.parametrize("name", CLOSED)
@given(t=st.floats(0.02, 0.98))
def test_closed_form_and_stieltjes_root_agree_to_25_digits(name, t):
    law = LAWS[name]
    (x,) = interior(law, [t])
    closed = law.pdf(x, dps=50, method="closed")
    root = law.pdf(x, dps=50, method="stieltjes")
    with mpmath.workdps(50):
        assert rel(root, closed) < mpmath.mpf(10)**-25
        # negative control: a density off by 1 + 1e-20 is detected
        assert rel(root * (1 + mpmath.mpf(10)**-20), closed) > mpmath.mpf(10)**-25


@given(p=st.integers(1, 6), t=st.floats(0.02, 0.98))
def test_fuss_catalan_parametrisation_vs_free_product_root(p, t):
    """FC(p) by its parametrisation equals the density of MP(1)^{boxtimes p}
    from the generic degree-(p+1) equation (the root selection is the issue)."""
    fc = FussCatalan(p)
    prod = free_product(*[MarchenkoPastur(1)] * p)
    (x,) = interior(fc, [t])
    with mpmath.workdps(50):
        assert rel(prod.pdf(x, dps=50), fc.pdf(x, dps=50)) < mpmath.mpf(10)**-25


def test_fuss_catalan_2_penson_zyczkowski():
    """Third evaluation: the explicit FC(2) density of Penson and Zyczkowski (2011)."""
    def pz(x):
        r = mpmath.sqrt(81 - 12 * x)
        A = 27 + 3 * r
        return (mpmath.cbrt(2) * mpmath.sqrt(3) / (12 * mpmath.pi)
                * (mpmath.cbrt(2) * A**(mpmath.mpf(2) / 3) - 6 * mpmath.cbrt(x))
                / (x**(mpmath.mpf(2) / 3) * mpmath.cbrt(A)))
    law = FussCatalan(2)
    with mpmath.workdps(50):
        for x in interior(law, [0.001, 0.1, 0.5, 0.9, 0.999]):
            assert rel(law.pdf(x, dps=50), pz(x)) < mpmath.mpf(10)**-25
            assert rel(FussCatalan(3).pdf(x, dps=50), pz(x)) > 1e-3   # control


@pytest.mark.parametrize("p", [1, 2, 3, 4])
def test_fuss_catalan_meijer_g(p):
    """Third evaluation for every order: the Meijer G form (Mellin transform of
    the moments + Gauss multiplication), by mpmath.meijerg, agrees to 25 digits;
    with the order's G function swapped (p -> p + 1) it does not."""
    law = FussCatalan(p, R(2, 3))
    with mpmath.workdps(50):
        for x in interior(law, [0.07, 0.55]):
            g = law.pdf(x, dps=50, method="meijer")
            assert rel(g, law.pdf(x, dps=50)) < mpmath.mpf(10)**-25
            assert rel(g, law.pdf(x, dps=50, method="stieltjes")) < mpmath.mpf(10)**-25
            other = FussCatalan(p + 1, R(2, 3)).pdf(x, dps=20, method="meijer")
            assert rel(other, g) > 1e-3


def test_fc3_second_lower_half_plane_root_is_wrong():
    """For FC(3) two roots of Q(psi) = x psi lie in the lower half-plane at every
    interior x; only the phase-identity one gives the density.  The other one
    (what 'any root with Im m > 0' may return) disagrees with the closed form."""
    law = FussCatalan(3)
    with mpmath.workdps(40):
        for x in interior(law, [0.1, 0.5, 0.9]):
            roots = mpmath.polyroots([1, 4, 6, 4 - x, 1][::-1][::-1], maxsteps=200,
                                     extraprec=200)
            lower = [r for r in roots if mpmath.im(r) < 0]
            assert len(lower) == 2
            dens = sorted(-mpmath.im(r) / (mpmath.pi * x) for r in lower)
            closed = law.pdf(x, dps=40, method="closed")
            hits = [rel(d, closed) < mpmath.mpf(10)**-30 for d in dens]
            assert sum(hits) == 1


# ------------------------------------------------------------- quadrature
def _quad(f, a, b):
    """int_a^b f with x = a + (m - a) s^6 on the left half, which turns the
    x^(-p/(p+1)) singularity at a = 0 into a harmless s^(5 - 6p/(p+1)):
    tanh-sinh alone stops ~10^-dps from the endpoint and would miss
    int_0^eps x^(-5/6) ~ eps^(1/6)."""
    m = (a + b) / 2
    left = mpmath.quad(lambda s: f(a + (m - a) * s**6) * 6 * (m - a) * s**5, [0, 1])
    return left + mpmath.quad(f, [m, b])


def _memo(f):
    cache = {}

    def g(x):
        if x not in cache:
            cache[x] = f(x)
        return cache[x]
    return g


@pytest.mark.parametrize("name", list(LAWS))
def test_mass_and_moments_by_quadrature(name):
    """int pdf + atom = 1 and int x^k pdf = m_k (k = 1..3) by mpmath.quad."""
    law = LAWS[name]
    dps = 16
    pdf = _memo(lambda x: law.pdf(x, dps=dps + 4))
    with mpmath.workdps(dps):
        a, b = (mpmath.mpf(sympy.N(v, 30)) for v in law.support())
        mass = _quad(pdf, a, b) + mpmath.mpf(sympy.N(law.atom(), 30))
        assert abs(mass - 1) < mpmath.mpf(10)**-13
        for k, mk in enumerate(law.moments(3), start=1):
            mk = mpmath.mpf(sympy.N(mk, 30))
            q = _quad(lambda x: x**k * pdf(x), a, b)
            assert rel(q, mk) < mpmath.mpf(10)**-12
            # negative control: the next moment is not the quadrature
            assert rel(q, mpmath.mpf(sympy.N(law.moment(k + 1), 30))) > 1e-3


# ------------------------------------------------------------- edges
@pytest.mark.parametrize("p", [1, 2, 3, 5])
def test_fc_singularity_at_zero(p):
    """rho(x) ~ x^(-p/(p+1)) at 0: the local log-log slope."""
    law = FussCatalan(p)
    with mpmath.workdps(50):
        x1, x2 = mpmath.mpf(10)**-30, mpmath.mpf(10)**-32
        slope = mpmath.log(law.pdf(x1, dps=50) / law.pdf(x2, dps=50)) / mpmath.log(x1 / x2)
        assert abs(slope + mpmath.mpf(p) / (p + 1)) < 1e-6
        if p > 1:   # control: not the MP(1) exponent -1/2
            assert abs(slope + mpmath.mpf(1) / 2) > 0.1


@pytest.mark.parametrize("name", ["MP(1/3,2)", "MP(3)", "FC(3,1/2)", "QC(2)",
                                  "MP(1/2)xMP(2)xFC(2)"])
def test_square_root_decay_at_right_edge(name):
    law = LAWS[name]
    with mpmath.workdps(60):
        b = mpmath.mpf(sympy.N(law.support()[1], 80))
        e1, e2 = mpmath.mpf(10)**-16, mpmath.mpf(10)**-18
        slope = mpmath.log(law.pdf(b - e1, dps=60) / law.pdf(b - e2, dps=60)) / mpmath.log(e1 / e2)
        assert abs(slope - mpmath.mpf(1) / 2) < 1e-6
        assert abs(slope - mpmath.mpf(1) / 3) > 0.1


def test_mp_left_edge_and_atom():
    """MP(3): square-root decay at the left edge a = (1 - sqrt 3)^2 and an atom
    of mass 2/3 at 0 that the cdf carries and the pdf does not."""
    law = MarchenkoPastur(3)
    assert law.atom() == R(2, 3)
    with mpmath.workdps(40):
        a = mpmath.mpf(sympy.N(law.support()[0], 60))
        e1, e2 = mpmath.mpf(10)**-12, mpmath.mpf(10)**-14
        slope = mpmath.log(law.pdf(a + e1, dps=40) / law.pdf(a + e2, dps=40)) / mpmath.log(e1 / e2)
        assert abs(slope - mpmath.mpf(1) / 2) < 1e-6
    assert law.cdf(0) == law.cdf(a / 2)
    with mpmath.workdps(30):
        assert abs(law.cdf(0, dps=30) - mpmath.mpf(2) / 3) < mpmath.mpf(10)**-28
    assert law.pdf(a / 2) == 0 and law.cdf(-1) == 0


# ------------------------------------------------------------- float path
@pytest.mark.parametrize("name", list(LAWS))
def test_pdf_numpy_matches_mpmath(name):
    law = LAWS[name]
    xs = [float(x) for x in interior(law, np.linspace(0.01, 0.99, 25))]
    ref = np.array([float(law.pdf(x, dps=25)) for x in xs])
    got = law.pdf_numpy(np.array(xs))
    assert np.max(np.abs(got / ref - 1)) < 1e-10
    ref_cdf = np.array([float(law.cdf(x, dps=25)) for x in xs])
    assert np.max(np.abs(law.cdf_numpy(np.array(xs)) - ref_cdf)) < 1e-10
    # control: a 1e-8 relative perturbation is detected
    assert np.max(np.abs(got * (1 + 1e-8) / ref - 1)) > 1e-10


@pytest.mark.parametrize("name", ["MP(1/3,2)", "FC(3,1/2)", "MP(1/2)xMP(2)xFC(2)", "QC(2)"])
def test_cdf_closed_form_vs_quadrature(name):
    law = LAWS[name]
    with mpmath.workdps(15):
        a = mpmath.mpf(sympy.N(law.support()[0], 30))
        for x in interior(law, [0.1, 0.7]):
            q = _quad(lambda t: law.pdf(t, dps=18), a, x) + mpmath.mpf(
                sympy.N(law.atom(), 30))
            assert abs(law.cdf(x, dps=18) - q) < mpmath.mpf(10)**-12
            assert abs(law.cdf(x * (1 + mpmath.mpf(10)**-6), dps=18) - q) > mpmath.mpf(10)**-10


def test_outside_support_and_vectorised_edges():
    law = MarchenkoPastur(R(1, 4))            # support [1/4, 9/4]
    assert law.pdf(0.1) == 0 and law.pdf(3) == 0 and law.pdf(-1) == 0
    x = np.array([-1.0, 0.1, 0.25, 1.0, 2.25, 5.0])
    p = law.pdf_numpy(x)
    assert p[0] == p[1] == p[2] == p[4] == p[5] == 0 and p[3] > 0
    c = law.cdf_numpy(x)
    assert c[0] == c[1] == 0 and c[-1] == 1 and 0 < c[3] < 1
    assert np.all(np.diff(law.cdf_numpy(np.linspace(0, 3, 301))) >= 0)


@given(lam=rationals)
def test_mp_cdf_at_mean_matches_numpy(lam):
    law = MarchenkoPastur(lam)
    assert abs(float(law.cdf(1)) - law.cdf_numpy(np.array([1.0]))[0]) < 1e-10


# ------------------------------------------------------------- scipy bridge
def _wishart_eigenvalues(n, d, rng):
    """Eigenvalues of (1/d) G G^T for G n x d Gaussian (n <= d), sampled through
    the Dumitriu-Edelman bidiagonal model (equal in distribution): B lower
    bidiagonal with B_ii ~ chi_(d-i+1), B_(i+1,i) ~ chi_(n-i); G G^T ~ B B^T,
    a tridiagonal matrix (O(n^2) eigensolve, no dense BLAS)."""
    from scipy import linalg
    i = np.arange(1, n + 1)
    diag = np.sqrt(rng.chisquare(d - i + 1))
    sub = np.sqrt(rng.chisquare(n - i[:-1]))
    td = diag**2 + np.concatenate([[0.0], sub**2])
    return linalg.eigvalsh_tridiagonal(td, sub * diag[:-1]) / d


def test_kstest_with_cdf_numpy_accepts_the_right_law_and_rejects_a_wrong_one():
    """Eigenvalues of (1/d) G G^T (n = 1000, d = 2000) against MP(1/2).

    Eigenvalues are not i.i.d.: they are rigid, and the sup distance between
    their empirical cdf and the limit is O(log n / n) (plus O(1/n) finite-size
    corrections), far below the i.i.d. scale 1/sqrt(n).  So the KS *statistic*
    is what we bound: below 10/n = 0.01 for the right law; the perturbed laws
    sit at limiting distances 0.11 (ratio 3/4), 0.085 (variance 6/5) and 0.026
    (ratio 11/20)."""
    from scipy import stats
    n, d = 1000, 2000
    ev = _wishart_eigenvalues(n, d, np.random.default_rng(20261123))
    right = stats.kstest(ev, MarchenkoPastur(R(1, 2)).cdf_numpy, method="asymp")
    assert right.statistic < 10 / n and right.pvalue > 1e-3
    for wrong, gap in ((MarchenkoPastur(R(3, 4)), 0.06), (MarchenkoPastur(R(1, 2), R(6, 5)), 0.06),
                       (MarchenkoPastur(R(11, 20)), 0.015)):
        assert stats.kstest(ev, wrong.cdf_numpy, method="asymp").statistic > gap


def test_to_scipy_distribution():
    law = FussCatalan(2)
    X = law.to_scipy()
    assert abs(float(X.mean()) - 1) < 1e-12 and abs(float(X.variance()) - 2) < 1e-12
    xs = np.array([0.5, 2.0, 6.0])
    assert np.allclose(X.cdf(xs), law.cdf_numpy(xs), rtol=0, atol=1e-12)
    assert np.allclose(X.pdf(xs), law.pdf_numpy(xs), rtol=1e-12)
    lo, hi = X.support()
    assert lo == 0 and abs(hi - 6.75) < 1e-12
    with pytest.raises(ValueError, match="atom"):
        MarchenkoPastur(2).to_scipy()


@pytest.mark.parametrize("p", [1, 3, 6])
def test_fc_float_path_deep_in_the_left_tail(p):
    """The x^(-p/(p+1)) singularity down to x = 1e-300: float path within
    1e-12 of mpmath (the regime solve for the small angle has no cancellation)."""
    law = FussCatalan(p)
    xs = np.array([1e-300, 1e-200, 1e-50, 1e-10, 1e-3])
    ref = np.array([float(law.pdf(x, dps=30)) for x in xs])
    assert np.max(np.abs(law.pdf_numpy(xs) / ref - 1)) < 1e-12
    ref_cdf = np.array([float(law.cdf(x, dps=30)) for x in xs])
    assert np.max(np.abs(law.cdf_numpy(xs) - ref_cdf)) < 1e-14


@given(lams=st.lists(rationals, min_size=1, max_size=3), t=st.floats(0.05, 0.95))
def test_free_products_of_mp_float_and_mp_paths_agree(lams, t):
    """Random products of MP laws (docs/derivations.md, section 0: (1+psi) prod(1+lam_i psi)
    = x psi; for 3 factors two complex pairs sit in the lower half-plane on the
    whole support): the batched float root path equals the mpmath path, and
    the cdf stays within [atom, 1]."""
    law = free_product(*[MarchenkoPastur(lam) for lam in lams])
    (x,) = interior(law, [t])
    ref = law.pdf(x, dps=25)
    assert ref > 0
    assert abs(law.pdf_numpy([float(x)])[0] / float(ref) - 1) < 1e-10
    c = law.cdf(x, dps=25)
    assert float(law.atom()) < c < 1
    assert abs(law.cdf_numpy([float(x)])[0] - float(c)) < 1e-10


def test_scaled_free_products_and_fc_with_variance():
    """Variances scale the law: FC(2, s2) = MP(1, s2) x MP(1, s2) in density
    (closed form vs generic root), and c-scaling maps pdf(x) to pdf(x/c)/c."""
    s2 = R(3, 2)
    fc = FussCatalan(2, s2)
    prod = free_product(MarchenkoPastur(1, s2), MarchenkoPastur(1, s2))
    unit = free_product(MarchenkoPastur(1), MarchenkoPastur(1))
    with mpmath.workdps(50):
        for x in interior(fc, [0.1, 0.6]):
            assert rel(prod.pdf(x, dps=50), fc.pdf(x, dps=50)) < mpmath.mpf(10)**-25
            scaled = unit.pdf(x / s2**2, dps=50) / mpmath.mpf(s2)**2
            assert rel(scaled, fc.pdf(x, dps=50)) < mpmath.mpf(10)**-25
            # control: scaling by s2 instead of s2^2 is wrong
            assert rel(unit.pdf(x / s2, dps=50) / mpmath.mpf(s2), fc.pdf(x, dps=50)) > 1e-3
