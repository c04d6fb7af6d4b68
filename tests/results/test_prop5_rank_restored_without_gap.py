"""Proposition 5: without the gap srank(Sigma_l^perp) ~ n, with
srank/n -> m_2(mu_l)/x_max(mu_l)^2 (0.0658, 0.03355, 0.02247 at gamma = 1)."""
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import VerifyConfig, prop5 as check
from gapcheck.theory.model import AttentionModel
from gapcheck.theory.registry import get
from gapcheck.theory.results import prop5
from tests.contract import ResultContract, compare_case
from tests.strategies import ensembles, seeds


def test_registered():
    r = get("prop5")
    assert r.empirical_check == "gapcheck.numerics.checks.prop5" and r.findings


class TestContract(ResultContract):
    result_id = "prop5"
    n_symbolic = 14


def _model(l, gamma, **kw):
    return AttentionModel(n=64, depth=l, gamma=gamma, remove_gap=1, **kw)


@pytest.mark.parametrize("l", [1, 2, 3])
def test_gamma_one_is_fuss_catalan_2l(l):
    edge = sp.Integer(2 * l + 1) ** (2 * l + 1) / sp.Integer(2 * l) ** (2 * l)
    assert sp.simplify(prop5.edge_closed_form(l, 1) - edge) == 0
    p = get("prop5").prediction(_model(l, 1))
    assert float(p.limit) == pytest.approx(float((2 * l + 1) / edge**2))
    assert p.m2 == 2 * l + 1 and p.exponent == 1


def test_prediction_at_the_example_is_scale_free():
    """l = 2, gamma = 1/2: m_2 = 1 + 2 (3/2) = 4 (1 + 2gamma would give 5); the
    scales of the sampled example do not enter."""
    r = get("prop5")
    e = r.example()
    p = r.prediction(e)
    assert p.m2 == 4
    assert sp.simplify(p.edge - prop5.derive(2, sp.Rational(1, 2))["edge"]) == 0
    assert p == r.prediction(e.replace(sigma_v2=1, ensemble="exponential"))
    assert "remove_gap" in r.applies(e.replace(remove_gap=0))


@given(l=st.integers(1, 3), gamma=st.sampled_from([sp.Rational(1, 2), sp.Rational(1, 4), sp.Rational(2, 3)]))
def test_edge_closed_form_matches_free_product_support(l, gamma):
    assert abs(sp.N(prop5.derive(l, gamma)["edge"] - prop5.edge_closed_form(l, gamma), 30)) < 1e-20


@given(n=st.sampled_from([24, 32, 40]), l=st.integers(1, 2), gamma=st.sampled_from([1, sp.Rational(1, 2)]),
       ensemble=ensembles, seed=seeds)
def test_sampled_second_moment_converges(n, l, gamma, ensemble, seed):
    model = AttentionModel(n=2 * n, depth=l, gamma=gamma, ensemble=ensemble, remove_gap=1)
    out = compare_case("prop5", model, (n, 2 * n), (4, 4), seed)
    m2 = [o for o in out if o.name.startswith("normalised")]
    above = [o for o in out if "from above" in o.name]
    assert m2 and above and all(o.passed for o in m2 + above), \
        [(o.name, o.measured, o.predicted, o.detail) for o in out]


def test_limit_alone_rejected_where_srank_must_exceed_its_limit():
    """The limit x1.1 lies above srank/n at n = 1024 by more than the one-sided band;
    the outcomes that do not involve the limit still pass."""
    control = check.NEGATIVE_CONTROLS["limit x1.1 (edge and m_2 unchanged)"]
    out = check.run(VerifyConfig(level="quick"), predict=control(get("prop5").prediction))
    above = [o for o in out if "from above" in o.name and "l=1, gamma=1," in o.params["case"]]
    assert above and not any(o.passed for o in above), [(o.measured, o.predicted, o.detail) for o in above]
    assert all(o.passed for o in out if "limit" not in o.judges)


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
        AttentionModel(n=8, gamma=1.5, remove_gap=1)
    with pytest.raises(ValueError, match="does not apply"):
        get("prop5").prediction(AttentionModel(n=8, depth=2, attention="identity"))
