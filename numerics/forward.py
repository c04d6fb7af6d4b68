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

__all__ = ["Draws", "Trajectory", "draw", "propagate", "sample", "layernorm", "KEEP"]

KEEP = ("X", "A", "W", "WQ", "WK")


@dataclass
class Draws:
    """The random draws behind a batch of networks: ``X0``; per layer l = 1..L
    (lists indexed from 1, entry 0 is ``None``) the values ``W[l]``, the
    row-stochastic Markov attention ``A[l]`` before gap removal (``None``
    for identity / key-query), and the key/query matrices ``WQ[l]``, ``WK[l]``
    (key-query only)."""

    X0: object
    W: list
    A: list
    WQ: list
    WK: list
    _qk: dict = field(default_factory=dict, repr=False)

    def qk_product(self, l: int, d_k: int):
        """``W_Q W_K^T / sqrt(d_k)`` of layer l (computed once, shared by variants)."""
        if l not in self._qk:
            self._qk[l] = (self.WQ[l] @ layers.transpose(self.WK[l])) / math.sqrt(d_k)
        return self._qk[l]


@dataclass
class Trajectory:
    """Signal of a sampled batch: ``X[l]`` (batch, n, d) for l = 0..L; if kept,
    the applied attention ``A[l]`` (after gap removal) and ``W[l]``, ``WQ[l]``,
    ``WK[l]`` for l = 1..L (lists with ``None`` at index 0)."""

    model: AttentionModel
    X: list
    A: list | None = None
    W: list | None = None
    WQ: list | None = None
    WK: list | None = None
    backend: str = "numpy"
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
    (``dtype=None``: the model's :attr:`~theory.model.AttentionModel.default_dtype`)."""
    _check_model(model)
    dtype = model.default_dtype if dtype is None else dtype
    xp = namespace(backend)
    resolve_dtype(xp, dtype)
    batch = _validate.integer("batch", batch, minimum=1)
    n, d, L = int(model.n), model.d, int(model.depth)
    g_x, g_w, g_a = as_generator(rng).spawn(3)
    X0 = isometric_input(n, d, batch=batch, rng=g_x, backend=xp, dtype=dtype)
    sv = math.sqrt(float(model.sigma_V2))
    W = [None] + [gaussian((batch, d, d), rng=g, std=sv, backend=xp, dtype=dtype)
                  for g in g_w.spawn(L)]
    A, WQ, WK = [None] * (L + 1), [None] * (L + 1), [None] * (L + 1)
    if model.attention == "markov":
        for l, g in enumerate(g_a.spawn(L), start=1):
            M = markov_entries(n, batch=batch, ensemble=model.ensemble, rng=g,
                               sigma_a2=model.sigma_a2, backend=xp, dtype=dtype)
            A[l] = M / xp.sum(M, axis=-1, keepdims=True)
    elif model.attention == "key-query":
        sq = math.sqrt(float(model.sigma_QK2))
        for l, g in enumerate(g_a.spawn(L), start=1):
            gq, gk = g.spawn(2)
            WQ[l] = gaussian((batch, d, d), rng=gq, std=sq, backend=xp, dtype=dtype)
            WK[l] = gaussian((batch, d, d), rng=gk, std=sq, backend=xp, dtype=dtype)
    return Draws(X0, W, A, WQ, WK)


def attention_at(model: AttentionModel, draws: Draws, l: int, X, *, applied=True):
    """The attention of layer l given the layer's input X (key-query):
    after gap removal if ``applied`` (the matrix the layer multiplies by), else
    the row-stochastic one.  ``None`` for the identity without gap removal."""
    xp = get_namespace(X)
    k = model.remove_gap if applied else 0
    if model.attention == "markov":
        return layers.remove_gap(draws.A[l], k, rows_sum_to_one=True)
    if model.attention == "identity":
        if not k:
            return None
        A = xp.eye(X.shape[-2], dtype=X.dtype)[None, ...] + 0 * X[..., :1, :1]
        return layers.remove_gap(A, k)
    S = (X @ draws.qk_product(l, model.d)) @ layers.transpose(X)
    return layers.softmax_attention(S, k)


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
    alpha = model.skip_alpha
    alpha = None if alpha is None else float(alpha)
    out_scale = float(model.output_scale)
    Xs, As = [X], [None]
    stopped = None
    for l in range(1, L + 1):
        with np.errstate(over="ignore", invalid="ignore"):  # checked explicitly below
            A = attention_at(model, draws, l, X)
            Z = X @ draws.W[l]
            if A is not None:
                Z = A @ Z
            if alpha is not None:
                Z = layers.skip(X, Z, alpha)
            if model.layernorm:
                Z = layers.layernorm(Z)
            if out_scale != 1:
                Z = out_scale * Z
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
        As.append(A)
    return Trajectory(
        model=model, X=Xs,
        A=As if "A" in keep else None,
        W=list(draws.W[:L + 1]) if "W" in keep else None,
        WQ=list(draws.WQ[:L + 1]) if "WQ" in keep else None,
        WK=list(draws.WK[:L + 1]) if "WK" in keep else None,
        backend=backend_name(xp), stopped=stopped)


def sample(model: AttentionModel, *, batch=1, rng=None, backend="numpy", dtype=None,
           keep=("X",)) -> Trajectory:
    """Sample ``batch`` independent networks and inputs of ``model`` and return
    the signal at every layer (and the kept attention / weights)."""
    for k in keep:
        _validate.one_of("keep", k, KEEP)
    return propagate(model, draw(model, batch=batch, rng=rng, backend=backend, dtype=dtype),
                     keep=keep)
