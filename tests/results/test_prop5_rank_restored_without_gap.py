"""Proposition 5: without the gap srank(Sigma_l^perp) ~ n, with
srank/n -> m_2(mu_l)/x_max(mu_l)^2 (0.0658, 0.03355, 0.02247 at gamma = 1)."""
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import VerifyConfig, prop5 as check
from gapcheck.theory.registry import get
from gapcheck.theory.results import prop5
from tests.contract import ResultContract
from tests.strategies import ensembles, seeds


def test_registered():
    r = get("prop5")
    assert r.empirical_check == "gapcheck.numerics.checks.prop5" and r.findings


class TestContract(ResultContract):
    result_id = "prop5"
    controls_level = "quick"
    n_symbolic = 13


@pytest.mark.parametrize("l", [1, 2, 3])
def test_gamma_one_is_fuss_catalan_2l(l):
    edge = sp.Integer(2 * l + 1) ** (2 * l + 1) / sp.Integer(2 * l) ** (2 * l)
    assert sp.simplify(prop5.edge_closed_form(l, 1) - edge) == 0
    assert prop5.predict(l, 1)["limit"] == pytest.approx(float((2 * l + 1) / edge**2))


@given(l=st.integers(1, 3), gamma=st.sampled_from([sp.Rational(1, 2), sp.Rational(1, 4), sp.Rational(2, 3)]))
def test_edge_closed_form_matches_free_product_support(l, gamma):
    assert abs(sp.N(prop5.derive(l, gamma)["edge"] - prop5.edge_closed_form(l, gamma), 30)) < 1e-20


@given(n=st.sampled_from([24, 32, 40]), l=st.integers(1, 2), gamma=st.sampled_from([1, 0.5]),
       ensemble=ensembles, seed=seeds)
def test_sampled_second_moment_converges(n, l, gamma, ensemble, seed):
    params, ns, d = check.measure(l, gamma, [n, 2 * n], ensemble=ensemble, batch=4, rng=seed)
    out = check.evaluate((params, ns, d))
    m2 = [o for o in out if o.name.startswith("normalised")]
    above = [o for o in out if "from above" in o.name]
    assert all(o.passed for o in m2 + above), [(o.name, o.measured, o.predicted, o.detail) for o in out]


def test_limit_alone_rejected_where_srank_must_exceed_its_limit():
    """The limit x1.1 lies above srank/n at n = 1024 by more than the one-sided band;
    the outcomes that do not involve the limit still pass."""
    out = check.run(VerifyConfig(level="quick"),
                    predict=check.NEGATIVE_CONTROLS["limit x1.1 (edge and m_2 unchanged)"])
    above = [o for o in out if "from above" in o.name]
    assert above and not any(o.passed for o in above), [(o.measured, o.predicted, o.detail) for o in above]
    assert all(o.passed for o in out if not o.name.startswith(("srank", "rate")))


@pytest.mark.parametrize("c_rel", [1.0, -1.0])
def test_edge_budget_is_the_intercept_error_of_an_n_inverse_term(c_rel):
    """The n^-1 budget of the n^(-2/3) fit equals the intercept error of a next-order
    term c n^-1 with |c| = b^2/|a| (it would not with the n^-2 chord)."""
    ns = [64, 128, 256, 512, 1024]
    a, b = 0.0658, 0.2
    x = [n ** (-2 / 3) for n in ns]
    pure = check.edge_extrapolate(ns, [[a + b * xi] * 2 for xi in x])
    c = c_rel * b * b / a
    curved = check.edge_extrapolate(ns, [[a + b * xi + c / n] * 2 for xi, n in zip(x, ns)])
    assert pure.estimate == pytest.approx(a, rel=1e-9)
    assert abs(curved.estimate - a) == pytest.approx(pure.bias_budget, rel=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="gamma"):
        prop5.predict(1, 1.5)
