"""Theorem 2: spectral gap of Random Markov matrices."""
from __future__ import annotations

import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import VerifyConfig, check_module
from gapcheck.theory.registry import get
from tests import strategies as S
from tests.contract import ResultContract, assert_all_pass

RESULT = get("thm2")
CHECK = check_module(RESULT)


class TestContract(ResultContract):
    result_id = "thm2"


def test_gap_ratio_from_quarter_circle_support():
    """s_1/s_2 ~ sqrt(n)/(2 sigma_A): the symbolic prediction against the closed form."""
    from gapcheck.theory.model import SYMBOLS, AttentionModel
    s = sympy.sqrt(SYMBOLS["sigma_A2"])
    p = RESULT.prediction(AttentionModel.symbolic())
    assert sympy.simplify(p.constant - 1 / (2 * s)) == 0 and sympy.simplify(p.edge - 2 * s) == 0
    assert p.exponent == sympy.Rational(1, 2) and p.lambda1 == 1 and p.s1 == 1


@S.expensive(3)
@given(ensemble=st.sampled_from(["exponential", "uniform"]), seed=S.seeds)
def test_property_gap_light_tailed(ensemble, seed):
    outs = CHECK.run(VerifyConfig(level="quick", seed=seed), params={"ensemble": ensemble})
    assert_all_pass(outs)


def test_finding_lognormal_edge_above_two_sigma(verify_config):
    outs = CHECK.run(verify_config, params={"ensemble": "lognormal"})
    (finding,) = [o for o in outs if o.name.startswith("finding")]
    assert finding.passed and finding.measured > finding.predicted


def test_prediction_reads_the_model():
    """predict(model) reads sigma_A^2 from the model's ensemble: uniform entries
    (sigma_A^2 = 1/3) give the edge 2/sqrt(3), not the 2 of sigma_A = 1."""
    from gapcheck.theory.model import AttentionModel
    p = RESULT.prediction(AttentionModel(n=64, ensemble="uniform"))
    assert p.edge == 2 / sympy.sqrt(3) and p.constant == sympy.sqrt(3) / 2 and p.exponent == sympy.Rational(1, 2)
    assert RESULT.applies(AttentionModel(n=64, remove_gap=1))
    assert RESULT.applies(AttentionModel(n=64, attention="key-query"))


def test_quick_level_samples_the_example():
    """The quick level (what `gapcheck verify --quick` runs) samples a point with sigma_A != 1."""
    (case,) = CHECK.CHECK.cases(VerifyConfig(level="quick"))
    assert case.model.value("sigma_A2") != 1


def test_bad_input():
    with pytest.raises(ValueError, match="sigma_a2 must be > 0"):
        RESULT.prediction(RESULT.example().replace(sigma_a2=-1))


@pytest.mark.slow
@pytest.mark.parametrize("ensemble", ["exponential", "uniform", "lognormal"])
def test_thorough_level_larger_n(ensemble):
    outs = CHECK.run(VerifyConfig(level="thorough"), params={"ensemble": ensemble})
    assert_all_pass(outs)
