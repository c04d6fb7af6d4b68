"""Theorem 10: s_1/s_2 of the signal grows like n^(l/2)."""
from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings, strategies as st

from numerics.checks import VerifyConfig, check_module
from theory.registry import get
from tests import strategies as S

RESULT = get("thm10")
CHECK = check_module(RESULT)


def test_registered_with_statement_and_latex():
    assert RESULT.id == "thm10" and RESULT.statement and RESULT.statement_latex
    assert RESULT.empirical_check == "numerics.checks.thm10"
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


def test_gamma_one_edge_is_fuss_catalan():
    f = RESULT.formulas(l=1, gamma=1, sigma_A=1)
    assert f["x_+(mu_l)"] == sympy.Rational(27, 4)
    assert sympy.simplify(f["n^(-l/2) s_1/s_2 limit"] - 2 * sympy.sqrt(3) / 9) == 0


@settings(max_examples=2)
@given(depth=st.integers(1, 2), gamma=st.sampled_from([1, 0.5]), ensemble=st.sampled_from(["exponential", "uniform"]),
       seed=S.seeds)
def test_property_gap_of_the_signal(depth, gamma, ensemble, seed):
    outs = CHECK.run(VerifyConfig(level="quick", seed=seed),
                     params={"depth": depth, "gamma": gamma, "ensemble": ensemble})
    assert all(o.passed for o in outs), [(o.name, o.measured, o.predicted) for o in outs if not o.passed]


def test_bad_input():
    with pytest.raises(ValueError, match="gamma"):
        RESULT.formulas(gamma=0)


@pytest.mark.slow
@pytest.mark.parametrize("depth,gamma", [(1, 0.5), (2, 1)])
def test_thorough_level_larger_n(depth, gamma):
    outs = CHECK.run(VerifyConfig(level="thorough"), params={"depth": depth, "gamma": gamma})
    assert all(o.passed for o in outs), [(o.name, o.measured, o.predicted) for o in outs if not o.passed]
