"""Products of random matrices and the batch-normalisation chain
(Daneshmand et al., NeurIPS 2020 and 2021; ``docs/derivations.md``, sections bn.*).

Samplers and measures behind the ``bn.*`` checks:

* :func:`soft_rank`, :func:`rank_tau`: ``r(M) = tr(M)^2/|M|_F^2`` and the
  thresholded rank ``#{i : lambda_i >= tau tr(M)/dim}`` of PSD matrices (E1);
* :func:`lyapunov_qr`: Lyapunov exponents of products of Gaussian matrices
  by QR iteration (E3);
* :func:`bn_chain`: the batch-normalised chain ``H <- D (I + gamma W) H``,
  propagating the factor ``H`` (not the Gram ``M = H H^T``) for stability (E2);
* :func:`orthogonality_chain`: ``H <- BN(W H)/sqrt(d)`` and its orthogonality
  gap, sampling ``W H`` directly from its law (E4);
* :func:`product_top_sv2`: the top squared singular value of an ``L``-fold
  product, with a running log-scale so that any depth is safe (E5).

Every function takes ``rng`` (a Generator or a seed) and batches over
independent replicas along the first axis.

>>> import numpy as np
>>> float(soft_rank(np.eye(4)))
4.0
>>> int(rank_tau(np.diag([4.0, 1.0, 0.0]), 0.5))
2
"""
from __future__ import annotations

import numpy as np

from ...theory._validate import in_interval, integer, nonnegative, one_of, positive

from ..backend import require_backend
from ..measures import top_eigenvalues_operator
from ..rng import as_generator

__all__ = ["soft_rank", "rank_tau", "random_psd", "lyapunov_qr", "bn_chain",
           "orthogonality_gap", "orthogonality_chain", "product_top_sv2", "product_top_sv2_lanczos"]


#: why the products / batch-norm samplers run on numpy only
_NUMPY_ONLY = ("sequential chains of small d x d matrices (d <= 512) with a QR, Cholesky or "
               "eigensolver at every step; not ported to the array API")


def soft_rank(M):
    """``tr(M)^2 / |M|_F^2`` of (a batch of) symmetric PSD matrices.

    >>> import numpy as np
    >>> float(soft_rank(np.diag([1.0, 1.0, 0.0])))
    2.0
    """
    M = np.asarray(M, dtype=float)
    if M.ndim < 2 or M.shape[-1] != M.shape[-2]:
        raise ValueError(f"M must be square (got shape {M.shape})")
    tr = np.trace(M, axis1=-2, axis2=-1)
    return tr**2 / np.sum(M * M, axis=(-2, -1))


def rank_tau(M, tau):
    """``#{i : lambda_i(M) >= tau tr(M)/dim}`` of (a batch of) symmetric PSD
    matrices; ``tau`` is a number or an array broadcasting against the batch.

    >>> import numpy as np
    >>> int(rank_tau(np.diag([3.0, 1.0, 0.0, 0.0]), 0.9))
    2
    """
    t = np.asarray(tau, dtype=float)
    if not np.all((t >= 0) & (t < 1)):
        in_interval("tau", float(t.ravel()[np.argmax(~((t >= 0) & (t < 1)).ravel())]), 0, 1,
                    lo_open=False, hi_open=True)
    M = np.asarray(M, dtype=float)
    if M.ndim < 2 or M.shape[-1] != M.shape[-2]:
        raise ValueError(f"M must be square (got shape {M.shape})")
    lam = np.linalg.eigvalsh(M)
    dim = M.shape[-1]
    thr = t * np.trace(M, axis1=-2, axis2=-1) / dim
    return np.sum(lam >= thr[..., None], axis=-1)


def random_psd(dim, *, batch=1, rng=None, tail=3.0, backend="numpy"):
    """Random PSD matrices ``U diag(lambda) U^T`` with heavy-tailed spectra:
    ``lambda = exp(tail * g)``, ``g`` standard normal, ``U`` Haar orthogonal,
    and a random number of exact zeros (shape ``(batch, dim, dim)``).

    >>> random_psd(3, batch=2, rng=0).shape
    (2, 3, 3)
    """
    integer("dim", dim, minimum=1)
    integer("batch", batch, minimum=1)
    nonnegative("tail", tail)
    require_backend(backend, ("numpy",), "companions.products.random_psd", _NUMPY_ONLY)
    g = as_generator(rng)
    lam = np.exp(tail * g.standard_normal((batch, dim)))
    zeros = g.integers(0, dim, size=batch)
    lam[np.arange(dim)[None, :] < zeros[:, None]] = 0.0
    Q, R = np.linalg.qr(g.standard_normal((batch, dim, dim)))
    Q = Q * np.sign(np.diagonal(R, axis1=-2, axis2=-1))[:, None, :]
    return (Q * lam[:, None, :]) @ np.swapaxes(Q, -1, -2)


def lyapunov_qr(d, steps, *, batch=1, rng=None, gamma=None, variance=None, backend="numpy"):
    """Finite-time Lyapunov exponents of ``W_steps ... W_1`` by QR iteration.

    ``gamma=None``: ``W`` has iid ``N(0, variance)`` entries (default ``1/d``); otherwise
    ``W = I + gamma G`` with ``G`` iid ``N(0, 1)`` (the batch-norm chain's
    linear part). Returns ``(batch, d)``: ``(1/steps) sum_l log|R_l[k, k]|``,
    where ``W_l Q_{l-1} = Q_l R_l``; for Gaussian ``W`` the summands are
    independent across ``l`` and ``k`` (Bartlett), so the exact standard
    error is known (:func:`theory.companions.bn.lyapunov_se`).

    >>> mu = lyapunov_qr(4, 200, batch=2, rng=0)
    >>> mu.shape, bool(mu[0, 0] > mu[0, 3])
    ((2, 4), True)
    """
    integer("d", d, minimum=1)
    integer("steps", steps, minimum=1)
    integer("batch", batch, minimum=1)
    if gamma is not None:
        positive("gamma", gamma)
    std = np.sqrt(1 / d if variance is None else float(positive("variance", variance)))
    require_backend(backend, ("numpy",), "companions.products.lyapunov_qr", _NUMPY_ONLY)
    g = as_generator(rng)
    Q = np.broadcast_to(np.eye(d), (batch, d, d)).copy()
    acc = np.zeros((batch, d))
    eye = np.eye(d)
    for _ in range(steps):
        G = g.standard_normal((batch, d, d))
        W = G * std if gamma is None else eye + gamma * G
        Q, R = np.linalg.qr(W @ Q)
        acc += np.log(np.abs(np.diagonal(R, axis1=-2, axis2=-1)))
    return acc / steps


def bn_chain(d, steps, *, gamma, burn_in, batch=1, rng=None, n=None, record_every=0,
             normalise="rows", backend="numpy"):
    """The batch-normalised linear chain ``H <- D (I + gamma W) H`` (Daneshmand
    et al. 2020, their Fig. 3a), ``W`` iid ``N(0, 1)``, ``D`` rescaling each
    row (feature) of ``H`` to unit norm, started at ``H_0 = I`` (``n = d``
    samples) or a Gaussian ``d x n`` matrix.

    Returns ``(avg, trace)``: the soft rank ``r(H H^T)`` averaged over steps
    ``burn_in..steps-1`` for each replica (shape ``(batch,)``), and, if
    ``record_every > 0``, the soft ranks every ``record_every`` steps
    (shape ``(steps // record_every, batch)``; else ``None``).

    >>> avg, _ = bn_chain(4, 50, gamma=0.1, burn_in=10, batch=2, rng=0)
    >>> avg.shape, bool(((avg >= 1) & (avg <= 4)).all())
    ((2,), True)
    """
    integer("d", d, minimum=1)
    integer("steps", steps, minimum=1)
    integer("burn_in", burn_in, minimum=0, maximum=steps - 1)
    integer("batch", batch, minimum=1)
    integer("record_every", record_every, minimum=0)
    positive("gamma", gamma)
    one_of("normalise", normalise, ("rows", "frobenius"))
    axes = (-1,) if normalise == "rows" else (-2, -1)
    require_backend(backend, ("numpy",), "companions.products.bn_chain", _NUMPY_ONLY)
    g = as_generator(rng)
    if n is None:
        H = np.broadcast_to(np.eye(d), (batch, d, d)).copy()
    else:
        integer("n", n, minimum=1)
        H = g.standard_normal((batch, d, n))
    H /= np.linalg.norm(H, axis=-1, keepdims=True)
    acc = np.zeros(batch)
    rec = []
    for t in range(steps):
        H = H + gamma * (g.standard_normal((batch, d, d)) @ H)
        H /= np.sqrt(np.sum(H * H, axis=axes, keepdims=True))
        need = t >= burn_in or (record_every and (t + 1) % record_every == 0)
        if need:
            r = soft_rank(H @ np.swapaxes(H, -1, -2))
            if t >= burn_in:
                acc += r
            if record_every and (t + 1) % record_every == 0:
                rec.append(r)
    return acc / (steps - burn_in), (np.array(rec) if record_every else None)


def orthogonality_gap(H):
    """``V(H) = |H^T H / |H|_F^2 - I_n/n|_F`` for (a batch of) ``d x n`` matrices.

    >>> import numpy as np
    >>> float(orthogonality_gap(np.eye(3)[:, :2]))
    0.0
    """
    H = np.asarray(H, dtype=float)
    n = H.shape[-1]
    G = np.swapaxes(H, -1, -2) @ H
    G = G / np.trace(G, axis1=-2, axis2=-1)[..., None, None]
    return np.linalg.norm(G - np.eye(n) / n, axis=(-2, -1))


def orthogonality_chain(n, d, steps, *, batch=1, rng=None, H0=None, return_alpha=False,
                        backend="numpy"):
    """``H_{l+1} = BN(W_l H_l)/sqrt(d)`` with ``BN(M) = diag(M M^T)^{-1/2} M``
    (no centring), ``W_l`` iid ``N(0, I/d)`` (Daneshmand, Joudaki, Bach 2021).

    ``W_l H_l`` is sampled from its exact law: its rows are iid
    ``N(0, H_l^T H_l / d)`` in ``R^n`` (``W_l`` is independent of ``H_l``), so a
    step costs ``O(d n^2)`` instead of ``O(d^2 n)``. ``H0`` (``d x n`` or
    batched) defaults to a Gaussian matrix; it is rescaled to ``|H_0|_F = 1``
    like every later ``H_l``. Returns the orthogonality gaps ``V(H_l)``,
    ``l = 0..steps``, shape ``(steps + 1, batch)``, and with
    ``return_alpha=True`` also the smallest singular value of all ``H_l``.

    >>> V = orthogonality_chain(3, 64, 20, batch=4, rng=0)
    >>> V.shape, bool(V[-1].mean() < V[0].mean())
    ((21, 4), True)
    """
    integer("n", n, minimum=1)
    integer("d", d, minimum=n)
    integer("steps", steps, minimum=0)
    integer("batch", batch, minimum=1)
    require_backend(backend, ("numpy",), "companions.products.orthogonality_chain", _NUMPY_ONLY)
    g = as_generator(rng)
    H = g.standard_normal((batch, d, n)) if H0 is None else np.broadcast_to(
        np.asarray(H0, dtype=float), (batch, d, n)).copy()
    H /= np.linalg.norm(H, axis=(-2, -1), keepdims=True)
    out = [orthogonality_gap(H)]
    S = np.swapaxes(H, -1, -2) @ H
    alpha = np.sqrt(np.linalg.eigvalsh(S)[:, 0].min())
    for _ in range(steps):
        C = np.linalg.cholesky(S / d)
        Y = g.standard_normal((batch, d, n)) @ np.swapaxes(C, -1, -2)
        H = Y / (np.linalg.norm(Y, axis=-1, keepdims=True) * np.sqrt(d))
        out.append(orthogonality_gap(H))
        S = np.swapaxes(H, -1, -2) @ H
        alpha = min(alpha, np.sqrt(max(np.linalg.eigvalsh(S)[:, 0].min(), 0.0)))
    out = np.array(out)
    return (out, float(alpha)) if return_alpha else out


def _ginibre_factors(name, d, depth, batch, rng, backend, variance=None):
    """The ``depth`` factors ``W_1, W_2, ...`` (iid ``N(0, variance)``, default
    ``1/d``, shape ``(batch, d, d)``), drawn lazily in that order, after
    validating the input."""
    integer("d", d, minimum=1)
    integer("depth", depth, minimum=1)
    integer("batch", batch, minimum=1)
    std = np.sqrt(1 / d if variance is None else float(positive("variance", variance)))
    require_backend(backend, ("numpy",), f"companions.products.{name}", _NUMPY_ONLY)
    g = as_generator(rng)
    return (g.standard_normal((batch, d, d)) * std for _ in range(depth))


def product_top_sv2(d, depth, *, batch=1, rng=None, variance=None, backend="numpy"):
    """``log sigma_1^2`` of ``W_depth ... W_1``, ``W`` iid ``N(0, variance)``
    (default ``1/d``), shape
    ``(batch,)``. The product is renormalised after every factor (its
    log-scale is carried separately), so large depths neither overflow nor
    underflow; the top eigenvalue of the renormalised ``P^T P`` is exact
    (``eigvalsh``; the checks keep ``d <= 512``).

    >>> import numpy as np
    >>> x = product_top_sv2(50, 1, batch=3, rng=0)
    >>> bool(np.all(np.abs(np.exp(x) - 4) < 1.5))
    True
    """
    factors = _ginibre_factors("product_top_sv2", d, depth, batch, rng, backend, variance)
    P = np.broadcast_to(np.eye(d), (batch, d, d)).copy()
    logscale = np.zeros(batch)
    for W in factors:
        P = W @ P
        s = np.linalg.norm(P, axis=(-2, -1))
        P /= s[:, None, None]
        logscale += 2 * np.log(s)
    top = np.linalg.eigvalsh(np.swapaxes(P, -1, -2) @ P)[:, -1]
    return logscale + np.log(top)


def product_top_sv2_lanczos(d, depth, *, batch=1, rng=None, steps=40, variance=None, backend="numpy"):
    """``sigma_1^2`` of ``W_depth ... W_1`` (``W`` iid ``N(0, variance)``, default ``1/d``) without
    forming the product: the batched Lanczos iteration of
    :func:`numerics.measures.top_eigenvalues_operator` on ``P^T P``, each
    matrix-vector product costing ``2 depth d^2`` (instead of the ``depth d^3``
    of the product and the ``d^3`` of an eigensolver), at most ``steps`` steps;
    the top Ritz value converges like ``exp(-2 steps sqrt(gap))`` with the
    relative edge gap ``~ d^{-2/3}``.  A replica not certified (1e-13 relative)
    within ``steps`` gets the exact value (product and eigensolver).

    >>> import numpy as np
    >>> a = product_top_sv2_lanczos(60, 2, batch=3, rng=0)
    >>> b = np.exp(product_top_sv2(60, 2, batch=3, rng=0))
    >>> bool(np.allclose(a, b, rtol=1e-10))
    True
    """
    integer("steps", steps, minimum=2)
    Ws = list(_ginibre_factors("product_top_sv2_lanczos", d, depth, batch, rng, backend, variance))

    Wts = [np.swapaxes(W, -1, -2) for W in Ws]

    def gram(v):                      # P^T P v, P = W_depth ... W_1
        v = v[:, :, None]
        for W in Ws:
            v = W @ v
        for Wt in reversed(Wts):
            v = Wt @ v
        return v[:, :, 0]

    vals, ok = top_eigenvalues_operator(gram, d, batch=batch, steps=min(steps, d))
    vals = vals[:, 0]
    if not np.all(ok):
        P = Ws[0]
        for W in Ws[1:]:
            P = W @ P
        vals = np.where(ok, vals, np.linalg.eigvalsh(np.swapaxes(P, -1, -2) @ P)[:, -1])
    return vals
