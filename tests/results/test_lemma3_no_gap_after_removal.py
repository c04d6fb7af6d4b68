"""Lemma 3: no gap after removal (quarter-circle bulk, no outlier)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings

from numerics.checks import VerifyConfig, check_module
from theory.registry import get
from tests import strategies as S

RESULT = get("lemma3")
CHECK = check_module(RESULT)


def test_registered_with_statement_and_latex():
    assert RESULT.id == "lemma3" and RESULT.statement and RESULT.statement_latex
    assert RESULT.empirical_check == "numerics.checks.lemma3"
    assert RESULT.latex()


def test_symbolic_checks_pass():
    outs = RESULT.symbolic_checks()
    assert outs and all(o.passed for o in outs), [o.name for o in outs if not o.passed]


def test_default_level_check_passes(verify_config):
    outs = CHECK.run(verify_config)
    assert outs and all(o.passed for o in outs), [(o.name, o.measured, o.predicted) for o in outs if not o.passed]


@pytest.mark.parametrize("control", sorted(CHECK.NEGATIVE_CONTROLS))
def test_negative_control_is_rejected(verify_config, control):
    outs = CHECK.run(verify_config, predict=CHECK.NEGATIVE_CONTROLS[control])
    assert not all(o.passed for o in outs), f"perturbed prediction {control!r} was accepted"


@settings(max_examples=3)
@given(ensemble=S.ensembles, seed=S.seeds)
def test_property_quarter_circle_without_outlier(ensemble, seed):
    outs = CHECK.run(VerifyConfig(level="quick", seed=seed), params={"ensemble": ensemble})
    assert all(o.passed for o in outs), [(o.name, o.measured, o.predicted) for o in outs if not o.passed]


def test_bad_input():
    with pytest.raises(ValueError, match="sigma_A"):
        RESULT.formulas(sigma_A=0)


@pytest.mark.slow
def test_thorough_level_larger_n():
    outs = CHECK.run(VerifyConfig(level="thorough"))
    assert all(o.passed for o in outs), [(o.name, o.measured, o.predicted) for o in outs if not o.passed]
