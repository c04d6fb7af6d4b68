"""Empirical check of ``bn.soft-rank``: ``rank_tau(M) >= (1 - tau)^2 r(M)``.

Random PSD matrices with heavy-tailed spectra (and exact zeros), plus the
near-extremal family of :func:`theory.companions.bn.soft_rank_tight_ratio`
(``k`` large eigenvalues, many just below the threshold), on which a larger
constant fails. The inequality is exact: the only tolerance is eigenvalue
rounding (``1e-9`` relative).

``predict(tau) -> array``: the constant ``c(tau)`` in ``rank_tau >= c r``
(``tau`` an array).
"""
from __future__ import annotations

import numpy as np
import sympy

from ..companions.products import random_psd, rank_tau, soft_rank
from ...theory.companions.bn import soft_rank_bound
from ...theory.registry import CheckOutcome

__all__ = ["run", "NEGATIVE_CONTROLS", "tight_spectra"]


_TAU = sympy.Symbol("tau")
_predict = sympy.lambdify(_TAU, soft_rank_bound(_TAU), "numpy")


NEGATIVE_CONTROLS = {
    "(1-tau)^2 -> (1-tau)": lambda tau: 1 - tau,
    "(1-tau)^2 -> (1-tau/2)^2": lambda tau: (1 - tau / 2) ** 2,
    "(1-tau)^2 -> 1.05 (1-tau)^2": lambda tau: 1.05 * (1 - tau) ** 2,
}


def tight_spectra(taus, k=2, m=400, eps=1e-3):
    """Spectra (trace 1) with ``k`` eigenvalues ``a`` and ``m`` eigenvalues
    ``b = tau (1 - eps)/(k + m)`` just below the threshold, one row per tau."""
    taus = np.asarray(taus, dtype=float)
    b = taus * (1 - eps) / (k + m)
    a = (1 - m * b) / k
    return np.concatenate([np.repeat(a[:, None], k, 1), np.repeat(b[:, None], m, 1)], axis=1)


def run(config, predict=None):
    predict = predict or _predict
    rng = np.random.default_rng([config.seed, 101])
    n_mat = config.pick(500, 5000, 50000)
    out = []
    slack_min, worst = np.inf, None
    for dim in (2, 3, 5, 8, 13):
        M = random_psd(dim, batch=n_mat // 5, rng=rng)
        taus = rng.uniform(0, 0.95, size=M.shape[0])
        r = soft_rank(M)
        rt = rank_tau(M, taus)
        c = np.asarray(predict(taus), dtype=float)
        slack = rt - c * r
        i = int(np.argmin(slack / r))
        if slack[i] / r[i] < slack_min:
            slack_min, worst = float(slack[i] / r[i]), {"dim": dim, "tau": float(taus[i])}
    out.append(CheckOutcome("min (rank_tau - c r)/r over random PSD matrices",
                            {"matrices": n_mat, **(worst or {})}, measured=slack_min,
                            predicted=">= 0", passed=slack_min >= -1e-9,
                            tolerance="exact inequality; 1e-9 relative for eigenvalue rounding"))
    taus = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
    spec = tight_spectra(taus)
    r = spec.sum(1) ** 2 / (spec**2).sum(1)
    thr = taus * spec.sum(1) / spec.shape[1]
    rt = np.sum(spec >= thr[:, None], axis=1)
    ratio = rt / (np.asarray(predict(taus), dtype=float) * r)
    out.append(CheckOutcome("near-extremal spectra: min rank_tau / (c r)",
                            {"k": 2, "m": 400, "eps": 1e-3, "taus": taus.tolist()},
                            measured=float(ratio.min()), predicted=">= 1 (and -> 1: sharp)",
                            passed=bool(ratio.min() >= 1 - 1e-9),
                            tolerance="exact inequality; 1e-9 relative"))
    return out
