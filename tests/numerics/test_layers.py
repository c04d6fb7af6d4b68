"""numerics.layers, the one library of layers: softmax (and its centred form,
its derivative, its log-partition), LayerNorm with the package's one eps
convention (and its derivatives), gap removal, key-query attention, skip;
the same numbers on array-api-strict as on numpy; and the forward pass and
companion samplers use these objects, not copies."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special
from hypothesis import given, strategies as st

from gapcheck.theory.model import LAYERNORM_EPS
from gapcheck.numerics import forward, layers, sampling
from gapcheck.numerics.backend import namespace, to_numpy
from gapcheck.numerics.companions import heads, qk_gradients, rem, residual

from tests.strategies import seeds


def _rng(seed=0):
    return np.random.default_rng(seed)


# ------------------------------------------------------------------ softmax

@given(seed=seeds, scale=st.sampled_from([1e-3, 1.0, 30.0, 1e3]))
def test_softmax_is_the_normalised_exponential(seed, scale):
    S = _rng(seed).standard_normal((3, 5, 7)) * scale
    P = layers.softmax(S)
    np.testing.assert_allclose(P.sum(-1), 1, rtol=0, atol=1e-14)
    np.testing.assert_allclose(P, scipy.special.softmax(S, axis=-1), rtol=1e-12, atol=1e-300)
    # shift invariance per row
    np.testing.assert_allclose(layers.softmax(S + 5.0 * _rng(1).standard_normal((3, 5, 1))), P,
                               rtol=1e-12, atol=1e-300)


def test_softmax_axis_and_logsumexp():
    S = _rng(2).standard_normal((4, 6)) * 40
    np.testing.assert_allclose(layers.softmax(S, axis=0), scipy.special.softmax(S, axis=0),
                               rtol=1e-12)
    P, lse = layers.softmax(S, return_logsumexp=True)
    np.testing.assert_array_equal(P, layers.softmax(S))
    np.testing.assert_allclose(lse[:, 0], scipy.special.logsumexp(S, axis=-1), rtol=1e-14)
    with pytest.raises(ValueError, match="centered=False"):
        layers.softmax(S, centered=True, return_logsumexp=True)


def test_centred_softmax_is_softmax_minus_uniform():
    S = _rng(3).standard_normal((2, 5, 5))
    np.testing.assert_allclose(layers.softmax(S, centered=True), layers.softmax(S) - 1 / 5,
                               rtol=0, atol=1e-15)


def test_softmax_jvp_matches_finite_differences_and_is_self_adjoint():
    rng = _rng(4)
    S, D, G = (rng.standard_normal((2, 4, 6)) for _ in range(3))
    P = layers.softmax(S)
    h = 1e-6
    fd = (layers.softmax(S + h * D) - layers.softmax(S - h * D)) / (2 * h)
    np.testing.assert_allclose(layers.softmax_jvp(P, D), fd, rtol=1e-6, atol=1e-9)
    assert np.isclose(np.sum(layers.softmax_jvp(P, D) * G), np.sum(D * layers.softmax_jvp(P, G)),
                      rtol=1e-12)


# ---------------------------------------------------------------- LayerNorm

def test_layernorm_default_eps_is_the_model_constant():
    """Rows of variance v come out with mean square v / (v + eps): at v = 1e-5 the
    default gives 1/2, which tells eps = LAYERNORM_EPS from 0, 1e-6 or 1e-4."""
    assert LAYERNORM_EPS == 1e-5
    Z = _rng(5).standard_normal((3, 4, 64))
    Z = (Z - Z.mean(-1, keepdims=True)) / Z.std(-1, keepdims=True) * np.sqrt(1e-5) + 7.0
    Y = layers.layernorm(Z)
    np.testing.assert_allclose(Y.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose((Y * Y).mean(-1), 0.5, rtol=1e-9)
    np.testing.assert_allclose(Y, (Z - Z.mean(-1, keepdims=True))
                               / np.sqrt(Z.var(-1, keepdims=True) + LAYERNORM_EPS), rtol=1e-12)


def test_layernorm_eps_zero_is_exact_and_refuses_constant_rows():
    Z = _rng(6).standard_normal((2, 3, 9)) * 1e-4 + 3
    Y, sig = layers.layernorm(Z, eps=0.0, return_scale=True)
    np.testing.assert_allclose(Y.mean(-1), 0, atol=1e-10)  # 1e-16 * 3 / 1e-4 cancellation
    np.testing.assert_allclose((Y * Y).mean(-1), 1, rtol=1e-12)
    np.testing.assert_allclose(sig[..., 0], Z.std(-1), rtol=1e-12)
    with pytest.raises(ValueError, match="constant token"):
        layers.layernorm(np.array([[1.0, 2.0], [3.0, 3.0]]), eps=0.0)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        layers.layernorm(Z, eps=-1e-5)


@pytest.mark.parametrize("eps", [0.0, LAYERNORM_EPS, 0.3])
def test_layernorm_derivatives(eps):
    rng = _rng(7)
    Z, D, G = (rng.standard_normal((2, 3, 5)) for _ in range(3))
    Y, sig = layers.layernorm(Z, eps, return_scale=True)
    h = 1e-6
    fd = (layers.layernorm(Z + h * D, eps) - layers.layernorm(Z - h * D, eps)) / (2 * h)
    jv = layers.layernorm_jvp(Y, sig, D)
    np.testing.assert_allclose(jv, fd, rtol=1e-6, atol=1e-8)
    assert np.isclose(np.sum(G * jv), np.sum(layers.layernorm_vjp(Y, sig, G) * D), rtol=1e-12)


# -------------------------------------------------------------- gap removal

@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_remove_gap_removes_exactly_k_singular_triplets(k):
    A = layers.softmax(_rng(8).standard_normal((2, 6, 6)) * 2)
    R = layers.remove_gap(A, k)
    if k == 0:
        assert R is A
    elif k == 1:
        np.testing.assert_allclose(R, A - 1 / 6, rtol=0, atol=1e-16)
        np.testing.assert_allclose(layers.remove_gap(A, 1, rows_sum_to_one=True), R, atol=1e-15)
        np.testing.assert_allclose(layers.remove_gap(A, 1, rows_sum_to_one=True).sum(-1), 0,
                                   atol=1e-15)
    else:
        s = np.linalg.svd(A, compute_uv=False)
        np.testing.assert_allclose(np.linalg.svd(R, compute_uv=False)[:, :6 - k], s[:, k:],
                                   rtol=1e-10)
    with pytest.raises(ValueError, match="remove_gap"):
        layers.remove_gap(A, 6)


@pytest.mark.parametrize("k", [0, 1, 2])
def test_softmax_attention_is_softmax_then_gap_removal(k):
    S = _rng(9).standard_normal((3, 5, 5))
    np.testing.assert_allclose(layers.softmax_attention(S, k),
                               layers.remove_gap(layers.softmax(S), k), rtol=1e-12, atol=1e-15)


def test_key_query_attention_default_temperature_is_sqrt_dk():
    rng = _rng(10)
    X, WQ, WK = rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 6, 3)), \
        rng.standard_normal((2, 6, 3))
    S = np.einsum("bik,bjk->bij", X @ WQ, X @ WK) / np.sqrt(3)  # d_k = 3, not d = 6
    np.testing.assert_allclose(layers.attention_logits(X, WQ, WK), S, rtol=1e-12)
    np.testing.assert_allclose(layers.key_query_attention(X, WQ, WK, remove_gap=1),
                               scipy.special.softmax(S, axis=-1) - 1 / 4, atol=1e-15)
    np.testing.assert_allclose(layers.attention_logits(X, WQ, WK, tau=2.0), S * np.sqrt(3) / 2,
                               rtol=1e-12)
    with pytest.raises(ValueError, match="tau"):
        layers.attention_logits(X, WQ, WK, tau=0)


def test_skip():
    X, B = np.arange(4.0).reshape(2, 2), np.ones((2, 2))
    np.testing.assert_array_equal(layers.skip(X, B), X + B)
    np.testing.assert_array_equal(layers.skip(X, B, 0.25), X + 0.25 * B)
    np.testing.assert_array_equal(layers.skip(X, B, 2.0, x_scale=3.0), 3 * X + 2 * B)


# ------------------------------------------------ one backend-agnostic code

def _cases(rng):
    S = rng.standard_normal((2, 5, 5)) * 3
    Z = rng.standard_normal((2, 5, 7))
    W = rng.standard_normal((2, 7, 4))
    return [
        ("softmax", lambda a: layers.softmax(a[0]), (S,)),
        ("centred softmax", lambda a: layers.softmax(a[0], centered=True), (S,)),
        ("logsumexp", lambda a: layers.softmax(a[0], return_logsumexp=True)[1], (S,)),
        ("softmax_jvp", lambda a: layers.softmax_jvp(layers.softmax(a[0]), a[1]), (S, S[::-1])),
        ("layernorm", lambda a: layers.layernorm(a[0]), (Z,)),
        ("layernorm eps 0", lambda a: layers.layernorm(a[0], eps=0.0), (Z,)),
        ("layernorm_jvp", lambda a: layers.layernorm_jvp(*layers.layernorm(a[0], return_scale=True),
                                                         a[1]), (Z, Z[::-1])),
        ("layernorm_vjp", lambda a: layers.layernorm_vjp(*layers.layernorm(a[0], return_scale=True),
                                                         a[1]), (Z, Z[::-1])),
        ("remove_gap 1", lambda a: layers.remove_gap(layers.softmax(a[0]), 1), (S,)),
        ("remove_gap 2", lambda a: layers.remove_gap(layers.softmax(a[0]), 2), (S,)),
        ("key-query attention", lambda a: layers.key_query_attention(a[0], a[1], a[1], remove_gap=1),
         (Z, W)),
        ("skip", lambda a: layers.skip(a[0], a[1], 0.5, x_scale=2.0), (Z, Z[::-1])),
    ]


@pytest.mark.parametrize("case", range(12))
def test_layers_give_numpy_numbers_on_array_api_strict(case):
    xp = namespace("array-api-strict")
    name, f, args = _cases(_rng(11))[case]
    want = f(args)
    got = f(tuple(xp.asarray(a) for a in args))
    assert "array_api_strict" in type(got).__module__, name
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-12, atol=1e-15, err_msg=name)


# ----------------------------------------------- one library, no copies left

def test_every_sampler_uses_the_one_library():
    assert sampling.softmax is layers.softmax and sampling.remove_gap is layers.remove_gap
    assert sampling.key_query_attention is layers.key_query_attention
    assert forward.layernorm is layers.layernorm
    assert rem.softmax_rows is layers.softmax and residual.softmax_rows is layers.softmax


def test_companion_layernorms_are_the_exact_eps_zero_convention():
    Z = _rng(12).standard_normal((2, 3, 8)) * 1e-3
    exact = layers.layernorm(Z, eps=0.0)
    np.testing.assert_array_equal(rem.layernorm(Z), exact)
    np.testing.assert_array_equal(heads.layer_norm(Z[0]), exact[0])
    # the mean-field stacks start on the sphere q = 1 exactly (eps would give q < 1)
    X = rem.ln_tokens(4, 16, 0.3, batch=2, rng=0)
    np.testing.assert_allclose(rem.token_overlap(X)[1], 1.0, rtol=1e-14)
    assert qk_gradients.layernorm is rem.layernorm
