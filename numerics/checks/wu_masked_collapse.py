"""Empirical check of ``wu.masked-collapse`` (Wu et al. 2024), on the toolkit.

For each case (Random Markov attention, exponential entries, n = 16,
d = 32, sigma_V^2 = 3/64; no mask at depth 8, the causal mask at depth 12)
networks are sampled by :func:`numerics.forward.sample`; the residual is
``R = (I - J) X`` without a mask and ``D = X - 1 x_1^T`` with it (the causal
mask's centre is token 1).  Per network and layer the one-step factor
``f_l = |res_l|^2 / (sigma_V^2 d |res_(l-1)|^2)`` and the log-residual
``y_l = log(|res_l|^2 / (sigma_V^2 d)^l)``; per network the mean of ``f`` and the
least-squares slope of ``y`` in l (all layers without a mask; the second half
with it, past the transient); SE over networks (t quantile, networks - 1 df):

* full mask: ``mean f`` against ``contraction`` (band: ``E[f_l | past] = rho``
  exactly, from every state);
* causal mask: ``mean (f - g)`` against 0, ``g_l = tr(D^T G D)/|D|^2`` with the
  theory's one-step matrix :func:`theory.companions.wu.causal_one_step` (a band
  judging no field: a check of the masked Dirichlet second moments);
* both: the slope of ``E y_l`` is at most ``rate`` (one-sided: Jensen,
  ``E log f <= log E f``; with the mask the bound holds asymptotically, hence the
  late window) and below 0 (exponential collapse);
* causal: the slope is above the full mask's exact rate ``log((n-1)/(n(n+1)))``
  (the mask slows the collapse; judges no field);
* with post-LN on the same draws (``layernorm=True``): the slope of
  ``E log(|res_l|^2/|X_l|^2)`` is below 0 (the package's measurement at this
  initialisation: LayerNorm does not stop the collapse; judges no field).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['full mask, n=16, d=32, L=8', 'causal mask, n=16, d=32, L=12']
"""
from __future__ import annotations

import numpy as np

from . import toolkit as T
from ..backend import to_numpy
from ..forward import sample
from ...theory.companions.wu import causal_one_step
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "residuals", "slopes"]

RID = "wu.masked-collapse"


def residuals(X, causal: bool):
    """``|res|^2`` per network (batch,): ``(I - J) X`` (full) or ``X - 1 x_1^T`` restricted to
    tokens 2..n (causal), and the residual itself."""
    X = np.asarray(to_numpy(X), float)
    R = X[:, 1:, :] - X[:, :1, :] if causal else X - X.mean(axis=1, keepdims=True)
    return (R**2).sum(axis=(1, 2)), R


def slopes(y, start: int):
    """Least-squares slope in l of ``y[:, start:]`` (batch, L + 1), per network."""
    ls = np.arange(start, y.shape[1], dtype=float)
    Y = y[:, start:]
    lc = ls - ls.mean()
    return (Y - Y.mean(axis=1, keepdims=True)) @ lc / (lc @ lc)


class MaskedCollapseCheck(T.Check):
    result_id = RID

    def cases(self, config):
        ex = get(RID).example()
        b = config.pick(64, 128, 512)
        return [T.Case(ex.replace(depth=8), (ex.n,), b, f"full mask, n={ex.n}, d={ex.d}, L=8"),
                T.Case(ex.replace(depth=12, causal=True), (ex.n,), b, f"causal mask, n={ex.n}, d={ex.d}, L=12")]

    def measure(self, config, case):
        m = case.model
        seed = T.seed(config, RID, case.label)
        growth = float(m.sigma_V2) * m.d
        traj = sample(m, batch=case.batch, rng=seed)
        sq = [residuals(X, m.causal) for X in traj.X]
        r2 = np.stack([s for s, _ in sq], axis=1)                     # (batch, L + 1)
        f = r2[:, 1:] / (growth * r2[:, :-1])
        out = {"f": f.mean(axis=1)}
        if m.causal:
            G = np.array(causal_one_step(int(m.n)).tolist(), dtype=float)
            g = np.stack([np.einsum("bjc,jm,bmc->b", R, G, R) / s for s, R in sq[:-1]], axis=1)
            out["f-g"] = (f - g).mean(axis=1)
        start = 0 if not m.causal else m.depth // 2
        out["start"] = start
        y = np.log(r2) - np.arange(m.depth + 1) * np.log(growth)
        out["slope"] = slopes(y, start)
        ln = sample(m.replace(layernorm=True), batch=case.batch, rng=seed)
        mu = np.stack([residuals(X, m.causal)[0] / (np.asarray(to_numpy(X), float) ** 2).sum(axis=(1, 2))
                       for X in ln.X], axis=1)
        out["ln_slope"] = slopes(np.log(mu), start)
        return out

    def compare(self, config, case, meas, pred):
        p = pred.numeric()
        b, m = case.batch, case.model
        par = {"case": case.label, "networks": b, "window": f"l = {meas['start']}..{m.depth}"}

        def se(x):
            return float(x.std(ddof=1) / np.sqrt(b))
        s = meas["slope"]
        out = []
        if not m.causal:
            out.append(T.band("mean one-step factor |R_l|^2/(sigma_V^2 d |R_(l-1)|^2)", par,
                              measured=float(meas["f"].mean()), predicted=p["contraction"], se=se(meas["f"]),
                              df=b - 1, judges=("contraction",)))
        else:
            out.append(T.band("mean of f_l - tr(D^T G D)/|D|^2 (one step of the masked Dirichlet rows)", par,
                              measured=float(meas["f-g"].mean()), predicted=0.0, se=se(meas["f-g"]),
                              df=b - 1, judges=(), detail=f"mean f {meas['f'].mean():.4g}"))
            full = get(RID).predict(m.replace(causal=False)).numeric()["rate"]
            out.append(T.bound("slope of E log|D_l|^2 above the full mask's rate (the mask slows collapse)", par,
                               measured=float(s.mean()), limit=full, se=se(s), df=b - 1, upper=False, judges=()))
        out.append(T.bound("slope in l of E log(|res_l|^2/(sigma_V^2 d)^l) <= rate (Jensen)", par,
                           measured=float(s.mean()), limit=p["rate"], se=se(s), df=b - 1, judges=("rate",),
                           detail=f"slope {s.mean():.3f} +- {se(s):.3f}"))
        out.append(T.bound("slope < 0: exponential collapse", par, measured=float(s.mean()), limit=0.0,
                           se=se(s), df=b - 1, judges=()))
        out.append(T.bound("with post-LN (same draws): slope of E log(|res_l|^2/|X_l|^2) < 0", par,
                           measured=float(meas["ln_slope"].mean()), limit=0.0, se=se(meas["ln_slope"]),
                           df=b - 1, judges=(), detail=f"slope {meas['ln_slope'].mean():.3f}"))
        return out


def _no_collapse(m, pred):
    p = pred(m)
    return p.replace(contraction=1, rate=0)


CHECK = MaskedCollapseCheck()
CHECK.controls = (
    T.scale("contraction", 1.25, name="contraction x1.25"),
    T.Control("no collapse (contraction 1, rate 0)", _no_collapse, ("contraction",)),
    T.remodel("the mask does not change the rate", ("rate",), lambda m: {"causal": False}),
    T.shift("rate", -0.5, name="rate - 0.5 (collapse e^0.5 faster per layer)"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
