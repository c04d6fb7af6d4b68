"""Definition 1.1: Random Markov matrix.

``A = D^{-1} M`` with ``M`` an ``n x n`` matrix of i.i.d. non-negative entries
(mean ``m > 0``, variance ``sigma^2``, finite fourth moment) and ``D`` the
diagonal of row sums.  ``A`` is row-stochastic and unchanged when ``M`` is
scaled, so only ``sigma_A^2 = sigma^2 / m^2`` matters; the relative variance
of each ensemble is derived in :mod:`theory.ensembles` (``sympy.stats``).

Beyond the definition, the entries of ``n A`` have mean 1 exactly (rows sum
to 1 and are exchangeable) and variance ``sigma_A^2 + b_1 / n + O(n^-2)``
with the delta-method coefficient (mean-1 entries, raw moments m_2, m_3)
``b_1 = 3 m_2 sigma_A^2 - 2 (m_3 - m_2)``, derived here by expanding
``M / (1 + eps)`` to second order in the fluctuation ``eps`` of the row mean.

>>> from gapcheck.theory.registry import get
>>> from gapcheck.theory.model import AttentionModel
>>> get("def1.1").predict(AttentionModel(n=64, ensemble="uniform"))
RandomMarkov(row_sum=1, mean=1, variance=1/3, b1=0)
>>> get("def1.1").predict(AttentionModel(n=64, ensemble="exponential")).b1
-2

The prediction for a model (:class:`RandomMarkov`) reads the model's
ensemble and relative variance sigma_A^2 (``sigma_a2``); the symbolic model
(lognormal family, sigma_A^2 a symbol) gives ``b_1`` as a function of
sigma_A^2:

>>> p = get("def1.1").predict(AttentionModel.symbolic())
>>> p.variance, sympy.factor(p.b1)
(sigma_A2, -sigma_A2*(sigma_A2 + 1)*(2*sigma_A2 + 1))
>>> get("def1.1").predict(get("def1.1").example())
RandomMarkov(row_sum=1, mean=1, variance=1/2, b1=-3/2)
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import sympy

from ..model import SYMBOLS, AttentionModel
from ..prediction import Prediction
from ..registry import CheckOutcome, Result, register

#: closed forms the derivation is compared with (sigma_A^2, E M^4) per ensemble
_S2 = sympy.Symbol("s2", positive=True)
CLOSED_FORMS = {
    "lognormal": (sympy.exp(_S2) - 1, sympy.exp(6 * _S2)),
    "exponential": (sympy.Integer(1), sympy.Integer(24)),
    "uniform": (sympy.Rational(1, 3), sympy.Rational(16, 5)),
}


def ensemble_law(name: str, symbolic: bool = True):
    """The :class:`theory.ensembles.Ensemble` ``name``; the lognormal family
    keeps its parameter ``s2`` symbolic when ``symbolic``."""
    from ..ensembles import get_ensemble
    ens = get_ensemble(name)
    if symbolic and ens.parameter is not None:
        ens = replace(ens, parameter_value=None)
    return ens


def finite_n_coefficient(ens):
    """``b_1`` with ``Var(n A_ij) = sigma_A^2 + b_1/n + O(n^-2)`` (delta method).

    Writes ``n A_ij = M_ij / (1 + eps)`` (mean-1 entries, ``eps`` the row-mean
    fluctuation, ``E eps = 0``, ``E eps^2 = sigma^2/n``, ``E M eps ~ sigma^2/n``),
    expands ``(1 + eps)^-2`` to second order and keeps the ``1/n`` terms.
    """
    n, eps, M = sympy.symbols("n epsilon M")
    m1 = ens.mean
    m2 = sympy.simplify(ens.moment(2) / m1 ** 2)
    m3 = sympy.simplify(ens.moment(3) / m1 ** 3)
    s2 = sympy.simplify(m2 - 1)
    expansion = sympy.series((M / (1 + eps)) ** 2, eps, 0, 3).removeO().expand()
    # E[M^2 eps] = E[M^2 (M - 1)]/n, E[M^2 eps^2] = m2 s2 / n + O(n^-2)
    second = (expansion.coeff(eps, 0).subs(M ** 2, m2)
              + expansion.coeff(eps, 1).subs(M ** 2, 1) * (m3 - m2) / n
              + expansion.coeff(eps, 2).subs(M ** 2, 1) * m2 * s2 / n)
    var = sympy.expand(second - 1)
    return sympy.simplify(var.coeff(n, -1))


@dataclass(frozen=True)
class RandomMarkov(Prediction):
    """For ``A = D^-1 M`` of the model's ensemble: ``A 1 = row_sum 1``, the
    entries of ``n A`` have mean ``mean`` and variance ``variance + b1/n +
    O(n^-2)`` (``variance`` = sigma_A^2, ``b1`` the delta-method coefficient)."""

    row_sum: object
    mean: object
    variance: object
    b1: object


def applies(model) -> str | None:
    """Random Markov attention whose entry law is known (a named ensemble, or
    the lognormal family at the model's sigma_A^2)."""
    if model.attention != "markov":
        return f"the definition is about Random Markov matrices (got {model.attention!r} attention)"
    if model.ensemble_law is None:
        return ("the entry law must be a named ensemble (a custom sampler has no known "
                "moments m_2, m_3 for b_1)")
    return None


def predict(model) -> RandomMarkov:
    """The moments of the entries of ``n A`` for the model's ensemble (symbolic
    sigma_A^2 for the symbolic model): rows sum to 1 and are exchangeable, so
    the mean is exactly 1; the variance and ``b_1`` from the ensemble's moments."""
    law = model.ensemble_law
    return RandomMarkov(row_sum=sympy.Integer(1), mean=sympy.Integer(1),
                        variance=sympy.simplify(law.sigma_A2),
                        b1=sympy.factor(finite_n_coefficient(law)))


def example() -> AttentionModel:
    """The lognormal family at sigma_A^2 = 1/2 (not the paper's 1): a power of
    sigma_A^2 in ``b_1`` shows (b_1 = -3/2 here, -6 at sigma_A^2 = 1). The
    definition has no depth, gamma or sigma_V."""
    return AttentionModel(n=128, ensemble="lognormal", sigma_a2=sympy.Rational(1, 2))


def symbolic_checks() -> list[CheckOutcome]:
    from ..ensembles import ENSEMBLES
    outs = []
    for name in ENSEMBLES:
        ens = ensemble_law(name)
        s2_closed, m4_closed = CLOSED_FORMS[name]
        ok = sympy.simplify(ens.sigma_A2 - s2_closed) == 0
        outs.append(CheckOutcome("relative variance derived = closed form", {"ensemble": name},
                                 ens.sigma_A2, s2_closed, bool(ok), "exact"))
        m4 = sympy.simplify(ens.fourth_moment / ens.mean ** 4)
        ok4 = sympy.simplify(m4 - m4_closed) == 0 and (m4.is_finite is not False)
        outs.append(CheckOutcome("finite fourth moment E M^4 / m^4", {"ensemble": name},
                                 m4, m4_closed, bool(ok4), "exact"))
    # scale invariance: D^{-1} (c M) = D^{-1} M for a symbolic 3 x 3 matrix
    c = sympy.Symbol("c", positive=True)
    Ms = sympy.Matrix(3, 3, sympy.symbols("m0:9", positive=True))

    def markov(M):
        return sympy.diag(*[1 / sum(M.row(i)) for i in range(3)]) * M

    diff = sympy.simplify(markov(c * Ms) - markov(Ms))
    rows = sympy.simplify(markov(Ms) * sympy.ones(3, 1) - sympy.ones(3, 1))
    outs.append(CheckOutcome("A = D^-1 M is invariant under M -> cM and row-stochastic",
                             {"size": 3}, "D^-1(cM) - D^-1 M, A 1 - 1", 0,
                             diff.is_zero_matrix and rows.is_zero_matrix, "exact"))
    # the prediction of the symbolic model (lognormal family, m_2 = 1 + s, m_3 = (1 + s)^3):
    # b_1 = 3 m_2 s - 2 (m_3 - m_2) = -s (1 + s)(1 + 2 s), -6 at the paper's s = 1
    sA2 = SYMBOLS["sigma_A2"]
    p = predict(AttentionModel.symbolic())
    closed = -sA2 * (1 + sA2) * (1 + 2 * sA2)
    outs.append(CheckOutcome("predict(symbolic model): variance sigma_A^2, b_1 = -s(1 + s)(1 + 2s)", {},
                             (p.variance, p.b1), (sA2, closed),
                             sympy.simplify(p.variance - sA2) == 0 and sympy.simplify(p.b1 - closed) == 0,
                             "exact"))
    return outs


RESULT = register(Result(
    id="def1.1",
    title="Random Markov matrix",
    kind="definition",
    source="Mind the Gap (arXiv 2410.07799 v1), Definition 1.1, after Bordenave-Caputo-Chafai 2011",
    statement=("A = D^{-1} M with M_ij i.i.d. non-negative (mean m > 0, variance sigma^2, "
               "finite fourth moment) is row-stochastic; only sigma_A^2 = sigma^2/m^2 matters "
               "(lognormal exp(N(-s2/2, s2)): e^{s2} - 1; Exp(1): 1; Uniform[0, 2]: 1/3)."),
    assumptions=("M_ij >= 0 i.i.d., E M_ij = m > 0, Var M_ij = sigma^2, E M_ij^4 < infinity",
                 "n >= 2"),
    statement_latex=(r"A = D^{-1} M,\ D = \operatorname{diag}(M \mathbf{1}),\quad A\mathbf{1} = "
                     r"\mathbf{1},\quad \sigma_A^2 = \operatorname{Var}(M_{ij}) / "
                     r"(\mathbb{E} M_{ij})^2"),
    symbolic_checks=symbolic_checks,
    empirical_check="gapcheck.numerics.checks.def1_1",
    predict=predict,
    applies=applies,
    example=example,
    findings=(
        "The entries of n A have mean exactly 1 and variance sigma_A^2 + b_1/n + O(n^-2) with "
        "b_1 = 3 m_2 sigma_A^2 - 2 (m_3 - m_2) (delta method, derived here): -2 for Exp(1), "
        "-6 for the paper's lognormal, 0 for Uniform[0, 2]; simulation agrees.",
    ),
))
