"""Empirical check of ``bn.orthogonality-gap``: the BN chain
``H <- BN(W H)/sqrt(d)`` (``n = 4``) from a Gaussian start.

Per chain, ``d V^2`` is averaged over the stationary steps (after 25 steps;
the response ``n/(n+2) = 2/3`` forgets the start like ``(2/3)^l``); chains are
independent, so the SE comes from the spread across chains. Checks:

* ``d E V^2`` against the derived floor ``(n-1)(n+2)^2/(4n(n+1))`` at every
  ``d``, within 4 SE plus a finite-``d`` bias budget ``2 floor/d`` (the
  correction is ``O(1/d)``; its measured coefficient is ~1.1);
* the exponent of ``E V`` in ``d`` (log-log fit, bootstrap CI): the
  predicted law's exponent within 0.1;
* the 2021 bound ``E V(H_{l+1}) <= 2(1 - 2 alpha/3)^l + 3n/(alpha sqrt d)``
  with ``alpha`` the smallest singular value met along the chains.

``predict(n, d) -> float``: the predicted stationary ``E V^2``.
"""
from __future__ import annotations

import numpy as np
import sympy

from ..companions.products import orthogonality_chain
from ..stats import loglog_fit, mean_se
from ...theory.companions.bn import orthogonality_bound, orthogonality_floor
from ...theory.registry import CheckOutcome

__all__ = ["run", "NEGATIVE_CONTROLS"]

N = 4
BURN = 25
_sym = sympy.symbols("n d alpha l", positive=True)
_bound = sympy.lambdify(_sym, orthogonality_bound(*_sym), "numpy")


def _predict(n, d):
    return float(orthogonality_floor(n, d))


NEGATIVE_CONTROLS = {
    "floor x 1.25": lambda n, d: 1.25 * _predict(n, d),
    "floor x 0.8": lambda n, d: 0.8 * _predict(n, d),
    "1/sqrt(d) -> d^-0.75 (V)": lambda n, d: _predict(n, 1) / d**1.5,
    "response 2/3 -> 1/2 (n/(n+2) -> n/(2n))": lambda n, d: float(
        ((n - 1) / (n * d)) / (1 - 0.25)),
}


def run(config, predict=None):
    predict = predict or _predict
    rng = np.random.default_rng([config.seed, 104])
    ds = config.pick((16, 64, 256), (16, 64, 256, 1024), (16, 64, 256, 1024, 4096))
    steps = config.pick(45, 50, 100)
    chains = config.pick(80, 120, 400)
    out = []
    v_groups, v2d = [], []
    alpha = np.inf
    for d in ds:
        V = orthogonality_chain(N, d, steps, batch=chains, rng=rng, return_alpha=True)
        V, a = V
        alpha = min(alpha, float(a))
        per_chain = (V[BURN:] ** 2).mean(axis=0) * d
        m, se = mean_se(per_chain)
        pred = predict(N, d) * d
        budget = 2 * _predict(N, d) * d / d
        out.append(CheckOutcome("stationary d E V^2 vs the derived floor",
                                {"n": N, "d": d, "steps": steps, "chains": chains},
                                measured=float(m), predicted=pred,
                                passed=abs(m - pred) <= 4 * se + budget,
                                tolerance=f"4 SE (SE {se:.3g}) + O(1/d) budget {budget:.3g}"))
        v_groups.append(V[BURN:].mean(axis=0))
        v2d.append((d, V))
    fit = loglog_fit(ds, v_groups, rng=rng, n_boot=500)
    law = np.sqrt([predict(N, d) for d in ds])
    pred_slope = float(np.polyfit(np.log(ds), np.log(law), 1)[0])
    tol = max(0.1, fit.ci_high - fit.slope, fit.slope - fit.ci_low)
    out.append(CheckOutcome("exponent of E V in d", {"n": N, "d": list(ds)},
                            measured=fit.slope, predicted=pred_slope,
                            passed=abs(fit.slope - pred_slope) <= tol,
                            tolerance=f"0.1 or the 99% bootstrap CI ({fit.ci_low:.3f}, {fit.ci_high:.3f})"))
    worst = -np.inf
    for d, V in v2d:
        ls = np.arange(1, V.shape[0])
        bound = _bound(N, d, alpha, ls - 1)
        worst = max(worst, float(np.max(V[1:].mean(axis=1) / bound)))
    out.append(CheckOutcome("E V(H_l) below the 2021 bound (alpha measured)",
                            {"n": N, "d": list(ds), "alpha": alpha},
                            measured=worst, predicted="<= 1 (ratio to the bound)",
                            passed=worst <= 1.0, tolerance="inequality on the mean over chains"))
    return out
