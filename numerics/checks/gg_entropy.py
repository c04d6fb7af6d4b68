"""Empirical check of ``gg.entropy`` (A5), on the toolkit.

Key-query models with the authors' Q/K scale whose rows, on uncorrelated tokens
(q = 1, p = 0: beta_eff = beta), are REMs of T = n energies (sampled as scalar
REM rows, the d -> oo limit), against the prediction
(:class:`theory.companions.gg.Entropy`):

* **fluid** (beta = 1/2, 4/5 at T = 20 000 (quick) / 100 000): the normalised
  entropy ``H / log T`` against ``fluid`` (policy Student-t quantile of the SE
  over replicas, df = reps - 1, plus a bias budget 0.01: the measured finite-T
  error is < 0.005 at T = 1e5, beta <= 0.8);
* **frozen** (beta = 4, 6 at T = 2000): ``E H`` against ``frozen``,
  ``psi(1) - psi(1 - m)``, with a relative budget of 12% (the entropy
  approaches the Poisson-Dirichlet value slowly: measured H/pred = 0.95 at
  beta = 4, 0.97 at 6, T = 2000..50 000).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.kind for c in CHECK.cases(VerifyConfig(level="quick"))]
['frozen', 'frozen', 'fluid', 'fluid']
"""
from __future__ import annotations

import math

import sympy

from . import toolkit as T
from .gg_participation import freezing_point_times, rem_cases, uncorrelated
from ..companions.rem import rem_statistics
from ..stats import mean_se
from ...theory.companions import gg

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS"]

#: bias budgets: absolute on H / log T (fluid), relative on E H (frozen)
FLUID_BIAS, FROZEN_BIAS = 0.01, 0.12


class EntropyCheck(T.Check):
    result_id = "gg.entropy"

    def cases(self, config):
        frozen = rem_cases(self.result_id, 2000, (4, 6), (), config.pick(1000, 3000, 10000), 0)
        fluid = rem_cases(self.result_id, config.pick(20000, 100000, 100000), (),
                          (sympy.Rational(1, 2), sympy.Rational(4, 5)), 0, config.pick(10, 20, 60))
        return frozen + fluid

    def measure(self, config, case):
        n = case.model.n
        _, H, _ = rem_statistics(n, float(gg.model_beta(case.model)), reps=case.batch,
                                 rng=T.generator(config, self.result_id, case.label),
                                 chunk=10 if case.kind == "fluid" else 500, backend=config.backend)
        return mean_se(H / math.log(n)) if case.kind == "fluid" else mean_se(H)

    def compare(self, config, case, m, pred):
        mean, se = m
        par = {"case": case.label, "reps": case.batch}
        if case.kind == "fluid":
            return [T.band("H / log T below freezing", par, measured=mean, predicted=uncorrelated(pred.fluid),
                           se=se, judges=("fluid",), df=case.batch - 1, below=FLUID_BIAS, above=FLUID_BIAS)]
        frozen = uncorrelated(pred.frozen)
        return [T.band("E H above freezing (Poisson-Dirichlet constant)", par, measured=mean, predicted=frozen,
                       se=se, judges=("frozen",), below=FROZEN_BIAS * frozen, above=FROZEN_BIAS * frozen)]


CHECK = EntropyCheck()
CHECK.controls = (
    freezing_point_times(1.2, ("fluid", "frozen")),
    T.Control("1 - beta^2/2 -> 1 - beta^2/4",
              lambda m, pred: (lambda pr: pr.replace(fluid=(1 + pr.fluid) / 2))(pred(m)), ("fluid",)),
    T.Control("frozen H -> 2 log 2", lambda m, pred: pred(m).replace(frozen=2 * sympy.log(2)), ("frozen",)),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
