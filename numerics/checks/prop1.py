"""Empirical check of Proposition 1 (key-query attention in the first layer).

Samples ``A = softmax(X0 W_Q W_K^T X0^T / sqrt(d_k))`` with the package's
samplers (isometric ``X0``, Gaussian ``W_Q, W_K``) and checks

* the logit variance ``sigma_QK^4`` (``Z`` SE);
* the within-row relative variance: ``||sqrt(n) A||_F^2/n - 1`` against
  ``(1 - 2v/d_k)^(-d_k/2) - 1`` plus the lognormal-row finite-n term ``b_1/n``
  of Definition 1.1; ``Z`` SE plus an ``O(n^-2)`` budget;
* Xavier scaling (``sigma_QK^2 = 1/d``, ``d_k = d``): ``||sqrt(n)(A - 11^T/n)||_2``
  decays like ``d^-1`` (log-log fit, 99% bootstrap CI containing -1 up to the
  slope an edge bias ``2 TW_BUDGET n^(-2/3)`` can induce, width < 0.25);
* finding (pinned): with ``d_k << n`` the logit matrix has rank ``d_k`` and
  ``sqrt(n)(A - 11^T/n)`` has outliers far above ``2 sigma_A`` (46% at n = 128,
  86% at n = 256 for d_k = 16), although its entries have the predicted moments;
  and in the paper's regime ``d_k = d = 4n`` (sigma_QK = 0.8, n = 256) the edge
  sits about 7% above ``2 sigma_A``, above a lognormal Random Markov matrix with
  the same ``sigma_A`` (about 2%): the 5-10% departure of docs/derivations.md, section prop1;
* finding (pinned): in the second layer of the paper's key-query model the top
  singular value of ``sqrt(n)(A - 11^T/n)`` is ``sqrt(n)/2`` times the quarter-circle
  edge of its own measured variance (5.66 at n = 128: the maximum, reached only by a
  rank-one matrix), against about 1.15 in layer 1.

>>> p = predict(0.5 ** 0.25, 16)
>>> round(p["sigma_A^2"], 4), p["logit_var"]
(0.6758, 0.5)
"""
from __future__ import annotations

import functools
import math

import numpy as np

from ...theory.registry import CheckOutcome
from .thm2 import MAX_CI_WIDTH, TW_BUDGET, Z, slope_budget, stream
from ..stats import loglog_fit, mean_se

#: networks per d in the Xavier rate fit: with 4, the small-sample-corrected 99% CI
#: (numerics.stats.small_sample_expansion: x2.6 at 4 samples) exceeded the width bound
#: for 2 of 3 seeds
XAVIER_BATCH = 12

DEFAULT = dict(sigma_qk=0.5 ** 0.25, d_k=16)
WIDE_SIGMA_QK = 0.8


def predict(sigma_qk, d_k):
    from sympy import nsimplify
    from ...theory.registry import get
    v = nsimplify(round(float(sigma_qk) ** 4, 12), rational=True)
    f = get("prop1").formulas(d_k=d_k, v=v)
    return {"logit_var": float(f["Var(logit)"]), "sigma_A^2": float(f["sigma_A^2 (within rows)"]),
            "xavier_exponent": -1.0}


def sizes(config):
    xavier_grid = config.pick((32, 64, 128), (32, 64, 128), (64, 128, 256, 512))
    return config.pick(64, 128, 256), config.pick(8, 16, 32), xavier_grid


def attention(n, d, d_k, sigma_qk, batch, seed, backend):
    from ..backend import to_numpy
    from ..rng import spawn
    from ..sampling import gaussian, isometric_input, key_query_attention
    g = spawn(seed, 3)
    X0 = isometric_input(n, d, batch=batch, rng=g[0], backend=backend)
    WQ = gaussian((batch, d, d_k), rng=g[1], std=sigma_qk, backend=backend)
    WK = gaussian((batch, d, d_k), rng=g[2], std=sigma_qk, backend=backend)
    S = to_numpy((X0 @ WQ) @ (X0 @ WK).swapaxes(-1, -2)) / math.sqrt(d_k)
    return to_numpy(key_query_attention(X0, WQ, WK)), S


@functools.lru_cache(maxsize=16)
def measure(config, sigma_qk, d_k):
    n, batch, xs = sizes(config)
    from ..backend import to_numpy
    A, S = attention(n, n, d_k, sigma_qk, batch, stream(config, "prop1", n, d_k), config.backend)
    fro = (n * (A ** 2).sum(axis=-1)).mean(axis=-1) - 1
    s = np.linalg.svd(math.sqrt(n) * (A - 1.0 / n), compute_uv=False)
    norms = []
    for d in xs:
        Ax, _ = attention(d, d, d, 1 / math.sqrt(d), XAVIER_BATCH, stream(config, "prop1-xavier", d),
                          config.backend)
        norms.append(np.linalg.norm(math.sqrt(d) * (Ax - 1.0 / d), ord=2, axis=(-2, -1)))
    # the regime of the paper (d_k = d >= n): n = 256, d = d_k = 4n, sigma_QK = 0.8, against a
    # lognormal Random Markov matrix with the same within-row sigma_A^2
    nw, bw = 256, config.pick(6, 8, 12)
    Aw, _ = attention(nw, 4 * nw, 4 * nw, WIDE_SIGMA_QK, bw, stream(config, "prop1-wide", nw), config.backend)
    s2w = float(globals()["predict"](WIDE_SIGMA_QK, 4 * nw)["sigma_A^2"])
    from ..sampling import random_markov
    Bw = to_numpy(random_markov(nw, batch=bw, ensemble="lognormal", sigma_a2=round(s2w, 12),
                                rng=stream(config, "prop1-wide-rm", nw), backend=config.backend))
    top = lambda M: np.linalg.norm(math.sqrt(nw) * (M - 1.0 / nw), ord=2, axis=(-2, -1)) / (2 * math.sqrt(s2w))
    wide = {"n": nw, "batch": bw, "kq": mean_se(top(Aw)), "rm": mean_se(top(Bw))}
    # beyond the first layer (paper's model: key-query attention, Xavier keys/queries, depth 2)
    from ...theory.model import AttentionModel
    from ..forward import sample
    tr = sample(AttentionModel(n=128, depth=2, gamma=0.5, attention="key-query"), batch=4,
                rng=stream(config, "prop1-depth"), backend=config.backend, keep=("A",))
    layers = {}
    for l in (1, 2):
        P = math.sqrt(128) * (to_numpy(tr.A[l]) - 1.0 / 128)
        sv = np.linalg.svd(P, compute_uv=False)
        edge = 2 * np.sqrt((P ** 2).sum(axis=(1, 2)) / 128)       # QC edge of the measured sigma
        layers[l] = float(np.min(sv[:, 0] / edge)) if l == 2 else float(np.max(sv[:, 0] / edge))
    return {"n": n, "batch": batch, "logit_var": mean_se(S.var(axis=(1, 2))), "fro": mean_se(fro), "wide": wide,
            "layers": layers,
            "edge": mean_se(s[:, 0]), "xavier": loglog_fit(xs, norms, rng=stream(config, "prop1-boot"),
                                                           n_boot=1000), "xs": xs}


def run(config, predict=None, params=None) -> list[CheckOutcome]:
    from ...theory.ensembles import get_ensemble
    from ...theory.results.def1_1 import finite_n_coefficient
    p = dict(DEFAULT, **(params or {}))
    sqk, dk = float(p["sigma_qk"]), int(p["d_k"])
    pred = (predict or globals()["predict"])(sqk, dk)
    m = measure(config, sqk, dk)
    n = m["n"]
    par = {"sigma_QK": round(sqk, 6), "d_k": dk, "n": n, "d": n, "batch": m["batch"]}
    mean, se = m["logit_var"]
    out = [CheckOutcome("logit variance = sigma_QK^4", par, mean, pred["logit_var"],
                        bool(abs(mean - pred["logit_var"]) <= Z * se), f"{Z} SE")]
    s2 = pred["sigma_A^2"]
    b1 = float(finite_n_coefficient(get_ensemble("lognormal").with_relative_variance(round(s2, 12))))
    want = s2 + b1 / n
    mean, se = m["fro"]
    budget = (abs(b1) + s2) ** 2 / n ** 2
    out.append(CheckOutcome("within-row sigma_A^2: ||sqrt(n) A||_F^2/n - 1 -> (1 - 2v/d_k)^(-d_k/2) - 1", par,
                            mean, want, bool(abs(mean - want) <= Z * se + budget),
                            f"{Z} SE + (|b_1| + sigma_A^2)^2/n^2", f"SE {se:.3g}, b_1/n {b1 / n:.3g}"))
    fit = m["xavier"]
    b = slope_budget(m["xs"], 2 * TW_BUDGET)      # edge of the product Q K^T of two Gaussians
    ok = fit.ci_low - b <= pred["xavier_exponent"] <= fit.ci_high + b and fit.width < MAX_CI_WIDTH
    out.append(CheckOutcome("Xavier: ||sqrt(n)(A - 11^T/n)|| ~ d^-1 (uniform attention)",
                            {"d = n": list(m["xs"])}, fit.slope, pred["xavier_exponent"], bool(ok),
                            f"99% CI [{fit.ci_low:.3f}, {fit.ci_high:.3f}] +- {b:.3f} (edge-bias slope), "
                            f"width < {MAX_CI_WIDTH}"))
    mean, se = m["edge"]
    excess = mean / (2 * math.sqrt(s2)) - 1
    out.append(CheckOutcome("finding: d_k << n gives outliers: s_1(sqrt(n) A_perp) well above 2 sigma_A", par,
                            mean, 2 * math.sqrt(s2), bool(excess > 0.2), "pinned: relative excess > 20%",
                            f"relative excess {excess:.3f} (logits have rank d_k)"))
    w = m["wide"]
    (kq, kse), (rm, rse) = w["kq"], w["rm"]
    ok = kq > rm and 0.02 < kq - 1 < 0.15
    wpar = {"n": w["n"], "d = d_k": 4 * w["n"], "sigma_QK": WIDE_SIGMA_QK, "batch": w["batch"]}
    out.append(CheckOutcome("finding: d_k = d = 4n: s_1(sqrt(n) A_perp)/(2 sigma_A) above that of a Random Markov "
                            "matrix with the same sigma_A", wpar,
                            kq, rm, bool(ok), "pinned: above the Random Markov value and 2% < excess over 2 sigma_A < 15%",
                            f"key-query {kq:.4f} +- {kse:.2g}, lognormal Random Markov {rm:.4f} +- {rse:.2g}"))
    lay = m["layers"]
    out.append(CheckOutcome("finding: beyond the first layer key-query attention is not Random Markov "
                            "(top singular value of sqrt(n) A_perp / its QC edge, layer 1 max vs layer 2 min)",
                            {"n": 128, "gamma": 0.5, "depth": 2, "sigma_QK^2": "1/d"}, (lay[1], lay[2]),
                            "layer 1 < 1.3, layer 2 > 2", bool(lay[1] < 1.3 and lay[2] > 2),
                            "pinned", "layer 2 inputs are nearly rank one (rank collapse), so its logits are too"))
    return out


def _mod(**ch):
    def f(sigma_qk, d_k):
        p = predict(sigma_qk, d_k)
        p.update({k: fn(sigma_qk, d_k, p[k]) for k, fn in ch.items()})
        return p
    return f


def _marginal(sigma_qk, d_k, _):
    from ...theory.registry import get
    return float(get("prop1").formulas(d_k=d_k, v=round(float(sigma_qk) ** 4, 12))["sigma_A^2 (marginal)"])


NEGATIVE_CONTROLS = {
    "mean x1.1": _mod(**{"sigma_A^2": lambda s, d, v: 1.1 * v, "logit_var": lambda s, d, v: 1.1 * v}),
    "marginal (i.i.d.-entry) sigma_A^2": _mod(**{"sigma_A^2": _marginal}),
    "exponent+0.25": _mod(xavier_exponent=lambda s, d, v: v + 0.25),
    "exponent-0.25": _mod(xavier_exponent=lambda s, d, v: v - 0.25),
}
