"""Empirical check of Definition 1.1 (Random Markov matrix).

Samples ``A = D^{-1} M`` and checks that rows sum to 1 and entries are
non-negative (to rounding), and that the entries of ``n A`` have mean 1 and
variance ``sigma_A^2 + b_1/n`` (``b_1`` derived in :mod:`theory.results.def1_1`):
the Student-t equivalent of ``Z`` SE (the SE comes from 32 per-matrix estimates)
plus an ``O(n^-2)`` budget
``(|b_1| + sigma_A^2)^2 / n^2``.

>>> p = predict("lognormal", None, 256)
>>> p["sigma_A^2"], p["b_1"]
(1.0, -6.0)
>>> sorted(NEGATIVE_CONTROLS)
['2 sigma -> sigma', 'mean x1.1', 'row mean x1.1']
"""
from __future__ import annotations

import functools

import numpy as np
from scipy import stats as _st

from ...theory.registry import CheckOutcome
from .thm2 import Z, stream
from ..stats import mean_se

DEFAULT = dict(ensemble="lognormal", sigma_a2=None)


def predict(ensemble, sigma_a2, n):
    from ...theory.ensembles import get_ensemble
    from ...theory.results.def1_1 import finite_n_coefficient
    ens = get_ensemble(ensemble)
    if sigma_a2 is not None:
        ens = ens.with_relative_variance(sigma_a2)
    s2 = float(ens.sigma_A2)
    b1 = float(finite_n_coefficient(ens))
    return {"sigma_A^2": s2, "b_1": b1, "mean": 1.0, "n": n}


def sizes(config):
    return config.pick(128, 256, 512), config.pick(32, 32, 64)


@functools.lru_cache(maxsize=32)
def measure(config, ensemble, sigma_a2):
    from ..backend import to_numpy
    from ..sampling import random_markov
    n, batch = sizes(config)
    A = to_numpy(random_markov(n, batch=batch, ensemble=ensemble, sigma_a2=sigma_a2,
                               rng=stream(config, "def1.1", n), backend=config.backend))
    nA = n * A
    return {"n": n, "batch": batch, "rowdev": float(np.max(np.abs(A.sum(-1) - 1))),
            "min": float(A.min()), "mean": mean_se(nA.mean(axis=(1, 2))),
            "var": mean_se((nA ** 2).mean(axis=(1, 2)) - 1)}


def run(config, predict=None, params=None) -> list[CheckOutcome]:
    p = dict(DEFAULT, **(params or {}))
    ens, sa2 = p["ensemble"], p["sigma_a2"]
    m = measure(config, ens, sa2)
    n = m["n"]
    pred = (predict or globals()["predict"])(ens, sa2, n)
    par = {"ensemble": ens, "sigma_A^2": round(pred["sigma_A^2"], 6), "n": n, "batch": m["batch"]}
    out = [CheckOutcome("row-stochastic: max |A 1 - 1| and min entry >= 0", par, (m["rowdev"], m["min"]),
                        (0.0, ">= 0"), m["rowdev"] < 1e-12 and m["min"] >= 0, "1e-12 (rounding)")]
    mean, se = m["mean"]
    out.append(CheckOutcome("E[n A_ij] = 1 (exact)", par, mean, pred["mean"],
                            bool(abs(mean - pred["mean"]) <= 1e-12 + Z * se), "rounding"))
    var, se = m["var"]
    want = pred["sigma_A^2"] + pred["b_1"] / n
    budget = (abs(pred["b_1"]) + pred["sigma_A^2"]) ** 2 / n ** 2
    # the SE is estimated from `batch` replicates: Student-t quantile at the probability of Z
    zt = float(_st.t.isf(_st.norm.sf(Z), m["batch"] - 1))
    out.append(CheckOutcome("Var(n A_ij) = sigma_A^2 + b_1/n", par, var, want,
                            bool(abs(var - want) <= zt * se + budget),
                            f"{zt:.2f} SE (Student t, p = 6e-5) + (|b_1| + sigma_A^2)^2/n^2",
                            f"SE {se:.3g}, b_1 {pred['b_1']:.3g}"))
    return out


def _mod(**ch):
    def f(ensemble, sigma_a2, n):
        p = predict(ensemble, sigma_a2, n)
        for k, fn in ch.items():
            p[k] = fn(p[k])
        return p
    return f


NEGATIVE_CONTROLS = {
    "mean x1.1": _mod(**{"sigma_A^2": lambda v: 1.1 * v}),
    "2 sigma -> sigma": _mod(**{"sigma_A^2": lambda v: v / 4}),
    "row mean x1.1": _mod(mean=lambda v: 1.1 * v),
}
