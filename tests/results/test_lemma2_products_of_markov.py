"""Lemma 2: products of Random Markov matrices."""
from __future__ import annotations

import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import VerifyConfig, check_module
from gapcheck.theory.registry import get
from tests import strategies as S
from tests.contract import ResultContract, assert_all_pass

RESULT = get("lemma2")
CHECK = check_module(RESULT)


class TestContract(ResultContract):
    result_id = "lemma2"


def test_fuss_catalan_edge_symbolic_in_l():
    from gapcheck.theory.results.lemma2 import fuss_catalan_edge, l
    assert sympy.simplify(fuss_catalan_edge() - (l + 1) ** (l + 1) / l ** l) == 0
    from gapcheck.theory.model import SYMBOLS, AttentionModel
    sA2 = SYMBOLS["sigma_A2"]
    p = RESULT.prediction(AttentionModel.symbolic(depth=3))
    assert sympy.simplify(p.edge - sympy.sqrt(sA2) ** 3 * sympy.sqrt(sympy.Integer(4) ** 4 / 27)) == 0
    assert p.exponent == sympy.Rational(-3, 2) and p.s1_excess == sA2 / 2 and p.perp_norm == sympy.sqrt(sA2)
    assert RESULT.prediction(AttentionModel.symbolic(depth=1)).perp_norm == 2 * sympy.sqrt(sA2)


@S.expensive(3)
@given(depth=st.integers(1, 3), ensemble=st.sampled_from(["exponential", "uniform"]), seed=S.seeds)
def test_property_products(depth, ensemble, seed):
    outs = CHECK.run(VerifyConfig(level="quick", seed=seed), params={"depth": depth, "ensemble": ensemble})
    assert_all_pass(outs)


def test_prediction_reads_the_model():
    """predict(model) reads the depth and sigma_A^2 from the model (uniform: 1/3)."""
    import sympy
    from gapcheck.theory.model import AttentionModel
    p = RESULT.prediction(AttentionModel(n=64, depth=3, ensemble="uniform"))
    assert p.exponent == sympy.Rational(-3, 2) and p.s1_excess == sympy.Rational(1, 6)
    assert sympy.simplify(p.edge - sympy.Rational(1, 3) ** sympy.Rational(3, 2) * sympy.sqrt(sympy.Rational(256, 27))) == 0
    assert RESULT.applies(AttentionModel(n=64, remove_gap=1))


def test_quick_level_samples_the_example():
    """The quick level (what `gapcheck verify --quick` runs) samples sigma_A != 1, l = 2."""
    (case,) = CHECK.CHECK.cases(VerifyConfig(level="quick"))
    assert case.model.value("sigma_A2") != 1 and case.model.depth == 2


def test_bad_input():
    with pytest.raises(ValueError, match="depth must be an integer"):
        RESULT.prediction(RESULT.example().replace(depth=0))


@pytest.mark.slow
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_thorough_level_larger_n(depth):
    outs = CHECK.run(VerifyConfig(level="thorough"), params={"depth": depth})
    assert_all_pass(outs)
