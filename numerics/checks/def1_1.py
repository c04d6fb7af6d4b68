"""Empirical check of Definition 1.1 (Random Markov matrix), on the toolkit.

For each case (a model: its ensemble and relative variance sigma_A^2) Random
Markov matrices ``A = D^{-1} M`` are sampled and compared with the prediction
(:class:`theory.results.def1_1.RandomMarkov`):

* ``A 1 = row_sum`` to rounding and no negative entry (judges ``row_sum``);
* the mean of the entries of ``n A`` equals ``mean`` to rounding (the row sums
  make it exact; judges ``mean``);
* ``Var(n A_ij) = variance + b1/n`` at a large n (judges ``variance`` and
  ``b1``): the policy's Student-t quantile (df = networks - 1) of the SE of the
  per-matrix estimates, plus the ``O(n^-2)`` budget
  ``REM_COEF (|b1| + variance)^2 / n^2`` (two-sided);
* the same at the small size ``N_SMALL`` with many matrices (judges ``b1``
  and ``variance``): there ``b1/n`` is many SE wide (the ratio of ``b1/n`` to
  the SE does not depend on n, so small matrices are the cheap way to resolve
  it), which is what rejects a wrong finite-n coefficient.

The cases: :func:`theory.results.def1_1.example` (lognormal, sigma_A^2 = 1/2)
at every level; the paper's lognormal (sigma_A^2 = 1) at the default and
thorough levels.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['lognormal, sigma_A^2=1/2']
"""
from __future__ import annotations

import numpy as np

from . import toolkit as T
from ..stats import mean_se

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "sizes", "DEFAULT", "N_SMALL", "REM_COEF"]

#: the paper's ensemble (a case at the default and thorough levels)
DEFAULT = dict(ensemble="lognormal", sigma_a2=None)
#: the small size at which b_1/n is resolved
N_SMALL = 32
#: O(n^-2) budget REM_COEF (|b_1| + sigma_A^2)^2 / n^2 of Var(n A_ij) (calibrated in tests/README.md, def1.1)
REM_COEF = 3.0


def sizes(config):
    """(large n, networks there), (small n, networks there) of this level."""
    return (config.pick(128, 256, 512), config.pick(32, 32, 64)), (N_SMALL, config.pick(1000, 2000, 4000))


def _label(model) -> str:
    return f"{model.ensemble}, sigma_A^2={model.value('sigma_A2')}"


def _entries(config, model, n, batch, label):
    from ..backend import to_numpy
    from ..sampling import random_markov
    A = to_numpy(random_markov(n, batch=batch, ensemble=model.ensemble, sigma_a2=model.sigma_a2,
                               rng=T.generator(config, "def1.1", "entries", n, label), backend=config.backend))
    rows = A.sum(-1)
    nA = n * A
    return {"n": n, "batch": batch, "rowsum": float(rows.flat[np.argmax(np.abs(rows - 1))]),
            "min": float(A.min()), "mean": float(nA.mean()),
            "var": mean_se((nA ** 2).mean(axis=(1, 2)) - 1)}


class RandomMarkovCheck(T.Check):
    result_id = "def1.1"

    def cases(self, config, params=None):
        (n, batch), _ = sizes(config)
        models = self.example_and_paper(config, n, DEFAULT, params)
        return [T.Case(m, (N_SMALL, n), batch, _label(m)) for m in models]

    def measure(self, config, case):
        (n, batch), (n_small, batch_small) = sizes(config)
        return [_entries(config, case.model, n, batch, case.label),
                _entries(config, case.model, n_small, batch_small, case.label)]

    def compare(self, config, case, m, pred):
        p = pred.numeric()
        out = []
        for k, d in enumerate(m):
            n = d["n"]
            par = {"case": case.label, "n": n, "batch": d["batch"]}
            if k == 0:
                out.append(T.identity("row-stochastic: A 1 = 1 (row sum farthest from 1)", par,
                                      measured=d["rowsum"], predicted=p["row_sum"], judges=("row_sum",),
                                      rtol=0.0, atol=1e-12))
                out.append(T.bound("row-stochastic: entries >= 0", par, measured=d["min"], limit=0.0,
                                   upper=False, judges=("row_sum",)))
                out.append(T.identity("E[n A_ij] = 1 (the row sums make it exact)", par, measured=d["mean"],
                                      predicted=p["mean"], judges=("mean",), rtol=0.0, atol=1e-12))
            var, se = d["var"]
            budget = REM_COEF * (abs(p["b1"]) + p["variance"]) ** 2 / n ** 2
            name = ("Var(n A_ij) = sigma_A^2 + b_1/n" if k == 0
                    else "Var(n A_ij) = sigma_A^2 + b_1/n at small n (resolves b_1)")
            out.append(T.band(name, par, measured=var, predicted=p["variance"] + p["b1"] / n, se=se,
                              judges=("variance", "b1") if k == 0 else ("b1", "variance"),
                              below=budget, above=budget, df=d["batch"] - 1,
                              detail=f"SE {se:.3g}, b_1 {p['b1']:.3g}, O(n^-2) budget {budget:.3g}"))
        return out


CHECK = RandomMarkovCheck()
CHECK.controls = (
    T.scale("variance", 1.1, name="variance x1.1"),
    T.substitute("2 sigma -> sigma", ("variance", "b1"), sigma_A2=lambda s: s / 4),
    T.scale("mean", 1.1, name="row mean x1.1"),
    T.scale("b1", 0, name="no finite-n correction (b_1 = 0)"),
    T.scale("b1", 2, name="b_1 x2"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
