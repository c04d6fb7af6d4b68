"""Empirical check of Lemma 1: ||u^T W_1...W_l||^2 has mean 1 and variance
(1 + 2/d)^l - 1 exactly, and concentrates around 1.

The statement is exact at every d, so there is no finite-n bias to budget:
the sample mean and the sample variance are compared with the prediction
within ``Z`` standard errors computed from the samples (the SE of a sample
variance from the fourth central sample moment).

>>> out = check(16, 2, batch=400, rng=0)
>>> [o.passed for o in out]
[True, True]
"""
from __future__ import annotations

from functools import partial

import numpy as np

from . import VerifyConfig, perturbed
from ..rng import as_generator
from ..stats import z_for_probability
from ...theory._validate import integer
from ...theory.registry import CheckOutcome

__all__ = ["predict", "sample", "variance_se", "compare", "check", "concentration", "run",
           "NEGATIVE_CONTROLS", "Z"]

#: two-sided false-alarm probability 1e-5 per comparison
Z = z_for_probability(1e-5)
_CHUNK_ENTRIES = 2_000_000  # floats of W drawn at once


def predict(d, l) -> dict:
    """Mean and variance derived in :mod:`theory.results.lemma1`."""
    from ...theory.results.lemma1 import predict as _p
    return _p(d, l)


def sample(d, l, *, batch, rng=None) -> np.ndarray:
    """``batch`` draws of ||u^T W_1...W_l||^2 with u a random unit vector
    and W_i sampled by :func:`numerics.sampling.value_weights` (variance 1/d).

    >>> sample(8, 1, batch=3, rng=1).shape
    (3,)
    """
    from ..sampling import value_weights

    d = integer("d", d, minimum=1)
    l = integer("l", l, minimum=1)
    batch = integer("batch", batch, minimum=1)
    gen = as_generator(rng)
    u = gen.standard_normal((batch, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    step = max(1, _CHUNK_ENTRIES // (d * d))
    for _ in range(l):
        parts = []
        for start in range(0, batch, step):
            stop = min(batch, start + step)
            W = np.asarray(value_weights(d, batch=stop - start, variance=1.0 / d, rng=gen))
            parts.append(np.einsum("bi,bij->bj", u[start:stop], W))
        u = np.concatenate(parts)
    return np.einsum("bi,bi->b", u, u)


def variance_se(x) -> tuple[float, float]:
    """Sample variance and its standard error sqrt((m4 - s^4) / N)."""
    x = np.asarray(x, float)
    c = x - x.mean()
    s2 = c.var(ddof=1)
    m4 = np.mean(c**4)
    return float(s2), float(np.sqrt(max(m4 - s2**2, 0.0) / x.size))


def compare(x, pred, params, z=Z, se_var=None) -> list[CheckOutcome]:
    """Sample mean and variance of ``x`` against ``pred`` (a dict with
    ``mean`` and ``variance``), within ``z`` SE estimated from ``x``; ``se_var``
    replaces the plug-in SE of the variance (``check`` passes the exact one)."""
    x = np.asarray(x, float)
    mean, se_mean = float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size))
    var, plug_in = variance_se(x)
    se_var = plug_in if se_var is None else float(se_var)
    params = {**params, "samples": int(x.size)}
    tol = f"{z:.2f} SE (false alarm 1e-5), SE from {x.size} samples; exact at every d (no bias term)"
    return [
        CheckOutcome("mean of ||u^T W_1...W_l||^2", params, mean, pred["mean"],
                     abs(mean - pred["mean"]) <= z * se_mean, tol, f"SE {se_mean:.3g}"),
        CheckOutcome("variance of ||u^T W_1...W_l||^2", params, var, pred["variance"],
                     abs(var - pred["variance"]) <= z * se_var, tol, f"SE {se_var:.3g}"),
    ]


def check(d, l, *, batch, rng=None, predict=predict, z=Z) -> list[CheckOutcome]:
    """Mean and variance of ``batch`` samples against ``predict(d, l)``."""
    from ...theory.results.lemma1 import sample_variance_se
    x = sample(d, l, batch=batch, rng=rng)
    return compare(x, predict(d, l), {"d": d, "l": l}, z, se_var=sample_variance_se(d, l, x.size))


def concentration(ds, l, *, batch, rng=None, t=0.5) -> CheckOutcome:
    """P(| ||u^T W_1...W_l||^2 - 1 | > t) decreases along the grid of d and
    obeys Chebyshev's bound Var / t^2 (with 4 binomial SE of slack)."""
    gen = as_generator(rng)
    fracs, ok = [], True
    for d in ds:
        x = sample(d, l, batch=batch, rng=gen)
        p = float(np.mean(np.abs(x - 1) > t))
        fracs.append(p)
        bound = predict(d, l)["variance"] / t**2
        ok &= p <= bound + 4 * np.sqrt(max(p * (1 - p), 1.0 / batch) / batch)
    ok &= all(b < a or a == 0 for a, b in zip(fracs, fracs[1:]))
    return CheckOutcome(f"P(|X - 1| > {t}) decreases in d (concentration)",
                        {"d": list(ds), "l": l, "samples": batch}, fracs,
                        "decreasing, <= Var/t^2", bool(ok),
                        "Chebyshev bound + 4 binomial SE; strict decrease along the grid")


def run(config: VerifyConfig | None = None, predict=None) -> list[CheckOutcome]:
    """The grid of (d, l) of this level, each with its mean and variance check."""
    config = config or VerifyConfig()
    predict = predict or globals()["predict"]
    batch = config.pick(4000, 3000, 20000)
    grid = config.pick([(16, 3)], [(16, 1), (16, 3), (48, 2), (32, 4)],
                       [(16, 1), (16, 3), (64, 2), (64, 4), (128, 3), (256, 6)])
    gen = np.random.default_rng([config.seed, 1001])
    out = []
    for d, l in grid:
        out.extend(check(d, l, batch=batch, rng=gen, predict=predict))
    if predict is globals()["predict"]:
        out.append(concentration(config.pick([16, 64], [16, 32, 64, 96], [16, 32, 64, 128, 256]), 2,
                                 batch=config.pick(500, 800, 4000), rng=gen))
    return out


_perturb = partial(perturbed, predict)


#: perturbed predictions that :func:`run` must reject
NEGATIVE_CONTROLS = {
    "mean x1.1": _perturb(lambda d, l, p: {**p, "mean": 1.1 * p["mean"]}),
    "variance l->l+1": _perturb(lambda d, l, p: {**p, "variance": (1 + 2 / d) ** (l + 1) - 1}),
    "variance 2/d->1/d": _perturb(lambda d, l, p: {**p, "variance": (1 + 1 / d) ** l - 1}),
}
