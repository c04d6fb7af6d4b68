"""Proposition 4: with the gap ||dX_L/dW_l||_F^2 ~ n^L, constant
sigma_V^(2(L-1)) d^L (1 + sigma_A^2 [L = 1]); key-query looseness pinned."""
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import prop4 as check
from gapcheck.theory.registry import get
from gapcheck.theory.results import prop4
from tests.contract import ResultContract, assert_all_pass
from tests.strategies import ensembles, seeds


def test_registered_with_finding():
    r = get("prop4")
    assert r.empirical_check == "gapcheck.numerics.checks.prop4"
    assert any("key-query" in f.lower() for f in r.findings)


class TestContract(ResultContract):
    result_id = "prop4"
    controls_level = "quick"
    n_symbolic = 16


@pytest.mark.parametrize("L", [1, 2, 3, 4])
def test_exponent_is_depth_and_constant_has_single_layer_bulk(L):
    for l in range(1, L + 1):
        der = prop4.derive(L, l)
        assert der["exponent"] == L
        assert sp.simplify(der["constant"] - (1 + prop4.SA2 * int(L == 1))) == 0


@given(n=st.sampled_from([16, 24, 32]), L=st.integers(1, 3), gamma=st.sampled_from([1, 0.5]),
       ensemble=ensembles, sigma_v=st.floats(0.8, 1.25), seed=seeds)
def test_sampled_first_layer_constant_converges(n, L, gamma, ensemble, sigma_v, seed):
    params, ns, d = check.measure(L, gamma, ensemble, sigma_v**2, [n, 2 * n], batch=6, rng=seed)
    out = [o for o in check.evaluate((params, ns, d), layers=[1]) if o.name.startswith("constant")]
    assert_all_pass(out)


def test_key_query_bound_loose_with_depth():
    """Pinned finding (paper: the lower bound is loose with depth for key-query attention)."""
    o = check.key_query_looseness(rng=12345)
    assert o.passed, (o.measured, o.detail)


def test_bad_input():
    with pytest.raises(ValueError, match="l must be an integer"):
        prop4.predict(1, 2, 1, 1, 1)
