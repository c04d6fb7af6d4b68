"""Empirical check of Proposition 5: without the gap, srank(Sigma_l^perp)
grows like n, and srank/n -> m_2(mu_l) / x_max(mu_l)^2.

Networks from :func:`numerics.forward.sample` (``remove_gap=1``); the stable
rank from :func:`numerics.measures.covariance_stable_rank`, its two parts
from the spectrum (:func:`numerics.measures.esd`): the normalised second
moment ``m_2/m_1^2`` (O(1/n) bias: extrapolated in 1/n) and the top
eigenvalue ``lambda_max/m_1`` (edge: extrapolated in n^(-2/3), the
Tracy-Widom scale).  ``srank/n`` itself is extrapolated in n^(-2/3), and the
rate ``srank ~ n^1`` is a log-log fit whose target includes the slope bias
implied by the fitted n^(-2/3) correction.

Finding: the edge converges slowly and from below (see the result's
findings), so the bands of the limit checks are dominated by their
extrapolation SE and bias budget.

>>> out = check(1, 1, [24, 48, 96], batch=3, rng=0)
>>> len(out)
6
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import stats as _st

from numerics.checks import VerifyConfig
from numerics.checks.lemma4 import FALSE_ALARM, extrapolate, limit_outcome
from numerics.checks.prop6 import rate_outcome
from numerics.rng import as_generator
from theory.registry import CheckOutcome

__all__ = ["model", "predict", "sample_stats", "measure", "evaluate", "check", "run",
           "NEGATIVE_CONTROLS", "EDGE_ORDER"]

#: finite-n corrections at a soft edge scale like n^(-2/3)
EDGE_ORDER = 2 / 3


def model(n, depth, gamma, ensemble="exponential", sigma_v2=1.0):
    from theory.model import AttentionModel
    return AttentionModel(n=n, depth=depth, gamma=gamma, attention="markov", ensemble=ensemble,
                          remove_gap=1, sigma_v2=sigma_v2)


def predict(l, gamma) -> dict:
    """``limit``, ``m2``, ``edge`` (and ``exponent`` 1) from :mod:`theory.results.prop5`."""
    from theory.results.prop5 import predict as _p
    return {**_p(l, gamma), "exponent": 1.0}


def sample_stats(m, *, batch, rng=None, backend="numpy") -> np.ndarray:
    """(batch, 4): srank, srank/n, m_2/m_1^2, lambda_max/m_1 of Sigma_L^perp."""
    from numerics.forward import sample
    from numerics.measures import covariance_stable_rank, esd, gram

    X = sample(m, batch=batch, rng=rng, backend=backend).X[m.depth]
    sr = np.asarray(covariance_stable_rank(X), float)
    Xn = np.asarray(X, float)
    Xn = Xn / np.sqrt(np.einsum("bij,bij->b", Xn, Xn) / m.n)[:, None, None]   # m_1 = 1
    ev = esd(gram(Xn), hermitian=True)
    m1 = ev.mean(axis=1)
    return np.column_stack([sr, sr / m.n, (ev**2).mean(axis=1) / m1**2, ev[:, -1] / m1])


def measure(l, gamma, ns, *, ensemble="exponential", sigma_v2=1.0, batch, rng=None, backend="numpy"):
    gen = as_generator(rng)
    data = [sample_stats(model(n, l, gamma, ensemble, sigma_v2), batch=batch, rng=gen, backend=backend)
            for n in ns]
    params = {"l": l, "gamma": float(gamma), "ensemble": ensemble, "sigma_V2": float(sigma_v2),
              "networks_per_n": batch}
    return params, list(ns), data


def evaluate(measured, predict=predict, z=None) -> list[CheckOutcome]:
    params, ns, data = measured
    pred = predict(params["l"], params["gamma"])
    out = []
    ext_m2 = extrapolate(ns, [d[:, 2] for d in data], order=1.0)
    out.append(limit_outcome("normalised second moment m_2/m_1^2 of Sigma^perp", params, ext_m2,
                             pred["m2"], z))
    ext_edge = extrapolate(ns, [d[:, 3] for d in data], order=EDGE_ORDER)
    out.append(limit_outcome("top eigenvalue lambda_max/m_1 (right edge)", params, ext_edge,
                             pred["edge"], z))
    # one-sided checks at the largest n: Student-t quantile with (networks - 1) df
    z1 = z if z is not None else float(_st.t.isf(FALSE_ALARM, max(len(data[-1]) - 1, 1)))
    top_edge, se_edge = ext_edge.means[-1], ext_edge.ses[-1]
    out.append(CheckOutcome("no outlier: lambda_max/m_1 at largest n <= predicted edge",
                            {**params, "n": ns[-1]}, top_edge, pred["edge"],
                            bool(top_edge <= pred["edge"] + z1 * se_edge),
                            f"{z1:.2f} SE (one-sided t)", f"SE {se_edge:.3g}"))
    ext = extrapolate(ns, [d[:, 1] for d in data], order=EDGE_ORDER)
    out.append(limit_outcome("srank(Sigma_l^perp)/n", params, ext, pred["limit"], z))
    # srank/n decreases to its limit (lambda_max rises to the edge from below, m_2 falls):
    # the limit cannot exceed the value at the largest n by more than z SE
    top, se_top = ext.means[-1], ext.ses[-1]
    out.append(CheckOutcome("srank/n approaches its limit from above: limit <= srank/n at largest n",
                            {**params, "n": ns[-1]}, top, pred["limit"],
                            bool(pred["limit"] <= top + z1 * se_top),
                            f"{z1:.2f} SE (one-sided t)", f"SE {se_top:.3g}"))
    if len(ns) < 3:
        return out   # a rate needs at least three sizes
    beta = ext.slope / ext.estimate if ext.estimate > 0 else 0.0
    ns_arr = np.asarray(ns, float)
    bias = float(np.polyfit(np.log(ns_arr), np.log1p(beta * ns_arr ** (-EDGE_ORDER)), 1)[0])
    out.append(rate_outcome("rate: exponent of srank(Sigma_l^perp) in n", params, ns,
                            [d[:, 0] for d in data], pred["exponent"], bias=bias))
    return out


def check(l, gamma, ns, *, ensemble="exponential", sigma_v2=1.0, batch, rng=None, predict=predict, z=None):
    return evaluate(measure(l, gamma, ns, ensemble=ensemble, sigma_v2=sigma_v2, batch=batch, rng=rng),
                    predict, z)


#: (l, gamma, ensemble, sigma_V^2)
_CASES = ((1, 1, "exponential", 1.0), (2, 0.5, "exponential", 1.0), (1, 0.5, "uniform", 1.44),
          (3, 1, "lognormal", 1.0))


@lru_cache(maxsize=4)
def _measure_all(config: VerifyConfig):
    ns = config.pick([64, 128, 256], [64, 128, 256], [128, 256, 512])
    batch = config.pick(12, 8, 24)
    cases = config.pick(_CASES[:1], _CASES[:2], _CASES)
    gen = np.random.default_rng([config.seed, 5005])
    return [measure(l, g, ns, ensemble=e, sigma_v2=v, batch=batch, rng=gen, backend=config.backend)
            for l, g, e, v in cases]


def run(config: VerifyConfig | None = None, predict=None) -> list[CheckOutcome]:
    """All cases of this level (samples drawn once per config and cached)."""
    config = config or VerifyConfig()
    predict = predict or globals()["predict"]
    return [o for m in _measure_all(config) for o in evaluate(m, predict)]


def _perturb(fn):
    def control(l, gamma):
        return fn(l, gamma, predict(l, gamma))
    return control


def _at(l, gamma):
    return predict(l, gamma)


#: perturbed predictions that :func:`run` must reject (srank/n is free of
#: sigma_A, sigma_V, so "2 sigma -> sigma" has no counterpart here)
NEGATIVE_CONTROLS = {
    "exponent+0.25": _perturb(lambda l, g, p: {**p, "exponent": 1.25}),
    "exponent-0.25": _perturb(lambda l, g, p: {**p, "exponent": 0.75}),
    "m_2 x1.1 (and limit)": _perturb(lambda l, g, p: {**p, "m2": 1.1 * p["m2"], "limit": 1.1 * p["limit"]}),
    "edge x0.9 (limit / 0.81)": _perturb(lambda l, g, p: {**p, "edge": 0.9 * p["edge"],
                                                          "limit": p["limit"] / 0.81}),
    "l->l+1": _perturb(lambda l, g, p: {**_at(l + 1, g), "exponent": 1.0}),
    "m_2: 1+gamma->1+2gamma": _perturb(lambda l, g, p: {**p, "m2": 1 + l * (1 + 2 * g),
                                                        "limit": p["limit"] * (1 + l * (1 + 2 * g))
                                                        / (1 + l * (1 + g))}),
}


#: perturbations the default sizes cannot resolve (pinned as a finding, see
#: the result's findings): the limit alone x1.1 sits within the finite-n
#: excess of srank/n (5-13% above the limit at n <= 256, edge approached from
#: below at rate ~n^(-2/3)) and the extrapolation SE.
UNRESOLVED_CONTROLS = {
    "limit x1.1 (edge and m_2 unchanged)": _perturb(lambda l, g, p: {**p, "limit": 1.1 * p["limit"]}),
}
