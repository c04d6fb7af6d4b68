"""Empirical check of ``gg.depth-collapse`` (A8).

* The ReLU post-LN map never decreases p (grid of p x random hyper-parameters),
  and its slope at p = 1 (one-sided difference of the map) is < 1 (200 random
  draws), so p = 1 is the only fixed point.
* Near p = 1 the iterated map contracts 1 - p at the predicted rate lambda.
* The skip scaling alpha_A^2 = alpha_M^2 = c L^e with the predicted exponent e = 1
  keeps 1 - p_L bounded away from 0 and from 1 - p_0 as L grows (L = 10..1000 on the
  map), and sampled post-LN networks with this scaling follow the map.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from ..companions import curve, interval, walk_budget
from ..companions.rem import ln_tokens, stack
from ...theory.companions.gg import block_map_postln, iterate_map, slope_at_one_closed_form
from ...theory.registry import CheckOutcome, get


def predict():
    """Exponent e of the skip scaling alpha^2 = c L^e that keeps 1 - p_L = Theta(1),
    derived from the slope lambda(alpha^2) (:func:`theory.companions.gg.skip_scaling_exponent`)."""
    return float(get("gg.depth-collapse").formulas()["skip exponent e (alpha^2 ~ L^e)"])


NEGATIVE_CONTROLS = {
    "alpha^2 ~ sqrt(L)": lambda: 0.5,
    "alpha^2 ~ L^1.5": lambda: 1.5,
    "alpha^2 constant": lambda: 0.0,
}


@functools.lru_cache(maxsize=4)
def _sweep(config):
    """Worst increment map(p) - p and worst slope at p = 1 over random ReLU hyper-parameters."""
    rng = np.random.default_rng([config.seed, 108])
    draws = config.pick(50, 200, 1000)
    worst_inc, worst_slope = np.inf, -np.inf
    for _ in range(draws):
        a2, m2, sv2, sw2, sb2 = rng.uniform(0.05, 3.0, 5) * np.array([1, 1, 1, 1, 0.3])
        beta = rng.choice([0.5, 3.0])
        kw = dict(alpha_a=math.sqrt(a2), alpha_m=math.sqrt(m2), sigma_v2=sv2, sigma_w2=sw2,
                  sigma_b2=sb2)
        for p in (0.0, 0.3, 0.6, 0.9, 0.99):
            worst_inc = min(worst_inc, block_map_postln(p, beta, 512, **kw) - p)
        h = 1e-6  # slope at p = 1 by a one-sided difference of the map itself (low-variance regime)
        worst_slope = max(worst_slope, (1 - block_map_postln(1 - h, 0.5, 512, **kw)) / h)
    return draws, float(worst_inc), float(worst_slope)


def run(config, predict=None):
    predict = predict or globals()["predict"]
    out = []
    # 1. monotonicity of the map and slope < 1 (ReLU) over random hyper-parameters
    draws, worst_inc, worst_slope = _sweep(config)
    out.append(CheckOutcome("ReLU map never decreases p", {"draws": draws}, measured=worst_inc,
                            predicted=">= 0", passed=worst_inc >= -1e-12, tolerance="exact inequality"))
    out.append(CheckOutcome("ReLU slope at p = 1 below 1", {"draws": draws}, measured=worst_slope,
                            predicted="< 1", passed=worst_slope < 1, tolerance="exact inequality"))
    # 2. geometric contraction near p = 1 at rate lambda (low-variance regime)
    lam = slope_at_one_closed_form(1.0, 1.0, 1.0, 1.0, 0.0)
    rho = iterate_map(0.9999, 6, 0.5, 512)
    rates = [(1 - b) / (1 - a) for a, b in zip(rho, rho[1:])]
    out.append(interval("contraction rate of 1 - p near p = 1", {"alpha": 1, "sigma2": 1},
                        rates[-1], lam - 1e-3, lam + 1e-3, tolerance="1e-3 (O(1 - p) curvature)"))
    # 3. skip scaling alpha^2 = c L^e on the map
    e = predict()
    p0, c = 0.0, 1.0
    Ls = config.pick((10, 100), (10, 100, 1000), (10, 100, 1000, 10000))
    gaps = []
    for L in Ls:
        a = math.sqrt(c * L**e)
        gaps.append(1 - iterate_map(p0, L, 0.5, 512, alpha_a=a, alpha_m=a)[-1])
    spread = max(gaps) / min(gaps)
    out.append(CheckOutcome("1 - p_L depth-independent under alpha^2 = c L^e",
                            {"e": e, "L": list(Ls), "c": c}, measured=[round(g, 4) for g in gaps],
                            predicted="in (0.05, 0.95 (1 - p0)), max/min <= 1.25",
                            passed=bool(min(gaps) > 0.05 and max(gaps) < 0.95 * (1 - p0)
                                        and spread <= 1.25),
                            tolerance="bounded away from collapse and from the identity"))
    # 4. sampled post-LN networks with the claimed scaling alpha^2 = c L follow the map
    T, d, sims = _networks(config)
    for L, cos in sims.items():
        a = math.sqrt(c * L)
        pred = iterate_map(cos[0], L, 0.5, T, alpha_a=a, alpha_m=a)
        budget = walk_budget(L, d)
        out.append(curve("sampled network with alpha^2 = c L vs map", {"L": L, "T": T, "d": d},
                         cos, pred, budget, tolerance=f"0.75 sqrt(L/d) = {budget:.3f}"))
    return out


@functools.lru_cache(maxsize=4)
def _networks(config, c=1.0):
    """Sampled post-LN stacks with alpha_A^2 = alpha_M^2 = c L (cached per config)."""
    rng = np.random.default_rng([config.seed, 1080])
    T, d, B = config.pick((128, 96, 2), (128, 128, 2), (512, 256, 3))
    sims = {}
    for L in config.pick((2, 6), (2, 6), (2, 8, 16)):
        a = math.sqrt(c * L)
        sims[L] = stack(ln_tokens(T, d, 0.0, batch=B, rng=rng), L, 0.5, norm="post", alpha_a=a,
                        alpha_m=a, rng=rng)[0]
    return T, d, sims
