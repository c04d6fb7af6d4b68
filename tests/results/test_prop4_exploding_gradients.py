"""Proposition 4: with the gap E||dX_L/dW_l||_F^2 ~ constant n^L, constant
sigma_V^(2(L-1)) gamma^-L (1 + sigma_A^2 [L = 1]); key-query looseness pinned."""
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import VerifyConfig, prop4 as check
from gapcheck.theory.model import AttentionModel
from gapcheck.theory.registry import get
from gapcheck.theory.results import prop4
from tests.contract import ResultContract, assert_all_pass, compare_case
from tests.strategies import ensembles, seeds


def test_registered_with_finding():
    r = get("prop4")
    assert r.empirical_check == "gapcheck.numerics.checks.prop4"
    assert any("key-query" in f.lower() for f in r.findings)


class TestContract(ResultContract):
    result_id = "prop4"
    n_symbolic = 17


@pytest.mark.parametrize("L", [1, 2, 3, 4])
def test_exponent_is_depth_and_constant_has_single_layer_bulk(L):
    for l in range(1, L + 1):
        der = prop4.derive(L, l)
        assert der["exponent"] == L
        assert sp.simplify(der["constant"] - (1 + prop4.SA2 * int(L == 1))) == 0


def test_prediction_at_the_example_and_the_single_layer():
    """Example: (3/2)^1 2^2 = 6 (sigma_V^(2L) would give 9, gamma^-(L-1) 3); single
    uniform layer at gamma = 1/2: (1 + 1/3) 2 = 8/3 (sigma_A for sigma_A^2: (1 + 3^-1/2) 2)."""
    r = get("prop4")
    e = r.example()
    assert r.prediction(e) == prop4.ExplodingGradients(exponent=2, constant=sp.Integer(6))
    single = AttentionModel(n=64, depth=1, gamma=sp.Rational(1, 2), ensemble="uniform")
    assert r.prediction(single).constant == sp.Rational(8, 3)
    assert "remove_gap" in r.applies(e.replace(remove_gap=1))


def test_symbolic_depth_carries_the_indicator():
    p = get("prop4").prediction(AttentionModel.symbolic())
    l = p.exponent
    assert p.constant.has(sp.KroneckerDelta)
    assert sp.simplify(p.constant.subs(l, 1) - (1 + prop4.SA2) / prop4.GAMMA) == 0
    assert sp.simplify(p.constant.subs(l, 3) - prop4.SV2**2 / prop4.GAMMA**3) == 0


@given(n=st.sampled_from([16, 24, 32]), L=st.integers(1, 3), gamma=st.sampled_from([1, sp.Rational(1, 2)]),
       ensemble=ensembles, sigma_v2=st.sampled_from([sp.Rational(16, 25), 1, sp.Rational(3, 2)]), seed=seeds)
def test_sampled_first_layer_constant_converges(n, L, gamma, ensemble, sigma_v2, seed):
    model = AttentionModel(n=2 * n, depth=L, gamma=gamma, ensemble=ensemble, sigma_v2=sigma_v2)
    out = compare_case("prop4", model, (n, 2 * n), 6, seed)
    assert_all_pass([o for o in out if o.name.startswith("constant") and o.params["l"] == 1])


def test_key_query_bound_loose_with_depth():
    """Pinned finding (paper: the lower bound is loose with depth for key-query attention)."""
    o = check.key_query_looseness(rng=12345)
    assert o.passed, (o.measured, o.detail)


def test_finding_judges_no_field():
    assert check._finding(VerifyConfig(level="default")).judges == ()


def test_bad_input():
    with pytest.raises(ValueError, match="l must be an integer"):
        prop4.derive(1, 2)
    with pytest.raises(ValueError, match="does not apply"):
        get("prop4").prediction(AttentionModel(n=8, depth=2, attention="identity"))
