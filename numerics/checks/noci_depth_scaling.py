"""Empirical check of ``noci.depth-scaling`` (B4), on the toolkit.

Two cases, each a model of the statement's residual stack with uniform
attention ``A = J`` (the W_Q -> 0 limit of key-query attention, sampled as J),
compared with the prediction (:class:`theory.companions.noci.DepthScaling`):

* **linear** (:func:`theory.companions.noci.depth_scaling_example`: n = 4,
  d = 32, L = 8, alpha = 1/2, sigma_V^2 = 3/64, no LayerNorm): the Monte Carlo
  mean entry of ``G_L`` over that of ``G_0`` against ``growth`` (judges
  ``growth``; policy Student-t quantile of the SE over the weight draws, exact
  in expectation, no bias budget), and the centred part of ``E G_L`` equal to
  that of ``G_0`` to rounding (the form of the statement; judges no field);
* **post-LN** (n = 8, L = 12, alpha = 1/3, so ``c = alpha^2 L = 4/3``, ``s_v^2 =
  d sigma_V^2 = 3/4``, ``c s_v^2 = 1``, width d = 1000 / 2000 / 4000 by level): the network's
  mean cosine per layer against the map ``postln`` (judges ``postln``) and,
  for the same stack with the LayerNorm in front of the branch, against
  ``preln`` (judges ``preln``), each within the random-walk budget
  :func:`numerics.companions.walk_budget` (per-layer mean-field errors
  O(d^-1/2)); ``(1 - rho_L)/(1 - rho_0) >= postln_floor`` less that budget
  (judges ``postln_floor``).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['linear: n=4, d=32, L=8, alpha=1/2, sigma_V^2=3/64', 'post-LN: n=8, d=1000, L=12, alpha=1/3, sigma_V^2=3/4000']
"""
from __future__ import annotations

import math

import numpy as np
import sympy

from . import toolkit as T
from ..companions import walk_budget
from ..companions.qk_gradients import linear_stack_grams, postln_uniform_stack, preln_uniform_stack
from ..companions.rem import ln_tokens
from ..stats import mean_se
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "RHO0"]

#: overlap of the post-LN case's input tokens (a parameter of the statement)
RHO0 = 0.2


def _label(kind, m) -> str:
    return (f"{kind}: n={m.n}, d={m.d}, L={m.depth}, alpha={m.skip_alpha}, "
            f"sigma_V^2={m.value('sigma_V2')}")


def _s_v(model) -> float:
    return math.sqrt(model.d * float(model.sigma_V2))


class DepthScalingCheck(T.Check):
    result_id = "noci.depth-scaling"

    def cases(self, config):
        linear = get(self.result_id).example()
        d2 = config.pick(1000, 2000, 4000)
        post = linear.replace(n=8, gamma=sympy.Rational(8, d2), depth=12, skip=sympy.Rational(1, 3),
                              layernorm=True, sigma_v2=sympy.Rational(3, 4 * d2))
        return [T.Case(linear, (linear.n,), config.pick(1000, 4000, 20000), _label("linear", linear)),
                T.Case(post, (post.n,), 1, _label("post-LN", post))]

    def measure(self, config, case):
        m = case.model
        gen = T.generator(config, self.result_id, case.label)
        alpha = float(m.skip_alpha)
        if not m.layernorm:
            X0 = gen.standard_normal((m.n, m.d))
            Gmean, m_draws = linear_stack_grams(X0, m.depth, alpha, s_v=_s_v(m), reps=case.batch, rng=gen)
            G0 = X0 @ X0.T
            C = np.eye(m.n) - 1.0 / m.n
            centred = float(np.abs(C @ Gmean @ C - C @ G0 @ C).max() / np.abs(C @ G0 @ C).max())
            return {"ratio": mean_se(m_draws / G0.mean()), "centred": centred}
        post = postln_uniform_stack(ln_tokens(m.n, m.d, RHO0, batch=1, rng=gen), m.depth, alpha ** 2,
                                    s_v=_s_v(m), rng=gen)
        pre = preln_uniform_stack(ln_tokens(m.n, m.d, RHO0, batch=1, rng=gen), m.depth, alpha ** 2,
                                  s_v=_s_v(m), rng=gen)
        return {"post": np.asarray(post), "pre": np.asarray(pre)}

    def compare(self, config, case, meas, pred):
        m = case.model
        par = {"case": case.label}
        if not m.layernorm:
            mean, se = meas["ratio"]
            return [T.band("mean entry of G_L / that of G_0 (linear stack)", {**par, "draws": case.batch},
                           measured=mean, predicted=float(pred.growth), se=se, judges=("growth",),
                           df=case.batch - 1),
                    T.identity("centred part of E G_L = that of G_0", par, measured=meas["centred"],
                               predicted=0.0, judges=(), rtol=0.0, atol=1e-10)]
        budget = walk_budget(m.depth, m.d)
        out = []
        for key, field, what in (("post", "postln", "post-LN"), ("pre", "preln", "pre-LN")):
            net = meas[key]
            curve = np.asarray(getattr(pred, field).curve(float(net[0])))
            err = float(np.max(np.abs(net - curve)))
            out.append(T.bound(f"{what} cosine per layer: max |network - map|", {**par, "budget": "0.75 sqrt(L/d)"},
                               measured=err, limit=budget, judges=(field,),
                               detail=f"network {np.round(net, 4).tolist()}, map {np.round(curve, 4).tolist()}"))
        net = meas["post"]
        out.append(T.bound("post-LN: (1 - rho_L)/(1 - rho_0) >= exp(-c s_v^2), c = alpha^2 L", par,
                           measured=(1 - net[-1]) / (1 - net[0]), limit=float(pred.postln_floor) - budget / (1 - net[0]),
                           upper=False, judges=("postln_floor",),
                           detail=f"floor {float(pred.postln_floor):.4f} less the walk budget {budget:.3f}"))
        return out


def _growth_of(change, name):
    def perturb(model, predict):
        return predict(model).replace(growth=predict(model.replace(**change(model))).growth)
    return T.Control(name, perturb, ("growth",))


CHECK = DepthScalingCheck()
CHECK.controls = (
    _growth_of(lambda m: {"depth": m.depth + 1}, "(1 + a^2 s^2)^L -> ^(L+1)"),
    _growth_of(lambda m: {"skip": sympy.sqrt(m.skip_alpha)}, "alpha^2 -> alpha in the growth"),
    T.substitute("s_v^2 -> s_v^4 (sigma_V^2 -> sigma_V^4)", ("growth",), sigma_V2=lambda s: s ** 2),
    T.remodel("alpha^2 ~ c/L -> c/L^2", ("postln", "postln_floor"),
              lambda m: {"skip": m.skip_alpha / sympy.sqrt(m.depth)}),
    T.Control("pre-LN map with alpha^2 ~ c/L^2",
              lambda m, pred: pred(m).replace(preln=pred(m.replace(skip=m.skip_alpha / sympy.sqrt(m.depth))).preln),
              ("preln",)),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
