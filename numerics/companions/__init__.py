"""Samplers of the companion checks: REM rows, LayerNorm tokens with overlap p,
single-head attention and small transformer stacks (:mod:`.rem`), and one-layer
attention Jacobians with respect to W_Q, W_K, W_V (:mod:`.qk_gradients`)."""
from __future__ import annotations

import numpy as _np

from ...theory.registry import CheckOutcome

__all__ = ["band", "interval", "curve", "walk_budget"]


def band(name, params, measured, predicted, se, *, z: float = 4.0, bias: float = 0.0,
         detail: str = "") -> CheckOutcome:
    """Outcome of ``|measured - predicted| <= z se + bias`` (se from the samples,
    bias an explicit finite-size budget).

    >>> band("x", {}, 1.0, 1.1, 0.01).passed
    False
    """
    m, p, s = float(measured), float(predicted), float(se)
    ok = bool(_np.isfinite(m) and abs(m - p) <= z * s + bias)
    tol = f"{z:g} SE (SE = {s:.3g})" + (f" + bias budget {bias:.3g}" if bias else "")
    return CheckOutcome(name, params, measured=m, predicted=p, passed=ok, tolerance=tol,
                        detail=detail)


def interval(name, params, measured, lo, hi, *, tolerance: str, detail: str = "") -> CheckOutcome:
    """Outcome of ``lo <= measured <= hi``."""
    m = float(measured)
    return CheckOutcome(name, params, measured=m, predicted=f"[{lo:.4g}, {hi:.4g}]",
                        passed=bool(lo <= m <= hi), tolerance=tolerance, detail=detail)


def curve(name, params, measured, predicted, budget: float, *, tolerance: str,
          detail: str = "") -> CheckOutcome:
    """Outcome of ``max_l |measured_l - predicted_l| <= budget`` for two curves."""
    m = _np.asarray(measured, float)
    p = _np.asarray(predicted, float)
    err = float(_np.max(_np.abs(m - p)))
    return CheckOutcome(name, {**params, "max_abs_error": round(err, 4)},
                        measured=[round(x, 4) for x in m], predicted=[round(x, 4) for x in p],
                        passed=bool(err <= budget), tolerance=tolerance, detail=detail)


def walk_budget(depth: int, d: int, c: float = 0.75) -> float:
    """Budget for a mean-field Gram map over ``depth`` layers at width ``d``: per-layer
    errors O(d^-1/2) accumulating like a random walk, ``c sqrt(depth/d)`` (c = 0.75
    reproduces the 0.15 at depth 10, d = 256 of docs/derivations.md, section gg.block-map-postln)."""
    return c * (depth / d) ** 0.5
