"""Empirical check of ``noci.rank-one-zero`` (B1): for rank-one input X = 1 x^T the
query/key Jacobians vanish (relative to the value Jacobian, to float64 precision)
and S is unchanged by arbitrary new W_Q, W_K; a rank-two input (control) gives a
nonzero query Jacobian, so the check can fail."""
from __future__ import annotations

import math

import numpy as np

from ..companions.qk_gradients import attention_output, jacobian_sq_norms
from ...theory.registry import CheckOutcome

TOL = 1e-10


def predict():
    """|dS/dW_Q|_F / |dS/dW_V|_F and |dS/dW_K|_F / |dS/dW_V|_F at rank one."""
    return 0.0


NEGATIVE_CONTROLS = {
    "small but nonzero (1e-3)": lambda: 1e-3,
    "order one (uniform-attention size)": lambda: 0.1,
}


def run(config, predict=None):
    predict = predict or globals()["predict"]
    rng = np.random.default_rng([config.seed, 201])
    B, n, d = config.pick((4, 8, 8), (16, 16, 16), (64, 32, 32))
    x = rng.standard_normal((B, 1, d))
    X = np.ones((B, n, 1)) * x
    W = [rng.standard_normal((B, d, d)) for _ in range(3)]
    j = jacobian_sq_norms(X, *W)
    pred = predict()
    out = []
    for k in ("Q", "K"):
        r = float(np.sqrt(j[k] / j["V"]).max())
        out.append(CheckOutcome(f"rank one: |dS/dW_{k}| / |dS/dW_V|", {"B": B, "n": n, "d": d},
                                measured=r, predicted=pred, passed=abs(r - pred) <= TOL,
                                tolerance="exact (1e-10 relative to the value Jacobian)"))
    _, S1 = attention_output(X, W[0], W[1], W[2])
    _, S2 = attention_output(X, 5 * rng.standard_normal((B, d, d)), rng.standard_normal((B, d, d)), W[2])
    dev = float(np.abs(S1 - S2).max() / np.abs(S1).max())
    out.append(CheckOutcome("rank one: S invariant under new W_Q, W_K", {"B": B, "n": n, "d": d},
                            measured=dev, predicted=pred, passed=abs(dev - pred) <= TOL,
                            tolerance="exact (relative 1e-10)"))
    X2 = X + rng.standard_normal((B, n, 1)) * rng.standard_normal((B, 1, d))
    W2 = [w / math.sqrt(d) for w in W]
    r2 = float(np.sqrt(jacobian_sq_norms(X2, *W2)["Q"] / jacobian_sq_norms(X2, *W2)["V"]).min())
    out.append(CheckOutcome("control: rank-two input has a nonzero Q Jacobian", {"B": B},
                            measured=r2, predicted="> 1e-6", passed=r2 > 1e-6 and math.isfinite(r2),
                            tolerance="control"))
    return out
