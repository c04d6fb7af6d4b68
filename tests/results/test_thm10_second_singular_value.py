"""Theorem 10: s_1/s_2 of the signal grows like n^(l/2)."""
from __future__ import annotations

import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import VerifyConfig, check_module
from gapcheck.theory.registry import get
from tests import strategies as S
from tests.contract import ResultContract, assert_all_pass

RESULT = get("thm10")
CHECK = check_module(RESULT)


class TestContract(ResultContract):
    result_id = "thm10"


def test_gamma_one_edge_is_fuss_catalan():
    f = RESULT.formulas(l=1, gamma=1, sigma_A=1)
    assert f["x_+(mu_l)"] == sympy.Rational(27, 4)
    assert sympy.simplify(f["n^(-l/2) s_1/s_2 limit"] - 2 * sympy.sqrt(3) / 9) == 0


def test_prediction_reads_the_model():
    """exponent l/2 and constant 1/(sigma_A^l sqrt(x_+)) follow the description;
    the symbolic edge becomes the exact edge once l and gamma are numbers."""
    from gapcheck.theory.model import SYMBOLS, AttentionModel
    model = RESULT.example()                    # sigma_A^2 = 1/4, gamma = 1/2, l = 2
    p = RESULT.prediction(model)
    assert p.exponent == 1 and p.edge == RESULT.formulas(l=2, gamma=sympy.Rational(1, 2), sigma_A=1)["x_+(mu_l)"]
    assert sympy.simplify(p.constant - 4 / sympy.sqrt(p.edge)) == 0     # 1/sigma_A^2 = 4
    sym = RESULT.prediction(AttentionModel.symbolic())
    at = sym.subs({SYMBOLS["l"]: 1, SYMBOLS["gamma"]: 1, SYMBOLS["sigma_A2"]: 1})
    assert at.edge == sympy.Rational(27, 4)
    with pytest.raises(ValueError, match="thm10 does not apply.*gap"):
        RESULT.prediction(model.replace(remove_gap=1))


def test_quick_level_checks_the_example_and_rejects_a_power_of_a_scale():
    config = VerifyConfig(level="quick")
    assert [c.model.depth for c in CHECK.CHECK.cases(config)] == [2]
    wrong = CHECK.NEGATIVE_CONTROLS["sigma_A^l -> sigma_A^(2l)"](RESULT.prediction)
    outs = CHECK.run(config, predict=wrong)
    assert any(not o.passed and "constant" in o.judges for o in outs), [(o.name, o.passed) for o in outs]


@S.expensive(2)
@given(depth=st.integers(1, 2), gamma=st.sampled_from([1, 0.5]), ensemble=st.sampled_from(["exponential", "uniform"]),
       seed=S.seeds)
def test_property_gap_of_the_signal(depth, gamma, ensemble, seed):
    outs = CHECK.run(VerifyConfig(level="quick", seed=seed),
                     params={"depth": depth, "gamma": gamma, "ensemble": ensemble})
    assert_all_pass(outs)


def test_bad_input():
    with pytest.raises(ValueError, match="gamma"):
        RESULT.formulas(gamma=0)


@pytest.mark.slow
@pytest.mark.parametrize("depth,gamma", [(1, 0.5), (2, 1)])
def test_thorough_level_larger_n(depth, gamma):
    outs = CHECK.run(VerifyConfig(level="thorough"), params={"depth": depth, "gamma": gamma})
    assert_all_pass(outs)
