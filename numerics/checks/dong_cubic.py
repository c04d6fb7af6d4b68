"""Empirical check of ``dong.cubic``: one self-attention layer on
``X = 1 x^T + eps R`` over ``eps`` in ``[10^-3.5, 10^-1]`` (2.5 decades),
residual measured by the plain forward pass (mean-centring, composite norm;
``|res| ~ eps^3 >= 3e-11`` stays four decades above the float64 floor of
``~1e-15``). The log-log slope (bootstrap CI over weight draws) must match the
predicted exponent within 0.1 (exponent tolerances 0.1-0.15, docs/derivations.md, section dong.cubic; the
higher-order terms are ``O(eps^2)`` relative, a slope bias below 0.01).

``predict() -> float``: the exponent.
"""
from __future__ import annotations

import numpy as np

from ..companions.residual import attention_layer, composite_norm, init_san, residual_mean
from ..stats import loglog_fit
from ...theory.registry import CheckOutcome, get

__all__ = ["run", "NEGATIVE_CONTROLS"]


def _predict():
    return float(get("dong.cubic").formulas()["exponent"])


NEGATIVE_CONTROLS = {
    "3 -> 2.75": lambda: 2.75,
    "3 -> 3.25": lambda: 3.25,
    "3 -> 2 (quadratic)": lambda: 2.0,
}


def run(config, predict=None):
    predict = predict or _predict
    rng = np.random.default_rng([config.seed, 202])
    draws = config.pick(4, 6, 20)
    eps = np.logspace(-3.5, -1, config.pick(6, 11, 21))
    out = []
    for n, d, heads in ((8, 8, 1), (6, 12, 3)):
        samples = np.empty((eps.size, draws))
        for j in range(draws):
            layer = init_san(d, 1, heads=heads, rng=rng)[0]
            x = rng.standard_normal(d)
            R = residual_mean(rng.standard_normal((n, d)))
            R /= composite_norm(R)
            for i, e in enumerate(eps):
                Y = attention_layer(x[None, :] + e * R, layer)
                samples[i, j] = composite_norm(residual_mean(Y))
        fit = loglog_fit(eps, samples, rng=rng, n_boot=500)
        pred = predict()
        tol = max(0.1, fit.ci_high - fit.slope, fit.slope - fit.ci_low)
        out.append(CheckOutcome("exponent of |res(SA(1x^T + eps R))| in eps",
                                {"n": n, "d": d, "heads": heads, "draws": draws,
                                 "eps": [float(eps[0]), float(eps[-1])]},
                                measured=fit.slope, predicted=pred,
                                passed=abs(fit.slope - pred) <= tol,
                                tolerance=f"0.1 or the 99% bootstrap CI ({fit.ci_low:.4f}, {fit.ci_high:.4f})"))
    return out
