"""Proposition 7: bulk of the covariance without the gap (mean (sA^2 sV^2)^l,
variance (sA^2 sV^2)^(2l) l (1 + gamma)), derived through free products."""
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import prop7 as check
from gapcheck.theory.registry import get
from gapcheck.theory.results import prop7
from tests.contract import ResultContract, assert_all_pass
from tests.strategies import ensembles, seeds


def test_registered():
    r = get("prop7")
    assert r.empirical_check == "gapcheck.numerics.checks.prop7" and r.findings
    assert "boxtimes" in r.statement_latex


class TestContract(ResultContract):
    result_id = "prop7"
    controls_level = "quick"
    n_symbolic = 19


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


@given(n=st.sampled_from([16, 24, 32]), l=st.integers(1, 3), gamma=st.sampled_from([1, 0.5]),
       ensemble=ensembles, sigma_v=st.floats(0.8, 1.25), seed=seeds)
def test_sampled_bulk_moments_converge(n, l, gamma, ensemble, sigma_v, seed):
    out = check.check(l, gamma, ensemble, sigma_v**2, [n, 2 * n], batch=4, rng=seed)
    assert_all_pass(out)


@pytest.mark.slow
def test_variance_bias_shrinks_with_n():
    m = [check.sample_moments(check.model(n, 3, 1, "exponential", 1.0), batch=6, rng=n)[:, 1].mean()
         for n in (64, 256)]
    assert abs(m[1] - 6) < abs(m[0] - 6)


@pytest.mark.slow
def test_lognormal_bulk_at_larger_n():
    out = check.check(2, 0.5, "lognormal", 1.0, [128, 256, 512], batch=8, rng=11)
    assert_all_pass(out)


def test_bad_input():
    with pytest.raises(ValueError, match="gamma"):
        prop7.predict(1, 2, 1, 1)
    with pytest.raises(ValueError, match="l must be an integer"):
        prop7.predict(0, 1, 1, 1)
