"""Empirical check of ``gg.qk-gradients`` (A10, gapcheck's own claim, grade D), on
the toolkit.

For each case (one layer of a key-query model with the authors' Q/K scale,
T = n <= d, the example's sigma_v^2 = 3/2) the normalised query Jacobian
``G = |dS/dW_Q|_F^2 / (T d^2 sqrt(log T))`` is measured on uncorrelated LN tokens
over independent draws of tokens and weights, against the prediction
(:class:`theory.companions.gg.QKGradients`):

* **fluid** (beta = 1/4): G against ``uniform``, the uniform-attention value of
  noci.uniform-gradients (B3) at each draw's ``|X|_F^2`` and
  ``|X^T (I - J) X|_F^2`` (judges ``uniform``); relative budget 15% (the
  softmax is J + O(beta) there; measured ratios 1.0-1.1);
* **frozen** (beta = 2, 5): G against ``frozen`` = ``c sigma_v^2 Y(beta)``
  (judges ``frozen``); relative budget 30%: the constant c = 0.38 is measured,
  not the paper's (0.35-0.43 for T = 128..512, d = 64; 0.38-0.47 for
  T = 32..128 <= d).

Both with the policy's Student-t quantile (df = draws - 1) of the SE over draws.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.kind for c in CHECK.cases(VerifyConfig(level="quick"))]
['fluid', 'frozen', 'frozen']
"""
from __future__ import annotations

import math

import numpy as np
import sympy

from . import toolkit as T
from .gg_rem_mapping import InputCase, at, label
from ..backend import get_namespace, to_numpy
from ..companions.qk_gradients import jacobian_sq_norms
from ..companions.rem import ln_tokens
from ..sampling import gaussian
from ..stats import mean_se
from ...theory.companions import gg, noci
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS"]

#: relative budgets below (uniform value) and above (c Y) the freezing point
FLUID_BIAS, FROZEN_BIAS = 0.15, 0.3


class QKGradientsCheck(T.Check):
    result_id = "gg.qk-gradients"

    def cases(self, config):
        n, d, draws = config.pick((32, 64, 16), (32, 64, 32), (64, 128, 32))
        ex = get(self.result_id).example()
        return [InputCase(m, (n,), draws, label(m, kind=kind), p=sympy.Integer(0), kind=kind)
                for beta, kind in ((sympy.Rational(1, 4), "fluid"), (2, "frozen"), (5, "frozen"))
                for m in (at(ex, n, beta, d),)]

    def measure(self, config, case):
        m, B = case.model, case.batch
        n, d = m.n, m.d
        gen = T.generator(config, self.result_id, case.label)
        X = ln_tokens(n, d, float(case.p), batch=B, rng=gen, backend=config.backend)
        xp = get_namespace(X)
        s, sv = math.sqrt(float(m.sigma_QK2)), math.sqrt(float(m.sigma_V2))
        WQ, WK, WV = (gaussian((B, d, d), rng=gen, std=std, backend=xp) for std in (s, s, sv))
        G = to_numpy(jacobian_sq_norms(X, WQ, WK, WV, which=("Q",))["Q"]) / (n * d * d * math.sqrt(math.log(n)))
        C = X - xp.mean(X, axis=1, keepdims=True)
        M = xp.permute_dims(X, (0, 2, 1)) @ C
        stats = np.stack([to_numpy(xp.sum(X * X, axis=(1, 2))), to_numpy(xp.sum(M * M, axis=(1, 2)))], axis=1)
        return {"G": mean_se(np.asarray(G)), "tokens": stats}

    def compare(self, config, case, m, pred):
        mean, se = m["G"]
        par = {"case": case.label, "draws": case.batch}
        if case.kind == "fluid":
            predicted = float(np.mean([float(pred.uniform.subs({noci.X_F2: x, noci.M_F2: mm}))
                                       for x, mm in m["tokens"]]))
            name, field, bias = "normalised |dS/dW_Q|^2 (uniform value below freezing)", "uniform", FLUID_BIAS
        else:
            predicted = float(pred.frozen)
            name, field, bias = "normalised |dS/dW_Q|^2 (c sigma_v^2 Y above freezing)", "frozen", FROZEN_BIAS
        return [T.band(name, par, measured=mean, predicted=predicted, se=se, judges=(field,), df=case.batch - 1,
                       below=bias * abs(predicted), above=bias * abs(predicted))]


CHECK = QKGradientsCheck()
CHECK.controls = (
    T.Control("no switch-on (G = 0 above freezing)",
              lambda m, pred: pred(m).replace(frozen=sympy.Integer(0)), ("frozen",)),
    T.Control("G constant above freezing (no participation factor)",
              lambda m, pred: pred(m).replace(frozen=gg.QK_FROZEN_CONSTANT * gg.model_sigma_v2(m)), ("frozen",)),
    T.substitute("sigma_V^2 -> sigma_V^4", ("uniform", "frozen"), sigma_V2=lambda s: s ** 2),
    T.scale("uniform", 1.5, "uniform value x1.5"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
