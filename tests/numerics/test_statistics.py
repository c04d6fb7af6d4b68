"""The statistics registry shared by sweep and scaling: unambiguous names, the
results that predict each, and values checked against direct computations."""
from __future__ import annotations

import math

import numpy as np
import pytest

from gapcheck.numerics.forward import draw, propagate
from gapcheck.numerics.gradients import grad_norms_sq
from gapcheck.numerics.statistics import ALIASES, STATISTICS, get_statistic, measure
from gapcheck.theory.model import AttentionModel, preset
from gapcheck.theory.registry import get


def test_every_statistic_is_described_and_its_predictors_exist():
    for name, stat in STATISTICS.items():
        assert stat.name == name and len(stat.description) > 10
        for rid in stat.predicted_by:
            assert get(rid).id == rid


def test_names_are_unambiguous():
    assert "gap-ratio" not in STATISTICS
    with pytest.raises(ValueError, match="ambiguous: use gap-ratio-signal"):
        get_statistic("gap-ratio")
    assert get_statistic("srank") is STATISTICS["stable-rank"] and ALIASES == {"srank": "stable-rank"}
    with pytest.raises(ValueError, match="statistic must be one of"):
        get_statistic("rank")


def _direct(model, batch, seed):
    """The same networks, measured by numpy's SVD."""
    dr = draw(model, batch=batch, rng=np.random.default_rng(seed))
    t = propagate(model, dr, keep=("X", "A"))
    return dr, t


def test_values_match_direct_computations():
    m = preset("A", n=24, depth=2)
    dr, t = _direct(m, 3, 5)
    X, A = np.asarray(t.X[2]), np.asarray(t.A[2])
    sx = np.linalg.svd(X, compute_uv=False)
    sa = np.linalg.svd(A, compute_uv=False)
    g = grad_norms_sq(m, draws=dr)[:, 0]
    expect = {
        "stable-rank": (sx ** 4).sum(-1) / sx[:, 0] ** 4,
        "srank-excess": (sx ** 4).sum(-1) / sx[:, 0] ** 4 - 1,
        "srank-fraction": (sx ** 4).sum(-1) / sx[:, 0] ** 4 / 24,
        "gap-ratio-signal": sx[:, 0] / sx[:, 1],
        "gap-ratio-attention": sa[:, 0] / sa[:, 1],
        "top-sv": sx[:, 0],
        "top-eig": sx[:, 0] ** 2,
        "frobenius-sq": (X ** 2).sum((-2, -1)),
        "attention-deviation": np.linalg.svd(math.sqrt(24) * (A - 1 / 24), compute_uv=False)[:, 0],
        "entropy": -(A * np.log(A)).sum(-1).mean(-1),
        "entropy-deficit": math.log(24) + (A * np.log(A)).sum(-1).mean(-1),
        "outliers": np.ones(3),
    }
    layer = {"grad-norm": 1, "grad-norm-sq": 1}
    expect["grad-norm"], expect["grad-norm-sq"] = np.sqrt(g), g
    assert set(expect) == set(STATISTICS)
    for name, want in expect.items():
        got = measure(name, m, layer.get(name, 2), batch=3, rng=np.random.default_rng(5))
        assert np.allclose(got, want, rtol=1e-9), name


def test_grad_norm_is_the_square_root_of_grad_norm_sq():
    m = preset("A-perp", n=16, depth=2)
    a = measure("grad-norm", m, 1, batch=4, rng=3)
    b = measure("grad-norm-sq", m, 1, batch=4, rng=3)
    assert np.allclose(a ** 2, b) and not np.allclose(a, b)


def test_user_statistic_and_bad_input():
    m = AttentionModel(n=8, depth=1, attention="identity")
    v = measure(lambda t, layer: t.X[layer].sum(axis=(-2, -1)), m, 1, batch=5, rng=0)
    assert v.shape == (5,)
    with pytest.raises(ValueError, match="one value per sampled network"):
        measure(lambda t, layer: t.X[layer], m, 1, batch=2, rng=0)
    with pytest.raises(ValueError, match="identity attention"):
        measure("gap-ratio-attention", m, 1, batch=2, rng=0)
