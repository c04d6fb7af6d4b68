"""Empirical check of Proposition 8: mean and variance of the squared
singular values of the Jacobian ``J_l = (A_l^perp...A_1^perp) kron (W_1...W_l)^T``
(normalised factors ``sqrt(n) A^perp``, ``W / sqrt(d)``).

The Jacobian is never formed: the squared singular values of a Kronecker
product are the pairwise products of the factors', so its ESD moments are
exactly ``m_k(J) = m_k(P_A) m_k(P_W)`` with ``m_1(P) = ||P||_F^2 / N`` and
``m_2(P) = ||P^T P||_F^2 / N`` of each N x N factor product.  The limit is
checked by extrapolation along a grid of n (band = z SE + bias budget, see
:mod:`numerics.checks.lemma4`).

>>> sample_moments(16, 16, 2, "exponential", 1.0, batch=2, rng=0).shape
(2, 2)
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import VerifyConfig
from .lemma4 import extrapolate, limit_outcome
from ..rng import as_generator
from ...theory._validate import integer
from ...theory.registry import CheckOutcome

__all__ = ["predict", "sample_moments", "measure", "evaluate", "check", "run", "NEGATIVE_CONTROLS"]


def predict(l, sigma_a2, sigma_v2) -> dict:
    """Mean and variance derived in :mod:`theory.results.prop8`."""
    from ...theory.results.prop8 import predict as _p
    return _p(l, sigma_a2, sigma_v2)


def _product_moments(mats, scale):
    """m_1, m_2 of the squared singular values of scale^l M_l...M_1 (batched)."""
    P = mats[0] * scale
    for M in mats[1:]:
        P = (M * scale) @ P
    N = P.shape[-1]
    m1 = np.einsum("bij,bij->b", P, P) / N
    G = np.swapaxes(P, 1, 2) @ P
    return m1, np.einsum("bij,bij->b", G, G) / N


def sample_moments(n, d, l, ensemble, sigma_v2, *, batch, rng=None) -> np.ndarray:
    """(batch, 2): mean and variance of the Jacobian's squared singular values."""
    from ..sampling import random_markov, remove_gap, value_weights

    n, d, l = integer("n", n, minimum=2), integer("d", d, minimum=1), integer("l", l, minimum=1)
    gen = as_generator(rng)
    A = [np.asarray(remove_gap(random_markov(n, batch=batch, ensemble=ensemble, rng=gen)), float)
         for _ in range(l)]
    W = [np.asarray(value_weights(d, batch=batch, variance=sigma_v2, rng=gen), float) for _ in range(l)]
    a1, a2 = _product_moments(A, np.sqrt(n))
    # (W_1...W_l)^T has the singular values of W_1...W_l
    w1, w2 = _product_moments([np.swapaxes(w, 1, 2) for w in W], 1 / np.sqrt(d))
    m1, m2 = a1 * w1, a2 * w2
    return np.column_stack([m1, m2 - m1**2])


def measure(l, ensemble, sigma_v2, ns, *, gamma=1.0, batch, rng=None):
    from ...theory.ensembles import get_ensemble

    gen = as_generator(rng)
    data = [sample_moments(n, int(round(n / gamma)), l, ensemble, sigma_v2, batch=batch, rng=gen)
            for n in ns]
    params = {"l": l, "gamma": float(gamma), "ensemble": ensemble,
              "sigma_A2": float(get_ensemble(ensemble).sigma_A2), "sigma_V2": float(sigma_v2),
              "samples_per_n": batch}
    return params, list(ns), data


def evaluate(measured, predict=predict, z=None) -> list[CheckOutcome]:
    params, ns, data = measured
    pred = predict(params["l"], params["sigma_A2"], params["sigma_V2"])
    out = []
    for j, key in enumerate(("mean", "variance")):
        ext = extrapolate(ns, [d[:, j] for d in data])
        out.append(limit_outcome(f"Jacobian squared singular values: {key}", params, ext, pred[key], z))
    return out


def check(l, ensemble, sigma_v2, ns, *, gamma=1.0, batch, rng=None, predict=predict, z=None):
    return evaluate(measure(l, ensemble, sigma_v2, ns, gamma=gamma, batch=batch, rng=rng), predict, z)


_CASES = ((1, "exponential", 1.0, 1.0), (2, "exponential", 1.0, 0.5), (3, "exponential", 1.0, 1.0),
          (2, "uniform", 1.69, 1.0), (2, "lognormal", 1.0, 0.5))


@lru_cache(maxsize=4)
def _measure_all(config: VerifyConfig):
    ns = config.pick([32, 64, 128], [32, 64, 128], [128, 256, 512])
    batch = config.pick(16, 8, 16)
    # the lognormal ensemble (heavy-tailed rows) needs n >= 128 to enter the 1/n regime
    cases = config.pick(_CASES[:1] + _CASES[3:4], _CASES[:4], _CASES)
    gen = np.random.default_rng([config.seed, 8008])
    return [measure(l, e, v, ns, gamma=g, batch=batch, rng=gen) for l, e, v, g in cases]


def run(config: VerifyConfig | None = None, predict=None) -> list[CheckOutcome]:
    """All cases of this level (samples drawn once per config and cached)."""
    config = config or VerifyConfig()
    predict = predict or globals()["predict"]
    return [o for m in _measure_all(config) for o in evaluate(m, predict)]


def _perturb(fn):
    def control(l, sigma_a2, sigma_v2):
        return fn(l, sigma_a2 * sigma_v2, predict(l, sigma_a2, sigma_v2))
    return control


#: perturbed predictions that :func:`run` must reject
NEGATIVE_CONTROLS = {
    "mean x1.1": _perturb(lambda l, s, p: {**p, "mean": 1.1 * p["mean"]}),
    "variance l->l+1": _perturb(
        lambda l, s, p: {**p, "variance": s ** (2 * l) * ((l + 1) ** 2 + 2 * (l + 1))}),
    "2 sigma->sigma": _perturb(lambda l, s, p: {"mean": s ** (l / 2), "variance": s**l * (l**2 + 2 * l)}),
}
