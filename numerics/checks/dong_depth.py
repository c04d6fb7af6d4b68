"""Empirical check of ``dong.depth`` (C3), on the toolkit.

For each case (a pure key-query stack: n, d, depth L, sigma_QK^2, sigma_V^2;
and H heads summed per layer, a parameter of the statement that the one-head
model does not carry) networks with the model's entry variances
(:func:`numerics.companions.residual.init_san`) are started near collapse
(``|res(X_0)|_F = 0.1``) and followed layer by layer with the centred
recursion (:func:`numerics.companions.residual.centred_recursion`, no float64
floor), then compared with the prediction
(:class:`theory.companions.dong.DoublyExponential`):

* the recursion is the network: it agrees with the plain forward pass
  (relative ``1e-8`` in ``log|res|``) on the first layers where
  ``|res| > 1e-6`` (judges no field: a check of the measurement);
* with ``y_l = -log|res(X_l)|``, the last ratio ``y_L / y_{L-1}`` of the draw
  farthest from ``exponent`` is within ``BIAS`` = 0.05 of it (judges
  ``exponent``): the solved recursion gives ``y_L/y_{L-1} = 3 - kappa/y_{L-1}
  + ...`` with ``kappa = O(1)`` and ``y_{L-1}`` in the hundreds to thousands.
  Deterministic per draw: no statistics.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['n=8, d=16, L=7, sigma_QK^2=9/64, sigma_V^2=3/32, H=1', 'n=6, d=8, L=7, sigma_QK^2=9/64, sigma_V^2=3/32, H=2']
"""
from __future__ import annotations

import numpy as np
import sympy

from . import toolkit as T
from .dong_skip_conserves import HeadsCase, model_layers
from ..companions.residual import centred_recursion, residual_mean, san_forward
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "BIAS", "START"]

#: budget of the finite-depth bias kappa / y_{L-1} of the last ratio
BIAS = 0.05
#: |res(X_0)|_F of the start near collapse
START = 0.1


def _label(m, heads) -> str:
    return (f"n={m.n}, d={m.d}, L={m.depth}, sigma_QK^2={m.value('sigma_QK2')}, "
            f"sigma_V^2={m.value('sigma_V2')}, H={heads}")


class DepthCheck(T.Check):
    result_id = "dong.depth"

    def cases(self, config):
        ex = get(self.result_id).example().replace(depth=config.pick(7, 8, 10))
        models = [(ex, 1), (ex.replace(n=6, gamma=sympy.Rational(3, 4)), 2)]
        return [HeadsCase(m, (m.n,), config.pick(3, 5, 20), _label(m, h), heads=h) for m, h in models]

    def measure(self, config, case):
        m, H = case.model, case.heads
        gen = T.generator(config, self.result_id, case.label)
        ratios, agree, lowest = [], 0.0, 0.0
        for _ in range(case.batch):
            layers = model_layers(m, H, gen)
            R = residual_mean(gen.standard_normal((m.n, m.d)))
            X = gen.standard_normal(m.d)[None, :] + START * R / np.linalg.norm(R)
            logs = np.array(centred_recursion(X, layers))
            naive = [np.linalg.norm(residual_mean(Y)) for Y in san_forward(X, layers[:3])]
            for a, b in zip(logs, naive):
                if b > 1e-6:
                    agree = max(agree, abs(a - np.log(b)) / max(1.0, abs(np.log(b))))
            y = -logs
            ratios.append(y[-1] / y[-2])
            lowest = min(lowest, -y[-1] / np.log(10))
        return {"ratios": np.array(ratios), "agree": float(agree), "log10_res_L": float(lowest)}

    def compare(self, config, case, meas, pred):
        p = pred.numeric()["exponent"]
        r = meas["ratios"]
        par = {"case": case.label, "draws": case.batch}
        return [T.identity("centred recursion = forward pass while |res| > 1e-6 (relative, log|res|)", par,
                           measured=meas["agree"], predicted=0.0, judges=(), rtol=0.0, atol=1e-8),
                T.band("last ratio log|res_L| / log|res_{L-1}| (draw farthest from the prediction)", par,
                       measured=float(r[np.argmax(np.abs(r - p))]), predicted=p, se=0.0, judges=("exponent",),
                       below=BIAS, above=BIAS,
                       detail=f"ratios {np.round(r, 4).tolist()}, log10|res_L| down to {meas['log10_res_L']:.0f}")]


CHECK = DepthCheck()
CHECK.controls = (
    T.shift("exponent", -0.25, name="3 -> 2.75"),
    T.shift("exponent", 0.25, name="3 -> 3.25"),
    T.shift("exponent", -1, name="3 -> 2 (exponential, not doubly)"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
