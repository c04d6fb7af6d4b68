"""Empirical check of ``arch.multihead`` (gapcheck's own claim): the covariance
bulk of an H-head Random Markov stack.

Networks are sampled with :func:`numerics.forward.sample` (``heads``,
``out_proj``); one trajectory per (model, n) serves every depth l (a case per
layer, cached), so the truth and every control read the same draws.

* gap removed (``remove_gap = 1``): per layer l, the ESD mean and relative
  variance (``m_2/m_1^2 - 1`` per network) of ``gamma^l X_l X_l^T``,
  extrapolated to n = oo in 1/n (:func:`toolkit.limit`), against ``mean`` and
  ``relative_variance`` (the saturation is seen as l grows);
* gap kept: Prop 3 with H heads, the bulk sum
  ``T = n^(2l-1) sum_(i>=2) lambda_i^2 / (sigma_V^2 d g)^(2l)`` (``g = d sigma_O^2``,
  1 without W_O) extrapolated in 1/n against ``constant``, and its log-log
  slope against ``exponent``.

Cases: the example (uniform entries, sigma_A^2 = 1/3, sigma_V^2 = 3/2,
gamma = 1/2, H = 4, l = 1..3) and H = 2 heads with a Xavier ``W_O`` (l = 1..3),
where ``c = 2 gamma``.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))][:2]
['H=4, W_O=I, gap removed, l=1', 'H=4, W_O=I, gap removed, l=2']
"""
from __future__ import annotations

import functools

import numpy as np

from . import toolkit as T
from .spectra import signal_spectrum
from ..stats import loglog_fit
from ...theory.model import Scale
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "layer_moments"]

RID = "arch.multihead"


@functools.lru_cache(maxsize=64)
def layer_moments(model, batch: int, seed: int, backend: str = "numpy") -> np.ndarray:
    """(batch, L, 2): ESD mean and relative variance of ``gamma^l X_l X_l^T`` at every
    layer l = 1..L of ``model`` (read-only)."""
    from ..backend import to_numpy
    from ..forward import sample
    from ..measures import gram
    tr = sample(model, batch=batch, rng=seed, backend=backend)
    n, ratio = int(model.n), float(model.n) / model.d
    out = np.empty((batch, model.depth, 2))
    for l in range(1, model.depth + 1):
        S = np.asarray(to_numpy(gram(to_numpy(tr.X[l]) * ratio ** (l / 2))), float)
        m1 = np.trace(S, axis1=1, axis2=2) / n
        m2 = np.einsum("bij,bij->b", S, S) / n
        out[:, l - 1] = np.column_stack([m1, m2 / m1**2 - 1])
    out.setflags(write=False)
    return out


def _label(m) -> str:
    wo = "W_O=I" if m.out_proj is None else "W_O Xavier"
    gap = "gap removed" if m.remove_gap else "gap kept"
    return f"H={m.heads}, {wo}, {gap}, l={m.depth}"


class MultiHeadCheck(T.Check):
    result_id = RID

    def sizes(self, config):
        return config.pick((32, 64, 128), (64, 128, 256), (128, 256, 512)), config.pick(16, 16, 24)

    def cases(self, config):
        ns, batch = self.sizes(config)
        ex = get(RID).example().replace(n=ns[-1])
        wo = ex.replace(heads=2, out_proj=Scale.xavier())
        cases = [T.Case(m.replace(depth=l), ns, batch, _label(m.replace(depth=l)))
                 for m in (ex, wo) for l in range(1, ex.depth + 1)]
        kept = ex.replace(remove_gap=0, depth=2)
        return cases + [T.Case(kept, ns, batch, _label(kept))]

    def measure(self, config, case):
        model = case.model
        if model.remove_gap:
            deep = model.replace(depth=get(RID).example().depth)
            key = _label(deep)
            return [layer_moments(deep.replace(n=n), case.batch, T.seed(config, RID, "networks", n, key),
                                  config.backend)[:, model.depth - 1] for n in case.ns]
        out = []
        for n in case.ns:
            at = model.replace(n=n)
            lam, _ = signal_spectrum(at, case.batch, T.seed(config, RID, "spectrum", n, case.label),
                                     config.backend)
            g = 1.0 if at.out_proj is None else float(at.sigma_O2) * at.d
            out.append((lam[:, 1:] ** 2).sum(axis=1) / (float(at.sigma_V2) * at.d * g) ** (2 * at.depth))
        return out

    def compare(self, config, case, data, pred):
        p = pred.numeric()
        par = {"case": case.label, "networks_per_n": case.batch}
        if case.model.remove_gap:
            return [T.limit(f"ESD {key.replace('_', ' ')} of gamma^l Sigma_l^perp (H heads)", par,
                            T.extrapolate(case.ns, [d[:, j] for d in data]), predicted=p[key],
                            judges=(key,))
                    for j, key in enumerate(("mean", "relative_variance"))]
        l = case.model.depth
        scaled = [b * n ** (2 * l - 1) for b, n in zip(data, case.ns)]
        fit = loglog_fit(case.ns, data, rng=T.generator(config, RID, "boot", case.label), n_boot=1000)
        b = 8.0 * l * (1 / case.ns[0] - 1 / case.ns[-1]) / np.log(case.ns[-1] / case.ns[0])
        return [T.limit("Prop 3 with H heads: n^(2l-1) sum_(i>=2) lambda_i^2/(sigma_V^2 d)^(2l) -> "
                        "(1 + r_l) sigma_A^(4l)", par, T.extrapolate(case.ns, scaled),
                        predicted=p["constant"], judges=("constant",)),
                T.rate("Prop 3 with H heads: bulk sum ~ n^(1-2l)", par, fit, predicted=p["exponent"],
                       below=b, above=b, max_width=config.pick(0.6, 0.25, 0.25))]


def _averaged_as_one_head(model, pred):
    """The head-averaged attention read as one Random Markov head of relative
    variance sigma_A^2/H: one head's r_l = l(1 + gamma), mean and constant with
    sigma_A^2/H."""
    p = pred(model.replace(heads=1))
    h, l = model.heads, model.depth
    return p.replace(mean=p.mean / h ** l, constant=p.constant / h ** (2 * l))


def _doubled_gamma(model, pred):
    """The recursion with gamma read as 2 gamma (c -> 2c): r_l = 2c + (1 + r_(l-1))/H."""
    from ...theory.companions.arch import relative_variance
    c = model.value("gamma") * (1 if model.out_proj is None else 2)
    return pred(model).replace(relative_variance=relative_variance(model.depth, int(model.heads), 2 * c))


CHECK = MultiHeadCheck()
CHECK.controls = (
    T.scale("mean", 1.1),
    T.remodel("H -> 1 (one head: Prop 7's l(1 + gamma))", ("relative_variance", "constant"),
              lambda m: {"heads": 1}),
    T.remodel("H -> 2H", ("relative_variance", "constant"), lambda m: {"heads": 2 * m.heads}),
    T.Control("head-averaged attention as one head (sigma_A^2/H)", _averaged_as_one_head,
              ("mean", "relative_variance", "constant")),
    T.Control("gamma -> 2 gamma in r_l", _doubled_gamma, ("relative_variance",)),
    T.remodel("W_O left out (c = gamma instead of 2 gamma)", ("relative_variance",),
              lambda m: {"out_proj": None}),
    T.remodel("l -> l+1", ("exponent", "constant", "relative_variance"), lambda m: {"depth": m.depth + 1}),
    T.shift("exponent", 0.5),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
