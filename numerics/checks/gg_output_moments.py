"""Empirical check of ``gg.output-moments`` (A4): per-coordinate moments of the
attention output ``A X W_V`` for LN tokens with overlap p, on both sides of the
freezing point; Y from the finite-T law ``1 - beta_c(T)/beta_eff``.

Band: 4 SE over independent draws + 0.02 (finite-T bias of the Y law, measured
<= 0.015 at T = 1024 away from beta_c).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from ..companions import band
from ..companions.rem import attention, ln_tokens, token_overlap
from ...theory.companions.gg import attention_output_moments, beta_eff, participation_ratio


def predict(q, p, beta, T):
    """(q_att, p_att) for sigma_v^2 = 1, no bias."""
    Y = participation_ratio(float(beta_eff(beta, 1, min(max(p, 0.0), 1.0))), T)
    qa, pa = attention_output_moments(q, p, Y)
    return float(qa), float(pa)


NEGATIVE_CONTROLS = {
    "q - p -> q in q_att": lambda q, p, beta, T: (predict(q, p, beta, T)[0] + p * participation_ratio(
        float(beta_eff(beta, 1, max(p, 0.0))), T), predict(q, p, beta, T)[1]),
    "no collapse below freezing (q_att = q)": lambda q, p, beta, T: (
        q if beta * math.sqrt(1 - p) < 1.2 else predict(q, p, beta, T)[0], predict(q, p, beta, T)[1]),
    "p_att = p^2": lambda q, p, beta, T: (predict(q, p, beta, T)[0], p * p),
}


@functools.lru_cache(maxsize=4)
def measure(config):
    """Samples (cached per config: negative controls reuse them)."""
    T, d, draws = config.pick((512, 128, 4), (1024, 256, 4), (1024, 512, 8))
    rng = np.random.default_rng([config.seed, 104])
    data = {}
    for p in (0.0, 0.3):
        for beta in (0.5, 4.0):
            X = ln_tokens(T, d, p, batch=draws, rng=rng)
            _, O = attention(X, beta, rng=rng)
            data[p, beta] = token_overlap(X) + token_overlap(O)
    return T, d, draws, data


def run(config, predict=None):
    predict = predict or globals()["predict"]
    T, d, draws, data = measure(config)
    out = []
    for p in (0.0, 0.3):
        for beta in (0.5, 4.0):
            p_in, q_in, p_out, q_out = data[p, beta]
            qa, pa = predict(float(q_in.mean()), float(p_in.mean()), beta, T)
            par = {"T": T, "d": d, "p": p, "beta": beta}
            out.append(band("q_att", par, q_out.mean(), qa, q_out.std(ddof=1) / math.sqrt(draws),
                            bias=0.02))
            out.append(band("p_att", par, p_out.mean(), pa, p_out.std(ddof=1) / math.sqrt(draws),
                            bias=0.02))
    return out
