"""Samplers of the companion checks: REM rows, LayerNorm tokens with overlap p,
single-head attention and small transformer stacks (:mod:`.rem`), and one-layer
attention Jacobians with respect to W_Q, W_K, W_V (:mod:`.qk_gradients`)."""
from __future__ import annotations

import numpy as _np

from theory.registry import CheckOutcome

__all__ = ["band", "interval"]


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
