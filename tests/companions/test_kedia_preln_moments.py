"""kedia.preln-moments (Kedia et al. 2024): moments through a pre-LN block, linear growth."""
import numpy as np
import pytest
import sympy

from gapcheck.numerics import layers
from gapcheck.numerics.checks.kedia_preln_moments import increments
from gapcheck.theory.companions import kedia
from gapcheck.theory.model import MLP, SYMBOLS
from gapcheck.theory.presets import init_preset
from gapcheck.theory.registry import get
from tests.contract import ResultContract

RID = "kedia.preln-moments"


def test_registered_with_its_source():
    r = get(RID)
    assert r.kind == "companion" and "2403.09635" in r.source and "Kedia" in r.source


def test_relu_moments_and_recursions():
    s2 = sympy.Symbol("s2", positive=True)
    assert kedia.relu_second_moment() == s2 / 2
    assert kedia.relu_second_moment(2) == 1
    assert kedia.deepscale_recursion() == 1
    c, v0, l = sympy.Symbol("c", positive=True), sympy.Symbol("v_0", positive=True), SYMBOLS["l"]
    # linear in depth: a wrong recursion (v_l = 2 v_(l-1) + c) would not give this
    assert sympy.expand(kedia.stream_recursion() - v0 - l * c) == 0


@pytest.mark.parametrize("s2", [0.05, 0.7, 5.5])
def test_gelu_closed_form_is_the_quadrature(s2):
    v = sympy.Float(s2, 20)
    assert float(kedia.gelu_erf_second_moment(v)) == pytest.approx(float(kedia.GeluErfSecondMoment(v)), rel=1e-12)
    # the closed form without the 2 of its algebraic term (a plausible slip) is off
    wrong = v / 4 + v / (2 * sympy.pi) * (sympy.asin(v / (1 + v)) + v / ((1 + v) * sympy.sqrt(1 + 2 * v)))
    assert abs(float(wrong) / float(kedia.GeluErfSecondMoment(v)) - 1) > 1e-4


def test_gelu_tanh_moment_matches_the_package_activation():
    """The quadrature's tanh form is the sampler's: Monte Carlo of numerics.layers.activation."""
    z = np.random.default_rng(0).standard_normal(400_000) * np.sqrt(0.5)
    mc = (layers.activation("gelu", z) ** 2)
    assert abs(mc.mean() - float(kedia.GeluTanhSecondMoment(sympy.Rational(1, 2)))) < 5 * mc.std() / np.sqrt(z.size)


def test_prediction_reads_the_model():
    r = get(RID)
    ex = r.example()
    p = r.prediction(ex)
    a2, d = sympy.Rational(1, 10), 32                      # a = 1/sqrt(2L), L = 5
    assert p.attention_increment_max == a2 * sympy.Rational(5, 96) * d * sympy.Rational(1, 16) * d
    s2 = d * sympy.Rational(3, 64)
    assert p.act_m2 == kedia.GeluTanhSecondMoment(s2)
    assert p.mlp_increment == a2 * 4 * d * sympy.Rational(1, 160) * p.act_m2
    relu = r.prediction(ex.replace(mlp=MLP(width=4, activation="relu", sigma_in2=sympy.Rational(3, 64),
                                           sigma_out2=sympy.Rational(1, 160))))
    assert relu.act_m2 == s2 / 2
    assert r.prediction(ex.replace(mlp=None)).mlp_increment == 0
    assert "pre-LN" in r.applies(ex.replace(ln_position="post"))
    assert "no skip" in r.applies(ex.replace(skip=None))
    assert "gap removal" in r.applies(ex.replace(remove_gap=1))
    assert r.applies(init_preset("gpt2", n=32, depth=2, gamma=sympy.Rational(1, 2), heads=4)) is None


def test_stream_grows_linearly_at_gpt2_with_the_standard_skip():
    """Pre-LN at GPT-2's init but a = 1 and a full-variance MLP: E|X_L|^2 - |X_0|^2 over L layers
    is L times the per-layer increments (telescoping), and it grows with L."""
    m = init_preset("t5", n=16, depth=6, gamma=sympy.Rational(1, 2), heads=2)
    att, mlp, _, _ = increments(m, 48, np.random.default_rng(3))
    p = get(RID).prediction(m)
    growth = 6 * (att.mean() + mlp.mean())
    assert growth > 6 * float(p.mlp_increment) * 0.8
    assert growth < 6 * float(p.mlp_increment + p.attention_increment_max) * 1.2


class TestContract(ResultContract):
    result_id = RID


@pytest.mark.slow
@pytest.mark.parametrize("seed", [20241010, 1, 2, 3, 4])
def test_thorough_level_truth_and_controls(seed):
    """512 networks per case: the truth passes and every control is rejected on its field."""
    from gapcheck.numerics.checks import VerifyConfig
    from gapcheck.numerics.checks import kedia_preln_moments as K
    from tests.contract import assert_truth_and_controls
    assert_truth_and_controls(K, RID, VerifyConfig(level="thorough", seed=seed))
