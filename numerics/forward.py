"""Forward sampling of an :class:`~theory.model.AttentionModel` at initialisation.

:func:`sample` draws a batch of independent networks and inputs and returns
the signal at every layer, ``X[l]`` of shape ``(batch, n, d)`` for l = 0..L
(the conventions are those of the model's docstring).  The random draws are
made by :func:`draw` from one child stream per component (input, values,
attention), so that models that differ only in gap removal, skip or
LayerNorm see the same draws for the same seed (common random numbers), and
:func:`propagate` can run several such variants on one set of draws.

>>> from gapcheck.theory.model import preset
>>> traj = sample(preset("A", n=4, depth=2), batch=3, rng=0, keep=("X", "A", "W"))
>>> [x.shape for x in traj.X], traj.A[1].shape
([(3, 4, 4), (3, 4, 4), (3, 4, 4)], (3, 4, 4))
>>> import numpy as np
>>> bool(np.allclose(traj.X[2], traj.A[2] @ traj.X[1] @ traj.W[2]))
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..theory import _validate
from ..theory.model import AttentionModel

from . import layers
from .backend import backend_name, get_namespace, namespace, resolve_dtype, to_numpy
from .layers import layernorm  # noqa: F401  (a public name of this module since 0.1)
from .rng import as_generator
from .sampling import gaussian, isometric_input, markov_entries

__all__ = ["Draws", "Trajectory", "draw", "propagate", "sample", "block", "attention_at", "logits", "mix",
           "layernorm", "KEEP"]

KEEP = ("X", "A", "W", "WQ", "WK", "WO", "W1", "W2")


@dataclass
class Draws:
    """The random draws behind a batch of networks: ``X0``; per layer l = 1..L
    (lists indexed from 1, entry 0 is ``None``) the values ``W[l]``, the
    row-stochastic Markov attention ``A[l]`` before gap removal (``None``
    for identity / key-query; under a causal mask the masked, row-normalised
    one; with H > 1 heads of shape (batch, H, n, n)), the key/query matrices
    ``WQ[l]``, ``WK[l]`` (key-query only; d x (H d_k), head h the h-th block
    of d_k columns), and beyond the paper the output projection ``WO[l]`` and
    the MLP's ``W1[l]``, ``W2[l]`` (``None`` when the model has none)."""

    X0: object
    W: list
    A: list
    WQ: list
    WK: list
    WO: list | None = None
    W1: list | None = None
    W2: list | None = None
    _qk: dict = field(default_factory=dict, repr=False)

    def qk_product(self, l: int, d_k: int, temperature: str = "sqrt"):
        """``W_Q W_K^T`` of layer l times the logit scale (``1/sqrt(d_k)``,
        ``1/d_k`` or 1 for ``temperature`` "sqrt", "linear", "none"): the
        single-head logit matrix, computed once and shared by variants."""
        key = (l, temperature)
        if key not in self._qk:
            P = self.WQ[l] @ layers.transpose(self.WK[l])
            self._qk[key] = {"sqrt": lambda: P / math.sqrt(d_k), "linear": lambda: P / d_k,
                             "none": lambda: P}[temperature]()
        return self._qk[key]

    @classmethod
    def concat(cls, parts, xp) -> "Draws":
        """The draws of several batches stacked along the batch axis (namespace ``xp``)."""
        def cat(arrs):
            return None if arrs[0] is None else xp.concat(arrs, axis=0)

        if len(parts) == 1:
            return parts[0]
        L = len(parts[0].W) - 1
        lists = {}
        for k in ("W", "A", "WQ", "WK", "WO", "W1", "W2"):
            if getattr(parts[0], k) is None:
                lists[k] = None
            else:
                lists[k] = [None] + [cat([getattr(p, k)[l] for p in parts]) for l in range(1, L + 1)]
        return cls(cat([p.X0 for p in parts]), **lists)


@dataclass
class Trajectory:
    """Signal of a sampled batch: ``X[l]`` (batch, n, d) for l = 0..L; if kept,
    the applied attention ``A[l]`` (after gap removal) and ``W[l]``, ``WQ[l]``,
    ``WK[l]``, ``WO[l]``, ``W1[l]``, ``W2[l]`` for l = 1..L (lists with ``None``
    at index 0)."""

    model: AttentionModel
    X: list
    A: list | None = None
    W: list | None = None
    WQ: list | None = None
    WK: list | None = None
    backend: str = "numpy"
    WO: list | None = None
    W1: list | None = None
    W2: list | None = None
    stopped: str | None = None

    @property
    def depth(self) -> int:
        """Number of layers computed (the model's depth unless ``stopped``)."""
        return len(self.X) - 1

    def numpy(self, what: str = "X"):
        """The kept arrays ``what`` as numpy arrays (list over layers)."""
        return [None if a is None else to_numpy(a) for a in getattr(self, what)]


def _check_model(model):
    if not isinstance(model, AttentionModel):
        raise ValueError(f"model must be a theory.model.AttentionModel (got {type(model).__name__})")
    if not isinstance(model.d, int):
        raise ValueError("model must have numeric n and gamma to be sampled")


def draw(model: AttentionModel, *, batch=1, rng=None, backend="numpy", dtype=None) -> Draws:
    """The random draws of ``batch`` independent networks of ``model``
    (``dtype=None``: the model's :attr:`~theory.model.AttentionModel.default_dtype`).

    Streams: ``rng`` spawns the input, value and attention streams (the
    paper's model; each spawns one child per layer), and, only for a model
    with an output projection or an MLP, two more (``W_O``; ``W_1, W_2``), so
    the paper's fields keep their draws whatever is added.  Head 0 of an
    H-head Random Markov layer is the single-head draw, heads 1..H-1 come from
    the layer stream's children; a causal mask reuses the unmasked entries."""
    _check_model(model)
    dtype = model.default_dtype if dtype is None else dtype
    xp = namespace(backend)
    resolve_dtype(xp, dtype)
    batch = _validate.integer("batch", batch, minimum=1)
    n, d, L, H = int(model.n), model.d, int(model.depth), int(model.heads)
    gen = as_generator(rng)
    g_x, g_w, g_a = gen.spawn(3)
    if model.isometry == "columns":  # X_0^T X_0 = I_d: the transpose of a d x n isometry
        X0 = layers.transpose(isometric_input(d, n, batch=batch, rng=g_x, backend=xp, dtype=dtype))
    else:
        X0 = isometric_input(n, d, batch=batch, rng=g_x, backend=xp, dtype=dtype)
    sv = math.sqrt(float(model.sigma_V2))
    W = [None] + [gaussian((batch, d, d), rng=g, std=sv, backend=xp, dtype=dtype)
                  for g in g_w.spawn(L)]
    A, WQ, WK = [None] * (L + 1), [None] * (L + 1), [None] * (L + 1)
    if model.attention == "markov":
        def entries(g):
            return markov_entries(n, batch=batch, ensemble=model.ensemble, rng=g,
                                  sigma_a2=model.sigma_a2, backend=xp, dtype=dtype)
        for l, g in enumerate(g_a.spawn(L), start=1):
            M = entries(g)
            if H > 1:
                M = xp.stack([M] + [entries(gh) for gh in g.spawn(H - 1)], axis=1)
            A[l] = layers.mask_markov(M) if model.causal else M / xp.sum(M, axis=-1, keepdims=True)
    elif model.attention == "key-query":
        sq = math.sqrt(float(model.sigma_QK2))
        width = H * int(model.key_width)
        for l, g in enumerate(g_a.spawn(L), start=1):
            gq, gk = g.spawn(2)
            WQ[l] = gaussian((batch, d, width), rng=gq, std=sq, backend=xp, dtype=dtype)
            WK[l] = gaussian((batch, d, width), rng=gk, std=sq, backend=xp, dtype=dtype)
    WO = W1 = W2 = None
    if model.out_proj is not None or model.mlp is not None:
        g_o, g_m = gen.spawn(2)
        if model.out_proj is not None:
            so = math.sqrt(float(model.sigma_O2))
            WO = [None] + [gaussian((batch, d, d), rng=g, std=so, backend=xp, dtype=dtype)
                           for g in g_o.spawn(L)]
        if model.mlp is not None:
            s_in, s_out = (math.sqrt(float(v)) for v in model.mlp.variances(d))
            wide = int(model.mlp.width) * d
            W1, W2 = [None] * (L + 1), [None] * (L + 1)
            for l, g in enumerate(g_m.spawn(L), start=1):
                g1, g2 = g.spawn(2)
                W1[l] = gaussian((batch, d, wide), rng=g1, std=s_in, backend=xp, dtype=dtype)
                W2[l] = gaussian((batch, wide, d), rng=g2, std=s_out, backend=xp, dtype=dtype)
    return Draws(X0, W, A, WQ, WK, WO, W1, W2)


def _multi(A) -> bool:
    """Whether ``A`` holds one attention per head (batch, H, n, n)."""
    return A is not None and len(A.shape) == 4


def logits(model: AttentionModel, draws: Draws, l: int, U, rec=None):
    """The key-query logits of layer l on the attention input ``U``:
    ``U W_Q W_K^T U^T`` times the logit scale (one head: through
    :meth:`Draws.qk_product`), or per head (batch, H, n, n).  ``rec`` (a
    dict) receives the intermediates the derivatives need."""
    if model.heads == 1:
        M = draws.qk_product(l, int(model.key_width), model.temperature)
        UM = U @ M
        if rec is not None:
            rec.update(Mqk=M, XM=UM)
        return UM @ layers.transpose(U)
    H = int(model.heads)
    Qs = layers.split_heads(U @ draws.WQ[l], H) * float(model.logit_scale)
    K = layers.split_heads(U @ draws.WK[l], H)
    if rec is not None:
        rec.update(Qs=Qs, K=K, WQ=draws.WQ[l], WK=draws.WK[l])
    return Qs @ layers.transpose(K)


def attention_at(model: AttentionModel, draws: Draws, l: int, X, *, applied=True, rec=None):
    """The attention of layer l given the attention's input X (key-query; after
    the pre-LN, if any): after gap removal if ``applied`` (the matrix the
    layer multiplies by), else the row-stochastic one.  ``None`` for the
    identity without gap removal; with H > 1 heads (Markov, key-query) of
    shape (batch, H, n, n).  ``rec`` (key-query) receives the logits'
    intermediates and the softmax ``P``."""
    xp = get_namespace(X)
    k = model.remove_gap if applied else 0
    if model.attention == "markov":
        return layers.remove_gap(draws.A[l], k, rows_sum_to_one=True)
    if model.attention == "identity":
        if not k:
            return None
        A = xp.eye(X.shape[-2], dtype=X.dtype)[None, ...] + 0 * X[..., :1, :1]
        return layers.remove_gap(A, k)
    S = logits(model, draws, l, X, rec)
    if rec is not None:
        rec["P"] = layers.softmax_attention(S, 0, causal=model.causal)
        if not k:
            return rec["P"]
    return layers.softmax_attention(S, k, causal=model.causal)


def mix(A, V, heads: int, per_head: bool | None = None):
    """The attention applied to the values: ``A V`` (one attention) or
    ``[A_1 V^1, ..., A_H V^H]`` (``A`` of shape (..., batch, H, n, n), ``V^h``
    the h-th block of columns); ``A = None`` is the identity.  ``per_head``
    says which (default: whether ``A`` has 4 axes)."""
    if A is None:
        return V
    if not (_multi(A) if per_head is None else per_head):
        return A @ V
    return layers.merge_heads(A @ layers.split_heads(V, heads))


def block(model: AttentionModel, draws: Draws, l: int, X, rec=None, *, for_derivatives=False):
    """Block l of ``model`` on its input X: the attention sub-block
    ``X + a [A_h U W_V^h]_h W_O`` with ``U = LN(X)`` under pre-LN (LayerNorm of
    the sum under post-LN), then the MLP sub-block likewise, then the block's
    output factor.  ``rec`` (a dict) receives every intermediate the
    derivatives need (:mod:`numerics.gradients`, which passes
    ``for_derivatives=True``: one attention is applied as ``(A U) W`` and
    ``A U`` recorded, else as ``A (U W)``; equal up to rounding)."""
    alpha = model.skip_alpha
    a = None if alpha is None else float(alpha)
    pre = model.layernorm and model.ln_position == "pre"
    U = X
    if pre:
        U, sig = layers.layernorm(X, return_scale=True)
        if rec is not None:
            rec["ln1"] = (U, sig)
    A = attention_at(model, draws, l, U, rec=rec)
    V = U @ draws.W[l]
    if for_derivatives and not _multi(A):
        # the derivatives' order, (A U) W: A U is what they multiply a direction E by
        rec["AX"] = U if A is None else A @ U
        AV = rec["AX"] @ draws.W[l]
    else:
        AV = mix(A, V, int(model.heads))
    B = AV if draws.WO is None else AV @ draws.WO[l]
    Z = B if a is None else layers.skip(X, B, a)
    if model.layernorm and not pre:
        Z, sig = layers.layernorm(Z, return_scale=True)
        if rec is not None:
            rec["post1"] = (Z, sig)
    if rec is not None:
        rec.update(X=X, U=U, A=A, V=V, W=draws.W[l], a=a,
                   WO=None if draws.WO is None else draws.WO[l])
    if model.mlp is not None:
        Z1 = Z
        U2 = Z1
        if pre:
            U2, sig = layers.layernorm(Z1, return_scale=True)
            if rec is not None:
                rec["ln2"] = (U2, sig)
        H1 = U2 @ draws.W1[l]
        B2 = layers.activation(model.mlp.activation, H1) @ draws.W2[l]
        Z = B2 if a is None else layers.skip(Z1, B2, a)
        if not pre and model.layernorm:
            Z, sig = layers.layernorm(Z, return_scale=True)
            if rec is not None:
                rec["post2"] = (Z, sig)
        if rec is not None:
            rec.update(H1=H1, W1=draws.W1[l], W2=draws.W2[l])
    out_scale = float(model.output_scale)
    if rec is not None:
        rec["out"] = out_scale
    return Z if out_scale == 1 else out_scale * Z


def propagate(model: AttentionModel, draws: Draws, *, keep=("X",), on_underflow="raise") -> Trajectory:
    """Run ``model`` on ``draws`` (conventions: the model's docstring).

    A signal that leaves the floating-point range is an ``OverflowError``.  A
    signal that underflows to exactly zero (key-query attention with the gap
    removed and Xavier scaling contracts like ``X_l ~ X_{l-1}^3``, below
    1e-300 by layer 6 in float64) is a ``FloatingPointError`` with
    ``on_underflow="raise"``; with ``"stop"`` the trajectory ends at the last
    non-zero layer and ``Trajectory.stopped`` says why.
    """
    _validate.one_of("on_underflow", on_underflow, ("raise", "stop"))
    _check_model(model)
    keep = tuple(keep)
    for k in keep:
        _validate.one_of("keep", k, KEEP)
    X = draws.X0
    xp = get_namespace(X)
    L = int(model.depth)
    if len(draws.W) < L + 1:
        raise ValueError(f"draws hold {len(draws.W) - 1} layers, the model needs depth {L}")
    for name, needed in (("WO", model.out_proj is not None), ("W1", model.mlp is not None)):
        if needed and getattr(draws, name) is None:
            raise ValueError(f"draws hold no {name}: draw them for this model (numerics.forward.draw)")
    Xs, As = [X], [None]
    stopped = None
    for l in range(1, L + 1):
        rec = {} if "A" in keep else None
        with np.errstate(over="ignore", invalid="ignore"):  # checked explicitly below
            Z = block(model, draws, l, X, rec)
        peak = xp.max(xp.abs(Z), axis=(-2, -1))  # inf or nan propagate into the peak
        if not bool(xp.all(xp.isfinite(peak))):
            raise OverflowError(
                f"the signal overflowed {Z.dtype} at layer {l} of depth {L}; sample in float64, "
                f"lower depth or sigma_v2, or add LayerNorm")
        if not bool(xp.all(peak > 0)):
            if on_underflow == "stop":
                stopped = (f"{model.attention} signal underflowed to zero in {Z.dtype} at layer "
                           f"{l}; layers {l}..{L} not computed")
                break
            raise FloatingPointError(
                f"the signal underflowed to zero in {Z.dtype} at layer {l} of depth {L}; "
                f"sample in float64 or lower the depth")
        X = Z
        Xs.append(X)
        As.append(None if rec is None else rec["A"])

    def kept(name):
        lst = getattr(draws, name)
        return list(lst[:L + 1]) if name in keep and lst is not None else None
    return Trajectory(
        model=model, X=Xs,
        A=As if "A" in keep else None,
        W=kept("W"), WQ=kept("WQ"), WK=kept("WK"),
        backend=backend_name(xp), stopped=stopped,
        WO=kept("WO"), W1=kept("W1"), W2=kept("W2"))


def sample(model: AttentionModel, *, batch=1, rng=None, backend="numpy", dtype=None,
           keep=("X",)) -> Trajectory:
    """Sample ``batch`` independent networks and inputs of ``model`` and return
    the signal at every layer (and the kept attention / weights)."""
    for k in keep:
        _validate.one_of("keep", k, KEEP)
    return propagate(model, draw(model, batch=batch, rng=rng, backend=backend, dtype=dtype),
                     keep=keep)
