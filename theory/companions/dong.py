r"""Residual contraction in pure attention (Dong, Cordonnier, Loukas,
"Attention is not all you need: pure attention loses rank doubly
exponentially with depth", ICML 2021, arXiv 2103.03404): statements C1-C5 of
``docs/derivations.md``, sections dong.*.

Derived here (sympy, exact):

* the operator norms of the centring map, ``|I - J|_1 = |I - J|_inf = 2(n-1)/n``,
  which sharpen "mean-centring is within a factor 2 of the optimal residual"
  to ``2(1 - 1/n)``, attained (:func:`centring_factor`, :func:`tight_examples`);
* the cubic order of the one-layer residual, by a series in ``eps`` of a
  two-token, one-feature attention layer (:func:`two_token_residual_series`);
* the depth law ``log|res_L| = 3^L (log|res_0| + kappa/2) - kappa/2`` by
  solving the recursion ``y_{l+1} = 3 y_l + kappa`` (:func:`depth_solution`);
* conservation of the centred part under skip + uniform attention;
* the path-length law from the generating function ``(1 + H z)^L``.

>>> centring_factor(4)
3/2
>>> path_length_mean()
H*L/(H + 1)
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy

from .._validate import integer, to_sympy
from ..model import AttentionModel
from ..prediction import Prediction
from ..registry import CheckOutcome, Result, register
from .noci import depth_scaling_applies, key_query_applies, key_query_example

__all__ = ["centring_factor", "centring_factor_matrix", "tight_examples",
           "two_token_residual_series", "depth_solution", "skip_conservation_defect",
           "path_generating_function", "path_counts", "path_total", "path_length_mean",
           "path_length_variance", "RESULTS", "SkipConservation", "predict_skip_conserves",
           "CubicContraction", "predict_cubic", "pure_attention_applies", "DoublyExponential",
           "predict_depth", "depth_example", "HEADS", "Z", "PathCounts", "predict_paths", "paths_applies",
           "paths_example", "CentringBound", "predict_residual_norms", "every_model",
           "skip_conserves_example"]

_n, _L, _H, _z, _eps = sympy.symbols("n L H z epsilon", positive=True)
#: the number of heads per layer (C5's own parameter: the model has one head) and the
#: variable of the path-length generating function
HEADS, Z = _H, _z
_SOURCE = ("Dong, Cordonnier, Loukas, 'Attention is not all you need: pure attention loses rank "
           "doubly exponentially with depth' (ICML 2021, arXiv 2103.03404)")


# --------------------------------------------------------------------------- C1
def centring_factor_matrix(n):
    """``(|I - J|_1, |I - J|_inf)`` computed from the explicit ``n x n`` matrix.

    >>> centring_factor_matrix(3)
    (4/3, 4/3)
    """
    n = integer("n", n, minimum=1)
    C = sympy.eye(n) - sympy.ones(n, n) / n
    col = max(sum(abs(C[i, j]) for i in range(n)) for j in range(n))
    row = max(sum(abs(C[i, j]) for j in range(n)) for i in range(n))
    return col, row


def centring_factor(n=_n):
    """``|I - J|_1`` for general ``n``: a column of ``I - J`` has one entry
    ``1 - 1/n`` and ``n - 1`` entries ``-1/n``.

    >>> centring_factor()
    2 - 2/n
    """
    n = to_sympy(n)
    diag, off = 1 - 1 / n, -1 / n          # both signs known for n >= 1
    return sympy.expand(diag + (n - 1) * (-off))


def tight_examples(n):
    """Exact ratios ``|res_mean|/|res_opt|`` on the two extremal matrices:
    ``e_1`` (``n x 1``) in ``|.|_1`` (optimal centre: the median, 0) and
    ``I_n`` in ``|.|_inf`` (optimal centre 0 by convexity and permutation
    symmetry: on ``x = c 1`` the cost is ``|1 - c| + (n-1)|c|``).

    >>> tight_examples(4)
    (3/2, 3/2)
    """
    n = integer("n", n, minimum=3)
    e1 = sympy.Matrix([1] + [0] * (n - 1))
    centred = e1 - sympy.ones(n, 1) * sympy.Rational(1, n)
    l1_mean = sum(abs(v) for v in centred)
    l1_opt = sum(abs(v) for v in e1)                  # median of {1, 0, ..., 0} is 0
    I = sympy.eye(n)
    Ic = I - sympy.ones(n, n) / n
    inf_mean = max(sum(abs(Ic[i, j]) for j in range(n)) for i in range(n))
    c = sympy.Symbol("c", real=True)
    cost = sympy.Abs(1 - c) + (n - 1) * sympy.Abs(c)
    inf_opt = min(cost.subs(c, v) for v in (0, 1, sympy.Rational(1, n)))   # piecewise-linear: kinks
    return sympy.nsimplify(l1_mean / l1_opt), sympy.nsimplify(inf_mean / inf_opt)


@dataclass(frozen=True)
class CentringBound(Prediction):
    """C1 for the model's token matrices (``n x d`` for the model's n, any d):
    ``|(I - J) X|_p <= factor min_x |X - 1 x^T|_p`` for ``p`` in ``{1, inf}`` and the
    composite norm, with equality attained (``factor = |I - J|_1 = 2(1 - 1/n)``);
    ``|AB|_c / (|A|_c |B|_c) <= submultiplicative`` and ``|X|_2^2 / (|X|_1 |X|_inf)
    <= spectral`` (both 1)."""

    factor: object
    submultiplicative: object
    spectral: object


def predict_residual_norms(model) -> CentringBound:
    """:func:`centring_factor` at the model's n (symbolic or numeric); the two
    norm inequalities are constant."""
    return CentringBound(factor=centring_factor(model.value("n")), submultiplicative=sympy.Integer(1),
                         spectral=sympy.Integer(1))


def every_model(model) -> None:
    """C1 is a statement about every real ``n x d`` matrix: it covers every
    model's hidden states (identity attention included), so it never refuses."""
    return None


# --------------------------------------------------------------------------- C2
@functools.lru_cache(maxsize=None)
def two_token_residual_series(order=5):
    """Series in ``eps`` of the residual ``(Y_1 - Y_2)/2`` of one attention layer
    on two tokens ``x + eps r_1``, ``x + eps r_2`` in ``d = 1`` with scalar
    weights ``w_q, w_k, w_v`` and temperature 1: the leading term is ``eps^3``.

    >>> two_token_residual_series()
    epsilon**3*w_k*w_q*w_v*(r_1 - r_2)**3/8 + O(epsilon**4)
    """
    integer("order", order, minimum=4)
    x, r1, r2, wq, wk, wv = sympy.symbols("x r_1 r_2 w_q w_k w_v", real=True)
    w = sympy.Symbol("w")
    # A_i1 = sigmoid(logit_i1 - logit_i2); the difference is O(eps), so the Taylor
    # polynomial of the sigmoid to degree order-1 gives every eps^k, k < order, exactly
    sig = sympy.series(1 / (1 + sympy.exp(-w)), w, 0, order).removeO()
    t = [x + _eps * r1, x + _eps * r2]
    Y = []
    for i in range(2):
        u = t[i] * wq * wk * (t[0] - t[1])
        a1 = sympy.expand(sig.subs(w, u))
        Y.append(wv * (a1 * t[0] + (1 - a1) * t[1]))
    res = sympy.expand((Y[0] - Y[1]) / 2)
    trunc = sum(res.coeff(_eps, k) * _eps**k for k in range(order))
    return _leading(trunc + sympy.O(_eps**order))


def _leading(ser):
    ser = sympy.expand(ser.removeO())
    for k in range(0, 8):
        c = sympy.factor(ser.coeff(_eps, k))
        if c != 0:
            return c * _eps**k + sympy.O(_eps ** (k + 1))
    return sympy.O(_eps**8)


@dataclass(frozen=True)
class CubicContraction(Prediction):
    """C2 for one layer of the model at ``X = 1 x^T + eps R`` (weights and R fixed,
    eps -> 0): ``|res(SA(X))| ~ eps^exponent`` (mean-centring residual, any norm)."""

    exponent: object


def predict_cubic(model) -> CubicContraction:
    """Constant in the model: the leading order of :func:`two_token_residual_series`
    (the exponent does not depend on n, d or the scales; the constant, which
    would, is not checked)."""
    ser = two_token_residual_series().removeO()
    return CubicContraction(exponent=sympy.Integer(min(t.as_coeff_exponent(_eps)[1]
                                                       for t in sympy.Add.make_args(ser))))


def pure_attention_applies(model) -> str | None:
    """C2/C3: pure softmax key-query attention, no skip, no LayerNorm."""
    reason = key_query_applies(model)
    if reason is None and (model.skip is not None or model.layernorm):
        reason = "the statement is about pure self-attention (no skip, no LayerNorm)"
    return reason


# --------------------------------------------------------------------------- C3
def depth_solution(y0=None, kappa=None):
    """Solve ``y_{l+1} = 3 y_l + kappa`` (``y = log|res|``, ``kappa = log C``) with
    :func:`sympy.rsolve`: ``y_L = 3^L (y_0 + kappa/2) - kappa/2``, i.e.
    ``|res_L| = C^{(3^L - 1)/2} |res_0|^{3^L}``.

    >>> depth_solution()
    3**L*(kappa/2 + y_0) - kappa/2
    """
    y = sympy.Function("y")
    y0 = sympy.Symbol("y_0") if y0 is None else to_sympy(y0)
    kappa = sympy.Symbol("kappa") if kappa is None else to_sympy(kappa)
    sol = sympy.rsolve(y(_L + 1) - 3 * y(_L) - kappa, y(_L), {y(0): y0})
    return sympy.collect(sympy.expand(sol), 3**_L)


@dataclass(frozen=True)
class DoublyExponential(Prediction):
    """C3 for the model's pure attention stack started near collapse:
    ``log|res(X_L)| / log|res(X_{L-1})| -> exponent`` (the per-layer power of the
    residual; the constant kappa, which depends on the weights, is not predicted)."""

    exponent: object


def predict_depth(model) -> DoublyExponential:
    """``lim_L y_L / y_{L-1}`` of :func:`depth_solution` (constant in the model)."""
    f = depth_solution()
    return DoublyExponential(exponent=sympy.simplify(sympy.limit(f / f.subs(_L, _L - 1), _L, sympy.oo)))


def depth_example() -> AttentionModel:
    """The key-query layer of :func:`theory.companions.noci.key_query_example`,
    stacked 8 deep (no skip)."""
    return key_query_example().replace(depth=8)


# --------------------------------------------------------------------------- C4
def skip_conservation_defect(n=3, d=2):
    """``(I - J)(X + J X W) - (I - J) X`` for symbolic ``X`` (``n x d``) and ``W``
    (``d x d``): the zero matrix.

    >>> skip_conservation_defect(2, 2)
    Matrix([
    [0, 0],
    [0, 0]])
    """
    n = integer("n", n, minimum=1)
    d = integer("d", d, minimum=1)
    X = sympy.Matrix(n, d, lambda i, j: sympy.Symbol(f"x_{i}{j}"))
    W = sympy.Matrix(d, d, lambda i, j: sympy.Symbol(f"w_{i}{j}"))
    J = sympy.ones(n, n) / n
    C = sympy.eye(n) - J
    return sympy.simplify(C * (X + J * X * W) - C * X)


@dataclass(frozen=True)
class SkipConservation(Prediction):
    """C4 for the model's residual stack at uniform attention
    (``X_l = X_{l-1} + alpha J X_{l-1} W_l``, any number of heads summed):
    ``|(I - J) X_l|_F / |(I - J) X_0|_F = centred_ratio`` and the largest entry of
    ``(I - J)(X_l - X_0)``, relative to ``|(I - J) X_0|_F``, is ``centred_change``,
    at every layer l."""

    centred_ratio: object
    centred_change: object


def predict_skip_conserves(model) -> SkipConservation:
    """Constant in the model: ``(I - J) J = 0`` removes the branch whatever alpha,
    the weights, n, d and the depth are (:func:`skip_conservation_defect`)."""
    return SkipConservation(centred_ratio=sympy.Integer(1), centred_change=sympy.Integer(0))


def skip_conserves_example() -> AttentionModel:
    """n = 8, d = 16 (gamma = 1/2), 20 layers, skip alpha = 1/2, sigma_V^2 = 3/32."""
    return AttentionModel(n=8, depth=20, gamma=sympy.Rational(1, 2), attention="key-query",
                          skip=sympy.Rational(1, 2), sigma_v2=sympy.Rational(3, 32))


# --------------------------------------------------------------------------- C5
def path_generating_function(L=_L, H=_H):
    """``sum_k #paths(k) z^k = (1 + H z)^L``: each layer is the skip (``1``) or
    one of ``H`` heads (``H z``)."""
    return (1 + to_sympy(H) * _z) ** to_sympy(L)


def path_counts(L, H=_H):
    """Coefficients of the generating function, ``k = 0..L`` (derived).

    >>> path_counts(3, 2)
    [1, 6, 12, 8]
    """
    L = integer("L", L, minimum=0)
    poly = sympy.Poly(sympy.expand(path_generating_function(L, H)), _z)
    return [poly.coeff_monomial(_z**k) for k in range(L + 1)]


def path_total(L=_L, H=_H):
    """Total number of paths, the generating function at ``z = 1``."""
    return path_generating_function(L, H).subs(_z, 1)


def path_length_mean(L=_L, H=_H):
    """Mean path length under the uniform law on paths: ``(d/dz) log G`` at 1."""
    G = path_generating_function(L, H)
    return sympy.simplify(sympy.diff(sympy.log(G), _z).subs(_z, 1))


def path_length_variance(L=_L, H=_H):
    """Variance of the path length: ``(z d/dz)^2 log G`` at 1."""
    G = path_generating_function(L, H)
    f = sympy.log(G.subs(_z, sympy.exp(sympy.Symbol("t"))))
    t = sympy.Symbol("t")
    return sympy.simplify(sympy.diff(f, t, 2).subs(t, 0))


@dataclass(frozen=True)
class PathCounts(Prediction):
    """C5 for the model's residual stack with :data:`HEADS` heads per layer (a
    symbol: the statement's own parameter, substitute the number of heads):
    ``generating_function = sum_k #paths(k) Z^k``, ``total`` paths, and the
    ``mean_length`` and ``variance`` of the length of a uniform path, for the
    model's depth."""

    generating_function: object
    total: object
    mean_length: object
    variance: object


def predict_paths(model) -> PathCounts:
    """:func:`path_generating_function` and its derived moments at the model's depth."""
    L = model.value("l")
    return PathCounts(generating_function=path_generating_function(L), total=path_total(L),
                      mean_length=path_length_mean(L), variance=path_length_variance(L))


def paths_applies(model) -> str | None:
    """C5 counts the paths of a residual stack (any attention: the expansion is
    combinatorial); without a skip there is one path."""
    if model.skip is None:
        return "the statement counts the paths of a residual stack X + sum_h A_h X W_h (the model has no skip)"
    return None


def paths_example() -> AttentionModel:
    """A key-query residual stack of depth 3 (gamma = 1/2, sigma_V^2 = 3/32)."""
    return key_query_example().replace(depth=3, skip="standard")


# --------------------------------------------------------------------------- checks
def _exact(name, params, measured, predicted, detail=""):
    ms = measured if isinstance(measured, (list, tuple)) else [measured]
    ps = predicted if isinstance(predicted, (list, tuple)) else [predicted]
    ok = len(ms) == len(ps) and all(
        sympy.simplify(to_sympy(a) - to_sympy(b)) == 0 for a, b in zip(ms, ps))
    return CheckOutcome(name, params, measured, predicted, passed=bool(ok),
                        tolerance="exact (sympy)", detail=detail)


def _c1_symbolic():
    out = []
    for n in range(2, 8):
        c1, cinf = centring_factor_matrix(n)
        out.append(_exact("|I - J|_1 = |I - J|_inf from the matrix", {"n": n}, [c1, cinf],
                          [centring_factor(n)] * 2))
    out.append(_exact("|I - J|_1 for general n", {"n": "n"}, centring_factor(), 2 - 2 / _n))
    for n in (3, 5, 12):
        out.append(_exact("extremal matrices attain 2(1-1/n)", {"n": n}, list(tight_examples(n)),
                          [centring_factor(n)] * 2, "e_1 in |.|_1, I_n in |.|_inf"))
    return out


def _c2_symbolic():
    ser = two_token_residual_series()
    order = min(t.as_coeff_exponent(_eps)[1] for t in sympy.Add.make_args(ser.removeO()))
    return [_exact("order in eps of the two-token residual", {"n": 2, "d": 1}, order, 3,
                   f"leading term {ser}")]


def _c3_symbolic():
    kappa, y0 = sympy.symbols("kappa y_0")
    sol = depth_solution()
    # log of the C3 bound C^{(3^L - 1)/2} |res_0|^{3^L}, with kappa = log C and y_0 = log|res_0|
    closed = kappa * (3**_L - 1) / 2 + 3**_L * y0
    return [_exact("rsolve of y_{l+1} = 3 y_l + kappa vs the C3 bound's exponents",
                   {"L": "L"}, sol, sympy.expand(closed))]


def _c4_symbolic():
    D = skip_conservation_defect(3, 2)
    return [_exact("(I-J)(X + JXW) - (I-J)X", {"n": 3, "d": 2}, D.norm(), 0)]


def _c5_symbolic():
    out = [_exact("path counts = C(L,k) H^k", {"L": L, "H": "H"}, path_counts(L),
                  [sympy.binomial(L, k) * _H**k for k in range(L + 1)]) for L in (1, 3, 6)]
    out += [_exact("total paths", {"L": "L", "H": "H"}, path_total(), (_H + 1) ** _L),
            _exact("mean length (Binomial(L, H/(H+1)))", {"L": "L", "H": "H"}, path_length_mean(),
                   _L * _H / (_H + 1)),
            _exact("variance of the length", {"L": "L", "H": "H"}, path_length_variance(),
                   _L * _H / (_H + 1) ** 2),
            _exact("BERT-base mean path length", {"L": 12, "H": 12}, path_length_mean(12, 12),
                   sympy.Rational(144, 13), "= 11.08 of 12")]
    return out


RESULTS = {}

RESULTS["dong.residual-norms"] = register(Result(
    id="dong.residual-norms",
    title="Residual and composite norm",
    kind="companion",
    source=f"{_SOURCE}, definitions and code (grade A); the sharp factor 2(1 - 1/n) is gapcheck's",
    statement=("The composite norm sqrt(|X|_1 |X|_inf) is sub-multiplicative and dominates the spectral "
               "norm; the mean-centring residual is within a factor 2(1 - 1/n) (sharp) of the optimal "
               "residual in |.|_1, |.|_inf and the composite norm."),
    assumptions=("X real n x d", "res(X) = X - 1 x*^T, x* optimal for the norm"),
    statement_latex=(r"\|X\|_2^2 \le \|X\|_1\|X\|_\infty,\quad \|(I-J)X\|_p \le 2\big(1-\tfrac1n\big)"
                     r"\min_x \|X - \mathbf 1 x^\top\|_p,\ p\in\{1,\infty\}"),
    symbolic_checks=_c1_symbolic,
    empirical_check="gapcheck.numerics.checks.dong_residual_norms",
    predict=predict_residual_norms, applies=every_model, example=key_query_example,
    holds_beyond=("*",),  # norm inequalities for every n x d matrix: every model's hidden states
    findings=("The factor usually stated is 2; |I - J|_1 = 2(1 - 1/n) is sharp (attained by e_1 in "
              "|.|_1 and by I_n in |.|_inf); random matrices reach ~1.3-1.4.",),
))

RESULTS["dong.cubic"] = register(Result(
    id="dong.cubic",
    title="Cubic contraction of the residual per attention layer",
    kind="companion",
    source=(f"{_SOURCE}: the exponent (grade B, derived); the constant 4 gamma beta/sqrt(d_qk) is "
            "recalled, not retrieved (grade D) and not checked"),
    statement=("For X = 1 x^T + eps R, one self-attention layer has |res(SA(X))| = Theta(eps^3): the "
               "logits are a row constant plus a column part shared by all rows plus O(eps^2)."),
    assumptions=("single layer, softmax attention, fixed weights", "eps -> 0"),
    statement_latex=r"\|\mathrm{res}(\mathrm{SA}(X))\| \le \frac{4\gamma\beta}{\sqrt{d_{qk}}}\,\|\mathrm{res}(X)\|^3",
    symbolic_checks=_c2_symbolic,
    empirical_check="gapcheck.numerics.checks.dong_cubic",
    predict=predict_cubic, applies=pure_attention_applies, example=key_query_example,
))

RESULTS["dong.depth"] = register(Result(
    id="dong.depth",
    title="Doubly exponential collapse of pure attention",
    kind="companion",
    source=f"{_SOURCE}, Theorem 2 shape (grade B; the constant is not checked)",
    statement=("Iterating the cubic contraction, log|res(X_L)| = 3^L (log|res(X_0)| + kappa/2) - "
               "kappa/2: the ratio of successive log-residuals tends to 3."),
    assumptions=("pure self-attention, no skip, no MLP", "start near collapse (cubic regime)"),
    statement_latex=(r"\|\mathrm{res}(\mathrm{SAN}_L(X))\| \le \Big(\frac{4\gamma\beta H}{\sqrt{d_{qk}}}\Big)"
                     r"^{\frac{3^L-1}{2}}\|\mathrm{res}(X)\|^{3^L}"),
    symbolic_checks=_c3_symbolic,
    empirical_check="gapcheck.numerics.checks.dong_depth",
    predict=predict_depth, applies=pure_attention_applies, example=depth_example,
    findings=("With the centred recursion (expm1, separate log-scale) the collapse is followed to "
              "|res| ~ 1e-13000 after 8 layers with no float64 floor (the plain forward pass stalls at "
              "1e-15 after 3); log|res_L|/log|res_{L-1}| = 3.0004-3.0005 at L = 8 (10 networks).",),
))

RESULTS["dong.skip-conserves"] = register(Result(
    id="dong.skip-conserves",
    title="A skip connection conserves the centred part under uniform attention",
    kind="companion",
    source=f"{_SOURCE}, Section 3 (grade A)",
    statement=("(I - J)(X + J X W) = (I - J) X: with a skip and uniform attention the residual is exactly "
               "conserved at every depth; only the relative residual shrinks as the mean token grows."),
    assumptions=("uniform attention A = J", "skip connection X + A X W"),
    statement_latex=r"(I-J)(X + JXW) = (I-J)X",
    symbolic_checks=_c4_symbolic,
    empirical_check="gapcheck.numerics.checks.dong_skip_conserves",
    # a residual stack at uniform attention: the reading of noci.depth-scaling (B4)
    predict=predict_skip_conserves, applies=depth_scaling_applies, example=skip_conserves_example,
))

RESULTS["dong.paths"] = register(Result(
    id="dong.paths",
    title="Path counts with skips",
    kind="companion",
    source=f"{_SOURCE}, path decomposition and paths_counting.ipynb (grade A)",
    statement=("A depth-L network with a skip and H heads per layer is a sum of (H+1)^L paths, C(L,k) H^k "
               "of length k; the length of a uniform path is Binomial(L, H/(H+1)), mean LH/(H+1)."),
    assumptions=("each layer: skip plus H heads, summed",),
    statement_latex=(r"\#\{\text{paths of length }k\} = \binom{L}{k}H^k,\quad "
                     r"\mathbb{E}\,k = \frac{LH}{H+1}"),
    symbolic_checks=_c5_symbolic,
    empirical_check="gapcheck.numerics.checks.dong_paths",
    predict=predict_paths, applies=paths_applies, example=paths_example,
))
