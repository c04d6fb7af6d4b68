"""Empirical check of ``bn.orthogonality-gap`` (E4), on the toolkit: the BN
chain ``H <- BN(W H)/sqrt(d)`` on the example's ``n = 4`` samples from a
Gaussian start, against :class:`theory.companions.bn.OrthogonalityGap`.

One case per width d (the model at that d) and one ``grid`` case reading
their (cached) chains. Per chain, ``d V^2`` is averaged over the stationary
steps (after ``BURN`` = 25 steps: the response ``n/(n+2) = 2/3`` forgets the
start like ``(2/3)^l``); chains are independent, so the SE comes from their
spread. Outcomes:

* per d, ``d E V^2`` against ``d floor``: policy t band plus a finite-d
  budget ``BIAS / d`` times the measured value (the correction is O(1/d);
  its measured coefficient is ~1.1, ``BIAS`` = 2);
* per d, the mean ``V(H_{t+1})`` over chains divided by the 2021 ``bound`` at
  step t, with ``alpha`` the smallest singular value met along that d's
  chains: at most 1 at every step;
* ``grid``: the log-log exponent of ``E V`` in d (99% bootstrap CI) contains
  ``exponent`` within the slope budget ``SLOPE_BUDGET`` (the O(1/d)
  correction of the floor tilts the fit).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['d=16', 'd=64', 'd=256', 'grid']
"""
from __future__ import annotations

import numpy as np
import sympy

from . import toolkit as T
from ..companions.products import orthogonality_chain
from ..stats import loglog_fit, mean_se
from ...theory.companions.bn import ALPHA, STEP
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "BURN", "BIAS", "SLOPE_BUDGET", "WidthGrid"]

#: steps before the chain is read as stationary
BURN = 25
#: finite-d budget of the floor, relative, times 1/d
BIAS = 2.0
#: slope budget of the exponent fit
SLOPE_BUDGET = 0.1


class WidthGrid(T.Check):
    """Cases of a chain over a grid of widths: one per width d (the example at
    that d with ``depths`` steps and ``chains`` chains, per level), then a
    ``grid`` case whose measurement is the list of theirs (cached, so each
    chain is run once); subclasses measure one width in :meth:`measure_width`."""

    depths: tuple = ()
    widths: tuple = ()
    chains: tuple = ()

    def _widths(self, config):
        ex = get(self.result_id).example().replace(depth=config.pick(*self.depths))
        return [T.Case(ex.replace(d=d), (d,), config.pick(*self.chains), f"d={d}")
                for d in config.pick(*self.widths)]

    def cases(self, config):
        widths = self._widths(config)
        return widths + [T.Case(widths[0].model, tuple(c.model.d for c in widths), widths[0].batch, "grid")]

    def measure(self, config, case):
        if case.label == "grid":
            return [self.measured(config, c) for c in self._widths(config)]
        return self.measure_width(config, case)

    def measure_width(self, config, case):
        raise NotImplementedError


class OrthogonalityGapCheck(WidthGrid):
    result_id = "bn.orthogonality-gap"
    depths, chains = (45, 50, 100), (80, 120, 400)
    widths = ((16, 64, 256), (16, 64, 256, 1024), (16, 64, 256, 1024, 4096))

    def measure_width(self, config, case):
        m = case.model
        return orthogonality_chain(m.samples, m.d, m.depth, batch=case.batch, return_alpha=True,
                                   rng=T.generator(config, self.result_id, case.label), backend=config.backend)

    def compare(self, config, case, measured, pred):
        par = {"case": case.label, "n": case.model.samples, "steps": case.model.depth, "chains": case.batch}
        if case.label == "grid":
            groups = [V[BURN:].mean(axis=0) for V, _ in measured]
            fit = loglog_fit(case.ns, groups, rng=T.seed(config, self.result_id, "bootstrap"), n_boot=500)
            return [T.rate("exponent of E V in d", par, fit, predicted=float(pred.exponent), judges=("exponent",),
                           below=SLOPE_BUDGET, above=SLOPE_BUDGET)]
        V, alpha = measured
        d = case.model.d
        m, se = mean_se((V[BURN:] ** 2).mean(axis=0) * d)
        budget = BIAS * float(m) / d
        bound = sympy.lambdify((ALPHA, STEP), pred.bound, "numpy")(alpha, np.arange(V.shape[0] - 1))
        worst = float(np.max(V[1:].mean(axis=1) / bound))
        return [T.band("stationary d E V^2 vs d floor", par, measured=m, predicted=float(pred.floor) * d, se=se,
                       df=case.batch - 1, below=budget, above=budget, judges=("floor",)),
                T.bound("max_t E V(H_{t+1}) / bound(alpha, t)", {**par, "alpha": alpha}, measured=worst, limit=1.0,
                        judges=("bound",), detail="alpha: the smallest singular value met along the chains")]


CHECK = OrthogonalityGapCheck()
CHECK.controls = (
    T.scale("floor", 1.25),
    T.scale("floor", 0.8),
    T.shift("exponent", -0.25, name="1/sqrt(d) -> d^-0.75 (V)"),
    T.remodel("n/(n+2) and (1-1/n) at n + 1 samples", ("floor",), lambda m: {"samples": m.samples + 1}),
    T.scale("bound", 0.02, name="bound x 0.02 (a bound the chain exceeds)"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
