"""Residuals of pure self-attention networks (Dong, Cordonnier, Loukas, ICML
2021; ``docs/derivations.md``, sections dong.*): norms, residuals, networks, paths.

* :func:`l1_norm` (max column sum), :func:`linf_norm` (max row sum),
  :func:`composite_norm` ``sqrt(|X|_1 |X|_inf)``;
* :func:`residual_mean` ``(I - J) X`` and :func:`residual_optimal`
  ``X - 1 x*^T`` with ``x*`` optimal for ``|.|_1`` (column medians) or
  ``|.|_inf`` (a linear programme, :func:`scipy.optimize.linprog`);
* :func:`init_san`, :func:`attention_layer`, :func:`san_forward`: multi-head
  self-attention networks with or without a skip connection;
* :func:`centred_recursion`: the same network written on ``X = 1 m^T + R``
  with the residual update ``R' = (I - J)(A - 1 a^T) R W`` computed without
  cancellation (``expm1``) and with a separate log-scale, so that the
  doubly exponential collapse can be followed far below the float64 floor;
* :func:`path_terms`, :func:`path_length_counts`: the path expansion with skips.

>>> import numpy as np
>>> X = np.array([[1.0, -2.0], [3.0, 0.5]])
>>> float(l1_norm(X)), float(linf_norm(X))
(4.0, 3.5)
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from ...theory._validate import integer, one_of, positive

from ..backend import require_backend
from ..layers import key_query_attention, skip as skip_connection, softmax
from ..rng import as_generator

__all__ = ["l1_norm", "linf_norm", "composite_norm", "residual_mean", "residual_optimal",
           "softmax_rows", "SANLayer", "init_san", "attention_layer", "san_forward",
           "centred_recursion", "path_terms", "path_length_counts"]


#: why Dong et al.'s networks are sampled with numpy only
_NUMPY_ONLY = ("Dong et al.'s checks follow single small networks (one n x d matrix, float64 "
               "log-scales, an LP for the optimal residual); there is nothing to batch on a GPU")


def l1_norm(X):
    """Operator 1-norm: the largest column sum of ``|X|`` (batched over leading axes)."""
    return np.abs(np.asarray(X, dtype=float)).sum(axis=-2).max(axis=-1)


def linf_norm(X):
    """Operator inf-norm: the largest row sum of ``|X|`` (batched over leading axes)."""
    return np.abs(np.asarray(X, dtype=float)).sum(axis=-1).max(axis=-1)


def composite_norm(X):
    """``|X|_{1,inf} = sqrt(|X|_1 |X|_inf)``.

    >>> import numpy as np
    >>> float(composite_norm(np.eye(3)))
    1.0
    """
    return np.sqrt(l1_norm(X) * linf_norm(X))


def residual_mean(X):
    """Mean-centring residual ``(I - J) X`` (the one Dong et al.'s plots use).

    >>> import numpy as np
    >>> residual_mean(np.array([[1.0], [3.0]])).ravel().tolist()
    [-1.0, 1.0]
    """
    X = np.asarray(X, dtype=float)
    return X - X.mean(axis=-2, keepdims=True)


def residual_optimal(X, norm):
    """``(R, value)`` with ``R = X - 1 x*^T`` and ``x*`` minimising ``|X - 1 x^T|``
    in ``norm`` = ``"1"`` (columns decouple: ``x*`` = column medians) or
    ``"inf"`` (LP in ``(x, s, t)``: minimise ``t`` subject to
    ``|X_ij - x_j| <= s_ij``, ``sum_j s_ij <= t``). One matrix ``n x d``.

    The LP is solved on the column-centred matrix scaled to unit max-norm (the
    problem is shift- and scale-equivariant), with HiGHS feasibility
    tolerances 1e-10: HiGHS' absolute default (1e-7) would otherwise dominate
    for small entries (a constant 6e-8 matrix came back with value 1.2e-7,
    not 0). The value is the norm of the returned residual, so it is never
    below the optimum, and exceeds it by at most ~1e-9 of ``max|X - mean|``.

    >>> import numpy as np
    >>> round(residual_optimal(np.eye(3), "inf")[1], 9)
    1.0
    """
    one_of("norm", norm, ("1", "inf"))
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be one n x d matrix (got shape {X.shape})")
    n, d = X.shape
    if norm == "1":
        x = np.median(X, axis=0)
        R = X - x
        return R, float(l1_norm(R))
    centre = X.mean(axis=0)
    scale = float(np.max(np.abs(X - centre)))
    if scale == 0.0:                          # constant columns: x* = centre, residual 0
        R = np.zeros_like(X)
        return R, 0.0
    Xs = (X - centre) / scale
    nv = d + n * d + 1                       # x (d), s (n d, row-major), t
    c = np.zeros(nv)
    c[-1] = 1.0
    rows, b = [], []
    eye_d = np.eye(d)
    for i in range(n):
        for sign in (1.0, -1.0):             # sign (X_ij - x_j) <= s_ij
            blk = np.zeros((d, nv))
            blk[:, :d] = -sign * eye_d
            blk[:, d + i * d: d + (i + 1) * d] = -eye_d
            rows.append(blk)
            b.append(-sign * Xs[i])
        row = np.zeros((1, nv))
        row[0, d + i * d: d + (i + 1) * d] = 1.0
        row[0, -1] = -1.0
        rows.append(row)
        b.append(np.zeros(1))
    res = linprog(c, A_ub=np.vstack(rows), b_ub=np.concatenate(b),
                  bounds=[(None, None)] * d + [(0, None)] * (n * d + 1), method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    if not res.success:
        raise RuntimeError(f"linprog failed: {res.message}")
    R = X - (centre + scale * res.x[:d])
    return R, float(linf_norm(R))


#: the row-wise softmax (:func:`numerics.layers.softmax`), under this module's old name
softmax_rows = softmax


@dataclass(frozen=True)
class SANLayer:
    """Weights of one multi-head self-attention layer: ``Wq, Wk`` of shape
    ``(H, d, d_qk)``, ``Wv`` of shape ``(H, d, d)`` (value and output
    projection merged), temperature ``tau``."""

    Wq: np.ndarray
    Wk: np.ndarray
    Wv: np.ndarray
    tau: float


def init_san(d, depth, *, heads=1, d_qk=None, sigma_qk=1.0, sigma_v=1.0, rng=None,
             backend="numpy"):
    """Gaussian layers: ``Wq, Wk`` entries ``N(0, sigma_qk^2/d)``, ``Wv``
    entries ``N(0, sigma_v^2/(d H))``, ``tau = sqrt(d_qk)``.

    >>> layers = init_san(4, 2, heads=3, rng=0)
    >>> len(layers), layers[0].Wq.shape
    (2, (3, 4, 4))
    """
    integer("d", d, minimum=1)
    integer("depth", depth, minimum=1)
    integer("heads", heads, minimum=1)
    d_qk = d if d_qk is None else integer("d_qk", d_qk, minimum=1)
    positive("sigma_qk", sigma_qk)
    positive("sigma_v", sigma_v)
    require_backend(backend, ("numpy",), "companions.residual.init_san", _NUMPY_ONLY)
    g = as_generator(rng)
    out = []
    for _ in range(depth):
        out.append(SANLayer(
            Wq=g.standard_normal((heads, d, d_qk)) * sigma_qk / np.sqrt(d),
            Wk=g.standard_normal((heads, d, d_qk)) * sigma_qk / np.sqrt(d),
            Wv=g.standard_normal((heads, d, d)) * sigma_v / np.sqrt(d * heads),
            tau=float(np.sqrt(d_qk))))
    return out


def attention_layer(X, layer: SANLayer, *, uniform=False):
    """``sum_h A_h X Wv_h`` with ``A_h = softmax(X Wq_h Wk_h^T X^T / tau)``
    (``uniform=True``: ``A_h = J``). ``X`` is ``(n, d)`` or batched ``(..., n, d)``."""
    X = np.asarray(X, dtype=float)
    out = 0.0
    for h in range(layer.Wv.shape[0]):
        if uniform:
            AX = np.broadcast_to(X.mean(axis=-2, keepdims=True), X.shape)
        else:
            AX = key_query_attention(X, layer.Wq[h], layer.Wk[h], tau=layer.tau) @ X
        out = out + AX @ layer.Wv[h]
    return out


def san_forward(X, layers, *, skip=False, uniform=False):
    """Hidden states ``[X_0, ..., X_L]`` of a pure attention network
    (``X_{l+1} = SA(X_l)``, or ``X_l + SA(X_l)`` with ``skip=True``).

    >>> import numpy as np
    >>> Xs = san_forward(np.ones((3, 2)), init_san(2, 2, rng=0))
    >>> float(np.abs(residual_mean(Xs[-1])).max()) == 0.0
    True
    """
    Xs = [np.asarray(X, dtype=float)]
    for layer in layers:
        Y = attention_layer(Xs[-1], layer, uniform=uniform)
        Xs.append(skip_connection(Xs[-1], Y) if skip else Y)
    return Xs


def centred_recursion(X, layers):
    """The pure attention network on ``X = 1 m^T + s R`` (``R`` centred, unit
    Frobenius norm, ``log s`` carried separately): returns the list of
    ``log |res(X_l)|_F`` (mean-centring residual), ``l = 0..L``.

    Per head, with ``B = Wq Wk^T/tau``, the logits are a row constant plus
    ``b_j = m^T B r_j s`` plus ``c_ij = s^2 r_i^T B r_j``; with
    ``a = softmax(b)``, ``A - 1 a^T = [a_j (expm1(c_ij) - sum_k a_k expm1(c_ik))
    / (1 + sum_k a_k expm1(c_ik))]``, and ``res(X') = (I - J)(A - 1a^T) s R Wv``.
    No difference of nearly equal numbers is formed, so the residual is
    accurate to float64 relative precision at any size (below ``s^2 = 1e-30``
    ``expm1(c) = c`` exactly in float64 and ``c`` is formed from ``log s``).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = 1 + rng.standard_normal((4, 3))
    >>> layers = init_san(3, 2, rng=1)
    >>> naive = [np.log(np.linalg.norm(residual_mean(Y))) for Y in san_forward(X, layers)]
    >>> bool(np.allclose(centred_recursion(X, layers), naive, rtol=1e-9))
    True
    """
    X = np.asarray(X, dtype=float)
    m = X.mean(axis=0)
    R = X - m
    nr = np.linalg.norm(R)
    if nr == 0:
        raise ValueError("X must not be exactly collapsed (its residual is zero)")
    logs, R = np.log(nr), R / nr
    out = [float(logs)]
    for layer in layers:
        lin = 2 * logs <= np.log(1e-30)
        s = np.exp(logs)
        new_R, new_m = 0.0, 0.0
        for h in range(layer.Wv.shape[0]):
            B = layer.Wq[h] @ layer.Wk[h].T / layer.tau
            b = s * (m @ B @ R.T)
            a = softmax(b)
            chat = R @ B @ R.T                      # c = s^2 chat
            if lin:                                 # D / s^2, exact in float64
                Dh = a[None, :] * (chat - (chat @ a)[:, None])
                D_full_scale = 0.0                  # D itself underflows; its mean-part is negligible
            else:
                e = np.expm1(s * s * chat)
                ea = e @ a
                Dh = a[None, :] * (e - ea[:, None]) / (1.0 + ea)[:, None]
                D_full_scale = 1.0
            DRW = Dh @ R @ layer.Wv[h]
            new_R = new_R + (DRW - DRW.mean(axis=0))
            Wv = layer.Wv[h]
            new_m = new_m + Wv.T @ m + s * (Wv.T @ (R.T @ a)) + D_full_scale * s * DRW.mean(axis=0)
        nr = np.linalg.norm(new_R)
        if nr == 0:
            out.append(-np.inf)
            break
        logs = logs + (2 * logs if lin else 0.0) + np.log(nr)
        R = new_R / nr
        m = new_m
        out.append(float(logs))
    return out


def path_terms(X, layers):
    """The path expansion of the skip network with uniform-free *linear*
    attention: for fixed attention matrices ``A_{l,h}`` (those of the forward
    pass), ``X_L = sum over paths prod (A or I) X prod (Wv or I)``. Returns
    ``(total, terms)`` with ``terms[path]`` for each path, a tuple of
    ``0`` (skip) or ``h + 1`` (head h) per layer. Exponential in depth: for
    small checks only.

    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((3, 2))
    >>> total, terms = path_terms(X, init_san(2, 2, heads=2, rng=1))
    >>> len(terms)
    9
    """
    X = np.asarray(X, dtype=float)
    As = []
    Xl = X
    for layer in layers:
        Al = []
        for h in range(layer.Wv.shape[0]):
            Al.append(key_query_attention(Xl, layer.Wq[h], layer.Wk[h], tau=layer.tau))
        As.append(Al)
        Xl = Xl + sum(A @ Xl @ layer.Wv[h] for h, A in enumerate(Al))
    terms = {}
    for path in itertools.product(*[range(layer.Wv.shape[0] + 1) for layer in layers]):
        left = np.eye(X.shape[0])
        right = np.eye(X.shape[1])
        for l, c in enumerate(path):
            if c:
                left = As[l][c - 1] @ left
                right = right @ layers[l].Wv[c - 1]
        terms[path] = left @ X @ right
    return Xl, terms


def path_length_counts(depth, heads):
    """Number of paths of each length ``k = 0..depth`` (``length`` = number of
    attention heads on the path), by enumerating all ``(heads+1)^depth`` paths.

    >>> path_length_counts(2, 2)
    [1, 4, 4]
    """
    integer("depth", depth, minimum=1, maximum=16)
    integer("heads", heads, minimum=1)
    counts = [0] * (depth + 1)
    for path in itertools.product(range(heads + 1), repeat=depth):
        counts[sum(1 for c in path if c)] += 1
    return counts
