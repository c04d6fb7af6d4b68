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

from .rem import as_generator, layernorm, softmax_rows, token_overlap

__all__ = ["jacobian_sq_norms", "attention_output", "equicorrelated_tokens", "linear_stack_grams",
           "postln_uniform_stack", "preln_uniform_stack"]


def attention_output(X, WQ, WK, WV, tau=None, A=None):
    """``(A, S)`` for a batch: X (B, n, d), W (B, d, d_k|d_v)."""
    tau = math.sqrt(WQ.shape[-1]) if tau is None else tau
    if A is None:
        A = softmax_rows((X @ WQ) @ np.swapaxes(X @ WK, 1, 2) / tau)
    return A, A @ (X @ WV)


def jacobian_sq_norms(X, WQ, WK, WV, tau=None, uniform=False):
    """Squared Frobenius norms of ``dS/dW_Q``, ``dS/dW_K``, ``dS/dW_V`` per batch
    entry (dict of arrays (B,)).  ``uniform=True`` replaces A by J (B3's assumption)."""
    B, n, d = X.shape
    tau = math.sqrt(WQ.shape[-1]) if tau is None else tau
    positive("tau", tau)
    Q, K, V = X @ WQ, X @ WK, X @ WV
    if uniform:
        A = np.full((B, n, n), 1.0 / n)
    else:
        A = softmax_rows(Q @ np.swapaxes(K, 1, 2) / tau)
    Kbar = A @ K                                     # (B, n, d_k)
    AV = A @ V
    # C_i = sum_k A_ik (K_k - Kbar_i) V_k^T  (d_k x d_v per query) -- uses sum_k A_ik = 1
    C = np.einsum("bik,bkg,bka->biga", A, K, V, optimize=True) - np.einsum(
        "big,bia->biga", Kbar, AV, optimize=True)
    xsq = (X * X).sum(-1)
    jq = (xsq * (C * C).sum((-1, -2))).sum(-1) / tau**2
    # D_i = sum_k A_ik X_k (V_k - Vbar_i)^T (d x d_v); |dS/dWK|^2 = tau^-2 sum_i |Q_i|^2 |D_i|^2
    Dm = np.einsum("bik,bkc,bka->bica", A, X, V, optimize=True) - np.einsum(
        "bic,bia->bica", A @ X, AV, optimize=True)
    jk = (((Q * Q).sum(-1)) * (Dm * Dm).sum((-1, -2))).sum(-1) / tau**2
    AX = A @ X
    jv = WV.shape[-1] * (AX * AX).sum((-1, -2))
    return {"Q": jq, "K": jk, "V": jv}


def equicorrelated_tokens(n: int, d: int, rho: float, *, batch: int = 1, rng=None):
    """Exactly equicorrelated tokens with ``|x|^2 = d`` and pairwise cosine ``rho``:
    ``X = sqrt(d) C^(1/2) U`` with ``U`` having orthonormal rows (needs n <= d)."""
    integer("n", n, minimum=2)
    integer("d", d, minimum=n)
    gen = as_generator(rng)
    G = (1 - rho) * np.eye(n) + rho * np.ones((n, n))
    w, U = np.linalg.eigh(G)
    if w.min() < -1e-12:
        raise ValueError(f"rho must be in [-1/(n-1), 1] (got {rho})")
    root = (U * np.sqrt(np.clip(w, 0, None))) @ U.T
    Z = gen.standard_normal((batch, d, n))
    Qm, _ = np.linalg.qr(Z)                           # (batch, d, n) orthonormal columns
    return math.sqrt(d) * root @ np.swapaxes(Qm, 1, 2)


def linear_stack_grams(X0, depth: int, alpha: float, *, s_v: float = 1.0, reps: int = 1, rng=None):
    """Mean Gram matrix ``E G_L`` (over ``reps`` weight draws) of ``X <- X + alpha J X W_V``;
    returns (mean G_L, per-draw mean entries of G_L) for one input X0 (n, d)."""
    integer("depth", depth, minimum=0)
    nonnegative("alpha", alpha)
    gen = as_generator(rng)
    n, d = X0.shape
    X = np.broadcast_to(X0, (reps, n, d)).copy()
    for _ in range(depth):
        W = gen.standard_normal((reps, d, d)) * (s_v / math.sqrt(d))
        X = X + alpha * X.mean(axis=1, keepdims=True) @ W
    G = X @ np.swapaxes(X, 1, 2)
    return G.mean(0), G.mean((1, 2))


def postln_uniform_stack(X, depth: int, alpha2: float, *, s_v: float = 1.0, rng=None):
    """Cosines per layer of ``x <- LN(x + alpha J x W_V)`` (uniform attention)."""
    gen = as_generator(rng)
    B, n, d = X.shape
    X = layernorm(X)
    out = [float(np.mean(token_overlap(X)[0]))]
    a = math.sqrt(alpha2)
    for _ in range(depth):
        W = gen.standard_normal((B, d, d)) * (s_v / math.sqrt(d))
        X = layernorm(X + a * X.mean(axis=1, keepdims=True) @ W)
        p, q = token_overlap(X)
        out.append(float(np.mean(p / q)))
    return out


def preln_uniform_stack(X, depth: int, alpha2: float, *, s_v: float = 1.0, rng=None):
    """Cosines per layer of ``x <- x + alpha J LN(x) W_V`` (uniform attention)."""
    gen = as_generator(rng)
    B, n, d = X.shape
    p, q = token_overlap(X)
    out = [float(np.mean(p / q))]
    a = math.sqrt(alpha2)
    for _ in range(depth):
        W = gen.standard_normal((B, d, d)) * (s_v / math.sqrt(d))
        X = X + a * layernorm(X).mean(axis=1, keepdims=True) @ W
        p, q = token_overlap(X)
        out.append(float(np.mean(p / q)))
    return out
