"""Empirical check of Proposition 4: with the gap, ||dX_L/dW_l||_F^2 grows
like n^L, with E||dX_L/dW_l||_F^2 ~ sigma_V^(2(L-1)) d^L (1 + sigma_A^2 [L = 1]).

Gradient norms from :func:`numerics.gradients.grad_norms_sq` (exact
Kronecker identity for Random Markov attention).  Per (L, l):

* **constant**: ``||grad||^2 / (sigma_V^(2(L-1)) d^L)`` extrapolated to
  n = oo in 1/n (band z SE + next-order bias budget);
* **rate** (l = 1): log-log slope of the mean against n (fixed gamma), 99%
  bootstrap CI containing ``L`` plus the slope bias of the measured O(1/n)
  correction, narrower than :data:`numerics.checks.prop6.MAX_CI_WIDTH`.
  For l >= 2 the rank-one signal ``1^T X0 W_1...W_{l-1}`` does not
  self-average (relative sd ``sqrt(2(l-1)/d)`` per network, Lemma 1), so
  the rate is fitted at l = 1 and the constant (which divides by d^L) is
  checked at every l.

Finding pinned by :func:`key_query_looseness`: with key-query attention
(sigma_QK^2 = 1) the first layer's gradient grows faster than n^L, more so
with depth: the n^L lower bound becomes loose.

>>> out = check(1, 1, 1, "exponential", 1.0, [16, 32, 64], batch=4, rng=0)
>>> [o.name.split(":")[0] for o in out]
['constant', 'rate']
"""
from __future__ import annotations

from functools import lru_cache, partial

import numpy as np

from . import VerifyConfig, perturbed
from .lemma4 import extrapolate, limit_outcome
from .prop6 import rate_outcome, slope_bias
from ..rng import as_generator
from ..stats import loglog_fit
from ...theory.registry import CheckOutcome

__all__ = ["predict", "measure", "evaluate", "check", "key_query_slopes", "key_query_looseness",
           "run", "NEGATIVE_CONTROLS"]


def predict(L, l, gamma, sigma_a2, sigma_v2) -> dict:
    """``constant`` and ``exponent`` derived in :mod:`theory.results.prop4`."""
    from ...theory.results.prop4 import predict as _p
    return _p(L, l, gamma, sigma_a2, sigma_v2)


def measure(L, gamma, ensemble, sigma_v2, ns, *, batch, rng=None, backend="numpy"):
    from .prop6 import measure as _m
    return _m(L, gamma, ensemble, sigma_v2, ns, batch=batch, rng=rng, backend=backend, remove_gap=0)


def evaluate(measured, predict=predict, z=None, layers=None) -> list[CheckOutcome]:
    params, ns, data = measured
    L, gamma, sv2 = params["L"], params["gamma"], params["sigma_V2"]
    out = []
    for l in (layers or range(1, L + 1)):
        pred = predict(L, l, gamma, params["sigma_A2"], sv2)
        p = {**params, "l": l}
        scale = [sv2 ** (L - 1) * (int(round(n / gamma))) ** L for n in ns]
        ext = extrapolate(ns, [d[:, l - 1] / s for d, s in zip(data, scale)])
        out.append(limit_outcome("constant: E||dX_L/dW_l||_F^2 / (sigma_V^(2(L-1)) d^L)", p, ext,
                                 pred["constant"], z))
        if l != 1 or len(ns) < 3:
            continue   # rank-one signal: relative sd sqrt(2(l-1)/d) per network (Lemma 1)
        beta = ext.slope / ext.estimate if ext.estimate else 0.0
        out.append(rate_outcome("rate: exponent of E||dX_L/dW_l||_F^2 in n", p, ns,
                                [d[:, l - 1] for d in data], pred["exponent"],
                                bias=slope_bias(ns, beta)))
    return out


def check(L, l, gamma, ensemble, sigma_v2, ns, *, batch, rng=None, predict=predict, z=None):
    return evaluate(measure(L, gamma, ensemble, sigma_v2, ns, batch=batch, rng=rng), predict, z,
                    layers=[l])


def key_query_slopes(depths, ns, *, batch, rng=None, sigma_qk2=1.0, probes=16):
    """Fitted exponent (median statistic, bootstrap CI) of the first layer's
    ||dX_L/dW_1||_F^2 for key-query attention, per depth."""
    from ..gradients import grad_norms_sq
    from ...theory.model import AttentionModel

    gen = as_generator(rng)
    fits = {}
    for L in depths:
        data = [grad_norms_sq(AttentionModel(n=n, depth=L, gamma=1, attention="key-query",
                                             sigma_qk2=sigma_qk2), batch=batch, rng=gen, probes=probes)
                for n in ns]
        fits[L] = loglog_fit(ns, [d[:, 0] for d in data], rng=0, n_boot=500, statistic=np.median)
    return fits


def key_query_looseness(ns=(16, 32, 64), *, batch=16, rng=None) -> CheckOutcome:
    """Pinned finding: the excess of the fitted exponent over L is small at
    L = 1 (|slope - 1| < 0.35) and exceeds 1 at L = 3 (loose lower bound)."""
    fits = key_query_slopes((1, 3), list(ns), batch=batch, rng=rng)
    ok = abs(fits[1].slope - 1) < 0.35 and fits[3].slope - 3 > 1.0
    return CheckOutcome("finding: key-query (sigma_QK^2 = 1) gradients outgrow n^L with depth",
                        {"n": list(ns), "networks_per_n": batch, "depths": [1, 3]},
                        {L: round(f.slope, 3) for L, f in fits.items()},
                        {"L=1": "1 +- 0.35", "L=3": "> 4"}, bool(ok),
                        "pinned observation (median statistic over networks)",
                        "; ".join(f"L={L}: CI [{f.ci_low:.2f}, {f.ci_high:.2f}]" for L, f in fits.items()))


#: (L, gamma, ensemble, sigma_V^2)
_CASES = ((1, 1, "exponential", 1.0), (2, 0.5, "exponential", 0.64), (3, 1, "exponential", 1.0),
          (1, 0.5, "uniform", 1.0), (2, 1, "lognormal", 1.0))


@lru_cache(maxsize=4)
def _measure_all(config: VerifyConfig):
    ns = config.pick([32, 64, 128], [48, 96, 192], [128, 256, 512])
    batch = config.pick(8, 10, 24)
    cases = config.pick(_CASES[:2] + _CASES[3:4], _CASES[:4], _CASES)
    gen = np.random.default_rng([config.seed, 4004 + 1])
    return [measure(L, g, e, v, ns, batch=batch, rng=gen, backend=config.backend)
            for L, g, e, v in cases]


def run(config: VerifyConfig | None = None, predict=None) -> list[CheckOutcome]:
    """All cases of this level (samples drawn once per config and cached),
    plus the pinned key-query finding when the prediction is the real one."""
    config = config or VerifyConfig()
    real = predict is None
    predict = predict or globals()["predict"]
    out = [o for m in _measure_all(config) for o in evaluate(m, predict)]
    if real and config.level != "quick":
        out.append(key_query_looseness(rng=np.random.default_rng([config.seed, 4444])))
    return out


_perturb = partial(perturbed, predict)


#: perturbed predictions that :func:`run` must reject
NEGATIVE_CONTROLS = {
    "exponent+0.25": _perturb(lambda L, l, g, a, v, p: {**p, "exponent": p["exponent"] + 0.25}),
    "exponent-0.25": _perturb(lambda L, l, g, a, v, p: {**p, "exponent": p["exponent"] - 0.25}),
    "constant x1.1": _perturb(lambda L, l, g, a, v, p: {**p, "constant": 1.1 * p["constant"]}),
    "L->L+1 (exponent and constant)": _perturb(
        lambda L, l, g, a, v, p: {"exponent": L + 1.0, "constant": p["constant"] * v}),
    "sigma_A^2 -> sigma_A (L = 1)": _perturb(
        lambda L, l, g, a, v, p: {**p, "constant": 1 + a**0.5 if L == 1 else p["constant"]}),
    "without the gap (no rank-one term)": _perturb(
        lambda L, l, g, a, v, p: {**p, "constant": a if L == 1 else p["constant"] * 0.5}),
}
