"""Proposition 7: bulk of the covariance without the gap (mean (sA^2 sV^2)^l,
variance (sA^2 sV^2)^(2l) l (1 + gamma)), derived through free products."""
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import prop7 as check
from gapcheck.theory.model import AttentionModel
from gapcheck.theory.registry import get
from gapcheck.theory.results import prop7
from tests.contract import ResultContract, assert_all_pass, compare_case
from tests.strategies import ensembles, seeds


def test_registered():
    r = get("prop7")
    assert r.empirical_check == "gapcheck.numerics.checks.prop7" and r.findings
    assert "boxtimes" in r.statement_latex


class TestContract(ResultContract):
    result_id = "prop7"
    n_symbolic = 19


def test_prediction_at_the_example():
    """sigma_A^2 = 1/3, sigma_V^2 = 3/2, gamma = 1/2, l = 2: mean (1/2)^2 = 1/4,
    variance (1/2)^4 2 (3/2) = 3/16 (1 + 2 gamma: 1/4; l -> l+1: 9/128)."""
    r = get("prop7")
    p = r.prediction(r.example())
    assert (p.mean, p.variance) == (sp.Rational(1, 4), sp.Rational(3, 16))
    assert "remove_gap" in r.applies(r.example().replace(remove_gap=0))


def test_symbolic_l_matches_closed_form():
    g, cf = prop7.general(), prop7.closed_form()
    assert sp.simplify(sp.powsimp(g["variance"] - cf["variance"], force=True)) == 0
    assert sp.simplify(g["relative_variance"] - prop7.L * (1 + prop7.GAMMA)) == 0


def test_input_law_relative_variance_is_l_gamma():
    for l in (1, 2, 3):
        assert sp.simplify(prop7.input_law(l).relative_variance() - l * prop7.GAMMA) == 0


def test_derivation_rejects_perturbed_closed_forms():
    der = prop7.derive(3)["variance"]
    l, g, a, v = 3, prop7.GAMMA, prop7.SA2, prop7.SV2
    for wrong in ((a * v) ** (2 * l) * (l + 1) * (1 + g), (a * v) ** (2 * l) * l * (1 + 2 * g),
                  (a * v) ** l * l * (1 + g)):
        assert sp.simplify(der - wrong) != 0


@given(n=st.sampled_from([16, 24, 32]), l=st.integers(1, 3), gamma=st.sampled_from([1, sp.Rational(1, 2)]),
       ensemble=ensembles, sigma_v2=st.sampled_from([sp.Rational(16, 25), 1, sp.Rational(3, 2)]), seed=seeds)
def test_sampled_bulk_moments_converge(n, l, gamma, ensemble, sigma_v2, seed):
    model = AttentionModel(n=2 * n, depth=l, gamma=gamma, ensemble=ensemble, sigma_v2=sigma_v2, remove_gap=1)
    assert_all_pass(compare_case("prop7", model, [n, 2 * n], 4, seed))


@pytest.mark.slow
def test_variance_bias_shrinks_with_n():
    m = [check.sample_moments(AttentionModel(n=n, depth=3, ensemble="exponential", remove_gap=1),
                              batch=6, rng=n)[:, 1].mean() for n in (64, 256)]
    assert abs(m[1] - 6) < abs(m[0] - 6)


@pytest.mark.slow
def test_lognormal_bulk_at_larger_n():
    model = AttentionModel(n=512, depth=2, gamma=sp.Rational(1, 2), ensemble="lognormal", remove_gap=1)
    assert_all_pass(compare_case("prop7", model, [128, 256, 512], 8, 11))


def test_bad_input():
    with pytest.raises(ValueError, match="does not apply"):
        get("prop7").prediction(AttentionModel(n=8, depth=2, attention="identity"))
    with pytest.raises(ValueError, match="l must be an integer"):
        prop7.derive(0)
