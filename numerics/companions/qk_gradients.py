"""Jacobians of one attention layer ``S = A X W_V``, ``A = softmax(X W_Q W_K^T X^T / tau)``
with respect to ``W_Q``, ``W_K``, ``W_V`` (Noci et al.; G&G "Result 2"), and the
uniform-attention / linear-stack samplers of the Noci checks.

Closed forms (checked against finite differences in the tests)::

    dS_ia/dWQ_bg = tau^-1 X_ib sum_k A_ik K_kg (V_ka - Vbar_ia)
    dS_ia/dWK_bg = tau^-1 sum_k A_ik Q_ig X_kb (V_ka - Vbar_ia)
    dS_ia/dWV_ba = (A X)_ib

so ``|dS/dW_Q|^2 = tau^-2 sum_i |x_i|^2 |sum_k A_ik (K_k - Kbar_i) V_k^T|_F^2`` etc.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.ones((1, 4, 1)) * rng.standard_normal((1, 1, 3))
>>> W = [rng.standard_normal((1, 3, 3)) for _ in range(3)]
>>> bool(jacobian_sq_norms(X, *W)["Q"][0] < 1e-25)
True
"""
from __future__ import annotations

import math

import numpy as np

from ...theory._validate import integer, nonnegative, positive

from ..backend import from_numpy, get_namespace, namespace
from ..layers import key_query_attention, skip, softmax, transpose
from ..rng import as_generator
from ..sampling import gaussian
from .rem import layernorm, mean_cosine

__all__ = ["jacobian_sq_norms", "attention_output", "equicorrelated_tokens", "linear_stack_grams",
           "postln_uniform_stack", "preln_uniform_stack"]


def attention_output(X, WQ, WK, WV, tau=None, A=None):
    """``(A, S)`` for a batch: X (B, n, d), W (B, d, d_k|d_v)."""
    if A is None:
        A = key_query_attention(X, WQ, WK, tau=tau)
    return A, A @ (X @ WV)


def _mix_outer(xp, A, K, V):
    """``sum_k A_ik K_k V_k^T`` for every row i, shape (B, n, g, a), as one matrix
    product of ``A`` with the row-wise outer products ``K_k V_k^T``."""
    B, n, g = K.shape
    KV = xp.reshape(K[..., :, None] * V[..., None, :], (B, n, g * V.shape[-1]))
    return xp.reshape(A @ KV, (B, A.shape[-2], g, V.shape[-1]))


def jacobian_sq_norms(X, WQ, WK, WV, tau=None, uniform=False, which=("Q", "K", "V")):
    """Squared Frobenius norms of ``dS/dW_Q``, ``dS/dW_K``, ``dS/dW_V`` per batch
    entry (dict of arrays (B,), the keys in ``which``).  ``uniform=True`` replaces
    A by J (B3's assumption)."""
    xp = get_namespace(X)
    B, n, d = X.shape
    tau = math.sqrt(WQ.shape[-1]) if tau is None else tau
    positive("tau", tau)
    Q, K, V = X @ WQ, X @ WK, X @ WV
    if uniform:
        A = xp.full((B, n, n), 1.0 / n, dtype=X.dtype)
    else:
        A = softmax(Q @ transpose(K) / tau)
    Kbar = A @ K                                     # (B, n, d_k)
    AV = A @ V
    # C_i = sum_k A_ik (K_k - Kbar_i) V_k^T  (d_k x d_v per query) -- uses sum_k A_ik = 1
    out = {}
    if "Q" in which:
        C = _mix_outer(xp, A, K, V) - Kbar[..., :, None] * AV[..., None, :]
        xsq = xp.sum(X * X, axis=-1)
        out["Q"] = xp.sum(xsq * xp.sum(C * C, axis=(-1, -2)), axis=-1) / tau**2
    AX = A @ X
    if "K" in which:
        # D_i = sum_k A_ik X_k (V_k - Vbar_i)^T (d x d_v); |dS/dWK|^2 = tau^-2 sum_i |Q_i|^2 |D_i|^2
        Dm = _mix_outer(xp, A, X, V) - AX[..., :, None] * AV[..., None, :]
        out["K"] = xp.sum(xp.sum(Q * Q, axis=-1) * xp.sum(Dm * Dm, axis=(-1, -2)), axis=-1) / tau**2
    if "V" in which:
        out["V"] = WV.shape[-1] * xp.sum(AX * AX, axis=(-1, -2))
    return out


def equicorrelated_tokens(n: int, d: int, rho: float, *, batch: int = 1, rng=None,
                          backend="numpy"):
    """Exactly equicorrelated tokens with ``|x|^2 = d`` and pairwise cosine ``rho``:
    ``X = sqrt(d) C^(1/2) U`` with ``U`` having orthonormal rows (needs n <= d)."""
    integer("n", n, minimum=2)
    integer("d", d, minimum=n)
    gen = as_generator(rng)
    xp = namespace(backend)
    G = (1 - rho) * np.eye(n) + rho * np.ones((n, n))
    w, U = np.linalg.eigh(G)
    if w.min() < -1e-12:
        raise ValueError(f"rho must be in [-1/(n-1), 1] (got {rho})")
    root = from_numpy(xp, (U * np.sqrt(np.clip(w, 0, None))) @ U.T)
    Qm, _ = xp.linalg.qr(gaussian((batch, d, n), rng=gen, backend=xp))  # orthonormal columns
    return math.sqrt(d) * root @ transpose(Qm)


def linear_stack_grams(X0, depth: int, alpha: float, *, s_v: float = 1.0, reps: int = 1, rng=None):
    """Mean Gram matrix ``E G_L`` (over ``reps`` weight draws) of ``X <- X + alpha J X W_V``;
    returns (mean G_L, per-draw mean entries of G_L) for one input X0 (n, d), in
    X0's namespace."""
    integer("depth", depth, minimum=0)
    nonnegative("alpha", alpha)
    gen = as_generator(rng)
    xp = get_namespace(X0)
    n, d = X0.shape
    X = xp.broadcast_to(X0[None, ...], (reps, n, d))
    for _ in range(depth):
        W = gaussian((reps, d, d), rng=gen, std=s_v / math.sqrt(d), backend=xp)
        X = skip(X, xp.mean(X, axis=1, keepdims=True) @ W, alpha)
    G = X @ transpose(X)
    return xp.mean(G, axis=0), xp.mean(G, axis=(1, 2))


def _uniform_stack(X, depth, alpha2, s_v, rng, post):
    """Cosines per layer of the uniform-attention stack, post-LN
    ``x <- LN(x + alpha J x W_V)`` or pre-LN ``x <- x + alpha J LN(x) W_V``."""
    gen = as_generator(rng)
    xp = get_namespace(X)
    B, n, d = X.shape

    if post:
        X = layernorm(X)
    out = [mean_cosine(X, ratio=not post)]
    a = math.sqrt(alpha2)
    for _ in range(depth):
        W = gaussian((B, d, d), rng=gen, std=s_v / math.sqrt(d), backend=xp)
        if post:
            X = layernorm(skip(X, xp.mean(X, axis=1, keepdims=True) @ W, a))
        else:
            X = skip(X, xp.mean(layernorm(X), axis=1, keepdims=True) @ W, a)
        out.append(mean_cosine(X))
    return out


def postln_uniform_stack(X, depth: int, alpha2: float, *, s_v: float = 1.0, rng=None):
    """Cosines per layer of ``x <- LN(x + alpha J x W_V)`` (uniform attention)."""
    return _uniform_stack(X, depth, alpha2, s_v, rng, post=True)


def preln_uniform_stack(X, depth: int, alpha2: float, *, s_v: float = 1.0, rng=None):
    """Cosines per layer of ``x <- x + alpha J LN(x) W_V`` (uniform attention)."""
    return _uniform_stack(X, depth, alpha2, s_v, rng, post=False)
