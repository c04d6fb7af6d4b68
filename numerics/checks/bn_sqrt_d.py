"""Empirical check of ``bn.sqrt-d`` (E2), on the toolkit: the batch-normalised
chain keeps a soft rank of order ``sqrt(d)``; without BN it collapses
(:class:`theory.companions.bn.SoftRankGrowth`).

Chains ``H <- D (I + W) H`` (the example's ``sigma_V = gamma = 0.1``) from
``H_0 = I``; burn-in 1000 steps = 10 / gap at the default level (the Lyapunov
gap of ``I + gamma W`` is ~``gamma^2``), then the soft rank is averaged over
the remaining steps in each of several independent chains. Cases: one per
width d, a ``grid`` case reading their (cached) chains, and the chain at the
largest d normalised by ``|H|_F`` only (no BN). Outcomes:

* per d: ``r / growth`` within E2's Theta band ``[1/2, 2]`` (judges
  ``growth``; the measured constant is ~0.9);
* ``grid``: the 99% bootstrap CI of the log-log exponent of the averages in d
  contains ``exponent`` within the slope budget ``SLOPE_BUDGET`` (the
  constant drifts between 0.89 and 0.94 over d);
* without BN: the final soft rank equals ``collapsed`` within ``COLLAPSE_TOL``
  (after ``gap * steps >= 18``).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['d=4', 'd=8', 'd=16', 'grid', 'without BN, d=16']
"""
from __future__ import annotations

import math

import numpy as np

from . import toolkit as T
from .bn_orthogonality_gap import WidthGrid
from ..companions.products import bn_chain
from ..stats import loglog_fit

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "THETA_BAND", "SLOPE_BUDGET", "COLLAPSE_TOL"]

#: E2's Theta read as a factor-2 band around the growth law (docs/derivations.md, bn.sqrt-d)
THETA_BAND = 2.0
#: slope budget of the exponent fit
SLOPE_BUDGET = 0.1
#: how close to rank one the chain without BN ends
COLLAPSE_TOL = 0.05


class SqrtDCheck(WidthGrid):
    result_id = "bn.sqrt-d"
    depths, chains = (1800, 2500, 5000), (4, 6, 8)
    widths = ((4, 8, 16), (4, 8, 16, 32), (4, 8, 16, 32, 64))

    def cases(self, config):
        cases = super().cases(config)
        last = cases[-2]
        return cases + [T.Case(last.model, last.ns, last.batch, f"without BN, {last.label}")]

    def measure_width(self, config, case):
        m, burn = case.model, config.pick(600, 1000, 1500)
        gen = T.generator(config, self.result_id, case.label)
        gamma = math.sqrt(float(m.variance))
        if case.label.startswith("without BN"):
            _, trace = bn_chain(m.d, m.depth, gamma=gamma, burn_in=m.depth - 1, batch=case.batch, rng=gen,
                                normalise="frobenius", record_every=m.depth, backend=config.backend)
            return float(trace[-1].mean())
        return bn_chain(m.d, m.depth, gamma=gamma, burn_in=burn, batch=case.batch, rng=gen,
                        backend=config.backend)[0]

    def compare(self, config, case, measured, pred):
        p = pred.numeric()
        par = {"case": case.label, "gamma": math.sqrt(float(case.model.variance)), "steps": case.model.depth,
               "chains": case.batch}
        if case.label == "grid":
            fit = loglog_fit(case.ns, measured, rng=T.seed(config, self.result_id, "bootstrap"), n_boot=500)
            return [T.rate("exponent of the depth-averaged soft rank in d", par, fit, predicted=p["exponent"],
                           judges=("exponent",), below=SLOPE_BUDGET, above=SLOPE_BUDGET)]
        if case.label.startswith("without BN"):
            return [T.identity("without BN the soft rank collapses", par, measured=measured,
                               predicted=p["collapsed"], judges=("collapsed",), rtol=0.0, atol=COLLAPSE_TOL)]
        ratio = float(np.mean(measured)) / p["growth"]
        return [T.bound("|log2(r / growth)| (Theta band [1/2, 2])", par, measured=abs(math.log2(ratio)),
                        limit=math.log2(THETA_BAND), judges=("growth",), detail=f"r / growth = {ratio:.3f}")]


CHECK = SqrtDCheck()
CHECK.controls = (
    T.shift("exponent", 0.25, name="sqrt(d) -> d^0.75 (exponent)"),
    T.shift("exponent", -0.25, name="sqrt(d) -> d^0.25 (exponent)"),
    T.shift("exponent", 0.5, name="sqrt(d) -> d (exponent)"),
    T.times("sqrt(d) -> d (growth)", "growth", lambda m: math.sqrt(m.d)),
    T.shift("collapsed", 1, name="collapses to rank two"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
