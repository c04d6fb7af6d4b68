"""Empirical check of Lemma 4 (mean and variance of a free product of
Marchenko-Pastur laws), on the toolkit.

The lemma's instance for a model (:func:`theory.results.lemma4.blocks`) is
the bulk of its stack, ``MP(1, sigma_A^2)^l boxtimes MP(gamma,
sigma_V^2)^l``. Realisation: ``Y = G_1 ... G_k`` with ``G_i`` an ``N_{i-1} x
N_i`` matrix of i.i.d. ``N(0, s_i)`` entries, ``N_0 = n``, ``N_i = round(n /
lam_i)``; the eigenvalues of ``Y Y^T / (N_1 ... N_k)`` follow
``MP(lam_1, s_1) boxtimes ... boxtimes MP(lam_k, s_k)`` as n grows (the
n-side S-transform of ``G P G^T / N`` is ``S_P(c z) / (s (1 + c z))``,
``c = n / N``, applied factor by factor).

A limit is checked as a limit: the ESD mean and variance carry an O(1/n)
bias at finite n (one Wishart factor: ``E m_2 = s^2 (1 + lam + 1/N)``), so
each is measured along a grid of n, extrapolated to n = oo by
:func:`toolkit.extrapolate` (``a + b n^-1``) and compared with the
prediction's ``mean`` / ``variance`` by :func:`toolkit.limit` (the policy's t
quantile of the intercept's SE plus the next-order budget; judges the field).

The cases: :func:`theory.results.lemma4.example` (sigma_A^2 = 1/3,
sigma_V^2 = 3/2, gamma = 1/2, l = 2: mean 1/4, variance 3/16) at every
level; a one-layer uniform stack at gamma = 1/4, sigma_V^2 = 2 and the
paper's exponential ensemble at l = 3, gamma = 1 at the default and
thorough levels.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['sigma_A^2=1/3, sigma_V^2=3/2, gamma=1/2, l=2']
"""
from __future__ import annotations

import numpy as np
import sympy

from . import toolkit as T
from ..rng import as_generator
from ...theory._validate import integer, positive
from ...theory.model import AttentionModel
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "sample_moments", "factors", "sizes"]

#: cases beyond the example at the default and thorough levels
OTHER_CASES = (dict(depth=1, gamma=sympy.Rational(1, 4), ensemble="uniform", sigma_v2=2),
               dict(depth=3, gamma=1, ensemble="exponential", sigma_v2=1))


def sample_moments(n, ratios, scales, *, batch, rng=None) -> np.ndarray:
    """(batch, 2) array of the ESD mean and variance of ``Y Y^T / (N_1...N_k)``.

    >>> sample_moments(32, [1], [1], batch=2, rng=0).shape
    (2, 2)
    """
    n = integer("n", n, minimum=2)
    batch = integer("batch", batch, minimum=1)
    ratios, scales = list(ratios), list(scales)
    if not ratios or len(ratios) != len(scales):
        raise ValueError("ratios and scales must be non-empty and of equal length")
    for r, s in zip(ratios, scales):
        positive("ratios", r)
        positive("scales", s)
    gen = as_generator(rng)
    dims = [n] + [max(1, int(round(n / float(r)))) for r in ratios]
    out = np.empty((batch, 2))
    for b in range(batch):
        Y = np.eye(n)
        for i, s in enumerate(scales):
            G = gen.standard_normal((dims[i], dims[i + 1])) * np.sqrt(float(s) / dims[i + 1])
            Y = Y @ G
        S = Y @ Y.T
        m1 = np.trace(S) / n
        out[b] = m1, np.sum(S * S) / n - m1**2
    return out


def factors(model) -> tuple[list[float], list[float]]:
    """The model's Marchenko-Pastur factors (ratios, scales), one per factor,
    from :func:`theory.results.lemma4.blocks`."""
    from ...theory.results.lemma4 import blocks
    ratios, scales = [], []
    for ratio, scale, count in blocks(model):
        ratios += [float(ratio)] * int(count)
        scales += [float(scale)] * int(count)
    return ratios, scales


def sizes(config):
    return config.pick((48, 96, 192), (48, 96, 192), (128, 256, 512)), 16


def _label(model) -> str:
    return (f"sigma_A^2={model.value('sigma_A2')}, sigma_V^2={model.value('sigma_V2')}, "
            f"gamma={model.value('gamma')}, l={model.depth}")


class FreeProductCheck(T.Check):
    result_id = "lemma4"

    def cases(self, config):
        ns, batch = sizes(config)
        models = [get(self.result_id).example().replace(n=ns[-1])]
        if config.level != "quick":
            models += [AttentionModel(n=ns[-1], **c) for c in OTHER_CASES]
        return [T.Case(m, ns, batch, _label(m)) for m in models]

    def measure(self, config, case):
        ratios, scales = factors(case.model)
        data = [sample_moments(n, ratios, scales, batch=case.batch,
                               rng=T.generator(config, self.result_id, "esd", n, case.label)) for n in case.ns]
        return {key: T.extrapolate(case.ns, [d[:, j] for d in data]) for j, key in enumerate(("mean", "variance"))}

    def compare(self, config, case, m, pred):
        p = pred.numeric()
        par = {"case": case.label, "batch": case.batch}
        return [T.limit(f"ESD {key} of the free product (n -> oo)", par, m[key], predicted=p[key], judges=(key,))
                for key in ("mean", "variance")]


def _variance_over_mean(model, predict):
    p = predict(model)
    return p.replace(variance=p.variance / p.mean)


CHECK = FreeProductCheck()
CHECK.controls = (
    T.scale("mean", 1.1, name="mean x1.1"),
    T.scale("variance", 2, name="variance: sum lam -> 2 sum lam"),
    T.Control("variance: (prod s)^2 -> prod s", _variance_over_mean, ("variance",)),
    T.substitute("1+gamma -> 1+2gamma", ("variance",), gamma=lambda g: 2 * g),
    T.remodel("l -> l+1", ("mean", "variance"), lambda m: {"depth": m.depth + 1}),
    T.substitute("sigma_V^2 -> sigma_V^4", ("mean", "variance"), sigma_V2=lambda s: s ** 2),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
