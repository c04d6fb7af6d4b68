"""Empirical check of ``audit.skip-no-exact-collapse`` (D2), on the toolkit,
against :class:`theory.companions.audit.ExactCollapse`: random draws of one
layer of the model (its entry variances per head,
:func:`numerics.checks.dong_skip_conserves.model_layers`; its skip strength
absorbed into the values) on Gaussian tokens.

"Exact collapse" is read at the float64 floor: a relative residual
``|res(Y)|_F / |res(X)|_F`` below ``FLOOR = 1e3 * eps_machine``. A field
predicting collapse (1) needs every draw at or below the floor (the largest
is judged); a field predicting none (0) needs every draw above it (the
smallest is judged). Without the skip, uniform attention (``A = J``)
collapses in every draw; with the skip and softmax attention no draw comes
near the floor (smallest 0.94 and 1.96 in the two cases below over 400
draws; docs/derivations.md, section audit.skip-no-exact-collapse). Cases: the example with one head, and with
three heads at larger scales (``sigma_QK^2 d = sigma_V^2 d = 9``).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['H=1', 'H=3, sharper']
"""
from __future__ import annotations

import numpy as np
import sympy

from . import toolkit as T
from .dong_skip_conserves import model_layers
from ..companions.heads import require_numpy
from ..companions.residual import attention_layer, residual_mean
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "FLOOR"]

FLOOR = 1e3 * np.finfo(float).eps


class SkipCollapseCheck(T.Check):
    result_id = "audit.skip-no-exact-collapse"

    def cases(self, config):
        ex = get(self.result_id).example()
        draws = config.pick(100, 400, 5000)
        sharp = ex.replace(sigma_qk2=sympy.Rational(9, ex.d), sigma_v2=sympy.Rational(9, ex.d))
        return [T.Case(ex, (1,), draws, "H=1"), T.Case(sharp, (3,), draws, "H=3, sharper")]

    def measure(self, config, case):
        require_numpy(config.backend, "numerics.checks.audit_skip_no_exact_collapse")
        m, (heads,) = case.model, case.ns
        gen = T.generator(config, self.result_id, case.label)
        X = gen.standard_normal((case.batch, m.n, m.d))
        r0 = np.linalg.norm(residual_mean(X), axis=(-2, -1))
        rel = np.empty((2, case.batch))
        for i in range(case.batch):
            layer = model_layers(m, heads, gen, depth=1, alpha=float(m.skip_alpha))[0]
            rel[0, i] = np.linalg.norm(residual_mean(X[i] + attention_layer(X[i], layer))) / r0[i]
            rel[1, i] = np.linalg.norm(residual_mean(attention_layer(X[i], layer, uniform=True))) / r0[i]
        return rel

    def compare(self, config, case, rel, pred):
        par = {"case": case.label, "n": case.model.n, "d": case.model.d, "draws": case.batch}
        out = []
        for field, vals, what in (("with_skip", rel[0], "with the skip, softmax attention"),
                                  ("uniform_without_skip", rel[1], "no skip, uniform attention")):
            collapses = bool(getattr(pred, field))
            out.append(T.bound(f"{what}: relative residual vs the float64 floor", par,
                               measured=float(vals.max() if collapses else vals.min()), limit=FLOOR,
                               upper=collapses, judges=(field,),
                               detail=("max" if collapses else "min") + " over draws"))
        return out


CHECK = SkipCollapseCheck()
CHECK.controls = (
    T.Control("the skip collapses exactly too", lambda m, pred: pred(m).replace(with_skip=1), ("with_skip",)),
    T.Control("uniform attention does not collapse", lambda m, pred: pred(m).replace(uniform_without_skip=0),
              ("uniform_without_skip",)),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
