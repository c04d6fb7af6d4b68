"""Proposition 8: bulk of the Jacobian without the gap: m_k = (sA sV)^(2lk) FC_l(k)^2,
mean (sA sV)^(2l), variance (sA sV)^(4l) (l^2 + 2l)."""
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import prop8 as check
from gapcheck.theory.model import AttentionModel
from gapcheck.theory.registry import get
from gapcheck.theory.results import prop8
from tests.contract import ResultContract, assert_all_pass, compare_case
from tests.strategies import ensembles, seeds


def test_registered():
    r = get("prop8")
    assert r.empirical_check == "gapcheck.numerics.checks.prop8" and r.findings


class TestContract(ResultContract):
    result_id = "prop8"
    n_symbolic = 11


def test_prediction_at_the_example():
    """sigma_A^2 = 1/3, sigma_V^2 = 3/2, l = 2: mean (1/2)^2 = 1/4, variance
    (1/2)^4 (4 + 4) = 1/2 (l -> l+1 in the variance: 15/64); free of gamma."""
    r = get("prop8")
    e = r.example()
    p = r.prediction(e)
    assert (p.mean, p.variance) == (sp.Rational(1, 4), sp.Rational(1, 2))
    assert p == r.prediction(e.replace(gamma=1))
    assert "remove_gap" in r.applies(e.replace(remove_gap=0))


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


@given(n=st.sampled_from([16, 24, 32]), l=st.integers(1, 3), gamma=st.sampled_from([1, sp.Rational(1, 2)]),
       ensemble=ensembles, sigma_v2=st.sampled_from([sp.Rational(16, 25), 1, sp.Rational(3, 2)]), seed=seeds)
def test_sampled_jacobian_moments_converge(n, l, gamma, ensemble, sigma_v2, seed):
    model = AttentionModel(n=2 * n, depth=l, gamma=gamma, ensemble=ensemble, sigma_v2=sigma_v2, remove_gap=1)
    assert_all_pass(compare_case("prop8", model, [n, 2 * n], 4, seed))


@pytest.mark.slow
def test_lognormal_jacobian_at_larger_n():
    model = AttentionModel(n=512, depth=2, gamma=sp.Rational(1, 2), ensemble="lognormal", remove_gap=1)
    assert_all_pass(compare_case("prop8", model, [128, 256, 512], 8, 11))


def test_bad_input():
    with pytest.raises(ValueError, match="l must be an integer"):
        prop8.derive(0)
    with pytest.raises(ValueError, match="does not apply"):
        get("prop8").prediction(AttentionModel(n=8, depth=2, attention="identity"))
