"""Proposition 5: without the gap the rank does not collapse in width.

Sharper than the paper's ``liminf srank(Sigma_l^perp)/n >= C > 0``: if
``mu_l`` is the limiting eigenvalue law of ``Sigma_l^perp`` (Prop 7:
``MP(1)^{boxtimes l} boxtimes MP(gamma)^{boxtimes l}`` up to scale), then

    srank(Sigma_l^perp) / n -> m_2(mu_l) / x_max(mu_l)^2   (mean-1 normalisation),

second moment over squared right edge; scale-free, so sigma_A and sigma_V
drop out.  ``m_2 = 1 + l (1 + gamma)`` comes from the law's moments, the edge
from :meth:`free_product(...).support` and, independently, in closed form:
for ``(1 + psi)^{l+1} (1 + gamma psi)^l = x psi`` (psi the moment series at
1/x) the edge is the minimum over psi > 0 of ``x(psi)``, where
``2 l gamma psi^2 + (l + (l - 1) gamma) psi - 1 = 0``
(:func:`edge_closed_form`, symbolic l and gamma).  At gamma = 1, mu_l = FC(2l):
limits 0.0658, 0.03355, 0.02247 for l = 1, 2, 3.

For symbolic l and gamma (:func:`general`, what :func:`predict` specialises)
``m_2 = 1 + `` the relative variance of mu_l from its S-transform (Prop 7's
:func:`~theory.results.prop7.general`) and the edge is
:func:`edge_closed_form`; the symbolic checks compare both with the
free-product derivation :func:`derive` on a grid of (l, gamma).

>>> from gapcheck.theory.model import AttentionModel
>>> round(float(predict(AttentionModel(n=64, depth=1, remove_gap=1)).limit), 4)
0.0658
>>> edge_closed_form(1, 1)
27/4
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from .._validate import to_sympy
from ..model import AttentionModel
from ..prediction import PowerLaw, Prediction
from ..registry import CheckOutcome, Result, register
from ._stack import plain_markov

__all__ = ["L", "GAMMA", "law", "edge_closed_form", "derive", "general", "RankRestored", "applies",
           "predict", "example", "RESULT"]

L = sp.Symbol("l", positive=True, integer=True)
GAMMA = sp.Symbol("gamma", positive=True)
_PSI = sp.Symbol("psi", positive=True)

#: docs/derivations.md, section prop5: values at gamma = 1 (compared with, never used to predict)
REFERENCE_GAMMA1 = {1: 0.0658, 2: 0.03355, 3: 0.02247}


def law(l, gamma=GAMMA):
    """mu_l (unit scales): Prop 7's bulk law."""
    from .prop7 import bulk_law
    return bulk_law(l, gamma, 1, 1)


@lru_cache(maxsize=None)
def _edge_general():
    x = (1 + _PSI) ** (L + 1) * (1 + GAMMA * _PSI) ** L / _PSI
    # d log x / d psi times the positive factor psi (1 + psi)(1 + gamma psi): a quadratic in psi
    quad = sp.expand(sp.cancel(sp.diff(sp.expand_log(sp.log(x), force=True), _PSI)
                               * _PSI * (1 + _PSI) * (1 + GAMMA * _PSI)))
    roots = sp.solve(sp.Eq(quad, 0), _PSI)
    root = [r for r in roots if r.subs({L: 1, GAMMA: 1}).is_positive][0]
    return quad, root, x


def edge_closed_form(l=L, gamma=GAMMA):
    """Right edge of mu_l from the stationary point of x(psi) (symbolic l, gamma)."""
    quad, root, x = _edge_general()
    sub = {L: to_sympy(l), GAMMA: to_sympy(gamma)}
    psi = sp.simplify(root.subs(sub))
    return sp.nsimplify(sp.simplify(x.subs(sub).subs(_PSI, psi)))


@lru_cache(maxsize=None)
def derive(l: int, gamma) -> dict:
    """m_2, right edge and limit for integer l, exact gamma (through the law)."""
    mu = law(l, gamma)
    m1 = mu.mean()
    m2 = sp.simplify(mu.moment(2) / m1**2)
    edge = mu.support()[1] / m1
    return {"m2": m2, "edge": edge, "limit": m2 / edge**2}


@lru_cache(maxsize=None)
def general() -> dict:
    """m_2, edge and limit for symbolic l and gamma: m_2 = 1 + the relative
    variance of mu_l (S-transform, :func:`theory.results.prop7.general`), the
    edge by :func:`edge_closed_form`."""
    from .prop7 import GAMMA as G7, L as L7, general as bulk_general

    m2 = 1 + bulk_general()["relative_variance"].subs({L7: L, G7: GAMMA})
    edge = edge_closed_form(L, GAMMA)
    return {"m2": m2, "edge": edge, "limit": m2 / edge**2}


@dataclass(frozen=True)
class RankRestored(Prediction):
    """``srank(Sigma_l^perp) ~ limit * n^exponent`` with ``limit = m2 / edge^2``:
    ``m2`` the second moment and ``edge`` the right edge of the mean-1 bulk law
    mu_l (scale-free: sigma_A and sigma_V drop out)."""

    exponent: object
    limit: object
    m2: object
    edge: object

    def scaling_laws(self):
        return (PowerLaw("stable-rank", self.exponent, self.limit),)


def applies(model) -> str | None:
    """Random Markov attention with the gap removed (A - 11^T/n), no LayerNorm or skip."""
    return plain_markov(model, remove_gap=1, otherwise="with the gap Prop 3 applies")


def predict(model) -> RankRestored:
    """The rate and limit of srank/n for ``model`` (symbolic or numeric):
    :func:`general` specialised to the model's depth and gamma."""
    sub = {L: model.value("l"), GAMMA: model.value("gamma")}
    f = {k: v.subs(sub) for k, v in general().items()}
    f = {k: v if v.free_symbols else sp.radsimp(sp.simplify(v)) for k, v in f.items()}
    return RankRestored(exponent=sp.Integer(1), limit=f["limit"], m2=f["m2"], edge=f["edge"])


def example() -> AttentionModel:
    """l = 2, gamma = 1/2 (the prediction reads only these), sampled with
    uniform attention entries (sigma_A^2 = 1/3) and sigma_V^2 = 3/2 so that
    the check also sees that the limit is free of the scales."""
    return AttentionModel(n=256, depth=2, gamma=sp.Rational(1, 2), ensemble="uniform",
                          sigma_v2=sp.Rational(3, 2), remove_gap=1)


def _symbolic_checks() -> list[CheckOutcome]:
    from ..laws import FussCatalan

    out = []
    for l in (1, 2, 3):
        fc = FussCatalan(2 * l)
        fc_limit = fc.moment(2) / fc.support()[1] ** 2
        der = derive(l, sp.Integer(1))
        ok = sp.simplify(der["limit"] - fc_limit) == 0 and abs(float(fc_limit) - REFERENCE_GAMMA1[l]) < 5e-5
        out.append(CheckOutcome(f"gamma = 1, l = {l}: limit = m_2/edge^2 of FC({2 * l})",
                                {"l": l, "gamma": 1}, measured=float(der["limit"]),
                                predicted=REFERENCE_GAMMA1[l], passed=bool(ok),
                                tolerance="exact vs FC(2l); reference value to its printed digits"))
    for l in (1, 2, 3):
        for g in (sp.Integer(1), sp.Rational(1, 2), sp.Rational(1, 4)):
            der = derive(l, g)
            closed = edge_closed_form(l, g)
            ok = abs(sp.N(der["edge"] - closed, 30)) < 1e-25
            ok = ok and sp.simplify(der["m2"] - (1 + l * (1 + g))) == 0
            out.append(CheckOutcome(f"l = {l}, gamma = {g}: free_product support edge = closed-form "
                                    f"stationary point; m_2 = 1 + l(1 + gamma)", {"l": l, "gamma": str(g)},
                                    measured=float(der["edge"]), predicted=float(closed),
                                    passed=bool(ok), tolerance="30 digits"))
    g = general()
    ok = True
    for l in (1, 2, 3):
        for gam in (sp.Integer(1), sp.Rational(1, 2), sp.Rational(2, 3)):
            der, sub = derive(l, gam), {L: l, GAMMA: gam}
            ok = ok and all(abs(sp.N(g[k].subs(sub) - der[k], 30)) < 1e-25 for k in ("m2", "edge", "limit"))
    out.append(CheckOutcome("symbolic l, gamma: general() (S-transform m_2, closed-form edge) = "
                            "free-product derivation at l = 1..3, gamma = 1, 1/2, 2/3",
                            {"l": "l", "gamma": "gamma"}, measured=str(g["m2"]), predicted="derive(l, gamma)",
                            passed=bool(ok), tolerance="30 digits"))
    quad, root, _ = _edge_general()
    ok = sp.simplify(quad.subs(GAMMA, 1) - sp.expand((2 * L * _PSI - 1) * (_PSI + 1))) == 0
    out.append(CheckOutcome("gamma = 1: stationary point psi = 1/(2l) (FC(2l) edge)", {"gamma": 1},
                            measured=str(sp.factor(quad.subs(GAMMA, 1))), predicted="(2 l psi - 1)(psi + 1)",
                            passed=bool(ok), tolerance="exact"))
    return out


RESULT = register(Result(
    id="prop5",
    title="Rank restored without the gap",
    kind="proposition",
    source="Mind the Gap (arXiv 2410.07799 v1), Proposition 5; sharper limit derived in docs/derivations.md, section prop5",
    statement=("Without the gap the stable rank of the covariance grows linearly in n: "
               "srank(Sigma_l^perp)/n -> m_2(mu_l)/x_max(mu_l)^2 > 0 (0.0658, 0.03355, 0.02247 for "
               "l = 1, 2, 3 at gamma = 1)."),
    assumptions=("A_l Random Markov, gap removed; W_l i.i.d. Gaussian; X0 isometric",
                 "n, d -> infinity with gamma = n/d in (0, 1] fixed; the limit is free of sigma_A, sigma_V"),
    statement_latex=(r"\frac{\operatorname{srank}(\Sigma_l^\perp)}{n} \to "
                     r"\frac{m_2(\mu_l)}{x_{\max}(\mu_l)^2},\quad "
                     r"\mu_l = \mathrm{MP}(1)^{\boxtimes l}\boxtimes\mathrm{MP}(\gamma)^{\boxtimes l}"),
    symbolic_checks=_symbolic_checks,
    empirical_check="gapcheck.numerics.checks.prop5",
    predict=predict,
    applies=applies,
    example=example,
    findings=("The top eigenvalue approaches the edge slowly and from below: at n = 512 (exponential "
              "ensemble, gamma = 1) lambda_max/m_1 = 6.60, 11.67, 16.70 against edges 6.75, 12.21, "
              "17.65 for l = 1, 2, 3, so srank/n sits 5-13% above its limit; the check extrapolates "
              "in n^(-2/3) (next order n^-1 in the bias budget) and treats the slope of log srank "
              "accordingly.",
              "Resolving the limit alone takes n = 1024: at l = 1, gamma = 1 (400 to 60 networks per n) "
              "srank/n is 1.228, 1.132, 1.077, 1.051, 1.025 times the limit 0.0658 at n = 64 ... 1024 "
              "(per-network SD 3.1% at n = 1024; extrapolated in n^(-2/3): 0.989 +- 0.004, or "
              "0.998 +- 0.009 with an n^-1 term; edge 6.749 +- 0.013, m_2 3.0006 +- 0.0008). With "
              "20 networks at n = 1024 the one-sided bound limit <= srank/n + 5.6 SE rejects the "
              "limit x1.1 (margin about 5 SE); with n <= 256 it could not (excess 5-13%, "
              "extrapolation SE about 5%).",
              "The authors' code doubles each block's output under the standard skip (mlp=False: a "
              "second residual around an identity MLP), and this changes two of the 25 stable-rank "
              "curves of the paper's experiments (Section 3, Figures 2 and 4: n = d = 100, depth 10), "
              "both key-query with the gap removed: A(X)-perp + skip keeps its rank in the stated "
              "model (srank 91.5 -> 83.9 over layers 2-10) but collapses in the authors' block "
              "(76.1, 38.3, 8.9, ..., 1.25: -98.5% at layer 10), so that curve's collapse comes from "
              "the doubling (logits x4 per layer, nothing to renormalise them), not from the "
              "architecture; A(X)-perp + skip + LN moves by -11% at layer 2 and +25% to +37% at "
              "layers 4-8 (logits x4). A(X) + skip + LN moves by +0.45% (significant, inside the 1% "
              "margin); every Random Markov curve is unchanged (bitwise without LayerNorm, within "
              "5e-7 with it: only LN's eps sees the factor) and every configuration without the "
              "factor is bitwise identical. float32 alone ends the A(X)-perp curve after layer 3 "
              "(underflow to zero; layer 6 in float64). numerics.conventions.convention_study, 64 "
              "paired samples per configuration, Bonferroni over 750 comparisons at the toolkit's "
              "false-alarm share; docs/derivations.md, section paper-code; pinned by "
              "tests/numerics/test_conventions.py.")))
