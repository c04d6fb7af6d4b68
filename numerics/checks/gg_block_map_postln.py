"""Empirical check of ``gg.block-map-postln`` (A6), on the toolkit.

For each case (the example's post-LN blocks: single head, the statement's ReLU
MLP, skips alpha_A = alpha_M = 1/2, sigma_v^2 = 2, depth 6; at beta = 1/2 and
3, on both sides of the freezing point) a batch of stacks is sampled on LN
tokens of overlap 0.2 (the statement's input), and the mean token cosine per
layer is compared with the prediction's map (:class:`theory.companions.gg.BlockMap`,
finite-T beta_c(T)) started at the input's measured cosine: the largest
deviation over layers at most the random-walk budget ``0.75 sqrt(L/d)``
(:func:`numerics.companions.walk_budget`: per-layer mean-field errors
O(d^-1/2) accumulate like a random walk; 0.15 at L = 10, d = 256 as in
docs/derivations.md, section gg.block-map-postln). Judges ``cosines``.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['T=128, d=256, beta=1/2, L=6', 'T=128, d=256, beta=3, L=6']
"""
from __future__ import annotations

import numpy as np
import sympy

from . import toolkit as T
from .gg_rem_mapping import InputCase, at, label
from ..companions import walk_budget
from ..companions.rem import ln_tokens, model_stack

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "INPUT_OVERLAP", "sampled_cosines", "curve_outcome",
           "block_cases"]

#: overlap of the input tokens (the statement's parameter)
INPUT_OVERLAP = sympy.Rational(1, 5)


def block_cases(result_id, config, sizes, betas, kind="", **fields):
    """The example of ``result_id`` at ``sizes = (T, d, L, batch)`` for this level and
    each beta (``fields`` override the model's)."""
    from ...theory.registry import get
    n, d, depth, batch = config.pick(*sizes)
    ex = get(result_id).example()
    models = [at(ex, n, beta, d, depth=depth, **fields) for beta in betas]
    return [InputCase(m, (n,), batch, label(m, L=depth, **({"kind": kind} if kind else {})),
                      p=INPUT_OVERLAP, kind=kind) for m in models]


def sampled_cosines(config, result_id, case):
    """Mean token cosines per layer of ``case.batch`` sampled stacks of the case's model."""
    m = case.model
    gen = T.generator(config, result_id, case.label)
    X = ln_tokens(m.n, m.d, float(case.p), batch=case.batch, rng=gen, backend=config.backend)
    return np.asarray(model_stack(m, X, rng=gen)[0])


def curve_outcome(name, case, cosines, block_map, judges):
    """The network's cosines against ``block_map``'s curve from their first value."""
    m = case.model
    curve = np.asarray(block_map.curve(float(cosines[0])))
    err = float(np.max(np.abs(cosines - curve)))
    return T.bound(name, {"case": case.label, "batch": case.batch, "budget": "0.75 sqrt(L/d)"},
                   measured=err, limit=walk_budget(m.depth, m.d), judges=judges,
                   detail=f"network {np.round(cosines, 4).tolist()}, map {np.round(curve, 4).tolist()}")


class PostLNCheck(T.Check):
    result_id = "gg.block-map-postln"

    def cases(self, config):
        return block_cases(self.result_id, config, ((128, 256, 6, 2), (128, 256, 6, 2), (512, 512, 10, 3)),
                           (sympy.Rational(1, 2), 3))

    def measure(self, config, case):
        return sampled_cosines(config, self.result_id, case)

    def compare(self, config, case, cosines, pred):
        return [curve_outcome("post-LN cosine per block: max |network - map|", case, cosines, pred.cosines,
                              ("cosines",))]


def map_control(name, field, rejects=None, **changes):
    """The prediction with the map ``field`` changed (``BlockMap.with_(**changes)``)."""
    return T.Control(name, lambda m, pred: (lambda pr: pr.replace(**{field: getattr(pr, field).with_(**changes)}))(pred(m)),
                     tuple(rejects or (field,)))


CHECK = PostLNCheck()
CHECK.controls = (
    map_control("attention keeps geometry (Y = 1)", "cosines", participation="one"),
    map_control("skip connections ignored (alpha_A = alpha_M = 0)", "cosines", alpha_a2=0, alpha_m2=0),
    map_control("no REM (Y = 0 at every beta)", "cosines", participation="zero"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
