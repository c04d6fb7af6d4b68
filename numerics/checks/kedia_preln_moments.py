"""Empirical check of ``kedia.preln-moments`` (Kedia et al. 2024), on the toolkit.

For each case (a pre-LN model) networks are drawn by
:func:`numerics.forward.draw` and run block by block with
:func:`numerics.forward.block`; the attention sub-block alone is the same
block of the model without its MLP on the same draws (the draws of the
input, values, attention and W_O do not depend on the MLP), so each block
splits the growth of the stream's mean square per entry into

* the attention increment ``(|Z_1|^2 - |X_(l-1)|^2)/(n d)`` and
* the MLP increment ``(|X_l|^2 - |Z_1|^2)/(n d)``,

and the LayerNorm's output ``|LN(X_(l-1))|^2/(n d)``.  Per network the mean
over the layers; the SE over networks (t quantile, networks - 1 df):

* MLP increment against ``mlp_increment`` (band; the LayerNorm's eps shifts the
  pre-activation variance by ``eps/var``, a relative budget ``2 eps / min var``);
* attention increment in ``[0, attention_increment_max]`` (one-sided each way;
  the lower bound judges no field: the branch's cross term has mean 0);
* ``max |LN(X)|^2/(n d)`` over networks and layers against ``ln_m2`` (exact up to
  the eps: ``var/(var + eps)``).

The cases: the example (two causal key-query heads, GELU, W_O, a = 1/sqrt(2L)),
GPT-2's initialisation (:func:`theory.presets.init_preset`, n = 32, d = 64, 4
heads), T5's (ReLU, no temperature) and muP's (logits / d_k, fan-in variances).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['example, n=24, d=32, L=5', 'gpt2, n=32, d=64, L=4', 't5, n=32, d=64, L=4', 'mup, n=32, d=64, L=4']
"""
from __future__ import annotations

import numpy as np
import sympy

from . import toolkit as T
from .. import layers
from ..forward import block, draw
from ...theory.companions.kedia import relu_second_moment
from ...theory._validate import to_sympy
from ...theory.model import LAYERNORM_EPS
from ...theory.presets import init_preset
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "increments"]

RID = "kedia.preln-moments"


def increments(model, batch: int, rng):
    """``(attention, mlp, ln, min_var)``: per network (batch,) the mean over layers of the
    attention and MLP increments of the stream's mean square per entry, the largest
    ``|LN(X)|^2/(n d)`` and the smallest token variance met by a LayerNorm."""
    dr = draw(model, batch=batch, rng=rng)
    attn_only = model.replace(mlp=None)
    n, d, L = int(model.n), int(model.d), int(model.depth)
    X = dr.X0
    att, mlp = np.zeros(batch), np.zeros(batch)
    ln_max, var_min = 0.0, np.inf

    def sq(M):
        return (np.asarray(M) ** 2).sum(axis=(-2, -1)) / (n * d)
    for l in range(1, L + 1):
        U = layers.layernorm(X)
        ln_max = max(ln_max, float(np.abs(sq(U) - 1).max()))
        var_min = min(var_min, float(np.asarray(X).var(axis=-1).min()))
        Z1 = block(attn_only, dr, l, X)
        Xn = block(model, dr, l, X)
        if model.mlp is not None:
            var_min = min(var_min, float(np.asarray(Z1).var(axis=-1).min()))
        att += (sq(Z1) - sq(X)) / L
        mlp += (sq(Xn) - sq(Z1)) / L
        X = Xn
    return att, mlp, ln_max, var_min


class PreLNMomentsCheck(T.Check):
    result_id = RID

    def cases(self, config):
        ex = get(RID).example()
        half = sympy.Rational(1, 2)
        models = [("example", ex),
                  ("gpt2", init_preset("gpt2", n=32, depth=4, gamma=half, heads=4)),
                  ("t5", init_preset("t5", n=32, depth=4, gamma=half, heads=4)),
                  ("mup", init_preset("mup", n=32, depth=4, gamma=half, heads=4))]
        batch = config.pick(64, 96, 512)
        return [T.Case(m, (m.n,), batch, f"{name}, n={m.n}, d={m.d}, L={m.depth}") for name, m in models]

    def measure(self, config, case):
        att, mlp, ln, vmin = increments(case.model, case.batch, T.generator(config, RID, case.label))
        return {"att": att, "mlp": mlp, "ln": ln, "var_min": vmin}

    def compare(self, config, case, meas, pred):
        p = pred.numeric()
        b = case.batch
        par = {"case": case.label, "networks": b}
        att, mlp = meas["att"], meas["mlp"]
        se_a, se_m = att.std(ddof=1) / np.sqrt(b), mlp.std(ddof=1) / np.sqrt(b)
        eps_rel = 2 * LAYERNORM_EPS / meas["var_min"]
        out = [T.band("MLP increment of the stream's mean square per entry", par, measured=float(mlp.mean()),
                      predicted=p["mlp_increment"], se=float(se_m), df=b - 1, judges=("mlp_increment",),
                      below=eps_rel * abs(p["mlp_increment"]), above=eps_rel * abs(p["mlp_increment"]),
                      detail=f"SE {se_m:.3g}; act_m2 = {p['act_m2']:.6g}"),
               T.bound("attention increment <= a^2 sigma_V^2 d (sigma_O^2 d) (rows of A LN(X) convex)", par,
                       measured=float(att.mean()), limit=p["attention_increment_max"], se=float(se_a), df=b - 1,
                       judges=("attention_increment_max",),
                       detail=f"fraction of the bound {att.mean() / p['attention_increment_max']:.3f}"),
               T.bound("attention increment >= 0 (the branch's cross term has mean 0)", par,
                       measured=float(att.mean()), limit=0.0, se=float(se_a), df=b - 1, upper=False, judges=()),
               T.identity("max |LN(X)|^2/(n d) - ln_m2 over networks and layers", par,
                          measured=meas["ln"], predicted=0.0, judges=(), rtol=0.0,
                          atol=LAYERNORM_EPS / meas["var_min"]),
               T.identity("LayerNorm output's mean square per entry", par, measured=1.0 - meas["ln"],
                          predicted=p["ln_m2"], judges=("ln_m2",), rtol=0.0,
                          atol=LAYERNORM_EPS / meas["var_min"])]
        return out


def _relu_as_identity(m, pred):
    """The MLP increment with ``E act(z)^2 = s^2`` (the activation taken as linear)
    in place of the activation's own moment."""
    p = pred(m)
    s2 = to_sympy(m.d) * to_sympy(m.mlp.variances(m.d)[0])
    return p.replace(mlp_increment=p.mlp_increment * s2 / p.act_m2)


def _relu_moment(m, pred):
    """The MLP increment with ReLU's ``s^2/2`` whatever the activation (a GELU taken as ReLU)."""
    p = pred(m)
    s2 = to_sympy(m.d) * to_sympy(m.mlp.variances(m.d)[0])
    return p.replace(mlp_increment=p.mlp_increment * relu_second_moment(s2) / p.act_m2)


CHECK = PreLNMomentsCheck()
CHECK.controls = (
    T.scale("mlp_increment", 1.25, name="MLP increment x1.25"),
    T.scale("mlp_increment", 2, name="MLP increment x2 (no 1/2 of the half-line)"),
    T.Control("activation taken as linear (E act^2 = s^2)", _relu_as_identity, ("mlp_increment",)),
    T.Control("GELU's moment taken as ReLU's s^2/2", _relu_moment, ("mlp_increment",)),
    T.scale("attention_increment_max", 0.1, name="attention bound x0.1"),
    T.scale("ln_m2", 1.1, name="LayerNorm output mean square 1.1"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
