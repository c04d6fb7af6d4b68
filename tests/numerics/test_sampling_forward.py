"""Samplers and the forward pass: stochastic rows, gap removal, isometric
inputs, value variances, stable softmax, reproducibility, bad input."""
from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, strategies as st

from gapcheck.theory.model import AttentionModel, preset
from gapcheck.numerics.forward import draw, layernorm, propagate, sample
from gapcheck.numerics.rng import as_generator, spawn
from gapcheck.numerics.sampling import (isometric_input, key_query_attention, random_markov, remove_gap,
                               softmax, value_weights)
from gapcheck.numerics.stats import mean_se, within

from tests.strategies import ensembles, gammas, seeds
from .reference import forward_one


@given(n=st.integers(2, 40), ens=ensembles, seed=seeds)
def test_random_markov_rows_sum_to_one_and_entries_are_nonnegative(n, ens, seed):
    A = random_markov(n, batch=3, ensemble=ens, rng=seed)
    assert A.shape == (3, n, n)
    assert np.all(A >= 0)
    np.testing.assert_allclose(A.sum(-1), 1, rtol=0, atol=1e-13)


@pytest.mark.parametrize("name", ["A-perp", "A(X)-perp", "A-perp + skip + LN"])
def test_gap_removed_attention_rows_sum_to_zero(name):
    m = preset(name, n=12, depth=3).replace(sigma_qk2=1.0) if "X" in name else \
        preset(name, n=12, depth=3)
    tr = sample(m, batch=3, rng=2, keep=("X", "A"))
    for A in tr.A[1:]:
        scale = np.abs(A).max()
        assert scale > 1e-3
        np.testing.assert_allclose(A.sum(-1), 0, atol=1e-14 * max(1, scale))


def test_centered_softmax_keeps_precision_for_tiny_logits():
    rng = np.random.default_rng(0)
    S = rng.standard_normal((4, 7, 7)) * 1e-18
    got = softmax(S, centered=True)
    first_order = (S - S.mean(-1, keepdims=True)) / 7
    np.testing.assert_allclose(got, first_order, rtol=1e-9, atol=0)
    # the naive difference has no correct digits at this scale
    naive = softmax(S) - 1 / 7
    assert np.max(np.abs(naive - first_order)) > 0.5 * np.max(np.abs(first_order))


@given(n=st.integers(1, 12), gamma=gammas, seed=seeds)
def test_isometric_input_has_orthonormal_rows(n, gamma, seed):
    d = round(n / gamma)
    X0 = isometric_input(n, d, batch=2, rng=seed)
    np.testing.assert_allclose(X0 @ X0.transpose(0, 2, 1), np.broadcast_to(np.eye(n), (2, n, n)),
                               atol=1e-13)


def test_isometric_input_is_haar():
    # E[X0_ij^2] = 1/d and E[X0_11^4] = 3/(d(d+2)) for Haar rows
    d = 6
    x = isometric_input(3, d, batch=20000, rng=3)[:, 0, 0]
    m2, se2 = mean_se(x ** 2)
    m4, se4 = mean_se(x ** 4)
    assert within(m2, 1 / d, se2, z=4.5) and within(m4, 3 / (d * (d + 2)), se4, z=4.5)
    assert not within(m4, 1.15 * 3 / (d * (d + 2)), se4, z=4.5)  # negative control
    # sign fix: without it the first column of Q would be biased; the mean is 0
    m1, se1 = mean_se(x)
    assert within(m1, 0.0, se1, z=4.5)


def test_value_weights_variance():
    W = value_weights(30, batch=20, variance=2.5, rng=4).ravel()
    v, se = mean_se(W ** 2)
    assert within(v, 2.5, se, z=4.5) and not within(v, 2.5 * 1.05, se, z=4.5)
    with pytest.raises(ValueError, match="variance"):
        value_weights(3, variance=0, rng=0)


def test_softmax_is_stable_for_large_sigma_qk():
    X = isometric_input(8, 8, batch=2, rng=0)
    W = value_weights(8, batch=2, variance=1e8, rng=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A = key_query_attention(X, W, W)
        m = AttentionModel(n=8, depth=4, attention="key-query", sigma_qk2=1e8, sigma_v2=1e4)
        tr = sample(m, batch=2, rng=0, keep=("X", "A"))
    assert np.isfinite(A).all() and np.allclose(A.sum(-1), 1)
    assert all(np.isfinite(a).all() and np.allclose(a.sum(-1), 1) for a in tr.A[1:])


def test_remove_top_k():
    A = random_markov(6, batch=2, rng=0)
    s = np.linalg.svd(A, compute_uv=False)
    s2 = np.linalg.svd(remove_gap(A, 2), compute_uv=False)
    np.testing.assert_allclose(s2[:, :4], s[:, 2:], atol=1e-13)
    np.testing.assert_allclose(s2[:, 4:], 0, atol=1e-13)


@pytest.mark.parametrize("name", ["A", "A-perp + upscaled skip + LN", "A(X) + skip", "identity",
                                  "A(X)-perp + LN"])
def test_forward_matches_a_plain_reference(name):
    m = preset(name, n=5, depth=3, gamma=Fraction(1, 2)).replace(sigma_qk2=0.7)
    dr = draw(m, batch=2, rng=9)
    tr = propagate(m, dr)
    for b in range(2):
        np.testing.assert_allclose(tr.X[-1][b], forward_one(m, dr, b), rtol=1e-11, atol=1e-300)


def test_remove_top_k_model_matches_reference():
    m = AttentionModel(n=6, depth=2, attention="key-query", sigma_qk2=1.0, remove_gap=2)
    dr = draw(m, batch=2, rng=1)
    tr = propagate(m, dr)
    for b in range(2):
        np.testing.assert_allclose(tr.X[-1][b], forward_one(m, dr, b), rtol=1e-10)


def test_layernorm_rows():
    Z = np.random.default_rng(0).standard_normal((2, 3, 50)) * 7 + 3
    Y = layernorm(Z)
    np.testing.assert_allclose(Y.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose((Y ** 2).mean(-1), 1, atol=1e-5)


def test_same_seed_same_result_and_shared_draws():
    m = preset("A(X) + skip", n=6, depth=3)
    a, b = sample(m, batch=2, rng=5), sample(m, batch=2, rng=5)
    c = sample(m, batch=2, rng=6)
    assert all(np.array_equal(x, y) for x, y in zip(a.X, b.X))
    assert not np.allclose(a.X[1], c.X[1])
    # variants see the same draws (common random numbers): same W_1 for A and A + LN
    t1 = sample(preset("A", n=6, depth=2), batch=2, rng=5, keep=("W", "A"))
    t2 = sample(preset("A + LN", n=6, depth=2), batch=2, rng=5, keep=("W", "A"))
    assert np.array_equal(t1.W[2], t2.W[2]) and np.array_equal(t1.A[1], t2.A[1])


@pytest.mark.parametrize("name", ["A + skip + LN", "A(X) + skip", "A(X) + upscaled skip + LN",
                                  "A(X)"])
def test_paper_code_block_matches_a_plain_reference(name):
    """block="paper-code" (the authors' mlp=False block) against the plain reference,
    which codes the doubling on its own; the standard skip doubles layer 1's output
    exactly, and key-query attention then sees 4x the logits, so later layers are
    not a multiple of the stated model's."""
    m = preset(name, n=5, depth=3, gamma=Fraction(1, 2)).replace(sigma_qk2=0.7, block="paper-code")
    dr = draw(m, batch=2, rng=9, dtype="float64")
    tr, stated = propagate(m, dr), propagate(m.replace(block="stated"), dr)
    for b in range(2):
        np.testing.assert_allclose(tr.X[-1][b], forward_one(m, dr, b), rtol=1e-11, atol=1e-300)
    if m.skip == "standard":
        np.testing.assert_allclose(tr.X[1], 2 * stated.X[1], rtol=1e-14)
        if m.attention == "key-query":
            ratio = tr.X[2] / stated.X[2]
            assert np.ptp(ratio) > 1e-3  # not a constant factor: the logits changed
    else:
        np.testing.assert_array_equal(tr.X[-1], stated.X[-1])


def test_paper_code_block_samples_float32_and_truncates_the_width():
    m = preset("A + skip", n=5, depth=1, gamma=Fraction(2, 5), block="paper-code")
    assert (m.d, m.replace(block="stated").d) == (12, 13)  # int(12.5) vs 12.5 rounded up
    assert sample(m, rng=0).X[1].dtype == np.float32
    assert sample(m, rng=0, dtype="float64").X[1].dtype == np.float64
    with pytest.raises(ValueError, match="block must be one of"):
        m.replace(block="authors")


def test_float32_on_request():
    tr = sample(preset("A", n=6, depth=2), batch=2, rng=0, dtype="float32")
    assert tr.X[2].dtype == np.float32


def test_overflow_and_underflow_are_reported_not_nan():
    big = preset("A", n=4, depth=40).replace(sigma_v2=1e8)
    with pytest.raises(OverflowError, match="overflowed float32 at layer"):
        sample(big, batch=1, rng=0, dtype="float32")
    kq = preset("A(X)-perp", n=8, depth=9)
    with pytest.raises(FloatingPointError, match="underflowed"):
        sample(kq, batch=1, rng=0)
    tr = propagate(kq, draw(kq, batch=1, rng=0), on_underflow="stop")
    assert 3 <= tr.depth < 9 and "underflowed" in tr.stopped


def test_bad_input():
    m = preset("A", n=4, depth=1)
    with pytest.raises(ValueError, match="backend"):
        sample(m, backend="torch")
    with pytest.raises(ValueError, match="keep"):
        sample(m, keep=("X", "Q"))
    with pytest.raises(ValueError, match="batch"):
        sample(m, batch=0)
    with pytest.raises(ValueError, match="rng"):
        sample(m, rng="seed")
    with pytest.raises(ValueError, match="rng"):
        as_generator(-1)
    with pytest.raises(ValueError, match="dtype"):
        sample(m, dtype="float16")
    with pytest.raises(ValueError, match="model"):
        sample("A")
    with pytest.raises(ValueError, match="n must"):
        random_markov(1, rng=0)


def test_cupy_missing_is_an_import_error_with_hint():
    try:
        import cupy  # noqa: F401
        pytest.skip("CuPy is installed here: the missing-CuPy error cannot occur")
    except ImportError:
        pass
    with pytest.raises(ImportError, match="pip install"):
        sample(preset("A", n=4, depth=1), backend="cupy")


def test_spawned_streams_are_independent_and_reproducible():
    a = [g.standard_normal(3) for g in spawn(7, 3)]
    b = [g.standard_normal(3) for g in spawn(7, 3)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.allclose(a[0], a[1])


@given(n=st.integers(2, 8), gamma=gammas, depth=st.integers(1, 4),
       sv=st.floats(0.25, 4.0), qk=st.floats(0.01, 4.0), seed=seeds,
       name=st.sampled_from(["A", "A(X)", "A-perp + LN", "A(X) + upscaled skip", "identity"]))
def test_forward_shapes_finite_and_stable_rank_range(n, gamma, depth, sv, qk, seed, name):
    from gapcheck.numerics.measures import covariance_stable_rank
    m = preset(name, n=n, depth=depth, gamma=gamma).replace(sigma_v2=sv, sigma_qk2=qk)
    tr = propagate(m, draw(m, batch=2, rng=seed), on_underflow="stop")
    for X in tr.X[1:]:
        assert X.shape == (2, n, m.d) and np.isfinite(X).all()
        sr = covariance_stable_rank(X)
        assert np.all(sr >= 1 - 1e-9) and np.all(sr <= n + 1e-9)
