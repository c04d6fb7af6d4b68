"""Plain reference implementations for the numerics tests: one sample at a
time, Python loops over layers, full decompositions, Jacobians materialised
by complex-step differentiation (exact to rounding).  Deliberately written
without the package's batching, identities or Lanczos steps."""
from __future__ import annotations

import math

import numpy as np

from gapcheck.theory.model import LAYERNORM_EPS


def stable_rank_full_svd(X):
    """srank(X X^T) by a full SVD of the covariance, one sample at a time."""
    out = []
    for Xb in np.asarray(X, dtype=np.float64):
        Xb = Xb / np.abs(Xb).max()
        s = np.linalg.svd(Xb @ Xb.T, compute_uv=False)
        out.append(np.sum(s ** 2) / s[0] ** 2)
    return np.array(out)


def _ln(Z):
    Zc = Z - Z.mean(axis=1, keepdims=True)
    return Zc / np.sqrt((Zc * Zc).mean(axis=1, keepdims=True) + LAYERNORM_EPS)


def _act(name, H):
    if name == "relu":
        return np.where(H.real > 0, H, 0)
    return 0.5 * H * (1 + np.tanh(np.sqrt(2 / np.pi) * (H + 0.044715 * H ** 3)))


def _head_attention(model, draws, m, b, h, U):
    """The row-stochastic attention of head h of layer m on input U (complex-safe)."""
    n = int(model.n)
    if model.attention == "markov":
        A = np.asarray(draws.A[m][b])
        return (A if A.ndim == 2 else A[h]).astype(complex)
    if model.attention == "identity":
        return np.eye(n, dtype=complex)
    H, d = int(model.heads), model.d
    dk = model.d_k if model.d_k is not None else d // H
    cols = slice(h * dk, (h + 1) * dk)
    Q = U @ np.asarray(draws.WQ[m][b])[:, cols]
    K = U @ np.asarray(draws.WK[m][b])[:, cols]
    scale = {"sqrt": 1 / math.sqrt(dk), "linear": 1 / dk, "none": 1.0}[model.temperature]
    S = Q @ K.T * scale
    allowed = np.tril(np.ones((n, n), dtype=bool)) if model.causal else np.ones((n, n), dtype=bool)
    top = np.where(allowed, S.real, -np.inf).max(axis=1, keepdims=True)
    E = np.exp(np.where(allowed, S - top, 0)) * allowed
    return E / E.sum(axis=1, keepdims=True)


def forward_one(model, draws, b, *, layer=None, W_override=None):
    """X_L of sample b, recomputed from the draws with plain numpy (complex-safe);
    ``W_override`` replaces W_layer.  Heads one at a time, W_O, causal masks,
    pre/post LayerNorm, the MLP sub-block and the temperature as the model's
    docstring states them."""
    n, d = int(model.n), model.d
    H = int(model.heads)
    dh = d // H
    X = np.asarray(draws.X0[b], dtype=complex if W_override is not None else float)
    alpha = 1.0 if model.skip_alpha is None else float(model.skip_alpha)
    pre = model.layernorm and model.ln_position == "pre"
    for m in range(1, int(model.depth) + 1):
        W = W_override if m == layer else np.asarray(draws.W[m][b])
        U = _ln(X) if pre else X
        outs = []
        for h in range(H):
            A = _head_attention(model, draws, m, b, h, U)
            if model.remove_gap == 1:
                A = A - 1.0 / n
            elif model.remove_gap >= 2:
                Us, s, Vh = np.linalg.svd(A.real)
                A = A - (Us[:, :model.remove_gap] * s[:model.remove_gap]) @ Vh[:model.remove_gap]
            outs.append(A @ U @ W[:, h * dh:(h + 1) * dh])
        Z = np.concatenate(outs, axis=1)
        if model.out_proj is not None:
            Z = Z @ np.asarray(draws.WO[m][b])
        if model.skip is not None:
            Z = X + alpha * Z
        if model.layernorm and not pre:
            Z = _ln(Z)
        if model.mlp is not None:
            U2 = _ln(Z) if pre else Z
            B2 = _act(model.mlp.activation, U2 @ np.asarray(draws.W1[m][b])) @ np.asarray(draws.W2[m][b])
            Z = Z + alpha * B2 if model.skip is not None else B2
            if model.layernorm and not pre:
                Z = _ln(Z)
        if model.block == "paper-code" and model.skip == "standard":
            Z = Z + Z  # the authors' second residual around an identity MLP
        X = Z
    return X


def full_jacobian(model, draws, b, layer):
    """The (n d) x (d d) Jacobian of vec X_L with respect to vec W_layer, sample b,
    by complex steps (h = 1e-30), one column per entry of W_layer."""
    d = model.d
    W = np.asarray(draws.W[layer][b], dtype=complex)
    h = 1e-30
    cols = []
    for i in range(d):
        for j in range(d):
            Wp = W.copy()
            Wp[i, j] += 1j * h
            cols.append(forward_one(model, draws, b, layer=layer, W_override=Wp).imag.ravel() / h)
    return np.stack(cols, axis=1)
