"""Empirical check of ``bn.lyapunov``: QR iteration on products of Gaussian
matrices (variance ``1/d``) against the derived exponents
``mu_k = (log(2/d) + psi((d-k+1)/2))/2``.

The summands ``log|R_kk|`` of the QR iteration are exactly independent (for
Gaussian factors ``W Q`` has the law of ``W``), so the standard error of each
estimate is exact: ``sqrt(psi'((d-k+1)/2) / (4 * steps * chains))``
(:func:`theory.companions.bn.lyapunov_se`). Each exponent must lie within 4.5
SE (about 20 comparisons at the default level: false-alarm rate ~1e-4).

``predict(d, k) -> float``.
"""
from __future__ import annotations

import math

import numpy as np
import sympy

from ..companions.products import lyapunov_qr
from ...theory.companions.bn import lyapunov_numeric, lyapunov_se
from ...theory.registry import CheckOutcome

__all__ = ["run", "NEGATIVE_CONTROLS"]

Z = 4.5


def _predict(d, k):
    return lyapunov_numeric(d)[k - 1]


def _psi_shift(d, k):
    x = (d - k) / 2
    return float((math.log(2 / d) + sympy.polygamma(0, x)) / 2) if x > 0 else math.nan


NEGATIVE_CONTROLS = {
    "psi((d-k+1)/2) -> psi((d-k)/2)": _psi_shift,
    "log(2/d) -> log(1/d)": lambda d, k: _predict(d, k) - math.log(2) / 2,
    "mu_k -> mu_k + 1/(4d)": lambda d, k: _predict(d, k) + 1 / (4 * d),
}


def run(config, predict=None):
    predict = predict or _predict
    rng = np.random.default_rng([config.seed, 103])
    ds = config.pick((2, 5), (2, 5, 8), (2, 5, 8, 16, 32))
    steps = config.pick(600, 2000, 10000)
    chains = config.pick(4, 8, 8)
    out = []
    for d in ds:
        mu = lyapunov_qr(d, steps, batch=chains, rng=rng).mean(axis=0)
        se = np.array(lyapunov_se(d, steps * chains))
        pred = np.array([predict(d, k) for k in range(1, d + 1)], dtype=float)
        z = np.abs(mu - pred) / se
        ok = bool(np.all(np.isfinite(pred)) and np.all(z <= Z))
        out.append(CheckOutcome("Lyapunov spectrum by QR iteration",
                                {"d": d, "steps": steps, "chains": chains},
                                measured=mu.tolist(), predicted=pred.tolist(), passed=ok,
                                tolerance=f"{Z} exact SE per exponent (SE {se.min():.1e}..{se.max():.1e})",
                                detail=f"max |z| = {np.nanmax(z) if np.any(np.isfinite(z)) else math.inf:.2f}"))
    return out
