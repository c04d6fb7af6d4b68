"""Empirical check of ``noci.uniform-gradients`` (B3), on the toolkit.

For each case (a key-query model: n, d, sigma_QK^2, sigma_V^2) one input of
exactly equicorrelated LayerNorm tokens (``|x|^2 = d``, pairwise cosine
``RHO``) is drawn, and the Jacobian norms of the model's layer at uniform
attention ``A = J`` are measured over many draws of the model's weights, then
compared with the prediction (:class:`theory.companions.noci.UniformJacobians`,
its fields specialised at ``rho = RHO``):

* the Monte Carlo means of ``|dS/dW_Q|_F^2`` and ``|dS/dW_K|_F^2`` against
  ``q`` and ``k`` (judges ``q`` / ``k``): the policy's Student-t quantile
  (df = draws - 1) of the SE from the draws; exact in expectation, no bias
  budget;
* ``|dS/dW_V|_F^2`` against ``v`` to rounding (it does not depend on the
  weights; judges ``v``);
* the assumption A = J is the W_Q -> 0 limit of the model's layer: with
  ``W_Q`` scaled by ``SMALL``, the true query Jacobian is within
  ``100 SMALL`` (relative) of the uniform one (judges no field).

The cases: :func:`theory.companions.noci.key_query_example` (n = 8, d = 16,
sigma_QK^2 = 9/64, sigma_V^2 = 3/32) at every level, more draws at the
default and thorough levels.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['n=8, d=16, sigma_QK^2=9/64, sigma_V^2=3/32']
"""
from __future__ import annotations

import math

import numpy as np
import sympy

from . import toolkit as T
from .noci_rank_one_zero import label
from ..companions.qk_gradients import equicorrelated_tokens, jacobian_sq_norms
from ..stats import mean_se
from ...theory.companions import noci
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "RHO", "SMALL"]

#: pairwise cosine of the input tokens (a parameter of the statement, not of the model)
RHO = sympy.Rational(1, 2)
#: scale of W_Q in the A = J assumption check
SMALL = 1e-5


class UniformGradientsCheck(T.Check):
    result_id = "noci.uniform-gradients"

    def cases(self, config):
        model = get(self.result_id).example()
        return [T.Case(model, (model.n,), config.pick(1000, 4000, 20000), label(model))]

    def measure(self, config, case):
        model, B = case.model, case.batch
        n, d = model.n, model.d
        gen = T.generator(config, self.result_id, "weights", case.label)
        X = np.broadcast_to(equicorrelated_tokens(n, d, float(RHO), rng=gen), (B, n, d))
        sqk, sv = math.sqrt(float(model.sigma_QK2)), math.sqrt(float(model.sigma_V2))
        WQ, WK, WV = (s * gen.standard_normal((B, d, d)) for s in (sqk, sqk, sv))
        j = jacobian_sq_norms(X, WQ, WK, WV, uniform=True)
        few = slice(0, 8)
        jt = jacobian_sq_norms(X[few], WQ[few] * SMALL, WK[few], WV[few])["Q"]
        ju = jacobian_sq_norms(X[few], WQ[few] * SMALL, WK[few], WV[few], uniform=True)["Q"]
        return {"Q": mean_se(j["Q"]), "K": mean_se(j["K"]), "V": float(j["V"][0]),
                "to_uniform": float(np.max(np.abs(jt - ju) / ju))}

    def compare(self, config, case, m, pred):
        p = {k: float(v) for k, v in pred.subs({noci.rho: RHO}).values().items()}
        par = {"case": case.label, "rho": str(RHO), "draws": case.batch}
        out = []
        for k, field in (("Q", "q"), ("K", "k")):
            mean, se = m[k]
            out.append(T.band(f"E|dS/dW_{k}|_F^2 at A = J", par, measured=mean, predicted=p[field], se=se,
                              judges=(field,), df=case.batch - 1))
        out.append(T.identity("|dS/dW_V|_F^2 at A = J", par, measured=m["V"], predicted=p["v"],
                              judges=("v",), rtol=1e-10))
        out.append(T.bound("A = J is the W_Q -> 0 limit: true vs uniform Q Jacobian (relative)",
                           {**par, "W_Q scale": SMALL}, measured=m["to_uniform"], limit=100 * SMALL,
                           judges=()))
        return out


def _times_rho(field_factor, name, rejects):
    """A mistake in the rho-dependence: each field in ``rejects`` times ``field_factor(rho)``."""
    def perturb(model, predict):
        p = predict(model)
        return p.replace(**{f: getattr(p, f) * field_factor(noci.rho) for f in rejects})
    return T.Control(name, perturb, tuple(rejects))


def _times_n(factor, name, rejects):
    def perturb(model, predict):
        p = predict(model)
        return p.replace(**{f: getattr(p, f) * factor(model.value("n")) for f in rejects})
    return T.Control(name, perturb, tuple(rejects))


CHECK = UniformGradientsCheck()
CHECK.controls = (
    T.substitute("s_k^2 -> s_k^4 (sigma_QK^2 -> sigma_QK^4)", ("q", "k"), sigma_QK2=lambda s: s ** 2),
    T.substitute("s_v^2 -> s_v^4 (sigma_V^2 -> sigma_V^4)", ("q", "k"), sigma_V2=lambda s: s ** 2),
    _times_rho(lambda r: 1 / (1 - r), "(1 - rho)^2 -> (1 - rho)", ("q", "k")),
    _times_n(lambda n: n / (n - 1), "n - 1 -> n", ("q", "k")),
    T.times("|dS/dW_V|^2: d_v n -> n", "v", lambda m: sympy.Rational(1, m.d)),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
