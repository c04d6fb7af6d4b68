"""Empirical check of Lemma 1 (||u^T W_1...W_l||^2 through Gaussian factors), on the toolkit.

For each case (a model: width d, depth l, value variance sigma_V^2) ``X =
||u^T W_1...W_l||^2`` is sampled (u a random unit vector, the W_i the
model's value weights) and compared with the prediction
(:class:`theory.results.lemma1.GaussianProductNorm`):

* the sample mean against ``mean`` (judges ``mean``): the policy's quantile
  of the SE from the samples;
* the sample variance against ``variance`` (judges ``variance``): the
  policy's quantile of the *exact* SE of a sample variance,
  :func:`theory.results.lemma1.sample_variance_se` of the case's model (the
  plug-in SE is too small in the heavy right tail of X);
* concentration, ``P(|X - mean| > mean/2) <= variance / (mean/2)^2``
  (Chebyshev) plus the policy's one-sided quantile of the binomial SE
  (judges ``mean`` and ``variance``).

The statement is exact at every d: there is no finite-n bias to budget.

The cases: :func:`theory.results.lemma1.example` (d = 32, l = 3, sigma_V^2 =
3/64) at every level; the lemma's own N(0, 1/d) factors (Xavier sigma_V^2 =
1/d) on a grid of (d, l) at the default and thorough levels.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['d=32, l=3, sigma_V^2=3/64']
"""
from __future__ import annotations

import math

import numpy as np

from . import toolkit as T
from ..rng import as_generator
from ..stats import mean_se
from ...theory._validate import integer, positive
from ...theory.model import AttentionModel, Scale
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "sample", "grid"]

_CHUNK_ENTRIES = 2_000_000  # floats of W drawn at once


def sample(d, l, *, batch, rng=None, variance=None) -> np.ndarray:
    """``batch`` draws of ||u^T W_1...W_l||^2 with u a random unit vector and
    W_i d x d with i.i.d. N(0, variance) entries (default 1/d), drawn by
    :func:`numerics.sampling.value_weights`.

    >>> sample(8, 1, batch=3, rng=1).shape
    (3,)
    """
    from ..sampling import value_weights

    d = integer("d", d, minimum=1)
    l = integer("l", l, minimum=1)
    batch = integer("batch", batch, minimum=1)
    variance = 1.0 / d if variance is None else float(positive("variance", variance))
    gen = as_generator(rng)
    u = gen.standard_normal((batch, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    step = max(1, _CHUNK_ENTRIES // (d * d))
    for _ in range(l):
        parts = []
        for start in range(0, batch, step):
            stop = min(batch, start + step)
            W = np.asarray(value_weights(d, batch=stop - start, variance=variance, rng=gen))
            parts.append(np.einsum("bi,bij->bj", u[start:stop], W))
        u = np.concatenate(parts)
    return np.einsum("bi,bi->b", u, u)


def grid(config):
    """(d, l) of the lemma's own N(0, 1/d) cases at this level (none at quick)."""
    return config.pick([], [(16, 1), (16, 3), (48, 2), (32, 4)],
                       [(16, 1), (16, 3), (64, 2), (64, 4), (128, 3), (256, 6)])


def _label(model) -> str:
    return f"d={model.d}, l={model.depth}, sigma_V^2={model.value('sigma_V2')}"


class GaussianProductCheck(T.Check):
    result_id = "lemma1"

    def cases(self, config):
        batch = config.pick(4000, 3000, 20000)
        models = [get(self.result_id).example()]
        models += [AttentionModel(n=d, depth=l, sigma_v2=Scale.xavier()) for d, l in grid(config)]
        return [T.Case(m, (m.d,), batch, _label(m)) for m in models]

    def measure(self, config, case):
        from ...theory.results.lemma1 import sample_variance_se
        model = case.model
        x = sample(model.d, model.depth, batch=case.batch, variance=float(model.sigma_V2),
                   rng=T.generator(config, self.result_id, "norms", case.label))
        x.setflags(write=False)
        # the exact SE of the sample variance of the case's model (the truth's, as an
        # estimator's property: a control perturbs what is claimed, not the SE)
        se_var = sample_variance_se(model.d, model.depth, x.size, model.value("sigma_V2") * model.d)
        return {"x": x, "mean": mean_se(x), "var": float(x.var(ddof=1)), "se_var": se_var}

    def compare(self, config, case, m, pred):
        p = pred.numeric()
        par = {"case": case.label, "samples": case.batch}
        tol = "; exact at every d (no bias term)"
        mean, se = m["mean"]
        out = [T.band("mean of ||u^T W_1...W_l||^2", par, measured=mean, predicted=p["mean"], se=se,
                      judges=("mean",), detail=f"SE {se:.3g}" + tol),
               T.band("variance of ||u^T W_1...W_l||^2", par, measured=m["var"], predicted=p["variance"],
                      se=m["se_var"], judges=("variance",), detail=f"exact SE {m['se_var']:.3g}" + tol)]
        t = 0.5 * p["mean"]
        frac = float(np.mean(np.abs(m["x"] - p["mean"]) > t))
        bound = p["variance"] / t ** 2
        se = math.sqrt(max(frac * (1 - frac), 1.0 / case.batch) / case.batch)
        out.append(T.bound("concentration: P(|X - mean| > mean/2) <= Var/(mean/2)^2 (Chebyshev)", par,
                           measured=frac, limit=bound, se=se, judges=("mean", "variance")))
        return out


def _wider(model):
    """The model twice as wide at the same sigma_V^2 d (the relative variance then
    has 1/d where the lemma has 2/d)."""
    sv2 = model.sigma_v2 if isinstance(model.sigma_v2, Scale) else model.value("sigma_V2") / 2
    return model.replace(gamma=model.value("gamma") / 2, sigma_v2=sv2)


def _variance_of(change):
    def perturb(model, predict):
        return predict(model).replace(variance=predict(change(model)).variance)
    return perturb


CHECK = GaussianProductCheck()
CHECK.controls = (
    T.scale("mean", 1.1, name="mean x1.1"),
    T.Control("variance l -> l+1", _variance_of(lambda m: m.replace(depth=m.depth + 1)), ("variance",)),
    T.Control("variance 2/d -> 1/d", _variance_of(_wider), ("variance",)),
    T.remodel("l -> l+1", ("mean", "variance"), lambda m: {"depth": m.depth + 1}),
    T.substitute("sigma_V^2 -> sigma_V^4", ("mean", "variance"), sigma_V2=lambda s: s ** 2),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
