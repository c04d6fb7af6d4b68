"""Backend-agnostic code: the array-api-strict namespace (a strict,
non-numpy stand-in) gives the numpy numbers on the same seed; CuPy gives the
same statistics on the GPU (skipped where there is none)."""
from __future__ import annotations

import numpy as np
import pytest

from gapcheck.theory.model import preset
from gapcheck.numerics.backend import namespace, to_numpy
from gapcheck.numerics.forward import sample
from gapcheck.numerics.gradients import grad_norms_sq
from gapcheck.numerics.measures import covariance_stable_rank, gap_ratio
from gapcheck.numerics.stats import mean_se

NAMES = ["A", "A-perp + skip + LN", "A(X) + upscaled skip", "A(X)-perp + LN", "identity"]


@pytest.mark.parametrize("name", NAMES)
def test_strict_namespace_reproduces_numpy(name):
    m = preset(name, n=6, depth=3).replace(sigma_qk2=0.8)
    a = sample(m, batch=2, rng=3)
    b = sample(m, batch=2, rng=3, backend="array-api-strict")
    assert b.backend == "array-api-strict"
    for x, y in zip(a.X, b.X):
        np.testing.assert_allclose(to_numpy(y), x, rtol=1e-10, atol=1e-300)
    for X, Y in zip(a.X[1:], b.X[1:]):
        np.testing.assert_allclose(to_numpy(covariance_stable_rank(Y)), covariance_stable_rank(X),
                                   rtol=1e-10)
        np.testing.assert_allclose(to_numpy(gap_ratio(Y)), gap_ratio(X), rtol=1e-10)
    ga = grad_norms_sq(m, batch=2, rng=1, method="exact")
    gb = grad_norms_sq(m, batch=2, rng=1, method="exact", backend="array-api-strict")
    np.testing.assert_allclose(gb, ga, rtol=1e-10)
    ha = grad_norms_sq(m, batch=2, rng=1, method="hutchinson", probes=4)
    hb = grad_norms_sq(m, batch=2, rng=1, method="hutchinson", probes=4,
                       backend="array-api-strict")
    np.testing.assert_allclose(hb, ha, rtol=1e-10)


def test_strict_lanczos_path():
    X = sample(preset("A-perp", n=40, depth=1), batch=2, rng=0).X[1]
    xp = namespace("array-api-strict")
    got = to_numpy(covariance_stable_rank(xp.asarray(X), "lanczos"))
    np.testing.assert_allclose(got, covariance_stable_rank(X, "exact"), rtol=1e-10)


def test_selected_backend_samples(backend):
    """Runs on the backend chosen with --backend (numpy by default)."""
    m = preset("A(X) + LN", n=8, depth=2)
    tr = sample(m, batch=2, rng=0, backend=backend)
    sr = to_numpy(covariance_stable_rank(tr.X[2]))
    assert sr.shape == (2,) and np.all((sr >= 1 - 1e-9) & (sr <= 8 + 1e-9))


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["A", "A-perp", "A(X) + LN"])
def test_cupy_same_statistics_as_numpy(name):
    """Different digits (device generator), same law: mean stable rank at layer 1
    agrees within 4.5 combined standard errors."""
    m = preset(name, n=64, depth=2)
    a = covariance_stable_rank(sample(m, batch=200, rng=0).X[1])
    b = to_numpy(covariance_stable_rank(sample(m, batch=200, rng=1, backend="cupy").X[1]))
    (ma, sa), (mb, sb) = mean_se(a), mean_se(b)
    assert abs(ma - mb) <= 4.5 * np.hypot(sa, sb)
    ga = grad_norms_sq(m, batch=4, rng=0, method="hutchinson", probes=8)
    gb = grad_norms_sq(m, batch=4, rng=0, method="hutchinson", probes=8, backend="cupy")
    assert np.isfinite(ga).all() and np.isfinite(gb).all()
