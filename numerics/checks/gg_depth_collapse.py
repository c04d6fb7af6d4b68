"""Empirical check of ``gg.depth-collapse`` (A8), on the toolkit.

The prediction (:class:`theory.companions.gg.DepthCollapse`): the slope of the
post-LN map at p = 1, the skip exponent e (alpha_A^2 = alpha_M^2 ~ L^e keeps
1 - p_L = Theta(1)) and the model's cosine map. Cases:

* **map** (the example's blocks; no sampling): near p = 1 the model's map
  contracts 1 - p at the predicted ``slope`` (one step from 1 - p = 1e-4 after
  five; relative 1e-3 for the O(1 - p) curvature; judges ``slope``); and with
  ``alpha_A^2 = alpha_M^2 = c L^e`` (c = 1, e the predicted exponent) the
  model's map keeps ``1 - p_L`` in (0.05, 0.95 (1 - p_0)) with max/min <= 1.25
  over L = 10..1000 (judges ``skip_exponent``);
* **networks** (beta = 1/2, depth L = 2, 6 (8, 16 thorough), skip alpha^2 = c L,
  the example's sigma_v^2 = 2): sampled post-LN stacks follow the model's map
  within the random-walk budget ``0.75 sqrt(L/d)`` (judges ``cosines``).

The properties of the map itself (every factor increases p; slope < 1 for every
ReLU hyper-parameter; the closed form of the slope) are exact steps of the
result (``symbolic_checks``) and property tests.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.kind for c in CHECK.cases(VerifyConfig(level="quick"))]
['map', 'networks', 'networks']
"""
from __future__ import annotations

import sympy

from . import toolkit as T
from .gg_block_map_postln import INPUT_OVERLAP, curve_outcome, map_control, sampled_cosines
from .gg_rem_mapping import InputCase, at, label
from ...theory.registry import CheckOutcome, get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS"]

#: the constant c of the skip scaling alpha^2 = c L^e
C_SKIP = 1
#: 1 - p where the contraction rate is read, and the tolerance (relative) of the rate
NEAR_ONE, RATE_RTOL = 1e-4, 1e-3


class DepthCollapseCheck(T.Check):
    result_id = "gg.depth-collapse"

    def cases(self, config):
        ex = get(self.result_id).example()
        out = [InputCase(ex, (ex.n,), 0, label(ex, kind="map"), p=sympy.Integer(0), kind="map")]
        n, d, batch = config.pick((64, 128, 2), (128, 256, 2), (256, 512, 3))
        for L in config.pick((2, 6), (2, 6), (2, 8, 16)):
            m = at(ex, n, sympy.Rational(1, 2), d, depth=L, skip=sympy.sqrt(C_SKIP * L))
            out.append(InputCase(m, (n,), batch, label(m, L=L), p=INPUT_OVERLAP, kind="networks"))
        return out

    def measure(self, config, case):
        if case.kind == "map":
            return config.pick((10, 100), (10, 100, 1000), (10, 100, 1000, 10000))
        return sampled_cosines(config, self.result_id, case)

    def compare(self, config, case, measured, pred):
        if case.kind == "networks":
            return [curve_outcome("sampled network with alpha^2 = c L vs map", case, measured, pred.cosines,
                                  ("cosines",))]
        model, truth = case.model, get(self.result_id).prediction
        par = {"case": case.label}
        rho = truth(model).cosines.with_(depth=6).curve(1 - NEAR_ONE)
        rate = (1 - rho[-1]) / (1 - rho[-2])
        out = [T.identity("contraction rate of 1 - p near p = 1", par, measured=rate, predicted=float(pred.slope),
                          judges=("slope",), rtol=RATE_RTOL)]
        e = pred.skip_exponent
        gaps = [1 - truth(model.replace(depth=L, skip=sympy.sqrt(C_SKIP * sympy.Integer(L) ** e))).cosines.curve(0.0)[-1]
                for L in measured]
        spread = max(gaps) / min(gaps) if min(gaps) > 0 else float("inf")
        out.append(CheckOutcome("1 - p_L depth-independent under alpha^2 = c L^e",
                                  {**par, "e": float(e), "L": list(measured), "c": C_SKIP},
                                  measured=[round(g, 4) for g in gaps],
                                  predicted="in (0.05, 0.95 (1 - p0)), max/min <= 1.25",
                                  passed=bool(min(gaps) > 0.05 and max(gaps) < 0.95 and spread <= 1.25),
                                  tolerance="bounded away from collapse and from the identity",
                                  judges=("skip_exponent",)))
        return out


CHECK = DepthCollapseCheck()
CHECK.controls = (
    T.shift("skip_exponent", -0.5, "alpha^2 ~ sqrt(L)"),
    T.shift("skip_exponent", +0.5, "alpha^2 ~ L^1.5"),
    T.scale("skip_exponent", 0, "alpha^2 constant"),
    T.scale("slope", 1.1, "slope x1.1"),
    map_control("skip connections ignored (alpha_A = alpha_M = 0)", "cosines", alpha_a2=0, alpha_m2=0),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
