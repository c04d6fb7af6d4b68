"""Empirical check of ``gg.output-moments`` (A4), on the toolkit.

For each case (a key-query model with the authors' Q/K scale and value variance
sigma_v^2 = d sigma_V^2, T = n <= d) and an input overlap ``p``, LayerNorm tokens
of overlap p are drawn, passed through the model's layer ``A X W_V``, and the
per-coordinate moments of the input (q, p measured) and of the output are taken
per draw; the prediction (:class:`theory.companions.gg.OutputMoments`, at the
measured q, p) against

* the mean output norm ``q_att`` (judges ``q_att``) and overlap ``p_att``
  (judges ``p_att``): the policy's Student-t quantile (df = draws - 1) of the
  SE over draws plus a bias budget ``0.02 sigma_v^2`` (finite-T bias of the Y
  law, measured <= 0.015 at T = 1024 away from beta_c), and below the freezing
  point ``3 T^(beta_eff^2 - 1) sigma_v^2`` more: the annealed finite-T value of Y
  there (the budget of gg.participation).

The cases: beta = 1/2 (fluid: the output is the mean token) and 4 (frozen) at
p = 0 and 0.3, the example's sigma_v^2 = 3/2.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))][:2]
['T=64, d=128, beta=1/2, p=0', 'T=64, d=128, beta=4, p=0']
"""
from __future__ import annotations

import numpy as np
import sympy

from . import toolkit as T
from .gg_rem_mapping import OVERLAPS, InputCase, at, label
from ..backend import to_numpy
from ..companions.rem import attention, ln_tokens, token_overlap
from ..stats import mean_se
from ...theory.companions import gg
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS"]

#: finite-T bias budget of both moments, in units of sigma_v^2
BIAS = 0.02


class OutputMomentsCheck(T.Check):
    result_id = "gg.output-moments"

    def cases(self, config):
        n, draws = config.pick((64, 16), (128, 16), (256, 16))
        ex = get(self.result_id).example()
        return [InputCase(at(ex, n, beta), (n,), draws, label(at(ex, n, beta), p=p), p=p, kind=kind)
                for p in OVERLAPS for beta, kind in ((sympy.Rational(1, 2), "fluid"), (4, "frozen"))]

    def measure(self, config, case):
        m = case.model
        gen = T.generator(config, self.result_id, case.label)
        X = ln_tokens(m.n, m.d, float(case.p), batch=case.batch, rng=gen, backend=config.backend)
        _, O = attention(X, float(gg.model_beta(m)), rng=gen, sigma_v2=float(gg.model_sigma_v2(m)))
        p_in, q_in = token_overlap(X)
        p_out, q_out = token_overlap(O)
        return {"q": float(to_numpy(q_in).mean()), "p": float(to_numpy(p_in).mean()),
                "q_att": mean_se(np.asarray(to_numpy(q_out))), "p_att": mean_se(np.asarray(to_numpy(p_out)))}

    def compare(self, config, case, m, pred):
        at_input = {gg.q: m["q"], gg.p: m["p"]}
        budget = BIAS
        if case.kind == "fluid":        # finite-T Y below freezing: the annealed T^(beta_eff^2 - 1) (x3)
            budget += 3 * case.model.n ** (float(gg.model_beta(case.model)) ** 2 * (m["q"] - m["p"]) - 1)
        budget *= float(gg.model_sigma_v2(case.model))
        par = {"case": case.label, "draws": case.batch, "q_in": round(m["q"], 4), "p_in": round(m["p"], 4)}
        out = []
        for field in ("q_att", "p_att"):
            mean, se = m[field]
            out.append(T.band(field, par, measured=mean, predicted=float(getattr(pred, field).subs(at_input)),
                              se=se, judges=(field,), df=case.batch - 1, below=budget, above=budget))
        return out


def _changed(name, rejects, change):
    """A mistake in the formula: ``change(prediction, sigma_v^2)`` gives the wrong fields."""
    return T.Control(name, lambda m, pred: (lambda pr: pr.replace(**change(pr, gg.model_sigma_v2(m))))(pred(m)),
                     rejects)


CHECK = OutputMomentsCheck()
CHECK.controls = (
    _changed("q - p -> q in q_att", ("q_att",),
             lambda pr, sv2: {"q_att": pr.q_att + sv2 * gg.p * pr.participation}),
    _changed("no collapse below freezing (q_att = sigma_v^2 q)", ("q_att",), lambda pr, sv2: {"q_att": sv2 * gg.q}),
    _changed("p_att = sigma_v^2 p^2", ("p_att",), lambda pr, sv2: {"p_att": pr.p_att * gg.p}),
    _changed("sigma_v^2 dropped", ("q_att", "p_att"),
             lambda pr, sv2: {"q_att": pr.q_att / sv2, "p_att": pr.p_att / sv2}),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
