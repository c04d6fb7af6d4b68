"""Empirical check of ``dong.cubic`` (C2), on the toolkit.

For each case (a pure key-query model: n, d, sigma_QK^2, sigma_V^2; and H heads
summed, a parameter of the statement that the one-head model does not carry)
one layer of the model (:func:`numerics.companions.residual.init_san` with
the model's entry variances, per head) is applied to ``X = 1 x^T + eps R`` over
eps in ``[10^-3.5, 10^-1]`` (2.5 decades; ``|res| ~ eps^3 >= 3e-11`` stays four
decades above the float64 floor), the residual measured by the plain forward
pass (mean-centring, composite norm). The statement is for fixed weights and
R, so each draw's least-squares log-log slope is one deterministic reading of
the exponent; the draw farthest from the prediction
(:class:`theory.companions.dong.CubicContraction`) must be within
``CURVATURE`` = 0.1 (docs/derivations.md, section dong.cubic: the higher
orders are O(eps^2) relative, a slope bias below 0.01). Judges ``exponent``.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['n=8, d=16, sigma_QK^2=9/64, sigma_V^2=3/32, H=1', 'n=6, d=12, sigma_QK^2=9/64, sigma_V^2=3/32, H=3']
"""
from __future__ import annotations

import numpy as np
import sympy

from . import toolkit as T
from .dong_skip_conserves import HeadsCase, model_layers
from ..companions.residual import attention_layer, composite_norm, residual_mean
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "CURVATURE"]

#: slope budget of the higher orders over the eps grid
CURVATURE = 0.1


def _label(m, heads) -> str:
    return f"n={m.n}, d={m.d}, sigma_QK^2={m.value('sigma_QK2')}, sigma_V^2={m.value('sigma_V2')}, H={heads}"


class CubicCheck(T.Check):
    result_id = "dong.cubic"

    def cases(self, config):
        ex = get(self.result_id).example()
        models = [(ex, 1), (ex.replace(n=6, gamma=sympy.Rational(1, 2)), 3)]
        return [HeadsCase(m, (m.n,), config.pick(6, 12, 40), _label(m, h), heads=h) for m, h in models]

    def measure(self, config, case):
        m, H = case.model, case.heads
        gen = T.generator(config, self.result_id, case.label)
        eps = np.logspace(-3.5, -1, config.pick(6, 11, 21))
        x = np.log(eps) - np.log(eps).mean()
        slopes = []
        for _ in range(case.batch):
            layer = model_layers(m, H, gen, depth=1)[0]
            x0 = gen.standard_normal(m.d)
            R = residual_mean(gen.standard_normal((m.n, m.d)))
            R /= composite_norm(R)
            y = np.log([composite_norm(residual_mean(attention_layer(x0[None, :] + e * R, layer))) for e in eps])
            slopes.append(float(x @ (y - y.mean()) / (x @ x)))
        return np.array(slopes)

    def compare(self, config, case, slopes, pred):
        p = pred.numeric()["exponent"]
        worst = float(slopes[np.argmax(np.abs(slopes - p))])
        return [T.band("exponent of |res(SA(1x^T + eps R))| in eps (draw farthest from the prediction)",
                       {"case": case.label, "draws": case.batch, "eps": "10^-3.5..10^-1"},
                       measured=worst, predicted=p, se=0.0, judges=("exponent",), below=CURVATURE,
                       above=CURVATURE, detail=f"per-draw slopes in [{slopes.min():.4f}, {slopes.max():.4f}]")]


CHECK = CubicCheck()
CHECK.controls = (
    T.shift("exponent", -0.25, name="3 -> 2.75"),
    T.shift("exponent", 0.25, name="3 -> 3.25"),
    T.shift("exponent", -1, name="3 -> 2 (quadratic)"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
