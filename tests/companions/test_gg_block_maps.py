"""Giorlandino-Goldt block maps A6-A10: gg.block-map-postln, gg.block-maps,
gg.depth-collapse, gg.trainability (grade D, gapcheck's own claim) and
gg.qk-gradients (grade D): derivations, properties of the maps, sampled
networks against the maps, negative controls."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import VerifyConfig, check_module
from gapcheck.numerics.companions.rem import attention, ln_tokens, stack
from gapcheck.theory.companions import gg
from gapcheck.theory.registry import get
from tests.contract import assert_all_pass, contracts

IDS = ["gg.block-map-postln", "gg.block-maps", "gg.depth-collapse", "gg.trainability",
       "gg.qk-gradients"]
globals().update(contracts(IDS, without_symbolic=("gg.trainability", "gg.qk-gradients"), level="quick"))


@pytest.mark.parametrize("rid", IDS)
def test_registered_with_source_and_grade(rid):
    r = get(rid)
    assert r.kind == "companion" and "grade" in r.source
    if rid in ("gg.trainability", "gg.qk-gradients"):
        assert r.source.startswith("gapcheck's own claim (grade D")


# ---------------------------------------------------------------- kernel and maps

@given(c=st.floats(-1.0, 1.0))
def test_arccos_kernel_float_matches_derived(c):
    k = gg.arccos_kernel_derived()
    assert abs(gg.arccos_kernel(c) - float(k.subs(sympy.Symbol("c", real=True), c))) < 1e-12
    assert gg.arccos_kernel(c) >= c - 1e-15          # k(c) >= c: the MLP never decreases overlap


_params = dict(
    p=st.floats(0.0, 0.999), beta=st.sampled_from([0.5, 3.0]),
    alpha_a=st.floats(0.2, 3.0), alpha_m=st.floats(0.2, 3.0), sigma_v2=st.floats(0.1, 3.0),
    sigma_w2=st.floats(0.1, 3.0), sigma_b2=st.floats(0.0, 0.5))


@given(**_params)
def test_postln_map_increases_p_and_stays_below_one(p, beta, alpha_a, alpha_m, sigma_v2, sigma_w2,
                                                    sigma_b2):
    new = gg.block_map_postln(p, beta, 512, alpha_a=alpha_a, alpha_m=alpha_m, sigma_v2=sigma_v2,
                              sigma_w2=sigma_w2, sigma_b2=sigma_b2)
    assert p - 1e-12 <= new <= 1 + 1e-12


@given(alpha_a=st.floats(0.2, 3.0), alpha_m=st.floats(0.2, 3.0), sigma_v2=st.floats(0.1, 3.0),
       sigma_w2=st.floats(0.1, 3.0), sigma_b2=st.floats(0.0, 0.5))
def test_slope_formula_matches_difference_of_the_map(alpha_a, alpha_m, sigma_v2, sigma_w2, sigma_b2):
    kw = dict(alpha_a=alpha_a, alpha_m=alpha_m, sigma_v2=sigma_v2, sigma_w2=sigma_w2, sigma_b2=sigma_b2)
    h = 1e-7
    numeric = (1 - gg.block_map_postln(1 - h, 0.5, 512, **kw)) / h
    lam = gg.slope_at_one_closed_form(alpha_a**2, alpha_m**2, sigma_v2, sigma_w2, sigma_b2)
    assert abs(numeric - lam) < 1e-4
    assert lam < 1


def test_slope_symbolic_matches_closed_form_and_fails_when_perturbed():
    s = gg.slope_at_one()
    args = {gg._aA2: 2, gg._aM2: sympy.Rational(1, 2), gg._sv2: 1, gg._sw2: 2, gg._sb2: 0}
    closed = gg.slope_at_one_closed_form(2, 0.5, 1, 2, 0)
    assert abs(float(s.subs(args)) - closed) < 1e-12
    # a perturbed closed form (E phi'^2 = 1 instead of 1/2 for ReLU) is detected
    wrong = (2 / (2 + 1) * (2**2 * 1.0 + 0.5) / (2 * 2 / 2 + 0.5))
    assert abs(float(s.subs(args)) - wrong) > 1e-3


def test_critical_skip_strength_tanh():
    ac = gg.critical_skip_strength(0.25, 1.0, 4.0)
    assert abs(ac - 1.3401) < 1e-4          # 1.342 has been quoted (see findings)
    lo = gg.slope_at_one_closed_form((0.95 * ac) ** 2, 0.25, 1.0, 4.0, 0.0, "tanh")
    hi = gg.slope_at_one_closed_form((1.05 * ac) ** 2, 0.25, 1.0, 4.0, 0.0, "tanh")
    assert round(lo, 3) == 0.963 and round(hi, 3) == 1.034
    assert math.isnan(gg.critical_skip_strength(1.0, 1.0, 1.0, activation="relu"))


def test_gain_controlled_branch_only_adds_norm():
    # below freezing (Y = 0) the gain-controlled attention step leaves p unchanged
    assert abs(gg.block_map_gain_postln(0.3, 0.5, 1024, sigma_w2=0.0) - 0.3) < 1e-15
    # above freezing it lowers the cosine (adds norm, no overlap)
    assert gg.block_map_gain_postln(0.3, 4.0, 1024, sigma_w2=0.0) < 0.3


def test_preln_map_temperatures_differ_only_off_q_equal_one():
    a = gg.block_map_preln(1.0, 0.4, 3.0, 512)
    b = gg.block_map_preln(1.0, 0.4, 3.0, 512, beta_c_from="stream")
    assert a == b
    a = gg.block_map_preln(3.0, 1.2, 3.0, 512)
    b = gg.block_map_preln(3.0, 1.2, 3.0, 512, beta_c_from="stream")
    assert a[0] < b[0]          # the stream temperature overstates Y once q > 1


def test_iterate_and_classify():
    rho = gg.iterate_map(0.0, 5, 0.5, 1024)
    assert len(rho) == 6 and all(x <= y for x, y in zip(rho, rho[1:]))
    pre = gg.iterate_map(0.0, 5, 0.5, 1024, norm="pre")
    assert len(pre) == 6
    assert gg.classify_trainability(0.5, 1.0, 30, 1024)[0] == "rank-collapse"
    assert gg.classify_trainability(0.5, math.sqrt(10), 10, 1024, alpha_m=math.sqrt(10))[0] == "trainable"
    assert gg.classify_trainability(3.0, math.sqrt(10), 10, 1024,
                                    alpha_m=math.sqrt(10))[0] == "entropy-collapse"


@pytest.mark.parametrize("call,match", [
    (lambda: gg.block_map_postln(1.5, 1.0), "p must be in"),
    (lambda: gg.block_map_postln(0.5, -1.0), "beta must be >= 0"),
    (lambda: gg.iterate_map(0.1, 3, 1.0, norm="mid"), "norm must be one of"),
    (lambda: gg.block_map_preln(1.0, 0.5, 1.0, beta_c_from="x"), "beta_c_from must be one of"),
    (lambda: gg.activation_moments("gelu", 1.0), "activation must be one of"),
])
def test_bad_input_is_one_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- samplers

def test_gain_controlled_attention_is_blind_to_common_shift():
    rng = np.random.default_rng(0)
    X = ln_tokens(32, 16, 0.3, batch=2, rng=rng)
    shift = rng.standard_normal((2, 1, 16))
    _, O1 = attention(X, 3.0, rng=7, gain=True)
    A, _ = attention(X, 3.0, rng=7)
    # same weights (same seed): the value path of (A - J) ignores a shift of all tokens
    O2 = (A - 1 / 32) @ (X + shift)
    O1b = (A - 1 / 32) @ X
    assert np.allclose(O2, O1b)
    assert O1.shape == (2, 32, 16)


def test_stack_is_seeded_and_shapes():
    X = ln_tokens(16, 8, 0.2, batch=1, rng=1)
    c1, e1 = stack(X, 2, 1.0, rng=5)
    c2, e2 = stack(X, 2, 1.0, rng=5)
    assert c1 == c2 and e1 == e2 and len(c1) == 3 and len(e1) == 2


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_block_map_checks_at_thorough_size(seed):
    cfg = VerifyConfig(level="thorough", seed=seed)
    for rid in ("gg.block-map-postln", "gg.block-maps"):
        assert_all_pass(check_module(get(rid)).run(cfg))


# ---------------------------------------------------------------- predictions from the model

def test_block_maps_read_the_model():
    """The map has the model's beta, T, depth, skip alpha^2, sigma_v^2 = d sigma_V^2, its
    LayerNorm position and gain control (remove_gap = 1)."""
    r = get("gg.block-maps")
    m = r.example()
    c = r.prediction(m).cosines
    assert (c.norm, c.gain) == ("post", False)
    assert c.curve(0.2) == gg.iterate_map(0.2, 6, 3.0, 128, alpha_a=0.5, alpha_m=0.5, sigma_v2=2.0,
                                          sigma_w2=1.0)
    pre = r.prediction(m.replace(ln_position="pre", remove_gap=1)).cosines
    assert (pre.norm, pre.gain) == ("pre", True)
    assert "top 2" in r.applies(m.replace(remove_gap=2))


@pytest.mark.parametrize("rid", ["gg.block-map-postln", "gg.depth-collapse", "gg.trainability"])
def test_post_ln_block_results_refuse_other_blocks(rid):
    r = get(rid)
    m = r.example()
    assert r.applies(m) is None
    assert "LayerNorm" in r.applies(m.replace(layernorm=False))
    assert "skip" in r.applies(m.replace(skip=None))
    assert "remove_gap" in r.applies(m.replace(remove_gap=1))
    assert "pre-LN" in r.applies(m.replace(ln_position="pre"))


def test_depth_collapse_and_trainability_predictions():
    m = get("gg.depth-collapse").example()
    p = get("gg.depth-collapse").prediction(m)
    assert abs(float(p.slope) - gg.slope_at_one_closed_form(0.25, 0.25, 2.0, 1.0, 0.0)) < 1e-12
    assert p.skip_exponent == 1
    t = get("gg.trainability").prediction(m)
    assert t.label(0.0) == gg.classify_trainability(3.0, 0.5, 6, 128, alpha_m=0.5, sigma_v2=2.0)[:2]
    t = get("gg.trainability").prediction(m.replace(skip=sympy.sqrt(6)))
    assert (t.label(0.0)[0], t.replace(beta_c=3 * t.beta_c).label(0.0)[0]) == ("entropy-collapse", "trainable")


def test_qk_gradients_prediction_is_b3_in_the_models_scales():
    from gapcheck.theory.companions import noci
    m = get("gg.qk-gradients").example()
    p = get("gg.qk-gradients").prediction(m)
    d, n = 256, 128
    e = noci.uniform_jacobian_expectations(sq=1, sk=sympy.sqrt(2 * sympy.sqrt(sympy.log(n))), sv=sympy.sqrt(sympy.Rational(3, 2)),
                                           temperature=sympy.sqrt(d), width=d, dk=d, dv=d, tokens=n,
                                           xbar_sq=1)["Q"]
    assert sympy.simplify(p.uniform - e / (n * d ** 2 * sympy.sqrt(sympy.log(n)))) == 0
    y = 1 - gg.beta_c_finite(n) / 2
    assert abs(float(p.frozen) - 0.38 * 1.5 * y) < 1e-12
