"""Empirical check of Proposition 7: mean and variance of the ESD of
``gamma^l Sigma_l^perp`` (gap removed) against the prediction
(``theory.results.prop7.predict``).

Networks are sampled with :func:`numerics.forward.sample` from the case's
:class:`theory.model.AttentionModel` (``remove_gap=1``); the normalised
covariance of the statement is ``(n/d)^l X_l X_l^T`` (n/d after rounding d).
Samples are cached by (model, networks, seed, backend), so the truth and every
control read the same draws. The limit is checked as a limit: the per-n ESD
moments are extrapolated to n = oo along a grid of n
(:func:`toolkit.extrapolate` in 1/n; :func:`toolkit.limit`: the policy's t
quantile times the intercept's SE plus the next-order bias budget).

Every level runs the result's example (uniform entries sigma_A^2 = 1/3,
sigma_V^2 = 3/2, gamma = 1/2, l = 2), where a wrong power of either scale or
of gamma changes the mean or the variance.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))][0]
'l=2, gamma=1/2, uniform, sigma_A^2=1/3, sigma_V^2=3/2'
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy

from . import toolkit as T
from ...theory.model import AttentionModel
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "sample_moments"]

_HALF = sympy.Rational(1, 2)
#: (l, gamma, ensemble, sigma_V^2) besides the example: depth 1-3, both ratios,
#: sigma_A^2 sigma_V^2 != 1 in some
_CASES = ((1, 1, "exponential", 1), (2, _HALF, "exponential", 1), (3, 1, "exponential", 1),
          (2, 1, "uniform", sympy.Rational(169, 100)), (3, _HALF, "uniform", 1),
          (2, _HALF, "lognormal", 1))


def sample_moments(m, *, batch, rng=None, backend="numpy") -> np.ndarray:
    """(batch, 2): ESD mean and variance of ``(n/d)^L X_L X_L^T`` for model m.

    >>> sample_moments(AttentionModel(n=16, depth=1, remove_gap=1), batch=2, rng=0).shape
    (2, 2)
    """
    from ..forward import sample
    from ..measures import gram

    tr = sample(m, batch=batch, rng=rng, backend=backend)
    X = np.asarray(tr.numpy("X")[m.depth], float) * (m.n / m.d) ** (m.depth / 2)
    S = np.asarray(gram(X), float)
    m1 = np.trace(S, axis1=1, axis2=2) / m.n
    m2 = np.einsum("bij,bij->b", S, S) / m.n
    return np.column_stack([m1, m2 - m1**2])


@lru_cache(maxsize=64)
def _moments(model, batch: int, seed: int, backend: str) -> np.ndarray:
    out = sample_moments(model, batch=batch, rng=seed, backend=backend)
    out.setflags(write=False)
    return out


def _label(m) -> str:
    return (f"l={m.depth}, gamma={m.value('gamma')}, {m.ensemble}, sigma_A^2={m.value('sigma_A2')}, "
            f"sigma_V^2={m.value('sigma_V2')}")


class CovarianceBulkCheck(T.Check):
    result_id = "prop7"

    def sizes(self, config):
        """The grid of n and the networks per n at this level."""
        return config.pick((32, 64, 128), (32, 64, 128), (128, 256, 512)), config.pick(16, 8, 16)

    def legacy_cases(self, config):
        # the lognormal ensemble (heavy-tailed rows) needs n >= 128 to enter the 1/n regime
        return config.pick(_CASES[:2], _CASES[:5], _CASES)

    def cases(self, config):
        ns, batch = self.sizes(config)
        models = [get(self.result_id).example().replace(n=ns[-1])]
        models += [AttentionModel(n=ns[-1], depth=l, gamma=g, ensemble=e, sigma_v2=v, remove_gap=1)
                   for l, g, e, v in self.legacy_cases(config)]
        return [T.Case(m, tuple(ns), batch, _label(m)) for m in models]

    def measure(self, config, case):
        return [_moments(case.model.replace(n=n), case.batch,
                         T.seed(config, self.result_id, "networks", n, case.label), config.backend)
                for n in case.ns]

    def compare(self, config, case, data, pred):
        p = pred.numeric()
        par = {"case": case.label, "networks_per_n": case.batch}
        return [T.limit(f"ESD {key} of gamma^l Sigma_l^perp", par,
                        T.extrapolate(case.ns, [d[:, j] for d in data]), predicted=p[key], judges=(key,))
                for j, key in enumerate(("mean", "variance"))]


CHECK = CovarianceBulkCheck()
CHECK.controls = (
    T.scale("mean", 1.1),
    T.substitute("variance l -> l+1", ("variance",), fields=("variance",), l=lambda l: l + 1),
    T.substitute("variance 1+gamma -> 1+2gamma", ("variance",), fields=("variance",),
                 gamma=lambda g: 2 * g),
    T.substitute("2 sigma -> sigma (sigma^2 -> sigma in mean and variance)", ("mean", "variance"),
                 sigma_A2=sympy.sqrt, sigma_V2=sympy.sqrt),
    T.times("sigma_V^(2(l-1)) for sigma_V^(2l) (mean)", "mean", lambda m: 1 / m.value("sigma_V2")),
    T.times("sigma_A^(2(l+1)) for sigma_A^(2l) (mean)", "mean", lambda m: m.value("sigma_A2")),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
