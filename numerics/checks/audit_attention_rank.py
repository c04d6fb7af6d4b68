"""Empirical check of ``audit.attention-rank`` (numerical ranks, ``1e-9``
relative threshold; generic Gaussian inputs):

* one attention path: ``rank(A X W) <= rank X`` (softmax ``A``, any ``W``);
* the skip sum ``X + A X W`` reaches rank ``min(2 r, n, d)``;
* ``relu(a b^T)`` has rank 2 when ``a, b`` have mixed signs (and equals
  ``a_+ b_+^T + a_- b_-^T`` to ``1e-15``); ``tanh(s a b^T)`` has full rank
  ``min(n, d)`` (``6 x 5``; entries up to 4 and well-separated magnitudes, so
  the smallest singular value stays above ``1e-6`` relative).

``predict(n, d, r) -> dict`` of predicted ranks: ``"path"`` (upper bound),
``"skip"``, ``"relu"``, ``"tanh"``.
"""
from __future__ import annotations

import numpy as np

from ..companions.heads import low_rank, numerical_rank
from ..companions.residual import softmax_rows
from ...theory.registry import CheckOutcome

__all__ = ["run", "NEGATIVE_CONTROLS"]


def _predict(n, d, r):
    return {"path": r, "skip": min(2 * r, n, d), "relu": 2, "tanh": min(n, d)}


def _with(**kw):
    return lambda n, d, r: {**_predict(n, d, r), **{k: v(n, d, r) for k, v in kw.items()}}


NEGATIVE_CONTROLS = {
    "skip keeps the rank (r)": _with(skip=lambda n, d, r: r),
    "relu of rank one has rank 1": _with(relu=lambda n, d, r: 1),
    "tanh of rank one has rank <= 2": _with(tanh=lambda n, d, r: 2),
    "one path can add a direction (r + 1)": _with(path=lambda n, d, r: r - 1),
}


def _spread(m, rng):
    """Entries with mixed signs and well-separated magnitudes in [0.3, 1]: equal
    magnitudes would make rows of the odd function tanh(a b^T) proportional
    (a non-generic rank drop), and close ones push the smallest singular
    value toward the threshold (worst 2.6e-6 relative over 2000 draws)."""
    mag = 0.3 + 0.7 * (np.arange(m) + rng.uniform(0, 0.5, m)) / m
    sign = rng.choice([-1.0, 1.0], m)
    sign[0], sign[1] = 1.0, -1.0
    return rng.permutation(mag * sign)


def run(config, predict=None):
    predict = predict or _predict
    rng = np.random.default_rng([config.seed, 303])
    reps = config.pick(5, 20, 100)
    n, d = 7, 6
    out = []
    path_max, skip_rank = -np.inf, []
    for r in (1, 2, 3):
        for _ in range(reps):
            X = low_rank(n, d, r, rng=rng)
            A = softmax_rows(2 * rng.standard_normal((n, n)))
            W = rng.standard_normal((d, d))
            path_max = max(path_max, numerical_rank(A @ X @ W) - predict(n, d, r)["path"])
            skip_rank.append(numerical_rank(X + A @ X @ W) - predict(n, d, r)["skip"])
    out.append(CheckOutcome("one path: max rank(A X W) - predicted bound", {"n": n, "d": d, "r": [1, 2, 3]},
                            measured=int(path_max), predicted="<= 0", passed=path_max <= 0,
                            tolerance="exact (integer ranks)"))
    out.append(CheckOutcome("skip: rank(X + A X W) - predicted", {"n": n, "d": d, "r": [1, 2, 3]},
                            measured=[int(min(skip_rank)), int(max(skip_rank))], predicted=0,
                            passed=min(skip_rank) == 0 == max(skip_rank), tolerance="exact (integer ranks)"))
    relu_r, tanh_r, ident = [], [], 0.0
    n, d = 6, 5
    for _ in range(reps):
        a, b = _spread(n, rng), _spread(d, rng)
        P = np.outer(a, b)
        relu = np.maximum(P, 0)
        ident = max(ident, float(np.abs(relu - np.outer(np.maximum(a, 0), np.maximum(b, 0))
                                        - np.outer(np.maximum(-a, 0), np.maximum(-b, 0))).max()))
        relu_r.append(numerical_rank(relu))
        s = 4.0 / np.abs(P).max()
        tanh_r.append(numerical_rank(np.tanh(s * P)))
    p = predict(n, d, 1)
    out.append(CheckOutcome("relu(a b^T): rank and the identity a+b+^T + a-b-^T",
                            {"n": n, "d": d, "draws": reps}, measured=[min(relu_r), max(relu_r), ident],
                            predicted=[p["relu"], p["relu"], 0.0],
                            passed=min(relu_r) == max(relu_r) == p["relu"] and ident <= 1e-15,
                            tolerance="exact ranks; identity 1e-15"))
    out.append(CheckOutcome("tanh(s a b^T): rank", {"n": n, "d": d, "draws": reps},
                            measured=[min(tanh_r), max(tanh_r)], predicted=p["tanh"],
                            passed=min(tanh_r) == max(tanh_r) == p["tanh"], tolerance="exact ranks"))
    return out
