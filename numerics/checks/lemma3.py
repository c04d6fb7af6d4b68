"""Empirical check of Lemma 3 (no gap after removal).

Samples ``sqrt(n)(A - 11^T/n)`` and checks

* the top singular value tends to the quarter-circle edge ``2 sigma_A``
  (``Z`` SE plus the Tracy-Widom budget of :mod:`numerics.checks.thm2`;
  light-tailed ensembles; the lognormal's excess is pinned as a finding);
* no outlier: ``s_1/s_2 - 1`` is at the edge-spacing scale (``<= 4 n^(-2/3)``),
  against ``sqrt(n)/(2 sigma_A)`` with the gap;
* the bulk: Kolmogorov-Smirnov distance of the pooled singular values to
  ``QC(sigma_A)`` below the critical value at level ``1e-4`` for the pooled
  count (conservative: eigenvalues are more rigid than i.i.d. draws) plus a
  finite-n budget ``2/n``.

>>> predict(1.0)
{'edge': 2.0, 's1/s2': 1.0, 'qc_variance': 1.0}
"""
from __future__ import annotations

import functools

import numpy as np
from scipy import stats as _st

from ...theory.registry import CheckOutcome
from .thm2 import (HEAVY_TAILED, TW_BUDGET, Z, edge_budget, markov_spectrum,
                                  sigma_A_of, stream)
from ..stats import mean_se

DEFAULT = dict(ensemble="exponential", sigma_a2=None)
KS_ALPHA = 1e-4
NO_OUTLIER_COEF = 4.0


def predict(sigma_A):
    from ...theory.registry import get
    f = get("lemma3").formulas(sigma_A=sigma_A)
    return {"edge": float(f["s_1(sqrt(n) A_perp) limit"]), "s1/s2": float(f["s_1/s_2 limit"]),
            "qc_variance": sigma_A ** 2}


def sizes(config):
    return config.pick(128, 256, 512), config.pick(4, 8, 16)


@functools.lru_cache(maxsize=32)
def measure(config, ensemble, sigma_a2):
    n, batch = sizes(config)
    s, _ = markov_spectrum(n, batch, ensemble, sigma_a2, stream(config, "lemma3", n), config.backend,
                           perp=True)
    return {"n": n, "batch": batch, "s": s, "top": mean_se(s[:, 0]), "ratio": mean_se(s[:, 0] / s[:, 1])}


def run(config, predict=None, params=None) -> list[CheckOutcome]:
    from ...theory.laws import QuarterCircle
    p = dict(DEFAULT, **(params or {}))
    ens, sa2 = p["ensemble"], p["sigma_a2"]
    sA = sigma_A_of(ens, sa2)
    pred = (predict or globals()["predict"])(sA)
    m = measure(config, ens, sa2)
    n, batch = m["n"], m["batch"]
    par = {"ensemble": ens, "sigma_A": round(sA, 6), "n": n, "batch": batch}
    out = []
    mean, se = m["top"]
    budget = edge_budget(n) * pred["edge"]
    if ens in HEAVY_TAILED:
        excess = mean / pred["edge"] - 1
        out.append(CheckOutcome("finding: lognormal top singular value above 2 sigma_A at finite n", par,
                                mean, pred["edge"], bool(-edge_budget(n) < excess < 0.4),
                                "pinned: -TW budget < relative excess < 40%", f"excess {excess:.3f}"))
    else:
        out.append(CheckOutcome("s_1(sqrt(n) A_perp) -> 2 sigma_A", par, mean, pred["edge"],
                                bool(abs(mean - pred["edge"]) <= Z * se + budget),
                                f"{Z} SE + {TW_BUDGET} n^(-2/3) (Tracy-Widom scale)",
                                f"SE {se:.3g}, budget {budget:.3g}"))
    r, _ = m["ratio"]
    if ens in HEAVY_TAILED:
        # finding: the largest lognormal entries make small outliers at these n
        out.append(CheckOutcome("finding: lognormal s_1/s_2 of sqrt(n) A_perp near 1 (heavy-tail outliers)", par,
                                r, pred["s1/s2"], bool(abs(r - pred["s1/s2"]) <= 0.5),
                                "pinned: |s_1/s_2 - 1| <= 0.5 (vs sqrt(n)/(2 sigma_A) with the gap)"))
    else:
        tol = NO_OUTLIER_COEF * n ** (-2 / 3)
        out.append(CheckOutcome("no outlier: s_1/s_2 -> 1", par, r, pred["s1/s2"],
                                bool(abs(r - pred["s1/s2"]) <= tol), f"{NO_OUTLIER_COEF} n^(-2/3) (edge spacing)"))
    law = QuarterCircle(pred["qc_variance"])
    # A_perp 1 = 0: the smallest singular value is exactly 0 (rank n - 1); the bulk is the rest
    pooled = np.sort(m["s"][:, :-1].ravel())
    ks = float(np.max(np.abs(law.cdf_numpy(pooled) - np.arange(1, pooled.size + 1) / pooled.size)))
    crit = float(_st.kstwo.isf(KS_ALPHA, pooled.size)) + 2.0 / n
    out.append(CheckOutcome("bulk: KS distance to QC(sigma_A)", dict(par, pooled=pooled.size), ks, 0.0,
                            bool(ks <= crit), f"KS critical value at {KS_ALPHA} + 2/n = {crit:.4f}"))
    return out


def _perturb(**changes):
    def f(sigma_A):
        p = predict(sigma_A)
        for k, fn in changes.items():
            p[k] = fn(p[k])
        return p
    return f


NEGATIVE_CONTROLS = {
    "edge x1.1": _perturb(edge=lambda e: 1.1 * e, qc_variance=lambda v: 1.21 * v),
    "2 sigma -> sigma": _perturb(edge=lambda e: e / 2, qc_variance=lambda v: v / 4),
    "gap kept (s1/s2 ~ sqrt(n)/(2 sigma_A))": _perturb(**{"s1/s2": lambda r: 4.0}),
}
