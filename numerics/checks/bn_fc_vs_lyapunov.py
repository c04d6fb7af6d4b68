"""Empirical check of ``bn.fc-vs-lyapunov``, both orders of limits.

* Fixed depth ``L`` in {1, 2, 3}, ``d`` in {16, 32, 64, 128}: the mean top
  squared singular value (matrix-free Lanczos) is regressed on ``d^{-2/3}``
  (the soft-edge scale) by weighted least squares with the per-``d`` SEs; the
  intercept must match the Fuss-Catalan edge within 4 of its SEs.
* Fixed ``d`` in {3, 6}, ``L = 100``: ``E log sigma_1^2`` (renormalised
  products) must match ``2 L mu_1 + psi(d/2) - psi(1/2)`` within 4 SE (SE
  from the spread over chains; the neglected term ``exp(-2 L (mu_1 - mu_2))``
  is below ``1e-8``).

``predict(kind, d_or_L) -> float``: ``predict("edge", L)`` is the limit of
``sigma_1^2`` at depth ``L``; ``predict("lyapunov", (d, L))`` is
``E log sigma_1^2``.
"""
from __future__ import annotations

import math

import numpy as np
import sympy

from ..companions.products import product_top_sv2, product_top_sv2_lanczos
from ...theory.companions.bn import fc_edge, log_top_sv2_mean
from ...theory.registry import CheckOutcome

__all__ = ["run", "NEGATIVE_CONTROLS"]


def _predict(kind, arg):
    if kind == "edge":
        return float(fc_edge(arg))
    d, L = arg
    return float(sympy.N(log_top_sv2_mean(d, L), 20))


def _only(kind, f):
    return lambda k, a: f(a) if k == kind else _predict(k, a)


NEGATIVE_CONTROLS = {
    "edge FC(L) -> FC(L+1)": _only("edge", lambda L: _predict("edge", L + 1)),
    "edge x 1.1": _only("edge", lambda L: 1.1 * _predict("edge", L)),
    "Marchenko-Pastur edge 4 for every L": _only("edge", lambda L: 4.0),
    "no finite-L correction (2 L mu_1)": _only(
        "lyapunov", lambda a: float(sympy.N(2 * a[1] * (sympy.log(sympy.Rational(2, a[0]))
                                                      + sympy.polygamma(0, sympy.Rational(a[0], 2))) / 2))),
    "mu_1 with psi((d-1)/2)": _only(
        "lyapunov", lambda a: float(a[1] * (math.log(2 / a[0]) + float(sympy.polygamma(0, (a[0] - 1) / 2)))
                                    + _predict("lyapunov", a) - float(sympy.N(
                                        2 * a[1] * (sympy.log(sympy.Rational(2, a[0]))
                                                    + sympy.polygamma(0, sympy.Rational(a[0], 2))) / 2)))),
}


def run(config, predict=None):
    predict = predict or _predict
    rng = np.random.default_rng([config.seed, 105])
    ds = config.pick((16, 32, 64), (16, 32, 64, 128), (16, 32, 64, 128, 256))
    scale = config.pick(0.25, 0.35, 2.0)
    out = []
    for L in (1, 2, 3):
        ms, ses = [], []
        for d in ds:
            b = max(20, int(scale * 12800 / d))
            x = product_top_sv2_lanczos(d, L, batch=b, rng=rng)
            ms.append(x.mean())
            ses.append(x.std(ddof=1) / math.sqrt(b))
        ms, ses = np.array(ms), np.array(ses)
        A = np.vstack([np.ones(len(ds)), np.asarray(ds, float) ** (-2 / 3)]).T
        w = 1 / ses**2
        cov = np.linalg.inv(A.T @ (A * w[:, None]))
        beta = cov @ (A.T @ (w * ms))
        se = math.sqrt(cov[0, 0])
        pred = predict("edge", L)
        out.append(CheckOutcome("sigma_1^2 extrapolated to d = oo vs the Fuss-Catalan edge",
                                {"L": L, "d": list(ds)}, measured=float(beta[0]), predicted=pred,
                                passed=abs(beta[0] - pred) <= 4 * se,
                                tolerance=f"4 SE of the intercept (SE {se:.3g}); WLS on d^(-2/3)",
                                detail=f"slope in d^(-2/3): {beta[1]:.3g}"))
    L = 100
    chains = config.pick(300, 800, 3000)
    for d in (3, 6):
        x = product_top_sv2(d, L, batch=chains, rng=rng)
        m, se = float(x.mean()), float(x.std(ddof=1) / math.sqrt(chains))
        pred = predict("lyapunov", (d, L))
        out.append(CheckOutcome("E log sigma_1^2 at fixed d, large L", {"d": d, "L": L, "chains": chains},
                                measured=m, predicted=pred, passed=abs(m - pred) <= 4 * se,
                                tolerance=f"4 SE (SE {se:.3g})"))
    return out
