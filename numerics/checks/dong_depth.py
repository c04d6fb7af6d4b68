"""Empirical check of ``dong.depth``: pure attention networks (no skip)
started near collapse (``|res(X_0)|_F = 0.1``), followed layer by layer with
the centred recursion (:func:`numerics.companions.residual.centred_recursion`),
which has no float64 floor. Checks:

* the recursion is the network: it agrees with the plain forward pass
  (relative ``1e-8`` in ``log|res|``) on the layers where ``|res| > 1e-6``;
* with ``y_l = -log|res(X_l)|``, the last ratio ``y_L / y_{L-1}`` equals the
  predicted per-layer exponent within 0.05: the solved recursion gives
  ``y_L/y_{L-1} = 3 - kappa/y_{L-1} + ...`` with ``kappa = O(1)`` and
  ``y_{L-1} >= 1000`` at the default depth, a bias below 0.01.

``predict() -> float``: the per-layer exponent.
"""
from __future__ import annotations

import numpy as np
import sympy

from ..companions.residual import (centred_recursion, init_san, residual_mean,
                                          san_forward)
from ...theory.registry import CheckOutcome, get

__all__ = ["run", "NEGATIVE_CONTROLS"]


def _predict():
    """lim_{L -> oo} log res_L / log res_{L-1} of the solved recursion of ``dong.depth``."""
    f = get("dong.depth").formulas()["log res_L"]
    L = next(s for s in f.free_symbols if s.name == "L")
    return float(sympy.simplify(sympy.limit(f / f.subs(L, L - 1), L, sympy.oo)))


NEGATIVE_CONTROLS = {
    "3 -> 2.75": lambda: 2.75,
    "3 -> 3.25": lambda: 3.25,
    "3 -> 2 (exponential, not doubly)": lambda: 2.0,
}


def run(config, predict=None):
    predict = predict or _predict
    rng = np.random.default_rng([config.seed, 203])
    depth = config.pick(7, 8, 10)
    draws = config.pick(3, 5, 20)
    out = []
    for n, d, heads in ((8, 8, 1), (6, 8, 2)):
        ratios, agree = [], 0.0
        for _ in range(draws):
            layers = init_san(d, depth, heads=heads, rng=rng)
            R = residual_mean(rng.standard_normal((n, d)))
            X = rng.standard_normal(d)[None, :] + 0.1 * R / np.linalg.norm(R)
            logs = np.array(centred_recursion(X, layers))
            naive = [np.linalg.norm(residual_mean(Y)) for Y in san_forward(X, layers[:3])]
            for a, b in zip(logs, naive):
                if b > 1e-6:
                    agree = max(agree, abs(a - np.log(b)) / max(1.0, abs(np.log(b))))
            y = -logs
            ratios.append(y[-1] / y[-2])
        ratios = np.array(ratios)
        pred = predict()
        out.append(CheckOutcome("recursion = forward pass while |res| > 1e-6",
                                {"n": n, "d": d, "heads": heads}, measured=agree, predicted=0.0,
                                passed=agree <= 1e-8, tolerance="1e-8 relative in log|res|"))
        out.append(CheckOutcome("last ratio log|res_L| / log|res_{L-1}|",
                                {"n": n, "d": d, "heads": heads, "depth": depth, "draws": draws},
                                measured=ratios.tolist(), predicted=pred,
                                passed=bool(np.all(np.abs(ratios - pred) <= 0.05)),
                                tolerance="0.05 (bias kappa/y_{L-1} < 0.01)",
                                detail=f"log10|res_L| down to {np.min(-y[-1]) / np.log(10):.0f}"))
    return out
