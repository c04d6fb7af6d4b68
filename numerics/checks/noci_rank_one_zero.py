"""Empirical check of ``noci.rank-one-zero`` (B1), on the toolkit.

For each case (a key-query model: n tokens, width d, key/query variance
sigma_QK^2, value variance sigma_V^2) a batch of rank-one inputs ``X = 1 x^T``
and of the model's weights is drawn, and compared with the prediction
(:class:`theory.companions.noci.RankOneJacobians`):

* ``max |dS/dW_Q|_F / |dS/dW_V|_F`` and the same for ``W_K`` equal ``q_over_v``
  and ``k_over_v`` to float64 rounding (judge ``q_over_v``, ``k_over_v``);
* S is unchanged by fresh ``W_Q, W_K`` (5 times larger queries):
  the largest relative change equals ``output_change`` to rounding (judges
  ``output_change``);
* the measurement can see a nonzero Jacobian: a rank-two input (a positive
  control on the sampler, judging no field) gives ``|dS/dW_Q| / |dS/dW_V|``
  far above rounding.

The statement is exact: the tolerance ``TOL`` is float64 rounding relative to
the value Jacobian, no statistics.

The cases: :func:`theory.companions.noci.key_query_example` (n = 8, d = 16,
sigma_QK^2 = 9/64, sigma_V^2 = 3/32) at every level, a wider model at the
default and thorough levels.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['n=8, d=16, sigma_QK^2=9/64, sigma_V^2=3/32']
"""
from __future__ import annotations

import numpy as np
import sympy

from . import toolkit as T
from ..companions.qk_gradients import attention_output, jacobian_sq_norms
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "TOL", "label"]

#: float64 rounding, relative to the value Jacobian
TOL = 1e-10
#: a rank-two input's |dS/dW_Q| / |dS/dW_V| must exceed this (far above TOL)
VISIBLE = 1e-6


def label(model) -> str:
    return (f"n={model.n}, d={model.d}, sigma_QK^2={model.value('sigma_QK2')}, "
            f"sigma_V^2={model.value('sigma_V2')}")


def _weights(gen, model, batch, scale=1.0):
    d = model.d
    sqk, sv = float(model.sigma_QK2) ** 0.5, float(model.sigma_V2) ** 0.5
    return (scale * sqk * gen.standard_normal((batch, d, d)), sqk * gen.standard_normal((batch, d, d)),
            sv * gen.standard_normal((batch, d, d)))


class RankOneCheck(T.Check):
    result_id = "noci.rank-one-zero"

    def cases(self, config):
        batch = config.pick(4, 16, 64)
        ex = get(self.result_id).example()
        models = [ex] + ([] if config.level == "quick" else [ex.replace(n=16, gamma=sympy.Rational(2, 3))])
        return [T.Case(m, (m.n,), batch, label(m)) for m in models]

    def measure(self, config, case):
        model, B = case.model, case.batch
        n, d = model.n, model.d
        gen = T.generator(config, self.result_id, "rank-one", case.label)
        X = np.ones((B, n, 1)) * gen.standard_normal((B, 1, d))
        W = _weights(gen, model, B)
        j = jacobian_sq_norms(X, *W)
        ratios = {k: float(np.sqrt(j[k] / j["V"]).max()) for k in ("Q", "K")}
        _, S1 = attention_output(X, *W)
        WQ2, WK2, _ = _weights(gen, model, B, scale=5.0)
        _, S2 = attention_output(X, WQ2, WK2, W[2])
        change = float(np.abs(S1 - S2).max() / np.abs(S1).max())
        X2 = X + gen.standard_normal((B, n, 1)) * gen.standard_normal((B, 1, d))
        j2 = jacobian_sq_norms(X2, *W)
        rank_two = float(np.sqrt(j2["Q"] / j2["V"]).min())
        return {"Q": ratios["Q"], "K": ratios["K"], "change": change, "rank_two": rank_two}

    def compare(self, config, case, m, pred):
        p = pred.numeric()
        par = {"case": case.label, "batch": case.batch}
        out = [T.identity(f"rank one: max |dS/dW_{k}| / |dS/dW_V|", par, measured=m[k],
                          predicted=p[field], judges=(field,), rtol=0.0, atol=TOL)
               for k, field in (("Q", "q_over_v"), ("K", "k_over_v"))]
        out.append(T.identity("rank one: S unchanged by new W_Q, W_K (max relative change)", par,
                              measured=m["change"], predicted=p["output_change"],
                              judges=("output_change",), rtol=0.0, atol=TOL))
        out.append(T.bound("sampler sees a nonzero Q Jacobian: rank-two input (min over batch)", par,
                           measured=m["rank_two"], limit=VISIBLE, upper=False, judges=()))
        return out


CHECK = RankOneCheck()
CHECK.controls = (
    T.shift("q_over_v", 1e-3, name="Q Jacobian small but nonzero (1e-3)"),
    T.shift("k_over_v", 0.1, name="K Jacobian of uniform-attention size (0.1)"),
    T.shift("output_change", 1e-3, name="S moves with W_Q, W_K (1e-3)"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
