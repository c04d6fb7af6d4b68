"""The one library of layers: softmax, LayerNorm, attention with gap
removal, skip connections, and the derivatives the gradient code needs.

Written once against the array API (``array-api-compat``): every function
works on numpy (the default), CuPy and ``array-api-strict`` arrays and returns
an array of the input's namespace.  :mod:`numerics.forward`,
:mod:`numerics.gradients`, :mod:`numerics.sampling` and every companion
sampler (:mod:`numerics.companions`) compute these layers here and nowhere
else.

Conventions:

* softmax is row-wise (last axis), stabilised by the row maximum;
* LayerNorm has no affine parameters and ONE eps convention,
  ``(z - mean) / sqrt(var + eps)`` per row with the biased variance and
  ``eps =`` :data:`theory.model.LAYERNORM_EPS`; a caller that needs the exact
  ``eps = 0`` normalisation (tokens exactly on the sphere ``|x|^2 = d``, or an
  exact rank identity) passes ``eps=0.0`` and says why;
* gap removal ``k`` (the model's ``remove_gap``): 0 keeps ``A``, 1 is
  ``A - 11^T/n``, ``k >= 2`` removes the top-k singular triplets;
* skip: ``X + alpha * branch``.

>>> import numpy as np
>>> S = np.array([[0.0, np.log(3.0)]])
>>> softmax(S)
array([[0.25, 0.75]])
>>> remove_gap(softmax(S), 1)
array([[-0.25,  0.25]])
>>> np.round(layernorm(np.array([[1.0, 3.0]]), eps=0.0), 12)
array([[-1.,  1.]])
>>> skip(np.ones((1, 2)), np.ones((1, 2)), 0.5)
array([[1.5, 1.5]])
"""
from __future__ import annotations

import math

from ..theory import _validate
from ..theory.model import LAYERNORM_EPS

from .backend import get_namespace

__all__ = ["softmax", "softmax_jvp", "layernorm", "layernorm_jvp", "layernorm_vjp",
           "remove_gap", "attention_logits", "softmax_attention", "key_query_attention",
           "skip", "transpose", "split_heads", "merge_heads", "causal_mask", "mask_markov",
           "activation", "activation_derivative", "LAYERNORM_EPS"]


def transpose(M):
    """Swap the last two axes (any namespace)."""
    xp = get_namespace(M)
    return xp.matrix_transpose(M) if hasattr(xp, "matrix_transpose") else M.swapaxes(-1, -2)


def softmax(S, axis=-1, *, centered=False, return_logsumexp=False):
    """Row-wise softmax, stable for any finite logits: the row maximum is
    subtracted before exponentiating, so no overflow and no nan.

    ``centered=True`` returns ``softmax(S) - 1/n`` (the gap-removed attention)
    computed with ``expm1`` so that it keeps full relative precision when the
    logits are tiny (Xavier keys/queries make the attention uniform up to
    O(1/d); subtracting 1/n from a rounded softmax would leave only rounding
    noise, or an exact zero).

    >>> import numpy as np
    >>> softmax(np.array([[1e300, 0.0], [-1e300, 0.0]]))
    array([[1., 0.],
           [0., 1.]])
    >>> softmax(np.array([[1e-20, -1e-20]]), centered=True)
    array([[ 5.e-21, -5.e-21]])

    ``return_logsumexp=True`` also returns ``log sum_j exp(S_j)`` per row
    (keepdims), from the same exponentials (a free energy, a log-partition).
    """
    xp = get_namespace(S)
    top = xp.max(S, axis=axis, keepdims=True)
    S = S - top
    if return_logsumexp:
        if centered:
            raise ValueError("return_logsumexp needs centered=False")
        E = xp.exp(S)
        Z = xp.sum(E, axis=axis, keepdims=True)
        return E / Z, top + xp.log(Z)
    if not centered:
        E = xp.exp(S)
        return E / xp.sum(E, axis=axis, keepdims=True)
    E1 = xp.expm1(S)  # e^s - 1, accurate for small s
    n = S.shape[axis]
    return (E1 - xp.mean(E1, axis=axis, keepdims=True)) / (n + xp.sum(E1, axis=axis, keepdims=True))


def softmax_jvp(P, dS):
    """Derivative of the row-wise softmax at ``P = softmax(S)`` along ``dS``:
    ``P * (dS - rowsum(P * dS))``.  The map is self-adjoint, so the same
    function gives the vector-Jacobian product (the cotangent of ``S`` from
    the cotangent ``dS`` of ``P``).

    >>> import numpy as np
    >>> P = softmax(np.array([[0.0, 1.0]]))
    >>> bool(np.allclose(softmax_jvp(P, np.ones((1, 2))), 0))
    True
    """
    xp = get_namespace(P, dS)
    return P * (dS - xp.sum(P * dS, axis=-1, keepdims=True))


def layernorm(Z, eps=LAYERNORM_EPS, *, return_scale=False):
    """LayerNorm over the last axis without affine parameters:
    ``(z - mean) / sqrt(var + eps)`` per row (biased variance), ``eps``
    defaulting to :data:`theory.model.LAYERNORM_EPS`.  With
    ``return_scale=True`` also the per-row scale ``sqrt(var + eps)`` (shape
    ``(..., 1)``, what :func:`layernorm_jvp` needs).

    ``eps = 0`` is the exact normalisation (every row of the output has mean 0
    and mean square 1); a constant row is then an error, not a nan.

    >>> import numpy as np
    >>> layernorm(np.array([[2.0, 2.0]]), eps=0.0)
    Traceback (most recent call last):
    ...
    ValueError: Z must have no constant token (row) when eps = 0 (LayerNorm undefined)
    """
    eps = _validate.nonnegative("eps", eps)
    xp = get_namespace(Z)
    Zc = Z - xp.mean(Z, axis=-1, keepdims=True)
    var = xp.mean(Zc * Zc, axis=-1, keepdims=True)
    if eps == 0:
        if bool(xp.any(var == 0)):
            raise ValueError("Z must have no constant token (row) when eps = 0 "
                             "(LayerNorm undefined)")
        sig = xp.sqrt(var)
    else:
        sig = xp.sqrt(var + eps)
    Y = Zc / sig
    return (Y, sig) if return_scale else Y


def layernorm_jvp(Y, sig, dZ):
    """Tangent of ``Y = layernorm(Z)`` along ``dZ`` (``sig`` the scale from
    ``layernorm(Z, return_scale=True)``)."""
    xp = get_namespace(Y, dZ)
    dZc = dZ - xp.mean(dZ, axis=-1, keepdims=True)
    return (dZc - Y * xp.mean(Y * dZc, axis=-1, keepdims=True)) / sig


def layernorm_vjp(Y, sig, gY):
    """Cotangent of ``Z`` from the cotangent ``gY`` of ``Y = layernorm(Z)``."""
    xp = get_namespace(Y, gY)
    gc = gY - xp.mean(gY, axis=-1, keepdims=True)
    return (gc - Y * xp.mean(gY * Y, axis=-1, keepdims=True)) / sig


def remove_gap(A, k=1, *, rows_sum_to_one=False):
    """Remove the gap of attention matrices ``A`` (batched).

    ``k = 0``: unchanged; ``k = 1``: ``A - (1/n) 1 1^T`` (the paper's A-perp);
    ``k >= 2``: ``A`` minus its top-k singular triplets.  With
    ``rows_sum_to_one=True`` (``A`` row-stochastic), ``k = 1`` subtracts each
    row's mean instead of ``1/n``: the same matrix in exact arithmetic, and
    rows that sum to zero up to rounding in floating point.

    >>> import numpy as np
    >>> bool(np.allclose(remove_gap(np.full((1, 3, 3), 1 / 3)), 0))
    True
    """
    xp = get_namespace(A)
    n = A.shape[-1]
    k = _validate.integer("remove_gap", k, minimum=0, maximum=n - 1)
    if k == 0:
        return A
    if k == 1:
        return A - xp.mean(A, axis=-1, keepdims=True) if rows_sum_to_one else A - 1.0 / n
    U, s, Vh = xp.linalg.svd(A, full_matrices=False)
    top = (U[..., :, :k] * s[..., None, :k]) @ Vh[..., :k, :]
    return A - top


def attention_logits(X, W_Q, W_K, *, tau=None):
    """Key-query logits ``(X W_Q)(X W_K)^T / tau``, batched over leading axes;
    ``tau`` defaults to ``sqrt(d_k)`` with ``d_k`` the number of columns of ``W_Q``."""
    tau = math.sqrt(W_Q.shape[-1]) if tau is None else _validate.positive("tau", tau)
    return (X @ W_Q) @ transpose(X @ W_K) / tau


def softmax_attention(S, remove_gap=0, *, causal=False):
    """The attention ``softmax(S)`` row-wise, with gap removal ``remove_gap``
    (``k = 1`` by the cancellation-free centred softmax).  ``causal=True``
    masks the logits above the diagonal (``S_ij = -inf`` for ``j > i``) first;
    gap removal then subtracts ``(1/n) 1 1^T`` from the masked softmax.

    >>> import numpy as np
    >>> softmax_attention(np.zeros((1, 2, 2)), 1)
    array([[[0., 0.],
            [0., 0.]]])
    >>> softmax_attention(np.zeros((1, 2, 2)), causal=True)
    array([[[1. , 0. ],
            [0.5, 0.5]]])
    """
    k = _validate.integer("remove_gap", remove_gap, minimum=0, maximum=S.shape[-1] - 1)
    if causal:
        xp = get_namespace(S)
        S = xp.where(causal_mask(S.shape[-1], xp), S, -xp.inf)
        A = softmax(S)
        return A - 1.0 / S.shape[-1] if k == 1 else (_remove_gap(A, k) if k else A)
    if k == 1:
        return softmax(S, centered=True)
    A = softmax(S)
    return _remove_gap(A, k) if k else A


def causal_mask(n, xp):
    """The boolean ``n x n`` lower-triangular mask ``j <= i`` (namespace ``xp``)."""
    i = xp.arange(n)
    return i[:, None] >= i[None, :]


def mask_markov(M):
    """Random Markov attention under a causal mask: ``M_ij = 0`` for ``j > i``,
    then each row normalised (the diagonal keeps every row positive).

    >>> import numpy as np
    >>> mask_markov(np.ones((1, 2, 2)))
    array([[[1. , 0. ],
            [0.5, 0.5]]])
    """
    xp = get_namespace(M)
    M = xp.where(causal_mask(M.shape[-1], xp), M, xp.zeros_like(M))
    return M / xp.sum(M, axis=-1, keepdims=True)


def split_heads(V, heads):
    """``(..., n, H w)`` -> ``(..., H, n, w)``: the column blocks of each head.

    >>> import numpy as np
    >>> split_heads(np.arange(4.0).reshape(1, 1, 4), 2)[0, :, 0]
    array([[0., 1.],
           [2., 3.]])
    """
    xp = get_namespace(V)
    *lead, n, dw = V.shape
    V = xp.reshape(V, (*lead, n, heads, dw // heads))
    k = len(lead)
    return _c_order(xp, xp.permute_dims(V, (*range(k), k + 1, k, k + 2)))


def _c_order(xp, Y):
    """``Y`` in C order (numpy, CuPy): stacked products of strided head blocks
    run several times slower than of contiguous ones; other namespaces as is."""
    name = getattr(xp, "__name__", "")
    if "numpy" in name:
        import numpy
        return numpy.ascontiguousarray(Y)
    if "cupy" in name:
        import cupy
        return cupy.ascontiguousarray(Y)
    return Y


def merge_heads(Y):
    """``(..., H, n, w)`` -> ``(..., n, H w)``, the inverse of :func:`split_heads`.

    >>> import numpy as np
    >>> V = np.arange(12.0).reshape(1, 2, 6)
    >>> bool((merge_heads(split_heads(V, 3)) == V).all())
    True
    """
    xp = get_namespace(Y)
    *lead, H, n, w = Y.shape
    k = len(lead)
    return xp.reshape(xp.permute_dims(Y, (*range(k), k + 1, k, k + 2)), (*lead, n, H * w))


_GELU_C = math.sqrt(2.0 / math.pi)


def activation(name, H):
    """The MLP activation ``name`` (``"relu"``, or ``"gelu"`` in the tanh form of
    the GPT-2 and BERT code, ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``).

    >>> import numpy as np
    >>> activation("relu", np.array([-1.0, 2.0])), np.round(activation("gelu", np.array([1.0])), 6)
    (array([0., 2.]), array([0.841192]))
    """
    xp = get_namespace(H)
    if name == "relu":
        return xp.where(H > 0, H, xp.zeros_like(H))
    if name == "gelu":
        return 0.5 * H * (1.0 + xp.tanh(_GELU_C * (H + 0.044715 * H * H * H)))
    raise ValueError(f"activation must be one of 'relu', 'gelu' (got {name!r})")


def activation_derivative(name, H):
    """The derivative of :func:`activation` ``name`` at ``H`` (ReLU: 0 at 0).

    >>> import numpy as np
    >>> x, h = np.array([0.3, -1.2]), 1e-6
    >>> fd = (activation("gelu", x + h) - activation("gelu", x - h)) / (2 * h)
    >>> bool(np.allclose(activation_derivative("gelu", x), fd))
    True
    """
    xp = get_namespace(H)
    if name == "relu":
        return xp.where(H > 0, xp.ones_like(H), xp.zeros_like(H))
    if name == "gelu":
        t = xp.tanh(_GELU_C * (H + 0.044715 * H * H * H))
        return 0.5 * (1.0 + t) + 0.5 * H * (1.0 - t * t) * _GELU_C * (1.0 + 3 * 0.044715 * H * H)
    raise ValueError(f"activation must be one of 'relu', 'gelu' (got {name!r})")


_remove_gap = remove_gap


def key_query_attention(X, W_Q, W_K, *, tau=None, remove_gap=0):
    """``softmax(X W_Q (X W_K)^T / tau)`` row-wise with gap removal
    ``remove_gap``; ``tau`` defaults to ``sqrt(d_k)``.

    >>> import numpy as np
    >>> X = np.eye(2)[None]; W = np.zeros((1, 2, 2))
    >>> key_query_attention(X, W, W)
    array([[[0.5, 0.5],
            [0.5, 0.5]]])
    """
    return softmax_attention(attention_logits(X, W_Q, W_K, tau=tau), remove_gap)


def skip(X, branch, alpha=1.0, *, x_scale=1.0):
    """The skip connection ``x_scale X + alpha branch`` (``X + alpha branch``
    by default); multiplications by 1 are not performed."""
    out = branch if alpha == 1 else alpha * branch
    return (X if x_scale == 1 else x_scale * X) + out
