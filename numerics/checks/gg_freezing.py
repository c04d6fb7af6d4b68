"""Empirical check of ``gg.freezing`` (A2), on the toolkit.

Two kinds of case, each a key-query model with the authors' Q/K scale whose rows
are REMs of T = n energies (sampled as scalar REM rows: the d -> oo limit of the
statement), compared with the prediction (:class:`theory.companions.gg.Freezing`):

* **maxima** (T = 512, 4096): Monte Carlo ``E[max of T N(0,1)] / sqrt(log T)``
  against ``beta_c_T`` (judges ``beta_c_T``; policy normal quantile of the SE
  over the replicas, exact in expectation);
* **frozen** (T = 2000, beta = 3 and 4, uncorrelated tokens: beta_eff = beta):
  the free energy ``F = (1/log T) log sum_b exp(beta sqrt(log T) g_b)`` exceeds
  the frozen line ``beta_eff beta_c(T)`` (``frozen_free_energy``) by at most
  ``E H / log T``, because ``log sum_b exp(E_b - E_max) = log(1/w_max) <= H``:
  two one-sided bounds with the policy's one-sided quantile of the SE (judge
  ``frozen_free_energy``).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.kind for c in CHECK.cases(VerifyConfig(level="quick"))]
['maxima', 'maxima', 'frozen', 'frozen']
"""
from __future__ import annotations

import math

import numpy as np
import sympy

from . import toolkit as T
from .gg_rem_mapping import InputCase, at, label
from ..backend import namespace, to_numpy
from ..companions.rem import rem_statistics
from ..sampling import gaussian
from ..stats import mean_se
from ...theory.companions import gg
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS"]

#: replicas drawn per chunk
CHUNK = 1000


class FreezingCheck(T.Check):
    result_id = "gg.freezing"

    def cases(self, config):
        ex = get(self.result_id).example()
        reps = config.pick(1000, 4000, 20000)
        out = [InputCase(m, (m.n,), reps, label(m, kind="maxima"), kind="maxima")
               for m in (at(ex, 512), at(ex, 4096))]
        out += [InputCase(m, (m.n,), reps // 2, label(m, kind="frozen"), kind="frozen")
                for m in (at(ex, 2000, beta) for beta in (3, 4))]
        return out

    def measure(self, config, case):
        gen = T.generator(config, self.result_id, case.label)
        n = case.model.n
        if case.kind == "maxima":
            xp = namespace(config.backend)
            g = np.concatenate([to_numpy(xp.max(gaussian((min(CHUNK, case.batch - s), n), rng=gen,
                                                         backend=xp), axis=1))
                                for s in range(0, case.batch, CHUNK)])
            return mean_se(g / math.sqrt(math.log(n)))
        beta_e = float(gg.model_beta(case.model))           # uncorrelated tokens: q = 1, p = 0
        _, H, F = rem_statistics(n, beta_e, reps=case.batch, rng=gen, backend=config.backend)
        return {"F": mean_se(F), "H": float(H.mean())}

    def compare(self, config, case, m, pred):
        par = {"case": case.label, "reps": case.batch}
        if case.kind == "maxima":
            mean, se = m
            return [T.band("E max / sqrt(log T)", par, measured=mean, predicted=float(pred.beta_c_T), se=se,
                           judges=("beta_c_T",))]
        f, se = m["F"]
        line = float(pred.frozen_free_energy.subs({gg.q: 1, gg.p: 0}))
        slack = m["H"] / math.log(case.model.n)
        return [T.bound("frozen free energy >= beta_eff beta_c(T)", par, measured=f, limit=line, se=se,
                        upper=False, judges=("frozen_free_energy",)),
                T.bound("frozen free energy <= beta_eff beta_c(T) + E H / log T", par, measured=f,
                        limit=line + slack, se=se, judges=("frozen_free_energy",),
                        detail=f"E H / log T = {slack:.4f} (log(1/w_max) <= H)")]


CHECK = FreezingCheck()
CHECK.controls = (
    T.scale("beta_c_T", 1.2, "freezing point x1.2", rejects=("beta_c_T",)),
    T.scale("beta_c_T", 0.9, "freezing point x0.9", rejects=("beta_c_T",)),
    T.Control("asymptotic sqrt 2 at finite T",
              lambda m, pred: pred(m).replace(beta_c_T=sympy.sqrt(2)), ("beta_c_T",)),
    T.scale("frozen_free_energy", 1.1, "frozen line x1.1"),
    T.scale("frozen_free_energy", 0.9, "frozen line x0.9"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
