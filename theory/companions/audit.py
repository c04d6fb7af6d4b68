r"""Audit of the head-channel / LayerNorm rank claims of seed 002 (Cirrincione,
"Rank, head-channel non-identifiability, and symmetry breaking", arXiv
2604.23681; abstract only): statements D1-D5 (``docs/derivations.md``, sections audit.*),
each stated with the hypotheses under which it holds, and the literal
readings that fail pinned as exact counterexamples.

Only the abstract of the paper was available, so every statement here is
gapcheck's reading: the linear algebra is exact (grade A), the counts and
the PG-OP overhead are reconstructions (grade D) registered as gapcheck's
own claims. D6 (four collapse phenomena, each tied to a
symmetry of the forward pass) is not testable without the paper's
definitions and is deliberately not registered as a checked result.

Exact tools (sympy): :func:`layer_norm_exact`, :func:`affine_rank_exact`,
:func:`ln_counterexamples`; formulas: :func:`ln_rank`,
:func:`ln_affine_rank_generic`, :func:`head_kernel_dimension`,
:func:`gauge_dimension`, :func:`pgop_overhead`.

>>> ln_counterexamples()["radial lift: 2 -> 3"][1:]
(2, 3)
>>> head_kernel_dimension(6, 2, 4, 4)
24
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import mpmath
import sympy

from .._validate import integer, to_sympy
from ..model import AttentionModel
from ..prediction import Prediction
from ..registry import CheckOutcome, Result, register
from .noci import key_query_example

__all__ = ["layer_norm_exact", "affine_rank_exact", "ln_rank", "ln_affine_rank_generic",
           "ln_counterexamples", "relu_rank_one_identity", "head_kernel_dimension",
           "head_kernel_exact", "gauge_dimension", "pgop_overhead", "RESULTS", "TOKENS", "FEATURES",
           "RANK", "HEADS", "D_K", "RANK_O", "LayerNormRank", "ExactCollapse", "AttentionRank",
           "HeadRecovery", "GateOverhead", "specialise"]

_n, _H, _dk, _d, _r, _nmax = sympy.symbols("n H d_k d r n_max", positive=True, integer=True)
_SOURCE = ("Cirrincione, 'Rank, head-channel non-identifiability, and symmetry breaking' "
           "(arXiv 2604.23681, abstract only)")


# --------------------------------------------------------------------------- D1: LayerNorm
def layer_norm_exact(X):
    """Exact LayerNorm without affine parameters (``gamma = 1, beta = 0``):
    each row centred and divided by its population standard deviation.

    >>> layer_norm_exact(sympy.Matrix([[1, 3]]))
    Matrix([[-1, 1]])
    """
    X = sympy.Matrix(X)
    rows = []
    for i in range(X.rows):
        x = X.row(i)
        c = x - sympy.ones(1, X.cols) * (sum(x) / X.cols)
        var = sum(e**2 for e in c) / X.cols
        if var == 0:
            raise ValueError(f"row {i} of X is constant: its LayerNorm is undefined")
        rows.append(c / sympy.sqrt(var))
    return sympy.Matrix.vstack(*rows)


def affine_rank_exact(X):
    """``rank((I - J) X)``, exact (radicals simplified before pivoting).

    >>> affine_rank_exact(sympy.Matrix([[1, 2], [2, 4], [3, 6]]))
    1
    """
    X = sympy.Matrix(X)
    J = sympy.ones(X.rows, X.rows) / X.rows
    return ((sympy.eye(X.rows) - J) * X).rank(simplify=True)


def ln_rank(rank_x, ones_in_rowspace):
    """``rank LN(X) = rank(X P) = rank X - [1 in rowspace(X)]`` (``beta = 0``,
    no zero ``gamma_k``): ``D^{-1}`` and ``Gamma`` are invertible and ``P``
    removes exactly the ``1`` direction.

    >>> ln_rank(3, True), ln_rank(3, False)
    (2, 3)
    """
    return to_sympy(rank_x) - (1 if ones_in_rowspace else 0)


def ln_affine_rank_generic(n=_n, d=_d, r=_r):
    """Affine rank of ``LN(X)`` for ``n`` tokens in generic position on an
    ``r``-dimensional affine subspace of ``R^d`` (``d >= 3``): LN maps the
    subspace into ``1^perp`` and rescales each token radially onto a sphere,
    so for ``r >= 1`` the tokens span the ``(r+1)``-dimensional linear hull of
    the subspace, inside the ``(d-1)``-dimensional ``1^perp``:
    ``min(r + 1, n - 1, d - 1)``; ``r = 0`` (one repeated token) stays 0.
    (For ``d = 2`` the sphere in ``1^perp`` is two points, ``+-(1, -1)``: the
    result is 0 or 1 depending on signs, not generic.)

    >>> ln_affine_rank_generic(4, 4, 2), ln_affine_rank_generic(10, 8, 8), ln_affine_rank_generic(5, 6, 0)
    (3, 7, 0)
    """
    n, d, r = to_sympy(n), to_sympy(d), to_sympy(r)
    if d.is_number and d < 3:
        raise ValueError(f"d must be an integer >= 3 for the generic formula (got {d})")
    return sympy.Piecewise((0, sympy.Eq(r, 0)), (sympy.Min(r + 1, n - 1, d - 1), True))


@functools.lru_cache(maxsize=None)
def ln_counterexamples():
    """The pinned counterexamples to "LayerNorm preserves the affine rank":
    name -> (X, affine rank of X, affine rank of LN(X)), all exact.

    * radial lift: four tokens on a 2-dimensional affine plane of ``R^4`` -> 3;
    * ``n > d``: five generic tokens in ``R^3`` (affine rank 3) -> 2;
    * merge: ``x, 2x + 1, 3x - 1`` (scale and shift along ``1``) -> 0, i.e.
      LayerNorm alone creates an exact collapse.
    """
    c = sympy.Matrix([[1, 0, 2, 5]])
    b1, b2 = sympy.Matrix([[1, 2, 0, 1]]), sympy.Matrix([[0, 1, 3, 1]])
    lift = sympy.Matrix.vstack(*[c + t1 * b1 + t2 * b2 for t1, t2 in ((0, 0), (1, 0), (0, 1), (2, 3))])
    wide = sympy.Matrix([[1, 0, 2], [0, 3, 1], [2, 2, 5], [4, 1, 0], [1, 5, 2]])
    x = sympy.Matrix([[1, 2, 4]])
    one = sympy.ones(1, 3)
    merge = sympy.Matrix.vstack(x, 2 * x + one, 3 * x - one)
    out = {}
    for name, X in (("radial lift: 2 -> 3", lift), ("n > d: 3 -> 2", wide), ("merge: 2 -> 0", merge)):
        out[name] = (X, affine_rank_exact(X), affine_rank_exact(layer_norm_exact(X)))
    return out


# --------------------------------------------------------------------------- D3: activations
def relu_rank_one_identity():
    """``relu(a b) - (relu(a) relu(b) + relu(-a) relu(-b))`` on the four sign
    cases of ``(a, b)``: all zero, so ``relu(a b^T)`` has rank <= 2."""
    p, q = sympy.symbols("p q", positive=True)
    relu = lambda t: sympy.Max(t, 0)  # noqa: E731
    return [sympy.simplify(relu(a * b) - (relu(a) * relu(b) + relu(-a) * relu(-b)))
            for a in (p, -p) for b in (q, -q)]


# --------------------------------------------------------------------------- D4: heads
def head_kernel_dimension(n=_n, H=_H, d_k=_dk, rank_wo=None):
    """Kernel dimension of ``(O_1..O_H) -> sum_h O_h W_O^h``: the map is
    ``I_n (x) W_O^T`` on ``vec(O)``, of rank ``n rank(W_O)``, so the kernel has
    dimension ``n (H d_k - rank W_O)``; ``rank_wo`` defaults to the generic
    ``min(H d_k, d)`` when given as ``d`` through :func:`head_kernel_exact`.

    >>> head_kernel_dimension(6, 2, 4, 4)
    24
    """
    rank_wo = to_sympy(_d if rank_wo is None else rank_wo)
    return to_sympy(n) * (to_sympy(H) * to_sympy(d_k) - rank_wo)


def head_kernel_exact(n, Wo):
    """Exact kernel dimension of the head-sum map for a rational ``W_O``
    (``(H d_k) x d``), from the nullspace of ``I_n (x) W_O^T``.

    >>> head_kernel_exact(2, sympy.Matrix([[1, 0], [0, 1], [1, 1]]))
    2
    """
    Wo = sympy.Matrix(Wo)
    n = integer("n", n, minimum=1)
    M = sympy.kronecker_product(sympy.eye(n), Wo.T)
    return len(M.nullspace())


def gauge_dimension(H=_H, d_k=_dk):
    """Dimension of the continuous per-head symmetries ``W_V -> W_V M``,
    ``W_O -> M^{-1} W_O`` and ``W_Q -> W_Q N``, ``W_K -> W_K N^{-T}``:
    ``dim GL(d_k)^{2H} = 2 H d_k^2``."""
    return 2 * to_sympy(H) * to_sympy(d_k) ** 2


# --------------------------------------------------------------------------- D5: PG-OP
def pgop_overhead(d=_d, H=_H, per_position=False, n_max=_nmax):
    """Parameter overhead of a position gate over ``W_O`` (``d^2`` parameters):
    ``H (d + 1)/d^2`` for ``sigmoid(W_g pos + b_g)`` with ``W_g`` in
    ``R^{H x d}`` (our reading), or ``n_max H/d^2`` for a per-position table.

    >>> pgop_overhead(768, 12)
    769/49152
    """
    d, H = to_sympy(d), to_sympy(H)
    count = to_sympy(n_max) * H if per_position else H * d + H
    return count / d**2


# --------------------------------------------------------------------------- predictions
#: the statements' own parameters, free in the predictions (each statement holds for
#: every shape, so they are not the model's n, d or heads): a token matrix X with n_X
#: rows, d_X columns and rank (or affine dimension) r_X; H_X heads of width d_k; the
#: rank r_O of the output projection
TOKENS = sympy.Symbol("n_X", positive=True, integer=True)
FEATURES = sympy.Symbol("d_X", positive=True, integer=True)
RANK = sympy.Symbol("r_X", nonnegative=True, integer=True)
HEADS = sympy.Symbol("H_X", positive=True, integer=True)
D_K = _dk
RANK_O = sympy.Symbol("r_O", nonnegative=True, integer=True)


def specialise(expr, *, n=None, d=None, r=None, H=None, d_k=None, r_O=None):
    """A prediction field at one shape (the statement's own parameters): an int
    where it is a whole number, else a float.

    >>> specialise(sympy.Min(2 * RANK, TOKENS, FEATURES), n=7, d=6, r=2)
    4
    """
    names = {TOKENS: n, FEATURES: d, RANK: r, HEADS: H, D_K: d_k, RANK_O: r_O}
    value = to_sympy(expr).subs({s: v for s, v in names.items() if v is not None})
    if not value.is_number:
        raise ValueError(f"{expr} is not a number at this shape (got {value})")
    return int(value) if value == int(value) else float(value)


@dataclass(frozen=True)
class LayerNormRank(Prediction):
    """D1 for the model's LayerNorm (read at eps = 0, beta = 0): ``rank LN(X) =
    rank X - rank_drop [1 in rowspace X]``; a generic configuration of
    :data:`TOKENS` tokens on an :data:`RANK`-dimensional affine subspace of
    ``R^``:data:`FEATURES` has ``affine_rank`` after LN; the tokens ``x, 2x + 1,
    3x - 1`` have affine rank ``merged`` after LN."""

    rank_drop: object
    affine_rank: object
    merged: object


def predict_ln_rank(model) -> LayerNormRank:
    """:func:`ln_rank`, :func:`ln_affine_rank_generic` and the exact merge
    counterexample of :func:`ln_counterexamples` (constant in the model)."""
    return LayerNormRank(rank_drop=ln_rank(RANK, False) - ln_rank(RANK, True),
                         affine_rank=ln_affine_rank_generic(TOKENS, FEATURES, RANK),
                         merged=sympy.Integer(ln_counterexamples()["merge: 2 -> 0"][2]))


def ln_applies(model) -> str | None:
    """D1 is about the LayerNorm map: a model with LayerNorm."""
    return None if getattr(model, "layernorm", False) else "the statement is about LayerNorm (the model has none)"


def ln_example() -> AttentionModel:
    """The key-query layer of :func:`theory.companions.noci.key_query_example` with LayerNorm."""
    return key_query_example().replace(layernorm=True)


@dataclass(frozen=True)
class ExactCollapse(Prediction):
    """D2 for one layer of the model: whether (1) or not (0) ``res(X + alpha A X W)``
    (with the skip) and ``res(J X W)`` (uniform attention, the ``W_Q -> 0``
    limit, without the skip) vanish exactly for generic weights and inputs."""

    with_skip: object
    uniform_without_skip: object


def predict_skip_collapse(model) -> ExactCollapse:
    """Read off the exact steps: ``res(X + A X W)`` at ``W = 0`` is ``res(X)``, not
    identically zero (so zero only on a null set), and ``res(J X W) = 0``
    identically (:func:`_skip_symbolic`'s two identities, evaluated here)."""
    outcomes = _skip_identities()
    return ExactCollapse(with_skip=sympy.Integer(not outcomes[0].passed),
                         uniform_without_skip=sympy.Integer(outcomes[1].passed))


def skip_applies(model) -> str | None:
    """D2: softmax key-query attention with a skip, no LayerNorm."""
    if getattr(model, "attention", None) != "key-query":
        return "the statement is about softmax key-query attention"
    if model.skip is None:
        return "the statement is about a residual layer X + alpha A X W (the model has no skip)"
    if model.layernorm:
        return "the statement reads the residual stream without LayerNorm"
    return None


def skip_example() -> AttentionModel:
    """The key-query layer of :func:`theory.companions.noci.key_query_example` with a skip alpha = 1/2."""
    return key_query_example().replace(skip=sympy.Rational(1, 2))


@dataclass(frozen=True)
class AttentionRank(Prediction):
    """D3 for the model's attention A (generic): for ``X`` of rank :data:`RANK`
    (:data:`TOKENS` x :data:`FEATURES`) and any ``W``, ``rank(A X W) <= path``,
    ``rank(X + A X W) = skip``; for a rank-one ``a b^T`` with mixed signs,
    ``rank relu(a b^T) = relu`` and ``rank tanh(a b^T) = tanh``."""

    path: object
    skip: object
    relu: object
    tanh: object


def predict_attention_rank(model) -> AttentionRank:
    """Constant in the model: one path is a product (``rank <= r``), the skip a sum
    of two generic rank-r terms, ``relu(a b^T) = a_+ b_+^T + a_- b_-^T`` two
    rank-one terms (:func:`relu_rank_one_identity`), ``tanh`` generic."""
    return AttentionRank(path=RANK, skip=sympy.Min(2 * RANK, TOKENS, FEATURES),
                         relu=sympy.Integer(2),
                         tanh=sympy.Min(TOKENS, FEATURES))


def attention_rank_applies(model) -> str | None:
    """D3 needs generic attention: with ``A = I`` the skip ``X + X W = X (I + W)`` keeps rank r."""
    if getattr(model, "attention", "identity") == "identity":
        return "the statement needs generic attention (A = I gives X + X W = X (I + W), rank r)"
    return None


@dataclass(frozen=True)
class HeadRecovery(Prediction):
    """D4 for multi-head attention with :data:`HEADS` heads of width :data:`D_K`
    on :data:`TOKENS` tokens, ``W_O`` of rank :data:`RANK_O`: the head sum has a
    kernel of dimension ``kernel``; the per-head symmetries span ``gauge``
    parameter directions."""

    kernel: object
    gauge: object


def predict_heads(model) -> HeadRecovery:
    """:func:`head_kernel_dimension` and :func:`gauge_dimension` (constant in the model)."""
    return HeadRecovery(kernel=head_kernel_dimension(TOKENS, HEADS, D_K, RANK_O), gauge=gauge_dimension(HEADS, D_K))


def multihead_applies(model) -> str | None:
    """D4, D5: multi-head key-query attention (its heads, W_V, W_O and W_Q, W_K)."""
    if getattr(model, "attention", None) != "key-query":
        return "the statement is about multi-head key-query attention"
    return None


@dataclass(frozen=True)
class GateOverhead(Prediction):
    """D5 (gapcheck's reading): the parameters of a position gate ``sigmoid(W_g pos
    + b_g)`` over those of ``W_O``, for width :data:`FEATURES` and :data:`HEADS` heads."""

    overhead: object


def predict_pgop(model) -> GateOverhead:
    """:func:`pgop_overhead` (constant in the model)."""
    return GateOverhead(overhead=pgop_overhead(FEATURES, HEADS))


# --------------------------------------------------------------------------- checks
def _outcome(name, params, measured, predicted, ok, tol="exact (sympy)", detail=""):
    return CheckOutcome(name, params, measured, predicted, passed=bool(ok), tolerance=tol,
                        detail=detail)


def _ln_symbolic():
    out = []
    for name, (X, before, after) in ln_counterexamples().items():
        n, d = X.shape
        if name.startswith("merge"):     # LN(a x + b 1) = LN(x) for a > 0: every token the same point
            pred, why = 0, "non-generic: positive scale and shift along 1 are invisible to LN"
        else:
            pred, why = ln_affine_rank_generic(n, d, before), "generic: min(r + 1, n - 1, d - 1)"
        out.append(_outcome(f"pinned counterexample, {name}", {"n": n, "d": d},
                            [before, after], [before, pred], after == pred and after != before,
                            detail=f"affine rank before and after LayerNorm; {why}"))
    # the lift is confirmed by a 50-digit singular value of the centred LN matrix
    X = ln_counterexamples()["radial lift: 2 -> 3"][0]
    Y = layer_norm_exact(X)
    C = (sympy.eye(4) - sympy.ones(4, 4) / 4) * Y
    with mpmath.workdps(50):
        s = mpmath.svd_r(mpmath.matrix(C.evalf(60).tolist()), compute_uv=False)
        third = float(sorted([abs(v) for v in s], reverse=True)[2])
    out.append(_outcome("radial lift: third singular value of (I-J) LN(X) at 50 digits",
                        {"n": 4, "d": 4}, third, "> 0 (rank 3)", third > 1e-30, "50-digit SVD"))
    # what holds: rank LN(X) = rank X - [1 in rowspace X]
    cases = {"1 in the row space": sympy.Matrix([[1, 2, 3], [2, 3, 4]]),
             "generic, n < d": sympy.Matrix([[1, 0, 2, 5], [0, 3, 1, 1], [2, 2, 5, 0]])}
    for name, X in cases.items():
        inrow = sympy.Matrix.vstack(X, sympy.ones(1, X.cols)).rank() == X.rank()
        got = layer_norm_exact(X).rank(simplify=True)
        out.append(_outcome(f"rank LN(X) = rank X - [1 in rowspace], {name}", {"shape": list(X.shape)},
                            got, ln_rank(X.rank(), inrow), got == ln_rank(X.rank(), inrow)))
    return out


@functools.lru_cache(maxsize=None)
def _skip_identities():
    return tuple(_skip_symbolic())


def _skip_symbolic():
    x1, x2, a, w = sympy.symbols("x_1 x_2 a w", real=True)
    X = sympy.Matrix([[x1], [x2]])
    A = sympy.Matrix([[a, 1 - a], [1 - a, a]])          # any row-stochastic 2 x 2 (symmetric case)
    res = lambda M: M - sympy.ones(2, 2) / 2 * M       # noqa: E731
    with_skip = res(X + A * X * w)
    no_skip_uniform = res(sympy.ones(2, 2) / 2 * X * w)
    return [_outcome("res(X + A X W) at W = 0 equals res(X) (analytic, not identically zero)",
                     {"n": 2, "d": 1}, with_skip.subs(w, 0), res(X),
                     sympy.simplify(with_skip.subs(w, 0) - res(X)) == sympy.zeros(2, 1)),
            _outcome("no skip, uniform attention: res(J X W) = 0", {"n": 2, "d": 1},
                     sympy.simplify(no_skip_uniform), sympy.zeros(2, 1),
                     sympy.simplify(no_skip_uniform) == sympy.zeros(2, 1))]


def _attention_rank_symbolic():
    vals = relu_rank_one_identity()
    return [_outcome("relu(ab) = relu(a)relu(b) + relu(-a)relu(-b), four sign cases", {},
                     vals, [0] * 4, all(v == 0 for v in vals))]


def _heads_symbolic():
    out = []
    cases = [(2, sympy.Matrix([[1, 0, 2], [0, 1, 1], [1, 1, 0], [2, 0, 1]]), 2, 2, 3),   # H dk = 4 > d = 3
             (3, sympy.Matrix([[1, 2], [0, 1]]), 1, 2, 2),                                 # invertible
             (2, sympy.Matrix([[1, 2, 3], [2, 4, 6], [0, 1, 1], [0, 2, 2]]), 2, 2, 3)]     # rank 2
    for n, Wo, H, dk, d in cases:
        rank = Wo.rank()
        out.append(_outcome("kernel of the head sum: exact nullspace vs n(H d_k - rank W_O)",
                            {"n": n, "H": H, "d_k": dk, "d": d, "rank W_O": rank},
                            head_kernel_exact(n, Wo), head_kernel_dimension(n, H, dk, rank),
                            head_kernel_exact(n, Wo) == head_kernel_dimension(n, H, dk, rank)))
    out.append(_outcome("the abstract's n(H-1)d_k is the kernel iff rank W_O = d_k",
                        {"n": "n", "H": "H", "d_k": "d_k"},
                        sympy.factor(head_kernel_dimension(rank_wo=_dk)), _n * (_H - 1) * _dk,
                        sympy.simplify(head_kernel_dimension(rank_wo=_dk) - _n * (_H - 1) * _dk) == 0))
    return out


def _pgop_symbolic():
    v = pgop_overhead(768, 12)
    table = pgop_overhead(768, 12, per_position=True, n_max=512)
    series = sympy.expand(pgop_overhead(_H * _dk, _H).subs(_H * _dk, _d))
    return [_outcome("BERT-base overhead H(d+1)/d^2 below 1.6%", {"d": 768, "H": 12},
                     float(v), "< 0.016", v < sympy.Rational(16, 1000), "exact rational",
                     f"{float(100 * v):.4f}%"),
            _outcome("overhead = 1/d_k + 1/(d d_k) (d = H d_k)", {"d": "H d_k"},
                     sympy.simplify(pgop_overhead(_H * _dk, _H)),
                     1 / _dk + 1 / (_H * _dk**2),
                     sympy.simplify(pgop_overhead(_H * _dk, _H) - 1 / _dk - 1 / (_H * _dk**2)) == 0,
                     detail=str(series)),
            _outcome("per-position table n_max H/d^2 (BERT-base, n_max = 512)", {"n_max": 512},
                     float(table), 1 / 96, table == sympy.Rational(1, 96))]


RESULTS = {}

RESULTS["audit.ln-rank"] = register(Result(
    id="audit.ln-rank",
    title="LayerNorm and rank: what holds, and three counterexamples",
    kind="companion",
    source=(f"{_SOURCE}; the true statement and the counterexamples are gapcheck's reading "
            "(grade A for what holds)"),
    statement=("With beta = 0 and no zero gamma_k, rank LN(X) = rank X - [1 in rowspace X]. LayerNorm does "
               "not preserve the affine rank: a generic r-dimensional configuration of n tokens in R^d "
               "(r >= 1, d >= 3) has affine rank min(r + 1, n - 1, d - 1) after LN, and tokens differing by a positive "
               "scale and a shift along 1 are merged."),
    assumptions=("LN without eps (no constant token)", "beta = 0, gamma_k != 0 for the rank statement",
                 "generic position, r >= 1 and d >= 3 for the affine-rank formula (d = 2: LN tokens are "
                 "+-(1, -1))",
                 "affine rank = dim of the affine hull = rank((I - J) X)"),
    statement_latex=(r"\operatorname{rank}\mathrm{LN}(X) = \operatorname{rank}X - [\mathbf 1\in\operatorname{row}X],"
                     r"\quad \operatorname{rank}\big((I-J)\mathrm{LN}(X)\big) = \min(r+1,\,n-1,\,d-1)"),
    symbolic_checks=_ln_symbolic,
    empirical_check="gapcheck.numerics.checks.audit_ln_rank",
    # the LayerNorm map on any token matrix: whatever else the model has
    predict=predict_ln_rank, applies=ln_applies, example=ln_example, holds_beyond=("*",),
    findings=("The literal claim 'LN preserves the affine rank exactly' is false (2 -> 3, 3 -> 2, 2 -> 0 "
              "pinned exactly); 'generic matrices keep their rank' holds only for n < d: for n >= d the "
              "row space contains 1 and the rank drops by one.",),
))

RESULTS["audit.skip-no-exact-collapse"] = register(Result(
    id="audit.skip-no-exact-collapse",
    title="Skip connections obstruct exact collapse",
    kind="companion",
    source=f"{_SOURCE}; gapcheck's precise version (grade A)",
    statement=("For any finite depth, res(output) of X + A X W_V is a real-analytic function of the "
               "parameters, not identically zero (W_V = 0), so exact collapse happens only on a null set; "
               "without the skip, uniform attention collapses exactly in one layer."),
    assumptions=("finite depth", "softmax attention, any Gaussian initialisation",
                 "'no exact collapse' is compatible with an exponential approach to collapse"),
    statement_latex=r"\mathrm{res}(X + AXW_V) \not\equiv 0,\qquad \mathrm{res}(JXW_V) = 0",
    symbolic_checks=_skip_symbolic,
    empirical_check="gapcheck.numerics.checks.audit_skip_no_exact_collapse",
    predict=predict_skip_collapse, applies=skip_applies, example=skip_example, holds_beyond=("heads", "skip"),
))

RESULTS["audit.attention-rank"] = register(Result(
    id="audit.attention-rank",
    title="What one attention path cannot create",
    kind="companion",
    source=f"{_SOURCE}; gapcheck's version of 'outside the linear span' (grade A)",
    statement=("One attention path never raises rank (rank A X W <= rank X); a sum of paths (skip) can, up "
               "to twice; ReLU of a rank-one pre-activation has rank <= 2, while tanh generically gives "
               "full rank."),
    assumptions=("A any n x n matrix, W any d x d matrix", "generic weights for the equalities"),
    statement_latex=(r"\operatorname{rank}(AXW)\le\operatorname{rank}X,\quad "
                     r"\mathrm{relu}(ab^\top) = a_+b_+^\top + a_-b_-^\top"),
    symbolic_checks=_attention_rank_symbolic,
    empirical_check="gapcheck.numerics.checks.audit_attention_rank",
    predict=predict_attention_rank, applies=attention_rank_applies, example=key_query_example,
))

RESULTS["audit.head-recovery"] = register(Result(
    id="audit.head-recovery",
    title="Head-channel non-identifiability and the gauge symmetries",
    kind="companion",
    source=(f"{_SOURCE}; linear algebra grade A; the count n(H-1)d_k is the abstract's, read by gapcheck "
            "(grade D)"),
    statement=("The head sum (O_1..O_H) -> sum_h O_h W_O^h has a kernel of dimension n(H d_k - rank W_O): "
               "per-head outputs are recoverable given W_O iff rank W_O = H d_k; the abstract's n(H-1)d_k "
               "is this dimension when rank W_O = d_k. The per-head symmetries (W_V M, M^{-1} W_O) and "
               "(W_Q N, W_K N^{-T}) span 2 H d_k^2 parameter directions, all of the continuous ones."),
    assumptions=("W_O fixed and known", "d_k <= d; generic weights and inputs for the Jacobian rank"),
    statement_latex=(r"\dim\ker\Big((O_h)_h\mapsto\sum_h O_hW_O^h\Big) = n\,(Hd_k - \operatorname{rank}W_O),"
                     r"\quad \dim\ker D_\theta\,\mathrm{MHA} = 2Hd_k^2"),
    symbolic_checks=_heads_symbolic,
    empirical_check="gapcheck.numerics.checks.audit_head_recovery",
    predict=predict_heads, applies=multihead_applies, example=key_query_example,
    holds_beyond=("heads", "d_k", "out_proj"),
))

RESULTS["audit.pgop-overhead"] = register(Result(
    id="audit.pgop-overhead",
    title="PG-OP parameter overhead",
    kind="companion",
    source=("gapcheck's own claim (grade D; reconstructed from the abstract of Cirrincione, "
            "arXiv 2604.23681: 'below 1.6%')"),
    statement=("If the position gate is sigmoid(W_g pos + b_g) with W_g in R^{H x d}, its overhead over W_O "
               "is H(d+1)/d^2 ~ 1/d_k: 1.5645% for BERT-base (d = 768, H = 12), matching 'below 1.6%'."),
    assumptions=("gate parameters W_g (H x d) and b_g (H)", "overhead relative to the d^2 of W_O"),
    statement_latex=r"\frac{H(d+1)}{d^2} = \frac{1}{d_k} + \frac{1}{d\,d_k}",
    symbolic_checks=_pgop_symbolic,
    empirical_check="gapcheck.numerics.checks.audit_pgop_overhead",
    predict=predict_pgop, applies=multihead_applies, example=key_query_example,
    holds_beyond=("heads", "d_k", "out_proj"),
))
