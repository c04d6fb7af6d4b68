"""Empirical check of ``audit.pgop-overhead`` (gapcheck's own reading, grade
D): build the gate's parameter arrays (``W_g`` of shape ``(H, d)``, ``b_g`` of
shape ``(H,)``), apply the gate to random head outputs to confirm the
shapes, count the parameters against the ``d^2`` of ``W_O``, and compare the
ratio with the predicted overhead (exact integers / fractions) for
BERT-base and other widths; the BERT-base value must be below 1.6%.

``predict(d, H) -> Fraction``.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from ...theory.companions.audit import pgop_overhead
from ...theory.registry import CheckOutcome

__all__ = ["run", "NEGATIVE_CONTROLS"]


def _predict(d, H):
    v = pgop_overhead(d, H)
    return Fraction(int(v.p), int(v.q))


NEGATIVE_CONTROLS = {
    "per-position table n_max H/d^2 (n_max = 512)": lambda d, H: Fraction(512 * H, d * d),
    "bias forgotten: H d/d^2": lambda d, H: Fraction(H * d, d * d),
    "overhead 1/d (one gate)": lambda d, H: Fraction(d + 1, d * d),
}


def run(config, predict=None):
    predict = predict or _predict
    rng = np.random.default_rng([config.seed, 305])
    out = []
    for d, H in ((768, 12), (1024, 16), (512, 8), (64, 4)):
        Wg, bg = rng.standard_normal((H, d)), rng.standard_normal(H)
        Wo = rng.standard_normal((d, d))
        n, dk = 5, d // H
        pos = rng.standard_normal((n, d))
        gate = 1 / (1 + np.exp(-(pos @ Wg.T + bg)))             # (n, H)
        heads = rng.standard_normal((n, H, dk))
        gated = (gate[:, :, None] * heads).reshape(n, d) @ Wo
        shape_ok = gated.shape == (n, d)
        ratio = Fraction(Wg.size + bg.size, Wo.size)
        pred = Fraction(predict(d, H))
        out.append(CheckOutcome("gate parameters / W_O parameters", {"d": d, "H": H},
                                measured=float(ratio), predicted=float(pred),
                                passed=shape_ok and ratio == pred, tolerance="exact (fractions)",
                                detail=f"{float(100 * ratio):.4f}%"))
    bert = Fraction(12 * 769, 768 * 768)
    pb = Fraction(predict(768, 12))
    out.append(CheckOutcome("BERT-base: predicted overhead below 1.6%", {"d": 768, "H": 12},
                            measured=float(bert), predicted=float(pb),
                            passed=pb == bert and pb < Fraction(16, 1000), tolerance="exact"))
    return out
