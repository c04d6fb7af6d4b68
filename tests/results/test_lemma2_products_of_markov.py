"""Lemma 2: products of Random Markov matrices."""
from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings, strategies as st

from numerics.checks import VerifyConfig, check_module
from theory.registry import get
from tests import strategies as S

RESULT = get("lemma2")
CHECK = check_module(RESULT)


def test_registered_with_statement_and_latex():
    assert RESULT.id == "lemma2" and RESULT.statement and RESULT.statement_latex
    assert RESULT.empirical_check == "numerics.checks.lemma2"
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


def test_fuss_catalan_edge_symbolic_in_l():
    from theory.results.lemma2 import fuss_catalan_edge, l
    assert sympy.simplify(fuss_catalan_edge() - (l + 1) ** (l + 1) / l ** l) == 0
    f = RESULT.formulas(l=3, sigma=sympy.Symbol("sigma", positive=True))
    sg = sympy.Symbol("sigma", positive=True)
    assert sympy.simplify(f["n^(l/2) s_2 limit"] - sg ** 3 * sympy.sqrt(sympy.Integer(4) ** 4 / 27)) == 0


@settings(max_examples=3)
@given(depth=st.integers(1, 3), ensemble=st.sampled_from(["exponential", "uniform"]), seed=S.seeds)
def test_property_products(depth, ensemble, seed):
    outs = CHECK.run(VerifyConfig(level="quick", seed=seed), params={"depth": depth, "ensemble": ensemble})
    assert all(o.passed for o in outs), [(o.name, o.measured, o.predicted) for o in outs if not o.passed]


def test_bad_input():
    with pytest.raises(ValueError, match="l must be an integer"):
        RESULT.formulas(l=0)


@pytest.mark.slow
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_thorough_level_larger_n(depth):
    outs = CHECK.run(VerifyConfig(level="thorough"), params={"depth": depth})
    assert all(o.passed for o in outs), [(o.name, o.measured, o.predicted) for o in outs if not o.passed]
