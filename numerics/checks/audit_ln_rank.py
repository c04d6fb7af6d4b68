"""Empirical check of ``audit.ln-rank`` on random matrices (numerical ranks
with a ``1e-9`` relative singular-value threshold; the ranks are integers, so
the only risk is a threshold error, which generic Gaussian inputs keep far
away):

* ``rank LN(X) = rank X - [1 in rowspace X]`` for random rank-``r`` matrices of
  many shapes, with random nonzero ``gamma`` and ``beta = 0``;
* the affine rank of ``LN(X)`` for generic ``r``-dimensional affine
  configurations equals the predicted ``min(r + 1, n - 1, d - 1)``;
* the merge counterexample (``x, 2x + 1, 3x - 1``) collapses to affine rank 0.

``predict(n, d, r) -> int``: the affine rank after LN.
"""
from __future__ import annotations

import numpy as np

from ..companions.heads import (affine_configuration, affine_rank, layer_norm, low_rank,
                                       numerical_rank, ones_in_rowspace)
from ...theory.companions.audit import ln_affine_rank_generic, ln_rank
from ...theory.registry import CheckOutcome

__all__ = ["run", "NEGATIVE_CONTROLS"]


def _predict(n, d, r):
    return int(ln_affine_rank_generic(n, d, r))


NEGATIVE_CONTROLS = {
    "LN preserves the affine rank (r)": lambda n, d, r: r,
    "min(r+1, n-1, d-1) -> min(r+1, n-1, d)": lambda n, d, r: min(r + 1, n - 1, d),
    "min(r+1, n-1, d-1) -> min(r+2, n-1, d-1)": lambda n, d, r: min(r + 2, n - 1, d - 1),
}


def run(config, predict=None):
    predict = predict or _predict
    rng = np.random.default_rng([config.seed, 301])
    reps = config.pick(2, 4, 20)
    out = []
    bad = []
    shapes = [(n, d, r) for n in (3, 6, 10) for d in (4, 8) for r in range(0, min(n, d) + 1)]
    for n, d, r in shapes:
        for _ in range(reps):
            X = low_rank(n, d, r, rng=rng) if r > 0 else np.zeros((n, d))
            if r == 0 or np.any(np.ptp(X, axis=1) == 0):
                continue
            gamma = rng.uniform(0.5, 2, d) * rng.choice([-1, 1], d)
            got = numerical_rank(layer_norm(X, gamma=gamma))
            want = int(ln_rank(numerical_rank(X), ones_in_rowspace(X)))
            if got != want:
                bad.append((n, d, r, got, want))
    out.append(CheckOutcome("rank LN(X) = rank X - [1 in rowspace X]",
                            {"shapes": len(shapes), "per shape": reps}, measured=len(bad),
                            predicted=0, passed=not bad, tolerance="exact (integer ranks)",
                            detail=f"first mismatches {bad[:3]}"))
    mism = []
    cases = [(n, d, r) for n, d in ((4, 4), (6, 5), (10, 8), (12, 6), (5, 12)) for r in range(1, d + 1)
             if r <= n - 1 or r == d]
    for n, d, r in cases:
        for _ in range(reps):
            X = affine_configuration(n, d, r, rng=rng)
            before, after = affine_rank(X), affine_rank(layer_norm(X))
            if after != predict(n, d, before):
                mism.append((n, d, before, after, predict(n, d, before)))
    out.append(CheckOutcome("affine rank of LN(X), generic configurations",
                            {"cases": len(cases), "per case": reps}, measured=len(mism), predicted=0,
                            passed=not mism, tolerance="exact (integer ranks)",
                            detail=f"first mismatches (n, d, before, after, predicted) {mism[:3]}"))
    x = rng.standard_normal(5)
    merged = affine_rank(layer_norm(np.stack([x, 2 * x + 1, 3 * x - 1])))
    out.append(CheckOutcome("merge counterexample: x, 2x+1, 3x-1 -> affine rank 0", {"d": 5},
                            measured=merged, predicted=0, passed=merged == 0, tolerance="exact"))
    return out
