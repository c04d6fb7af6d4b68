"""Empirical check of ``noci.uniform-gradients`` (B3): Monte Carlo over weights at
A = J (equicorrelated LN tokens, rho = 1/2, s_k = 1.5, s_q = 0.8, s_v = 1.2,
tau = sqrt(d_k)): E|dS/dW_Q|^2 and E|dS/dW_K|^2 within 4 SE of the sympy
formulas, |dS/dW_V|^2 exact; and the true Jacobian approaches the uniform one as
W_Q -> 0 (relative difference O(scale))."""
from __future__ import annotations

import functools
import math

import numpy as np
import sympy

from ..companions import band
from ..companions.qk_gradients import equicorrelated_tokens, jacobian_sq_norms
from ...theory.companions import noci
from ...theory.registry import CheckOutcome

SQ, SK, SV, RHO = 0.8, 1.5, 1.2, 0.5


def predict(n, d, dk, dv):
    """{Q, K, V} expectations for equicorrelated LN tokens, tau = sqrt(d_k)."""
    e = noci.equicorrelated_expectations(cos=sympy.Rational(1, 2), tokens=n, width=d,
                                         sq=SQ, sk=SK, sv=SV, temperature=sympy.sqrt(dk), dk=dk, dv=dv)
    return {k: float(v) for k, v in e.items()}


def _perturb(fn):
    return lambda n, d, dk, dv: fn(predict(n, d, dk, dv), n)


NEGATIVE_CONTROLS = {
    "s_k^2 -> s_k": _perturb(lambda e, n: {**e, "Q": e["Q"] / SK}),
    "(1 - rho)^2 -> (1 - rho)": _perturb(lambda e, n: {**e, "Q": e["Q"] / (1 - RHO),
                                                        "K": e["K"] / (1 - RHO)}),
    "n - 1 -> n": _perturb(lambda e, n: {**e, "Q": e["Q"] * n / (n - 1), "K": e["K"] * n / (n - 1)}),
    "|dS/dW_V|^2: d_v n -> n": _perturb(lambda e, n: {**e, "V": e["V"] / 16}),
}


@functools.lru_cache(maxsize=4)
def measure(config):
    """Monte Carlo Jacobians (cached per config: negative controls reuse them)."""
    rng = np.random.default_rng([config.seed, 203])
    n, d, dk, dv = 8, 16, 16, 16
    draws = config.pick(1000, 4000, 20000)
    X = np.broadcast_to(equicorrelated_tokens(n, d, RHO, rng=rng), (draws, n, d))
    WQ = rng.standard_normal((draws, d, dk)) * SQ / math.sqrt(d)
    WK = rng.standard_normal((draws, d, dk)) * SK / math.sqrt(d)
    WV = rng.standard_normal((draws, d, dv)) * SV / math.sqrt(d)
    j = jacobian_sq_norms(X, WQ, WK, WV, uniform=True)
    scale = 1e-5
    jt = jacobian_sq_norms(X[:8], WQ[:8] * scale, WK[:8], WV[:8])
    ju = jacobian_sq_norms(X[:8], WQ[:8] * scale, WK[:8], WV[:8], uniform=True)
    return n, d, dk, dv, draws, j, scale, jt, ju


def run(config, predict=None):
    predict = predict or globals()["predict"]
    n, d, dk, dv, draws, j, scale, jt, ju = measure(config)
    pred = predict(n, d, dk, dv)
    par = {"n": n, "d": d, "d_k": dk, "rho": RHO, "draws": draws}
    out = [band(f"E|dS/dW_{k}|^2 at A = J", par, j[k].mean(), pred[k],
                j[k].std(ddof=1) / math.sqrt(draws)) for k in ("Q", "K")]
    v = float(j["V"][0])
    out.append(CheckOutcome("|dS/dW_V|^2 at A = J", par, measured=v, predicted=pred["V"],
                            passed=abs(v - pred["V"]) <= 1e-10 * pred["V"], tolerance="exact (1e-10)"))
    # the true Jacobian tends to the uniform one as W_Q -> 0
    rel = float(np.max(np.abs(jt["Q"] - ju["Q"]) / ju["Q"]))
    out.append(CheckOutcome("true Q Jacobian -> uniform one as W_Q -> 0", {"scale": scale},
                            measured=rel, predicted=0.0, passed=rel < 100 * scale,
                            tolerance="O(scale): 100 x scale"))
    return out
