"""Batched samplers of the building blocks: isometric inputs, Random Markov
matrices, value weights and key-query softmax attention (the layers
themselves, softmax and gap removal, live in :mod:`numerics.layers`).

All return arrays of shape ``(batch, ...)`` in the namespace of ``backend``
("numpy", "cupy", "array-api-strict" or a namespace), in ``dtype``
("float64" by default).  Random numbers come from ``rng`` (SPEC 7): drawn with
numpy and moved to the backend, except on CuPy where a device generator is
seeded from ``rng`` (same seed, same statistics; not the same digits).

>>> import numpy as np
>>> X0 = isometric_input(3, 5, batch=2, rng=0)
>>> X0.shape, bool(np.allclose(X0 @ X0.transpose(0, 2, 1), np.eye(3)))
((2, 3, 5), True)
>>> A = random_markov(4, batch=2, ensemble="exponential", rng=0)
>>> bool(np.allclose(A.sum(-1), 1)) and bool((A >= 0).all())
True
"""
from __future__ import annotations

import math

import numpy as np

from ..theory import _validate
from ..theory.ensembles import ENSEMBLES

from .backend import from_numpy, is_cupy, namespace, resolve_dtype
# the layers are numerics.layers'; these names stay importable from here
from .layers import key_query_attention, remove_gap, softmax  # noqa: F401
from .rng import as_generator, seed_for

__all__ = ["isometric_input", "random_markov", "markov_entries", "value_weights",
           "gaussian", "key_query_attention", "softmax", "remove_gap"]


def _setup(backend, dtype, batch):
    xp = namespace(backend)
    _validate.integer("batch", batch, minimum=1)
    return xp, resolve_dtype(xp, dtype)


def _device_rng(rng):
    import cupy
    return cupy.random.default_rng(seed_for(rng))


def gaussian(shape, *, rng=None, std=1.0, backend="numpy", dtype="float64"):
    """i.i.d. ``N(0, std^2)`` entries of the given shape."""
    xp = namespace(backend)
    dt = resolve_dtype(xp, dtype)
    gen = as_generator(rng)
    npdt = np.float32 if "32" in str(dt) else np.float64
    if is_cupy(xp):
        out = _device_rng(gen).standard_normal(shape, dtype=npdt)
    else:
        out = from_numpy(xp, gen.standard_normal(shape, dtype=npdt), dt)
    return out if std == 1 else out * std


def isometric_input(n, d, *, batch=1, rng=None, backend="numpy", dtype="float64"):
    """Haar-distributed inputs with orthonormal rows, shape ``(batch, n, d)``.

    The first n rows of a Haar orthogonal d x d matrix have the law of the
    transpose of a Haar n-frame in R^d, sampled here as the Q factor of a
    d x n Gaussian matrix with the signs of diag(R) made positive (Mezzadri's
    correction), which costs O(d n^2) instead of O(d^3).
    """
    n = _validate.integer("n", n, minimum=1)
    d = _validate.integer("d", d, minimum=n)
    xp, dt = _setup(backend, dtype, batch)
    G = gaussian((batch, d, n), rng=rng, backend=xp, dtype=dtype)
    Q, R = xp.linalg.qr(G)
    diag = xp.linalg.diagonal(R)
    one = xp.ones_like(diag)
    sign = xp.where(diag < 0, -one, one)
    Q = Q * sign[:, None, :]
    return xp.permute_dims(Q, (0, 2, 1)) if hasattr(xp, "permute_dims") else Q.transpose(0, 2, 1)


def markov_entries(n, *, batch=1, ensemble="lognormal", rng=None, sigma_a2=None,
                   backend="numpy", dtype="float64"):
    """The unnormalised non-negative entries M of Definition 1.1, ``(batch, n, n)``.

    ``ensemble`` is a name of ``theory.ensembles.ENSEMBLES`` or a callable
    ``sampler(rng, shape) -> numpy array`` of non-negative entries.
    """
    n = _validate.integer("n", n, minimum=2)
    xp, dt = _setup(backend, dtype, batch)
    gen = as_generator(rng)
    shape = (batch, n, n)
    npdt = np.float32 if "32" in str(dt) else np.float64
    if callable(ensemble):
        M = np.asarray(ensemble(gen, shape))
        if M.shape != shape:
            raise ValueError(f"ensemble sampler must return an array of shape {shape} "
                             f"(got {M.shape})")
        if not np.all(np.isfinite(M)):
            raise ValueError("ensemble sampler returned non-finite entries")
        if np.any(M < 0):
            raise ValueError("ensemble sampler returned negative entries; Random Markov "
                             "entries must be non-negative")
        if np.any(M.sum(axis=-1) <= 0):
            raise ValueError("ensemble sampler returned a row of zeros; every row of M "
                             "needs a positive sum")
        return from_numpy(xp, M.astype(npdt, copy=False), dt)
    _validate.one_of("ensemble", ensemble, tuple(ENSEMBLES))
    law = ENSEMBLES[ensemble]
    if sigma_a2 is not None:
        law = law.with_relative_variance(sigma_a2)
    g = _device_rng(gen) if is_cupy(xp) else gen
    if ensemble == "lognormal":
        s2 = float(law.log_variance)
        Z = g.standard_normal(shape, dtype=npdt)
        Z *= npdt(math.sqrt(s2))
        Z -= npdt(s2 / 2)
        M = (xp.exp if is_cupy(xp) else np.exp)(Z)
    elif ensemble == "exponential":
        M = g.standard_exponential(shape, dtype=npdt)
    else:  # uniform on [0, 2]
        M = g.random(shape, dtype=npdt)
        M *= 2
    return M if is_cupy(xp) else from_numpy(xp, M, dt)


def random_markov(n, *, batch=1, ensemble="lognormal", rng=None, sigma_a2=None,
                  backend="numpy", dtype="float64"):
    """Random Markov matrices ``D^{-1} M`` (Definition 1.1), shape ``(batch, n, n)``:
    rows sum to 1, entries non-negative."""
    M = markov_entries(n, batch=batch, ensemble=ensemble, rng=rng, sigma_a2=sigma_a2,
                       backend=backend, dtype=dtype)
    xp = namespace(backend)
    return M / xp.sum(M, axis=-1, keepdims=True)


def value_weights(d, *, batch=1, variance=1.0, rng=None, backend="numpy", dtype="float64"):
    """Value matrices with i.i.d. ``N(0, variance)`` entries, ``(batch, d, d)``."""
    d = _validate.integer("d", d, minimum=1)
    _validate.positive("variance", variance)
    _setup(backend, dtype, batch)
    return gaussian((batch, d, d), rng=rng, std=math.sqrt(float(variance)), backend=backend,
                    dtype=dtype)

