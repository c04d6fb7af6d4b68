"""Lemma 3: no gap after removal.

The singular values of ``sqrt(n) (A - 11^T/n)`` converge to the quarter-circle
law ``QC(sigma_A)`` (:class:`theory.laws.QuarterCircle`) and have no outlier:
``s_1 -> 2 sigma_A``, the edge of the bulk, so ``s_1/s_2 -> 1``.

>>> from gapcheck.theory.registry import get
>>> get("lemma3").formulas()["s_1(sqrt(n) A_perp) limit"]
2*sigma_A
"""
from __future__ import annotations

import sympy

from .. import _validate
from ..registry import CheckOutcome, Result, register

sigma_A = sympy.Symbol("sigma_A", positive=True)


def formulas(sigma_A=sigma_A):
    from ..laws import QuarterCircle
    _validate.positive("sigma_A", sigma_A)
    qc = QuarterCircle(_validate.to_sympy(sigma_A) ** 2)
    return {
        "s_1(sqrt(n) A_perp) limit": qc.support()[1],
        "s_1/s_2 limit": sympy.Integer(1),
        "bulk mean": qc.mean(),
        "bulk second moment": qc.moment(2),
    }


def symbolic_checks() -> list[CheckOutcome]:
    from ..laws import QuarterCircle
    outs = []
    th = sympy.Symbol("theta")
    # density sqrt(4 s^2 - x^2)/(pi s^2) on [0, 2s]; with x = 2 s sin(theta) the k-th
    # moment is (2 s)^k (4/pi) int_0^(pi/2) sin^k cos^2
    qc = QuarterCircle(sigma_A ** 2)
    for k in (0, 1, 2, 3):
        beta = sympy.integrate(sympy.sin(th) ** k * sympy.cos(th) ** 2, (th, 0, sympy.pi / 2))
        got = sympy.simplify((2 * sigma_A) ** k * 4 / sympy.pi * beta)
        want = sympy.Integer(1) if k == 0 else qc.moment(k)
        outs.append(CheckOutcome(f"QC density sqrt(4 s^2 - x^2)/(pi s^2): moment {k} = law's", {"k": k},
                                 got, want, sympy.simplify(got - want) == 0, "exact"))
    edge = formulas()["s_1(sqrt(n) A_perp) limit"]
    outs.append(CheckOutcome("largest singular value = right end of the QC support", {}, edge,
                             2 * sigma_A, sympy.simplify(edge - 2 * sigma_A) == 0, "exact"))
    return outs


RESULT = register(Result(
    id="lemma3",
    title="No gap after removal: quarter-circle bulk without outlier",
    kind="lemma",
    source="Mind the Gap (arXiv 2410.07799 v1), Lemma 3 (bulk: Bordenave-Caputo-Chafai 2011)",
    statement=("The singular values of sqrt(n)(A - 11^T/n) follow the quarter-circle law "
               "QC(sigma_A) on [0, 2 sigma_A] and the largest one converges to 2 sigma_A: "
               "removing the mean removes the gap."),
    assumptions=("A as in Definition 1.1 with relative variance sigma_A^2", "n -> infinity"),
    statement_latex=(r"\mu_{\sqrt{n}(A - \frac1n \mathbf{1}\mathbf{1}^\top)} \to \mathrm{QC}(\sigma_A),"
                     r"\ \rho(x) = \frac{\sqrt{4\sigma_A^2 - x^2}}{\pi\sigma_A^2},\quad "
                     r"s_1\big(\sqrt{n}(A - \tfrac1n\mathbf{1}\mathbf{1}^\top)\big) \to 2\sigma_A"),
    formulas=formulas,
    symbolic_checks=symbolic_checks,
    empirical_check="gapcheck.numerics.checks.lemma3",
    findings=(
        "As for Theorem 2, the heavy-tailed lognormal's top singular value exceeds 2 sigma_A by "
        "5-10% at n <= 512 (pinned by a test); the bulk (Kolmogorov-Smirnov distance to QC) "
        "converges fast for every ensemble.",
    ),
))
