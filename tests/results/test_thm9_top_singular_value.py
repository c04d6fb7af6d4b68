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
    """The symbolic prediction at depth 3 against (sigma_V^2 d)^3, d = n/gamma; the
    relative variance of one layer's |u^T W|^2 (sympy.stats) against 2/d."""
    from gapcheck.theory.model import SYMBOLS, AttentionModel
    from gapcheck.theory.results.thm9 import one_layer_moments
    n, g, sV2 = SYMBOLS["n"], SYMBOLS["gamma"], SYMBOLS["sigma_V2"]
    p = RESULT.prediction(AttentionModel.symbolic(depth=3))
    assert sympy.simplify(p.rank_one_m2 - (sV2 * n / g) ** 3) == 0
    assert sympy.simplify(p.scale ** 2 - (sV2 * n / g) ** 3) == 0 and p.ratio_to_R == 1
    d, sv = sympy.Symbol("d", positive=True, integer=True), sympy.Symbol("sigma_V", positive=True)
    m1, m2 = one_layer_moments(d, sv)
    assert sympy.simplify(m2 / m1 ** 2 - (1 + 2 / d)) == 0


def test_prediction_reads_the_model():
    """The scale follows sigma_V^2, gamma and l of the description (a power of a
    scale that is 1 at the paper's point would show at the example)."""
    model = RESULT.example()                     # sigma_V^2 = 3, gamma = 1/2, l = 2, n = 256
    p = RESULT.prediction(model)
    assert p.rank_one_m2 == (3 * 512) ** 2 and p.scale == 3 * 512 and p.ratio_to_R == 1
    deeper = RESULT.prediction(model.replace(depth=3))
    assert deeper.scale ** 2 == (3 * 512) ** 3
    with pytest.raises(ValueError, match="thm9 does not apply.*gap"):
        RESULT.prediction(model.replace(remove_gap=1))


def test_quick_level_checks_the_example_and_rejects_a_power_of_a_scale():
    config = VerifyConfig(level="quick")
    assert [c.model.depth for c in CHECK.CHECK.cases(config)] == [2]
    wrong = CHECK.NEGATIVE_CONTROLS["sigma_V^2 -> sigma_V^4"](RESULT.prediction)
    outs = CHECK.run(config, predict=wrong)
    assert any(not o.passed and "scale" in o.judges for o in outs), [(o.name, o.passed) for o in outs]


@S.expensive(2)
@given(depth=st.integers(1, 3), gamma=st.sampled_from([1, 0.5]), ensemble=S.ensembles, seed=S.seeds)
def test_property_top_singular_value(depth, gamma, ensemble, seed):
    outs = CHECK.run(VerifyConfig(level="quick", seed=seed),
                     params={"depth": depth, "gamma": gamma, "ensemble": ensemble})
    assert_all_pass(outs)


def test_bad_input():
    with pytest.raises(ValueError, match="sigma_v2 must be > 0"):
        RESULT.prediction(RESULT.example().replace(sigma_v2=-3))
