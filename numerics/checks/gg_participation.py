"""Empirical check of ``gg.participation`` (A3): scalar REM rows, participation
ratio ``Y = sum w^2``.  Above the freezing point ``E Y = 1 - m`` and
``Var Y = m(1-m)/3`` with ``m = beta_c(T)/beta_eff`` (>= 1.7 above beta_c(T),
many replicas: Y does not self-average); below it ``E Y -> 0`` with the annealed
finite-T value ``T^(beta^2 - 1)``.

Budgets: finite-T bias of E Y measured <= 0.003 at T = 2000 for beta >= 3 (0.013 at
2.5): budget 0.01; of Var Y measured <= 0.009: budget 0.012.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from ..companions import band, interval
from ..companions.rem import rem_statistics
from ...theory.companions.gg import beta_c_finite


def predict(beta, T):
    """(E Y, Var Y) at finite T."""
    m = min(1.0, beta_c_finite(T) / beta)
    return 1 - m, m * (1 - m) / 3


NEGATIVE_CONTROLS = {
    "1 - m -> 1 - m/1.1": lambda beta, T: (1 - min(1, beta_c_finite(T) / beta) / 1.1,
                                           predict(beta, T)[1]),
    "freezing point x1.2": lambda beta, T: predict(beta / 1.2, T),
    "Var m(1-m)/3 -> m(1-m)/2": lambda beta, T: (predict(beta, T)[0], 1.5 * predict(beta, T)[1]),
    "self-averaging (Var -> 0)": lambda beta, T: (predict(beta, T)[0], 0.0),
}


@functools.lru_cache(maxsize=4)
def measure(config):
    """Samples (cached per config: negative controls reuse them)."""
    T = 2000
    reps = config.pick(3000, 6000, 20000)
    rng = np.random.default_rng([config.seed, 103])
    return T, reps, {beta: rem_statistics(T, beta, reps=reps if beta > 1 else 200, rng=rng)[0]
                     for beta in (3.0, 4.0, 0.5)}


def run(config, predict=None):
    predict = predict or globals()["predict"]
    T, reps, data = measure(config)
    out = []
    for beta in (3.0, 4.0):
        Y = data[beta]
        ey, vy = predict(beta, T)
        se = Y.std(ddof=1) / math.sqrt(reps)
        out.append(band("E Y above freezing", {"T": T, "beta": beta, "reps": reps}, Y.mean(), ey, se,
                        bias=0.01))
        c = (Y - Y.mean()) ** 2
        se_var = c.std(ddof=1) / math.sqrt(reps)
        out.append(band("Var Y above freezing (no self-averaging)",
                        {"T": T, "beta": beta, "reps": reps}, Y.var(ddof=1), vy, se_var, bias=0.012))
    beta = 0.5
    Y = data[beta]
    ey, _ = predict(beta, T)
    budget = 3 * T ** (beta**2 - 1)
    out.append(interval("E Y below freezing -> 0", {"T": T, "beta": beta}, Y.mean(), ey - 1e-12,
                        ey + budget, tolerance="annealed finite-T budget 3 T^(beta^2-1)"))
    return out
