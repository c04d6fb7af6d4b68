"""Empirical check of ``bn.soft-rank`` (E1), on the toolkit:
``rank_tau(M) >= factor(tau) r(M)`` and its sharpness
(:class:`theory.companions.bn.SoftRankBound`, ``factor`` a function of ``TAU``).

Two cases (the statement covers every PSD matrix; the model is not sampled):

* ``random``: PSD matrices with heavy-tailed spectra and exact zeros, of
  sizes 2..13, at random ``tau``: ``min (rank_tau - factor r)/r >= 0``;
* ``extremal``: the near-extremal family of
  :func:`theory.companions.bn.soft_rank_tight_ratio` (``k`` large
  eigenvalues, ``m`` just below the threshold), on which ``rank_tau/(factor r)``
  must stay ``>= 1`` (judges ``factor``: a larger constant fails here) and
  its minimum over ``TAUS`` come within ``SHARP_TOL`` of ``sharpness`` (at
  finite ``m, eps`` the ratio is ``1 + O(tau^2/((1 - tau)^2 m) + eps)``: 1.0014
  at tau = 0.1, 1.5 at tau = 0.9).

The inequality is exact: the only tolerance is eigenvalue rounding
(``1e-9`` relative).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['random', 'extremal']
"""
from __future__ import annotations

import numpy as np
import sympy

from . import toolkit as T
from ..companions.products import random_psd, rank_tau, soft_rank
from ...theory.companions.bn import TAU
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "tight_spectra", "ROUNDING", "SHARP_TOL", "TAUS"]

#: eigenvalue rounding, relative
ROUNDING = 1e-9
#: how close the extremal family (k = 2, m = 400, eps = 1e-3) comes to the sharp constant
SHARP_TOL = 0.01
#: the thresholds of the extremal family
TAUS = (0.1, 0.3, 0.5, 0.7, 0.9)


def tight_spectra(taus, k=2, m=400, eps=1e-3):
    """Spectra (trace 1) with ``k`` eigenvalues ``a`` and ``m`` eigenvalues
    ``b = tau (1 - eps)/(k + m)`` just below the threshold, one row per tau."""
    taus = np.asarray(taus, dtype=float)
    b = taus * (1 - eps) / (k + m)
    a = (1 - m * b) / k
    return np.concatenate([np.repeat(a[:, None], k, 1), np.repeat(b[:, None], m, 1)], axis=1)


class SoftRankCheck(T.Check):
    result_id = "bn.soft-rank"

    def cases(self, config):
        ex = get(self.result_id).example()
        return [T.Case(ex, (2, 3, 5, 8, 13), config.pick(500, 5000, 50000), "random"),
                T.Case(ex, (402,), len(TAUS), "extremal")]

    def measure(self, config, case):
        if case.label == "extremal":
            spec = tight_spectra(TAUS)
            thr = np.asarray(TAUS) * spec.sum(1) / spec.shape[1]
            return {"tau": np.asarray(TAUS), "r": spec.sum(1) ** 2 / (spec**2).sum(1),
                    "rank": np.sum(spec >= thr[:, None], axis=1)}
        gen = T.generator(config, self.result_id, case.label)
        parts = []
        for dim in case.ns:
            M = random_psd(dim, batch=case.batch // len(case.ns), rng=gen, backend=config.backend)
            tau = gen.uniform(0, 0.95, size=M.shape[0])
            parts.append((tau, soft_rank(M), rank_tau(M, tau)))
        return {k: np.concatenate([p[i] for p in parts]) for i, k in enumerate(("tau", "r", "rank"))}

    def compare(self, config, case, m, pred):
        factor = np.asarray(sympy.lambdify(TAU, pred.factor, "numpy")(m["tau"]), float) * np.ones_like(m["tau"])
        par = {"case": case.label, "matrices": int(m["tau"].size)}
        if case.label == "random":
            slack = (m["rank"] - factor * m["r"]) / m["r"]
            i = int(np.argmin(slack))
            return [T.bound("min (rank_tau - factor r)/r over random PSD matrices", par, measured=slack[i],
                            limit=-ROUNDING, upper=False, judges=("factor",),
                            detail=f"worst tau {m['tau'][i]:.3f}")]
        ratio = m["rank"] / (factor * m["r"])
        return [T.bound("extremal family: min rank_tau / (factor r)", par, measured=ratio.min(), limit=1 - ROUNDING,
                        upper=False, judges=("factor",)),
                T.identity("extremal family: min rank_tau / (factor r) -> sharpness", par, measured=ratio.min(),
                           predicted=float(pred.sharpness), judges=("sharpness",), rtol=SHARP_TOL)]


CHECK = SoftRankCheck()
CHECK.controls = (
    T.Control("(1-tau)^2 -> (1-tau)", lambda m, pred: (lambda p: p.replace(factor=sympy.sqrt(p.factor)))(pred(m)),
              ("factor",)),
    T.Control("(1-tau)^2 -> (1-tau/2)^2", lambda m, pred: (lambda p: p.replace(factor=p.factor.subs(TAU, TAU / 2)))(
        pred(m)), ("factor",)),
    T.scale("factor", 1.05, name="(1-tau)^2 -> 1.05 (1-tau)^2"),
    T.scale("sharpness", 1.1, name="not sharp: 1.1"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
