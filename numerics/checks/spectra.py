"""Cached spectra that several checks measure on the same samples (part of the
check toolkit): the signal's Gram spectrum of an attention stack (Props 3, Thms 9
and 10 read it). Each is keyed by the model and an integer seed drawn from
:func:`numerics.checks.toolkit.seed`, so a check's truth and its negative
controls, and checks that share a measurement, read the same draws.
"""
from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["signal_spectrum", "markov_spectrum"]


@functools.lru_cache(maxsize=64)
def signal_spectrum(model, batch: int, seed: int, backend: str = "numpy"):
    """Eigenvalues of ``X_l X_l^T`` (batch, n) in decreasing order at the last
    layer of ``model``, and the norm of the rank-one part
    ``||(1/n) 1 1^T X0 W_1...W_l|| = ||1^T X0 W_1...W_l|| / sqrt(n)`` (batch,).
    Read-only arrays (the cache hands the same ones to every caller)."""
    from ..backend import to_numpy
    from ..forward import sample
    depth, n = model.depth, model.n
    tr = sample(model, batch=batch, rng=seed, backend=backend, keep=("X", "W"))
    X = to_numpy(tr.X[depth])
    lam = np.linalg.eigvalsh(X @ X.transpose(0, 2, 1))[:, ::-1].copy()
    u = to_numpy(tr.X[0]).sum(axis=1)
    for j in range(1, depth + 1):
        u = np.einsum("bd,bde->be", u, to_numpy(tr.W[j]))
    R = np.linalg.norm(u, axis=1) / math.sqrt(n)
    lam.setflags(write=False)
    R.setflags(write=False)
    return lam, R


@functools.lru_cache(maxsize=64)
def markov_spectrum(model, batch: int, seed: int, backend: str = "numpy", perp: bool = False):
    """Singular values (batch, n), decreasing, of one Random Markov matrix ``A``
    of ``model`` (its ensemble and relative variance; or of the gap-removed
    ``sqrt(n)(A - 11^T/n)`` if ``perp``), and the row sum of ``A`` farthest
    from 1 (``A 1 = 1``). Read-only, cached: a check's truth and its controls
    read the same draws."""
    from ..backend import to_numpy
    from ..sampling import random_markov
    n = int(model.n)
    A = to_numpy(random_markov(n, batch=batch, ensemble=model.ensemble, rng=seed,
                               sigma_a2=model.sigma_a2, backend=backend))
    rows = A.sum(-1)
    rowsum = float(rows.flat[np.argmax(np.abs(rows - 1))])
    M = math.sqrt(n) * (A - 1.0 / n) if perp else A
    s = np.linalg.svd(M, compute_uv=False)
    s.setflags(write=False)
    return s, rowsum
