"""Empirical check of Lemma 4 (mean and variance of a free product of
Marchenko-Pastur laws), and the limit-extrapolation helper the bulk checks
(Props 5-8) share.

Realisation: ``Y = G_1 ... G_k`` with ``G_i`` an ``N_{i-1} x N_i`` matrix of
i.i.d. ``N(0, s_i)`` entries, ``N_0 = n``, ``N_i = round(n / lam_i)``; the
eigenvalues of ``Y Y^T / (N_1 ... N_k)`` follow
``MP(lam_1, s_1) boxtimes ... boxtimes MP(lam_k, s_k)`` as n grows (the
n-side S-transform of ``G P G^T / N`` is ``S_P(c z) / (s (1 + c z))``,
``c = n / N``, applied factor by factor).

A limit is checked as a limit: the ESD moments carry an O(1/n) bias at
finite n (one Wishart factor: ``E m_2 = s^2 (1 + lam + 1/N)``), so the
statistic is measured along a grid of n and extrapolated to n = oo by a
least-squares fit ``a + b n^-1`` (:func:`extrapolate`).  The acceptance band
is ``z`` standard errors of the intercept (propagated from the per-n sample
SEs) plus a bias budget for the next-order term ``c n^-2`` that the fit
leaves out, with ``|c|`` of the size ``b^2 / |a|`` (geometric decay of the
corrections): the chord of ``c x^2`` between ``x_min`` and ``x_max`` misses
the intercept by ``|c| x_min x_max``.

>>> e = extrapolate([100, 200, 400], [[1.01, 1.01], [1.005, 1.005], [1.0025, 1.0025]])
>>> round(e.estimate, 6), round(e.slope, 6)
(1.0, 1.0)
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import VerifyConfig
from .toolkit import Extrapolation, extrapolate, limit
from ..rng import as_generator
from ..stats import z_for_probability
from ...theory._validate import integer, positive
from ...theory.registry import CheckOutcome

__all__ = ["Extrapolation", "extrapolate", "limit_outcome", "predict", "sample_moments",
           "measure", "evaluate", "check", "run", "NEGATIVE_CONTROLS", "Z"]

#: two-sided false-alarm probability per comparison
FALSE_ALARM = 1e-5
#: its normal quantile (one-sided and exact-statement checks)
Z = z_for_probability(FALSE_ALARM)


def limit_outcome(name, params, ext: Extrapolation, predicted, z: float | None = None) -> CheckOutcome:
    """:func:`toolkit.limit` for the checks not yet on the toolkit (no judged fields)."""
    return limit(name, params, ext, predicted=predicted, judges=(), z=z)


# ---------------------------------------------------------------------------
# Lemma 4 itself
# ---------------------------------------------------------------------------
def predict(ratios, scales) -> dict:
    """Mean and variance derived in :mod:`theory.results.lemma4`."""
    from ...theory.results.lemma4 import predict as _p
    return _p(tuple(ratios), tuple(scales))


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
    sizes = [n] + [max(1, int(round(n / float(r)))) for r in ratios]
    out = np.empty((batch, 2))
    for b in range(batch):
        Y = np.eye(n)
        for i, s in enumerate(scales):
            G = gen.standard_normal((sizes[i], sizes[i + 1])) * np.sqrt(float(s) / sizes[i + 1])
            Y = Y @ G
        S = Y @ Y.T
        m1 = np.trace(S) / n
        out[b] = m1, np.sum(S * S) / n - m1**2
    return out


def measure(ratios, scales, ns, *, batch, rng=None):
    """Sampled ESD moments along ``ns``: (params, ns, list of (batch, 2) arrays)."""
    gen = as_generator(rng)
    data = [sample_moments(n, ratios, scales, batch=batch, rng=gen) for n in ns]
    params = {"ratios": tuple(float(r) for r in ratios), "scales": tuple(float(s) for s in scales)}
    return params, list(ns), data


def evaluate(measured, predict=predict, z=None) -> list[CheckOutcome]:
    params, ns, data = measured
    pred = predict(params["ratios"], params["scales"])
    out = []
    for j, key in enumerate(("mean", "variance")):
        ext = extrapolate(ns, [d[:, j] for d in data])
        out.append(limit_outcome(f"ESD {key} of the free product", params, ext, pred[key], z))
    return out


def check(ratios, scales, ns, *, batch, rng=None, predict=predict, z=None) -> list[CheckOutcome]:
    """Extrapolated ESD mean and variance against ``predict(ratios, scales)``."""
    return evaluate(measure(ratios, scales, ns, batch=batch, rng=rng), predict, z)


_CASES = (((0.5, 1, 1), (1, 1, 1)), ((0.25, 2 / 3), (1.5, 0.5)), ((1,), (2,)), ((0.5, 0.5), (0.8, 1.2)))


@lru_cache(maxsize=4)
def _measure_all(config: VerifyConfig):
    ns = config.pick([48, 96, 192], [48, 96, 192], [128, 256, 512])
    batch = config.pick(16, 8, 16)
    cases = config.pick(_CASES[:2], _CASES, _CASES)
    gen = np.random.default_rng([config.seed, 4004])
    return [measure(r, s, ns, batch=batch, rng=gen) for r, s in cases]


def run(config: VerifyConfig | None = None, predict=None) -> list[CheckOutcome]:
    """All cases of this level (samples drawn once per config and cached)."""
    config = config or VerifyConfig()
    predict = predict or globals()["predict"]
    return [o for m in _measure_all(config) for o in evaluate(m, predict)]


def _perturb(fn):
    def control(ratios, scales):
        p = dict(predict(ratios, scales))
        p.update(fn(p, ratios, scales))
        return p
    return control


#: perturbed predictions that :func:`run` must reject
NEGATIVE_CONTROLS = {
    "mean x1.1": _perturb(lambda p, r, s: {"mean": 1.1 * p["mean"]}),
    "variance k->k+1 (one more MP(1) factor)": _perturb(
        lambda p, r, s: {"variance": p["variance"] + p["mean"] ** 2}),
    "variance sum(lam)->2 sum(lam)": _perturb(lambda p, r, s: {"variance": 2 * p["variance"]}),
    "variance (prod s)^2->prod s": _perturb(lambda p, r, s: {"variance": p["variance"] / p["mean"]}),
}
