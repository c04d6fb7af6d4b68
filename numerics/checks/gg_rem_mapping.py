"""Empirical check of ``gg.rem-mapping`` (A1): the key-specific logit variance
of one attention row equals ``beta_eff^2 log T``, ``beta_eff = beta sqrt(q(q-p))``.

Tokens ``x_b = sqrt(p) z + sqrt(1-p) g_b`` (q = 1), authors' Q/K scale.  The
across-key sample variance of row ``a`` (key ``a`` excluded) is an unbiased
estimate of ``(q - p) |W_K Q_a|^2 / d`` whose expectation is exactly
``beta^2 q (q - p) log T``; the SE comes from independent weight draws.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from ..companions import band
from ..companions.rem import as_generator, ln_tokens, qk_std
from ...theory.companions.gg import beta_eff


def predict(beta, q, p, T):
    """Variance over keys of one row's logits."""
    return float(beta_eff(beta, q, p)) ** 2 * math.log(T)


NEGATIVE_CONTROLS = {
    "beta_eff = beta q (drop -p)": lambda beta, q, p, T: beta**2 * q * q * math.log(T),
    "variance beta (not beta^2)": lambda beta, q, p, T: beta * q * (q - p) * math.log(T),
    "sqrt(log T) (not log T)": lambda beta, q, p, T: beta**2 * q * (q - p) * math.sqrt(math.log(T)),
}


def row_logit_variances(T, d, p, beta, draws, rng):
    """Per-draw mean over rows of the across-key logit variance (key a excluded)."""
    gen = as_generator(rng)
    X = ln_tokens(T, d, p, batch=draws, rng=gen, normalise=False)
    s = qk_std(beta, T, d)
    WQ = gen.standard_normal((draws, d, d)) * s
    WK = gen.standard_normal((draws, d, d)) * s
    L = (X @ WQ) @ np.swapaxes(X @ WK, 1, 2) / math.sqrt(d)
    idx = np.arange(T)
    L[:, idx, idx] = np.nan
    return np.nanvar(L, axis=2, ddof=1).mean(axis=1)


@functools.lru_cache(maxsize=4)
def measure(config):
    """Samples (cached per config: negative controls reuse them)."""
    T, d, draws = config.pick((256, 64, 6), (512, 128, 10), (1024, 256, 16))
    rng = np.random.default_rng([config.seed, 101])
    return T, d, draws, {(p, beta): row_logit_variances(T, d, p, beta, draws, rng)
                         for p in (0.0, 0.3) for beta in (0.5, 2.0)}


def run(config, predict=None):
    predict = predict or globals()["predict"]
    T, d, draws, data = measure(config)
    out = []
    for p in (0.0, 0.3):
        for beta in (0.5, 2.0):
            v = data[p, beta]
            pred = predict(beta, 1.0, p, T)
            out.append(band("key-specific logit variance", {"T": T, "d": d, "p": p, "beta": beta},
                            v.mean(), pred, v.std(ddof=1) / math.sqrt(draws)))
    return out
