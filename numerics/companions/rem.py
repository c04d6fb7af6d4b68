"""Samplers for the Giorlandino-Goldt checks: scalar REM rows, LayerNorm tokens
with a prescribed overlap, one attention layer with the authors' Q/K scale, and
small post-LN / pre-LN transformer stacks (single head, ReLU MLP, skips).

All functions take ``rng`` (Generator or seed) and batch over samples.  The
layers are :mod:`numerics.layers`'; the samplers are array-API code: with
``backend="cupy"`` (or tokens ``X`` of a backend) they draw and compute there.

>>> w = rem_rows(1000, 0.5, reps=4, rng=0)
>>> w.shape, bool(abs(w.sum(axis=1) - 1).max() < 1e-12)
((4, 1000), True)
"""
from __future__ import annotations

import math

import numpy as np

from ...theory._validate import in_interval, integer, nonnegative, one_of

from ..backend import get_namespace, namespace, to_numpy
from ..layers import attention_logits, skip, softmax
from ..layers import layernorm as _layernorm
from ..rng import as_generator  # noqa: F401  (a public name of this module: checks import it)
from ..sampling import gaussian

__all__ = ["as_generator", "rem_rows", "rem_statistics", "ln_tokens", "layernorm", "attention",
           "qk_std", "token_overlap", "mean_cosine", "stack", "softmax_rows", "entropy", "model_stack"]

#: the row-wise softmax (:func:`numerics.layers.softmax`), under this module's old name
softmax_rows = softmax


def rem_rows(T: int, beta_e: float, *, reps: int, rng=None, backend="numpy"):
    """``reps`` Gibbs measures of a REM with ``T`` iid N(0,1) energies at
    inverse temperature ``beta_e sqrt(log T)``: array (reps, T)."""
    T = integer("T", T, minimum=2)
    reps = integer("reps", reps, minimum=1)
    nonnegative("beta_eff", beta_e)
    return softmax(gaussian((reps, T), rng=as_generator(rng), std=beta_e * math.sqrt(math.log(T)),
                            backend=backend))


def entropy(W):
    """``-sum_j w_j log w_j`` over the last axis (``0 log 0 = 0``), any backend."""
    xp = get_namespace(W)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -xp.sum(xp.where(W > 0, W * xp.log(W), xp.zeros_like(W)), axis=-1)


def rem_statistics(T: int, beta_e: float, *, reps: int, rng=None, chunk: int = 500,
                   backend="numpy"):
    """Per-replica participation ratio ``sum w^2``, entropy ``-sum w log w`` and
    free energy ``(1/log T) log sum exp(beta_e sqrt(log T) g)``, in chunks
    (numpy arrays, sampled on ``backend``)."""
    gen = as_generator(rng)
    reps = integer("reps", reps, minimum=1)
    xp = namespace(backend)
    Y, H, F = [], [], []
    scale = beta_e * math.sqrt(math.log(T))
    for start in range(0, reps, chunk):
        k = min(chunk, reps - start)
        w, lse = softmax(gaussian((k, T), rng=gen, std=scale, backend=xp), axis=1,
                         return_logsumexp=True)
        F.append(to_numpy(lse[:, 0] / math.log(T)))
        Y.append(to_numpy(xp.sum(w * w, axis=1)))
        H.append(to_numpy(entropy(w)))
    return np.concatenate(Y), np.concatenate(H), np.concatenate(F)


def layernorm(X):
    """LayerNorm without affine parameters over the last axis, exactly onto the
    sphere: every token has mean 0 and per-coordinate norm ``q = 1``.

    eps = 0 on purpose: the Giorlandino-Goldt and Noci et al. mean-field maps
    take post-LN tokens exactly on the sphere ``|x|^2 = d`` (``q = 1``), and the
    tests check ``q = 1``; the package's eps (1e-5) would move every measured
    overlap by that relative amount."""
    return _layernorm(X, eps=0.0)


def ln_tokens(T: int, d: int, p: float, *, batch: int = 1, rng=None, normalise: bool = True,
              backend="numpy"):
    """Tokens ``x_b = sqrt(p) z + sqrt(1 - p) g_b`` (shared ``z``), LayerNorm-ed
    when ``normalise``: overlap ``p``, norm ``q = 1`` up to O(d^-1/2). Shape (batch, T, d)."""
    in_interval("p", p, 0, 1, lo_open=False, hi_open=True)
    gen = as_generator(rng)
    xp = namespace(backend)
    z = gaussian((batch, 1, d), rng=gen, backend=xp)
    X = math.sqrt(p) * z + math.sqrt(1 - p) * gaussian((batch, T, d), rng=gen, backend=xp)
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
    xp = get_namespace(X)
    B, T, d = X.shape
    s = qk_std(beta, T, d)
    WQ, WK = (gaussian((B, d, d), rng=gen, std=s, backend=xp) for _ in range(2))
    WV = gaussian((B, d, d), rng=gen, std=math.sqrt(sigma_v2 / d), backend=xp)
    logits = attention_logits(X, WQ, WK, tau=math.sqrt(d))
    A = softmax(logits)
    AX = A @ X
    if gain:
        AX = AX - xp.mean(X, axis=1, keepdims=True)
    out = AX @ WV
    return (A, out, logits) if return_logits else (A, out)


def token_overlap(X):
    """Mean off-diagonal ``x_a.x_b/d`` and mean ``|x_a|^2/d`` per batch: (p, q), each (batch,)."""
    xp = get_namespace(X)
    B, T, d = X.shape
    s = xp.sum(X, axis=1)
    tot = xp.sum(s * s, axis=1) / d
    diag = xp.sum(X * X, axis=(1, 2)) / d
    return (tot - diag) / (T * (T - 1)), diag / T


def mean_cosine(X, *, ratio=True) -> float:
    """Mean token cosine ``p / q`` over the batch (``ratio=False``: the mean overlap ``p``)."""
    p, q = token_overlap(X)
    return float(get_namespace(X).mean(p / q if ratio else p))


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
    xp = get_namespace(X)
    B, T, d = X.shape
    cos, ent = [mean_cosine(X)], []
    for _ in range(depth):
        h = layernorm(X) if norm == "pre" else X
        A, a_out = attention(h, beta, rng=gen, gain=gain, sigma_v2=sigma_v2)
        ent.append(float(xp.mean(entropy(A))) / math.log(T))
        X = skip(X, a_out, x_scale=alpha_a)
        if norm == "post":
            X = layernorm(X)
        h = layernorm(X) if norm == "pre" else X
        W1, W2 = (gaussian((B, d, d), rng=gen, std=math.sqrt(sigma_w2 / d), backend=xp)
                  for _ in range(2))
        X = skip(X, xp.clip(h @ W1, min=0.0) @ W2, x_scale=alpha_m)
        if norm == "post":
            X = layernorm(X)
        cos.append(mean_cosine(X))
    return cos, ent


def model_stack(model, X, *, rng=None):
    """:func:`stack` of the G&G blocks of ``model`` (a key-query
    :class:`~theory.model.AttentionModel` read by :mod:`theory.companions.gg`: beta
    from sigma_QK^2, ``sigma_v^2 = d sigma_V^2``, the statement's MLP ``sigma_w^2``,
    ``alpha_A = alpha_M`` = the skip, the LayerNorm position, gain control when
    ``remove_gap = 1``) on the tokens X (batch, n, d)."""
    from ...theory.companions import gg
    if X.shape[1:] != (model.n, model.d):
        raise ValueError(f"X must hold {model.n} tokens of width {model.d} (got shape {tuple(X.shape)})")
    alpha = float(model.skip_alpha)
    return stack(X, model.depth, float(gg.model_beta(model)), norm=model.ln_position, alpha_a=alpha,
                 alpha_m=alpha, sigma_v2=float(gg.model_sigma_v2(model)),
                 sigma_w2=float(gg.MLP_SIGMA_W2), gain=model.remove_gap == 1, rng=rng)
