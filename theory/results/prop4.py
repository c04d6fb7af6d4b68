"""Proposition 4: exploding gradients with the gap.

Kronecker form: ``vec X_L = ((W_{l+1}...W_L)^T kron (A_L...A_1 X0 W_1...W_{l-1})) vec W_l``,
so ``||dX_L/dW_l||_F^2 = ||W_{l+1}...W_L||_F^2 ||A_L...A_1 X0 W_1...W_{l-1}||_F^2``.
With the gap, ``A_L...A_1 = (1/n) 1 1^T + (bulk)``: the rank-one part keeps
``||1^T X0 W_1...W_{l-1}||^2 / n`` (Lemma 1 in expectation:
``(sigma_V^2 d)^{l-1}``), the bulk part ``n^{1-L} m_1(FC(L, sigma_A^2))``
times the same.  Hence, derived through the laws,

    E ||dX_L/dW_l||_F^2 = d^{L-l+1} m_1(FC(L-l, sigma_V^2)) (sigma_V^2 d)^{l-1}
                          (1 + n^{1-L} m_1(FC(L, sigma_A^2)))
                        ~ sigma_V^(2(L-1)) d^L (1 + sigma_A^2 [L = 1]),

which grows like n^L at fixed gamma (the paper's lower bound rate).

>>> derive(1, 1)["constant"]
sigma_A2 + 1
>>> derive(3, 2)["exponent"]
3
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .._validate import in_interval, integer, positive, to_sympy
from ..registry import CheckOutcome, Result, register

__all__ = ["N", "GAMMA", "SA2", "SV2", "DEPTH", "derive", "closed_form", "predict", "RESULT"]

N = sp.Symbol("n", positive=True)
GAMMA = sp.Symbol("gamma", positive=True)
SA2 = sp.Symbol("sigma_A2", positive=True)
SV2 = sp.Symbol("sigma_V2", positive=True)
DEPTH = sp.Symbol("L", positive=True, integer=True)


def _fc_mean(p, s2):
    from ..laws import FussCatalan
    return sp.Integer(1) if p == 0 else FussCatalan(p, s2).mean()


@lru_cache(maxsize=None)
def derive(L: int, l: int) -> dict:
    """Finite-n leading expectation, its limit constant (over sigma_V^(2(L-1)) d^L)
    and its exponent in n at fixed gamma."""
    L = integer("L", L, minimum=1)
    l = integer("l", l, minimum=1, maximum=L)
    d = N / GAMMA
    weights = d ** (L - l + 1) * _fc_mean(L - l, SV2)
    signal = (SV2 * d) ** (l - 1) * (1 + N ** (1 - L) * _fc_mean(L, SA2))
    expectation = sp.expand(weights * signal)
    ratio = sp.simplify(expectation / (SV2 ** (L - 1) * d**L))
    return {"expectation": expectation, "constant": sp.limit(ratio, N, sp.oo),
            "finite_n_ratio": ratio,
            "exponent": sp.limit(sp.log(expectation) / sp.log(N), N, sp.oo)}


def closed_form(L: int) -> dict:
    """sigma_V^(2(L-1)) d^L (1 + sigma_A^2 [L = 1]): the constant and exponent L."""
    return {"constant": 1 + SA2 * sp.KroneckerDelta(L, 1), "exponent": sp.Integer(L)}


def predict(L, l, gamma, sigma_a2, sigma_v2) -> dict:
    """Floats: ``constant`` (limit of E||grad||^2 / (sigma_V^(2(L-1)) d^L)),
    ``exponent`` (L).

    >>> predict(1, 1, 1, 1, 1)
    {'constant': 2.0, 'exponent': 1.0}
    """
    L = integer("L", L, minimum=1)
    l = integer("l", l, minimum=1, maximum=L)
    in_interval("gamma", gamma, 0, 1)
    positive("sigma_a2", sigma_a2)
    positive("sigma_v2", sigma_v2)
    f = derive(L, l)
    sub = {SA2: to_sympy(sigma_a2), SV2: to_sympy(sigma_v2), GAMMA: to_sympy(gamma)}
    return {"constant": float(f["constant"].subs(sub)), "exponent": float(f["exponent"])}


def _symbolic_checks() -> list[CheckOutcome]:
    out = []
    for L in range(1, 6):
        for l in range(1, L + 1):
            der, cf = derive(L, l), closed_form(L)
            ok = sp.simplify(der["constant"] - cf["constant"]) == 0 and der["exponent"] == L
            out.append(CheckOutcome(f"(L, l) = ({L}, {l}): constant and exponent n^{L}", {"L": L, "l": l},
                                    measured=str(der["constant"]), predicted=str(cf["constant"]),
                                    passed=bool(ok), tolerance="exact"))
    # single layer: ||dX_1/dW_1||^2 = d ||A||_F^2 and ||A||_F^2 = 1 + (bulk) -> 1 + sigma_A^2
    from ..laws import MarchenkoPastur
    single = 1 + MarchenkoPastur(1, SA2).mean()
    out.append(CheckOutcome("L = 1: ||A||_F^2 -> 1 + m_1(MP(1, sigma_A^2))", {"L": 1},
                            measured=str(single), predicted=str(derive(1, 1)["constant"]),
                            passed=sp.simplify(single - derive(1, 1)["constant"]) == 0, tolerance="exact"))
    return out


def _formulas(L=None, l=None, gamma=None):
    """Derived formulas at depth L (default: l, or 1) for layer l (default 1)."""
    l = 1 if l is None else integer("l", l, minimum=1)
    L = max(l, 1) if L is None else integer("L", L, minimum=1)
    f = {k: v for k, v in derive(L, min(l, L)).items() if k != "finite_n_ratio"}
    if gamma is not None:
        g = to_sympy(in_interval("gamma", gamma, 0, 1))
        f = {k: sp.simplify(v.subs(GAMMA, g)) for k, v in f.items()}
    return f


RESULT = register(Result(
    id="prop4",
    title="Exploding gradients",
    kind="proposition",
    source="Mind the Gap (arXiv 2410.07799 v1), Proposition 4; constant derived in docs/derivations.md, section prop4",
    statement=("With the gap, ||dX_L/dW_l||_F^2 grows like n^L at fixed gamma: "
               "E||dX_L/dW_l||_F^2 ~ sigma_V^(2(L-1)) d^L (1 + sigma_A^2 [L = 1]); single layer "
               "||dX_1/dW_1||_F^2 / d -> 1 + sigma_A^2."),
    assumptions=("A_l Random Markov with relative variance sigma_A^2 (gap present); "
                 "W_l i.i.d. N(0, sigma_V^2)",
                 "X0 isometric; n, d -> infinity with gamma fixed; 1 <= l <= L"),
    statement_latex=(r"\mathbb{E}\Big\|\frac{\partial X_L}{\partial W_l}\Big\|_F^2 \sim "
                     r"\sigma_V^{2(L-1)} d^L \big(1 + \sigma_A^2 [L=1]\big) = \Theta(n^L)"),
    formulas=lambda L=None, l=None, gamma=None, **_: _formulas(L, l, gamma),
    symbolic_checks=_symbolic_checks,
    empirical_check="gapcheck.numerics.checks.prop4",
    findings=("Key-query attention with sigma_QK^2 = 1 (not Xavier): the gradient of the first "
              "layer grows faster than n^L, by more as the depth grows (fitted exponents about "
              "2.5-2.9 at L = 2 and 4-6 at L = 3 for n = 16..64), so the n^L lower bound becomes loose "
              "with depth, as the paper reports; with Xavier keys/queries the attention is nearly "
              "uniform and the rate stays n^L.",
              "For Random Markov attention the constant is reached within a few percent at "
              "n = 128-256; the finite-n correction is O(1/n)."),
))
