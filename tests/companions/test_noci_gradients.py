"""Noci et al. B1-B4: noci.rank-one-zero, noci.qk-vanish, noci.uniform-gradients,
noci.depth-scaling (exact derivations, Jacobians against finite differences,
Monte Carlo checks and negative controls)."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.companions.qk_gradients import (attention_output, equicorrelated_tokens,
                                              jacobian_sq_norms, linear_stack_grams)
from gapcheck.theory.companions import noci
from gapcheck.theory.model import AttentionModel
from gapcheck.theory.registry import get
from tests.contract import contracts

IDS = ["noci.rank-one-zero", "noci.qk-vanish", "noci.uniform-gradients", "noci.depth-scaling"]
# on the prediction design (issue 10): truth and controls at this run's level
globals().update(contracts(IDS))


@pytest.mark.parametrize("rid", IDS)
def test_applies_only_to_key_query_attention(rid):
    r = get(rid)
    ex = r.example()
    assert r.applies(ex) is None
    assert "key-query" in r.applies(ex.replace(attention="markov"))
    assert "remove_gap" in r.applies(ex.replace(remove_gap=1))


def test_depth_scaling_prediction_in_the_models_scales():
    """growth (1 + alpha^2 d sigma_V^2)^L, floor exp(-alpha^2 L d sigma_V^2), maps with
    the same numbers; a stack without skip is outside the statement."""
    r = get("noci.depth-scaling")
    m = r.example()
    p = r.prediction(m)
    s2 = m.d * m.value("sigma_V2")
    a2 = sympy.sympify(m.skip_alpha) ** 2
    assert p.growth == (1 + a2 * s2) ** m.depth
    assert p.postln_floor == sympy.exp(-a2 * m.depth * s2)
    assert (p.postln.alpha2, p.postln.sv2, p.postln.depth, p.postln.tokens) == (a2, s2, m.depth, m.n)
    assert p.postln.post and not p.preln.post
    assert p.postln.curve(0.3) == noci.iterate_postln(0.3, m.depth, float(a2), m.n, float(s2))
    assert "skip" in r.applies(m.replace(skip=None))


def test_rank_one_prediction_is_zero_for_every_model():
    r = get("noci.rank-one-zero")
    p = r.prediction(AttentionModel.symbolic(attention="key-query"))
    assert p.values() == {"q_over_v": 0, "k_over_v": 0, "output_change": 0}


def test_qk_vanish_prediction_reads_the_exact_series_exponents():
    p = get("noci.qk-vanish").prediction(AttentionModel.symbolic(attention="key-query"))
    assert (p.exponent_q, p.exponent_k, p.exponent_v) == (2, 2, 0)
    # the series: coefficients of eps^0..eps^3 of |dS/dW_Q|^2 vanish, eps^4 does not
    coeffs = [Fraction(c) for c in get("noci.qk-vanish").symbolic_checks()[0].measured]
    assert min(i for i, c in enumerate(coeffs) if c) == 2 * p.exponent_q


def test_uniform_gradients_prediction_is_b3_in_the_models_scales():
    """s_q^2 = s_k^2 = d sigma_QK^2, s_v^2 = d sigma_V^2, d_k = d_v = d, tau = sqrt(d):
    the ratio is B3's closed form in those scales (a wrong power of d or of a
    scale changes it)."""
    r = get("noci.uniform-gradients")
    m = r.example()
    p = r.prediction(m)
    s2 = m.d * m.value("sigma_QK2") * m.d * m.value("sigma_V2")
    closed = noci.ratio_q_to_v().subs({noci.s_k: 1, noci.s_v: 1, noci.n: m.n}) * s2
    assert sympy.simplify(p.ratio_q_v - closed) == 0
    assert sympy.simplify(p.q - p.k) == 0                       # one key/query variance
    assert p.v.subs(noci.rho, 1) == m.d * m.n * m.d            # |dS/dW_V|^2 = d_v n |xbar|^2, |xbar|^2 = d


@pytest.mark.parametrize("rid", IDS)
def test_registered_with_source_and_grade(rid):
    r = get(rid)
    assert r.kind == "companion" and "Noci" in r.source and "grade" in r.source


# ---------------------------------------------------------------- Jacobians

@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 5), d=st.integers(2, 4),
       dk=st.integers(1, 3), dv=st.integers(1, 3))
def test_jacobian_norms_match_finite_differences(seed, n, d, dk, dv):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((1, n, d))
    W = [rng.standard_normal((1, d, k)) / math.sqrt(d) for k in (dk, dk, dv)]
    got = jacobian_sq_norms(X, *W)
    h = 1e-6
    for slot, name in enumerate("QKV"):
        tot = 0.0
        for idx in np.ndindex(W[slot].shape[1:]):
            wp = [w.copy() for w in W]
            wm = [w.copy() for w in W]
            wp[slot][(0,) + idx] += h
            wm[slot][(0,) + idx] -= h
            tot += (((attention_output(X, *wp)[1] - attention_output(X, *wm)[1]) / (2 * h)) ** 2).sum()
        assert abs(tot - got[name][0]) <= 1e-6 * max(1.0, tot)


def test_near_rank_one_series_coefficient_matches_numerics():
    """The exact eps^4 coefficient of |dS/dW_Q|^2 (rational power series in theory)
    against float64 Jacobians at small eps: derivation and sampler agree."""
    x = np.array([1.0, 2.0])
    R = np.array([[1.0, -1.0], [0.0, 2.0], [-2.0, 1.0]])
    WQ = np.array([[0.5, 0.0], [0.5, 0.5]])
    WK = np.array([[0.0, 0.5], [0.5, -0.5]])
    WV = np.array([[1.0, 0.0], [2.0, 1.0]])
    coeff = float(Fraction(get("noci.qk-vanish").symbolic_checks()[0].measured[4]))
    for eps in (1e-2, 1e-3):
        X = (np.ones((3, 1)) * x + eps * R)[None]
        j = jacobian_sq_norms(X, WQ[None], WK[None], WV[None], tau=1.0)["Q"][0]
        assert abs(j / eps**4 - coeff) < 50 * eps * coeff


def test_series_machinery_rejects_nonvanishing_logits():
    s = noci._Series([1, 2])
    with pytest.raises(ValueError, match="vanish"):
        s.exp()
    inv = (noci._Series([2, 1]) * noci._Series([2, 1]).inverse())
    assert inv.c[:3] == [1, 0, 0]


# ---------------------------------------------------------------- B3 algebra

def test_ij_algebra():
    C = noci.IJ(1, -1)
    assert C * C == C
    n = noci.n
    assert C.trace() == n - 1
    G = noci.IJ(2, 3)
    assert sympy.simplify(G.sum_entries() - n * 5) == 0


def test_gaussian_expectation():
    a, b = sympy.symbols("a b")
    assert noci.gaussian_expectation(a**2 * b**2 + a * b + a**4, {a: 2, b: 3}) == 6 + 12
    assert noci.gaussian_expectation(a**6, {a: 1}) == 15


def test_ratio_closed_form_and_tau_convention():
    r = noci.ratio_q_to_v()
    closed = noci.s_k**2 * noci.s_v**2 * (1 - noci.rho) ** 2 * (noci.n - 1) / (
        noci.n * (noci.n * noci.rho + 1 - noci.rho))
    assert sympy.simplify(r - closed) == 0
    assert noci.d_k not in r.free_symbols
    assert sympy.simplify(noci.ratio_q_to_v(temperature=noci.d_k) * noci.d_k - closed) == 0
    v = float(r.subs({noci.s_k: 1, noci.s_v: 1, noci.rho: sympy.Rational(1, 2), noci.n: 512}))
    assert abs(v - 9.7e-4) < 5e-6


@given(seed=st.integers(0, 2**32 - 1), rho=st.sampled_from([0.0, 0.3, 0.8]))
def test_equicorrelated_tokens_exact(seed, rho):
    X = equicorrelated_tokens(5, 12, rho, batch=2, rng=seed)
    G = X @ np.swapaxes(X, 1, 2) / 12
    assert np.allclose(G, (1 - rho) * np.eye(5) + rho)


def test_uniform_expectation_matches_equicorrelated_tokens_exactly():
    X = equicorrelated_tokens(6, 10, 0.4, rng=1)[0]
    M = X.T @ (X - X.mean(0))
    gen = noci.uniform_jacobian_expectations(sq=1, sk=1, sv=1, temperature=1, width=10, dk=1, dv=1,
                                             tokens=6, x_f2=float((X**2).sum()),
                                             m_f2=float((M**2).sum()), xbar_sq=float((X.mean(0)**2).sum()))
    eq = noci.equicorrelated_expectations(cos=0.4, tokens=6, width=10, sq=1, sk=1, sv=1,
                                          temperature=1, dk=1, dv=1)
    for k in "QKV":
        assert abs(float(gen[k]) - float(eq[k])) < 1e-9 * float(eq[k])


# ---------------------------------------------------------------- B4

def test_linear_stack_growth_symbolic():
    g = noci.linear_stack_mean_gram(3, sympy.Rational(1, 2), 1, 1, 1)
    assert g == sympy.Rational(125, 64)


@given(u=st.floats(0.0, 1.0), a2=st.floats(0.0, 2.0), n=st.integers(2, 50))
def test_postln_map_contracts_one_minus_rho(u, a2, n):
    # feasible cosines of n equicorrelated tokens: rho in [-1/(n-1), 0.99]
    r = -1 / (n - 1) + u * (0.99 + 1 / (n - 1))
    new = noci.postln_map(r, a2, n)
    m = 1 / n + (1 - 1 / n) * r
    assert abs((1 - new) - (1 - r) / (1 + a2 * m)) < 1e-12
    assert new >= r - 1e-12


def test_postln_map_refuses_infeasible_cosines():
    """Below -1/(n-1) no n equicorrelated unit vectors exist (and the map
    would push rho down, found by Hypothesis): one clear error instead."""
    with pytest.raises(ValueError, match=r"rho must be in \[-0.0909"):
        noci.postln_map(-0.09375, 1.0, 12)
    with pytest.raises(ValueError, match="tokens must be an integer >= 2"):
        noci.postln_map(0.5, 1.0, 1)


def test_depth_scaling_bounded_vs_collapse():
    for L in (10, 100, 1000):
        rho = noci.iterate_postln(0.2, L, 1.0 / L, 8)
        assert 1 - rho[-1] >= noci.postln_lower_bound(0.2, 1.0) - 1e-12
    assert 1 - noci.iterate_postln(0.2, 200, 1.0, 8)[-1] < 1e-6
    # pre-LN: (1 - rho_0)/(1 - rho_l) - 1 grows linearly in l
    rho = noci.iterate_preln(0.2, 200, 1.0, 8)
    y = [(1 - rho[0]) / (1 - r) - 1 for r in rho[1:]]
    corr = np.corrcoef(np.arange(1, 201), y)[0, 1]
    assert corr > 0.99


def test_linear_stack_sampler_conserves_centred_part():
    X0 = np.random.default_rng(0).standard_normal((4, 8))
    Gm, m = linear_stack_grams(X0, 5, 0.7, reps=3, rng=1)
    C = np.eye(4) - 0.25
    assert np.allclose(C @ Gm @ C, C @ X0 @ X0.T @ C)
    assert m.shape == (3,)


@pytest.mark.parametrize("call,match", [
    (lambda: noci.postln_map(1.5, 1.0, 4), "rho must be in"),
    (lambda: noci.postln_map(0.5, -1.0, 4), "alpha\\^2 must be >= 0"),
    (lambda: noci.iterate_postln(0.5, -1, 1.0, 4), "depth must be an integer"),
    (lambda: equicorrelated_tokens(8, 4, 0.5), "d must be an integer >= 8"),
    (lambda: jacobian_sq_norms(np.ones((1, 2, 2)), *[np.ones((1, 2, 2))] * 3, tau=0), "tau must be > 0"),
])
def test_bad_input_is_one_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
