"""Empirical check of Proposition 7: mean and variance of the ESD of
``gamma^l Sigma_l^perp`` (gap removed) against the derived limit.

Networks are sampled with :func:`numerics.forward.sample` from an
:class:`theory.model.AttentionModel` with ``remove_gap=1``; since
``X_l = (d/n)^{l/2} Y_l``, the normalised covariance is ``(n/d)^l X_l X_l^T``
(n/d after rounding d).  The limit is checked as a limit: the per-n ESD
moments are extrapolated to n = oo along a grid of n
(:func:`numerics.checks.lemma4.extrapolate`, band = z SE + next-order bias
budget).

>>> out = check(2, 1, "exponential", 1.0, [24, 48], batch=3, rng=0)
>>> [o.name for o in out]
['ESD mean of gamma^l Sigma_l^perp', 'ESD variance of gamma^l Sigma_l^perp']
"""
from __future__ import annotations

from functools import lru_cache, partial

import numpy as np

from . import VerifyConfig, perturbed
from .lemma4 import extrapolate, limit_outcome
from ..rng import as_generator
from ...theory.registry import CheckOutcome

__all__ = ["model", "predict", "sample_moments", "measure", "evaluate", "check", "run", "NEGATIVE_CONTROLS"]


def model(n, depth, gamma, ensemble, sigma_v2):
    """The gap-removed Random Markov model of the proposition."""
    from ...theory.model import AttentionModel
    return AttentionModel(n=n, depth=depth, gamma=gamma, attention="markov", ensemble=ensemble,
                          remove_gap=1, sigma_v2=sigma_v2)


def predict(l, gamma, sigma_a2, sigma_v2) -> dict:
    """Mean and variance derived in :mod:`theory.results.prop7`."""
    from ...theory.results.prop7 import predict as _p
    return _p(l, gamma, sigma_a2, sigma_v2)


def sample_moments(m, *, batch, rng=None, backend="numpy") -> np.ndarray:
    """(batch, 2): ESD mean and variance of ``(n/d)^L X_L X_L^T`` for model m."""
    from ..forward import sample
    from ..measures import gram

    tr = sample(m, batch=batch, rng=rng, backend=backend)
    X = np.asarray(tr.numpy("X")[m.depth], float) * (m.n / m.d) ** (m.depth / 2)
    S = np.asarray(gram(X), float)
    m1 = np.trace(S, axis1=1, axis2=2) / m.n
    m2 = np.einsum("bij,bij->b", S, S) / m.n
    return np.column_stack([m1, m2 - m1**2])


def measure(l, gamma, ensemble, sigma_v2, ns, *, batch, rng=None, backend="numpy"):
    """Sampled ESD moments along ``ns``: (params, list of (batch, 2) arrays)."""
    gen = as_generator(rng)
    models = [model(n, l, gamma, ensemble, sigma_v2) for n in ns]
    data = [sample_moments(mm, batch=batch, rng=gen, backend=backend) for mm in models]
    params = {"l": l, "gamma": float(gamma), "ensemble": ensemble,
              "sigma_A2": float(models[-1].sigma_A2), "sigma_V2": float(sigma_v2),
              "networks_per_n": batch}
    return params, list(ns), data


def evaluate(measured, predict=predict, z=None) -> list[CheckOutcome]:
    """Compare measured moments (from :func:`measure`) with ``predict``."""
    params, ns, data = measured
    pred = predict(params["l"], params["gamma"], params["sigma_A2"], params["sigma_V2"])
    out = []
    for j, key in enumerate(("mean", "variance")):
        ext = extrapolate(ns, [d[:, j] for d in data])
        out.append(limit_outcome(f"ESD {key} of gamma^l Sigma_l^perp", params, ext, pred[key], z))
    return out


def check(l, gamma, ensemble, sigma_v2, ns, *, batch, rng=None, predict=predict, z=None,
          backend="numpy") -> list[CheckOutcome]:
    """Extrapolated ESD mean and variance along ``ns`` against the prediction."""
    return evaluate(measure(l, gamma, ensemble, sigma_v2, ns, batch=batch, rng=rng,
                            backend=backend), predict, z)


#: (l, gamma, ensemble, sigma_V^2): depth 1-3, both ratios, sigma_A^2 sigma_V^2 != 1 in some
_CASES = ((1, 1, "exponential", 1.0), (2, 0.5, "exponential", 1.0), (3, 1, "exponential", 1.0),
          (2, 1, "uniform", 1.69), (3, 0.5, "uniform", 1.0), (2, 0.5, "lognormal", 1.0))


@lru_cache(maxsize=4)
def _measure_all(config: VerifyConfig):
    ns = config.pick([32, 64, 128], [32, 64, 128], [128, 256, 512])
    batch = config.pick(16, 8, 16)
    # the lognormal ensemble (heavy-tailed rows) needs n >= 128 to enter the 1/n regime
    cases = config.pick(_CASES[:2] + _CASES[3:4], _CASES[:5], _CASES)
    gen = np.random.default_rng([config.seed, 7007])
    return [measure(l, g, e, v, ns, batch=batch, rng=gen, backend=config.backend)
            for l, g, e, v in cases]


def run(config: VerifyConfig | None = None, predict=None) -> list[CheckOutcome]:
    """All cases of this level; the samples of a config are drawn once and
    cached, so negative controls re-use them."""
    config = config or VerifyConfig()
    predict = predict or globals()["predict"]
    return [o for m in _measure_all(config) for o in evaluate(m, predict)]


_perturb = partial(perturbed, predict)


#: perturbed predictions that :func:`run` must reject
NEGATIVE_CONTROLS = {
    "mean x1.1": _perturb(lambda l, g, a, v, p: {**p, "mean": 1.1 * p["mean"]}),
    "variance l->l+1": _perturb(lambda l, g, a, v, p: {**p, "variance": p["variance"] * (l + 1) / l}),
    "variance 1+gamma->1+2gamma": _perturb(
        lambda l, g, a, v, p: {**p, "variance": p["variance"] * (1 + 2 * g) / (1 + g)}),
    "2 sigma->sigma (sigma^2 -> sigma in mean and variance)": _perturb(
        lambda l, g, a, v, p: {"mean": (a * v) ** (l / 2),
                               "variance": (a * v) ** l * l * (1 + g)}),
}
