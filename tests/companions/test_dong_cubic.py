"""dong.cubic (Dong et al. C2): |res(SA(1x^T + eps R))| = Theta(eps^3)."""
import numpy as np
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.companions.residual import attention_layer, composite_norm, init_san, residual_mean
from gapcheck.theory.companions import dong
from gapcheck.theory.model import AttentionModel
from gapcheck.theory.registry import get
from tests.contract import ResultContract


def test_registered_with_grades_and_unchecked_constant():
    r = get("dong.cubic")
    assert r.kind == "companion" and "grade B" in r.source and "grade D" in r.source
    assert r.prediction(r.example()).exponent == 3


def test_series_derivation_gives_cubic_order():
    ser = dong.two_token_residual_series()
    eps = sympy.Symbol("epsilon", positive=True)
    lead = ser.removeO()
    assert sympy.degree(lead, eps) == 3 and sympy.Poly(lead, eps).monoms() == [(3,)]
    assert all(o.passed for o in get("dong.cubic").symbolic_checks())


@given(seed=st.integers(0, 2**32 - 1), heads=st.integers(1, 3))
def test_log_slope_is_three(seed, heads):
    rng = np.random.default_rng(seed)
    layer = init_san(6, 1, heads=heads, rng=rng)[0]
    x, R = rng.standard_normal(6), residual_mean(rng.standard_normal((5, 6)))
    eps = np.logspace(-3.5, -1, 6)
    res = [composite_norm(residual_mean(attention_layer(x + e * R, layer))) for e in eps]
    slope = np.polyfit(np.log(eps), np.log(res), 1)[0]
    assert abs(slope - 3) <= 0.1


def test_prediction_reads_the_series_order_and_applies_to_pure_attention():
    r = get("dong.cubic")
    p = r.prediction(AttentionModel.symbolic(attention="key-query"))
    assert p.exponent == 3 == sympy.degree(dong.two_token_residual_series().removeO(), sympy.Symbol("epsilon", positive=True))
    ex = r.example()
    assert r.applies(ex) is None
    assert "pure self-attention" in r.applies(ex.replace(skip="standard"))
    assert "pure self-attention" in r.applies(ex.replace(layernorm=True))
    assert "key-query" in r.applies(ex.replace(attention="markov"))


class TestContract(ResultContract):
    result_id = "dong.cubic"
