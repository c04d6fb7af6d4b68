"""Noci, Anagnostidis, Biggio, Orvieto, Singh, Lucchi, "Signal propagation in
transformers: theoretical perspectives and the role of rank collapse"
(NeurIPS 2022, arXiv 2206.03126): statements B1-B4 of
``docs/derivations.md`` (sections noci.*).

Only the abstract and introduction were available; the constants below are
derived here (conventions: ``S = A X W_V``, ``A = softmax(X W_Q W_K^T X^T / tau)``,
``W_Q, W_K, W_V`` entries iid ``N(0, s^2/d)`` of shapes ``d x d_k``, ``d x d_k``,
``d x d_v``).

Derivations:

* B3 from ``dS_ia/dWQ_bg = tau^-1 X_ib sum_k A_ik K_kg (V_ka - Vbar_ia)`` at
  ``A = J``: ``|dS/dW_Q|^2 = tau^-2 |X|^2 |W_K^T X^T (I - J) X W_V|^2 / n^2`` and
  ``E|W_K^T M W_V|^2 = (s_k^2 d_k / d)(s_v^2 d_v / d) |M|^2``; the equicorrelated
  case is evaluated in the two-dimensional algebra spanned by ``I`` and ``J``
  (:class:`IJ`), so ``n`` stays a symbol.
* B4 from ``E[G'] = G + alpha^2 s_v^2 (d_v/d) J G J`` (linear in ``G``), solved by
  sympy's ``rsolve``; post-/pre-LN maps from the moments of ``x + alpha J x W``.

>>> ratio_q_to_v()
s_k**2*s_v**2*(n - 1)*(rho - 1)**2/(n*(n*rho - rho + 1))
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction

import sympy

from .._validate import in_interval, integer, nonnegative, positive
from ..model import AttentionModel
from ..prediction import Prediction
from ..registry import CheckOutcome, Result, register
from .._validate import to_sympy

__all__ = ["SOURCE", "IJ", "uniform_jacobian_expectations", "equicorrelated_expectations",
           "ratio_q_to_v", "gaussian_expectation", "QK_EXPONENTS", "linear_stack_mean_gram",
           "postln_map", "preln_map", "iterate_postln", "iterate_preln", "postln_lower_bound",
           "RankOneJacobians", "key_query_applies", "key_query_example", "predict_rank_one_zero",
           "QKVanishing", "predict_qk_vanish", "UniformJacobians", "predict_uniform_gradients",
           "CosineMap", "DepthScaling", "predict_depth_scaling", "depth_scaling_applies",
           "depth_scaling_example"]

SOURCE = ("Noci, Anagnostidis, Biggio, Orvieto, Singh, Lucchi, 'Signal propagation in transformers: "
          "theoretical perspectives and the role of rank collapse' (NeurIPS 2022, arXiv 2206.03126)")

s_q, s_k, s_v, tau, d, d_k, d_v, n, rho = sympy.symbols(
    "s_q s_k s_v tau d d_k d_v n rho", positive=True)
X_F2, M_F2, xbar2 = sympy.symbols("|X|_F^2 |X^T(I-J)X|_F^2 |xbar|^2", positive=True)
alpha, c, L = sympy.symbols("alpha c L", positive=True)


@dataclass(frozen=True)
class IJ:
    """``a I + b J`` (``J = 11^T/n``, ``n`` x ``n``), closed under products:
    ``(aI + bJ)(cI + dJ) = ac I + (ad + bc + bd) J``; ``tr = n a + b``.

    >>> (IJ(1, -1) * IJ(1, -1)) == IJ(1, -1)   # I - J is a projection
    True
    """
    a: sympy.Expr
    b: sympy.Expr

    def __mul__(self, o):
        return IJ(sympy.expand(self.a * o.a), sympy.expand(self.a * o.b + self.b * o.a + self.b * o.b))

    def __eq__(self, o):
        return sympy.simplify(self.a - o.a) == 0 and sympy.simplify(self.b - o.b) == 0

    def trace(self, size=n):
        return sympy.expand(size * self.a + self.b)

    def sum_entries(self, size=n):
        """``1^T M 1 = n a + n b``."""
        return sympy.expand(size * (self.a + self.b))


def uniform_jacobian_expectations(sq=s_q, sk=s_k, sv=s_v, temperature=tau, width=d, dk=d_k, dv=d_v,
                                  tokens=n, x_f2=X_F2, m_f2=M_F2, xbar_sq=xbar2):
    """B3: ``E|dS/dW_Q|^2, E|dS/dW_K|^2, |dS/dW_V|^2`` at uniform attention, given
    ``|X|_F^2``, ``|X^T (I - J) X|_F^2`` and ``|xbar|^2``.

    >>> uniform_jacobian_expectations()["Q"]
    d_k*d_v*s_k**2*s_v**2*|X^T(I-J)X|_F^2*|X|_F^2/(d**2*n**2*tau**2)
    """
    # |dS/dWQ|_F^2 = tau^-2 sum_{i,b} X_ib^2 sum_{g,a} (sum_k (1/n) K_kg (V_ka - Vbar_a))^2
    #             = tau^-2 |X|_F^2 |K^T (I - J) V|_F^2 / n^2,  K^T (I-J) V = W_K^T M W_V
    e_wk = sk**2 * dk / width      # E W_K W_K^T = (s_k^2 d_k / d) I_d
    e_wv = sv**2 * dv / width      # E W_V W_V^T = (s_v^2 d_v / d) I_d
    e_q = x_f2 * e_wk * e_wv * m_f2 / (temperature**2 * tokens**2)
    e_k = x_f2 * (sq**2 * dk / width) * e_wv * m_f2 / (temperature**2 * tokens**2)
    # dS_ia/dWV_ba' = delta_aa' (J X)_ib: |.|^2 = d_v |J X|_F^2 = d_v n |xbar|^2
    v = dv * tokens * xbar_sq
    return {"Q": e_q, "K": e_k, "V": v}


def equicorrelated_expectations(cos=rho, tokens=n, width=d, **kw):
    """B3 for LN tokens (``|x|^2 = d``) with pairwise cosine ``rho``: the Gram
    matrix is ``d((1 - rho) I + rho n J)``, and every trace is taken in :class:`IJ`.

    >>> sympy.factor(equicorrelated_expectations()["V"])
    d*d_v*(n*rho - rho + 1)
    """
    G = IJ(width * (1 - cos), width * cos * tokens)
    C = IJ(1, -1)                                  # I - J
    x_f2 = G.trace(tokens)
    m_f2 = (C * G * C * G).trace(tokens)           # |X^T C X|_F^2 = tr(C G C G)
    xbar_sq = G.sum_entries(tokens) / tokens**2
    return {k: sympy.factor(v) for k, v in uniform_jacobian_expectations(
        tokens=tokens, width=width, x_f2=x_f2, m_f2=m_f2, xbar_sq=xbar_sq, **kw).items()}


def ratio_q_to_v(temperature=None):
    """``E|dS/dW_Q|^2 / |dS/dW_V|^2`` for equicorrelated LN tokens; with the default
    ``tau = sqrt(d_k)`` the head width drops out."""
    t = sympy.sqrt(d_k) if temperature is None else temperature
    e = equicorrelated_expectations(temperature=t)
    return sympy.factor(sympy.simplify(e["Q"] / e["V"]))


def gaussian_expectation(poly_expr, variances):
    """Exact expectation of a polynomial in independent centred Gaussians
    (``variances``: symbol -> variance): ``E w^(2j) = (2j - 1)!! var^j``, odd moments 0.

    >>> w = sympy.Symbol("w")
    >>> gaussian_expectation(w**4 + 3 * w, {w: 2})
    12
    """
    gens = list(variances)
    poly = sympy.Poly(sympy.expand(poly_expr), *gens)
    total = sympy.Integer(0)
    for powers, coeff in poly.terms():
        term = coeff
        for g, k in zip(gens, powers):
            if k % 2:
                term = 0
                break
            term *= sympy.factorial2(k - 1) * variances[g] ** (k // 2)
        total += term
    return sympy.expand(total)


#: B2: exponents of the Jacobian norms |dS/dW| in the distance eps from rank one
QK_EXPONENTS = {"Q": 2, "K": 2, "V": 0}


# ----------------------------------------------------------------- B4

def linear_stack_mean_gram(depth=L, a=alpha, sv=s_v, width=d, dv=d_v):
    """B4 (exact in expectation): the mean entry ``m_L`` of ``E G_L`` for
    ``X <- X + alpha J X W_V``, as a multiple of ``m_0``, solved by ``rsolve``
    from ``m_{l+1} = (1 + alpha^2 s_v^2 d_v/d) m_l``; ``E G_L = G_0 + (m_L - m_0) 11^T``.

    >>> linear_stack_mean_gram(width=d_v)
    (alpha**2*s_v**2 + 1)**L
    """
    l = sympy.Symbol("l", integer=True, nonnegative=True)
    m = sympy.Function("m")
    growth = 1 + a**2 * sv**2 * dv / width
    sol = sympy.rsolve(m(l + 1) - growth * m(l), m(l), {m(0): 1})
    return sympy.simplify(sol.subs(l, depth))


def _mean_cos(r, tokens, name="rho"):
    """Mean entry of the cosine Gram matrix: ``1/n + (1 - 1/n) rho``.

    ``tokens`` equicorrelated unit vectors exist only for
    ``rho >= -1/(tokens - 1)`` (the Gram matrix ``(1 - rho) I + rho 11^T`` is
    PSD exactly then), which is also where the mean entry is >= 0 and the
    maps below contract ``1 - rho``; outside it is an error, not a number.

    >>> _mean_cos(-0.1, 12)
    Traceback (most recent call last):
    ...
    ValueError: rho must be in [-0.09090909090909091, 1] (got -0.1)
    """
    tokens = integer("tokens", tokens, minimum=2)
    in_interval(name, r, -1.0 / (tokens - 1), 1, lo_open=False)
    return 1.0 / tokens + (1.0 - 1.0 / tokens) * r


def postln_map(r, a2, tokens, sv2=1.0):
    """B4 post-LN mean-field map for ``x <- LN(x + alpha J x W_V)``:
    ``1 - rho' = (1 - rho) / (1 + alpha^2 s_v^2 m(rho))``.

    >>> round(postln_map(0.5, 1.0, 10), 6)
    0.677419
    """
    nonnegative("alpha^2", a2)
    add = a2 * sv2 * _mean_cos(r, tokens)
    return (r + add) / (1 + add)


def preln_map(q, p, a2, tokens, sv2=1.0):
    """B4 pre-LN map for ``x <- x + alpha J LN(x) W_V`` on the stream ``(q, p)``.

    >>> preln_map(1.0, 0.5, 1.0, 10)
    (1.55, 1.05)
    """
    positive("q", q)
    add = a2 * sv2 * _mean_cos(p / q, tokens, name="p/q")
    return q + add, p + add


def iterate_postln(r0, depth, a2, tokens, sv2=1.0):
    """Cosines ``rho_0..rho_L`` of the post-LN map."""
    integer("depth", depth, minimum=0)
    out = [float(r0)]
    for _ in range(depth):
        out.append(postln_map(out[-1], a2, tokens, sv2))
    return out


def iterate_preln(r0, depth, a2, tokens, sv2=1.0):
    """Cosines ``rho_0..rho_L`` of the pre-LN map (stream starts at ``q = 1``)."""
    integer("depth", depth, minimum=0)
    q, p = 1.0, float(r0)
    out = [p]
    for _ in range(depth):
        q, p = preln_map(q, p, a2, tokens, sv2)
        out.append(p / q)
    return out


def postln_lower_bound(r0, cc, sv2=1.0):
    """``1 - rho_L >= (1 - rho_0) exp(-c s_v^2)`` for ``alpha^2 = c / L``."""
    return (1 - r0) * math.exp(-cc * sv2)


# ----------------------------------------------------------------- predictions (issue 10)
#
# Noci et al.'s layer ``S = A X W_V``, ``A = softmax(X W_Q W_K^T X^T / tau)`` is one
# key-query layer of :class:`~theory.model.AttentionModel`: ``d_k = d_v = d``,
# ``tau = sqrt(d)``, ``W_Q, W_K`` entries ``N(0, sigma_QK^2)`` (so ``s_q^2 = s_k^2 =
# d sigma_QK^2`` in the convention ``N(0, s^2/d)`` above) and ``W_V`` entries
# ``N(0, sigma_V^2)`` (``s_v^2 = d sigma_V^2``). The model has one key/query
# variance, so ``s_q = s_k`` in a prediction; the theory functions above keep them
# apart.

def key_query_applies(model) -> str | None:
    """B1-B3 are about the query/key Jacobians of a softmax key-query layer."""
    if model.attention != "key-query":
        return (f"the statement is about the query/key weights of softmax key-query attention "
                f"A = softmax(X W_Q W_K^T X^T / sqrt(d_k)) (got {model.attention!r} attention, "
                f"which has no W_Q, W_K)")
    if model.remove_gap:
        return "the statement is about A itself (remove_gap > 0 changes the layer)"
    return None


def key_query_example() -> AttentionModel:
    """One key-query layer, n = 8 tokens, d = 16 (gamma = 1/2), sigma_QK^2 = 9/64
    (s_q^2 = s_k^2 = 9/4) and sigma_V^2 = 3/32 (s_v^2 = 3/2): the scales differ
    from 1 and from each other."""
    return AttentionModel(n=8, depth=1, gamma=sympy.Rational(1, 2), attention="key-query",
                          sigma_qk2=sympy.Rational(9, 64), sigma_v2=sympy.Rational(3, 32))


@dataclass(frozen=True)
class RankOneJacobians(Prediction):
    """B1 at a rank-one input ``X = 1 x^T`` of the model's layer:
    ``|dS/dW_Q|_F / |dS/dW_V|_F = q_over_v``, ``|dS/dW_K|_F / |dS/dW_V|_F =
    k_over_v`` and the largest relative change of S under new ``W_Q, W_K`` is
    ``output_change`` (all exactly 0, for every model the statement covers)."""

    q_over_v: object
    k_over_v: object
    output_change: object


def predict_rank_one_zero(model) -> RankOneJacobians:
    """Constant in the model: the logits are constant along rows, so A = J for
    every W_Q, W_K whatever n, d and the scales are."""
    zero = sympy.Integer(0)
    return RankOneJacobians(q_over_v=zero, k_over_v=zero, output_change=zero)


@dataclass(frozen=True)
class QKVanishing(Prediction):
    """B2 for the model's layer at ``X = 1 x^T + eps R`` (weights and R fixed,
    eps -> 0): ``|dS/dW_Q|_F ~ eps^exponent_q``, ``|dS/dW_K|_F ~ eps^exponent_k``,
    ``|dS/dW_V|_F ~ eps^exponent_v``."""

    exponent_q: object
    exponent_k: object
    exponent_v: object


def predict_qk_vanish(model) -> QKVanishing:
    """Constant in the model: the exponents :data:`QK_EXPONENTS` (the exact
    series of the symbolic check) hold for every n, d and scale."""
    return QKVanishing(**{f"exponent_{k.lower()}": sympy.Integer(v) for k, v in QK_EXPONENTS.items()})


@dataclass(frozen=True)
class UniformJacobians(Prediction):
    """B3 for the model's layer at uniform attention ``A = J`` on equicorrelated
    LayerNorm tokens (``|x|^2 = d``, pairwise cosine ``rho``): ``E|dS/dW_Q|_F^2 = q``,
    ``E|dS/dW_K|_F^2 = k`` (over the weights), ``|dS/dW_V|_F^2 = v`` (exact) and
    ``q / v = ratio_q_v``. The cosine of the input is not a field of the model:
    every field is a function of the symbol :data:`rho` (substitute the input's
    cosine), the rest is the model's n, d and scales."""

    q: object
    k: object
    v: object
    ratio_q_v: object


def predict_uniform_gradients(model) -> UniformJacobians:
    """:func:`equicorrelated_expectations` for the model's layer: ``tokens = n``,
    ``width = d_k = d_v = d``, ``tau = sqrt(d)``, ``s_q^2 = s_k^2 = d sigma_QK^2``,
    ``s_v^2 = d sigma_V^2`` (symbolic or numeric)."""
    d = to_sympy(model.d)
    sqk = sympy.sqrt(d * model.value("sigma_QK2"))
    e = equicorrelated_expectations(cos=rho, tokens=model.value("n"), width=d, sq=sqk, sk=sqk,
                                    sv=sympy.sqrt(d * model.value("sigma_V2")),
                                    temperature=sympy.sqrt(d), dk=d, dv=d)
    return UniformJacobians(q=e["Q"], k=e["K"], v=e["V"], ratio_q_v=sympy.factor(e["Q"] / e["V"]))


@dataclass(frozen=True)
class CosineMap:
    """The B4 mean-field cosine map of a uniform-attention residual stack,
    ``depth`` layers of ``alpha^2 = alpha2``, ``s_v^2 = sv2`` on ``tokens``
    tokens, post-LN (:func:`postln_map`) or pre-LN (:func:`preln_map`):
    ``curve(rho_0)`` is ``rho_0..rho_L``. The input's cosine ``rho_0`` is the
    statement's own parameter; the rest comes from the model.

    >>> CosineMap(sympy.Rational(1, 4), 1, 10, 1, post=True).curve(0.5)
    [0.5, 0.5604395604395604]
    """

    alpha2: object
    sv2: object
    tokens: object
    depth: object
    post: bool

    def subs(self, mapping) -> "CosineMap":
        return replace(self, **{k: to_sympy(getattr(self, k)).subs(mapping)
                                for k in ("alpha2", "sv2", "tokens", "depth")})

    def curve(self, rho0) -> list[float]:
        args = (rho0, int(self.depth), float(self.alpha2), int(self.tokens), float(self.sv2))
        return iterate_postln(*args) if self.post else iterate_preln(*args)


@dataclass(frozen=True)
class DepthScaling(Prediction):
    """B4 for the model's residual stack ``X <- X + alpha J X W_V`` (uniform
    attention ``A = J``; the model's skip strength alpha, depth L, width d,
    ``s_v^2 = d sigma_V^2``):

    * ``growth``: the mean entry of ``E G_L`` over that of ``G_0`` (no
      LayerNorm; exact in expectation), ``(1 + alpha^2 s_v^2)^L``;
    * ``postln_floor``: ``(1 - rho_L)/(1 - rho_0) >= exp(-c s_v^2)`` with ``c =
      alpha^2 L`` (post-LN, mean field);
    * ``postln`` / ``preln``: the mean-field cosine maps (:class:`CosineMap`)
      of the post-LN stack and of the same stack with the LayerNorm moved in
      front of the attention branch (the model describes post-norm only; the
      pre-LN variant is read with the model's alpha, depth and scales).
    """

    growth: object
    postln_floor: object
    postln: CosineMap
    preln: CosineMap


def depth_scaling_applies(model) -> str | None:
    """B4: a residual stack whose attention is uniform, read as the W_Q -> 0
    limit of key-query attention."""
    if model.attention != "key-query":
        return (f"the statement is about uniform attention A = J, the W_Q -> 0 limit of softmax "
                f"key-query attention (got {model.attention!r} attention)")
    if model.remove_gap:
        return "the statement keeps A = J (remove_gap > 0 would make the attention branch vanish)"
    if model.skip is None:
        return "the statement is about residual stacks X + alpha A X W_V (the model has no skip)"
    return None


def predict_depth_scaling(model) -> DepthScaling:
    """``growth`` by :func:`linear_stack_mean_gram` (rsolve) with the model's
    depth, alpha, ``s_v = sqrt(d sigma_V^2)`` and ``d_v = d``; the post-LN floor
    at ``c = alpha^2 L``; the maps with the same numbers (symbolic or numeric)."""
    d = to_sympy(model.d)
    depth, a = model.value("l"), to_sympy(model.skip_alpha)
    sv2 = d * model.value("sigma_V2")
    growth = linear_stack_mean_gram(depth=depth, a=a, sv=sympy.sqrt(sv2), width=d, dv=d)
    maps = [CosineMap(a ** 2, sv2, model.value("n"), depth, post) for post in (True, False)]
    return DepthScaling(growth=growth, postln_floor=sympy.exp(-a ** 2 * depth * sv2),
                        postln=maps[0], preln=maps[1])


def depth_scaling_example() -> AttentionModel:
    """The linear residual stack: n = 4, d = 32 (gamma = 1/8), L = 8, alpha = 1/2,
    sigma_V^2 = 3/64 (s_v^2 = 3/2): growth (1 + 3/8)^8."""
    return AttentionModel(n=4, depth=8, gamma=sympy.Rational(1, 8), attention="key-query",
                          skip=sympy.Rational(1, 2), sigma_v2=sympy.Rational(3, 64))


# ----------------------------------------------------------------- symbolic checks

def _zero(name, params, expr):
    e = sympy.simplify(expr)
    return CheckOutcome(name, params, measured=str(e), predicted="0", passed=e == 0,
                        tolerance="exact (sympy simplify)")


def _checks_rank_one():
    dd, nn = 2, 3
    x = sympy.Matrix(1, dd, sympy.symbols("x0:2", real=True))
    W = sympy.Matrix(dd, dd, sympy.symbols("w0:4", real=True))
    X = sympy.ones(nn, 1) * x
    logits = X * W * X.T
    varying = [sympy.simplify(logits[i, j] - logits[i, 0]) for i in range(nn) for j in range(nn)]
    A = sympy.Matrix(nn, nn, lambda i, j: sympy.exp(logits[i, j])
                     / sum(sympy.exp(logits[i, k]) for k in range(nn)))
    dev = sympy.simplify(A - sympy.ones(nn, nn) / nn)
    return [CheckOutcome("rank-one input: logits constant along rows", {"n": nn, "d": dd},
                         measured=str(set(varying)), predicted="{0}", passed=set(varying) == {0},
                         tolerance="exact (sympy)"),
            CheckOutcome("rank-one input: A = J for every W_Q W_K^T", {"n": nn, "d": dd},
                         measured=str(dev.is_zero_matrix), predicted="True",
                         passed=bool(dev.is_zero_matrix), tolerance="exact (sympy)")]


class _Series:
    """Truncated power series in eps with exact rational coefficients (orders
    0..N-1): enough algebra (+, -, *, /, exp of a series without constant term)
    to expand the attention Jacobian near rank one exactly."""

    N = 6

    def __init__(self, coeffs):
        cs = [Fraction(x) for x in coeffs][: self.N]
        self.c = cs + [Fraction(0)] * (self.N - len(cs))

    @classmethod
    def lift(cls, x):
        return x if isinstance(x, _Series) else cls([x])

    def __add__(self, o):
        o = _Series.lift(o)
        return _Series([a + b_ for a, b_ in zip(self.c, o.c)])

    __radd__ = __add__

    def __neg__(self):
        return _Series([-a for a in self.c])

    def __sub__(self, o):
        return self + (-_Series.lift(o))

    def __rsub__(self, o):
        return _Series.lift(o) - self

    def __mul__(self, o):
        o = _Series.lift(o)
        out = [Fraction(0)] * self.N
        for i, a in enumerate(self.c):
            if a:
                for j in range(self.N - i):
                    out[i + j] += a * o.c[j]
        return _Series(out)

    __rmul__ = __mul__

    def inverse(self):
        if self.c[0] == 0:
            raise ZeroDivisionError("series without constant term")
        out = [Fraction(0)] * self.N
        out[0] = 1 / self.c[0]
        for k in range(1, self.N):
            out[k] = -sum(self.c[j] * out[k - j] for j in range(1, k + 1)) / self.c[0]
        return _Series(out)

    def __truediv__(self, o):
        return self * _Series.lift(o).inverse()

    def exp(self):
        if self.c[0] != 0:
            raise ValueError("row-relative logits must vanish at eps = 0 (B1)")
        out, term = _Series([1]), _Series([1])
        for k in range(1, self.N):
            term = term * self * Fraction(1, k)
            out = out + term
        return out


def _jacobian_q_sq_series(x, R, WQ, WK, WV):
    """|dS/dW_Q|_F^2 for ``X = 1 x^T + eps R`` (tau = 1) as an exact truncated
    series in eps; the softmax uses the row-relative logits ``l_ij - l_i0``."""
    nn, dd = len(R), len(x)
    X = [[_Series([x[b_], R[i][b_]]) for b_ in range(dd)] for i in range(nn)]

    def matmul(P, W):
        return [[sum((P[i][k] * W[k][j] for k in range(len(W))), _Series([0]))
                 for j in range(len(W[0]))] for i in range(len(P))]

    Q, K, V = matmul(X, WQ), matmul(X, WK), matmul(X, WV)
    logit = [[sum((Q[i][g] * K[j][g] for g in range(len(WQ[0]))), _Series([0])) for j in range(nn)]
             for i in range(nn)]
    total = _Series([0])
    for i in range(nn):
        w = [(logit[i][j] - logit[i][0]).exp() for j in range(nn)]
        z = sum(w, _Series([0]))
        A = [wj / z for wj in w]
        vbar = [sum((A[k] * V[k][a] for k in range(nn)), _Series([0])) for a in range(len(WV[0]))]
        xi2 = sum((X[i][b_] * X[i][b_] for b_ in range(dd)), _Series([0]))
        for g in range(len(WK[0])):
            for a in range(len(WV[0])):
                ci = sum((A[k] * K[k][g] * (V[k][a] - vbar[a]) for k in range(nn)), _Series([0]))
                total = total + xi2 * ci * ci
    return total


def _checks_qk_vanish():
    x = [1, 2]
    R = [[1, -1], [0, 2], [-2, 1]]
    WQ = [[Fraction(1, 2), 0], [Fraction(1, 2), Fraction(1, 2)]]
    WK = [[0, Fraction(1, 2)], [Fraction(1, 2), Fraction(-1, 2)]]
    WV = [[1, 0], [2, 1]]
    coeffs = _jacobian_q_sq_series(x, R, WQ, WK, WV).c[:5]
    ok = all(cf == 0 for cf in coeffs[:4]) and coeffs[4] != 0
    return [CheckOutcome("|dS/dW_Q|_F^2 = Theta(eps^4) near rank one (exact series)", {"n": 3, "d": 2},
                         measured=[str(cf) for cf in coeffs], predicted="[0, 0, 0, 0, nonzero]",
                         passed=bool(ok), tolerance="exact (rational power series)")]


def _checks_uniform_gradients():
    # Gaussian expectation over explicit W_K (2x2), W_V (2x1) at A = J, n = 3, d = 2
    nn, dd, dk, dv = 3, 2, 2, 1
    X = sympy.Matrix([[1, 2], [0, -1], [3, 1]])
    wk = sympy.Matrix(dd, dk, sympy.symbols("k0:4", real=True))
    wv = sympy.Matrix(dd, dv, sympy.symbols("v0:2", real=True))
    sk2, sv2 = sympy.symbols("sigma_k2 sigma_v2", positive=True)
    J = sympy.ones(nn, nn) / nn
    C = sympy.eye(nn) - J
    K, V = X * wk, X * wv
    t = sympy.Symbol("t", positive=True)
    # Jacobian entries with A = J: tau^-1 X_ib sum_k (1/n) K_kg (V_ka - Vbar_a)
    core = K.T * C * V / nn
    jq = sum(X[i, b_] ** 2 for i in range(nn) for b_ in range(dd)) * sum(e**2 for e in core) / t**2
    var = {**{w: sk2 / dd for w in wk}, **{w: sv2 / dd for w in wv}}
    expect = gaussian_expectation(jq, var)
    M = X.T * C * X
    formula = uniform_jacobian_expectations(
        sq=1, sk=sympy.sqrt(sk2), sv=sympy.sqrt(sv2), temperature=t, width=dd, dk=dk, dv=dv,
        tokens=nn, x_f2=sum(e**2 for e in X), m_f2=sum(e**2 for e in M))["Q"]
    out = [_zero("E|dS/dW_Q|^2 at A=J: Gaussian expectation = B3 formula", {"n": nn, "d": dd},
                 expect - formula)]
    # equicorrelated closed form and the d_k dependence with tau = d_k
    closed = s_k**2 * s_v**2 * (1 - rho) ** 2 * (n - 1) / (n * (n * rho + 1 - rho))
    out.append(_zero("Q/V ratio, equicorrelated LN tokens", {}, ratio_q_to_v() - closed))
    out.append(_zero("tau = d_k gives the ratio / d_k", {},
                     ratio_q_to_v(temperature=d_k) - closed / d_k))
    num = ratio_q_to_v().subs({s_k: 1, s_v: 1, rho: sympy.Rational(1, 2), n: 512})
    out.append(CheckOutcome("ratio at rho = 1/2, n = 512", {"rho": 0.5, "n": 512},
                            measured=float(num), predicted=9.7e-4,
                            passed=abs(float(num) - 9.7e-4) < 5e-6, tolerance="rounding of the quoted 9.7e-4"))
    return out


def _checks_depth_scaling():
    out = [_zero("E G_L mean entry: rsolve = (1 + alpha^2 s_v^2)^L", {},
                 linear_stack_mean_gram(width=d_v) - (1 + alpha**2 * s_v**2) ** L)]
    # post-LN map from the moments q' = 1 + a m, p' = rho + a m
    r, am = sympy.symbols("rho a_m", positive=True)
    out.append(_zero("post-LN: 1 - rho' = (1 - rho)/(1 + alpha^2 s_v^2 m)", {},
                     (1 - (r + am) / (1 + am)) - (1 - r) / (1 + am)))
    # alpha^2 = c/L: the linear stack's mean-entry growth tends to exp(c s_v^2)
    lim = sympy.limit(linear_stack_mean_gram(a=sympy.sqrt(c / L), width=d_v), L, sympy.oo)
    out.append(_zero("alpha^2 = c/L: growth -> exp(c s_v^2)", {}, lim - sympy.exp(c * s_v**2)))
    return out


register(Result(
    id="noci.rank-one-zero", title="Rank-one input: query/key gradients vanish exactly",
    kind="companion", source=f"{SOURCE}; docs/derivations.md, section noci.rank-one-zero (B1), grade A (exact)",
    statement="If the layer input is rank one (X = 1 x^T), the logits are constant along rows, A = J for "
              "every W_Q, W_K, and dL/dW_Q = dL/dW_K = 0 exactly.",
    assumptions=("single softmax attention layer S = A X W_V, any loss, any depth above",),
    statement_latex=r"X = \mathbf 1 x^\top \Rightarrow A = \tfrac1n\mathbf 1\mathbf 1^\top,\ "
                    r"\partial S/\partial W_Q = \partial S/\partial W_K = 0",
    symbolic_checks=_checks_rank_one, empirical_check="gapcheck.numerics.checks.noci_rank_one_zero",
    predict=predict_rank_one_zero, applies=key_query_applies, example=key_query_example,
))

register(Result(
    id="noci.qk-vanish", title="Near rank collapse: quadratic vanishing of query/key gradients",
    kind="companion", source=f"{SOURCE}; docs/derivations.md, section noci.qk-vanish (B2), grade B (derived here)",
    statement="For X = 1 x^T + eps R: |dS/dW_Q|_F, |dS/dW_K|_F = Theta(eps^2) while |dS/dW_V|_F = Theta(1).",
    assumptions=("fixed weights and R, eps -> 0",),
    statement_latex=r"\|\partial S/\partial W_{Q,K}\|_F = \Theta(\varepsilon^2),\ "
                    r"\|\partial S/\partial W_V\|_F = \Theta(1)",
    symbolic_checks=_checks_qk_vanish, empirical_check="gapcheck.numerics.checks.noci_qk_vanish",
    predict=predict_qk_vanish, applies=key_query_applies, example=key_query_example,
))

register(Result(
    id="noci.uniform-gradients", title="Expected Q/K/V Jacobian norms under uniform attention",
    kind="companion",
    source=f"{SOURCE}; docs/derivations.md, section noci.uniform-gradients (B3), grade A under the assumption A = J (constants derived here)",
    statement="At A = J, E|dS/dW_Q|^2 = (d_k/tau^2) s_k^2 s_v^2 d_v |X|^2 |X^T(I-J)X|^2/(n^2 d^2) (K: s_q), "
              "|dS/dW_V|^2 = d_v n |xbar|^2; for equicorrelated LN tokens the Q/V ratio is "
              "s_k^2 s_v^2 (1-rho)^2 (n-1)/(n(n rho + 1 - rho)).",
    assumptions=("uniform attention A = J (or W_Q -> 0)", "W entries iid N(0, s^2/d)",
                 "tau = sqrt(d_k) unless stated"),
    statement_latex=r"\mathbb{E}\|\partial S/\partial W_Q\|_F^2 = \frac{d_k}{\tau^2}\frac{s_k^2 s_v^2 d_v"
                    r"\|X\|_F^2\|X^\top(I-J)X\|_F^2}{n^2 d^2}",
    symbolic_checks=_checks_uniform_gradients,
    empirical_check="gapcheck.numerics.checks.noci_uniform_gradients",
    predict=predict_uniform_gradients, applies=key_query_applies, example=key_query_example,
))

register(Result(
    id="noci.depth-scaling", title="Depth-scaled residuals keep token correlations bounded",
    kind="companion", source=f"{SOURCE}; docs/derivations.md, section noci.depth-scaling (B4), grade A in expectation / B mean field",
    statement="For X <- X + alpha J X W_V, E G_L = G_0 + m_0((1 + alpha^2 s_v^2)^L - 1) 11^T; with "
              "alpha^2 = c/L the post-LN cosine stays bounded away from 1 "
              "(1 - rho_L >= (1 - rho_0) e^{-c s_v^2}); pre-LN collapses only like 1/l.",
    assumptions=("uniform attention", "post-LN/pre-LN maps: mean field, errors O(d^-1/2)"),
    statement_latex=r"\mathbb{E}G_L = G_0 + m_0\big((1+\alpha^2 s_v^2)^L - 1\big)\mathbf 1\mathbf 1^\top,"
                    r"\quad 1-\rho' = \frac{1-\rho}{1+\alpha^2 s_v^2 m(\rho)}",
    symbolic_checks=_checks_depth_scaling, empirical_check="gapcheck.numerics.checks.noci_depth_scaling",
    predict=predict_depth_scaling, applies=depth_scaling_applies, example=depth_scaling_example,
))
