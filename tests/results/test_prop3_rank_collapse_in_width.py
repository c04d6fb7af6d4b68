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
    """The symbolic prediction against the closed form written here:
    exponent 1 - 2l, m_2(mu_l) = 1 + l(1 + gamma), constant m_2 sigma_A^(4l)."""
    from gapcheck.theory.model import SYMBOLS, AttentionModel
    l, g, sA2 = SYMBOLS["l"], SYMBOLS["gamma"], SYMBOLS["sigma_A2"]
    p = RESULT.prediction(AttentionModel.symbolic())
    m2 = 1 + l * (1 + g)
    assert sympy.expand(p.bulk_m2 - m2) == 0
    assert sympy.expand(p.exponent - (1 - 2 * l)) == 0
    assert sympy.simplify(sympy.powsimp(p.constant / (m2 * sA2 ** (2 * l)), force=True)) == 1
    # a numeric point where l, gamma and sigma_A^2 differ from 1 and each other
    q = RESULT.prediction(AttentionModel(n=64, depth=3, gamma=sympy.Rational(1, 4), sigma_a2=sympy.Rational(1, 2)))
    assert q.bulk_m2 == sympy.Rational(19, 4) and q.constant == sympy.Rational(19, 4) / 64 and q.exponent == -5


@S.expensive(2)
@given(depth=st.integers(1, 2), gamma=st.sampled_from([1, 0.5]), ensemble=st.sampled_from(["exponential", "uniform"]),
       seed=S.seeds)
def test_property_rank_collapse(depth, gamma, ensemble, seed):
    outs = CHECK.run(VerifyConfig(level="quick", seed=seed),
                     params={"depth": depth, "gamma": gamma, "ensemble": ensemble})
    assert_all_pass(outs)


def test_bad_input():
    from gapcheck.theory.model import AttentionModel
    with pytest.raises(ValueError, match="gamma must be in"):
        RESULT.prediction(AttentionModel(n=64, gamma=2))
    with pytest.raises(ValueError, match="prop3 does not apply.*gap"):
        RESULT.prediction(RESULT.example().replace(remove_gap=1))


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
