"""Empirical check of ``gg.trainability`` (A9, gapcheck's own claim, grade D):
cells of the (beta, alpha_A^2) diagram at depth L, classified by the map
(:func:`theory.companions.gg.classify_trainability`) and by sampled post-LN
networks with the same rule: rank collapse if 1 - p_L < eps (0.05), entropy
collapse if the normalised attention entropy H/log T falls below 0.35 at some
layer (between the fluid values >= 0.5 for beta_eff <= 1 and the frozen values
<= 0.25 at T = 128, beta_eff >= 2), trainable otherwise.  Cells are chosen far
from the boundaries; 1 - p_L is also compared within the random-walk budget.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from ..companions.rem import ln_tokens, stack
from ..companions import walk_budget
from ...theory.companions.gg import classify_trainability
from ...theory.registry import CheckOutcome

EPS, H_STAR = 0.05, 0.35


def predict(beta, alpha2, L, T):
    """(label, rho_L) from the map."""
    label, rho_L, _ = classify_trainability(beta, math.sqrt(alpha2), L, T, eps=EPS,
                                            alpha_m=math.sqrt(alpha2))
    return label, rho_L


NEGATIVE_CONTROLS = {
    "skip strength ignored (alpha = 1)": lambda beta, a2, L, T: predict(beta, 1.0, L, T),
    "no entropy collapse (freezing point x3)": lambda beta, a2, L, T: (
        "trainable" if predict(beta, a2, L, T)[0] == "entropy-collapse" else predict(beta, a2, L, T)[0],
        predict(beta, a2, L, T)[1]),
}


def _label(cos, ent):
    if 1 - cos[-1] < EPS:
        return "rank-collapse"
    if min(ent) < H_STAR:
        return "entropy-collapse"
    return "trainable"


@functools.lru_cache(maxsize=4)
def measure(config):
    """Sampled networks per cell (cached per config: negative controls reuse them)."""
    T, d, L, B = config.pick((128, 96, 10, 1), (128, 96, 10, 1), (256, 256, 12, 3))
    rng = np.random.default_rng([config.seed, 109])
    cells = {}
    for beta in (0.5, 3.0):
        for alpha2 in (1.0, float(L)):
            a = math.sqrt(alpha2)
            cells[beta, alpha2] = stack(ln_tokens(T, d, 0.0, batch=B, rng=rng), L, beta, norm="post",
                                        alpha_a=a, alpha_m=a, rng=rng)
    return T, d, L, cells


def run(config, predict=None):
    predict = predict or globals()["predict"]
    T, d, L, cells = measure(config)
    out = []
    for beta in (0.5, 3.0):
        for alpha2 in (1.0, float(L)):
            cos, ent = cells[beta, alpha2]
            label, rho_L = predict(beta, alpha2, L, T)
            got = _label(cos, ent)
            budget = walk_budget(L, d)
            ok = got == label and abs(cos[-1] - rho_L) <= budget
            out.append(CheckOutcome("diagram cell: network vs map",
                                    {"beta": beta, "alpha2": alpha2, "L": L, "T": T, "d": d},
                                    measured={"label": got, "rho_L": round(cos[-1], 4),
                                              "min_H/logT": round(min(ent), 3)},
                                    predicted={"label": label, "rho_L": round(rho_L, 4)}, passed=ok,
                                    tolerance=f"same label; |rho_L| within 0.75 sqrt(L/d) = {budget:.3f}"))
    return out
