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


def forward_one(model, draws, b, *, layer=None, W_override=None):
    """X_L of sample b, recomputed from the draws with plain numpy (complex-safe);
    ``W_override`` replaces W_layer."""
    n, d = int(model.n), model.d
    X = np.asarray(draws.X0[b], dtype=complex if W_override is not None else float)
    alpha = 1.0 if model.skip_alpha is None else float(model.skip_alpha)
    for m in range(1, int(model.depth) + 1):
        W = W_override if m == layer else np.asarray(draws.W[m][b])
        if model.attention == "markov":
            A = np.asarray(draws.A[m][b]).astype(complex)
        elif model.attention == "identity":
            A = np.eye(n, dtype=complex)
        else:
            S = X @ np.asarray(draws.WQ[m][b]) @ np.asarray(draws.WK[m][b]).T @ X.T / math.sqrt(d)
            S = S - S.real.max(axis=1, keepdims=True)
            E = np.exp(S)
            A = E / E.sum(axis=1, keepdims=True)
        if model.remove_gap == 1:
            A = A - 1.0 / n
        elif model.remove_gap >= 2:
            U, s, Vh = np.linalg.svd(A.real)
            A = A - (U[:, :model.remove_gap] * s[:model.remove_gap]) @ Vh[:model.remove_gap]
        Z = A @ X @ W
        if model.skip is not None:
            Z = X + alpha * Z
        if model.layernorm:
            Zc = Z - Z.mean(axis=1, keepdims=True)
            Z = Zc / np.sqrt((Zc * Zc).mean(axis=1, keepdims=True) + LAYERNORM_EPS)
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
