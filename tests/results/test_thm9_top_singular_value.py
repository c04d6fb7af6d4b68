"""Theorem 9: the top singular value of the signal is its rank-one part, (sigma_V sqrt(d))^l."""
from __future__ import annotations

import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import VerifyConfig, check_module
from gapcheck.theory.registry import get
from tests import strategies as S
from tests.contract import ResultContract, assert_all_pass

RESULT = get("thm9")
CHECK = check_module(RESULT)


class TestContract(ResultContract):
    result_id = "thm9"


def test_rank_one_scale_derived():
    d, sv = sympy.Symbol("d", positive=True, integer=True), sympy.Symbol("sigma_V", positive=True)
    f = RESULT.formulas(l=3)
    assert sympy.simplify(f["E ||R_l||^2"] - (sv ** 2 * d) ** 3) == 0
    assert sympy.simplify(f["Var ||R_l||^2 / (E ||R_l||^2)^2"] - ((1 + 2 / d) ** 3 - 1)) == 0


@S.expensive(2)
@given(depth=st.integers(1, 3), gamma=st.sampled_from([1, 0.5]), ensemble=S.ensembles, seed=S.seeds)
def test_property_top_singular_value(depth, gamma, ensemble, seed):
    outs = CHECK.run(VerifyConfig(level="quick", seed=seed),
                     params={"depth": depth, "gamma": gamma, "ensemble": ensemble})
    assert_all_pass(outs)


def test_finding_rank_one_deviation_decays_like_one_over_n(verify_config):
    outs = CHECK.run(verify_config)
    (finding,) = [o for o in outs if o.name.startswith("finding")]
    assert finding.passed and -1.6 < finding.measured < -0.5


def test_bad_input():
    with pytest.raises(ValueError, match="d"):
        RESULT.formulas(d=-3)
