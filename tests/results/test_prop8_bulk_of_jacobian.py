"""Proposition 8: bulk of the Jacobian without the gap: m_k = (sA sV)^(2lk) FC_l(k)^2,
mean (sA sV)^(2l), variance (sA sV)^(4l) (l^2 + 2l)."""
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import prop8 as check
from gapcheck.theory.registry import get
from gapcheck.theory.results import prop8
from tests.contract import ResultContract, assert_all_pass
from tests.strategies import ensembles, seeds


def test_registered():
    r = get("prop8")
    assert r.empirical_check == "gapcheck.numerics.checks.prop8" and r.findings


class TestContract(ResultContract):
    result_id = "prop8"
    controls_level = "quick"
    n_symbolic = 11


def test_symbolic_l_variance_is_l_squared_plus_2l():
    g = prop8.general()
    s = prop8.SA2 * prop8.SV2
    assert sp.simplify(sp.powsimp(g["variance"] - s ** (2 * prop8.L) * (prop8.L**2 + 2 * prop8.L),
                                  force=True)) == 0
    # and not a perturbed form
    wrong = s ** (2 * prop8.L) * ((prop8.L + 1) ** 2 + 2 * (prop8.L + 1))
    assert sp.simplify(sp.powsimp(g["variance"] - wrong, force=True)) != 0


@pytest.mark.parametrize("l", [1, 2, 3])
def test_fuss_catalan_numbers_squared(l):
    for k in (1, 2, 3):
        assert sp.simplify(prop8.moment(k, l, 1, 1) - prop8.fc_number(l, k) ** 2) == 0


@given(n=st.sampled_from([16, 24, 32]), l=st.integers(1, 3), gamma=st.sampled_from([1, 0.5]),
       ensemble=ensembles, sigma_v=st.floats(0.8, 1.25), seed=seeds)
def test_sampled_jacobian_moments_converge(n, l, gamma, ensemble, sigma_v, seed):
    out = check.check(l, ensemble, sigma_v**2, [n, 2 * n], gamma=gamma, batch=4, rng=seed)
    assert_all_pass(out)


@pytest.mark.slow
def test_lognormal_jacobian_at_larger_n():
    out = check.check(2, "lognormal", 1.0, [128, 256, 512], gamma=0.5, batch=8, rng=11)
    assert_all_pass(out)


def test_bad_input():
    with pytest.raises(ValueError, match="l must be an integer"):
        prop8.predict(0, 1, 1)
    with pytest.raises(ValueError, match="sigma_a2"):
        prop8.predict(1, -1, 1)
