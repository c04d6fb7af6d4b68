"""Empirical check of ``dong.residual-norms`` on random matrices (and the two
extremal ones): sub-multiplicativity of the composite norm, ``|X|_2^2 <=
|X|_1 |X|_inf``, and ``|res_mean| <= c(n) |res_opt|`` in ``|.|_1`` (optimal
centre: column medians), ``|.|_inf`` (optimal centre: a linear programme) and
the composite norm (against ``sqrt(opt_1 opt_inf)``, a lower bound of the
optimal composite residual, so the check is stronger than the claim); the
extremal matrices ``e_1`` and ``I_n`` must attain ``c(n)`` (sharpness, the
LP being independent of the sympy argument). All exact inequalities:
tolerance ``1e-9`` for rounding and the LP's optimality gap.

``predict(n) -> float``: the factor ``c(n)`` (default ``2(1 - 1/n)``).
"""
from __future__ import annotations

import numpy as np

from ..companions.residual import (composite_norm, l1_norm, linf_norm, residual_mean,
                                          residual_optimal)
from ...theory.companions.dong import centring_factor
from ...theory.registry import CheckOutcome

__all__ = ["run", "NEGATIVE_CONTROLS"]

TOL = 1e-9


def _predict(n):
    return float(centring_factor(n))


NEGATIVE_CONTROLS = {
    "2(1-1/n) -> 1.5": lambda n: 1.5,
    "2(1-1/n) -> 2 (not sharp)": lambda n: 2.0,
    "2(1-1/n) -> 2(1-1/n) - 0.05": lambda n: _predict(n) - 0.05,
}


def _ratios(X):
    n = X.shape[0]
    Rm = residual_mean(X)
    _, o1 = residual_optimal(X, "1")
    _, oi = residual_optimal(X, "inf")
    return n, float(l1_norm(Rm) / o1), float(linf_norm(Rm) / oi), float(
        composite_norm(Rm) / np.sqrt(o1 * oi))


def run(config, predict=None):
    predict = predict or _predict
    rng = np.random.default_rng([config.seed, 201])
    count = config.pick(10, 40, 300)
    out = []
    A = rng.standard_normal((count * 5, 6, 5)) * rng.exponential(1, (count * 5, 6, 1))
    B = rng.standard_normal((count * 5, 5, 7))
    sub = float(np.max(composite_norm(A @ B) / (composite_norm(A) * composite_norm(B))))
    out.append(CheckOutcome("max |AB|_c / (|A|_c |B|_c)", {"pairs": count * 5}, sub, "<= 1",
                            passed=sub <= 1 + TOL, tolerance="exact inequality, 1e-9"))
    spec = float(np.max(np.linalg.norm(A, 2, axis=(-2, -1)) ** 2 / (l1_norm(A) * linf_norm(A))))
    out.append(CheckOutcome("max |X|_2^2 / (|X|_1 |X|_inf)", {"matrices": count * 5}, spec, "<= 1",
                            passed=spec <= 1 + TOL, tolerance="exact inequality, 1e-9"))
    worst = {"1": 0.0, "inf": 0.0, "composite": 0.0}
    for n in (3, 5, 8):
        for _ in range(count):
            d = int(rng.integers(1, 7))
            X = rng.standard_normal((n, d)) * rng.exponential(1, (n, 1)) + rng.standard_normal(d)
            _, r1, ri, rc = _ratios(X)
            c = predict(n)
            worst["1"], worst["inf"] = max(worst["1"], r1 / c), max(worst["inf"], ri / c)
            worst["composite"] = max(worst["composite"], rc / c)
    for k, v in worst.items():
        out.append(CheckOutcome(f"max |res_mean| / (c(n) |res_opt|), random, {k}-norm",
                                {"n": [3, 5, 8], "per n": count}, measured=v, predicted="<= 1",
                                passed=v <= 1 + TOL, tolerance="exact inequality, 1e-9"))
    for n in (3, 5, 12):
        e1 = np.zeros((n, 1))
        e1[0, 0] = 1.0
        _, r1, _, _ = _ratios(e1)
        _, _, ri, _ = _ratios(np.eye(n))
        c = predict(n)
        out.append(CheckOutcome("extremal matrices attain c(n) (e_1 in |.|_1, I_n in |.|_inf)",
                                {"n": n}, measured=[r1, ri], predicted=c,
                                passed=abs(r1 - c) <= TOL and abs(ri - c) <= TOL,
                                tolerance="1e-9 (LP optimality)"))
    return out
