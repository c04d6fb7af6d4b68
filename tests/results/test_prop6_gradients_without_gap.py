"""Proposition 6: without the gap, E||dX_L/dW_l||_F^2 ~ n with constant
sigma_A^(2L) sigma_V^(2(L-1)) gamma^(-L), derived as a product of first moments."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import prop6 as check
from gapcheck.theory.registry import get
from gapcheck.theory.results import prop6
from tests.contract import ResultContract, assert_all_pass
from tests.strategies import ensembles, seeds


def test_registered():
    r = get("prop6")
    assert r.empirical_check == "gapcheck.numerics.checks.prop6" and r.findings


class TestContract(ResultContract):
    result_id = "prop6"
    controls_level = "quick"
    n_symbolic = 11


def test_constant_is_independent_of_layer_and_rejects_perturbations():
    c = prop6.general()["constant"]
    assert prop6.LAYER not in c.free_symbols
    L, g, a, v = prop6.DEPTH, prop6.GAMMA, prop6.SA2, prop6.SV2
    for wrong in (a ** (L + 1) * v**L / g ** (L + 1), a**L * v ** (L - 1) / g ** (L + 1),
                  a ** (L / 2) * v ** ((L - 1) / 2) / g**L):
        assert sp.simplify(sp.powsimp(c - wrong, force=True)) != 0


@given(n=st.sampled_from([16, 24, 32]), L=st.integers(1, 3), data=st.data(),
       gamma=st.sampled_from([1, 0.5]), ensemble=ensembles, sigma_v=st.floats(0.8, 1.25), seed=seeds)
def test_sampled_constant_converges(n, L, data, gamma, ensemble, sigma_v, seed):
    l = data.draw(st.integers(1, L))
    params, ns, d = check.measure(L, gamma, ensemble, sigma_v**2, [n, 2 * n], batch=4, rng=seed)
    out = [o for o in check.evaluate((params, ns, d), layers=[l]) if o.name.startswith("constant")]
    assert_all_pass(out)


def test_slope_bias_matches_exact_correction():
    ns = np.array([50.0, 100.0, 200.0])
    vals = [[n * (1 - 10 / n)] * 2 for n in ns]
    fit = np.polyfit(np.log(ns), np.log([v[0] for v in vals]), 1)[0]
    assert check.slope_bias(ns, -10.0) == pytest.approx(fit - 1, abs=1e-12)


@pytest.mark.slow
def test_rate_at_larger_n():
    out = check.check(2, 1, 1, "exponential", 1.0, [128, 256, 512], batch=8, rng=3)
    assert_all_pass(out)


def test_bad_input():
    with pytest.raises(ValueError, match="l must be an integer"):
        prop6.predict(2, 3, 1, 1, 1)
    with pytest.raises(ValueError, match="gamma"):
        prop6.predict(1, 1, 0, 1, 1)
