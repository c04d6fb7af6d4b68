"""Lemma 3: no gap after removal (quarter-circle bulk, no outlier)."""
from __future__ import annotations

import pytest
from hypothesis import given

from gapcheck.numerics.checks import VerifyConfig, check_module
from gapcheck.theory.registry import get
from tests import strategies as S
from tests.contract import ResultContract, assert_all_pass

RESULT = get("lemma3")
CHECK = check_module(RESULT)


class TestContract(ResultContract):
    result_id = "lemma3"


@S.expensive(3)
@given(ensemble=S.ensembles, seed=S.seeds)
def test_property_quarter_circle_without_outlier(ensemble, seed):
    outs = CHECK.run(VerifyConfig(level="quick", seed=seed), params={"ensemble": ensemble})
    assert_all_pass(outs)


def test_prediction_reads_the_model():
    """predict(model) reads sigma_A^2 from the model; the statement needs the gap removed."""
    import sympy
    from gapcheck.theory.model import AttentionModel
    p = RESULT.prediction(AttentionModel(n=64, ensemble="uniform", remove_gap=1))
    assert p.edge == 2 / sympy.sqrt(3) and p.ratio == 1 and p.bulk_variance == sympy.Rational(1, 3)
    assert "remove_gap" in RESULT.applies(AttentionModel(n=64))
    with pytest.raises(ValueError, match="does not apply"):
        RESULT.prediction(AttentionModel(n=64))


def test_quick_level_samples_the_example():
    """The quick level (what `gapcheck verify --quick` runs) samples a point with sigma_A != 1."""
    (case,) = CHECK.CHECK.cases(VerifyConfig(level="quick"))
    assert case.model.value("sigma_A2") != 1


def test_bad_input():
    with pytest.raises(ValueError, match="sigma_a2 must be > 0"):
        RESULT.prediction(RESULT.example().replace(sigma_a2=0))


@pytest.mark.slow
def test_thorough_level_larger_n():
    outs = CHECK.run(VerifyConfig(level="thorough"))
    assert_all_pass(outs)
