"""Linear algebra behind the audit of the head-channel / LayerNorm claims
(``docs/derivations.md``, sections audit.*): LayerNorm and ranks, multi-head attention, its
gauge symmetries and parameter Jacobian, and the head-recovery map.

>>> import numpy as np
>>> X = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])
>>> int(numerical_rank(X)), int(affine_rank(X))
(1, 1)
>>> int(affine_rank(layer_norm(X)))
0
"""
from __future__ import annotations

import numpy as np

from ...theory._validate import integer

from ..backend import require_backend
from ..layers import layernorm, softmax, softmax_jvp
from ..rng import as_generator

__all__ = ["require_numpy", "numerical_rank", "affine_rank", "ones_in_rowspace", "layer_norm",
           "affine_configuration", "low_rank", "init_heads", "multihead_attention",
           "gauge_transform", "parameter_jacobian", "head_recovery_matrix",
           "kernel_dimension"]

RTOL = 1e-9


#: why the head-channel / LayerNorm audit runs on numpy only
_NUMPY_ONLY = ("an exact audit of ranks and Jacobians of small matrices (einsum, SVD with a "
               "relative threshold); there is nothing to gain on a GPU")


def require_numpy(backend, what: str) -> str:
    """:func:`numerics.backend.require_backend` for the audit's numpy-only code
    (a check that builds its matrices itself says so on another backend)."""
    return require_backend(backend, ("numpy",), what, _NUMPY_ONLY)


def numerical_rank(X, rtol=RTOL):
    """Number of singular values above ``rtol`` times the largest (0 for a zero matrix)."""
    s = np.linalg.svd(np.asarray(X, dtype=float), compute_uv=False)
    if s.size == 0 or s[0] == 0:
        return 0
    return int(np.sum(s > rtol * s[0]))


def affine_rank(X, rtol=RTOL):
    """Dimension of the affine hull of the rows: ``rank((I - J) X)``, with the
    threshold relative to the largest row norm of ``X`` (so that exactly
    merged tokens give 0)."""
    X = np.asarray(X, dtype=float)
    C = X - X.mean(axis=0)
    s = np.linalg.svd(C, compute_uv=False)
    ref = max(np.abs(X).max(), 1e-300)
    return int(np.sum(s > rtol * ref * np.sqrt(X.size)))


def ones_in_rowspace(X, rtol=RTOL):
    """Whether the all-ones vector lies in the row space of ``X``."""
    X = np.asarray(X, dtype=float)
    return numerical_rank(np.vstack([X, np.ones(X.shape[1])]), rtol) == numerical_rank(X, rtol)


def layer_norm(X, gamma=None, beta=None, eps=0.0):
    """``LN(X) = D^{-1} X P Gamma + 1 beta^T``: each token (row) centred over its
    features, divided by its standard deviation (``ddof = 0``), scaled by
    ``gamma`` and shifted by ``beta``. With ``eps = 0`` a constant token is an
    error (its LayerNorm is undefined).

    >>> import numpy as np
    >>> np.round(layer_norm(np.array([[1.0, 3.0]])), 12).tolist()
    [[-1.0, 1.0]]
    """
    # eps = 0 on purpose (default): the audit's rank identities are exact
    # (tokens x, 2x + 1, 3x - 1 merge into one point only without eps), so the
    # package's LAYERNORM_EPS would break the exact counterexamples.
    Y = layernorm(np.asarray(X, dtype=float), eps=eps)
    if gamma is not None:
        Y = Y * np.asarray(gamma, dtype=float)
    if beta is not None:
        Y = Y + np.asarray(beta, dtype=float)
    return Y


def affine_configuration(n, d, r, *, rng=None, backend="numpy"):
    """``n`` tokens ``c + B t_i`` on a generic ``r``-dimensional affine subspace of ``R^d``."""
    integer("d", d, minimum=1)
    integer("r", r, minimum=0, maximum=d)
    integer("n", n, minimum=1)
    require_numpy(backend, "companions.heads.affine_configuration")
    g = as_generator(rng)
    return g.standard_normal(d) + g.standard_normal((n, r)) @ g.standard_normal((r, d))


def low_rank(n, d, r, *, rng=None, backend="numpy"):
    """A generic ``n x d`` matrix of rank ``r``."""
    integer("r", r, minimum=0, maximum=min(n, d))
    require_numpy(backend, "companions.heads.low_rank")
    g = as_generator(rng)
    return g.standard_normal((n, r)) @ g.standard_normal((r, d))


def init_heads(d, heads, d_k, *, rng=None, backend="numpy"):
    """Gaussian multi-head weights: ``Wq, Wk, Wv`` of shape ``(H, d, d_k)`` and
    ``Wo`` of shape ``(H, d_k, d)``, entries of variance ``1/d``."""
    integer("d", d, minimum=1)
    integer("heads", heads, minimum=1)
    integer("d_k", d_k, minimum=1)
    require_numpy(backend, "companions.heads.init_heads")
    g = as_generator(rng)
    s = 1 / np.sqrt(d)
    return {"Wq": g.standard_normal((heads, d, d_k)) * s, "Wk": g.standard_normal((heads, d, d_k)) * s,
            "Wv": g.standard_normal((heads, d, d_k)) * s, "Wo": g.standard_normal((heads, d_k, d)) * s}


def multihead_attention(X, p, *, per_head=False):
    """``sum_h softmax(X Wq_h Wk_h^T X^T / sqrt(d_k)) X Wv_h Wo_h``; with
    ``per_head=True`` also the head outputs ``O_h = A_h X Wv_h`` (``(H, n, d_k)``).

    >>> import numpy as np
    >>> p = init_heads(4, 2, 2, rng=0)
    >>> multihead_attention(np.ones((3, 4)), p).shape
    (3, 4)
    """
    X = np.asarray(X, dtype=float)
    tau = np.sqrt(p["Wq"].shape[-1])
    Q = np.einsum("nd,hdk->hnk", X, p["Wq"])
    K = np.einsum("nd,hdk->hnk", X, p["Wk"])
    A = softmax(Q @ np.swapaxes(K, -1, -2) / tau)
    O = A @ np.einsum("nd,hdk->hnk", X, p["Wv"])
    Y = np.einsum("hnk,hkd->nd", O, p["Wo"])
    return (Y, O) if per_head else Y


def gauge_transform(p, M, N):
    """Apply the per-head symmetries ``Wv -> Wv M_h``, ``Wo -> M_h^{-1} Wo`` and
    ``Wq -> Wq N_h``, ``Wk -> Wk N_h^{-T}`` (``M, N`` of shape ``(H, d_k, d_k)``)."""
    return {"Wq": p["Wq"] @ N, "Wk": p["Wk"] @ np.linalg.inv(np.swapaxes(N, -1, -2)),
            "Wv": p["Wv"] @ M, "Wo": np.linalg.solve(M, p["Wo"])}


_KEYS = ("Wq", "Wk", "Wv", "Wo")


def parameter_jacobian(Xs, p):
    """Jacobian of the stacked outputs ``[MHA(X) for X in Xs]`` with respect to
    all parameters (``Wq, Wk, Wv, Wo`` flattened in that order), by exact
    forward-mode derivatives (``dA = A * (dS - rowsum(A * dS))``), one column per
    parameter; shape ``(len(Xs) n d, 4 H d d_k)``."""
    sizes = [p[k].size for k in _KEYS]
    P = sum(sizes)
    H, d, dk = p["Wq"].shape
    tau = np.sqrt(dk)
    eye = np.eye(P)
    dirs, start = {}, 0
    for k, sz in zip(_KEYS, sizes):         # (P, *shape) basis directions
        dirs[k] = eye[:, start:start + sz].reshape((P,) + p[k].shape)
        start += sz
    rows = []
    for X in Xs:
        X = np.asarray(X, dtype=float)
        Q = np.einsum("nd,hdk->hnk", X, p["Wq"])
        K = np.einsum("nd,hdk->hnk", X, p["Wk"])
        V = np.einsum("nd,hdk->hnk", X, p["Wv"])
        A = softmax(Q @ np.swapaxes(K, -1, -2) / tau)
        dQ = np.einsum("nd,phdk->phnk", X, dirs["Wq"])
        dK = np.einsum("nd,phdk->phnk", X, dirs["Wk"])
        dV = np.einsum("nd,phdk->phnk", X, dirs["Wv"])
        dS = (dQ @ np.swapaxes(K, -1, -2) + Q @ np.swapaxes(dK, -1, -2)) / tau
        dA = softmax_jvp(A, dS)
        dY = (np.einsum("phnm,hmk,hkd->pnd", dA, V, p["Wo"])
              + np.einsum("hnm,phmk,hkd->pnd", A, dV, p["Wo"])
              + np.einsum("hnm,hmk,phkd->pnd", A, V, dirs["Wo"]))
        rows.append(dY.reshape(P, -1).T)
    return np.vstack(rows)


def head_recovery_matrix(n, Wo):
    """Matrix of the linear map ``(O_1..O_H) -> sum_h O_h Wo_h`` on
    ``vec(O)`` (``O = [O_1 ... O_H]`` is ``n x H d_k``, row-major): ``I_n (x) Wo^T``
    with ``Wo`` stacked to ``(H d_k) x d``."""
    integer("n", n, minimum=1)
    Wo = np.asarray(Wo, dtype=float)
    W = Wo.reshape(-1, Wo.shape[-1]) if Wo.ndim == 3 else Wo
    return np.kron(np.eye(n), W.T)


def kernel_dimension(M, rtol=RTOL):
    """``columns - numerical_rank(M)``."""
    return int(np.asarray(M).shape[1] - numerical_rank(M, rtol))
