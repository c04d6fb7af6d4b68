"""Free-probability machinery on moment sequences: exact, to any order.

Everything here works on truncated power series whose coefficients are exact
sympy numbers or polynomials in sympy Symbols.  The arithmetic runs in the
sympy *domain* that fits the coefficients (``QQ``, ``QQ[lam]``, ``QQ(lam)``,
``RR`` for floats, ``EX`` for anything else, such as ``pi``), which is much
faster than ``sympy.series`` on expressions and keeps symbolic parameters.

Conventions (docs/derivations.md, section 0), for a law mu on [0, inf) with
moments m_k and mean m_1 != 0:

* moment series ``psi(u) = sum_{k>=1} m_k u^k``;
* ``chi`` is the compositional inverse of ``psi``: ``chi(psi(u)) = u``;
* S-transform ``S(z) = chi(z) (1 + z) / z``;
* free multiplicative convolution multiplies S-transforms;
* free cumulants ``kappa_k`` are defined by ``M(z) = C(z M(z))`` with
  ``M(z) = 1 + sum m_k z^k`` and ``C(z) = 1 + sum kappa_k z^k``.

The central identity is Lagrange inversion: with ``Q(w) = (1 + w) / S(w)``,
``psi = u Q(psi)``, hence

    m_k = (1/k) [w^(k-1)] Q(w)^k.

For Marchenko-Pastur MP(lam), ``Q(w) = (1 + w)(1 + lam w)`` and this gives
the Narayana polynomials; for a product of such laws ``Q`` is a polynomial
and every moment is a finite sum.

>>> from sympy import Rational, Symbol
>>> moments_from_s_transform([1, -1, 1, -1], 4)   # S(z) = 1/(1+z): MP(1)
[1, 2, 5, 14]
>>> s_transform_from_moments([1, 2, 5, 14])      # back again: 1/(1+z) to O(z^4)
[1, -1, 1, -1]
>>> lam = Symbol("lam")
>>> moments_from_s_transform(1 / (1 + lam * Symbol("z")), 3, z=Symbol("z"))
[1, lam + 1, lam**2 + 3*lam + 1]
>>> free_cumulants_from_moments([1, 2, 5])       # MP(1): all free cumulants 1
[1, 1, 1]
"""
from __future__ import annotations

from typing import Sequence

import sympy
from sympy.polys.constructor import construct_domain

from . import _validate
from ._validate import to_sympy

__all__ = [
    "series_reversion",
    "s_transform_from_moments",
    "moments_from_s_transform",
    "moments_from_lagrange",
    "free_cumulants_from_moments",
    "moments_from_free_cumulants",
    "free_multiplicative_moments",
]


# --------------------------------------------------------------------------
# truncated series in a sympy domain
# --------------------------------------------------------------------------
def _domain(*lists, field: bool = False):
    """One sympy domain holding every coefficient of every list; returns the
    domain and the converted lists."""
    flat = [to_sympy(c) for lst in lists for c in lst]
    # the extra 1/2 makes the ground ring contain QQ (we divide by k)
    dom, elems = construct_domain(flat + [sympy.Rational(1, 2)], field=field)
    out, i = [], 0
    for lst in lists:
        out.append(list(elems[i:i + len(lst)]))
        i += len(lst)
    return dom, out


def _mul(a, b, n, zero):
    """Product of two truncated series, kept to ``n`` terms."""
    c = [zero] * n
    for i, ai in enumerate(a[:n]):
        if not ai:
            continue
        for j, bj in enumerate(b[:n - i]):
            if bj:
                c[i + j] += ai * bj
    return c


def _inverse(a, n, dom):
    """Reciprocal 1/a of a series with ``a[0]`` invertible, to ``n`` terms."""
    if not a or not a[0]:
        raise ValueError("the series must have a nonzero constant term (here: a mean != 0)")
    inv0 = dom.one / a[0] if dom.is_Field else dom.exquo(dom.one, a[0])
    b = [dom.zero] * n
    b[0] = inv0
    for k in range(1, n):
        s = dom.zero
        for j in range(1, min(k, len(a) - 1) + 1):
            if a[j]:
                s += a[j] * b[k - j]
        b[k] = -s * inv0
    return b


def _lagrange(q, K, dom):
    """[ (1/k) [w^(k-1)] q(w)^k for k = 1..K ] in ``dom``."""
    out = []
    power = [dom.one] + [dom.zero] * (K - 1)
    for k in range(1, K + 1):
        power = _mul(power, q, K, dom.zero)
        out.append(power[k - 1] * dom.convert(sympy.Rational(1, k)))
    return out


def _to_sympy(dom, elems):
    return [sympy.expand(dom.to_sympy(e)) for e in elems]


def _coefficients(expr, z, n):
    """First ``n`` Taylor coefficients at 0 of a rational function of ``z``
    (or of a list, returned as is)."""
    if isinstance(expr, (list, tuple)):
        return [to_sympy(c) for c in expr][:n]
    expr = to_sympy(expr)
    if z is None:
        raise ValueError("z: pass the variable of the S-transform expression")
    num, den = sympy.fraction(sympy.together(expr))
    pn = sympy.Poly(num, z).all_coeffs()[::-1]
    pd = sympy.Poly(den, z).all_coeffs()[::-1]
    dom, (cn, cd) = _domain(pn, pd, field=True)
    return _to_sympy(dom, _mul(cn, _inverse(cd, n, dom), n, dom.zero))


# --------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------
def series_reversion(coefficients: Sequence) -> list:
    """Compositional inverse of ``f(u) = sum_{k>=1} c_k u^k`` (``c_1 != 0``).

    ``coefficients`` is ``[c_1, ..., c_K]``; returns ``[g_1, ..., g_K]`` with
    ``f(g(z)) = z + O(z^(K+1))``, by Lagrange inversion
    ``g_k = (1/k) [u^(k-1)] (u / f(u))^k``.

    >>> series_reversion([1, 1, 0])          # u + u^2  ->  z - z^2 + 2 z^3
    [1, -1, 2]
    """
    K = len(coefficients)
    if K == 0:
        return []
    dom, (c,) = _domain(list(coefficients), field=True)
    h = _inverse(c, K, dom)          # u / f(u) = 1 / (c_1 + c_2 u + ...)
    return _to_sympy(dom, _lagrange(h, K, dom))


def s_transform_from_moments(moments: Sequence) -> list:
    """Coefficients ``[S_0, ..., S_{K-1}]`` of the S-transform from the
    moments ``[m_1, ..., m_K]`` (series reversion of the moment series).

    ``S_0 = 1/m_1``; the K moments determine exactly K coefficients.

    >>> s_transform_from_moments([2, 8])     # MP(1, variance 2): 1/(2(1+z))
    [1/2, -1/2]
    """
    chi = series_reversion(moments)          # chi_1..chi_K
    K = len(chi)
    # S(z) = (1 + z) chi(z) / z:  S_j = chi_{j+1} + chi_j
    return [sympy.expand(chi[j] + (chi[j - 1] if j >= 1 else 0)) for j in range(K)]


def moments_from_lagrange(q: Sequence, K: int) -> list:
    """Moments ``m_k = (1/k) [w^(k-1)] Q(w)^k``, k = 1..K, from the
    coefficients ``[Q_0, Q_1, ...]`` of ``Q(w) = (1 + w) / S(w)``.

    This is the fast path for laws whose ``1/S`` is a polynomial (products of
    Marchenko-Pastur and Fuss-Catalan laws): the sum is finite and exact.

    >>> moments_from_lagrange([1, 2, 1], 4)    # Q = (1+w)^2: Catalan numbers
    [1, 2, 5, 14]
    """
    K = _validate.integer("K", K, minimum=0)
    if K == 0:
        return []
    dom, (qq,) = _domain(list(q))
    return _to_sympy(dom, _lagrange(qq, K, dom))


def moments_from_s_transform(s, K: int, z=None) -> list:
    """Moments ``[m_1, ..., m_K]`` of the law whose S-transform is ``s``.

    ``s`` is either the list of coefficients ``[S_0, S_1, ...]`` (at least K
    of them) or a rational sympy expression in ``z``.

    >>> from sympy import Symbol
    >>> z = Symbol("z")
    >>> moments_from_s_transform(1 / (1 + z)**2, 4, z=z)    # FC(2)
    [1, 3, 12, 55]
    """
    K = _validate.integer("K", K, minimum=0)
    if K == 0:
        return []
    coeffs = _coefficients(s, z, K)
    if len(coeffs) < K:
        raise ValueError(f"s: need at least K = {K} S-transform coefficients (got {len(coeffs)})")
    dom, (sc,) = _domain(coeffs, field=True)
    q = _mul([dom.one, dom.one], _inverse(sc, K, dom), K, dom.zero)   # (1+w)/S(w)
    return _to_sympy(dom, _lagrange(q, K, dom))


def free_multiplicative_moments(*moment_lists: Sequence) -> list:
    """Moments of the free multiplicative convolution of laws given by their
    moments (each list ``[m_1, ..., m_K]``, same K): S-transforms multiply.

    >>> free_multiplicative_moments([1, 2, 5], [1, 2, 5])    # MP(1) x MP(1) = FC(2)
    [1, 3, 12]
    """
    if not moment_lists:
        raise ValueError("moment_lists: need at least one law")
    K = min(len(m) for m in moment_lists)
    series = [s_transform_from_moments(list(m)[:K]) for m in moment_lists]
    dom, conv = _domain(*series, field=True)
    prod = [dom.one] + [dom.zero] * (K - 1)
    for s in conv:
        prod = _mul(prod, s, K, dom.zero)
    return moments_from_s_transform(_to_sympy(dom, prod), K)


def free_cumulants_from_moments(moments: Sequence) -> list:
    """Free cumulants ``[kappa_1, ..., kappa_K]`` from ``[m_1, ..., m_K]``,
    by the recursion ``m_n = sum_{s=1}^n kappa_s [z^(n-s)] M(z)^s``.

    >>> free_cumulants_from_moments([0, 1, 0, 2])    # semicircle: kappa_2 = 1 only
    [0, 1, 0, 0]
    """
    K = len(moments)
    dom, (m,) = _domain(list(moments))
    M = [dom.one] + m                      # M(z) = 1 + sum m_k z^k, K+1 terms
    powers = [None, M[:]]                  # powers[s] = M^s truncated to K+1
    kappa = []
    for n in range(1, K + 1):
        while len(powers) <= n:
            powers.append(_mul(powers[-1], M, K + 1, dom.zero))
        s_sum = dom.zero
        for s in range(1, n):
            s_sum += kappa[s - 1] * powers[s][n - s]
        kappa.append(m[n - 1] - s_sum)
    return _to_sympy(dom, kappa)


def moments_from_free_cumulants(cumulants: Sequence) -> list:
    """Moments ``[m_1, ..., m_K]`` from free cumulants ``[kappa_1, ..., kappa_K]``
    (inverse of :func:`free_cumulants_from_moments`).

    >>> moments_from_free_cumulants([1, 1, 1, 1])    # free Poisson: Catalan
    [1, 2, 5, 14]
    """
    K = len(cumulants)
    dom, (kap,) = _domain(list(cumulants))
    m = []
    for n in range(1, K + 1):
        M = [dom.one] + m + [dom.zero] * (K - len(m))
        # m_n = sum_s kappa_s [z^(n-s)] M^s, with M known up to z^(n-1)
        total = dom.zero
        power = [dom.one] + [dom.zero] * K
        for s in range(1, n + 1):
            power = _mul(power, M, n - s + 1 + 1, dom.zero) + [dom.zero] * K
            total += kap[s - 1] * power[n - s]
        m.append(total)
    return _to_sympy(dom, m)
