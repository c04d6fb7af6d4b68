"""Empirical check of ``dong.skip-conserves``: 50 layers of ``X + J X W``
(uniform attention with a skip). The residual ``(I - J) X_l`` is computed
from ``X_l`` by the plain forward pass, so the only error is float64
cancellation against the growing mean token: tolerance
``1e3 * eps_machine * max_l |X_l|_F / |res(X_0)|_F`` (relative). The relative
residual ``|res(X_L)| / |X_L|`` is reported (it shrinks only because the mean
token grows).

``predict(l) -> float``: the predicted ``|res(X_l)|_F / |res(X_0)|_F``.
"""
from __future__ import annotations

import numpy as np

from ..companions.residual import init_san, residual_mean, san_forward
from ...theory.registry import CheckOutcome

__all__ = ["run", "NEGATIVE_CONTROLS"]


def _predict(l):
    return 1.0


NEGATIVE_CONTROLS = {
    "conserved -> contracts by 0.99 per layer": lambda l: 0.99**l,
    "conserved -> exact collapse after one layer": lambda l: 1.0 if l == 0 else 0.0,
    "conserved -> grows like the mean, 2^(l/2)": lambda l: 2.0 ** (l / 2),
}


def run(config, predict=None):
    predict = predict or _predict
    rng = np.random.default_rng([config.seed, 204])
    depth = config.pick(20, 50, 100)
    out = []
    for n, d, heads in ((8, 8, 1), (5, 6, 3)):
        X0 = rng.standard_normal((n, d))
        Xs = san_forward(X0, init_san(d, depth, heads=heads, rng=rng), skip=True, uniform=True)
        r0 = np.linalg.norm(residual_mean(X0))
        meas = np.array([np.linalg.norm(residual_mean(X)) / r0 for X in Xs])
        pred = np.array([predict(l) for l in range(depth + 1)], dtype=float)
        scale = max(np.linalg.norm(X) for X in Xs) / r0
        tol = 1e3 * np.finfo(float).eps * scale
        dev = float(np.max(np.abs(meas - pred)))
        elementwise = float(max(np.abs(residual_mean(X) - residual_mean(X0)).max() for X in Xs) / r0)
        out.append(CheckOutcome("|res(X_l)| / |res(X_0)| along the skip network",
                                {"n": n, "d": d, "heads": heads, "depth": depth},
                                measured=float(meas[-1]), predicted=float(pred[-1]),
                                passed=dev <= tol and elementwise <= tol,
                                tolerance=f"float64 floor {tol:.1e} (max deviation {dev:.1e}, "
                                          f"elementwise {elementwise:.1e})",
                                detail=f"relative residual |res|/|X| at depth {depth}: "
                                       f"{np.linalg.norm(residual_mean(Xs[-1])) / np.linalg.norm(Xs[-1]):.1e}"))
    return out
