"""Empirical check of Proposition 4: with the gap, E||dX_L/dW_l||_F^2 grows
like n^exponent with E||dX_L/dW_l||_F^2 / n^exponent -> constant, both read
from the prediction (``theory.results.prop4.predict``: exponent L, constant
sigma_V^(2(L-1)) gamma^-L (1 + sigma_A^2 [L = 1]), independent of l).

The check is Prop 6's (:class:`numerics.checks.prop6.GradientsWithoutGapCheck`)
with the gap kept: gradient norms from :func:`numerics.gradients.grad_norms_sq`
(exact Kronecker identity), cached by :func:`toolkit.gradient_norms` so the
truth and every control read the same draws. Per case and layer l:

* **constant**: ``||grad||^2 / n^exponent`` extrapolated to n = oo in 1/n
  (:func:`toolkit.limit`: the policy's t quantile times the intercept's SE plus
  the next-order bias budget);
* **rate** (l = 1): log-log slope of the mean against n, 99% bootstrap CI
  containing the exponent plus the slope bias of the O(1/n) correction
  measured independently of the prediction (:func:`toolkit.correction_bias`),
  narrower than :data:`toolkit.RATE_CI_WIDTH`. For l >= 2 the rank-one signal
  ``1^T X0 W_1...W_{l-1}`` does not self-average (relative sd
  ``sqrt(2(l-1)/d)`` per network, Lemma 1), so the rate is fitted at l = 1 and
  the constant is checked at every l.

Every level runs the result's example (sigma_A^2 = 3/4, sigma_V^2 = 3/2,
gamma = 1/2, L = 2) and a single layer with the uniform ensemble
(sigma_A^2 = 1/3, gamma = 1/2), the only depth at which sigma_A^2 enters.

Finding pinned by :func:`key_query_looseness` (default and thorough levels; it
reads no prediction, judges no field): with key-query attention
(sigma_QK^2 = 1) the first layer's gradient grows faster than n^L, more so
with depth: the n^L lower bound becomes loose.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['sigma_A^2=3/4, sigma_V^2=3/2, gamma=1/2, L=2, lognormal', 'sigma_A^2=1/3, sigma_V^2=1, gamma=1/2, L=1, uniform']
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy

from . import toolkit as T
from .prop6 import GradientsWithoutGapCheck
from ..rng import as_generator
from ..stats import loglog_fit
from ...theory.registry import CheckOutcome, get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "key_query_slopes", "key_query_looseness"]

_HALF = sympy.Rational(1, 2)
#: (L, gamma, ensemble, sigma_V^2) sampled besides the example; the first is the single
#: layer (sigma_A^2 enters at L = 1 only) that every level runs
_CASES = ((1, _HALF, "uniform", 1), (1, 1, "exponential", 1),
          (2, _HALF, "exponential", sympy.Rational(16, 25)), (3, 1, "exponential", 1),
          (2, 1, "lognormal", 1))


def key_query_slopes(depths, ns, *, batch, rng=None, sigma_qk2=1.0, probes=16):
    """Fitted exponent (median statistic, bootstrap CI) of the first layer's
    ||dX_L/dW_1||_F^2 for key-query attention, per depth."""
    from ..gradients import grad_norms_sq
    from ...theory.model import AttentionModel

    gen = as_generator(rng)
    fits = {}
    for L in depths:
        data = [grad_norms_sq(AttentionModel(n=n, depth=L, gamma=1, attention="key-query",
                                             sigma_qk2=sigma_qk2), batch=batch, rng=gen, probes=probes)
                for n in ns]
        fits[L] = loglog_fit(ns, [d[:, 0] for d in data], rng=gen, n_boot=500, statistic=np.median)
    return fits


def key_query_looseness(ns=(16, 32, 64), *, batch=16, rng=None) -> CheckOutcome:
    """Pinned finding: the excess of the fitted exponent over L is small at
    L = 1 (|slope - 1| < 0.35) and exceeds 1 at L = 3 (loose lower bound)."""
    fits = key_query_slopes((1, 3), list(ns), batch=batch, rng=rng)
    ok = abs(fits[1].slope - 1) < 0.35 and fits[3].slope - 3 > 1.0
    return CheckOutcome("finding: key-query (sigma_QK^2 = 1) gradients outgrow n^L with depth",
                        {"n": list(ns), "networks_per_n": batch, "depths": [1, 3]},
                        {L: round(f.slope, 3) for L, f in fits.items()},
                        {"L=1": "1 +- 0.35", "L=3": "> 4"}, bool(ok),
                        "pinned observation (median statistic over networks)",
                        "; ".join(f"L={L}: CI [{f.ci_low:.2f}, {f.ci_high:.2f}]" for L, f in fits.items()))


@lru_cache(maxsize=4)
def _finding(config) -> CheckOutcome:
    return key_query_looseness(rng=T.generator(config, "prop4", "key-query"))


class ExplodingGradientsCheck(GradientsWithoutGapCheck):
    result_id = "prop4"
    remove_gap = 0

    def sizes(self, config):
        return config.pick((32, 64, 128), (48, 96, 192), (128, 256, 512)), config.pick(8, 10, 24)

    def legacy_cases(self, config):
        return config.pick(_CASES[:1], _CASES[:4], _CASES)

    def rate_at(self, l: int) -> bool:
        return l == 1   # rank-one signal: relative sd sqrt(2(l-1)/d) per network (Lemma 1)

    def run(self, config, predict=None) -> list[CheckOutcome]:
        out = super().run(config, predict)
        return out if config.level == "quick" else out + [_finding(config)]


def _without_gap(model, pred):
    """Prop 6's prediction (the gap removed) for the same architecture."""
    return get("prop6").prediction(model.replace(remove_gap=1))


CHECK = ExplodingGradientsCheck()
CHECK.controls = (
    T.shift("exponent", +0.25),
    T.shift("exponent", -0.25),
    T.scale("constant", 1.1),
    T.remodel("L -> L+1 (exponent and constant)", ("exponent", "constant"),
              lambda m: {"depth": m.depth + 1}),
    T.substitute("2 sigma_A -> sigma_A", ("constant",), sigma_A2=sympy.sqrt),
    T.substitute("bulk term dropped (sigma_A^2 [L = 1] -> 0)", ("constant",), sigma_A2=lambda a: 0),
    T.times("sigma_V^(2L) for sigma_V^(2(L-1))", "constant", lambda m: m.value("sigma_V2")),
    T.times("gamma^-(L-1) for gamma^-L", "constant", lambda m: m.value("gamma")),
    T.Control("without the gap (Prop 6's prediction)", _without_gap, ("exponent", "constant")),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
