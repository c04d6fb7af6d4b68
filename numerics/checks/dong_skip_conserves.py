"""Empirical check of ``dong.skip-conserves`` (C4), on the toolkit.

For each case (a residual model at uniform attention: n, d, depth, skip
alpha, sigma_V^2; and a number of heads H summed per layer, a parameter of the
statement that the one-head model does not carry) the stack ``X_l = X_{l-1} +
alpha sum_h J X_{l-1} W_{l,h}`` is run by the plain forward pass
(:func:`numerics.companions.residual.san_forward`; alpha is absorbed into the
value weights, each head's entries ``N(0, alpha^2 sigma_V^2)``), and compared
with the prediction (:class:`theory.companions.dong.SkipConservation`):

* ``max_l | |res(X_l)|_F / |res(X_0)|_F - centred_ratio |`` (judges ``centred_ratio``)
  and ``max_l max |(I - J)(X_l - X_0)| / |res(X_0)|_F`` against ``centred_change``
  (judges ``centred_change``), both to the float64 floor ``1e3 eps_machine
  max_l |X_l|_F / |res(X_0)|_F`` (the residual is computed from X_l, so the only
  error is cancellation against the growing mean token). Exact: no statistics.

The cases: :func:`theory.companions.dong.skip_conserves_example` (n = 8, d = 16,
alpha = 1/2, sigma_V^2 = 3/32) with one head and a three-head variant (n = 5,
d = 6), at depth 20 / 50 / 100 by level.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['n=8, d=16, L=20, alpha=1/2, sigma_V^2=3/32, H=1', 'n=5, d=6, L=20, alpha=1/2, sigma_V^2=3/32, H=3']
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy

from . import toolkit as T
from ..companions.residual import init_san, residual_mean, san_forward
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "HeadsCase", "model_layers"]


@dataclass(frozen=True)
class HeadsCase(T.Case):
    """A case with ``heads`` attention heads summed per layer (the statement's parameter)."""

    heads: int = 1


def model_layers(model, heads, rng, *, depth=None, alpha=1.0):
    """:func:`numerics.companions.residual.init_san` layers of ``model`` with ``heads``
    heads: each head's key/query entries ``N(0, sigma_QK^2)`` and value entries
    ``N(0, alpha^2 sigma_V^2)`` (a residual strength absorbed into the values)."""
    d, H = model.d, heads
    return init_san(d, model.depth if depth is None else depth, heads=H,
                    sigma_qk=math.sqrt(float(model.sigma_QK2) * d),
                    sigma_v=float(alpha) * math.sqrt(float(model.sigma_V2) * d * H), rng=rng)


def _label(m, heads) -> str:
    return (f"n={m.n}, d={m.d}, L={m.depth}, alpha={m.skip_alpha}, sigma_V^2={m.value('sigma_V2')}, "
            f"H={heads}")


class SkipConservesCheck(T.Check):
    result_id = "dong.skip-conserves"

    def cases(self, config):
        ex = get(self.result_id).example().replace(depth=config.pick(20, 50, 100))
        models = [(ex, 1), (ex.replace(n=5, gamma=sympy.Rational(5, 6)), 3)]
        return [HeadsCase(m, (m.n,), 1, _label(m, h), heads=h) for m, h in models]

    def measure(self, config, case):
        m = case.model
        gen = T.generator(config, self.result_id, case.label)
        X0 = gen.standard_normal((m.n, m.d))
        Xs = san_forward(X0, model_layers(m, case.heads, gen, alpha=m.skip_alpha), skip=True, uniform=True)
        r0 = float(np.linalg.norm(residual_mean(X0)))
        ratios = np.array([np.linalg.norm(residual_mean(X)) / r0 for X in Xs])
        ratios.setflags(write=False)
        change = float(max(np.abs(residual_mean(X) - residual_mean(X0)).max() for X in Xs) / r0)
        floor = 1e3 * np.finfo(float).eps * max(np.linalg.norm(X) for X in Xs) / r0
        relative = float(np.linalg.norm(residual_mean(Xs[-1])) / np.linalg.norm(Xs[-1]))
        return {"ratios": ratios, "change": change, "floor": float(floor), "relative": relative}

    def compare(self, config, case, meas, pred):
        p = pred.numeric()
        par = {"case": case.label}
        dev = meas["ratios"] - p["centred_ratio"]
        worst = float(meas["ratios"][np.argmax(np.abs(dev))])
        out = [T.identity("|res(X_l)|_F / |res(X_0)|_F along the skip network (layer farthest off)", par,
                          measured=worst, predicted=p["centred_ratio"], judges=("centred_ratio",),
                          rtol=0.0, atol=meas["floor"]),
               T.identity("max_l |(I - J)(X_l - X_0)| / |res(X_0)|_F", par, measured=meas["change"],
                          predicted=p["centred_change"], judges=("centred_change",), rtol=0.0,
                          atol=meas["floor"])]
        return out


CHECK = SkipConservesCheck()
CHECK.controls = (
    T.times("conserved -> contracts by 0.99 per layer", "centred_ratio",
            lambda m: sympy.Rational(99, 100) ** m.depth),
    T.scale("centred_ratio", 0, name="conserved -> exact collapse"),
    T.times("conserved -> grows like the mean, 2^(L/2)", "centred_ratio", lambda m: sympy.sqrt(2) ** m.depth),
    T.shift("centred_change", 1e-6, name="centred part moves by 1e-6"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
