"""Empirical check of ``audit.head-recovery``:

* kernel dimension of the head-sum map ``I_n (x) W_O^T`` (SVD, ``1e-9``
  relative threshold) for Gaussian ``W_O`` of full and of reduced rank;
* the gauge symmetries leave the multi-head output unchanged (relative
  ``1e-12``; ``M, N`` well conditioned);
* the null space of the exact parameter Jacobian of multi-head attention
  (several inputs stacked) has the predicted dimension; the spectral gap
  around it is reported (~1e-3 against ~1e-16).

``predict(n, H, d_k, d, rank_wo) -> (kernel, gauge)``.
"""
from __future__ import annotations

import numpy as np

from ..companions.heads import (gauge_transform, head_recovery_matrix, init_heads,
                                       kernel_dimension, multihead_attention, numerical_rank,
                                       parameter_jacobian)
from ...theory.companions.audit import gauge_dimension, head_kernel_dimension
from ...theory.registry import CheckOutcome

__all__ = ["run", "NEGATIVE_CONTROLS"]


def _predict(n, H, d_k, d, rank_wo):
    return int(head_kernel_dimension(n, H, d_k, rank_wo)), int(gauge_dimension(H, d_k))


NEGATIVE_CONTROLS = {
    "kernel n(H-1)d_k always (literal abstract)": lambda n, H, d_k, d, rk: (
        n * (H - 1) * d_k, _predict(n, H, d_k, d, rk)[1]),
    "gauge only W_V/W_O (H d_k^2)": lambda n, H, d_k, d, rk: (_predict(n, H, d_k, d, rk)[0], H * d_k**2),
    "kernel ignores rank deficiency (n(H d_k - min(H d_k, d)))": lambda n, H, d_k, d, rk: (
        n * (H * d_k - min(H * d_k, d)), _predict(n, H, d_k, d, rk)[1]),
}


def run(config, predict=None):
    predict = predict or _predict
    rng = np.random.default_rng([config.seed, 304])
    out = []
    cases = [(6, 2, 4, 4, None), (5, 3, 2, 6, None), (4, 3, 2, 8, None), (4, 3, 2, 6, 4), (3, 4, 2, 8, 5)]
    for n, H, dk, d, rank in cases:
        Wo = rng.standard_normal((H * dk, d))
        if rank is not None:
            Wo = rng.standard_normal((H * dk, rank)) @ rng.standard_normal((rank, d))
        rk = numerical_rank(Wo)
        got = kernel_dimension(head_recovery_matrix(n, Wo))
        want = predict(n, H, dk, d, rk)[0]
        out.append(CheckOutcome("kernel dimension of the head sum", {"n": n, "H": H, "d_k": dk, "d": d,
                                                                     "rank W_O": rk},
                                measured=got, predicted=want, passed=got == want,
                                tolerance="exact (integer; SVD threshold 1e-9)"))
    for n, d, H, dk, nx in config.pick(((6, 4, 2, 2, 4),), ((6, 4, 2, 2, 4), (8, 6, 2, 3, 4)),
                                       ((6, 4, 2, 2, 4), (8, 6, 2, 3, 4), (5, 6, 3, 2, 5))):
        p = init_heads(d, H, dk, rng=rng)
        X = rng.standard_normal((n, d))
        Q = np.linalg.qr(rng.standard_normal((2, H, dk, dk)))[0]
        M = Q[0] * rng.uniform(0.5, 2, (H, 1, dk))
        N = Q[1] * rng.uniform(0.5, 2, (H, 1, dk))
        Y, Yg = multihead_attention(X, p), multihead_attention(X, gauge_transform(p, M, N))
        rel = float(np.linalg.norm(Yg - Y) / np.linalg.norm(Y))
        out.append(CheckOutcome("gauge symmetries leave the output unchanged",
                                {"n": n, "d": d, "H": H, "d_k": dk}, measured=rel, predicted=0.0,
                                passed=rel <= 1e-12, tolerance="1e-12 relative"))
        Jm = parameter_jacobian([rng.standard_normal((n, d)) for _ in range(nx)], p)
        s = np.linalg.svd(Jm, compute_uv=False)
        null = Jm.shape[1] - numerical_rank(Jm)
        want = predict(n, H, dk, d, min(H * dk, d))[1]
        k = Jm.shape[1] - null
        out.append(CheckOutcome("null space of the parameter Jacobian = gauge directions",
                                {"n": n, "d": d, "H": H, "d_k": dk, "inputs": nx},
                                measured=null, predicted=want, passed=null == want,
                                tolerance="exact (integer; SVD threshold 1e-9)",
                                detail=f"singular values around the cut: {s[k - 1] / s[0]:.1e} | "
                                       f"{(s[k] / s[0]) if k < s.size else 0:.1e}"))
    return out
