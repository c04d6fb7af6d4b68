"""Lemma 4: mean and variance of a free multiplicative convolution of
Marchenko-Pastur laws.

For ``mu = MP(lam_1, s_1) boxtimes ... boxtimes MP(lam_k, s_k)``:
mean ``prod s_i`` and variance ``(prod s_i)^2 sum lam_i``.

Two derivations, both run by the symbolic checks:

* for k = 1..6 with *symbolic* ratios and scales, through
  :func:`theory.laws.free_product` of :class:`theory.laws.MarchenkoPastur`
  laws (S-transforms multiplied, moments by Lagrange inversion);
* for *symbolic* k, from the S-transform itself: the first two moments give
  ``S(z) = 1/m_1 - (m_2 - m_1^2)/m_1^3 z + O(z^2)``
  (:func:`theory.freeprob.s_transform_from_moments` with symbolic m_1, m_2),
  so ``m_1 = 1/S(0)`` and ``Var/m_1^2 = -(log S)'(0)``; with
  ``S = prod_i 1/(s_i (1 + lam_i z))`` these are a ``Product`` and a ``Sum``
  over i = 1..k that sympy evaluates for symbolic k.

>>> derive(2)["variance"]
lambda_1*s_1**2*s_2**2 + lambda_2*s_1**2*s_2**2
>>> general()["variance"]
Product(s[i], (i, 1, k))**2*Sum(lambda[i], (i, 1, k))

The general form (any list of ratios and scales: :func:`law`, :func:`derive`,
:func:`general`, :func:`closed_form`) stays the theory's API; an
:class:`~theory.model.AttentionModel` does not carry a list of ratios, so
``predict(model)`` (:class:`FreeProductMoments`) is the lemma's instance for
the bulk of the model's stack (Props 3 and 7): ``l`` factors ``MP(1,
sigma_A^2)`` (the attention) and ``l`` factors ``MP(gamma, sigma_V^2)`` (the
values), :func:`blocks`; the symbolic-k formula is evaluated block by block
(symbolic l included).

>>> from gapcheck.theory.model import AttentionModel
>>> p = predict(AttentionModel.symbolic())
>>> p.mean, sp.factor(p.variance)
((sigma_A2*sigma_V2)**l, l*sigma_A2**(2*l)*sigma_V2**(2*l)*(gamma + 1))
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from .._validate import integer, positive, to_sympy
from ..model import SYMBOLS, AttentionModel
from ..prediction import Prediction
from ..registry import CheckOutcome, Result, register

__all__ = ["law", "derive", "general", "closed_form", "moments", "FreeProductMoments", "blocks",
           "predict", "applies", "example", "RESULT", "EXAMPLE"]

K = sp.Symbol("k", positive=True, integer=True)
_I = sp.Symbol("i", positive=True, integer=True)
LAM = sp.IndexedBase("lambda", positive=True)
SCALE = sp.IndexedBase("s", positive=True)
_Z = sp.Symbol("z")

#: the worked example of docs/derivations.md, section lemma4: (ratios, moments m_1..m_5)
EXAMPLE = ((sp.Rational(1, 2), 1, 1),
           (1, sp.Rational(7, 2), sp.Rational(67, 4), sp.Rational(741, 8), sp.Rational(8909, 16)))


def _symbols(k):
    lams = sp.symbols(f"lambda_1:{k + 1}", positive=True)
    scales = sp.symbols(f"s_1:{k + 1}", positive=True)
    return lams, scales


def law(ratios, scales=None):
    """``MP(ratios[0], scales[0]) boxtimes ...`` as a :mod:`theory.laws` law."""
    from ..laws import MarchenkoPastur, free_product

    ratios = list(ratios)
    if not ratios:
        raise ValueError("ratios must list at least one Marchenko-Pastur ratio")
    scales = [1] * len(ratios) if scales is None else list(scales)
    if len(scales) != len(ratios):
        raise ValueError(f"scales must have one entry per ratio ({len(ratios)}), got {len(scales)}")
    for r, s in zip(ratios, scales):
        positive("ratios", r)
        positive("scales", s)
    laws = [MarchenkoPastur(r, s) for r, s in zip(ratios, scales)]
    return laws[0] if len(laws) == 1 else free_product(*laws)


def derive(k: int) -> dict:
    """Mean and variance of the k-fold product with symbolic ratios and scales,
    computed by :func:`law` (moments of the free product)."""
    k = integer("k", k, minimum=1)
    lams, scales = _symbols(k)
    mu = law(lams, scales)
    return {"mean": sp.factor(sp.expand(mu.mean())), "variance": sp.expand(mu.variance())}


def general() -> dict:
    """Mean and variance for symbolic k from the S-transform (see module doc)."""
    m1, m2 = sp.symbols("m_1 m_2", positive=True)
    s0, s1 = [sp.simplify(c) for c in _s_coefficients(m1, m2)]
    # invert the two coefficients: m_1 = 1/S(0), (m_2 - m_1^2)/m_1^2 = -S'(0)/S(0)
    mean_from_s = sp.simplify(1 / s0)
    relvar_from_s = sp.simplify(-s1 / s0)
    assert sp.simplify(mean_from_s - m1) == 0
    assert sp.simplify(relvar_from_s - (m2 - m1**2) / m1**2) == 0
    log_s = -sp.Sum(sp.log(SCALE[_I]) + sp.log(1 + LAM[_I] * _Z), (_I, 1, K))
    # 1/S(0) = exp(-log S(0)) = prod s_i
    mean = sp.Product(SCALE[_I], (_I, 1, K))
    mean_check = sp.exp(-log_s.subs(_Z, 0)).doit()
    relvar = (-sp.diff(log_s, _Z)).doit().subs(_Z, 0).doit()
    return {"mean": mean, "mean_from_log_s": mean_check, "relative_variance": relvar,
            "variance": mean**2 * relvar}


def _s_coefficients(m1, m2):
    from ..freeprob import s_transform_from_moments
    return s_transform_from_moments([m1, m2])


def closed_form(k=None) -> dict:
    """The lemma's statement, for k symbolic factors (indexed) or k = int."""
    if k is None:
        prod = sp.Product(SCALE[_I], (_I, 1, K))
        return {"mean": prod, "variance": prod**2 * sp.Sum(LAM[_I], (_I, 1, K))}
    lams, scales = _symbols(integer("k", k, minimum=1))
    return {"mean": sp.Mul(*scales), "variance": sp.Mul(*scales) ** 2 * sp.Add(*lams)}


def moments(ratios, scales=None) -> dict:
    """Float mean and variance (and m_2) of the product law, for the checks.

    >>> moments([1, 1], [2, 1])["variance"]
    8.0
    """
    ratios = tuple(sp.nsimplify(to_sympy(r), rational=True) for r in ratios)
    scales = (1,) * len(ratios) if scales is None else \
        tuple(sp.nsimplify(to_sympy(s), rational=True) for s in scales)
    return dict(_predict(ratios, scales))


@lru_cache(maxsize=256)
def _predict(ratios, scales):
    mu = law(ratios, scales)
    mean, var = float(mu.mean()), float(mu.variance())
    return {"mean": mean, "variance": var, "m2": var + mean**2}


@dataclass(frozen=True)
class FreeProductMoments(Prediction):
    """Mean and variance of the free product of the model's Marchenko-Pastur
    factors (:func:`blocks`)."""

    mean: object
    variance: object


def blocks(model) -> tuple:
    """The model's factors as ``(ratio, scale, count)`` blocks: the bulk of a
    stack of depth l is ``MP(1, sigma_A^2)^(boxtimes l) boxtimes MP(gamma,
    sigma_V^2)^(boxtimes l)`` (Props 3 and 7)."""
    depth = model.value("l")
    return ((sp.Integer(1), model.value("sigma_A2"), depth), (model.value("gamma"), model.value("sigma_V2"), depth))


def applies(model) -> str | None:
    """Random Markov attention, no LayerNorm or skip: the stack whose bulk is a
    free product of Marchenko-Pastur laws (the lemma's general lists of ratios
    and scales stay available as :func:`law` / :func:`moments`)."""
    if model.attention != "markov":
        return (f"the lemma is read on the model as the bulk of a Random Markov stack, "
                f"MP(1, sigma_A^2)^l boxtimes MP(gamma, sigma_V^2)^l (got {model.attention!r} attention)")
    if model.layernorm or model.skip is not None:
        return "the bulk is a free product of MP laws only for the plain stack (no LayerNorm, no skip)"
    if model.sigma_A2 is None:
        return "the relative variance sigma_A^2 must be known (set sigma_a2)"
    return None


@lru_cache(maxsize=64)
def predict(model) -> FreeProductMoments:
    """The symbolic-k formula of :func:`general` evaluated on each block of
    :func:`blocks` (``k = count`` identical factors) and combined as the
    S-transform says: means multiply, relative variances add."""
    g = general()
    mean, relvar = sp.Integer(1), sp.Integer(0)
    for ratio, scale, count in blocks(model):
        def block(expr):
            expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == LAM, lambda e: ratio)
            expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == SCALE, lambda e: scale)
            return expr.subs(K, count).doit()
        mean *= block(g["mean"])
        relvar += block(g["relative_variance"])
    return FreeProductMoments(mean=sp.powsimp(mean, force=True), variance=sp.factor(mean ** 2 * relvar))


def example() -> AttentionModel:
    """A stack where the ratios and scales differ from 1 and from each other:
    sigma_A^2 = 1/3 (lognormal), sigma_V^2 = 3/2, gamma = 1/2, l = 2."""
    return AttentionModel(n=96, depth=2, gamma=sp.Rational(1, 2), ensemble="lognormal",
                          sigma_a2=sp.Rational(1, 3), sigma_v2=sp.Rational(3, 2))


def _symbolic_checks() -> list[CheckOutcome]:
    out = []
    for k in range(1, 7):
        der, cf = derive(k), closed_form(k)
        ok = all(sp.simplify(der[q] - cf[q]) == 0 for q in ("mean", "variance"))
        out.append(CheckOutcome(f"k = {k}: free_product moments = closed form (symbolic ratios, scales)",
                                {"k": k}, measured=str(der["variance"]), predicted=str(cf["variance"]),
                                passed=bool(ok), tolerance="exact"))
    g, cf = general(), closed_form()
    ok = (sp.simplify(g["mean_from_log_s"] - cf["mean"].doit()) == 0
          and sp.simplify(g["variance"] - cf["variance"]) == 0)
    out.append(CheckOutcome("symbolic k: S-transform log-derivative = closed form", {"k": "k"},
                            measured=str(g["variance"]), predicted=str(cf["variance"]),
                            passed=bool(ok), tolerance="exact"))
    # the general formula specialised to k = 1..6 reproduces the explicit derivation
    for k in (1, 3, 6):
        lams, scales = _symbols(k)
        spec = g["variance"].subs(K, k).doit()
        spec = spec.subs({LAM[i + 1]: lams[i] for i in range(k)}
                         | {SCALE[i + 1]: scales[i] for i in range(k)})
        ok = sp.simplify(spec - derive(k)["variance"]) == 0
        out.append(CheckOutcome(f"symbolic-k formula at k = {k} = free_product derivation", {"k": k},
                                measured=str(sp.factor(spec)),
                                predicted=str(sp.factor(derive(k)["variance"])),
                                passed=bool(ok), tolerance="exact"))
    ratios, ms = EXAMPLE
    got = law(ratios).moments(len(ms))
    out.append(CheckOutcome("MP(1/2) x MP(1) x MP(1): moments 1, 7/2, 67/4, 741/8, 8909/16",
                            {"ratios": [str(r) for r in ratios]}, measured=[str(m) for m in got],
                            predicted=[str(m) for m in ms],
                            passed=[sp.nsimplify(a) for a in got] == list(map(sp.nsimplify, ms)),
                            tolerance="exact"))
    # predict(model) block by block = the free product of the model's 2l factors (l = 1, 2, 3),
    # and for symbolic l the stack's closed form (sigma_A^2 sigma_V^2)^(2l) l (1 + gamma)
    sA2, sV2, gam, l_ = (SYMBOLS[k] for k in ("sigma_A2", "sigma_V2", "gamma", "l"))
    for depth in (1, 2, 3):
        p = predict(AttentionModel.symbolic(depth=depth))
        mu = law([1] * depth + [gam] * depth, [sA2] * depth + [sV2] * depth)
        ok = sp.simplify(p.mean - mu.mean()) == 0 and sp.simplify(p.variance - mu.variance()) == 0
        out.append(CheckOutcome("predict(model) = free_product of MP(1, sigma_A^2)^l, MP(gamma, sigma_V^2)^l",
                                {"l": depth}, measured=str(p.variance), predicted=str(sp.factor(mu.variance())),
                                passed=bool(ok), tolerance="exact"))
    p = predict(AttentionModel.symbolic())
    want = (sA2 * sV2) ** (2 * l_) * l_ * (1 + gam)
    ok = sp.simplify(sp.powsimp(sp.expand_power_base(p.variance - want, force=True), force=True)) == 0
    out.append(CheckOutcome("predict(symbolic model): variance (sigma_A^2 sigma_V^2)^(2l) l (1 + gamma)",
                            {"l": "l"}, measured=str(p.variance), predicted=str(want), passed=bool(ok),
                            tolerance="exact"))
    return out


RESULT = register(Result(
    id="lemma4",
    title="Moments of free products of Marchenko-Pastur laws",
    kind="lemma",
    source="Mind the Gap (arXiv 2410.07799 v1), Lemma 4 (via Akemann-Ipsen-Kieburg 2013, eq. 58)",
    statement=("The free multiplicative convolution of MP(lam_i, s_i), i = 1..k, has mean prod s_i "
               "and variance (prod s_i)^2 sum lam_i."),
    assumptions=("lam_i > 0 (ratio rows/columns of the i-th Gaussian factor), s_i > 0 (entry variance)",
                 "k >= 1; a product Y = G_1...G_k of independent Gaussian N_{i-1} x N_i matrices, "
                 "N_0 = n, N_i = n / lam_i, realises it as the n-side law of Y Y^T / (N_1...N_k)",
                 "n -> infinity with the ratios fixed"),
    statement_latex=(r"\mu = \boxtimes_{i=1}^k \mathrm{MP}(\lambda_i, s_i):\quad "
                     r"\mathbb{E}\mu = \prod_i s_i,\quad "
                     r"\operatorname{Var}\mu = \Big(\prod_i s_i\Big)^2 \sum_i \lambda_i"),
    symbolic_checks=_symbolic_checks,
    empirical_check="gapcheck.numerics.checks.lemma4",
    predict=predict,
    applies=applies,
    example=example,
    findings=("Realised by products of rectangular Gaussian matrices, the ESD moments approach the "
              "limit with an O(1/n) bias (e.g. one Wishart factor: E m_2 = s^2 (1 + lam + 1/N)); the "
              "check extrapolates in 1/n.",),
))
