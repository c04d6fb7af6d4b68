"""Samplers for the Giorlandino-Goldt checks: scalar REM rows, LayerNorm tokens
with a prescribed overlap, one attention layer with the authors' Q/K scale, and
small post-LN / pre-LN transformer stacks (single head, ReLU MLP, skips).

All functions take ``rng`` (Generator or seed) and batch over samples.

>>> w = rem_rows(1000, 0.5, reps=4, rng=0)
>>> w.shape, bool(abs(w.sum(axis=1) - 1).max() < 1e-12)
((4, 1000), True)
"""
from __future__ import annotations

import math

import numpy as np

from ...theory._validate import in_interval, integer, nonnegative, one_of

__all__ = ["as_generator", "rem_rows", "rem_statistics", "ln_tokens", "layernorm", "attention",
           "qk_std", "token_overlap", "stack", "softmax_rows"]


def as_generator(rng) -> np.random.Generator:
    """A numpy Generator from a Generator, a seed or None (SPEC 7)."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def softmax_rows(logits):
    """Row-wise softmax along the last axis, stabilised by the row maximum."""
    z = logits - logits.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def rem_rows(T: int, beta_e: float, *, reps: int, rng=None):
    """``reps`` Gibbs measures of a REM with ``T`` iid N(0,1) energies at
    inverse temperature ``beta_e sqrt(log T)``: array (reps, T)."""
    T = integer("T", T, minimum=2)
    reps = integer("reps", reps, minimum=1)
    nonnegative("beta_eff", beta_e)
    g = as_generator(rng).standard_normal((reps, T))
    g *= beta_e * math.sqrt(math.log(T))
    return softmax_rows(g)


def rem_statistics(T: int, beta_e: float, *, reps: int, rng=None, chunk: int = 500):
    """Per-replica participation ratio ``sum w^2``, entropy ``-sum w log w`` and
    free energy ``(1/log T) log sum exp(beta_e sqrt(log T) g)``, in chunks."""
    gen = as_generator(rng)
    reps = integer("reps", reps, minimum=1)
    Y, H, F = [], [], []
    scale = beta_e * math.sqrt(math.log(T))
    for start in range(0, reps, chunk):
        k = min(chunk, reps - start)
        e = gen.standard_normal((k, T)) * scale
        mx = e.max(axis=1, keepdims=True)
        w = np.exp(e - mx)
        z = w.sum(axis=1, keepdims=True)
        F.append((mx[:, 0] + np.log(z[:, 0])) / math.log(T))
        w /= z
        Y.append((w * w).sum(axis=1))
        with np.errstate(divide="ignore", invalid="ignore"):
            H.append(-np.where(w > 0, w * np.log(w), 0.0).sum(axis=1))
    return np.concatenate(Y), np.concatenate(H), np.concatenate(F)


def layernorm(X):
    """LayerNorm without affine parameters over the last axis (per-coordinate norm 1)."""
    Xc = X - X.mean(axis=-1, keepdims=True)
    return Xc / np.sqrt((Xc * Xc).mean(axis=-1, keepdims=True))


def ln_tokens(T: int, d: int, p: float, *, batch: int = 1, rng=None, normalise: bool = True):
    """Tokens ``x_b = sqrt(p) z + sqrt(1 - p) g_b`` (shared ``z``), LayerNorm-ed
    when ``normalise``: overlap ``p``, norm ``q = 1`` up to O(d^-1/2). Shape (batch, T, d)."""
    in_interval("p", p, 0, 1, lo_open=False, hi_open=True)
    gen = as_generator(rng)
    z = gen.standard_normal((batch, 1, d))
    X = math.sqrt(p) * z + math.sqrt(1 - p) * gen.standard_normal((batch, T, d))
    return layernorm(X) if normalise else X


def qk_std(beta: float, T: int, d: int) -> float:
    """Entry std of ``W_Q, W_K`` in the authors' code: ``sqrt(beta) (log T)^(1/4) / sqrt(d)``."""
    nonnegative("beta", beta)
    return math.sqrt(beta) * math.log(T) ** 0.25 / math.sqrt(d)


def attention(X, beta: float, *, rng=None, gain: bool = False, return_logits: bool = False,
              sigma_v2: float = 1.0):
    """One single-head softmax attention layer on X (batch, T, d) with the
    authors' scales; returns ``(A, out)`` (and the logits when asked).
    ``gain=True`` uses ``A - J`` on the value path (gain control = the core fix)."""
    gen = as_generator(rng)
    B, T, d = X.shape
    s = qk_std(beta, T, d)
    WQ = gen.standard_normal((B, d, d)) * s
    WK = gen.standard_normal((B, d, d)) * s
    WV = gen.standard_normal((B, d, d)) * math.sqrt(sigma_v2 / d)
    logits = (X @ WQ) @ np.swapaxes(X @ WK, 1, 2) / math.sqrt(d)
    A = softmax_rows(logits.copy())
    AX = A @ X
    if gain:
        AX = AX - X.mean(axis=1, keepdims=True)
    out = AX @ WV
    return (A, out, logits) if return_logits else (A, out)


def token_overlap(X):
    """Mean off-diagonal ``x_a.x_b/d`` and mean ``|x_a|^2/d`` per batch: (p, q), each (batch,)."""
    B, T, d = X.shape
    s = X.sum(axis=1)
    tot = (s * s).sum(axis=1) / d
    diag = (X * X).sum(axis=(1, 2)) / d
    return (tot - diag) / (T * (T - 1)), diag / T


def stack(X, depth: int, beta: float, *, norm: str = "post", alpha_a: float = 1.0,
          alpha_m: float = 1.0, sigma_v2: float = 1.0, sigma_w2: float = 1.0, gain: bool = False,
          rng=None):
    """Sampled single-head transformer stack (no biases) at initialisation;
    returns the list of token cosines (mean over pairs and batch) after each block,
    starting with the input's, and the attention entropy per block.

    post-LN: ``x <- LN(alpha_A x + Attn(x))``, ``x <- LN(alpha_M x + MLP(x))``;
    pre-LN: ``x <- alpha_A x + Attn(LN x)``, ``x <- alpha_M x + MLP(LN x)``.
    """
    integer("depth", depth, minimum=0)
    one_of("norm", norm, ("post", "pre"))
    for name, v in (("alpha_A", alpha_a), ("alpha_M", alpha_m), ("sigma_v2", sigma_v2),
                    ("sigma_w2", sigma_w2)):
        nonnegative(name, v)
    gen = as_generator(rng)
    B, T, d = X.shape

    def cosine(Z):
        p, q = token_overlap(Z)
        return float(np.mean(p / q))

    cos, ent = [cosine(X)], []
    for _ in range(depth):
        h = layernorm(X) if norm == "pre" else X
        A, a_out = attention(h, beta, rng=gen, gain=gain, sigma_v2=sigma_v2)
        with np.errstate(divide="ignore", invalid="ignore"):
            ent.append(float(np.mean(-np.where(A > 0, A * np.log(A), 0.0).sum(-1)) / math.log(T)))
        X = alpha_a * X + a_out
        if norm == "post":
            X = layernorm(X)
        h = layernorm(X) if norm == "pre" else X
        W1 = gen.standard_normal((B, d, d)) * math.sqrt(sigma_w2 / d)
        W2 = gen.standard_normal((B, d, d)) * math.sqrt(sigma_w2 / d)
        X = alpha_m * X + np.maximum(h @ W1, 0.0) @ W2
        if norm == "post":
            X = layernorm(X)
        cos.append(cosine(X))
    return cos, ent
