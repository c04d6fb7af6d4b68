"""Empirical check of ``dong.paths``: enumerate every path of skip networks
(``(L, H)`` small), count them by length and compare with the predicted
counts and mean length exactly (integers / fractions); and check the path
expansion itself: the sum of the ``(H+1)^L`` path terms
``prod(A) X prod(W)`` equals the network output (relative ``1e-10``).

``predict(L, H) -> (counts, mean)``: counts by length ``k = 0..L`` and the
mean length of a uniform path.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..companions.residual import init_san, path_length_counts, path_terms
from ...theory.companions.dong import path_counts, path_length_mean
from ...theory.registry import CheckOutcome

__all__ = ["run", "NEGATIVE_CONTROLS"]


def _predict(L, H):
    return [int(c) for c in path_counts(L, H)], Fraction(str(path_length_mean(L, H)))


def _binom(L, k):
    from math import comb
    return comb(L, k)


NEGATIVE_CONTROLS = {
    "mean LH/(H+1) -> LH/(H+2)": lambda L, H: (_predict(L, H)[0], Fraction(L * H, H + 2)),
    "counts C(L,k) H^k -> C(L,k) H^(k+1)": lambda L, H: (
        [_binom(L, k) * H ** (k + 1) for k in range(L + 1)], _predict(L, H)[1]),
    "counts -> C(L,k) (H+1)^k": lambda L, H: (
        [_binom(L, k) * (H + 1) ** k for k in range(L + 1)], _predict(L, H)[1]),
}


def run(config, predict=None):
    predict = predict or _predict
    rng = np.random.default_rng([config.seed, 205])
    out = []
    cases = config.pick(((3, 2), (4, 1)), ((3, 2), (4, 3), (6, 2), (10, 1)),
                        ((3, 2), (4, 3), (6, 2), (10, 1), (7, 3)))
    for L, H in cases:
        counts = path_length_counts(L, H)
        mean = Fraction(sum(k * c for k, c in enumerate(counts)), sum(counts))
        pc, pm = predict(L, H)
        out.append(CheckOutcome("path counts by length (enumeration)", {"L": L, "H": H},
                                measured=counts, predicted=list(pc),
                                passed=list(map(int, pc)) == counts, tolerance="exact"))
        out.append(CheckOutcome("mean length of a uniform path (enumeration)", {"L": L, "H": H},
                                measured=str(mean), predicted=str(pm), passed=mean == Fraction(pm),
                                tolerance="exact (fractions)"))
    for L, H in config.pick(((2, 2),), ((2, 2), (3, 2)), ((2, 2), (3, 2), (4, 2))):
        X = rng.standard_normal((5, 4))
        total, terms = path_terms(X, init_san(4, L, heads=H, rng=rng))
        err = float(np.linalg.norm(sum(terms.values()) - total) / np.linalg.norm(total))
        out.append(CheckOutcome("sum of the (H+1)^L path terms = network output",
                                {"L": L, "H": H, "paths": len(terms)}, measured=err, predicted=0.0,
                                passed=err <= 1e-10, tolerance="1e-10 relative"))
    return out
