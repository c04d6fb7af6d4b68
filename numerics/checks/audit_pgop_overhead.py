"""Empirical check of ``audit.pgop-overhead`` (D5, gapcheck's own reading,
grade D), on the toolkit, against :class:`theory.companions.audit.GateOverhead`
(``overhead`` in the statement's own ``d_X, H_X``): build the gate's
parameter arrays (``W_g`` of shape ``(H, d)``, ``b_g`` of shape ``(H,)``),
apply the gate to random head outputs to confirm the shapes, count the
parameters against the ``d^2`` of ``W_O`` and compare the ratio with the
predicted overhead (exact fractions) for BERT-base and other widths; the
BERT-base value must be below 1.6% (``BERT_BOUND``, the abstract's claim).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))][:2]
['d=768, H=12', 'd=1024, H=16']
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy

from . import toolkit as T
from ..companions.heads import require_numpy
from ...theory.companions.audit import FEATURES, HEADS, pgop_overhead
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "WIDTHS", "BERT_BOUND"]

#: (d, H): BERT-base first
WIDTHS = ((768, 12), (1024, 16), (512, 8), (64, 4))
#: the abstract's "below 1.6%"
BERT_BOUND = Fraction(16, 1000)


class PgopCheck(T.Check):
    result_id = "audit.pgop-overhead"

    def cases(self, config):
        ex = get(self.result_id).example()
        return [T.Case(ex, (d, H), 1, f"d={d}, H={H}") for d, H in WIDTHS]

    def measure(self, config, case):
        require_numpy(config.backend, "numerics.checks.audit_pgop_overhead")
        d, H = case.ns
        gen = T.generator(config, self.result_id, case.label)
        Wg, bg, Wo = gen.standard_normal((H, d)), gen.standard_normal(H), gen.standard_normal((d, d))
        n, dk = 5, d // H
        gate = 1 / (1 + np.exp(-(gen.standard_normal((n, d)) @ Wg.T + bg)))         # (n, H)
        gated = (gate[:, :, None] * gen.standard_normal((n, H, dk))).reshape(n, d) @ Wo
        return {"shape ok": gated.shape == (n, d), "ratio": Fraction(Wg.size + bg.size, Wo.size)}

    def compare(self, config, case, m, pred):
        d, H = case.ns
        want = sympy.Rational(pred.overhead.subs({FEATURES: d, HEADS: H}))
        ratio = m["ratio"] if m["shape ok"] else Fraction(-1)
        out = [T.identity("gate parameters / W_O parameters (exact fractions)", {"d": d, "H": H},
                          measured=float(ratio), predicted=float(want), judges=("overhead",), rtol=0.0)]
        if (d, H) == WIDTHS[0]:
            out.append(T.bound("BERT-base: predicted overhead below 1.6%", {"d": d, "H": H},
                               measured=float(want), limit=float(BERT_BOUND), judges=("overhead",),
                               detail=f"{float(100 * want):.4f}%"))
        return out


CHECK = PgopCheck()
CHECK.controls = (
    T.Control("per-position table n_max H/d^2 (n_max = 512)", lambda m, pred: pred(m).replace(
        overhead=pgop_overhead(FEATURES, HEADS, per_position=True, n_max=512)), ("overhead",)),
    T.Control("bias forgotten: H d/d^2", lambda m, pred: (lambda p: p.replace(
        overhead=p.overhead * FEATURES / (FEATURES + 1)))(pred(m)), ("overhead",)),
    T.Control("overhead 1/d (one gate)", lambda m, pred: (lambda p: p.replace(
        overhead=p.overhead.subs(HEADS, 1)))(pred(m)), ("overhead",)),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
