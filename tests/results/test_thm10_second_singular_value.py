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


def _edge_by_minimum(depth, gamma):
    """x_+ of mu_l written independently of the free_product machinery: with
    S(z) = (1 + z)^-l (1 + gamma z)^-l, the edge is the minimum over z > 0 of
    (1 + z)/(z S(z)) = (1 + z)^(l+1) (1 + gamma z)^l / z (the critical value of
    the inverse of the moment series)."""
    z = sympy.Symbol("z", positive=True)
    f = (1 + z) ** (depth + 1) * (1 + gamma * z) ** depth / z
    (crit,) = [c for c in sympy.Poly(sympy.numer(sympy.together(sympy.diff(f, z))), z).real_roots()
               if c > 0]
    return f.subs(z, crit)


def test_gamma_one_edge_is_fuss_catalan():
    from gapcheck.theory.model import AttentionModel
    p = RESULT.prediction(AttentionModel(n=64, depth=1, gamma=1, ensemble="exponential"))   # sigma_A^2 = 1
    assert p.edge == sympy.Rational(27, 4) and p.exponent == sympy.Rational(1, 2)
    assert sympy.simplify(p.constant - 2 * sympy.sqrt(3) / 9) == 0


def test_prediction_reads_the_model():
    """exponent l/2 and constant 1/(sigma_A^l sqrt(x_+)) follow the description;
    the symbolic edge becomes the exact edge once l and gamma are numbers."""
    from gapcheck.theory.model import SYMBOLS, AttentionModel
    model = RESULT.example()                    # sigma_A^2 = 1/4, gamma = 1/2, l = 2
    p = RESULT.prediction(model)
    assert p.exponent == 1 and abs(sympy.N(p.edge - _edge_by_minimum(2, sympy.Rational(1, 2)), 30)) < 1e-25
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
    with pytest.raises(ValueError, match="gamma must be in"):
        RESULT.prediction(RESULT.example().replace(gamma=0))


@pytest.mark.slow
@pytest.mark.parametrize("depth,gamma", [(1, 0.5), (2, 1)])
def test_thorough_level_larger_n(depth, gamma):
    outs = CHECK.run(VerifyConfig(level="thorough"), params={"depth": depth, "gamma": gamma})
    assert_all_pass(outs)
