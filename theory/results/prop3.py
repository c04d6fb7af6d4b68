"""Proposition 3: rank collapse in width.

With Random Markov attention (gap present) the stable rank of
``Sigma_l = X_l X_l^T`` tends to 1, at the rate (docs/derivations.md, section prop3)

    srank(Sigma_l) - 1 ~ m_2(mu_l) sigma_A^(4l) n^(1 - 2l),

because the top eigenvalue is ``~ (sigma_V^2 d)^l`` (Theorem 9) while the
``n`` bulk eigenvalues are ``(sigma_A^2 sigma_V^2 d/n)^l`` times a draw from
the mean-1 law ``mu_l = MP(1)^(boxtimes l) boxtimes MP(gamma)^(boxtimes l)``
(Prop 7's bulk).  Its second moment ``m_2 = 1 + l (1 + gamma)`` is *derived*
from the S-transform ``S(z) = (1 + z)^-l (1 + gamma z)^-l`` by
:func:`theory.freeprob.moments_from_s_transform` for symbolic ``l`` and
``gamma``, and compared with :func:`theory.laws.free_product` of the
Marchenko-Pastur laws for each numeric depth.

>>> import sympy
>>> from gapcheck.theory.registry import get
>>> from gapcheck.theory.model import AttentionModel
>>> p = get("prop3").predict(AttentionModel.symbolic())
>>> p.exponent, p.bulk_m2, sympy.factor(p.jensen)
(1 - 2*l, gamma*l + l + 1, n**(2*l)/(8*gamma**2 - 6*gamma*n + n**2)**l)
>>> get("prop3").predict(get("prop3").example())
RankCollapse(exponent=-3, constant=4/81, bulk_m2=4, jensen=67108864/64016001)
"""
from __future__ import annotations

import sympy

from dataclasses import dataclass

from .. import _validate
from ..freeprob import moments_from_s_transform
from ..model import SYMBOLS, AttentionModel
from ..prediction import PowerLaw, Prediction
from ..registry import CheckOutcome, Result, register

n, l, gamma = SYMBOLS["n"], SYMBOLS["l"], SYMBOLS["gamma"]
_z = sympy.Symbol("z")


def bulk_law(l_, gamma_):
    """``MP(1)^(boxtimes l) boxtimes MP(gamma)^(boxtimes l)`` for a numeric depth."""
    from ..laws import MarchenkoPastur, free_product
    return free_product(*([MarchenkoPastur(1)] * l_ + [MarchenkoPastur(gamma_)] * l_))


def bulk_moments(l_=l, gamma_=gamma, K=2):
    """Moments m_1..m_K of the mean-1 bulk law, from the product of S-transforms."""
    S = (1 + _z) ** (-l_) * (1 + gamma_ * _z) ** (-l_)
    coeffs = [sympy.expand(c) for c in sympy.Poly(
        sympy.series(S, _z, 0, K).removeO(), _z).all_coeffs()[::-1]]
    coeffs += [sympy.Integer(0)] * (K - len(coeffs))
    return [sympy.factor(m) if not m.is_number else m for m in moments_from_s_transform(coeffs, K)]


@dataclass(frozen=True)
class RankCollapse(Prediction):
    """``srank(X_l X_l^T) - 1 ~ constant * n^exponent``; ``bulk_m2`` is the second
    moment of the mean-1 bulk law mu_l, so ``constant = bulk_m2 sigma_A^(4l)``."""

    exponent: object
    constant: object
    bulk_m2: object
    #: E[(lambda_1 / (sigma_V^2 d)^l)^-2] = E[(chi^2_d/d)^-2]^l: the finite-d Jensen
    #: factor of srank - 1 = bulk / lambda_1^2 (Lemma 1's law of lambda_1)
    jensen: object

    def scaling_laws(self):
        return (PowerLaw("srank-excess", self.exponent, self.constant),)


def applies(model) -> str | None:
    """Random Markov attention with the gap present, no LayerNorm or skip."""
    if model.attention != "markov":
        return f"the statement is about Random Markov attention (got {model.attention!r})"
    if model.remove_gap:
        return "the statement needs the gap (remove_gap = 0): without it Prop 5 applies"
    if model.layernorm or model.skip is not None:
        return "the statement is about the plain stack X_l = A_l X_(l-1) W_l (no LayerNorm, no skip)"
    return None


def predict(model) -> RankCollapse:
    """The rate of rank collapse for ``model`` (symbolic or numeric)."""
    depth, g, sA2 = model.value("l"), model.value("gamma"), model.value("sigma_A2")
    m2 = sympy.expand(bulk_moments(depth, g)[1])
    half_d = _validate.to_sympy(model.d) / 2
    inverse_second_moment = sympy.simplify(sympy.rf(half_d, -2) * half_d ** 2)   # E[(chi^2_d/d)^-2]
    return RankCollapse(exponent=1 - 2 * depth, constant=m2 * sA2 ** (2 * depth), bulk_m2=m2,
                        jensen=inverse_second_moment ** depth)


def example() -> AttentionModel:
    """A point where the scales and ratios differ from 1 and each other:
    sigma_A^2 = 1/3 (lognormal), sigma_V^2 = 3/2, gamma = 1/2, l = 2."""
    return AttentionModel(n=128, depth=2, gamma=sympy.Rational(1, 2), ensemble="lognormal",
                          sigma_a2=sympy.Rational(1, 3), sigma_v2=sympy.Rational(3, 2))


def symbolic_checks() -> list[CheckOutcome]:
    outs = []
    m1, m2 = bulk_moments(l, gamma)
    closed = 1 + l * (1 + gamma)
    outs.append(CheckOutcome("m_2 of the bulk law (S-transform, symbolic l) = 1 + l(1 + gamma)", {},
                             m2, closed, sympy.expand(m2 - closed) == 0, "exact"))
    outs.append(CheckOutcome("bulk law has mean 1", {}, m1, 1, m1 == 1, "exact"))
    d = sympy.Symbol("d", positive=True)
    jensen = predict(AttentionModel.symbolic()).jensen.subs(n, d * gamma)
    closed_j = (d ** 2 / ((d - 2) * (d - 4))) ** l
    outs.append(CheckOutcome("Jensen factor E[(chi^2_d/d)^-2]^l (rising factorial) = (d^2/((d-2)(d-4)))^l",
                             {}, jensen, closed_j, sympy.simplify(sympy.powsimp(jensen / closed_j, force=True)) == 1,
                             "exact"))
    for depth in (1, 2, 3):
        for g in (sympy.Integer(1), sympy.Rational(1, 2)):
            law = bulk_law(depth, g)
            m = law.moments(2)
            want = closed.subs({l: depth, gamma: g})
            outs.append(CheckOutcome("free_product of MP laws: m_2 = 1 + l(1 + gamma)",
                                     {"l": depth, "gamma": g}, m[1], want,
                                     m[0] == 1 and sympy.simplify(m[1] - want) == 0, "exact"))
    return outs


RESULT = register(Result(
    id="prop3",
    title="Rank collapse in width",
    kind="proposition",
    source="Mind the Gap (arXiv 2410.07799 v1), Proposition 3 (rate constant derived here)",
    statement=("With Random Markov attention (gap present) srank(X_l X_l^T) -> 1 as n grows, at "
               "the polynomial rate srank - 1 ~ (1 + l(1 + gamma)) sigma_A^(4l) n^(1 - 2l)."),
    assumptions=("A_l independent Random Markov (Definition 1.1), relative variance sigma_A^2",
                 "W_l i.i.d. N(0, sigma_V^2), X0 isometric", "gamma = n/d in (0, 1] fixed, depth l >= 1",
                 "n -> infinity"),
    statement_latex=(r"\operatorname{srank}(\Sigma_l) - 1 \sim \big(1 + l(1+\gamma)\big)\,"
                     r"\sigma_A^{4l}\, n^{1-2l},\quad \Sigma_l = X_l X_l^\top"),
    symbolic_checks=symbolic_checks,
    empirical_check="gapcheck.numerics.checks.prop3",
    predict=predict,
    applies=applies,
    example=example,
    findings=(
        "The rate exponent 1 - 2l and the constant (1 + l(1 + gamma)) sigma_A^(4l) are confirmed; the "
        "constant is checked through the normalised bulk sum n^(2l-1) sum_{i>=2} lambda_i^2 / "
        "(sigma_A^(4l) (sigma_V^2 d)^(2l)) -> 1 + l(1 + gamma), whose fluctuations are small, "
        "while srank - 1 itself carries the O(sqrt(l/d)) fluctuation of lambda_1 (Lemma 1) and its "
        "Jensen factor E[(chi^2_d/d)^-2]^l = (d^2/((d-2)(d-4)))^l (7% at l = 3, d = 256), which the "
        "rate fit divides out.",
        "Finite-n bias is real and grows with l: the bulk sum is 2-5% below its limit at n = 256 "
        "(l = 1, 2) and 6% at l = 3; the fitted bulk exponent at l = 3 over n = 64..256 is about "
        "-4.87 against -5 (pinned by a test), converging as n grows.",
    ),
))
