"""Empirical check of Lemma 2 (products of Random Markov matrices), on the toolkit.

For each case (a model: ensemble, sigma_A^2 and depth l, the number of
factors of ``P = A_l ... A_1``; sampled over a grid of n) the prediction
(:class:`theory.results.lemma2.ProductGap`) is compared with

* ``n (s_1(P) - 1)`` at the largest n against ``s1_excess`` (judges
  ``s1_excess``) and ``sqrt(n) ||P - 11^T/n||_2`` against ``perp_norm``
  (judges ``perp_norm``): the policy's quantile of SE plus a relative budget
  ``REL_COEF/sqrt(n)`` (column-sum corrections);
* ``n^(l/2) s_2(P)`` against ``edge`` (the Fuss-Catalan edge; judges
  ``edge``): SE plus the edge budget ``toolkit.edge_budget(n, EDGE_COEF, l)``
  below (approached from below);
* the exponent of ``s_2(P)`` in n (judges ``exponent``): log-log fit whose
  99% bootstrap CI must contain ``exponent`` up to the slope the edge budget
  can induce (below), width < ``toolkit.MAX_CI_WIDTH``.

The cases: :func:`theory.results.lemma2.example` (uniform entries, sigma_A^2
= 1/3, l = 2) at every level; the paper's exponential ensemble (l = 2) at the
default and thorough levels.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['uniform, sigma_A^2=1/3, l=2']
"""
from __future__ import annotations

import functools
import math

import numpy as np

from . import toolkit as T
from ..stats import loglog_fit, mean_se

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "sizes", "product_spectrum", "DEFAULT"]

DEFAULT = dict(ensemble="exponential", sigma_a2=None, depth=2)
#: relative edge budget per factor: the product's edge converges from below at the
#: Tracy-Widom scale with a deficit about 0.55 l n^(-2/3) (tests/README.md, lemma2)
EDGE_COEF = 1.0
#: relative budget REL_COEF / sqrt(n) of n(s_1 - 1) and sqrt(n)||P - J/n|| (tests/README.md, lemma2)
REL_COEF = 2.0


def sizes(config):
    # n >= 64 even at the quick level: at n = 32 the edge of a depth-2 product is
    # not yet in its n^(-2/3) regime (fitted exponent -0.87 against -1 with a
    # budget of 0.086, seed 52605 found by random-seed runs of the suite)
    return config.pick((64, 128, 256), (64, 128, 256), (128, 256, 512, 1024)), config.pick(6, 10, 24)


@functools.lru_cache(maxsize=32)
def product_spectrum(model, batch, seed, backend="numpy"):
    """Singular values (batch, n) of ``P = A_l ... A_1`` (l = ``model.depth``
    independent Random Markov matrices of ``model``) and ``||P - 11^T/n||_2``;
    read-only, cached so that the truth and the controls read the same draws."""
    from ..backend import to_numpy
    from ..rng import spawn
    from ..sampling import random_markov
    n = int(model.n)
    P = None
    for g in spawn(seed, model.depth):
        A = to_numpy(random_markov(n, batch=batch, ensemble=model.ensemble, rng=g, sigma_a2=model.sigma_a2,
                                   backend=backend))
        P = A if P is None else A @ P
    s = np.linalg.svd(P, compute_uv=False)
    perp = np.linalg.norm(P - 1.0 / n, ord=2, axis=(-2, -1))
    s.setflags(write=False)
    perp.setflags(write=False)
    return s, perp


def _label(model) -> str:
    return f"{model.ensemble}, sigma_A^2={model.value('sigma_A2')}, l={model.depth}"


class ProductCheck(T.Check):
    result_id = "lemma2"

    def cases(self, config, params=None):
        ns, batch = sizes(config)
        models = self.example_and_paper(config, ns[-1], DEFAULT, params)
        return [T.Case(m, ns, batch, _label(m)) for m in models]

    def measure(self, config, case):
        ns, depth = case.ns, case.model.depth
        data = [product_spectrum(case.model.replace(n=n), case.batch,
                                 T.seed(config, self.result_id, "product", n, case.label), config.backend)
                for n in ns]
        n = ns[-1]
        s, perp = data[-1]
        return {"s1_excess": mean_se(n * (s[:, 0] - 1)), "perp_norm": mean_se(math.sqrt(n) * perp),
                "edge": mean_se(n ** (depth / 2) * s[:, 1]),
                "fit": loglog_fit(ns, [d[0][:, 1] for d in data],
                                  rng=T.generator(config, self.result_id, "boot", case.label), n_boot=1000)}

    def compare(self, config, case, m, pred):
        ns, depth = case.ns, case.model.depth
        n = ns[-1]
        p = pred.numeric()
        par = {"case": case.label, "n": n, "batch": case.batch}
        out = []
        for key, name in (("s1_excess", "n (s_1 - 1) -> sigma^2/2"),
                          ("perp_norm", "sqrt(n) ||P - 11^T/n|| -> 2 sigma (l = 1) or sigma (l >= 2)")):
            mean, se = m[key]
            budget = REL_COEF / math.sqrt(n) * abs(p[key])
            out.append(T.band(name, par, measured=mean, predicted=p[key], se=se, judges=(key,),
                              below=budget, above=budget))
        mean, se = m["edge"]
        out.append(T.band("n^(l/2) s_2 -> sigma^l sqrt((l+1)^(l+1)/l^l) (Fuss-Catalan edge)", par, measured=mean,
                          predicted=p["edge"], se=se, judges=("edge",),
                          below=T.edge_budget(n, EDGE_COEF, depth) * p["edge"]))
        b = T.slope_budget(ns, EDGE_COEF * depth)
        out.append(T.rate("s_2(P) ~ n^(-l/2): fitted exponent", par, m["fit"], predicted=p["exponent"],
                          judges=("exponent",), below=b, max_width=T.MAX_CI_WIDTH))
        return out


def _all_constants(factor):
    def perturb(model, predict):
        p = predict(model)
        return p.replace(s1_excess=p.s1_excess * factor, perp_norm=p.perp_norm * factor, edge=p.edge * factor)
    return perturb


CHECK = ProductCheck()
CHECK.controls = (
    T.shift("exponent", +0.25),
    T.shift("exponent", -0.25),
    T.Control("mean x1.1", _all_constants(1.1), ("s1_excess", "perp_norm", "edge")),
    T.scale("edge", 1.1),
    T.remodel("l -> l+1", ("exponent", "edge"), lambda m: {"depth": m.depth + 1}),
    T.substitute("2 sigma -> sigma", ("s1_excess", "perp_norm", "edge"), sigma_A2=lambda s: s / 4),
    T.substitute("sigma_A -> sigma_A^2", ("s1_excess", "perp_norm", "edge"), sigma_A2=lambda s: s ** 2),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
