"""Empirical check of ``gg.rem-mapping`` (A1), on the toolkit.

For each case (a key-query model with the authors' Q/K scale: T = n tokens,
width d, beta = d sigma_QK^2 / sqrt(log n)) and an input overlap ``p``, tokens
``x_b = sqrt(p) z + sqrt(1-p) g_b`` (q = 1, not normalised) are drawn with the
model's weights, and the across-key sample variance of each row's logits (key
``a`` excluded) is averaged over rows: an unbiased estimate of
``(q - p) |W_K Q_a|^2 / d``, whose expectation is the prediction's
``logit_variance`` (:class:`theory.companions.gg.LogitVariance`) at q = 1 and
the input's p. Band: the policy's Student-t quantile (df = draws - 1) of the SE
over independent weight draws; exact in expectation, no bias budget.

The cases: beta = 1/2 and 2 (the example's) at p = 0 and 0.3, T <= d as the
model requires (T = 64, d = 128 at the quick level: the variance is exact in
expectation at every T).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))][:2]
['T=64, d=128, beta=1/2, p=0', 'T=64, d=128, beta=2, p=0']
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import sympy

from . import toolkit as T
from ..backend import get_namespace, to_numpy
from ..companions.rem import as_generator, ln_tokens
from ..sampling import gaussian
from ..stats import mean_se
from ...theory.companions import gg
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "row_logit_variances", "OVERLAPS", "label", "InputCase", "at"]

#: input overlaps p of the tokens (a parameter of the statement, not of the model)
OVERLAPS = (sympy.Integer(0), sympy.Rational(3, 10))


@dataclass(frozen=True)
class InputCase(T.Case):
    """A case of a G&G check: the model, and the statement's own input (the tokens'
    overlap ``p``) and ``kind`` (which part of the statement the case samples, e.g.
    the phase: "fluid" below the freezing point, "frozen" above it)."""

    p: object = 0
    kind: str = ""


def label(model, **extra) -> str:
    """``T=.., d=.., beta=..`` of a G&G model, then ``extra`` (the case's input)."""
    base = f"T={model.n}, d={model.d}, beta={gg.model_beta(model)}"
    return ", ".join([base] + [f"{k}={v}" for k, v in extra.items()])


def at(model, n: int, beta=None, d: int | None = None, **fields):
    """The G&G model ``model`` at ``n`` tokens and width ``d`` (default: the same ratio
    gamma, d = n / gamma), the authors' sigma_v^2 and beta kept
    (or beta set), ``fields`` (depth, skip, layernorm, remove_gap, ln_position) set."""
    d = int(n / model.gamma_effective) if d is None else d
    keep = {k: getattr(model, k) for k in ("depth", "skip", "layernorm", "remove_gap", "ln_position")}
    keep["sigma_v2"] = gg.model_sigma_v2(model) / d
    return gg.authors_model(n, d, gg.model_beta(model) if beta is None else beta, **{**keep, **fields})


def row_logit_variances(model, p, draws, rng, backend="numpy"):
    """Per-draw mean over rows of the across-key logit variance (key a excluded) of
    the model's layer on tokens of overlap ``p`` (q = 1): numpy array (draws,)."""
    gen = as_generator(rng)
    n, d = model.n, model.d
    X = ln_tokens(n, d, float(p), batch=draws, rng=gen, normalise=False, backend=backend)
    xp = get_namespace(X)
    s = math.sqrt(float(model.sigma_QK2))
    WQ, WK = (gaussian((draws, d, d), rng=gen, std=s, backend=xp) for _ in range(2))
    L = (X @ WQ) @ xp.permute_dims(X @ WK, (0, 2, 1)) / math.sqrt(d)
    diag = xp.sum(L * xp.eye(n, dtype=L.dtype), axis=2)
    mean = (xp.sum(L, axis=2) - diag) / (n - 1)
    ss = xp.sum(L * L, axis=2) - diag * diag
    var = (ss - (n - 1) * mean * mean) / (n - 2)
    return to_numpy(xp.mean(var, axis=1))


class RemMappingCheck(T.Check):
    result_id = "gg.rem-mapping"

    def cases(self, config):
        n, d, draws = config.pick((64, 128, 16), (128, 256, 16), (256, 512, 16))
        out = []
        for p in OVERLAPS:
            for beta in (sympy.Rational(1, 2), gg.model_beta(get(self.result_id).example())):
                m = gg.authors_model(n, d, beta)
                out.append(InputCase(m, (n,), draws, label(m, p=p), p=p))
        return out

    def measure(self, config, case):
        gen = T.generator(config, self.result_id, case.label)
        return mean_se(row_logit_variances(case.model, case.p, case.batch, gen, config.backend))

    def compare(self, config, case, measured, pred):
        mean, se = measured
        predicted = float(pred.logit_variance.subs({gg.q: 1, gg.p: case.p}))
        return [T.band("key-specific logit variance", {"case": case.label, "draws": case.batch},
                       measured=mean, predicted=predicted, se=se, judges=("logit_variance",),
                       df=case.batch - 1)]


def _times(name, factor):
    return T.times(name, "logit_variance", factor)


CHECK = RemMappingCheck()
CHECK.controls = (
    T.Control("beta_eff = beta q (drop -p)",
              lambda m, pred: (lambda pr: pr.replace(logit_variance=pr.logit_variance.subs(gg.p, 0)))(pred(m)),
              ("logit_variance",)),
    _times("variance beta (not beta^2)", lambda m: 1 / gg.model_beta(m)),
    _times("sqrt(log T) (not log T)", lambda m: 1 / sympy.sqrt(sympy.log(m.n))),
    T.substitute("sigma_QK^2 -> sigma_QK^4", ("logit_variance",), sigma_QK2=lambda s: s ** 2),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
