"""Empirical check of ``gg.trainability`` (A9, gapcheck's own claim, grade D), on
the toolkit.

Cells of the (beta, alpha_A^2) diagram at depth L (beta = 1/2, 3; alpha^2 = 1,
L; sigma_v^2 = 2, where every cell is far from a boundary (sigma_v^2 = 1 puts
the cell beta = 3, alpha^2 = 1 near the rank-collapse threshold at T = 96);
uncorrelated LN tokens): the prediction
(:class:`theory.companions.gg.Trainability`) classifies each cell by the
model's map (:meth:`~theory.companions.gg.Trainability.label`: rank collapse if
``1 - rho_L < eps``, entropy collapse if ``beta_eff > beta_c(T)`` at some layer,
trainable otherwise); sampled post-LN networks are classified by the same
rule, with entropy collapse when the normalised attention entropy ``H / log T``
falls below :data:`H_STAR` at some layer (between the fluid values >= 0.5 for
beta_eff <= 1 and the frozen values <= 0.25 at T = 128, beta_eff >= 2). Two
outcomes per cell: the same label (judges ``cosines``, ``beta_c``, ``eps``) and
``rho_L`` of the network within the random-walk budget ``0.75 sqrt(L/d)`` of
the map's (judges ``cosines``). Cells are chosen far from the boundaries.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> len(CHECK.cases(VerifyConfig(level="quick")))
4
"""
from __future__ import annotations

import numpy as np
import sympy

from . import toolkit as T
from .gg_rem_mapping import InputCase, at, label
from ..companions import walk_budget
from ..companions.rem import ln_tokens, model_stack
from ...theory.companions import gg
from ...theory.registry import CheckOutcome, get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "H_STAR", "EPS"]

#: the network's entropy-collapse threshold on min over layers of H / log T
H_STAR = 0.35
#: the statement's rank-collapse threshold eps as a float (the trainability figure reads it)
EPS = float(gg.TRAINABILITY_EPS)


class TrainabilityCheck(T.Check):
    result_id = "gg.trainability"

    def cases(self, config):
        n, d, L, batch = config.pick((96, 128, 10, 1), (96, 128, 10, 1), (256, 256, 12, 3))
        ex = get(self.result_id).example()
        out = []
        for beta in (sympy.Rational(1, 2), 3):
            for alpha2 in (1, L):
                m = at(ex, n, beta, d, depth=L, skip=sympy.sqrt(alpha2), sigma_v2=sympy.Rational(2, d))
                out.append(InputCase(m, (n,), batch, label(m, L=L, alpha2=alpha2), p=sympy.Integer(0)))
        return out

    def measure(self, config, case):
        m = case.model
        gen = T.generator(config, self.result_id, case.label)
        X = ln_tokens(m.n, m.d, float(case.p), batch=case.batch, rng=gen, backend=config.backend)
        cos, ent = model_stack(m, X, rng=gen)
        return np.asarray(cos), np.asarray(ent)

    def compare(self, config, case, measured, pred):
        cos, ent = measured
        label_, rho_l = pred.label(cos[0])
        if 1 - cos[-1] < float(pred.eps):
            got = "rank-collapse"
        elif ent.min() < H_STAR:
            got = "entropy-collapse"
        else:
            got = "trainable"
        par = {"case": case.label, "batch": case.batch}
        budget = walk_budget(case.model.depth, case.model.d)
        return [CheckOutcome("diagram cell: network vs map", par,
                             measured={"label": got, "min_H/logT": round(float(ent.min()), 3)},
                             predicted={"label": label_}, passed=got == label_, tolerance="same label",
                             judges=("cosines", "beta_c", "eps")),
                T.bound("diagram cell: |rho_L network - map|", {**par, "budget": "0.75 sqrt(L/d)"},
                        measured=abs(cos[-1] - rho_l), limit=budget, judges=("cosines",),
                        detail=f"network {cos[-1]:.4f}, map {rho_l:.4f}")]


CHECK = TrainabilityCheck()
CHECK.controls = (
    T.remodel("skip strength ignored (alpha = 1)", ("cosines",), lambda m: {"skip": 1}),
    T.scale("beta_c", 3, "no entropy collapse (freezing point x3)"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
