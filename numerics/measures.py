"""Measures of sampled signals and matrices (batched over leading axes).

* :func:`gram`: ``X X^T``;
* :func:`stable_rank`: ``||M||_F^2 / ||M||_2^2`` in float64, each matrix first
  divided by its largest entry (the measure is scale-invariant; this is what
  keeps depth-10 signals, of size ``(sigma_V sqrt(d))^10``, from overflowing);
  :func:`covariance_stable_rank` is the paper's ``srank(X_l X_l^T)``;
* :func:`spectral_norm`: exact (eigvalsh / svdvals) for small matrices,
  Lanczos with full reorthogonalisation (or plain power steps) for large;
* :func:`top_singular_values`, :func:`gap_ratio` ``s1/s2``, :func:`esd`,
  :func:`ks_distance` to a ``theory`` law, :func:`count_outliers` (beyond a
  known bulk edge, or law-free), :func:`spectral_outliers` (spikes).

Scalar-per-matrix measures return arrays in the input's namespace; ``esd``,
``ks_distance`` and ``count_outliers`` return numpy.

>>> import numpy as np
>>> M = np.diag([3.0, 1.0, 1.0])[None]
>>> stable_rank(M), gap_ratio(M)
(array([1.22222222]), array([3.]))
>>> M = np.diag(np.r_[10.0, np.linspace(0.0, 1.0, 299)])[None]
>>> round(float(spectral_norm(M, method="lanczos")[0]), 12)
10.0
"""
from __future__ import annotations

import numpy as np

from ..theory import _validate

from .backend import get_namespace, to_numpy

__all__ = ["gram", "stable_rank", "covariance_stable_rank", "spectral_norm",
           "top_singular_values", "gap_ratio", "esd", "ks_distance", "count_outliers",
           "frobenius_sq", "AUTO_EXACT_MAX", "LANCZOS_STEPS", "OUTLIER_GAP_FACTOR",
           "spectral_outliers", "inverse_participation", "LOCALISED_IPR"]

#: ``method="auto"`` uses an exact decomposition up to this size, Lanczos above
AUTO_EXACT_MAX = 32
#: default number of Lanczos steps (capped at n, where Lanczos is exact)
LANCZOS_STEPS = 48


def _T(xp, M):
    return xp.matrix_transpose(M) if hasattr(xp, "matrix_transpose") else M.swapaxes(-1, -2)


def _f64(M):
    xp = get_namespace(M)
    return xp, (M if M.dtype == xp.float64 else xp.astype(M, xp.float64))


def _check_matrix(M, name="M"):
    if len(M.shape) < 2:
        raise ValueError(f"{name} must have at least 2 dimensions (..., p, q) (got shape {M.shape})")


def gram(X):
    """``X X^T`` over the last two axes (batched).

    >>> import numpy as np
    >>> gram(np.ones((1, 2, 3)))
    array([[[3., 3.],
            [3., 3.]]])
    """
    _check_matrix(X, "X")
    xp = get_namespace(X)
    return X @ _T(xp, X)


def frobenius_sq(M):
    """``||M||_F^2`` per matrix."""
    xp = get_namespace(M)
    return xp.sum(M * M, axis=(-2, -1))


def _normalise(M):
    """Divide each matrix by its largest |entry| (float64); zero matrices are an error."""
    xp, M = _f64(M)
    scale = xp.max(xp.abs(M), axis=(-2, -1), keepdims=True)
    if not bool(xp.all(scale > 0)):
        raise ValueError("M contains a zero matrix: its stable rank is undefined")
    if not bool(xp.all(xp.isfinite(scale))):
        raise ValueError("M contains non-finite entries")
    return xp, M / scale


def _is_symmetric(xp, M) -> bool:
    if M.shape[-1] != M.shape[-2]:
        return False
    D = M - _T(xp, M)
    return bool(xp.all(xp.abs(D) <= 1e-12 * xp.max(xp.abs(M)) + 0.0))


def _tridiag(xp, a, b, dtype):
    """Tridiagonal matrices (B, k, k) from diagonals ``a`` (B, k) and
    off-diagonals ``b`` (B, k - 1)."""
    kk = a.shape[-1]
    T = xp.eye(kk, dtype=dtype)[None, ...] * a[:, None, :]
    if kk > 1:
        bfull = xp.concat([b, xp.zeros_like(b[:, :1])], axis=-1)
        U = xp.eye(kk, k=1, dtype=dtype)[None, ...] * bfull[:, :, None]
        T = T + U + _T(xp, U)
    return T


class _Pieces:
    """Per-matrix results of a batched iteration that lets finished matrices
    go: pieces (original indices, values, flags), put back in order at the end."""

    def __init__(self, B):
        self.active = np.arange(B)
        self.idx, self.vals, self.oks = [], [], []

    def done(self, mask, vals, ok):
        """Record ``vals``, ``ok`` of the active matrices selected by the numpy ``mask``."""
        self.idx.append(self.active[mask])
        self.vals.append(vals)
        self.oks.append(ok)
        self.active = self.active[~mask]

    def result(self, xp):
        if len(self.idx) == 1:
            return self.vals[0], self.oks[0]
        order = np.empty(sum(i.size for i in self.idx), dtype=np.int64)
        order[np.concatenate(self.idx)] = np.arange(order.size)
        take = xp.asarray(order)
        return (xp.take(xp.concat(self.vals, axis=0), take, axis=0),
                xp.take(xp.concat(self.oks, axis=0), take, axis=0))


def _lanczos_ritz(xp, op, shape_b, n, steps, dtype, *, top=1, rtol=1e-13, check_every=4,
                  compact=None):
    """Top ``top`` |Ritz values| (descending, shape (B, top)) of a batch of
    symmetric operators by Lanczos with full reorthogonalisation, and whether
    they are certified.

    Every ``check_every`` steps, the matrices whose top Ritz values satisfy
    the a-posteriori bound ``|lambda_i - theta_i| <= min(r, r^2 / gap) <= rtol
    |theta_i|`` (r the Ritz residual ``beta_j |y_j|``, gap the distance to
    the other Ritz values) are finished.  With ``compact(mask)`` (the
    operator keeps only the matrices of the numpy bool ``mask``) finished
    matrices leave the batch: a collapsed covariance costs a handful of
    steps whatever the rest of its batch needs.  After ``steps`` steps (or n,
    where the Krylov space is everything and Lanczos is exact) the rest is
    returned, ``certified`` False where the bound is not met."""
    k = min(int(steps), n)
    B = shape_b
    rs = np.random.default_rng(12345)  # a fixed start: a measure consumes no user randomness
    q = xp.asarray(rs.standard_normal((B, n)), dtype=dtype)
    q = q / xp.linalg.vector_norm(q, axis=-1, keepdims=True)
    Q = xp.zeros((B, k, n), dtype=dtype)  # Lanczos vectors as rows
    al = xp.zeros((B, k), dtype=dtype)
    be = xp.zeros((B, k), dtype=dtype)
    out = _Pieces(B)
    for j in range(k):
        Q[:, j, :] = q
        w = op(q)
        al[:, j] = xp.linalg.vecdot(q, w)
        Qj = Q[:, :j + 1, :]
        for _ in range(2):  # full reorthogonalisation, twice is enough
            w = w - (_T(xp, Qj @ w[..., None]) @ Qj)[:, 0, :]
        b = xp.linalg.vector_norm(w, axis=-1)
        be[:, j] = b
        last = j == k - 1
        if last or (j + 1 > top and (j + 1) % check_every == 0):
            vals, ok = _ritz_check(xp, _tridiag(xp, al[:, :j + 1], be[:, :j], dtype), b, top, rtol)
            if last and k == n:  # the Krylov space is everything: exact
                ok = xp.ones_like(ok)
            okh = np.asarray(to_numpy(ok), dtype=bool)
            if last or okh.all():
                out.done(np.ones(okh.shape, dtype=bool), vals, ok)
                return out.result(xp)
            if okh.any() and compact is not None:
                out.done(okh, vals[xp.asarray(okh)], ok[xp.asarray(okh)])
                keep = ~okh
                compact(keep)
                kx = xp.asarray(keep)
                Q, al, be, w, b = Q[kx], al[kx], be[kx], w[kx], b[kx]
                Qj = Q[:, :j + 1, :]
        scale = xp.abs(al[:, 0]) + xp.abs(al[:, j]) + 1e-300
        alive = b > 1e-10 * scale
        if not bool(xp.all(alive)):
            # invariant subspace found: continue with a fresh direction orthogonal to Q
            r = xp.asarray(rs.standard_normal((b.shape[0], n)), dtype=dtype)
            for _ in range(2):
                r = r - (_T(xp, Qj @ r[..., None]) @ Qj)[:, 0, :]
            r = r / xp.linalg.vector_norm(r, axis=-1, keepdims=True)
            bsafe = xp.where(alive, b, xp.ones_like(b))
            q = xp.where(alive[:, None], w / bsafe[:, None], r)
            be[:, j] = xp.where(alive, b, xp.zeros_like(b))
        else:
            q = w / b[:, None]
    raise AssertionError("unreachable")  # pragma: no cover


def _ritz_check(xp, T, beta, top, rtol):
    """Top |Ritz values| of T and whether each matrix's are within the bound."""
    w, Y = xp.linalg.eigh(T)
    order = xp.argsort(xp.abs(w), axis=-1, descending=True)
    kk = w.shape[-1]
    ok = xp.ones((w.shape[0],), dtype=xp.bool)
    vals = []
    for i in range(min(top, kk)):
        idx = order[:, i:i + 1]
        theta = xp.take_along_axis(w, idx, axis=-1)[:, 0]
        ylast = xp.take_along_axis(Y[:, -1, :], idx, axis=-1)[:, 0]
        r = xp.abs(beta * ylast)
        dist = xp.abs(w - theta[:, None])
        others = xp.where(dist == 0, xp.full_like(dist, xp.inf), dist)
        gap = xp.min(others, axis=-1) if kk > 1 else xp.full_like(theta, xp.inf)
        bound = xp.minimum(r, r * r / gap)
        # relative to each value itself: s_2 of a collapsed matrix is as exact as s_1
        ok = xp.logical_and(ok, bound <= rtol * xp.abs(theta))
        vals.append(xp.abs(theta))
    return xp.stack(vals, axis=-1), ok


def _flat(xp, M):
    lead = M.shape[:-2]
    B = int(np.prod(lead)) if lead else 1
    return lead, xp.reshape(M, (B, M.shape[-2], M.shape[-1]))


class _Stack:
    """A batch of matrices as a Lanczos operator that can drop finished ones."""

    def __init__(self, xp, M, gram_side=None):
        self.xp, self.M, self.side = xp, M, gram_side

    def __call__(self, v):
        xp, M = self.xp, self.M
        if self.side is None:
            return (M @ v[..., None])[..., 0]
        if self.side == "left":  # M M^T v
            return (M @ (_T(xp, M) @ v[..., None]))[..., 0]
        return (_T(xp, M) @ (M @ v[..., None]))[..., 0]  # M^T M v

    def compact(self, keep):
        self.M = self.M[self.xp.asarray(keep)]


def _exact_rest(xp, vals, ok, Mf, exact):
    """Replace the uncertified rows of ``vals`` by ``exact(Mf[those])``."""
    okh = np.asarray(to_numpy(ok), dtype=bool)
    if okh.all():
        return vals
    out = _Pieces(okh.size)
    out.done(okh, vals[xp.asarray(okh)], ok[xp.asarray(okh)])
    e = exact(Mf[xp.asarray(~okh)])
    out.done(np.ones(out.active.size, dtype=bool), e, xp.ones((e.shape[0],), dtype=xp.bool))
    return out.result(xp)[0]


def _top_eigs_sym(xp, M, k, steps):
    """Largest ``k`` values of |eigenvalue| of symmetric matrices via Lanczos;
    the matrices not certified within ``steps`` steps get an exact eigvalsh."""
    lead, Mf = _flat(xp, M)
    n = Mf.shape[-1]
    op = _Stack(xp, Mf)
    vals, ok = _lanczos_ritz(xp, op, Mf.shape[0], n, steps, Mf.dtype, top=k, compact=op.compact)
    vals = _exact_rest(xp, vals, ok, Mf, lambda S: xp.sort(
        xp.abs(xp.linalg.eigvalsh(S)), axis=-1, descending=True)[:, :k])
    return xp.reshape(vals, (*lead, vals.shape[-1]))


def _top_sv_lanczos(xp, M, k, steps):
    """Largest ``k`` singular values via Lanczos on ``M M^T`` (or ``M^T M``);
    the matrices not certified within ``steps`` steps get exact svdvals."""
    lead, Mf = _flat(xp, M)
    p, q_ = Mf.shape[-2], Mf.shape[-1]
    op = _Stack(xp, Mf, "left" if p <= q_ else "right")
    vals, ok = _lanczos_ritz(xp, op, Mf.shape[0], min(p, q_), steps, Mf.dtype, top=k,
                             compact=op.compact)
    vals = xp.sqrt(vals)
    vals = _exact_rest(xp, vals, ok, Mf, lambda S: xp.sort(
        xp.linalg.svdvals(S), axis=-1, descending=True)[:, :k])
    return xp.reshape(vals, (*lead, vals.shape[-1]))


def _method(method, n):
    _validate.one_of("method", method, ("auto", "exact", "lanczos", "power"))
    if method == "auto":
        return "exact" if n <= AUTO_EXACT_MAX else "lanczos"
    return method


def top_singular_values(M, k=2, *, method="auto", steps=None, hermitian=None):
    """The ``k`` largest singular values of each matrix, descending, shape (..., k).

    ``method``: "exact" (svdvals, or eigvalsh for symmetric input), "lanczos"
    (at most ``steps`` Lanczos steps, default :data:`LANCZOS_STEPS` + 2(k - 1),
    stopped by an a-posteriori error bound of 1e-13 relative; matrices whose
    bound is not met fall back to the exact decomposition), or "auto" (exact up to :data:`AUTO_EXACT_MAX`).

    >>> import numpy as np
    >>> top_singular_values(np.diag([1.0, 4.0, 2.0])[None], 2)
    array([[4., 2.]])
    """
    _check_matrix(M)
    xp, Mf = _f64(M)
    m = min(M.shape[-1], M.shape[-2])
    k = _validate.integer("k", k, minimum=1, maximum=m)
    method = _method(method, m)
    sym = _is_symmetric(xp, Mf) if hermitian is None else bool(hermitian)
    if method == "exact":
        if sym:
            s = xp.sort(xp.abs(xp.linalg.eigvalsh(Mf)), axis=-1, descending=True)
        else:
            s = xp.sort(xp.linalg.svdvals(Mf), axis=-1, descending=True)
        return s[..., :k]
    if method == "power":
        if k != 1:
            raise ValueError("method='power' gives the top singular value only (k = 1)")
        return _power(xp, Mf, steps or 100, sym)[..., None]
    steps = LANCZOS_STEPS + 2 * (k - 1) if steps is None else _validate.integer("steps", steps, minimum=k)
    return _top_eigs_sym(xp, Mf, k, steps) if sym else _top_sv_lanczos(xp, Mf, k, steps)


def _power(xp, M, steps, sym):
    lead, Mf = _flat(xp, M)
    rs = np.random.default_rng(12345)
    v = xp.asarray(rs.standard_normal((Mf.shape[0], Mf.shape[-1])), dtype=Mf.dtype)
    op = (lambda u: (Mf @ (Mf @ u[..., None]))[..., 0]) if sym else \
        (lambda u: (_T(xp, Mf) @ (Mf @ u[..., None]))[..., 0])
    for _ in range(int(steps)):
        v = op(v)
        v = v / xp.sqrt(xp.sum(v * v, axis=-1, keepdims=True))
    w = op(v)
    return xp.reshape(xp.sqrt(xp.sqrt(xp.sum(w * w, axis=-1))), lead)


def spectral_norm(M, method="auto", *, steps=None, hermitian=None):
    """``||M||_2`` per matrix (see :func:`top_singular_values` for ``method``).

    >>> import numpy as np
    >>> spectral_norm(np.array([[[0.0, 2.0], [0.0, 0.0]]]))
    array([2.])
    """
    return top_singular_values(M, 1, method=method, steps=steps, hermitian=hermitian)[..., 0]


def stable_rank(M, method="auto", *, steps=None, hermitian=None):
    """``||M||_F^2 / ||M||_2^2`` per matrix, in float64 after dividing each
    matrix by its largest entry.

    >>> import numpy as np
    >>> stable_rank(np.eye(4)[None] * 1e200)
    array([4.])
    """
    _check_matrix(M)
    xp, Mn = _normalise(M)
    return _stable_rank(Mn, method, steps, hermitian)


def _stable_rank(Mn, method, steps, hermitian):
    xp = get_namespace(Mn)
    fro2 = frobenius_sq(Mn)
    n = min(Mn.shape[-1], Mn.shape[-2])
    if method == "auto" and hermitian and n > AUTO_EXACT_MAX:
        # a spread-out spectrum (participation ratio tr^2/||.||_F^2 near n) has a
        # clustered top that Lanczos certifies slowly: go exact directly
        tr = xp.sum(xp.linalg.diagonal(Mn), axis=-1)
        if bool(xp.mean(tr * tr / fro2) > n / 2):
            method = "exact"
    s1 = spectral_norm(Mn, method, steps=steps, hermitian=hermitian)
    return fro2 / (s1 * s1)


#: a Gram matrix whose largest entry (on the diagonal) lies in this range is used as it
#: is: its squared Frobenius norm can neither overflow nor lose digits to underflow
GRAM_SAFE = (2.0 ** -460, 2.0 ** 460)


def _scaled_gram(xp, X):
    """``(lead, G)``: the smaller Gram matrix of each matrix of X (``X X^T`` or
    ``X^T X``: the same nonzero eigenvalues), float64, batch flattened.

    srank is scale-invariant, so X is used as it is when its Gram matrix's
    largest entry lies in :data:`GRAM_SAFE` (no pass over X, no copy); the
    other matrices are first multiplied by the power of two nearest to
    1 / max|entry| (exact: the same digits), which keeps depth-10 signals of
    size ``(sigma_V sqrt(d))^10`` from overflowing and vanishing ones from
    underflowing."""
    xp, Xf = _f64(X)
    lead, Xf = _flat(xp, Xf)
    left = Xf.shape[-2] <= Xf.shape[-1]

    def g(Y):
        return Y @ _T(xp, Y) if left else _T(xp, Y) @ Y

    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        G = g(Xf)
        peak = xp.max(xp.linalg.diagonal(G), axis=-1)
        safe = xp.logical_and(peak >= GRAM_SAFE[0], peak <= GRAM_SAFE[1])  # nan: not safe
        if not bool(xp.all(safe)):
            s = xp.max(xp.abs(Xf), axis=(-2, -1))
            if not bool(xp.all(xp.isfinite(s))):
                raise ValueError("M contains non-finite entries")
            if not bool(xp.all(s > 0)):
                raise ValueError("M contains a zero matrix: its stable rank is undefined")
            # 2^-e in two factors: a subnormal peak (e up to 1074) needs more than 2^1023
            e = xp.where(safe, xp.zeros_like(s), -xp.round(xp.log2(s)))
            e1 = xp.floor(e / 2)
            G = g(Xf * (2.0 ** e1)[:, None, None] * (2.0 ** (e - e1))[:, None, None])
    return lead, G


def _psd_stable_rank(xp, G, method, steps):
    """``||G||_F^2 / lambda_1(G)^2`` of a batch (B, n, n) of positive
    semi-definite matrices: the Frobenius norm by one dot product per matrix,
    lambda_1 by Lanczos (finished matrices leave the batch; a matrix whose
    participation ratio ``tr^2 / ||G||_F^2`` exceeds n / 2 has a clustered top
    and goes to the exact eigvalsh directly, as does any matrix Lanczos does
    not certify), never a full decomposition of the whole batch."""
    B, n = G.shape[0], G.shape[-1]
    flat = xp.reshape(G, (B, n * n))
    fro2 = xp.linalg.vecdot(flat, flat)
    auto = method == "auto"
    method = _method(method, n)

    def exact(S):
        return xp.max(xp.linalg.eigvalsh(S), axis=-1)

    if method == "exact":
        lam = exact(G)
    elif method == "power":
        lam = _power(xp, G, steps or 100, True)
    else:
        steps = LANCZOS_STEPS if steps is None else _validate.integer("steps", steps, minimum=1)
        spread = np.zeros(B, dtype=bool)
        if auto:
            tr = xp.sum(xp.linalg.diagonal(G), axis=-1)
            spread = np.asarray(to_numpy(tr * tr > (n / 2) * fro2), dtype=bool)
        out = _Pieces(B)
        if spread.any():
            out.done(spread, exact(G[xp.asarray(spread)]), xp.ones((int(spread.sum()),),
                                                                       dtype=xp.bool))
        if out.active.size:
            rest = G if not spread.any() else G[xp.asarray(~spread)]
            lam = _top_eigs_sym(xp, rest, 1, steps)[:, 0]
            out.done(np.ones(out.active.size, dtype=bool), lam, xp.ones_like(lam, dtype=xp.bool))
        lam = out.result(xp)[0]
    return fro2 / (lam * lam)


def covariance_stable_rank(X, method="auto", *, steps=None):
    """The paper's measure ``srank(X X^T) = ||X X^T||_F^2 / ||X X^T||_2^2
    = sum_i s_i^4 / s_1^4`` (s_i the singular values of X) per sample,
    computed on the smaller Gram matrix (``||X X^T||_F = ||X^T X||_F``).

    >>> import numpy as np
    >>> covariance_stable_rank(np.eye(3)[None])
    array([3.])
    >>> covariance_stable_rank(np.diag([2.0, 1.0, 1.0])[None] * 1e200)
    array([1.125])
    """
    _check_matrix(X, "X")
    xp = get_namespace(X)
    lead, G = _scaled_gram(xp, X)
    return xp.reshape(_psd_stable_rank(xp, G, method, steps), lead)


def gap_ratio(M, *, method="auto", steps=None, hermitian=None):
    """``s_1 / s_2`` per matrix."""
    s = top_singular_values(M, 2, method=method, steps=steps, hermitian=hermitian)
    return s[..., 0] / s[..., 1]


def esd(M, *, hermitian=None, drop_top=0):
    """The spectrum of each matrix as a numpy array (..., m), ascending:
    eigenvalues for symmetric input, singular values otherwise; the
    ``drop_top`` largest values of each matrix are left out (outliers).

    >>> import numpy as np
    >>> esd(np.diag([3.0, 1.0, 2.0])[None], drop_top=1)
    array([[1., 2.]])
    """
    _check_matrix(M)
    xp, Mf = _f64(M)
    sym = _is_symmetric(xp, Mf) if hermitian is None else bool(hermitian)
    vals = np.sort(to_numpy(xp.linalg.eigvalsh(Mf) if sym else xp.linalg.svdvals(Mf)), axis=-1)
    drop_top = _validate.integer("drop_top", drop_top, minimum=0, maximum=vals.shape[-1] - 1)
    return vals[..., :vals.shape[-1] - drop_top]


def ks_distance(samples, law) -> float:
    """Kolmogorov-Smirnov distance ``sup_x |F_n(x) - F(x)|`` between the pooled
    ``samples`` and ``law`` (anything with a vectorised ``cdf_numpy``).

    >>> import numpy as np
    >>> class U:
    ...     cdf_numpy = staticmethod(lambda x: np.clip(x, 0, 1))
    >>> ks_distance(np.array([0.25, 0.75]), U())
    0.25
    """
    if not hasattr(law, "cdf_numpy"):
        raise ValueError(f"law must provide cdf_numpy(x) (got {type(law).__name__})")
    x = np.sort(np.ravel(to_numpy(samples)).astype(float))
    if x.size == 0:
        raise ValueError("samples must not be empty")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples contain non-finite values")
    F = np.asarray(law.cdf_numpy(x), dtype=float)
    i = np.arange(1, x.size + 1)
    return float(max(np.max(i / x.size - F), np.max(F - (i - 1) / x.size)))


#: law-free outlier criterion: a gap this many times the edge spacing of the bulk
OUTLIER_GAP_FACTOR = 8.0


def count_outliers(values, edge=None, *, lower=None, rtol=0.0, factor=OUTLIER_GAP_FACTOR,
                   max_outliers=None):
    """Number of outliers per row of the last axis.

    With ``edge`` (the edge of the bulk law, where it is known): the values
    above ``edge * (1 + rtol)``, plus those below ``lower * (1 - rtol)`` when
    ``lower`` is given.

    Without ``edge``: a criterion that assumes no law.  Sorted in decreasing
    order, the values' consecutive gaps ``g_i = v_i - v_(i+1)`` are compared
    with the bulk's own spacing: the median gap at depths K..3K below the top
    (K = min(m/8, 16) for m values), scaled up by ``(2K)^(1/3)`` to the
    spacing expected at the very edge (next to a square-root edge the k-th
    spacing shrinks like k^(-1/3)).  The count is the largest i < K whose gap
    exceeds ``factor`` times that edge spacing, 0 if none does.  ``factor =
    8``: over 400 Gaussian products G_1 G_2 / n and 400 Ginibre matrices at
    each n = 32..512 the largest bulk ratio was 6.2 (at n = 32), while a planted
    rank-3 signal above the edge separates by a ratio growing like n^(2/3).
    Needs m >= 16 values per row.

    >>> import numpy as np
    >>> count_outliers(np.array([[0.5, 1.5, 2.5], [0.1, 0.2, 0.3]]), 2.0)
    array([1, 0])
    >>> rng = np.random.default_rng(0)
    >>> G = rng.standard_normal((4, 64, 64)) / 8
    >>> bulk = np.linalg.svd(G, compute_uv=False)
    >>> u = np.linalg.qr(rng.standard_normal((64, 3)))[0]
    >>> planted = np.linalg.svd(G + u @ np.diag([5.0, 4.0, 3.0]) @ u.T, compute_uv=False)
    >>> count_outliers(bulk), count_outliers(planted)
    (array([0, 0, 0, 0]), array([3, 3, 3, 3]))
    """
    v = np.asarray(to_numpy(values), dtype=float)
    if v.ndim == 0 or v.shape[-1] == 0:
        raise ValueError(f"values must have at least one entry per row (got shape {v.shape})")
    if not np.all(np.isfinite(v)):
        raise ValueError("values contain non-finite entries")
    if edge is not None:
        edge = float(_validate._as_real("edge", edge))
        out = np.sum(v > edge * (1 + rtol), axis=-1)
        if lower is not None:
            out = out + np.sum(v < float(lower) * (1 - rtol), axis=-1)
        return out
    if lower is not None:
        raise ValueError("lower needs edge (the law-free criterion counts top outliers only)")
    _validate.positive("factor", factor)
    m = v.shape[-1]
    if m < 16:
        raise ValueError(f"the law-free outlier count needs at least 16 values per row (got {m})")
    K = max(2, min(m // 8, 16))
    if max_outliers is not None:
        K = _validate.integer("max_outliers", max_outliers, minimum=1, maximum=(m - 1) // 3)
    top = -np.sort(-v, axis=-1)
    gaps = top[..., :-1] - top[..., 1:]
    spacing = np.median(gaps[..., K:3 * K], axis=-1) * (2 * K) ** (1 / 3)
    big = gaps[..., :K] > factor * np.maximum(spacing, np.finfo(float).tiny)[..., None]
    idx = np.arange(1, K + 1)
    return np.max(np.where(big, idx, 0), axis=-1)


#: a singular vector with inverse participation ratio above LOCALISED_IPR / n is localised
#: (a uniformly random unit vector has about 3/n, with standard deviation sqrt(96/n)/n)
LOCALISED_IPR = 6.0


def inverse_participation(V, axis=-2):
    """Inverse participation ratio ``sum_i v_i^4`` of unit vectors along ``axis``
    (1 for a coordinate vector, about 3/n for a delocalised random one).

    >>> import numpy as np
    >>> inverse_participation(np.eye(3)[None]), inverse_participation(np.full((1, 4, 1), 0.5))
    (array([[1., 1., 1.]]), array([[0.25]]))
    """
    V = np.asarray(to_numpy(V), dtype=float)
    return np.sum(V ** 4, axis=axis)


def spectral_outliers(M, *, edge=None, rtol=0.0, factor=OUTLIER_GAP_FACTOR,
                      localised=LOCALISED_IPR):
    """Number of outlying singular values of each matrix (eigenvalues' moduli
    for symmetric input), as numpy.

    Outliers are *spikes*: values separated from the bulk whose singular
    vectors are delocalised.  A heavy-tailed bulk (softmax of unit-variance
    logits) produces at finite n a few large singular values carried by single
    large entries; their singular vectors are localised (inverse participation
    ratios of both the left and the right vector above ``localised / m``, m =
    min(rows, columns); a delocalised vector has about 3/m, and both of a
    spike's vectors exceed 6/m with probability below 1%) and they are
    counted as bulk.  ``localised=None`` keeps every value.

    The remaining values are then counted above ``edge * (1 + rtol)`` when
    the bulk law's edge is known, else by the law-free gap criterion of
    :func:`count_outliers`.

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> G = rng.standard_normal((3, 48, 48)) / np.sqrt(48)
    >>> u = np.linalg.qr(rng.standard_normal((48, 3)))[0]
    >>> spectral_outliers(G), spectral_outliers(G + u @ np.diag([5.0, 4.0, 3.0]) @ u.T)
    (array([0, 0, 0]), array([3, 3, 3]))
    >>> spectral_outliers(G, edge=2.0, rtol=0.1)
    array([0, 0, 0])
    """
    _check_matrix(M)
    A = np.asarray(to_numpy(M), dtype=float)
    lead = A.shape[:-2]
    A = A.reshape((-1,) + A.shape[-2:])
    m = min(A.shape[-2:])
    U, s, Vt = np.linalg.svd(A)
    if localised is None:
        keep = np.ones(s.shape, dtype=bool)
    else:
        _validate.positive("localised", localised)
        ipr = np.minimum(inverse_participation(U[..., :m], axis=-2),
                         inverse_participation(Vt[..., :m, :], axis=-1))
        keep = ipr <= localised / m
    out = np.empty(A.shape[0], dtype=int)
    for b in range(A.shape[0]):  # one matrix at a time: the kept values differ in number
        v = s[b][keep[b]]
        if edge is not None:
            out[b] = count_outliers(v[None], edge, rtol=rtol)[0]
        else:
            out[b] = count_outliers(v[None], factor=factor)[0]
    return out.reshape(lead)



def top_eigenvalues_operator(op, n, *, batch, k=1, steps=None, backend="numpy"):
    """The ``k`` largest |eigenvalues|, shape (batch, k), of a batch of symmetric
    ``n x n`` float64 operators given only by ``op(V)`` ((batch, n) -> (batch, n)
    in the namespace of ``backend``), by the Lanczos iteration of
    :func:`top_singular_values`, and whether each matrix's values are certified
    (1e-13 relative): for a matrix that is never formed (a product of factors).

    >>> import numpy as np
    >>> D = np.diag(np.r_[5.0, np.linspace(0, 1, 99)])[None]
    >>> vals, ok = top_eigenvalues_operator(lambda v: (D @ v[..., None])[..., 0], 100, batch=1)
    >>> round(float(vals[0, 0]), 12), bool(ok[0])
    (5.0, True)
    """
    from .backend import namespace
    xp = namespace(backend)
    k = _validate.integer("k", k, minimum=1, maximum=n)
    steps = LANCZOS_STEPS + 2 * (k - 1) if steps is None else \
        _validate.integer("steps", steps, minimum=k)
    return _lanczos_ritz(xp, op, int(batch), int(n), steps, xp.float64, top=k)
