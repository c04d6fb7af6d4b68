"""Empirical check of Proposition 5: without the gap, srank(Sigma_l^perp)
grows like n, and srank/n -> m_2(mu_l) / x_max(mu_l)^2.

Networks from :func:`numerics.forward.sample` (``remove_gap=1``).  Per
network, from the Gram matrix ``G = X X^T`` (:func:`numerics.measures.gram`):
``m_1 = tr G / n``, the normalised second moment ``m_2/m_1^2 = n ||G||_F^2 /
tr(G)^2`` and the top eigenvalue ``lambda_max/m_1`` (Lanczos,
:func:`numerics.measures.spectral_norm`, certified to 1e-13), hence the
stable rank ``srank = ||G||_F^2 / lambda_max^2`` (the measure of
:func:`numerics.measures.covariance_stable_rank`) with no full spectrum.

Extrapolation to n = oo (:func:`numerics.checks.lemma4.extrapolate`): the
second moment in 1/n (next order n^-2, the lemma's chord budget); the top
eigenvalue and ``srank/n`` in n^(-2/3), the Tracy-Widom scale of a soft edge,
whose next order is n^-1 (the O(1/n) shift of the finite-n edge and the 1/n
bias of m_2): the bias budget is the intercept error of a term ``c n^-1``,
``|c| |sum_i C0_i n_i^-1|`` (C0 the fit's intercept row), with ``|c|`` of the
size ``b^2/|a|`` as in the lemma.  The rate ``srank ~ n^1`` is a log-log fit
whose target includes the slope bias implied by the fitted n^(-2/3)
correction.

Two one-sided checks use the direction of convergence: the mean top
eigenvalue of a soft edge sits below the edge (the Tracy-Widom laws have
negative means) and the 1/n bias of m_2 is positive, so ``E srank/n =
E m_2/lambda_max^2`` exceeds its limit at every large n (Jensen adds to
this): ``lambda_max/m_1 <= edge + z SE`` and ``limit <= srank/n + z SE`` at
the largest n.  At l = 1, gamma = 1 the grid reaches n = 1024 with 20
networks there, where srank/n is 2.5% above its limit with a per-network SD
of 3.1%: the latter check's threshold, 5.6 SE (one-sided t, 19 df) above the
mean, sits about 6.5% above the limit, so ``"limit x1.1"`` is rejected
(margin about 5 SE).

>>> out = check(1, 1, [24, 48, 96], batch=3, rng=0)
>>> len(out)
6
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache, partial

import numpy as np
from scipy import stats as _st

from . import VerifyConfig, perturbed
from .lemma4 import FALSE_ALARM, extrapolate, limit_outcome
from .prop6 import rate_outcome
from ..rng import as_generator
from ...theory._validate import integer
from ...theory.registry import CheckOutcome

__all__ = ["model", "predict", "sample_stats", "measure", "evaluate", "check", "run",
           "edge_extrapolate", "NEGATIVE_CONTROLS", "EDGE_ORDER", "EDGE_NEXT_ORDER"]

#: finite-n corrections at a soft edge scale like n^(-2/3) ...
EDGE_ORDER = 2 / 3
#: ... and the next ones like n^-1
EDGE_NEXT_ORDER = 1.0


def model(n, depth, gamma, ensemble="exponential", sigma_v2=1.0):
    from ...theory.model import AttentionModel
    return AttentionModel(n=n, depth=depth, gamma=gamma, attention="markov", ensemble=ensemble,
                          remove_gap=1, sigma_v2=sigma_v2)


def predict(l, gamma) -> dict:
    """``limit``, ``m2``, ``edge`` (and ``exponent`` 1) from :mod:`theory.results.prop5`."""
    from ...theory.results.prop5 import predict as _p
    return {**_p(l, gamma), "exponent": 1.0}


def sample_stats(m, *, batch, rng=None, backend="numpy") -> np.ndarray:
    """(batch, 4): srank, srank/n, m_2/m_1^2, lambda_max/m_1 of Sigma_L^perp.

    >>> s = sample_stats(model(16, 1, 1), batch=2, rng=0)
    >>> s.shape, bool(np.allclose(s[:, 1], s[:, 2] / s[:, 3] ** 2))
    ((2, 4), True)
    """
    from ..backend import to_numpy
    from ..forward import sample
    from ..measures import frobenius_sq, gram, spectral_norm

    X = sample(m, batch=batch, rng=rng, backend=backend).X[m.depth]
    X = X / np.sqrt(float(to_numpy(frobenius_sq(X)).max()))     # overall scale: no overflow
    G = gram(X)
    tr = np.asarray(to_numpy(frobenius_sq(X)), float)           # tr G
    fro2 = np.asarray(to_numpy(frobenius_sq(G)), float)         # ||G||_F^2
    top = np.asarray(to_numpy(spectral_norm(G, hermitian=True)), float)
    m1 = tr / m.n
    sr = fro2 / top**2
    return np.column_stack([sr, sr / m.n, fro2 / m.n / m1**2, top / m1])


def measure(l, gamma, ns, *, ensemble="exponential", sigma_v2=1.0, batch, rng=None, backend="numpy"):
    """Sampled statistics along ``ns``: (params, ns, list of (batch_i, 4) arrays);
    ``batch`` is one number of networks or one per n."""
    gen = as_generator(rng)
    batches = [batch] * len(ns) if np.ndim(batch) == 0 else list(batch)
    if len(batches) != len(ns):
        raise ValueError(f"batch must be one integer or one per n ({len(ns)}), got {len(batches)}")
    batches = [integer("batch", b, minimum=2) for b in batches]
    data = [sample_stats(model(n, l, gamma, ensemble, sigma_v2), batch=b, rng=gen, backend=backend)
            for n, b in zip(ns, batches)]
    params = {"l": l, "gamma": float(gamma), "ensemble": ensemble, "sigma_V2": float(sigma_v2),
              "networks_per_n": batches[0] if len(set(batches)) == 1 else batches}
    return params, list(ns), data


def edge_extrapolate(ns, samples):
    """:func:`~numerics.checks.lemma4.extrapolate` in n^(-2/3) with the bias
    budget of the next order, n^-1: ``b^2/|a| |C0 . n^-1|`` (C0 the intercept
    row of the least-squares fit).

    >>> e = edge_extrapolate([64, 512], [[1.1875, 1.1875], [1.046875, 1.046875]])
    >>> round(e.estimate, 6), round(e.slope, 6), round(e.bias_budget, 5)
    (1.0, 3.0, 0.02344)
    """
    ext = extrapolate(ns, samples, order=EDGE_ORDER)
    x = np.asarray(ns, float) ** (-EDGE_ORDER)
    c0 = np.linalg.pinv(np.column_stack([np.ones_like(x), x]))[0]
    next_term = float(abs(c0 @ np.asarray(ns, float) ** (-EDGE_NEXT_ORDER)))
    return replace(ext, bias_budget=ext.slope**2 / max(abs(ext.estimate), 1e-300) * next_term)


def _edge_limit_outcome(name, params, ext, predicted, z):
    out = limit_outcome(name, params, ext, predicted, z)
    return replace(out, tolerance=out.tolerance.replace(
        "next-order bias budget b^2/|a| x_min x_max",
        "next-order (n^-1) bias budget b^2/|a| |C0 . n^-1|"))


def evaluate(measured, predict=predict, z=None) -> list[CheckOutcome]:
    params, ns, data = measured
    pred = predict(params["l"], params["gamma"])
    out = []
    ext_m2 = extrapolate(ns, [d[:, 2] for d in data], order=1.0)
    out.append(limit_outcome("normalised second moment m_2/m_1^2 of Sigma^perp", params, ext_m2,
                             pred["m2"], z))
    ext_edge = edge_extrapolate(ns, [d[:, 3] for d in data])
    out.append(_edge_limit_outcome("top eigenvalue lambda_max/m_1 (right edge)", params, ext_edge,
                                   pred["edge"], z))
    # one-sided checks at the largest n: Student-t quantile with (networks - 1) df
    z1 = z if z is not None else float(_st.t.isf(FALSE_ALARM, max(len(data[-1]) - 1, 1)))
    top_edge, se_edge = ext_edge.means[-1], ext_edge.ses[-1]
    out.append(CheckOutcome("no outlier: lambda_max/m_1 at largest n <= predicted edge",
                            {**params, "n": ns[-1]}, top_edge, pred["edge"],
                            bool(top_edge <= pred["edge"] + z1 * se_edge),
                            f"{z1:.2f} SE (one-sided t)", f"SE {se_edge:.3g}"))
    ext = edge_extrapolate(ns, [d[:, 1] for d in data])
    out.append(_edge_limit_outcome("srank(Sigma_l^perp)/n", params, ext, pred["limit"], z))
    # srank/n decreases to its limit (lambda_max rises to the edge from below, m_2 falls):
    # the limit cannot exceed the value at the largest n by more than z SE
    top, se_top = ext.means[-1], ext.ses[-1]
    out.append(CheckOutcome("srank/n approaches its limit from above: limit <= srank/n at largest n",
                            {**params, "n": ns[-1]}, top, pred["limit"],
                            bool(pred["limit"] <= top + z1 * se_top),
                            f"{z1:.2f} SE (one-sided t)", f"SE {se_top:.3g}"))
    if len(ns) < 3:
        return out   # a rate needs at least three sizes
    beta = ext.slope / ext.estimate if ext.estimate > 0 else 0.0
    ns_arr = np.asarray(ns, float)
    bias = float(np.polyfit(np.log(ns_arr), np.log1p(beta * ns_arr ** (-EDGE_ORDER)), 1)[0])
    out.append(rate_outcome("rate: exponent of srank(Sigma_l^perp) in n", params, ns,
                            [d[:, 0] for d in data], pred["exponent"], bias=bias))
    return out


def check(l, gamma, ns, *, ensemble="exponential", sigma_v2=1.0, batch, rng=None, predict=predict, z=None):
    return evaluate(measure(l, gamma, ns, ensemble=ensemble, sigma_v2=sigma_v2, batch=batch, rng=rng),
                    predict, z)


#: (l, gamma, ensemble, sigma_V^2)
_CASES = ((1, 1, "exponential", 1.0), (2, 0.5, "exponential", 1.0), (1, 0.5, "uniform", 1.44),
          (3, 1, "lognormal", 1.0))

#: l = 1, gamma = 1 (quick and default; thorough doubles the networks): up to n = 1024
#: (one network ~6 Gflop, ~0.45 s of one core); the 20 networks there resolve the limit
#: alone (see the module docstring)
_EDGE_GRID = ((64, 128, 256, 512, 1024), (12, 12, 12, 12, 20))


def _grid(config: VerifyConfig, case: int):
    if case == 0:
        return _EDGE_GRID[0], config.pick(_EDGE_GRID[1], _EDGE_GRID[1], tuple(2 * b for b in _EDGE_GRID[1]))
    # 24 networks per n: with 8 the CI of the l = 2 rate was wider than its 0.25 cap for
    # 3 of 40 seeds (at most 0.18 in 100 seeds with 24)
    ns = config.pick((64, 128, 256), (64, 128, 256), (128, 256, 512))
    return ns, (24,) * len(ns)


@lru_cache(maxsize=8)
def _measure_case(case: int, ns: tuple, batches: tuple, seed: int, backend: str):
    l, g, e, v = _CASES[case]
    gen = np.random.default_rng([seed, 5005, case])
    return measure(l, g, list(ns), ensemble=e, sigma_v2=v, batch=list(batches), rng=gen, backend=backend)


def _measure_all(config: VerifyConfig):
    """Samples of this level's cases; a case is drawn once per (grid, seed, backend), so the
    quick level (the edge case alone) reuses the default level's samples."""
    cases = range(config.pick(1, 2, len(_CASES)))
    return [_measure_case(c, *_grid(config, c), config.seed, config.backend) for c in cases]


def run(config: VerifyConfig | None = None, predict=None) -> list[CheckOutcome]:
    """All cases of this level (samples drawn once per config and cached)."""
    config = config or VerifyConfig()
    predict = predict or globals()["predict"]
    return [o for m in _measure_all(config) for o in evaluate(m, predict)]


_perturb = partial(perturbed, predict)


def _at(l, gamma):
    return predict(l, gamma)


#: perturbed predictions that :func:`run` must reject (srank/n is free of
#: sigma_A, sigma_V, so "2 sigma -> sigma" has no counterpart here)
NEGATIVE_CONTROLS = {
    "exponent+0.25": _perturb(lambda l, g, p: {**p, "exponent": 1.25}),
    "exponent-0.25": _perturb(lambda l, g, p: {**p, "exponent": 0.75}),
    "limit x1.1 (edge and m_2 unchanged)": _perturb(lambda l, g, p: {**p, "limit": 1.1 * p["limit"]}),
    "m_2 x1.1 (and limit)": _perturb(lambda l, g, p: {**p, "m2": 1.1 * p["m2"], "limit": 1.1 * p["limit"]}),
    "edge x0.9 (limit / 0.81)": _perturb(lambda l, g, p: {**p, "edge": 0.9 * p["edge"],
                                                          "limit": p["limit"] / 0.81}),
    "l->l+1": _perturb(lambda l, g, p: {**_at(l + 1, g), "exponent": 1.0}),
    "m_2: 1+gamma->1+2gamma": _perturb(lambda l, g, p: {**p, "m2": 1 + l * (1 + 2 * g),
                                                        "limit": p["limit"] * (1 + l * (1 + 2 * g))
                                                        / (1 + l * (1 + g))}),
}
