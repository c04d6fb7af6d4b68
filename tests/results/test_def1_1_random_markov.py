"""Definition 1.1: Random Markov matrix (symbolic moments, sampled entries, negative controls)."""
from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings, strategies as st

from numerics.checks import VerifyConfig, check_module
from theory.registry import get
from tests import strategies as S

RESULT = get("def1.1")
CHECK = check_module(RESULT)


def test_registered_with_statement_and_latex():
    assert RESULT.id == "def1.1" and RESULT.statement and RESULT.statement_latex
    assert RESULT.empirical_check == "numerics.checks.def1_1"
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


def test_relative_variances_derived_from_ensembles():
    f = RESULT.formulas()
    s2 = sympy.Symbol("s2", positive=True)
    assert sympy.simplify(f["sigma_A^2 (lognormal)"] - (sympy.exp(s2) - 1)) == 0
    assert f["sigma_A^2 (exponential)"] == 1 and f["sigma_A^2 (uniform)"] == sympy.Rational(1, 3)
    assert f["b_1 (exponential)"] == -2 and f["b_1 (uniform)"] == 0
    assert f["b_1 (lognormal)"].subs(s2, sympy.log(2)) == -6


@settings(max_examples=4)
@given(ensemble=S.ensembles, seed=S.seeds,
       sigma_a2=st.sampled_from([None, 0.5, 2.0]))
def test_property_sampled_entries_match(ensemble, seed, sigma_a2):
    sa2 = sigma_a2 if ensemble == "lognormal" else None
    outs = CHECK.run(VerifyConfig(level="quick", seed=seed), params={"ensemble": ensemble, "sigma_a2": sa2})
    assert all(o.passed for o in outs), [(o.name, o.measured, o.predicted) for o in outs if not o.passed]


def test_bad_ensemble_is_a_clear_error():
    with pytest.raises(ValueError, match="ensemble"):
        RESULT.formulas(ensemble="cauchy")
