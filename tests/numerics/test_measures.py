"""Measures: stable ranks against a plain full-SVD reference on the same
seed, Lanczos accuracy, scale invariance, top singular values, ESD/KS
distance against theory laws, outlier counts."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sst

from gapcheck.theory.model import PRESETS, preset
from gapcheck.numerics.forward import draw, propagate, sample
from gapcheck.numerics.measures import (covariance_stable_rank, count_outliers, esd, gap_ratio, gram,
                               ks_distance, spectral_norm, stable_rank, top_singular_values)
from gapcheck.numerics.sampling import random_markov, remove_gap

from .reference import stable_rank_full_svd


@pytest.mark.parametrize("n", [20, 40])
def test_stable_ranks_match_full_svd_reference_all_presets(n):
    for name in PRESETS:
        m = preset(name, n=n, depth=10)
        tr = propagate(m, draw(m, batch=2, rng=n), on_underflow="stop")
        for X in tr.X[1:]:
            np.testing.assert_allclose(covariance_stable_rank(X), stable_rank_full_svd(X),
                                       rtol=1e-10, err_msg=name)


@pytest.mark.parametrize("name", ["A-perp + upscaled skip", "A-perp", "A(X) + LN", "A"])
def test_lanczos_path_matches_reference_at_n150(name):
    # n = 150 > AUTO_EXACT_MAX: Lanczos with a certified bound (or exact fallback)
    m = preset(name, n=150, depth=3)
    tr = sample(m, batch=2, rng=1)
    for X in tr.X[1:]:
        np.testing.assert_allclose(covariance_stable_rank(X), stable_rank_full_svd(X), rtol=1e-9)
        np.testing.assert_allclose(covariance_stable_rank(X, "lanczos"), stable_rank_full_svd(X),
                                   rtol=1e-9)


def test_stable_rank_is_scale_invariant_and_overflow_free():
    X = sample(preset("A", n=10, depth=1), batch=2, rng=0).X[1]
    base = covariance_stable_rank(X)
    for s in (1e-150, 1e150):
        np.testing.assert_allclose(covariance_stable_rank(X * s), base, rtol=1e-12)
    with pytest.raises(ValueError, match="zero matrix"):
        stable_rank(np.zeros((1, 3, 3)))


def test_depth10_signal_does_not_overflow_in_stable_rank():
    # the authors' float32 code returned nan at depth 10 for n >= 100
    tr = sample(preset("A", n=100, depth=10), batch=1, rng=0, dtype="float32")
    sr = covariance_stable_rank(tr.X[10])
    assert np.isfinite(sr).all() and (sr >= 1 - 1e-9).all()


def test_top_singular_values_and_gap_ratio():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((3, 40, 60))
    s = np.linalg.svd(M, compute_uv=False)
    np.testing.assert_allclose(top_singular_values(M, 3), s[:, :3], rtol=1e-12)
    np.testing.assert_allclose(top_singular_values(M, 3, method="lanczos"), s[:, :3], rtol=1e-10)
    np.testing.assert_allclose(gap_ratio(M), s[:, 0] / s[:, 1], rtol=1e-12)
    np.testing.assert_allclose(spectral_norm(M, "power", steps=2000), s[:, 0], rtol=1e-6)
    with pytest.raises(ValueError, match="method"):
        spectral_norm(M, "svd")
    with pytest.raises(ValueError, match="k must"):
        top_singular_values(M, 41)


def test_gap_of_random_markov_theorem2_scale():
    # s1(A) ~ 1 and s2(sqrt(n) A) ~ 2 sigma_A: the gap ratio grows like sqrt(n)/2
    A = random_markov(400, batch=2, ensemble="exponential", rng=0)
    s = top_singular_values(A, 2)
    assert np.all(np.abs(s[:, 0] - 1) < 0.05)
    assert np.all(np.abs(np.sqrt(400) * s[:, 1] - 2) < 0.25)


def test_esd_and_ks_distance_to_quarter_circle():
    from gapcheck.theory.laws import QuarterCircle
    n = 300
    A = random_markov(n, batch=2, ensemble="exponential", rng=1)
    # A_perp 1 = 0: one singular value is a structural zero (~1e-17), left out
    # (theory.laws' cdf_numpy returned 2.0 at x <= 1e-9 when this was written)
    sv = esd(np.sqrt(n) * remove_gap(A, 1), hermitian=False)[:, 1:]
    ks = ks_distance(sv, QuarterCircle(1))
    assert ks == pytest.approx(sst.kstest(sv.ravel(), QuarterCircle(1).cdf_numpy).statistic,
                               abs=1e-12)
    assert ks < 0.05
    # negative control: the quarter circle of the wrong variance is far
    assert ks_distance(sv, QuarterCircle(1.5)) > 0.1
    # no outlier beyond the edge 2 sigma after gap removal (Lemma 3), one before
    edge = 2 * 1.15
    assert count_outliers(esd(np.sqrt(n) * remove_gap(A, 1), hermitian=False), edge).max() == 0
    assert count_outliers(esd(np.sqrt(n) * A, hermitian=False), edge).min() == 1


def test_esd_of_wishart_is_marchenko_pastur():
    from gapcheck.theory.laws import MarchenkoPastur
    rng = np.random.default_rng(2)
    G = rng.standard_normal((2, 200, 400))
    ev = esd(gram(G) / 400)
    assert ks_distance(ev, MarchenkoPastur(0.5)) < 0.04
    assert ks_distance(ev, MarchenkoPastur(1)) > 0.1


def test_measure_bad_input():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        stable_rank(np.ones(3))
    with pytest.raises(ValueError, match="cdf_numpy"):
        ks_distance(np.ones(3), object())
    with pytest.raises(ValueError, match="non-finite"):
        ks_distance(np.array([np.nan]), type("L", (), {"cdf_numpy": staticmethod(np.tanh)})())
    with pytest.raises(ValueError, match="drop_top"):
        esd(np.eye(3)[None], drop_top=3)


def _mixed_batch(n=60, seed=0):
    """Collapsed covariances (finished by Lanczos in a few steps), Gaussian ones and
    a spread-out one (participation ratio above n/2: exact directly) in one batch."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((6, n, n))
    X[:3] += 20 * rng.standard_normal((3, n, 1)) @ rng.standard_normal((3, 1, n))
    X[5] = np.linalg.qr(rng.standard_normal((n, n)))[0] + 0.01 * rng.standard_normal((n, n))
    return X


@pytest.mark.parametrize("method", ["auto", "lanczos"])
def test_batch_that_finishes_unevenly_matches_reference(method):
    X = _mixed_batch()
    np.testing.assert_allclose(covariance_stable_rank(X, method), stable_rank_full_svd(X),
                               rtol=1e-11)
    # order and values do not depend on the batch around a matrix
    one = np.array([covariance_stable_rank(X[i:i + 1], method)[0] for i in range(len(X))])
    np.testing.assert_allclose(covariance_stable_rank(X, method), one, rtol=1e-12)


def test_rescaling_only_the_matrices_that_need_it():
    X = _mixed_batch(n=40)
    base = covariance_stable_rank(X)
    scales = np.array([1e200, 1e-200, 1.0, 1e-120, 1e120, 3.0])[:, None, None]
    np.testing.assert_allclose(covariance_stable_rank(X * scales), base, rtol=1e-13)
    # a subnormal peak (an underflowing signal): scaled up by more than 2^1023, exactly
    ints = np.round(X[:2] * 2**20)  # entries below 2^23: exact as multiples of 2^-1060
    tiny = np.ldexp(ints, -1060)
    assert np.abs(tiny).max() < np.finfo(float).tiny and np.all(np.ldexp(tiny, 1060) == ints)
    np.testing.assert_allclose(covariance_stable_rank(tiny), covariance_stable_rank(ints),
                               rtol=1e-13)
    with pytest.raises(ValueError, match="zero matrix"):
        covariance_stable_rank(np.concatenate([X[:1], np.zeros_like(X[:1])]))
    with pytest.raises(ValueError, match="non-finite"):
        covariance_stable_rank(np.where(np.eye(40, dtype=bool)[None], np.inf, X[:2]))


def test_lanczos_budget_exhausted_falls_back_to_exact():
    # 4 steps cannot certify a Gaussian matrix's top singular value: the exact value is used
    M = np.random.default_rng(3).standard_normal((3, 80, 80))
    s = np.linalg.svd(M, compute_uv=False)
    np.testing.assert_allclose(top_singular_values(M, 1, method="lanczos", steps=4)[:, 0], s[:, 0],
                               rtol=1e-12)
    np.testing.assert_allclose(covariance_stable_rank(M, "lanczos", steps=4),
                               stable_rank_full_svd(M), rtol=1e-12)


def test_second_singular_value_of_collapsed_matrices_is_certified_relative_to_itself():
    X = _mixed_batch()[:3]  # s_1 / s_2 about 20: a bound relative to s_1 would allow 4e-11
    s = np.linalg.svd(X, compute_uv=False)[:, :2]
    np.testing.assert_allclose(top_singular_values(X, 2, method="lanczos"), s, rtol=1e-12)
