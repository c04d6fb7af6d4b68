"""Empirical check of ``gg.freezing`` (A2): the finite-T freezing point
``beta_c(T) = E[max of T N(0,1)] / sqrt(log T)`` (mpmath quadrature) against
Monte Carlo maxima, and the frozen-phase free energy ``F(beta) = beta beta_c(T)``:
``F - beta beta_c(T)`` lies in ``[0, E H / log T]`` because
``log sum_b exp(E_b - E_max) = log(1/w_max) <= H``.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from ..companions import band, interval
from ..companions.rem import rem_statistics
from ..stats import mean_se
from ...theory.companions.gg import beta_c_finite


def predict(T):
    """The freezing point at T keys."""
    return beta_c_finite(T)


NEGATIVE_CONTROLS = {
    "freezing point x1.2": lambda T: 1.2 * beta_c_finite(T),
    "asymptotic sqrt 2 at finite T": lambda T: math.sqrt(2),
    "freezing point x0.9": lambda T: 0.9 * beta_c_finite(T),
}


@functools.lru_cache(maxsize=4)
def measure(config):
    """Samples (cached per config: negative controls reuse them)."""
    reps = config.pick(1000, 4000, 20000)
    rng = np.random.default_rng([config.seed, 102])
    maxima = {}
    for T in (512, 4096):
        g = np.empty(reps)
        for s in range(0, reps, 1000):
            k = min(1000, reps - s)
            g[s:s + k] = rng.standard_normal((k, T)).max(axis=1)
        maxima[T] = g
    frozen = {beta: rem_statistics(2000, beta, reps=reps // 2, rng=rng)[1:] for beta in (3.0, 4.0)}
    return reps, maxima, frozen


def run(config, predict=None):
    predict = predict or globals()["predict"]
    reps, maxima, frozen = measure(config)
    out = []
    for T, g in maxima.items():
        m, se = mean_se(g / math.sqrt(math.log(T)))
        out.append(band("E max / sqrt(log T)", {"T": T, "reps": reps}, m, predict(T), se))
    T = 2000
    for beta in (3.0, 4.0):
        H, F = frozen[beta]
        f, se = mean_se(F)
        lo = beta * predict(T) - 4 * se
        hi = beta * predict(T) + H.mean() / math.log(T) + 4 * se
        out.append(interval("frozen free energy beta beta_c(T) + [0, H/log T]",
                            {"T": T, "beta": beta}, f, lo, hi,
                            tolerance="one-sided bound log(1/w_max) <= H, plus 4 SE"))
    return out
