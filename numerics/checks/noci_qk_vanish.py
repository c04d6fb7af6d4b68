"""Empirical check of ``noci.qk-vanish`` (B2): log-log slopes of the Jacobian
norms |dS/dW_Q|_F, |dS/dW_K|_F, |dS/dW_V|_F against eps for X = 1 x^T + eps R,
eps over 3 decades (1e-4 .. 1e-1), several weight draws, bootstrap CI
(numerics.stats.loglog_fit); tolerance +-0.1 (docs/derivations.md, section noci.qk-vanish)."""
from __future__ import annotations

import functools

import numpy as np

from ..companions import interval
from ..companions.qk_gradients import jacobian_sq_norms
from ..stats import loglog_fit
from ...theory.companions.noci import QK_EXPONENTS


def predict():
    """Exponents of the Jacobian norms in eps."""
    return dict(QK_EXPONENTS)


NEGATIVE_CONTROLS = {
    "exponent 2 -> 1.75": lambda: {"Q": 1.75, "K": 1.75, "V": 0},
    "exponent 2 -> 2.25": lambda: {"Q": 2.25, "K": 2.25, "V": 0},
    "linear vanishing (exponent 1)": lambda: {"Q": 1, "K": 1, "V": 0},
    "V exponent 0 -> 0.25": lambda: {"Q": 2, "K": 2, "V": 0.25},
}


@functools.lru_cache(maxsize=4)
def measure(config):
    """Jacobian norms and slope fits (cached per config: negative controls reuse them)."""
    rng = np.random.default_rng([config.seed, 202])
    B, n, d = config.pick((4, 8, 8), (8, 12, 16), (32, 16, 32))
    eps = np.logspace(-4, -1, 7)
    x = rng.standard_normal((B, 1, d))
    R = rng.standard_normal((B, n, d))
    W = [rng.standard_normal((B, d, d)) / np.sqrt(d) for _ in range(3)]
    norms = {k: [] for k in "QKV"}
    for e in eps:
        j = jacobian_sq_norms(np.ones((B, n, 1)) * x + e * R, *W)
        for k in "QKV":
            norms[k].append(np.sqrt(j[k]))
    return B, n, d, {k: loglog_fit(eps, norms[k], rng=rng, n_boot=500) for k in "QKV"}


def run(config, predict=None):
    predict = predict or globals()["predict"]
    B, n, d, fits = measure(config)
    pred = predict()
    out = []
    for k in "QKV":
        fit = fits[k]
        out.append(interval(f"exponent of |dS/dW_{k}|_F in eps", {"B": B, "n": n, "d": d,
                                                                   "eps": "1e-4..1e-1",
                                                                   "CI": (round(fit.ci_low, 4),
                                                                          round(fit.ci_high, 4))},
                            fit.slope, pred[k] - 0.1, pred[k] + 0.1, tolerance="+-0.1"))
    return out
