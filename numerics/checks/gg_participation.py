"""Empirical check of ``gg.participation`` (A3), on the toolkit.

Key-query models with the authors' Q/K scale at T = n = 2000 keys whose rows, on
uncorrelated tokens (q = 1, p = 0: beta_eff = beta), are REMs (sampled as scalar
REM rows, the d -> oo limit of the statement); the participation ratio
``Y = sum_b A_ab^2`` per replica against the prediction
(:class:`theory.companions.gg.Participation`):

* **frozen** (beta = 3, 4; ``m = beta_c(T)/beta_eff`` >= 1.7 above the freezing
  point; many replicas: Y does not self-average): the mean of Y against ``mean``
  and its sample variance against ``variance``, each within the policy's normal
  quantile of the SE plus a finite-T bias budget (E Y: measured <= 0.003 at
  T = 2000 for beta >= 3, budget 0.01; Var Y: measured <= 0.009, budget 0.012);
* **fluid** (beta = 1/2): ``E Y -> 0`` with the annealed finite-T value
  ``T^(beta_eff^2 - 1)``: the mean of Y at most ``mean + 3 T^(beta_eff^2 - 1)``
  (judges ``mean``).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.kind for c in CHECK.cases(VerifyConfig(level="quick"))]
['frozen', 'frozen', 'fluid']
"""
from __future__ import annotations

import math

import numpy as np
import sympy

from . import toolkit as T
from .gg_rem_mapping import InputCase, at, label
from ..backend import get_namespace, to_numpy
from ..companions.rem import rem_rows
from ..stats import mean_se
from ...theory.companions import gg
from ...theory.registry import get
from ...theory._validate import to_sympy

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "uncorrelated", "rem_cases"]

#: REM size of the cases
KEYS = 2000
#: replicas drawn per chunk
CHUNK = 500
#: finite-T bias budgets of E Y and Var Y (absolute)
MEAN_BIAS, VAR_BIAS = 0.01, 0.012


def xp_sum_sq(W):
    """``sum_b w_b^2`` per row (the participation ratio), in W's namespace."""
    return get_namespace(W).sum(W * W, axis=-1)


def uncorrelated(value) -> float:
    """A field of a REM prediction on uncorrelated LN tokens (q = 1, p = 0)."""
    return float(to_sympy(value).subs({gg.q: 1, gg.p: 0}))


def rem_cases(result_id, keys, frozen, fluid, reps_frozen, reps_fluid):
    """The REM cases of a check: the example at ``keys`` tokens at each beta of
    ``frozen`` and ``fluid`` (kinds "frozen" / "fluid")."""
    ex = get(result_id).example()
    return [InputCase(m, (m.n,), reps, label(m, kind=kind), kind=kind)
            for kind, betas, reps in (("frozen", frozen, reps_frozen), ("fluid", fluid, reps_fluid))
            for m in (at(ex, keys, beta) for beta in betas)]


class ParticipationCheck(T.Check):
    result_id = "gg.participation"

    def cases(self, config):
        return rem_cases(self.result_id, KEYS, (3, 4), (sympy.Rational(1, 2),),
                         config.pick(6000, 6000, 20000), 200)

    def measure(self, config, case):
        gen, beta = T.generator(config, self.result_id, case.label), float(gg.model_beta(case.model))
        Y = np.concatenate([to_numpy(xp_sum_sq(rem_rows(case.model.n, beta, reps=min(CHUNK, case.batch - s), rng=gen,
                                                        backend=config.backend)))
                            for s in range(0, case.batch, CHUNK)])
        c = (Y - Y.mean()) ** 2
        return {"mean": mean_se(Y), "var": (float(Y.var(ddof=1)), float(c.std(ddof=1) / math.sqrt(len(Y))))}

    def compare(self, config, case, m, pred):
        par = {"case": case.label, "reps": case.batch}
        mean, se = m["mean"]
        if case.kind == "fluid":
            beta_e = float(gg.model_beta(case.model))
            budget = 3 * case.model.n ** (beta_e ** 2 - 1)
            return [T.bound("E Y below freezing -> 0", {**par, "budget": "3 T^(beta_eff^2 - 1)"},
                            measured=mean, limit=uncorrelated(pred.mean) + budget, judges=("mean",),
                            detail=f"annealed finite-T budget {budget:.3g}")]
        var, se_var = m["var"]
        return [T.band("E Y above freezing", par, measured=mean, predicted=uncorrelated(pred.mean), se=se,
                       judges=("mean",), below=MEAN_BIAS, above=MEAN_BIAS),
                T.band("Var Y above freezing (no self-averaging)", par, measured=var,
                       predicted=uncorrelated(pred.variance), se=se_var, judges=("variance",),
                       below=VAR_BIAS, above=VAR_BIAS)]


def freezing_point_times(factor, rejects):
    """The prediction for the model whose freezing point is ``factor`` times larger:
    ``beta -> beta / factor`` (``sigma_QK^2 / factor``)."""
    return T.remodel(f"freezing point x{factor:g}", rejects,
                     lambda m: {"sigma_qk2": m.value("sigma_QK2") / sympy.nsimplify(factor)})


CHECK = ParticipationCheck()
CHECK.controls = (
    T.Control("1 - m -> 1 - m/1.1",
              lambda m, pred: (lambda pr: pr.replace(mean=1 - (1 - pr.mean) / sympy.Rational(11, 10)))(pred(m)),
              ("mean",)),
    freezing_point_times(1.2, ("mean", "variance")),
    T.scale("variance", 1.5, "Var m(1-m)/3 -> m(1-m)/2"),
    T.scale("variance", 0, "self-averaging (Var -> 0)"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
