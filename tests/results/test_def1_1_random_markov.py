"""Definition 1.1: Random Markov matrix (symbolic moments, sampled entries, negative controls)."""
from __future__ import annotations

import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import VerifyConfig, check_module
from gapcheck.theory.registry import get
from tests import strategies as S
from tests.contract import ResultContract, assert_all_pass

RESULT = get("def1.1")
CHECK = check_module(RESULT)


class TestContract(ResultContract):
    result_id = "def1.1"


def test_relative_variances_derived_from_ensembles():
    f = RESULT.formulas()
    s2 = sympy.Symbol("s2", positive=True)
    assert sympy.simplify(f["sigma_A^2 (lognormal)"] - (sympy.exp(s2) - 1)) == 0
    assert f["sigma_A^2 (exponential)"] == 1 and f["sigma_A^2 (uniform)"] == sympy.Rational(1, 3)
    assert f["b_1 (exponential)"] == -2 and f["b_1 (uniform)"] == 0
    assert f["b_1 (lognormal)"].subs(s2, sympy.log(2)) == -6


@S.expensive(4)
@given(ensemble=S.ensembles, seed=S.seeds,
       sigma_a2=st.sampled_from([None, 0.5, 2.0]))
def test_property_sampled_entries_match(ensemble, seed, sigma_a2):
    sa2 = sigma_a2 if ensemble == "lognormal" else None
    outs = CHECK.run(VerifyConfig(level="quick", seed=seed), params={"ensemble": ensemble, "sigma_a2": sa2})
    assert_all_pass(outs)


def test_bad_ensemble_is_a_clear_error():
    with pytest.raises(ValueError, match="ensemble"):
        RESULT.formulas(ensemble="cauchy")
