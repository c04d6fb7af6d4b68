"""Empirical check of ``bn.sqrt-d``: the batch-normalised chain keeps a soft
rank of order ``sqrt(d)``; without BN it collapses to 1.

Chains ``H <- D (I + gamma W) H`` (``gamma = 0.1``) from ``H_0 = I``; burn-in
1000 steps = 10 / gap (the Lyapunov gap of ``I + gamma W`` is ~``gamma^2``),
then the soft rank is averaged over the remaining steps in each of several
independent chains. Checks: the exponent of a log-log fit of the average
against ``d`` (bootstrap CI over chains) agrees with the predicted law's
exponent within 0.1; ``r / law(d)`` lies in ``[0.5, 2]`` at every ``d``
(E2, docs/derivations.md, section bn.sqrt-d); the vanilla chain (``frobenius`` normalisation) ends with
``r < 1.05``.

``predict(d) -> float``: the predicted growth law (default ``sqrt(d)``).
"""
from __future__ import annotations

import numpy as np

from ..companions.products import bn_chain
from ..stats import loglog_fit
from ...theory.registry import CheckOutcome, get

__all__ = ["run", "NEGATIVE_CONTROLS"]

GAMMA = 0.1


def _predict(d):
    law = get("bn.sqrt-d").formulas(d=d)["growth"]
    return float(law)


NEGATIVE_CONTROLS = {
    "sqrt(d) -> d^0.75": lambda d: d**0.75,
    "sqrt(d) -> d^0.25": lambda d: d**0.25,
    "sqrt(d) -> d": lambda d: float(d),
}


def run(config, predict=None):
    predict = predict or _predict
    rng = np.random.default_rng([config.seed, 102])
    ds = config.pick((4, 8, 16), (4, 8, 16, 32), (4, 8, 16, 32, 64))
    steps = config.pick(1800, 2500, 5000)
    burn = config.pick(600, 1000, 1500)
    batch = config.pick(4, 6, 8)
    avgs = [bn_chain(d, steps, gamma=GAMMA, burn_in=burn, batch=batch, rng=rng)[0] for d in ds]
    fit = loglog_fit(ds, avgs, rng=rng, n_boot=500)
    law = np.array([predict(d) for d in ds], dtype=float)
    pred_slope = float(np.polyfit(np.log(ds), np.log(law), 1)[0])
    tol = max(0.1, fit.ci_high - fit.slope, fit.slope - fit.ci_low)
    out = [CheckOutcome("exponent of the depth-averaged soft rank in d",
                        {"d": list(ds), "gamma": GAMMA, "steps": steps, "burn_in": burn,
                         "chains": batch},
                        measured=fit.slope, predicted=pred_slope,
                        passed=abs(fit.slope - pred_slope) <= tol,
                        tolerance=f"0.1 or the 99% bootstrap CI half-width ({fit.ci_low:.3f}, "
                                  f"{fit.ci_high:.3f}), whichever is larger")]
    ratios = np.array([a.mean() for a in avgs]) / law
    out.append(CheckOutcome("r / law(d) within [0.5, 2] (Theta)", {"d": list(ds)},
                            measured=ratios.tolist(), predicted="[0.5, 2]",
                            passed=bool(np.all((ratios >= 0.5) & (ratios <= 2))),
                            tolerance="band of E2 (docs/derivations.md, section bn.sqrt-d)", detail="constant ~0.9 measured"))
    d = ds[-1]
    _, trace = bn_chain(d, steps, gamma=GAMMA, burn_in=steps - 1, batch=batch, rng=rng,
                        normalise="frobenius", record_every=steps)
    r_end = float(trace[-1].mean())
    out.append(CheckOutcome("without BN the soft rank collapses to 1", {"d": d, "steps": steps},
                            measured=r_end, predicted=1.0, passed=r_end < 1.05,
                            tolerance="r < 1.05 after gap * steps >= 18"))
    return out
