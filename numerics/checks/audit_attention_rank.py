"""Empirical check of ``audit.attention-rank`` (D3), on the toolkit, against
:class:`theory.companions.audit.AttentionRank` (fields in the statement's own
shape ``n_X, d_X, r_X``, specialised per case).

Numerical ranks with a ``1e-9`` relative threshold; generic Gaussian inputs.

* ``paths`` (``n = 7, d = 6``, ``r = 1, 2, 3``): generic softmax attention
  ``A``, any ``W``: ``max rank(A X W) - path <= 0`` and ``rank(X + A X W) = skip``
  in every draw;
* ``rank one`` (``6 x 5``): ``rank relu(a b^T) = relu`` with the identity
  ``relu(a b^T) = a_+ b_+^T + a_- b_-^T`` to ``1e-15``, and
  ``rank tanh(s a b^T) = tanh`` (entries up to 4 and well-separated
  magnitudes, so the smallest singular value stays above ``1e-6`` relative).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['paths', 'rank one']
"""
from __future__ import annotations

import numpy as np

from . import toolkit as T
from ..companions.heads import low_rank, numerical_rank, require_numpy
from ..layers import softmax
from ...theory.companions.audit import RANK, specialise
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS"]


def _spread(m, rng):
    """Entries with mixed signs and well-separated magnitudes in [0.3, 1]: equal
    magnitudes would make rows of the odd function tanh(a b^T) proportional
    (a non-generic rank drop), and close ones push the smallest singular
    value toward the threshold (worst 2.6e-6 relative over 2000 draws)."""
    mag = 0.3 + 0.7 * (np.arange(m) + rng.uniform(0, 0.5, m)) / m
    sign = rng.choice([-1.0, 1.0], m)
    sign[0], sign[1] = 1.0, -1.0
    return rng.permutation(mag * sign)


class AttentionRankCheck(T.Check):
    result_id = "audit.attention-rank"

    def cases(self, config):
        ex = get(self.result_id).example()
        reps = config.pick(5, 20, 100)
        return [T.Case(ex, (7, 6), reps, "paths"), T.Case(ex, (6, 5), reps, "rank one")]

    def measure(self, config, case):
        require_numpy(config.backend, "numerics.checks.audit_attention_rank")
        gen = T.generator(config, self.result_id, case.label)
        n, d = case.ns
        if case.label == "paths":
            rows = []
            for r in (1, 2, 3):
                for _ in range(case.batch):
                    X = low_rank(n, d, r, rng=gen, backend=config.backend)
                    A = softmax(2 * gen.standard_normal((n, n)))
                    W = gen.standard_normal((d, d))
                    rows.append((r, numerical_rank(A @ X @ W), numerical_rank(X + A @ X @ W)))
            return rows
        relu_r, tanh_r, ident = [], [], 0.0
        for _ in range(case.batch):
            a, b = _spread(n, gen), _spread(d, gen)
            P = np.outer(a, b)
            relu = np.maximum(P, 0)
            ident = max(ident, float(np.abs(relu - np.outer(np.maximum(a, 0), np.maximum(b, 0))
                                            - np.outer(np.maximum(-a, 0), np.maximum(-b, 0))).max()))
            relu_r.append(numerical_rank(relu))
            tanh_r.append(numerical_rank(np.tanh(4.0 / np.abs(P).max() * P)))
        return {"relu": relu_r, "tanh": tanh_r, "identity": ident}

    def compare(self, config, case, m, pred):
        n, d = case.ns
        par = {"case": case.label, "n": n, "d": d, "draws": case.batch}
        if case.label == "paths":
            path = max(row[1] - specialise(pred.path, r=row[0]) for row in m)
            skip = [row[2] - specialise(pred.skip, n=n, d=d, r=row[0]) for row in m]
            return [T.bound("one path: max rank(A X W) - path", par, measured=path, limit=0, judges=("path",)),
                    T.identity("skip: rank(X + A X W) - skip, min and max over draws", par,
                               measured=[min(skip), max(skip)], predicted=[0, 0], judges=("skip",), rtol=0.0)]
        relu, tanh = specialise(pred.relu), specialise(pred.tanh, n=n, d=d)
        return [T.identity("relu(a b^T): rank (min, max) and the identity a+b+^T + a-b-^T", par,
                           measured=[min(m["relu"]), max(m["relu"]), m["identity"]], predicted=[relu, relu, 0.0],
                           judges=("relu",), rtol=0.0, atol=1e-15),
                T.identity("tanh(s a b^T): rank (min, max)", par, measured=[min(m["tanh"]), max(m["tanh"])],
                           predicted=[tanh, tanh], judges=("tanh",), rtol=0.0)]


CHECK = AttentionRankCheck()
CHECK.controls = (
    T.Control("skip keeps the rank (r)", lambda m, pred: pred(m).replace(skip=RANK), ("skip",)),
    T.shift("relu", -1, name="relu of rank one has rank 1"),
    T.Control("tanh of rank one has rank <= 2", lambda m, pred: pred(m).replace(tanh=2), ("tanh",)),
    T.shift("path", -1, name="one path can add a direction (r + 1)"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
