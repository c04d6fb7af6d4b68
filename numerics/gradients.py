"""Gradient norms ``||dX_L / dW_l||_F^2`` of a sampled stack (Propositions 4, 6).

Three methods, all batched over samples:

* ``"kronecker"`` (attention independent of X, no skip, no LayerNorm): with
  ``P = A_L ... A_1`` (applied attentions) ``X_L = (P X_0 W_1...W_{l-1}) W_l
  (W_{l+1}...W_L)``, so the Jacobian is the Kronecker product
  ``(P X_0 W_{<l}) kron (W_{>l})^T`` and its squared Frobenius norm is
  ``||P X_0 W_{<l}||_F^2 ||W_{>l}||_F^2``: exact, never materialised.
* ``"exact"`` (any model): a hand-written reverse-mode pass (VJP, below)
  for each of the n d cotangents of an orthonormal basis of the output,
  ``||J_l||_F^2 = sum_G ||J_l^T G||_F^2``, every layer l from each pass.
* ``"exact-forward"`` (any model): a hand-written forward-mode derivative (JVP) of
  each layer, pushed through layers l+1..L for a basis of directions.  The
  direction ``E`` of ``W_l`` enters as ``alpha B E`` with ``B = A_l X_{l-1}``;
  with the SVD ``B = U S V^T``, ``sum_E ||J(B E)||^2 = sum_{k,j} s_k^2
  ||J(u_k e_j^T)||^2``, so n d JVPs give the norm exactly.
* ``"hutchinson"``: a hand-written reverse-mode pass (VJP) gives
  ``J_l^T G`` for every layer l at once; for a cotangent ``G`` with i.i.d.
  N(0, 1) entries ``E ||J_l^T G||_F^2 = ||J_l||_F^2``, estimated by the mean
  over ``probes`` cotangents with its standard error (``return_se=True``).

``"auto"`` picks kronecker where it applies, exact while n d <= 256, and
Hutchinson above.

>>> from gapcheck.theory.model import preset
>>> g = grad_norms_sq(preset("A", n=4, depth=2), batch=3, rng=0)
>>> g.shape
(3, 2)
>>> import numpy as np
>>> ge = grad_norms_sq(preset("A", n=4, depth=2), batch=3, rng=0, method="exact")
>>> bool(np.allclose(g, ge))
True
"""
from __future__ import annotations

import math

import numpy as np

from ..theory import _validate
from ..theory.model import AttentionModel

from .backend import get_namespace, to_numpy
from .layers import (activation_derivative, layernorm_jvp, layernorm_vjp, merge_heads, softmax_jvp,
                     split_heads, transpose)
from .forward import Draws, _multi, attention_at, block, draw, mix
from .rng import as_generator

__all__ = ["grad_norms_sq", "forward_cache", "jvp", "vjp_all", "METHODS", "AUTO_EXACT_MAX_ND"]

METHODS = ("auto", "kronecker", "exact", "exact-forward", "hutchinson")
#: ``method="auto"`` computes exactly by JVPs while n * d is at most this
AUTO_EXACT_MAX_ND = 256


def forward_cache(model: AttentionModel, draws: Draws) -> list:
    """Per layer m = 1..L (index 0 unused) the primal values the derivatives
    need, recorded by :func:`numerics.forward.block`: input ``X``, attention
    input ``U`` (``LN(X)`` under pre-LN), applied attention ``A`` (``None`` =
    identity; per head (batch, H, n, n)), softmax ``P`` and the logits'
    factors (key-query), ``V = U W``, ``A U`` (one attention), the LayerNorm
    outputs and scales, the MLP's pre-activation ``H1``, and the weights."""
    xp = get_namespace(draws.X0)
    if model.attention == "key-query" and model.remove_gap >= 2:
        raise ValueError("gradient norms with key-query attention support remove_gap "
                         "0 or 1 (the JVP of a top-k SVD truncation is not implemented)")
    X = draws.X0
    cache = [None]
    for m in range(1, int(model.depth) + 1):
        c = {}
        Z = block(model, draws, m, X, rec=c, for_derivatives=True)
        c["skip"] = c["a"] is not None
        c["alpha"] = 1.0 if c["a"] is None else c["a"]
        c["multi"] = _multi(c["A"])
        if model.attention == "key-query":
            c["amax"] = xp.argmax(c["P"], axis=-1)[..., None]  # (batch, [H,] n, 1)
            if not c["multi"]:
                c["XMt"] = c["U"] @ transpose(c["Mqk"])
        cache.append(c)
        X = Z
    return cache


def _shift(xp, D, amax):
    """Subtract from each row of D its entry at the row's softmax maximum.

    The softmax derivative P (D - sum(P D)) is unchanged by a constant per row;
    measured from the dominant entry it has no cancellation when a row of P is
    saturated (P_k = 1 - tiny), where the plain formula loses digits."""
    idx = xp.broadcast_to(amax, D.shape[:-1] + (1,))
    return D - xp.take_along_axis(D, idx, axis=-1)


def _ln_jvp(c, key, dZ):
    return layernorm_jvp(*c[key], dZ) if key in c else dZ


def _ln_vjp(c, key, g):
    return layernorm_vjp(*c[key], g) if key in c else g


def _after_mix(model, xp, c, dAV, dX=None, *, alpha_applied=False):
    """Tangent of the block's output from the tangent ``dAV`` of the mixed
    values ``[A_h U W_V^h]_h`` and the tangent ``dX`` of the block's input
    (``None``: zero, the layer of the weight): W_O, the residual (its factor
    already in ``dAV`` if ``alpha_applied``), LayerNorm, the MLP sub-block,
    the block's output factor."""
    dB = dAV if c["WO"] is None else dAV @ c["WO"]
    if c["skip"]:
        dB = dB if c["alpha"] == 1 or alpha_applied else c["alpha"] * dB
        dZ = dB if dX is None else dX + dB
    else:
        dZ = dB
    dZ = _ln_jvp(c, "post1", dZ)
    if model.mlp is not None:
        dU2 = _ln_jvp(c, "ln2", dZ)
        dB2 = (activation_derivative(model.mlp.activation, c["H1"]) * (dU2 @ c["W1"])) @ c["W2"]
        dB2 = dB2 if c["alpha"] == 1 else c["alpha"] * dB2
        dZ = _ln_jvp(c, "post2", dZ + dB2 if c["skip"] else dB2)
    return dZ if c["out"] == 1 else c["out"] * dZ


def _start(model, xp, c, E):
    """Tangent of X_l along the direction ``E`` of its value matrix W_l."""
    if c["multi"]:
        dAV = mix(c["A"], c["U"] @ E, int(model.heads), True)
    else:
        dAV = c["AX"] @ E
        if c["skip"]:  # the paper's order: (alpha A X) E
            return _after_mix(model, xp, c, c["alpha"] * dAV, alpha_applied=True)
    return _after_mix(model, xp, c, dAV)


def _layer_jvp(model, xp, c, dX):
    """Tangent of X_m given the tangent dX of its input X_{m-1}."""
    A, H = c["A"], int(model.heads)
    dU = _ln_jvp(c, "ln1", dX)
    if c["multi"]:
        dAV = mix(A, dU @ c["W"], H, True)
    else:
        dAV = (dU if A is None else A @ dU) @ c["W"]
    if model.attention == "key-query":
        U, P = c["U"], c["P"]
        if c["multi"]:
            dS = (split_heads(dU @ c["WQ"], H) * float(model.logit_scale)) @ transpose(c["K"]) \
                + c["Qs"] @ transpose(split_heads(dU @ c["WK"], H))
        else:
            dS = (dU @ c["Mqk"]) @ transpose(U) + c["XM"] @ transpose(dU)
        dA = softmax_jvp(P, _shift(xp, dS, c["amax"]))
        dAV = dAV + mix(dA, c["V"], H, c["multi"])
    return _after_mix(model, xp, c, dAV, dX)


def jvp(model: AttentionModel, draws: Draws, l: int, E, *, cache=None):
    """Directional derivative of X_L with respect to W_l along ``E``.

    ``E`` has shape (..., batch, d, d) (leading axes: several directions);
    the result has shape (..., batch, n, d).
    """
    L = int(model.depth)
    l = _validate.integer("l", l, minimum=1, maximum=L)
    cache = forward_cache(model, draws) if cache is None else cache
    xp = get_namespace(draws.X0)
    dX = _start(model, xp, cache[l], E)
    for m in range(l + 1, L + 1):
        dX = _layer_jvp(model, xp, cache[m], dX)
    return dX


def _mlp_vjp(model, c, g):
    """Cotangent of the MLP sub-block's input Z1 from the cotangent g of its output."""
    g = _ln_vjp(c, "post2", g)
    gB2 = g if c["alpha"] == 1 else c["alpha"] * g
    gH1 = (gB2 @ transpose(c["W2"])) * activation_derivative(model.mlp.activation, c["H1"])
    gZ1 = _ln_vjp(c, "ln2", gH1 @ transpose(c["W1"]))
    return gZ1 + g if c["skip"] else gZ1


def vjp_all(model: AttentionModel, draws: Draws, G, *, cache=None):
    """Gradients of ``<G, X_L>`` with respect to every ``W_l`` (reverse mode,
    one backward pass): a list (index l = 1..L, entry 0 ``None``) of arrays
    (..., batch, d, d) for a cotangent ``G`` of shape (..., batch, n, d).
    ``||J_l^T G||^2`` averaged over Gaussian ``G`` is ``||dX_L/dW_l||_F^2``."""
    cache = forward_cache(model, draws) if cache is None else cache
    xp = get_namespace(draws.X0)
    L, H = int(model.depth), int(model.heads)
    out = [None] * (L + 1)
    g = G
    for m in range(L, 0, -1):
        c = cache[m]
        g = g if c["out"] == 1 else c["out"] * g
        if model.mlp is not None:
            g = _mlp_vjp(model, c, g)
        g = _ln_vjp(c, "post1", g)
        gatt = c["alpha"] * g if c["skip"] and c["alpha"] != 1 else g
        if c["WO"] is not None:
            gatt = gatt @ transpose(c["WO"])
        A, W = c["A"], c["W"]
        if c["multi"]:
            gV = merge_heads(transpose(A) @ split_heads(gatt, H))
            out[m] = transpose(c["U"]) @ gV  # d<G, X_L>/dW_m
        else:
            out[m] = transpose(c["AX"]) @ gatt
        if m == 1:
            break
        if c["multi"]:
            gX = gV @ transpose(W)
        else:
            gAX = gatt @ transpose(W)
            gX = gAX if A is None else transpose(A) @ gAX
        if model.attention == "key-query":
            P = c["P"]
            if c["multi"]:
                gA = _shift(xp, split_heads(gatt, H) @ transpose(split_heads(c["V"], H)), c["amax"])
                gS = softmax_jvp(P, gA)
                scale = float(model.logit_scale)
                gX = gX + (merge_heads(gS @ c["K"]) * scale) @ transpose(c["WQ"]) \
                    + merge_heads(transpose(gS) @ c["Qs"]) @ transpose(c["WK"])
            else:
                gA = _shift(xp, gatt @ transpose(c["V"]), c["amax"])
                gS = softmax_jvp(P, gA)  # self-adjoint: the VJP is the JVP
                gX = gX + gS @ c["XMt"] + transpose(gS) @ c["XM"]
        gX = _ln_vjp(c, "ln1", gX)
        g = gX + g if c["skip"] else gX
    return out


def _sumsq(xp, T):
    return xp.sum(T * T, axis=(-2, -1))


def _kronecker(model, draws):
    xp = get_namespace(draws.X0)
    L = int(model.depth)
    # P X0 with the applied attentions
    Y = draws.X0
    for m in range(1, L + 1):
        A = attention_at(model, draws, m, Y)
        Y = Y if A is None else A @ Y
    lefts = []  # ||P X0 W_1...W_{l-1}||_F^2
    for l in range(1, L + 1):
        lefts.append(_sumsq(xp, Y))
        if l < L:
            Y = Y @ draws.W[l]
    rights = [None] * (L + 1)  # ||W_{l+1}...W_L||_F^2
    R = None
    d = draws.W[1].shape[-1]
    for l in range(L, 0, -1):
        rights[l] = _sumsq(xp, R) if R is not None else xp.zeros_like(lefts[0]) + d
        R = draws.W[l] if R is None else draws.W[l] @ R
    out = xp.stack([lefts[l - 1] * rights[l] for l in range(1, L + 1)], axis=-1)
    return to_numpy(out), np.zeros(out.shape)


def _exact(model, draws, chunk):
    xp = get_namespace(draws.X0)
    cache = forward_cache(model, draws)
    L = int(model.depth)
    d = draws.X0.shape[-1]
    eye_d = xp.eye(d, dtype=draws.X0.dtype)
    cols = []
    for l in range(1, L + 1):
        c = cache[l]
        # the map E -> A U E (one attention) or E_h -> A_h U E_h per head (column block h)
        B = (c["A"] @ c["U"][..., None, :, :]) if c["multi"] else c["AX"]
        B = B * (c["alpha"] if c["skip"] else 1.0)
        U, s, _ = xp.linalg.svd(B, full_matrices=False)  # U (batch, [H,] n, r), s (batch, [H,] r)
        if c["multi"]:  # column j of W_l belongs to head j // (d / H)
            head_of = xp.asarray(np.arange(d) // (d // int(model.heads)))
            U = xp.take(U, head_of, axis=1)  # (batch, d, n, r): the head of each column
            s = xp.take(s, head_of, axis=1)  # (batch, d, r)
        r = s.shape[-1]
        total = 0
        for k0 in range(0, r, chunk):
            ks = range(k0, min(r, k0 + chunk))
            # tangents s_k u_k e_j^T of the mixed values for k in ks, j < d:
            # shape (len(ks) * d, batch, n, d)
            parts = []
            for k in ks:
                if c["multi"]:
                    uk = U[..., :, k] * s[..., k:k + 1]  # (batch, d, n): column j's head's u_k
                    uk = xp.permute_dims(uk, (1, 0, 2))  # (d, batch, n)
                    parts.append(uk[..., None] * eye_d[:, None, None, :])
                else:
                    uk = U[..., :, k] * s[..., k:k + 1]  # (batch, n)
                    parts.append(uk[None, :, :, None] * eye_d[:, None, None, :])  # (d, batch, n, d)
            dZ = xp.concat(parts, axis=0)
            dX = _after_mix(model, xp, c, dZ, alpha_applied=True)
            for m in range(l + 1, L + 1):
                dX = _layer_jvp(model, xp, cache[m], dX)
            total = total + xp.sum(_sumsq(xp, dX), axis=0)
        cols.append(total)
    out = to_numpy(xp.stack(cols, axis=-1))
    return out, np.zeros(out.shape)


def _exact_reverse(model, draws, chunk):
    """Sum of ||J_l^T G||^2 over the basis cotangents G = e_i e_j^T."""
    xp = get_namespace(draws.X0)
    cache = forward_cache(model, draws)
    L = int(model.depth)
    batch, n, d = draws.X0.shape[0], draws.X0.shape[-2], draws.X0.shape[-1]
    eye = xp.eye(n * d, dtype=draws.X0.dtype)
    total = 0
    for i0 in range(0, n * d, chunk):
        rows = eye[i0:min(n * d, i0 + chunk), :]
        G = xp.reshape(rows, (rows.shape[0], 1, n, d)) + xp.zeros((1, batch, n, d),
                                                                 dtype=draws.X0.dtype)
        grads = vjp_all(model, draws, G, cache=cache)
        total = total + xp.stack([xp.sum(_sumsq(xp, grads[l]), axis=0) for l in range(1, L + 1)],
                                 axis=-1)
    out = to_numpy(total)
    return out, np.zeros(out.shape)


def _hutchinson(model, draws, probes, rng, chunk):
    """Reverse-mode Hutchinson: for Gaussian cotangents G (n x d),
    E ||J_l^T G||_F^2 = ||J_l||_F^2, all layers l from one backward pass."""
    xp = get_namespace(draws.X0)
    cache = forward_cache(model, draws)
    L = int(model.depth)
    batch, n, d = draws.X0.shape[0], draws.X0.shape[-2], draws.X0.shape[-1]
    gen = as_generator(rng)
    vals = []
    for p0 in range(0, probes, chunk):
        p = min(chunk, probes - p0)
        G = xp.asarray(gen.standard_normal((p, batch, n, d)), dtype=draws.X0.dtype)
        grads = vjp_all(model, draws, G, cache=cache)
        vals.append(np.stack([to_numpy(_sumsq(xp, grads[l])) for l in range(1, L + 1)], axis=-1))
    v = np.concatenate(vals, axis=0)  # (probes, batch, L)
    return v.mean(axis=0), v.std(axis=0, ddof=1) / math.sqrt(probes)


def grad_norms_sq(model: AttentionModel, *, batch=1, rng=None, backend="numpy", dtype=None,
                  method="auto", probes=64, draws=None, return_se=False, chunk=None):
    """``||dX_L/dW_l||_F^2`` for l = 1..L, shape (batch, L), as numpy.

    ``draws`` (from :func:`numerics.forward.draw`) reuses given networks;
    otherwise ``batch`` networks are drawn from ``rng``.  With
    ``return_se=True`` also returns the standard errors (zero for the exact
    methods).  The Hutchinson probes come from a child stream of ``rng``.
    """
    if not isinstance(model, AttentionModel):
        raise ValueError(f"model must be a theory.model.AttentionModel (got {type(model).__name__})")
    _validate.one_of("method", method, METHODS)
    probes = _validate.integer("probes", probes, minimum=2)
    gen = as_generator(rng)
    g_draw, g_probe = gen.spawn(2)
    if draws is None:
        draws = draw(model, batch=batch, rng=g_draw, backend=backend, dtype=dtype)
    n, d = int(model.n), model.d
    kron_ok = (model.is_linear and model.skip is None and model.heads == 1
               and model.out_proj is None)
    if method == "auto":
        method = "kronecker" if kron_ok else ("exact" if n * d <= AUTO_EXACT_MAX_ND else "hutchinson")
    if method == "kronecker":
        if not kron_ok:
            raise ValueError("method='kronecker' needs attention independent of X, no skip, no "
                             "LayerNorm, one head, no output projection and no MLP; use 'exact' "
                             "or 'hutchinson'")
        vals, se = _kronecker(model, draws)
    elif method == "exact":
        vals, se = _exact_reverse(model, draws, chunk or 64)
    elif method == "exact-forward":
        vals, se = _exact(model, draws, chunk or max(1, 4096 // max(d, 1)))
    else:
        vals, se = _hutchinson(model, draws, probes, g_probe, chunk or 8)
    return (vals, se) if return_se else vals
