"""Empirical check of ``noci.qk-vanish`` (B2), on the toolkit.

For each case (a key-query model: n, d, sigma_QK^2, sigma_V^2) the Jacobian
norms ``|dS/dW_Q|_F, |dS/dW_K|_F, |dS/dW_V|_F`` of the model's layer are
measured at ``X = 1 x^T + eps R`` over three decades of eps (1e-4 .. 1e-1)
for a batch of draws of (x, R, weights). The statement is for fixed weights
and R, so each draw's log-log slope in eps (least squares over EPS) is one
deterministic reading of the exponent; the draw farthest from the prediction
(:class:`theory.companions.noci.QKVanishing`) must be within the curvature
budget ``CURVATURE`` (the next order of the series, which bends the slope at
eps = 1e-1; docs/derivations.md, section noci.qk-vanish): one outcome per
exponent, judging it. No statistics: the slopes of the worst of 32 draws
stayed within 0.03 of the exponents over 10 seeds of the example.

The cases: :func:`theory.companions.noci.key_query_example` at every level;
a larger batch at the default and thorough levels.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['n=8, d=16, sigma_QK^2=9/64, sigma_V^2=3/32']
"""
from __future__ import annotations

import numpy as np

from . import toolkit as T
from .noci_rank_one_zero import label
from ..companions.qk_gradients import jacobian_sq_norms
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "EPS", "CURVATURE"]

#: the distances from rank one (three decades)
EPS = tuple(np.logspace(-4, -1, 7).tolist())
#: slope budget of the next order of the series over EPS (docs/derivations.md)
CURVATURE = 0.1


class QKVanishCheck(T.Check):
    result_id = "noci.qk-vanish"

    def cases(self, config):
        model = get(self.result_id).example()
        return [T.Case(model, (model.n,), config.pick(8, 16, 32), label(model))]

    def measure(self, config, case):
        model, B = case.model, case.batch
        n, d = model.n, model.d
        gen = T.generator(config, self.result_id, "near-rank-one", case.label)
        x = gen.standard_normal((B, 1, d))
        R = gen.standard_normal((B, n, d))
        sqk, sv = float(model.sigma_QK2) ** 0.5, float(model.sigma_V2) ** 0.5
        W = [s * gen.standard_normal((B, d, d)) for s in (sqk, sqk, sv)]
        norms = {k: [] for k in "QKV"}
        for e in EPS:
            j = jacobian_sq_norms(np.ones((B, n, 1)) * x + e * R, *W)
            for k in "QKV":
                norms[k].append(np.sqrt(j[k]))
        x = np.log(EPS) - np.mean(np.log(EPS))
        slopes = {}
        for k in "QKV":
            y = np.log(np.stack(norms[k]))                  # (eps, batch)
            slopes[k] = (x @ (y - y.mean(axis=0))) / (x @ x)  # least-squares slope per draw
            slopes[k].setflags(write=False)
        return slopes

    def compare(self, config, case, slopes, pred):
        p = pred.numeric()
        par = {"case": case.label, "batch": case.batch, "eps": f"{EPS[0]:g}..{EPS[-1]:g}"}
        out = []
        for k in "QKV":
            field = f"exponent_{k.lower()}"
            s = slopes[k]
            worst = float(s[np.argmax(np.abs(s - p[field]))])
            out.append(T.band(f"exponent of |dS/dW_{k}|_F in eps (draw farthest from the prediction)", par,
                              measured=worst, predicted=p[field], se=0.0, judges=(field,),
                              below=CURVATURE, above=CURVATURE,
                              detail=f"per-draw slopes in [{s.min():.4f}, {s.max():.4f}]"))
        return out


CHECK = QKVanishCheck()
CHECK.controls = (
    T.shift("exponent_q", -0.25, name="Q exponent 2 -> 1.75"),
    T.shift("exponent_k", 0.25, name="K exponent 2 -> 2.25"),
    T.Control("linear vanishing (exponents 1)",
              lambda m, pred: pred(m).replace(exponent_q=1, exponent_k=1), ("exponent_q", "exponent_k")),
    T.shift("exponent_v", 0.25, name="V exponent 0 -> 0.25"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
