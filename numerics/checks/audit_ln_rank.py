"""Empirical check of ``audit.ln-rank`` (D1), on the toolkit, against
:class:`theory.companions.audit.LayerNormRank` (its fields are functions of
the statement's own shape ``n_X, d_X, r_X``, specialised per matrix).

Numerical ranks use a ``1e-9`` relative singular-value threshold; the ranks
are integers, so the only risk is a threshold error, which generic Gaussian
inputs keep far away. Cases (the LayerNorm without eps, as the statement):

* ``rank``: random rank-``r`` matrices of many shapes, random nonzero
  ``gamma`` and ``beta = 0``: ``rank LN(X) = rank X - rank_drop [1 in rowspace X]``
  (the count of mismatches is 0);
* ``affine``: generic ``r``-dimensional affine configurations, ``n > d``
  included: the affine rank after LN equals ``affine_rank``;
* ``merge``: ``x, 2x + 1, 3x - 1`` has affine rank ``merged`` after LN.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['rank', 'affine', 'merge']
"""
from __future__ import annotations

import numpy as np

from . import toolkit as T
from ..companions.heads import (affine_configuration, affine_rank, layer_norm, low_rank, numerical_rank,
                                ones_in_rowspace, require_numpy)
from ...theory.companions.audit import FEATURES, RANK, specialise
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "RANK_SHAPES", "AFFINE_SHAPES"]

#: (n, d, r) of the rank case
RANK_SHAPES = tuple((n, d, r) for n in (3, 6, 10) for d in (4, 8) for r in range(1, min(n, d) + 1))
#: (n, d, r) of the affine case (n > d among them)
AFFINE_SHAPES = tuple((n, d, r) for n, d in ((4, 4), (6, 5), (10, 8), (12, 6), (5, 12)) for r in range(1, d + 1)
                      if r <= n - 1 or r == d)


class LayerNormRankCheck(T.Check):
    result_id = "audit.ln-rank"

    def cases(self, config):
        ex = get(self.result_id).example()
        reps = config.pick(2, 4, 20)
        return [T.Case(ex, (), reps, "rank"), T.Case(ex, (), reps, "affine"), T.Case(ex, (), 1, "merge")]

    def measure(self, config, case):
        require_numpy(config.backend, "numerics.checks.audit_ln_rank")
        gen = T.generator(config, self.result_id, case.label)
        if case.label == "merge":
            x = gen.standard_normal(5)
            return affine_rank(layer_norm(np.stack([x, 2 * x + 1, 3 * x - 1])))
        rows = []
        for n, d, r in RANK_SHAPES if case.label == "rank" else AFFINE_SHAPES:
            for _ in range(case.batch):
                if case.label == "rank":
                    X = low_rank(n, d, r, rng=gen, backend=config.backend)
                    gamma = gen.uniform(0.5, 2, d) * gen.choice([-1, 1], d)
                    rows.append((n, d, numerical_rank(X), ones_in_rowspace(X), numerical_rank(layer_norm(X, gamma=gamma))))
                else:
                    X = affine_configuration(n, d, r, rng=gen, backend=config.backend)
                    rows.append((n, d, affine_rank(X), affine_rank(layer_norm(X))))
        return rows

    def compare(self, config, case, rows, pred):
        par = {"case": case.label}
        if case.label == "merge":
            return [T.identity("merge counterexample: affine rank of LN(x, 2x+1, 3x-1)", {**par, "d": 5},
                               measured=rows, predicted=float(pred.merged), judges=("merged",), rtol=0.0)]
        if case.label == "rank":
            drop = specialise(pred.rank_drop)
            bad = [row for row in rows if row[4] != row[2] - drop * row[3]]
            name, field = "rank LN(X) = rank X - rank_drop [1 in rowspace X]: mismatches", "rank_drop"
        else:
            bad = [row for row in rows if row[3] != specialise(pred.affine_rank, n=row[0], d=row[1], r=row[2])]
            name, field = "affine rank of LN(X), generic configurations: mismatches", "affine_rank"
        return [T.identity(name, {**par, "matrices": len(rows)}, measured=len(bad), predicted=0, judges=(field,),
                           rtol=0.0)]


def _substitute(field, old, new):
    return lambda m, pred: (lambda p: p.replace(**{field: getattr(p, field).subs(old, new)}))(pred(m))


CHECK = LayerNormRankCheck()
CHECK.controls = (
    T.Control("LN preserves the affine rank (r)", lambda m, pred: pred(m).replace(affine_rank=RANK),
              ("affine_rank",)),
    T.Control("min(r+1, n-1, d-1) -> min(r+1, n-1, d)", _substitute("affine_rank", FEATURES, FEATURES + 1),
              ("affine_rank",)),
    T.Control("min(r+1, n-1, d-1) -> min(r+2, n-1, d-1)", _substitute("affine_rank", RANK, RANK + 1),
              ("affine_rank",)),
    T.shift("rank_drop", -1, name="LN keeps the rank (no drop)"),
    T.shift("merged", 1, name="the merged tokens keep a direction"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
