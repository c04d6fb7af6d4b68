"""Empirical check of ``dong.residual-norms`` (C1), on the toolkit.

For each case (the model's number of tokens n; the width of the matrices is
the statement's "any d", drawn at random) random matrices and the two extremal
ones are measured and compared with the prediction
(:class:`theory.companions.dong.CentringBound`):

* at the example's n: ``max |AB|_c / (|A|_c |B|_c)`` over random pairs (n x 5 times 5 x 7) at most
  ``submultiplicative``, and ``max |X|_2^2 / (|X|_1 |X|_inf)`` at most
  ``spectral``, with equality on the all-ones matrix (judge those fields);
* ``max |res_mean| / |res_opt|`` over random ``n x d`` matrices at most
  ``factor`` in ``|.|_1`` (optimal centre: column medians), ``|.|_inf`` (a
  linear programme) and the composite norm (against ``sqrt(opt_1 opt_inf)``, a
  lower bound of the optimal composite residual, so stronger than the claim);
* sharpness: ``e_1`` in ``|.|_1`` and ``I_n`` in ``|.|_inf`` attain ``factor``
  (judges ``factor``; the LP is independent of the sympy derivation).

All exact inequalities: the rounding and LP-optimality tolerance ``TOL`` is
added to each bound. No statistics.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['n=3', 'n=5', 'n=8', 'n=12']
"""
from __future__ import annotations

import numpy as np

from . import toolkit as T
from ..companions.residual import composite_norm, l1_norm, linf_norm, residual_mean, residual_optimal
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "TOL", "SIZES"]

#: rounding and the LP's optimality gap
TOL = 1e-9
#: the numbers of tokens of the cases (the example's n among them)
SIZES = (3, 5, 8, 12)


def _ratios(X):
    Rm = residual_mean(X)
    _, o1 = residual_optimal(X, "1")
    _, oi = residual_optimal(X, "inf")
    return float(l1_norm(Rm) / o1), float(linf_norm(Rm) / oi), float(composite_norm(Rm) / np.sqrt(o1 * oi))


class ResidualNormsCheck(T.Check):
    result_id = "dong.residual-norms"

    def cases(self, config):
        ex = get(self.result_id).example()
        return [T.Case(ex.replace(n=n), (n,), config.pick(10, 40, 300), f"n={n}") for n in SIZES]

    def measure(self, config, case):
        n, count = case.model.n, case.batch
        gen = T.generator(config, self.result_id, case.label)
        A = gen.standard_normal((count * 5, n, 5)) * gen.exponential(1, (count * 5, n, 1))
        B = gen.standard_normal((count * 5, 5, 7))
        sub = float(np.max(composite_norm(A @ B) / (composite_norm(A) * composite_norm(B))))
        spec = float(np.max(np.linalg.norm(A, 2, axis=(-2, -1)) ** 2 / (l1_norm(A) * linf_norm(A))))
        worst = np.zeros(3)
        for _ in range(count):
            d = int(gen.integers(1, 7))
            X = gen.standard_normal((n, d)) * gen.exponential(1, (n, 1)) + gen.standard_normal(d)
            worst = np.maximum(worst, _ratios(X))
        e1 = np.zeros((n, 1))
        e1[0, 0] = 1.0
        ones = np.ones((n, 5))
        flat = float(np.linalg.norm(ones, 2) ** 2 / (l1_norm(ones) * linf_norm(ones)))
        return {"sub": sub, "spec": spec, "worst": worst, "e1": _ratios(e1)[0], "eye": _ratios(np.eye(n))[1],
                "ones": flat}

    def compare(self, config, case, m, pred):
        p = pred.numeric()
        par = {"case": case.label, "matrices": case.batch}
        out = []
        if case.model.n == get(self.result_id).example().n:     # the norm inequalities: once
            out += [T.bound("max |AB|_c / (|A|_c |B|_c) (composite norm sub-multiplicative)", par, measured=m["sub"],
                            limit=p["submultiplicative"] + TOL, judges=("submultiplicative",)),
                    T.bound("max |X|_2^2 / (|X|_1 |X|_inf)", par, measured=m["spec"], limit=p["spectral"] + TOL,
                            judges=("spectral",)),
                    T.identity("the all-ones n x 5 matrix attains |X|_2^2 = |X|_1 |X|_inf", par,
                               measured=m["ones"], predicted=p["spectral"], judges=("spectral",), rtol=0.0,
                               atol=TOL)]
        for k, norm in enumerate(("1", "inf", "composite")):
            out.append(T.bound(f"max |res_mean| / |res_opt|, random matrices, {norm}-norm", par,
                               measured=float(m["worst"][k]), limit=p["factor"] + TOL, judges=("factor",)))
        out.append(T.identity("sharp: e_1 attains the factor in |.|_1, I_n in |.|_inf", par,
                              measured=[m["e1"], m["eye"]], predicted=[p["factor"]] * 2, judges=("factor",),
                              rtol=0.0, atol=TOL))
        return out


CHECK = ResidualNormsCheck()
CHECK.controls = (
    T.Control("2(1-1/n) -> 1.5", lambda m, pred: pred(m).replace(factor=1.5), ("factor",)),
    T.Control("2(1-1/n) -> 2 (not sharp)", lambda m, pred: pred(m).replace(factor=2), ("factor",)),
    T.shift("factor", -0.05, name="2(1-1/n) -> 2(1-1/n) - 0.05"),
    T.substitute("2(1-1/n) -> 2(1-1/(2n))", ("factor",), n=lambda n: 2 * n),
    T.shift("spectral", -0.05, name="|X|_2^2 <= 0.95 |X|_1 |X|_inf"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
