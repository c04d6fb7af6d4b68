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


def test_bad_input():
    with pytest.raises(ValueError, match="sigma_A"):
        RESULT.formulas(sigma_A=0)


@pytest.mark.slow
def test_thorough_level_larger_n():
    outs = CHECK.run(VerifyConfig(level="thorough"))
    assert_all_pass(outs)
