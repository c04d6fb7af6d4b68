"""Empirical check of ``arch.ln-position`` (gapcheck's own claim): signal and
gradient growth in depth with the LayerNorm before (pre) or after (post) the
residual sum.

Networks: :func:`numerics.forward.sample`; gradient norms
``||dX_L/dW_l||_F^2``: :func:`numerics.gradients.grad_norms_sq` (exact, by
JVPs, at these sizes), cached by (model, networks, seed).  A grid of depths
L; every quantity at every L from the same seeds for the truth and controls.

Pre-LN (the example: exponential entries, n = 8, d = 16, a = 1/2,
sigma_V^2 = 3/2):

* ``E||X_L||_F^2 <= ||X_0||_F^2 + L signal_level`` at the deepest L (one-sided);
* ``(E||X_L||_F^2 - n) / (L^signal_exponent signal_level) -> 1``, extrapolated
  in 1/L (the tokens align; the shortfall is O(1/L));
* the last layer's gradient: ``max_networks ||dX_L/dW_L||^2 <= grad_level``
  (exact, Jensen: ``a^2 d ||A LN(X)||_F^2 <= a^2 n d^2``) and
  ``E||dX_L/dW_L||^2 / grad_level -> 1`` in 1/L;
* the first layer's gradient ``E||dX_L/dW_1||^2 / (L^grad_exponent grad_level) -> 1``
  in 1/L (the L/l law at l = 1; with the last layer's limit, both ends of
  the profile), and, within each network at the deepest L, the OLS slope of
  ``log ||dX_L/dW_l||^2`` on ``log l`` over l = L/4..L against
  ``-grad_exponent (1 + PROFILE_LAG/2)``, budget ``PROFILE_LAG/2`` (the
  stream's lag of up to 3 layers steepens it).  The profile's level in between (``(L - delta)/(l - delta)`` with the
  stream's lag delta) is heavy-tailed at these sizes and is not judged.

Post-LN (the same model, ``ln_position="post"``): ``||X_L||_F^2 = n d`` up to
the LayerNorm's eps (identity, every network at the deepest L), and the last layer's mean gradient
stays below ``grad_level`` (one-sided).  Post-LN's gradient growth is not
claimed (heavy-tailed, slow; see the findings).
"""
from __future__ import annotations

import functools

import numpy as np

from . import toolkit as T
from ..stats import mean_se
from ...theory.model import LAYERNORM_EPS
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "depth_profile"]

RID = "arch.ln-position"
#: relative steepening of the L/l profile's slope over l = L/4..L by the stream's lag
#: delta <= 3 layers: mean of l/(l - delta) over the window, at most 0.2 at L = 32
PROFILE_LAG = 0.2


@functools.lru_cache(maxsize=64)
def depth_profile(model, batch: int, seed: int, backend: str = "numpy"):
    """(batch, L + 2): ``||X_L||_F^2``, ``||dX_L/dW_l||_F^2`` for l = 1..L (exact,
    reverse mode) and the last layer's again, of ``model`` (same seed for the forward pass and the
    gradients; read-only)."""
    from ..backend import to_numpy
    from ..forward import sample
    from ..gradients import grad_norms_sq
    x = (np.asarray(to_numpy(sample(model, batch=batch, rng=seed, backend=backend).X[-1]), float) ** 2
         ).sum(axis=(1, 2))
    g = np.asarray(grad_norms_sq(model, batch=batch, rng=seed, backend=backend, method="exact"), float)
    out = np.column_stack([x, g, g[:, -1]])   # ||X_L||^2, the L layers' gradients, the last again
    out.setflags(write=False)
    return out


class LNPositionCheck(T.Check):
    result_id = RID

    def sizes(self, config):
        return config.pick((8, 16, 32), (8, 16, 32, 64), (16, 32, 64, 128)), config.pick(48, 64, 64)

    def cases(self, config):
        Ls, batch = self.sizes(config)
        ex = get(RID).example().replace(depth=Ls[-1])
        return [T.Case(ex, Ls, batch, "pre-LN"),
                T.Case(ex.replace(ln_position="post"), Ls, batch, "post-LN")]

    def measure(self, config, case):
        pre = case.model.replace(ln_position="pre")
        if case.label == "post-LN":   # the deepest L only (its signal and last-layer gradient)
            L = case.ns[-1]
            return {"post": [depth_profile(case.model.replace(depth=L), case.batch,
                                           T.seed(config, RID, "depth", L), config.backend)]}
        return {"pre": [depth_profile(pre.replace(depth=L), case.batch, T.seed(config, RID, "depth", L),
                                      config.backend) for L in case.ns]}

    def compare(self, config, case, data, pred):
        p = pred.numeric()
        Ls, m = case.ns, int(case.model.n)
        par = {"case": case.label, "networks": case.batch}
        if case.label == "post-LN":
            x = np.concatenate([d[:, 0] for d in data["post"]])
            d = case.model.d
            out = [T.identity("post-LN: ||X_L||_F^2 = n d (every network, up to the LayerNorm eps)",
                              dict(par, L=Ls[-1]), measured=float(np.abs(x - p["signal_level"]).max()),
                              predicted=0.0, atol=2 * LAYERNORM_EPS * p["signal_level"] * d,
                              judges=("signal_level", "signal_exponent"))]
            g, se = mean_se(data["post"][-1][:, -1])
            out.append(T.bound("post-LN: E||dX_L/dW_L||_F^2 <= a^2 n d^2 (deepest L)", dict(par, L=Ls[-1]),
                               measured=g, limit=p["grad_level"], se=se, df=case.batch - 1,
                               judges=("grad_level",)))
            return out
        rows = data["pre"]
        xL = rows[-1][:, 0]
        mean, se = mean_se(xL)
        out = [T.bound("pre-LN: E||X_L||_F^2 <= ||X_0||_F^2 + L a^2 sigma_V^2 n d^2 (Jensen)",
                       dict(par, L=Ls[-1]), measured=mean, limit=m + Ls[-1] * p["signal_level"], se=se,
                       df=case.batch - 1, judges=("signal_level",))]
        out.append(T.limit("pre-LN: (E||X_L||_F^2 - n)/(L^signal_exponent a^2 sigma_V^2 n d^2) -> 1",
                           par, T.extrapolate(Ls, [(r[:, 0] - m) / (L ** p["signal_exponent"] * p["signal_level"])
                                                   for r, L in zip(rows, Ls)]),
                           predicted=1.0, judges=("signal_level", "signal_exponent")))
        gmax = max(float(r[:, -1].max()) for r in rows)
        out.append(T.bound("pre-LN: max ||dX_L/dW_L||_F^2 <= a^2 n d^2 (exact)", dict(par, L=list(Ls)),
                           measured=gmax, limit=p["grad_level"] * (1 + 1e-9), judges=("grad_level",)))
        out.append(T.limit("pre-LN: E||dX_L/dW_L||_F^2 / (a^2 n d^2) -> 1", par,
                           T.extrapolate(Ls, [r[:, -1] / p["grad_level"] for r in rows]), predicted=1.0,
                           judges=("grad_level",)))
        g1 = [r[:, 1] for r in rows]
        out.append(T.limit("pre-LN: E||dX_L/dW_1||_F^2 / (L a^2 n d^2) -> 1 (the L/l law at l = 1)",
                           par, T.extrapolate(Ls, [g / (L * p["grad_level"]) for g, L in zip(g1, Ls)]),
                           predicted=1.0, judges=("grad_level",)))
        # the L/l profile within each network at the deepest L: OLS slope of log ||dX_L/dW_l||^2
        # on log l over l = L/4..L, against -grad_exponent; the stream's lag delta (0..3
        # layers) turns L/l into (L - delta)/(l - delta), steepening the slope by up to
        # PROFILE_LAG (the centre takes half of it)
        L = Ls[-1]
        ls = np.arange(L // 4, L + 1)
        xl = np.log(ls) - np.log(ls).mean()
        G = np.log(rows[-1][:, ls])               # columns 1..L hold layers 1..L
        sl = (G - G.mean(axis=1, keepdims=True)) @ xl / (xl @ xl)
        m_, se = mean_se(sl)
        e = p["grad_exponent"]
        out.append(T.band(f"pre-LN: profile slope of log ||dX_L/dW_l||^2 in log l (l = {L // 4}..{L}) = "
                          "-grad_exponent (the L/l law)", dict(par, L=L), measured=m_,
                          predicted=-e * (1 + PROFILE_LAG / 2), se=se, df=case.batch - 1,
                          below=abs(e) * PROFILE_LAG / 2, above=abs(e) * PROFILE_LAG / 2,
                          judges=("grad_exponent",)))
        return out


CHECK = LNPositionCheck()
CHECK.controls = (
    T.scale("signal_level", 0.8),
    T.scale("signal_level", 1.25),
    T.shift("signal_exponent", -0.5),
    T.scale("grad_level", 0.8),
    T.shift("grad_exponent", -0.5),
    T.shift("grad_exponent", 1, name="grad_exponent+1 (||.||^2 ~ (L/l)^2: norm and squared norm confused)"),
    T.remodel("post-LN's prediction for pre-LN", ("signal_level", "signal_exponent"),
              lambda m: {"ln_position": "post"}),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
