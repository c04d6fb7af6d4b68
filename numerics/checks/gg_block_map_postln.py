"""Empirical check of ``gg.block-map-postln`` (A6): sampled post-LN blocks
(single head, ReLU MLP, alpha_A = alpha_M = 1, sigma_v^2 = sigma_w^2 = 1) against
the iterated map, on both sides of the freezing point, finite-T beta_c(T).

Budget: max abs error over layers <= 0.75 sqrt(L/d) (random-walk accumulation of
O(d^-1/2) per-layer errors; 0.15 at L = 10, d = 256 as in docs/derivations.md, section gg.block-map-postln).
"""
from __future__ import annotations

import functools

import numpy as np

from ..companions import curve, walk_budget
from ..companions.rem import ln_tokens, stack
from ...theory.companions.gg import iterate_map


def predict(p0, depth, beta, T, **kw):
    """Cosines of the post-LN map, layers 0..depth."""
    return iterate_map(p0, depth, beta, T, norm="post", **kw)


NEGATIVE_CONTROLS = {
    "attention keeps geometry (Y = 1)": lambda p0, L, beta, T, **kw: iterate_map(
        p0, L, beta, T, participation=lambda be, t: 1.0, **kw),
    "skip connections ignored (alpha_A = alpha_M = 0)": lambda p0, L, beta, T, **kw: iterate_map(
        p0, L, beta, T, **{**kw, "alpha_a": 0.0, "alpha_m": 0.0}),
    "no REM (Y = 0 at every beta)": lambda p0, L, beta, T, **kw: iterate_map(
        p0, L, beta, T, participation=lambda be, t: 0.0, **kw),
}


@functools.lru_cache(maxsize=4)
def measure(config):
    """Sampled networks (cached per config: negative controls reuse them)."""
    T, d, L, B = config.pick((256, 128, 6, 2), (256, 128, 6, 2), (1024, 256, 10, 3))
    rng = np.random.default_rng([config.seed, 106])
    return T, d, L, {beta: stack(ln_tokens(T, d, 0.2, batch=B, rng=rng), L, beta, norm="post",
                                 rng=rng)[0] for beta in (0.5, 3.0)}


def run(config, predict=None):
    predict = predict or globals()["predict"]
    T, d, L, data = measure(config)
    out = []
    budget = walk_budget(L, d)
    for beta in (0.5, 3.0):
        cos = data[beta]
        out.append(curve("post-LN cosine per block: network vs map",
                         {"T": T, "d": d, "L": L, "beta": beta}, cos,
                         predict(cos[0], L, beta, T), budget,
                         tolerance=f"0.75 sqrt(L/d) = {budget:.3f}"))
    return out
