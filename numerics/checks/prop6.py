"""Empirical check of Proposition 6: without the gap, E||dX_L/dW_l||_F^2
grows like n, with E||dX_L/dW_l||_F^2 / n -> sigma_A^(2L) sigma_V^(2(L-1)) gamma^(-L).

Gradient norms come from :func:`numerics.gradients.grad_norms_sq` (exact
Kronecker identity, no Jacobian is formed).  Two checks per (L, l):

* **constant**: ``||grad||^2 / n`` extrapolated to n = oo along the grid
  (``a + b/n``; band z SE + next-order bias budget, see
  :mod:`numerics.checks.lemma4`);
* **rate**: log-log fit of the mean of ``||grad||^2`` against n with a 99%
  bootstrap CI (:func:`numerics.stats.loglog_fit`).  Accepted when the CI
  contains the predicted exponent plus the slope bias that the measured
  O(1/n) correction ``beta = b/a`` implies on this grid (:func:`slope_bias`,
  allowed +-50%), and the CI is narrower than :data:`MAX_CI_WIDTH`.

>>> out = check(1, 1, 1, "exponential", 1.0, [16, 32, 64], batch=4, rng=0)
>>> [o.name.split(":")[0] for o in out]
['constant', 'rate']
"""
from __future__ import annotations

from functools import lru_cache, partial

import numpy as np

from . import VerifyConfig, perturbed
from .lemma4 import extrapolate, limit_outcome
from ..rng import as_generator
from ..stats import loglog_fit
from ...theory.registry import CheckOutcome

__all__ = ["model", "predict", "measure", "evaluate", "check", "slope_bias", "rate_outcome", "run",
           "NEGATIVE_CONTROLS", "MAX_CI_WIDTH"]

#: the rate check also requires the bootstrap CI of the slope to be this narrow
MAX_CI_WIDTH = 0.25


def model(n, depth, gamma, ensemble, sigma_v2, remove_gap=1):
    from ...theory.model import AttentionModel
    return AttentionModel(n=n, depth=depth, gamma=gamma, attention="markov", ensemble=ensemble,
                          remove_gap=remove_gap, sigma_v2=sigma_v2)


def predict(L, l, gamma, sigma_a2, sigma_v2) -> dict:
    """``constant`` and ``exponent`` derived in :mod:`theory.results.prop6`."""
    from ...theory.results.prop6 import predict as _p
    return _p(L, l, gamma, sigma_a2, sigma_v2)


def measure(L, gamma, ensemble, sigma_v2, ns, *, batch, rng=None, backend="numpy", remove_gap=1):
    """Gradient norms along ``ns``: (params, ns, list of (batch, L) arrays)."""
    from ..gradients import grad_norms_sq

    gen = as_generator(rng)
    models = [model(n, L, gamma, ensemble, sigma_v2, remove_gap) for n in ns]
    data = [np.asarray(grad_norms_sq(m, batch=batch, rng=gen, backend=backend), float) for m in models]
    params = {"L": L, "gamma": float(gamma), "ensemble": ensemble,
              "sigma_A2": float(models[-1].sigma_A2), "sigma_V2": float(sigma_v2),
              "networks_per_n": batch}
    return params, list(ns), data


def slope_bias(ns, beta) -> float:
    """Fitted log-log slope of ``1 + beta/n`` over the grid: the bias that a
    relative O(1/n) correction ``beta/n`` adds to the fitted exponent.

    >>> round(slope_bias([64, 128, 256], -14.6), 3)
    0.144
    """
    ns = np.asarray(ns, float)
    return float(np.polyfit(np.log(ns), np.log1p(beta / ns), 1)[0])


def rate_outcome(name, params, ns, samples, exponent, *, bias=0.0, rng=0) -> CheckOutcome:
    """Log-log rate check: the 99% bootstrap CI of the slope must contain
    ``exponent + bias`` (the finite-n slope bias, allowed +-50% uncertainty)
    and be narrower than :data:`MAX_CI_WIDTH`."""
    fit = loglog_fit(ns, samples, rng=rng, n_boot=1000)
    target = exponent + bias
    slack = 0.5 * abs(bias)
    ok = (fit.ci_low - slack <= target <= fit.ci_high + slack) and fit.width < MAX_CI_WIDTH
    return CheckOutcome(name, {**params, "n": list(ns)}, fit.slope, float(exponent), bool(ok),
                        f"99% bootstrap CI of the slope contains exponent + finite-n slope bias "
                        f"({bias:+.3g}, +-50%); CI width < {MAX_CI_WIDTH}",
                        f"CI [{fit.ci_low:.3f}, {fit.ci_high:.3f}]")


def evaluate(measured, predict=predict, z=None, layers=None) -> list[CheckOutcome]:
    params, ns, data = measured
    L = params["L"]
    out = []
    for l in (layers or range(1, L + 1)):
        pred = predict(L, l, params["gamma"], params["sigma_A2"], params["sigma_V2"])
        p = {**params, "l": l}
        per_n = [d[:, l - 1] / n for d, n in zip(data, ns)]
        ext = extrapolate(ns, per_n)
        out.append(limit_outcome("constant: E||dX_L/dW_l||_F^2 / n", p, ext, pred["constant"], z))
        if len(ns) < 3:
            continue   # a rate needs at least three sizes
        beta = ext.slope / ext.estimate if ext.estimate else 0.0
        out.append(rate_outcome("rate: exponent of E||dX_L/dW_l||_F^2 in n", p, ns,
                                [d[:, l - 1] for d in data], pred["exponent"],
                                bias=slope_bias(ns, beta)))
    return out


def check(L, l, gamma, ensemble, sigma_v2, ns, *, batch, rng=None, predict=predict, z=None):
    return evaluate(measure(L, gamma, ensemble, sigma_v2, ns, batch=batch, rng=rng), predict, z,
                    layers=[l])


#: (L, gamma, ensemble, sigma_V^2)
_CASES = ((1, 1, "exponential", 1.0), (2, 0.5, "exponential", 0.64), (3, 1, "exponential", 1.0),
          (2, 1, "uniform", 1.0), (2, 1, "lognormal", 1.0))


@lru_cache(maxsize=4)
def _measure_all(config: VerifyConfig):
    ns = config.pick([32, 64, 128], [48, 96, 192], [128, 256, 512])
    batch = config.pick(16, 16, 16)
    cases = config.pick(_CASES[1:2] + _CASES[3:4], _CASES[:3], _CASES)
    gen = np.random.default_rng([config.seed, 6006])
    return [measure(L, g, e, v, ns, batch=batch, rng=gen, backend=config.backend)
            for L, g, e, v in cases]


def run(config: VerifyConfig | None = None, predict=None) -> list[CheckOutcome]:
    """All cases of this level (samples drawn once per config and cached)."""
    config = config or VerifyConfig()
    predict = predict or globals()["predict"]
    return [o for m in _measure_all(config) for o in evaluate(m, predict)]


_perturb = partial(perturbed, predict)


#: perturbed predictions that :func:`run` must reject
NEGATIVE_CONTROLS = {
    "exponent+0.25": _perturb(lambda L, l, g, a, v, p: {**p, "exponent": p["exponent"] + 0.25}),
    "exponent-0.25": _perturb(lambda L, l, g, a, v, p: {**p, "exponent": p["exponent"] - 0.25}),
    "constant x1.1": _perturb(lambda L, l, g, a, v, p: {**p, "constant": 1.1 * p["constant"]}),
    "L->L+1": _perturb(lambda L, l, g, a, v, p: {**p, "constant": a ** (L + 1) * v**L / g ** (L + 1)}),
    "2 sigma->sigma": _perturb(lambda L, l, g, a, v, p: {**p, "constant": (a * v) ** (L / 2) / v ** 0.5
                                                       / g**L}),
    "with the gap (1 + sigma_A^2 for L = 1)": _perturb(
        lambda L, l, g, a, v, p: {**p, "constant": p["constant"] * (1 + 1 / a) if L == 1 else
                                  p["constant"] * 1.5}),
}
