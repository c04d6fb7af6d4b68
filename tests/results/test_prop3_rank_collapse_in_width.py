"""Proposition 3: rank collapse in width, srank - 1 ~ (1 + l(1+gamma)) sigma_A^(4l) n^(1-2l)."""
from __future__ import annotations

import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import VerifyConfig, check_module
from gapcheck.theory.registry import get
from tests import strategies as S
from tests.contract import ResultContract, assert_all_pass

RESULT = get("prop3")
CHECK = check_module(RESULT)


class TestContract(ResultContract):
    result_id = "prop3"


def test_bulk_second_moment_derived_for_symbolic_depth():
    l, g = sympy.Symbol("l", positive=True, integer=True), sympy.Symbol("gamma", positive=True)
    f = RESULT.formulas()
    assert sympy.expand(f["m_2(mu_l)"] - (1 + l * (1 + g))) == 0
    assert f["srank - 1 exponent in n"] == 1 - 2 * l


@S.expensive(2)
@given(depth=st.integers(1, 2), gamma=st.sampled_from([1, 0.5]), ensemble=st.sampled_from(["exponential", "uniform"]),
       seed=S.seeds)
def test_property_rank_collapse(depth, gamma, ensemble, seed):
    outs = CHECK.run(VerifyConfig(level="quick", seed=seed),
                     params={"depth": depth, "gamma": gamma, "ensemble": ensemble})
    assert_all_pass(outs)


def test_bad_input():
    with pytest.raises(ValueError, match="gamma"):
        RESULT.formulas(gamma=2)


def test_finding_depth_three_slope_bias_at_default_sizes(verify_config):
    """Pinned: at l = 3 and n <= 256 the bulk-sum exponent is visibly above 1 - 2l = -5
    (finite-n bias of the bulk moments, O(l/n)); the one-sided budget covers it."""
    outs = CHECK.run(verify_config, params={"depth": 3, "gamma": 1})
    (fit,) = [o for o in outs if o.name.startswith("bulk sum")]
    assert -5.0 < fit.measured < -4.6


@pytest.mark.slow
@pytest.mark.parametrize("depth,gamma", [(1, 1), (2, 0.5), (3, 1)])
def test_thorough_level_larger_n(depth, gamma):
    outs = CHECK.run(VerifyConfig(level="thorough"), params={"depth": depth, "gamma": gamma})
    assert_all_pass(outs)
