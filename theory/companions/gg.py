"""Giorlandino & Goldt, "Two failure modes of deep transformers and how to
avoid them" (arXiv 2505.24333): the Random Energy Model (REM) view of softmax
attention at initialisation, and the one-block maps for the token cosine.

Statements A1-A10 (``docs/derivations.md``, sections gg.*).  Conventions
(read in the authors' code): ``W_Q, W_K`` entries have standard deviation
``sqrt(beta) (log T)^(1/4) / sqrt(d)``, temperature ``sqrt(d)``, so a logit has
variance ``beta^2 q^2 log T``; ``W_V, W_1, W_2`` have variance ``sigma^2/d``;
biases variance ``sigma_b^2``.  Tokens have per-coordinate norm ``q = |x|^2/d``
and overlap ``p = x_a.x_b/d``.

Everything is derived here from a few principles, never typed in:

* the REM free energy from the annealed moment ``E exp(t g) = exp(t^2/2)``
  (computed by sympy), its entropy ``s = f - b f'``, the freezing point where
  ``s = 0`` and the frozen phase as the tangent line through the origin;
* participation ratio and entropy above the freezing point from the
  Poisson-Dirichlet ``PD(m, 0)`` moment formula (Pitman), with ``m = b_c/b``;
* the finite-T freezing point ``E[max of T N(0,1)] / sqrt(log T)`` by mpmath
  quadrature;
* the ReLU arc-cosine kernel from Sheppard's orthant formula and Price's
  theorem (sympy integration);
* the slope of the block map at ``p = 1`` by sympy differentiation of the map.

>>> freezing_point()**2
2
>>> round(beta_c_finite(512), 4)
1.2187
>>> round(block_map_postln(0.2, beta=0.5, T=1024), 4)
0.3898
"""
from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import mpmath
import sympy
from sympy import Rational, sqrt

from .._validate import in_interval, integer, nonnegative, one_of, positive, to_sympy
from ..prediction import Prediction
from ..registry import CheckOutcome, Result, register

__all__ = [
    "SOURCE", "b", "beta_eff", "rem_annealed_free_energy", "rem_entropy_density",
    "freezing_point", "freezing_point_pq", "rem_free_energy", "entropy_law",
    "pd_power_sum", "pd_pair_sum", "participation_law", "participation_variance_law",
    "frozen_entropy_law", "frozen_entropy_in_m", "expected_max_gaussian", "beta_c_finite",
    "participation_ratio",
    "attention_output_moments", "arccos_kernel", "arccos_kernel_derived",
    "relu_mlp_moments", "block_map_postln", "block_map_preln", "block_map_gain_postln",
    "block_map_gain_preln", "iterate_map", "slope_at_one", "slope_at_one_closed_form",
    "skip_scaling_exponent", "critical_skip_strength", "activation_moments", "classify_trainability",
    "q", "p", "MLP_SIGMA_W2", "QK_FROZEN_CONSTANT", "TRAINABILITY_EPS", "FreezingPointT", "qk_variance",
    "authors_model", "model_beta", "model_sigma_v2", "model_beta_eff", "rem_applies", "block_applies",
    "block_maps_applies", "rem_example", "block_example", "BlockMap", "LogitVariance", "Freezing",
    "Participation", "OutputMoments", "Entropy", "BlockCosines", "DepthCollapse",
    "Trainability", "QKGradients",
]

SOURCE = ("Giorlandino & Goldt, 'Two failure modes of deep transformers and how to avoid "
          "them' (arXiv 2505.24333, ICLR 2026)")

b = sympy.Symbol("beta_eff", positive=True)
_T = sympy.Symbol("T", positive=True)
_g = sympy.Symbol("g", real=True)
_t = sympy.Symbol("t", real=True)
_m = sympy.Symbol("m", positive=True)


# ----------------------------------------------------------------- A1, A2

def beta_eff(beta, q=1, p=0):
    """Effective inverse temperature of one attention row (A1):
    ``beta sqrt(q (q - p))``.

    >>> beta_eff(2, 1, sympy.Rational(1, 2))
    sqrt(2)
    """
    positive("beta", beta)
    positive("q", q)
    nonnegative("p", p)
    q, p = to_sympy(q), to_sympy(p)
    if not (q - p).free_symbols and float(q - p) < 0:
        raise ValueError(f"p must be <= q (got p={p}, q={q})")
    return to_sympy(beta) * sqrt(q * (q - p))


@functools.lru_cache(maxsize=None)
def rem_annealed_free_energy():
    """``(1/log T) log E sum_b exp(beta_eff sqrt(log T) g_b)`` for T iid N(0,1)
    energies, from the Gaussian moment generating function computed by sympy.

    >>> rem_annealed_free_energy()
    beta_eff**2/2 + 1
    """
    mgf = sympy.integrate(sympy.exp(_t * _g - _g**2 / 2) / sympy.sqrt(2 * sympy.pi),
                          (_g, -sympy.oo, sympy.oo), conds="none")
    logz = sympy.log(_T) + sympy.log(mgf.subs(_t, b * sympy.sqrt(sympy.log(_T))))
    return sympy.simplify(sympy.expand_log(logz, force=True) / sympy.log(_T))


def rem_entropy_density():
    """Entropy per ``log T`` of the Gibbs measure, ``f - b f'(b)`` (thermodynamic
    identity), in the high-temperature phase.

    >>> rem_entropy_density()
    1 - beta_eff**2/2
    """
    f = rem_annealed_free_energy()
    return sympy.expand(f - b * sympy.diff(f, b))


def freezing_point():
    """The positive root of the entropy density: the REM freezing point.

    >>> freezing_point()
    sqrt(2)
    """
    roots = [r for r in sympy.solve(sympy.Eq(rem_entropy_density(), 0), b) if r.is_positive]
    if len(roots) != 1:
        raise RuntimeError(f"expected one positive freezing point, got {roots}")
    return roots[0]


def freezing_point_pq(q=1, p=0):
    """``beta`` at which ``beta_eff(beta, q, p)`` reaches the freezing point (A2):
    ``sqrt(2 / (q (q - p)))``.

    >>> freezing_point_pq(1, sympy.Rational(1, 2))
    2
    """
    beta = sympy.Symbol("beta", positive=True)
    sol = sympy.solve(sympy.Eq(beta_eff(beta, q, p), freezing_point()), beta)
    return sympy.simplify(sol[0])


def rem_free_energy(beta):
    """REM free energy per ``log T`` in both phases: annealed below the freezing
    point, the tangent line through the origin above it (``sqrt 2 beta``).

    >>> rem_free_energy(3)
    3*sqrt(2)
    """
    positive("beta", beta)
    bc = freezing_point()
    f = rem_annealed_free_energy()
    beta = to_sympy(beta)
    frozen = beta * f.subs(b, bc) / bc
    if beta.free_symbols:
        return sympy.Piecewise((f.subs(b, beta), beta <= bc), (frozen, True))
    return f.subs(b, beta) if bool(beta <= bc) else sympy.simplify(frozen)


def entropy_law(beta):
    """Limit of the attention entropy per ``log T`` (A5): ``max(0, 1 - beta^2/2)``.

    >>> entropy_law(sympy.Rational(1, 2))
    7/8
    >>> entropy_law(2)
    0
    """
    positive("beta", beta)
    s = rem_entropy_density().subs(b, to_sympy(beta))
    if s.free_symbols:
        return sympy.Max(0, s)
    return s if s > 0 else sympy.Integer(0)


def pd_power_sum(k, m=_m):
    """``E sum_i w_i^k`` for Poisson-Dirichlet ``PD(m, 0)`` weights (Pitman):
    ``Gamma(k - m) / (Gamma(k) Gamma(1 - m))``.

    >>> pd_power_sum(2)
    1 - m
    """
    integer("k", k, minimum=1)
    return sympy.simplify(sympy.gammasimp(sympy.gamma(k - m) / (sympy.gamma(k) * sympy.gamma(1 - m))))


def pd_pair_sum(k1, k2, m=_m):
    """``E sum_{i != j} w_i^k1 w_j^k2`` for ``PD(m, 0)`` (Pitman's formula,
    two blocks): ``m Gamma(k1 - m) Gamma(k2 - m) / (Gamma(1 - m)^2 Gamma(k1 + k2))``."""
    integer("k1", k1, minimum=1)
    integer("k2", k2, minimum=1)
    return sympy.simplify(sympy.gammasimp(
        m * sympy.gamma(k1 - m) * sympy.gamma(k2 - m)
        / (sympy.gamma(1 - m) ** 2 * sympy.gamma(k1 + k2))))


def participation_law(beta, beta_c=None):
    """Limit of ``E sum_b A_ab^2`` (A3): ``0`` below the freezing point and
    ``1 - m``, ``m = beta_c / beta``, above it (``PD(m, 0)`` weights).
    ``beta_c`` defaults to ``sqrt 2``; pass :func:`beta_c_finite` for finite T.

    >>> participation_law(4)
    1 - sqrt(2)/4
    """
    positive("beta", beta)
    bc = freezing_point() if beta_c is None else to_sympy(beta_c)
    beta = to_sympy(beta)
    y = pd_power_sum(2).subs(_m, bc / beta)
    return y if bool(beta > bc) else sympy.Integer(0)


def participation_variance_law(beta, beta_c=None):
    """Limit of ``Var sum_b A_ab^2`` above the freezing point (A3, no self-averaging):
    ``E Y^2 - (E Y)^2`` from the PD moments, ``= m (1 - m) / 3``.

    >>> participation_variance_law(2 * sympy.sqrt(2))
    1/12
    """
    positive("beta", beta)
    bc = freezing_point() if beta_c is None else to_sympy(beta_c)
    var = sympy.factor(pd_power_sum(4) + pd_pair_sum(2, 2) - pd_power_sum(2) ** 2)
    beta = to_sympy(beta)
    return sympy.simplify(var.subs(_m, bc / beta)) if bool(beta > bc) else sympy.Integer(0)


def frozen_entropy_law(beta, beta_c=None):
    """Limit of the attention entropy ``E H_a`` above the freezing point (ours,
    grade B): ``E sum_i -w_i log w_i = -d/dk E sum w_i^k at k = 1`` for
    ``PD(m, 0)``, i.e. ``psi(1) - psi(1 - m)``.

    >>> float(frozen_entropy_law(2 * sympy.sqrt(2)))  # m = 1/2: 2 log 2
    1.3862943611198906
    """
    positive("beta", beta)
    bc = freezing_point() if beta_c is None else to_sympy(beta_c)
    h = frozen_entropy_in_m()
    beta = to_sympy(beta)
    if not bool(beta > bc):
        raise ValueError(f"beta must exceed the freezing point {bc} (got {beta})")
    return h.subs(_m, bc / beta)


@functools.lru_cache(maxsize=None)
def frozen_entropy_in_m():
    """``E sum_i -w_i log w_i = -d/dk E sum_i w_i^k |_(k=1)`` for ``PD(m, 0)``.

    >>> frozen_entropy_in_m()
    -polygamma(0, 1 - m) - EulerGamma
    """
    kk = sympy.Symbol("k", positive=True)
    moment = sympy.gamma(kk - _m) / (sympy.gamma(kk) * sympy.gamma(1 - _m))
    return sympy.simplify(-sympy.diff(moment, kk).subs(kk, 1))


@functools.lru_cache(maxsize=256)
def expected_max_gaussian(T: int, dps: int = 20) -> float:
    """``E[max of T iid N(0,1)]`` by mpmath quadrature of ``x T phi Phi^(T-1)``.

    >>> round(expected_max_gaussian(2), 10) == round(1 / math.sqrt(math.pi), 10)
    True
    """
    T = integer("T", T, minimum=1)
    with mpmath.workdps(dps):
        c = mpmath.sqrt(2 * mpmath.log(T)) if T > 1 else mpmath.mpf(0)
        f = lambda x: x * T * mpmath.npdf(x) * mpmath.ncdf(x) ** (T - 1)  # noqa: E731
        pts = sorted({-mpmath.inf, mpmath.mpf(-2), mpmath.mpf(0), c - 1.5, c - 0.5, c,
                      c + 0.5, c + 1.5, mpmath.inf})
        return float(mpmath.quad(f, pts))


def beta_c_finite(T: int) -> float:
    """Finite-T freezing point (A2 refinement): ``E[max of T N(0,1)] / sqrt(log T)``.
    Approaches ``sqrt 2`` only like ``log log T / log T``.

    >>> [round(beta_c_finite(t), 3) for t in (1024, 4096)]
    [1.234, 1.257]
    """
    T = integer("T", T, minimum=2)
    return expected_max_gaussian(T) / math.sqrt(math.log(T))


def participation_ratio(beta_e: float, T: int | None = None) -> float:
    """Float ``Y(beta_eff)`` used by the block maps: ``max(0, 1 - beta_c / beta_eff)``
    with ``beta_c = beta_c_finite(T)`` (``sqrt 2`` when ``T`` is None)."""
    nonnegative("beta_eff", beta_e)
    bc = math.sqrt(2) if T is None else beta_c_finite(T)
    return max(0.0, 1.0 - bc / beta_e) if beta_e > 0 else 0.0


# ----------------------------------------------------------------- A4

def attention_output_moments(q, p, Y, sigma_v2=1, sigma_b2=0):
    """Per-coordinate second moments of the attention output ``A X W_V + b``
    (A4), derived from ``sum_b A_ab = 1`` and ``sum_b A_ab^2 = Y``:
    returns ``(q_att, p_att)``.

    >>> q, p, Y = sympy.symbols("q p Y")
    >>> attention_output_moments(q, p, Y)
    (Y*(-p + q) + p, p)
    """
    # E over W_V of o_a.o_c/d = sigma_v^2 sum_{b,b'} A_ab A_cb' x_b.x_b'/d
    # = sigma_v^2 [ (q - p) sum_b A_ab A_cb + p (sum_b A_ab)(sum_b' A_cb') ]
    q, p, Y, sv2, sb2 = map(to_sympy, (q, p, Y, sigma_v2, sigma_b2))
    row_sum, same_row_sq, cross_overlap = 1, Y, 0  # Gibbs measures of distinct queries: overlap 0
    q_att = sv2 * ((q - p) * same_row_sq + p * row_sum**2) + sb2
    p_att = sv2 * ((q - p) * cross_overlap + p * row_sum**2) + sb2
    return sympy.collect(sympy.expand(q_att), Y), sympy.expand(p_att)


# ----------------------------------------------------------------- A6, A7

_c = sympy.Symbol("c", real=True)


@functools.lru_cache(maxsize=None)
def arccos_kernel_derived():
    """``2 E[relu(u) relu(v)]`` for unit Gaussians of correlation ``c``, derived:
    Price's theorem gives ``d/dc E[relu u relu v] = P(u > 0, v > 0)``, Sheppard's
    formula ``P = (pi - arccos c) / (2 pi)``, and ``E[relu(u) relu(-u)] = 0``.

    >>> sympy.simplify(arccos_kernel_derived().subs(_c, 1))
    1
    """
    s = sympy.Symbol("s", real=True)
    orthant = (sympy.pi - sympy.acos(s)) / (2 * sympy.pi)
    integral = sympy.integrate(orthant, (s, -1, _c))
    return sympy.simplify(2 * integral)


def arccos_kernel(c):
    """Float arc-cosine kernel ``k(c) = (sqrt(1-c^2) + c (pi - arccos c)) / pi``
    (closed form; :func:`arccos_kernel_derived` derives it)."""
    c = min(1.0, max(-1.0, float(c)))
    return (math.sqrt(max(0.0, 1 - c * c)) + c * (math.pi - math.acos(c))) / math.pi


def relu_mlp_moments(p0, sigma_w2=1.0, sigma_b2=0.0, q0=1.0):
    """``(q_M, p_M)`` of ``relu(x W_1 + b_1) W_2 + b_2`` for inputs with moments
    ``(q0, p0)`` (A6)."""
    q1 = sigma_w2 * q0 + sigma_b2
    p1 = sigma_w2 * p0 + sigma_b2
    if q1 == 0:
        return sigma_b2, sigma_b2
    q_m = sigma_w2 * q1 / 2 + sigma_b2
    p_m = sigma_w2 * (q1 / 2) * arccos_kernel(p1 / q1) + sigma_b2
    return q_m, p_m


def _check_map_args(p, beta, T, alpha_a, alpha_m, sigma_v2, sigma_w2, sigma_b2):
    in_interval("p", p, -1, 1, lo_open=False)
    nonnegative("beta", beta)
    if T is not None:
        integer("T", T, minimum=2)
    for name, v in (("alpha_A", alpha_a), ("alpha_M", alpha_m), ("sigma_v2", sigma_v2),
                    ("sigma_w2", sigma_w2), ("sigma_b2", sigma_b2)):
        nonnegative(name, v)


def _attn_branch(q, p, beta, T, sigma_v2, sigma_b2, gain, prenorm_beta, participation=None):
    """Moments added by the attention branch acting on tokens (q, p);
    ``participation(beta_eff, T)`` defaults to :func:`participation_ratio`."""
    if prenorm_beta == "ln":           # attention sees LN(x): q = 1, p -> p/q (A1)
        qs, ps = 1.0, p / q
    else:                               # the notebook's choice: un-normalised (q, p)
        qs, ps = q, p
    be = beta * math.sqrt(max(qs * (qs - ps), 0.0))
    Y = (participation or participation_ratio)(be, T)
    qa, pa = 1.0, p / q                 # LN(x) enters the value path
    if gain:                            # (A - J) X W_V: zero token mean, Y - 1/T on the norm
        return sigma_v2 * (qa - pa) * max(Y - (1.0 / T if T else 0.0), 0.0) + sigma_b2, sigma_b2
    return sigma_v2 * (pa + (qa - pa) * Y) + sigma_b2, sigma_v2 * pa + sigma_b2


def block_map_postln(p, beta, T=None, alpha_a=1.0, alpha_m=1.0, sigma_v2=1.0, sigma_w2=1.0,
                     sigma_b2=0.0, gain=False, participation=None):
    """One post-LN block (attention + ReLU MLP, skips ``alpha_A``, ``alpha_M``)
    acting on the overlap ``p`` of LN tokens (``q = 1``): the A6 map; with
    ``gain=True`` the gain-controlled attention of A7 (= core fix ``A - J``).

    >>> round(block_map_postln(0.2, beta=3, T=1024), 4)
    0.3135
    """
    _check_map_args(p, beta, T, alpha_a, alpha_m, sigma_v2, sigma_w2, sigma_b2)
    qa, pa = _attn_branch(1.0, p, beta, T, sigma_v2, sigma_b2, gain, "ln", participation)
    a2 = alpha_a**2
    p0 = (pa + a2 * p) / (qa + a2)
    q_m, p_m = relu_mlp_moments(p0, sigma_w2, sigma_b2)
    m2 = alpha_m**2
    return (p_m + m2 * p0) / (q_m + m2)


def block_map_gain_postln(p, beta, T=None, **kw):
    """Post-LN block with gain-controlled attention (A7)."""
    return block_map_postln(p, beta, T, gain=True, **kw)


def block_map_preln(q, p, beta, T=None, alpha_a=1.0, alpha_m=1.0, sigma_v2=1.0, sigma_w2=1.0,
                    sigma_b2=0.0, gain=False, beta_c_from="ln", participation=None):
    """One pre-LN block on the un-normalised stream ``(q, p)`` (A7):
    ``x <- alpha_A x + Attn(LN x)``, ``x <- alpha_M x + MLP(LN x)``.

    ``beta_c_from="ln"`` evaluates the REM temperature on ``LN(x)`` (A1, what
    the network does); ``"stream"`` reproduces the authors' notebook, which
    uses the un-normalised ``(q, p)`` (open item of A7).

    >>> [round(v, 4) for v in block_map_preln(1.0, 0.2, beta=0.5, T=1024)]
    [1.7, 0.6514]
    """
    _check_map_args(p / q, beta, T, alpha_a, alpha_m, sigma_v2, sigma_w2, sigma_b2)
    positive("q", q)
    one_of("beta_c_from", beta_c_from, ("ln", "stream"))
    qa, pa = _attn_branch(q, p, beta, T, sigma_v2, sigma_b2, gain, beta_c_from, participation)
    a2, m2 = alpha_a**2, alpha_m**2
    q1, p1 = a2 * q + qa, a2 * p + pa
    q_m, p_m = relu_mlp_moments(p1 / q1, sigma_w2, sigma_b2)
    return m2 * q1 + q_m, m2 * p1 + p_m


def block_map_gain_preln(q, p, beta, T=None, **kw):
    """Pre-LN block with gain-controlled attention (A7)."""
    return block_map_preln(q, p, beta, T, gain=True, **kw)


def iterate_map(p0, depth, beta, T=None, norm="post", q0=1.0, **kw):
    """Cosines ``[rho_0, ..., rho_L]`` of ``depth`` blocks of the post-LN (``norm="post"``)
    or pre-LN (``"pre"``) map.

    >>> [round(v, 3) for v in iterate_map(0.0, 3, beta=0.5, T=1024)]
    [0.0, 0.106, 0.268, 0.468]
    """
    integer("depth", depth, minimum=0)
    one_of("norm", norm, ("post", "pre"))
    out = [float(p0)]
    q, p = float(q0), float(p0) * float(q0)
    for _ in range(depth):
        if norm == "post":
            p = block_map_postln(p, beta, T, **kw)
            out.append(p)
        else:
            q, p = block_map_preln(q, p, beta, T, **kw)
            out.append(p / q)
    return out


# ----------------------------------------------------------------- A8

_pp, _aA2, _aM2, _sv2, _sw2, _sb2 = sympy.symbols("p alpha_A2 alpha_M2 sigma_v2 sigma_w2 sigma_b2",
                                                  nonnegative=True)


_K = sympy.Function("k")


def _symbolic_postln_map_low_variance():
    """The A6 map with ``Y = 0`` as a sympy expression in p, the MLP kernel left
    as an undefined function ``k`` of the pre-activation cosine."""
    p0 = (_sv2 * _pp + _sb2 + _aA2 * _pp) / (_sv2 * _pp + _sb2 + _aA2)
    q1 = _sw2 + _sb2
    p1 = _sw2 * p0 + _sb2
    q_m = _sw2 * q1 / 2 + _sb2
    p_m = _sw2 * (q1 / 2) * _K(p1 / q1) + _sb2
    return (p_m + _aM2 * p0) / (q_m + _aM2)


@functools.lru_cache(maxsize=None)
def skip_scaling_exponent():
    """Exponent ``e`` of the skip scaling ``alpha_A^2 = alpha_M^2 = a = c L^e`` that
    keeps ``1 - p_L = lambda(a)^L (1 - p_0)`` of order one, derived from
    :func:`slope_at_one`: ``1 - lambda(a) ~ C a^(-k)`` as ``a -> oo`` (``k`` by a
    sympy limit), and ``lambda^L = exp(-C L a^(-k)) = Theta(1)`` iff ``a ~ L^(1/k)``.

    >>> skip_scaling_exponent()
    1
    """
    a = sympy.Symbol("a", positive=True)
    gap = sympy.together(1 - slope_at_one().subs({_aA2: a, _aM2: a}))
    k = -sympy.limit(sympy.log(gap) / sympy.log(a), a, sympy.oo)
    return 1 / k


@functools.lru_cache(maxsize=None)
def slope_at_one():
    """``d p_new / d p`` at ``p = 1`` of the ReLU post-LN map (low-variance regime,
    ``Y = 0``), by sympy differentiation of the map; the kernel's value and slope
    at ``c = 1`` come from :func:`arccos_kernel_derived` (``k(1) = k'(1) = 1``).

    >>> sympy.factor(slope_at_one().subs({_sb2: 0, _aM2: 0, _aA2: 1, _sv2: 1, _sw2: 2}))
    1/2
    """
    f = _symbolic_postln_map_low_variance()
    d = sympy.diff(f, _pp).subs(_pp, 1).doit()
    k = arccos_kernel_derived()
    k1 = sympy.simplify(k.subs(_c, 1))
    dk1 = sympy.limit(sympy.diff(k, _c), _c, 1, "-")
    d = d.replace(lambda e: isinstance(e, sympy.Subs), lambda e: dk1)
    d = d.replace(lambda e: isinstance(e, sympy.Derivative), lambda e: dk1)
    return sympy.simplify(d.subs(_K(1), k1))


def activation_moments(activation: str, q: float):
    """``(E phi(u)^2, E phi'(u)^2)`` for ``u ~ N(0, q)`` by mpmath quadrature.

    >>> [round(v, 12) for v in activation_moments("relu", 2.0)]
    [1.0, 0.5]
    """
    one_of("activation", activation, ("relu", "tanh"))
    positive("q", q)
    if activation == "relu":
        phi, dphi = (lambda u: max(u, 0)), (lambda u: 1.0 if u > 0 else 0.0)
        pts = [-mpmath.inf, 0, mpmath.inf]
    else:
        phi, dphi = mpmath.tanh, (lambda u: mpmath.sech(u) ** 2)
        pts = [-mpmath.inf, 0, mpmath.inf]
    s = mpmath.sqrt(q)
    dens = lambda u: mpmath.npdf(u, 0, s)  # noqa: E731
    e2 = mpmath.quad(lambda u: phi(u) ** 2 * dens(u), pts)
    d2 = mpmath.quad(lambda u: dphi(u) ** 2 * dens(u), pts)
    return float(e2), float(d2)


def slope_at_one_closed_form(alpha_a2, alpha_m2, sigma_v2, sigma_w2, sigma_b2, activation="relu"):
    """``lambda = alpha_A^2/(alpha_A^2 + sigma_v^2 + sigma_b^2) x
    (sigma_w^4 E phi'^2 + alpha_M^2)/(q_M + alpha_M^2)`` (A8)."""
    e2, d2 = activation_moments(activation, sigma_w2 + sigma_b2)
    q_m = sigma_w2 * e2 + sigma_b2
    return (alpha_a2 / (alpha_a2 + sigma_v2 + sigma_b2)
            * (sigma_w2**2 * d2 + alpha_m2) / (q_m + alpha_m2))


def critical_skip_strength(alpha_m2, sigma_v2, sigma_w2, sigma_b2=0.0, activation="tanh"):
    """``alpha_A`` at which the slope at ``p = 1`` equals 1 (solved by sympy on the
    slope formula); ``nan`` when the MLP factor ``chi_M <= 1`` (no critical point).

    >>> round(critical_skip_strength(0.25, 1.0, 4.0), 4)
    1.3401
    """
    e2, d2 = activation_moments(activation, sigma_w2 + sigma_b2)
    chi = (sigma_w2**2 * d2 + alpha_m2) / (sigma_w2 * e2 + sigma_b2 + alpha_m2)
    if chi <= 1:
        return float("nan")
    a2 = sympy.Symbol("a2", positive=True)
    sol = sympy.solve(sympy.Eq(a2 / (a2 + sigma_v2 + sigma_b2) * chi, 1), a2)
    return math.sqrt(float(sol[0]))


# ----------------------------------------------------------------- A9

def classify_trainability(beta, alpha_a, depth, T, p0=0.0, eps=0.05, entropy_threshold=0.0,
                          beta_c=None, **kw):
    """gapcheck's reconstruction of the trainability diagram (A9, grade D):
    iterate the post-LN map; ``"rank-collapse"`` if ``1 - p_L < eps``,
    ``"entropy-collapse"`` if ``beta_eff(p_l) > beta_c(T)`` at some layer
    (normalised entropy ``max(0, 1 - beta_eff^2/beta_c^2)`` at or below
    ``entropy_threshold``), ``"trainable"`` otherwise; ``beta_c`` defaults to
    :func:`beta_c_finite` ``(T)``.  Returns ``(label, rho_L, min normalised entropy)``.

    >>> classify_trainability(0.5, 1.0, 20, 1024)[0]
    'rank-collapse'
    """
    integer("depth", depth, minimum=1)
    rho = iterate_map(p0, depth, beta, T, alpha_a=alpha_a, **kw)
    bc = beta_c_finite(T) if beta_c is None else beta_c
    ent = min(max(0.0, 1 - (beta * math.sqrt(1 - r)) ** 2 / bc**2) for r in rho[:-1])
    if 1 - rho[-1] < eps:
        label = "rank-collapse"
    elif ent <= entropy_threshold:
        label = "entropy-collapse"
    else:
        label = "trainable"
    return label, rho[-1], ent


# ----------------------------------------------------------------- registry

def _exact(name, params, measured, predicted, tol=1e-10, detail=""):
    m, p = complex(sympy.N(measured, 30)), complex(sympy.N(predicted, 30))
    ok = abs(m - p) <= tol * max(1.0, abs(p))
    return CheckOutcome(name, params, measured=m.real, predicted=p.real, passed=ok,
                        tolerance=f"exact (relative {tol:g})", detail=detail)


def _is_zero(name, params, expr, detail=""):
    ok = sympy.simplify(expr) == 0
    return CheckOutcome(name, params, measured=str(sympy.simplify(expr)), predicted="0",
                        passed=bool(ok), tolerance="exact (sympy simplify)", detail=detail)


_beta, _q, _p, _d = sympy.symbols("beta q p d", positive=True)


def key_logit_variance_derived(beta=_beta, q=_q, p=_p, d=_d, T=_T):
    """Variance over keys of the key-specific logit part, derived from the
    token model ``x_b = sqrt(p) z + sqrt(q - p) g_b`` and the code's weight scale:
    ``(q - p) E|W_K Q_a|^2 / tau^2`` with ``E|W_K Q_a|^2 = d s^2 E|Q_a|^2``,
    ``E|Q_a|^2 = d s^2 |x_a|^2``, ``s^2 = beta sqrt(log T)/d``, ``tau^2 = d``."""
    s2 = beta * sympy.sqrt(sympy.log(T)) / d
    q_norm_sq = d * s2 * (d * q)          # E|x_a W_Q|^2
    wk_q_sq = d * s2 * q_norm_sq          # E|W_K Q_a^T|^2
    return sympy.simplify((q - p) * wk_q_sq / d)


def _checks_rem_mapping():
    var = key_logit_variance_derived()
    return [_is_zero("logit variance = beta_eff^2 log T", {}, var - beta_eff(_beta, _q, _p) ** 2
                     * sympy.log(_T))]


def _checks_freezing():
    f = rem_annealed_free_energy()
    bc = freezing_point()
    out = [_exact("freezing point sqrt 2", {}, bc, sympy.sqrt(2)),
           *[_exact("beta_c(p, q) = sqrt(2/(q(q-p)))", {"q": float(qq), "p": float(pp)},
                    freezing_point_pq(qq, pp), sympy.sqrt(2 / (qq * (qq - pp))))
             for qq, pp in ((1, Rational(1, 2)), (Rational(3, 2), Rational(1, 3)), (2, 0))],
           _is_zero("frozen line tangent at beta_c", {},
                    sympy.diff(f, b).subs(b, bc) - f.subs(b, bc) / bc),
           _exact("beta_c(T=2) = 1/sqrt(pi log 2)", {"T": 2}, beta_c_finite(2),
                  1 / sympy.sqrt(sympy.pi * sympy.log(2)), tol=1e-12)]
    # extreme-value expansion a_T - (log log T + log 4 pi - 2 gamma)/(2 a_T), error O(1/log T)
    for T in (10**6, 10**12):
        aT = math.sqrt(2 * math.log(T))
        asym = aT - (math.log(math.log(T)) + math.log(4 * math.pi) - 2 * 0.5772156649015329) / (2 * aT)
        em = expected_max_gaussian(T)
        budget = 1.0 / math.log(T)
        out.append(CheckOutcome("E max: quadrature vs extreme-value expansion", {"T": T},
                                measured=em, predicted=asym, passed=abs(em - asym) <= budget,
                                tolerance="1/log T (next order of the expansion)"))
    vals = [beta_c_finite(t) for t in (512, 4096, 10**6, 10**12)]
    out.append(CheckOutcome("beta_c(T) increases to sqrt 2", {"T": "512..1e12"}, measured=vals,
                            predicted=math.sqrt(2),
                            passed=all(x < y for x, y in zip(vals, vals[1:])) and vals[-1] < math.sqrt(2),
                            tolerance="monotone, below sqrt 2"))
    return out


def _checks_participation():
    return [_is_zero("PD weights sum to 1", {}, pd_power_sum(1) - 1),
            _is_zero("E Y = 1 - m", {}, pd_power_sum(2) - (1 - _m)),
            _is_zero("Var Y = m(1-m)/3", {},
                     pd_power_sum(4) + pd_pair_sum(2, 2) - pd_power_sum(2) ** 2 - _m * (1 - _m) / 3)]


def _checks_output_moments():
    # T = 3 explicit rows: E over W_V of o_a.o_a/d and o_a.o_c/d with G/d = p + (q-p) delta
    T = 3
    A = sympy.Matrix(2, T, lambda i, j: sympy.Symbol(f"A{i}{j}", positive=True))
    sv2 = sympy.Symbol("sigma_v2", positive=True)
    G = sympy.Matrix(T, T, lambda i, j: _q if i == j else _p)
    M = sv2 * A * G * A.T
    row = {A[i, T - 1]: 1 - sum(A[i, j] for j in range(T - 1)) for i in range(2)}
    Y0 = sum(A[0, j] ** 2 for j in range(T)).subs(row)
    qa, pa = attention_output_moments(_q, _p, sympy.Symbol("Y"), sv2)
    cross = (_q - _p) * sum(A[0, j] * A[1, j] for j in range(T))
    return [_is_zero("q_att = sigma_v^2 (p + (q-p) Y)", {"T": T},
                     M[0, 0].subs(row) - qa.subs(sympy.Symbol("Y"), Y0)),
            _is_zero("p_att = sigma_v^2 p + Gibbs overlap term", {"T": T},
                     M[0, 1].subs(row) - (pa + sv2 * cross).subs(row))]


def _checks_entropy():
    f = rem_annealed_free_energy()
    return [_is_zero("entropy density 1 - beta^2/2", {}, rem_entropy_density() - (1 - b**2 / 2)),
            _is_zero("free energy continuous at sqrt 2", {},
                     f.subs(b, sympy.sqrt(2)) - rem_free_energy(sympy.sqrt(2) + 0) ),
            _exact("frozen entropy at m = 1/2 is 2 log 2", {},
                   frozen_entropy_law(2 * sympy.sqrt(2)), 2 * sympy.log(2))]


def _relu_kernel_quadrature(c):
    """2 E[relu(u) relu(v)] by 1-D mpmath quadrature (v | u ~ N(cu, 1 - c^2))."""
    with mpmath.workdps(30):
        c = mpmath.mpf(c)
        s = mpmath.sqrt(1 - c * c)
        inner = lambda u: c * u * mpmath.ncdf(c * u / s) + s * mpmath.npdf(c * u / s)  # noqa: E731
        return 2 * mpmath.quad(lambda u: u * inner(u) * mpmath.npdf(u), [0, mpmath.inf])


def _checks_block_map_postln():
    k = arccos_kernel_derived()
    closed = (sympy.sqrt(1 - _c**2) + _c * (sympy.pi - sympy.acos(_c))) / sympy.pi
    out = [_is_zero("arc-cosine kernel: Price + Sheppard = closed form", {}, k - closed)]
    for c in (sympy.Rational(-1, 2), sympy.Rational(3, 10), sympy.Rational(9, 10)):
        out.append(_exact("arc-cosine kernel vs quadrature", {"c": float(c)},
                          _relu_kernel_quadrature(c), k.subs(_c, c), tol=1e-12))
    out.append(_exact("p = 1 is a fixed point", {"beta": 3, "T": 1024},
                      block_map_postln(1.0, 3.0, 1024), 1, tol=1e-12))
    return out


def _checks_block_maps():
    out = [_exact("gain-controlled branch silent below freezing", {"beta": 0.5},
                  block_map_gain_postln(0.3, 0.5, 1024, sigma_w2=0.0, alpha_m=1.0), 0.3, tol=1e-12)]
    for p in (0.1, 0.6):
        a = block_map_preln(1.0, p, 3.0, 1024, beta_c_from="ln")
        s_ = block_map_preln(1.0, p, 3.0, 1024, beta_c_from="stream")
        out.append(_exact("pre-LN: LN and stream beta_c agree at q = 1", {"p": p}, a[1], s_[1]))
    post = block_map_postln(0.4, 3.0, 1024, alpha_a=1.0, alpha_m=0.0, sigma_w2=1.0)
    out.append(CheckOutcome("post-LN map in [p, 1]", {"p": 0.4}, measured=post, predicted="[0.4, 1]",
                            passed=0.4 <= post <= 1, tolerance="exact inequality"))
    return out


def _checks_depth_collapse():
    sl = slope_at_one()
    closed = (_aA2 / (_aA2 + _sv2 + _sb2) * (_sw2**2 * Rational(1, 2) + _aM2)
              / (_sw2 * (_sw2 + _sb2) / 2 + _sb2 + _aM2))
    out = [_is_zero("slope at p=1 (sympy diff) = lambda closed form (ReLU)", {}, sl - closed)]
    f = sympy.lambdify((_aA2, _aM2, _sv2, _sw2, _sb2), sl)
    for args in ((1.0, 1.0, 0.2, 0.2, 0.0), (2.0, 0.5, 1.0, 2.0, 0.1)):
        out.append(_exact("slope closed form vs quadrature of E phi'^2", dict(zip(
            ("alpha_A2", "alpha_M2", "sigma_v2", "sigma_w2", "sigma_b2"), args)),
            f(*args), slope_at_one_closed_form(*args), tol=1e-10))
    ac = critical_skip_strength(0.25, 1.0, 4.0)
    lo = slope_at_one_closed_form((0.95 * ac) ** 2, 0.25, 1.0, 4.0, 0.0, "tanh")
    hi = slope_at_one_closed_form((1.05 * ac) ** 2, 0.25, 1.0, 4.0, 0.0, "tanh")
    at = slope_at_one_closed_form(ac**2, 0.25, 1.0, 4.0, 0.0, "tanh")
    out.append(_exact("tanh: slope = 1 at alpha_c", {"alpha_c": ac}, at, 1, tol=1e-10))
    out += _checks_relu_map_grid()
    out.append(CheckOutcome("tanh: p=1 stable below, unstable above alpha_c",
                            {"sigma_w2": 4, "sigma_v2": 1, "alpha_M": 0.5},
                            measured=[lo, hi], predicted="[<1, >1]", passed=lo < 1 < hi,
                            tolerance="exact inequality"))
    return out


# ----------------------------------------------------------------- predictions (issue 10)
#
# Each ``predict_*`` is a pure function of the (frozen, hashable) model and returns a
# frozen record, so it is cached: a check's truth and its negative controls ask for
# the same predictions many times.
#
# The G&G attention layer is one key-query layer of :class:`~theory.model.AttentionModel`:
# ``T = n`` tokens, width ``d``, temperature ``sqrt(d)``, ``W_Q, W_K`` entries
# ``N(0, sigma_QK^2)`` with the authors' scale ``sigma_QK^2 = beta sqrt(log T)/d``
# (:func:`qk_variance`; so the model's ``beta = d sigma_QK^2 / sqrt(log n)``,
# :func:`model_beta`), ``W_V`` entries ``N(0, sigma_V^2)``, i.e. the authors'
# ``sigma_v^2 = d sigma_V^2`` (:func:`model_sigma_v2`). The skip strength is
# ``alpha_A``; the LayerNorm position is the model's ``ln_position`` (post-LN for
# A6, A8, A9; A7 covers both positions); ``remove_gap = 1`` is the gain control
# ``(A - J) X W_V``. The ReLU MLP of a G&G block is the statement's own, not the
# model's (the model is the attention stack; a model with its own ``mlp`` is outside
# these statements): hidden width d, ``W_1, W_2`` entries of variance ``sigma_w^2/d``
# with ``sigma_w^2 =`` :data:`MLP_SIGMA_W2`, no biases, its residual factor
# ``alpha_M = alpha_A`` and a LayerNorm at the model's position. The input's token
# statistics ``q = |x|^2/d`` and ``p = x_a.x_b/d`` are the statement's parameters,
# not the model's: the fields of the REM predictions are functions of the symbols
# :data:`q` and :data:`p` (substitute the input's), and a block map's curve starts
# from the input's cosine.

#: the input's per-coordinate token norm and overlap (the statements' own parameters)
q, p = _q, _p
#: sigma_w^2 of the statement's ReLU MLP (W_1, W_2 entries of variance sigma_w^2/d)
MLP_SIGMA_W2 = sympy.Integer(1)
#: the measured constant of A10 (grade D, not the paper's): G -> c sigma_v^2 Y above freezing
QK_FROZEN_CONSTANT = Rational(38, 100)
#: the rank-collapse threshold of A9: 1 - p_L < eps
TRAINABILITY_EPS = Rational(1, 20)


class FreezingPointT(sympy.Function):
    """The finite-T freezing point ``beta_c(T)`` (:func:`beta_c_finite`) as a sympy
    function: unevaluated for a symbolic T, a number (mpmath quadrature) under evalf.

    >>> round(float(FreezingPointT(1024)), 3)
    1.234
    """

    is_real = True
    is_positive = True

    @classmethod
    def eval(cls, T):
        return None

    def _eval_evalf(self, prec):
        T = self.args[0]
        if T.is_Integer and T >= 2:
            return sympy.Float(beta_c_finite(int(T)), prec)
        return None

    def _latex(self, printer):
        return r"\beta_c(%s)" % printer._print(self.args[0])


def qk_variance(beta, n, d):
    """The model's ``sigma_QK^2`` for the authors' Q/K scale (entry std
    ``sqrt(beta) (log T)^(1/4)/sqrt(d)``): ``beta sqrt(log n) / d``.

    >>> qk_variance(2, 16, 32)
    sqrt(log(16))/16
    """
    return to_sympy(beta) * sympy.sqrt(sympy.log(to_sympy(n))) / to_sympy(d)


def authors_model(n: int, d: int, beta, **fields):
    """The key-query :class:`~theory.model.AttentionModel` of ``n`` tokens at width ``d``
    (``gamma = n/d``) with the authors' Q/K scale at ``beta`` (``fields``: depth,
    sigma_v2, skip, layernorm, remove_gap).

    >>> m = authors_model(128, 256, Rational(1, 2))
    >>> m.d, model_beta(m)
    (256, 1/2)
    """
    from ..model import AttentionModel
    return AttentionModel(n=n, gamma=Rational(n, d), attention="key-query",
                          sigma_qk2=qk_variance(beta, n, d), **fields)


def model_beta(model):
    """G&G's ``beta`` of the model's layer: ``d sigma_QK^2 / sqrt(log n)``."""
    return to_sympy(model.d) * model.value("sigma_QK2") / sympy.sqrt(sympy.log(model.value("n")))


def model_sigma_v2(model):
    """G&G's ``sigma_v^2`` (``W_V`` entries of variance ``sigma_v^2/d``): ``d sigma_V^2``."""
    return to_sympy(model.d) * model.value("sigma_V2")


def model_beta_eff(model):
    """``beta_eff`` of one of the model's attention rows on input tokens (q, p) (A1)."""
    return model_beta(model) * sympy.sqrt(q * (q - p))


def _m_of(model):
    """``m = beta_c(T)/beta_eff`` of the model's rows, finite T = n."""
    return FreezingPointT(model.value("n")) / model_beta_eff(model)


def _attention_reason(model) -> str | None:
    if model.attention != "key-query":
        return (f"the statement is about softmax key-query attention, whose rows are REMs "
                f"(got {model.attention!r} attention)")
    if model.block != "stated":
        return "the statement is about the stated block (block='paper-code' doubles the output)"
    return None


def rem_applies(model) -> str | None:
    """A1-A5: one attention layer of the model, A itself."""
    reason = _attention_reason(model)
    if reason is None and model.remove_gap:
        reason = "the statement is about A itself (remove_gap > 0 changes the attention)"
    return reason


def _block_reason(model) -> str | None:
    if not model.layernorm:
        return "the statement is about LayerNorm blocks (the model has no LayerNorm)"
    if model.skip is None or isinstance(model.skip, str) and model.skip not in ("standard", "upscaled"):
        return (f"the statement is about residual blocks with a fixed skip alpha_A "
                f"(got skip={model.skip!r})")
    return None


def block_applies(model) -> str | None:
    """A6, A8, A9: post-LN residual blocks of plain softmax attention (and the
    statement's ReLU MLP)."""
    return rem_applies(model) or _block_reason(model)


def block_maps_applies(model) -> str | None:
    """A7: pre-LN / post-LN residual blocks (and the statement's ReLU MLP), plain or
    gain-controlled (remove_gap = 1)."""
    reason = _attention_reason(model) or _block_reason(model)
    if reason is None and model.remove_gap not in (0, 1):
        reason = (f"gain control is remove_gap = 1 (A - J); removing the top {model.remove_gap} "
                  f"singular triplets is outside the statement")
    return reason


def rem_example():
    """One attention layer, n = 128 tokens, d = 256 (gamma = 1/2), beta = 2, sigma_v^2 = 3/2
    (sigma_V^2 = 3/512)."""
    return authors_model(128, 256, 2, sigma_v2=Rational(3, 512))


def block_example():
    """Six post-LN blocks, n = 128, d = 256, beta = 3, alpha_A = alpha_M = 1/2,
    sigma_v^2 = 2 (sigma_V^2 = 1/128)."""
    return authors_model(128, 256, 3, depth=6, layernorm=True, skip=Rational(1, 2),
                         sigma_v2=Rational(1, 128))


PARTICIPATIONS = ("rem", "zero", "one")


@dataclass(frozen=True)
class BlockMap:
    """The mean-field cosine map of ``depth`` G&G blocks (A6, A7): attention at
    ``beta`` on ``tokens`` keys (finite-T ``beta_c``), skips ``alpha_A^2``,
    ``alpha_M^2``, ``sigma_v^2``, the MLP's ``sigma_w^2``; ``norm`` "post" or "pre",
    ``gain`` (A - J); ``temperature`` "ln" (REM temperature on LN(x), A1) or
    "stream" (the authors' notebook); ``participation`` "rem" (the REM law), "zero"
    or "one". ``curve(rho_0)`` is ``rho_0..rho_L`` (the input's cosine is the
    statement's parameter).

    >>> BlockMap(Rational(1, 2), 1024, 3, 1, 1, 1, 1).curve(0.0)[-1] == iterate_map(0.0, 3, 0.5, 1024)[-1]
    True
    """

    beta: object
    tokens: object
    depth: object
    alpha_a2: object
    alpha_m2: object
    sigma_v2: object
    sigma_w2: object
    norm: str = "post"
    gain: bool = False
    temperature: str = "ln"
    participation: str = "rem"

    _NUMBERS = ("beta", "tokens", "depth", "alpha_a2", "alpha_m2", "sigma_v2", "sigma_w2")

    def subs(self, mapping) -> "BlockMap":
        return dataclasses.replace(self, **{k: to_sympy(getattr(self, k)).subs(mapping)
                                            for k in self._NUMBERS})

    def with_(self, **changes) -> "BlockMap":
        """A copy with some fields changed (negative controls)."""
        return dataclasses.replace(self, **changes)

    def curve(self, rho0) -> list[float]:
        one_of("participation", self.participation, PARTICIPATIONS)
        kw = dict(norm=self.norm, gain=self.gain, alpha_a=math.sqrt(float(self.alpha_a2)),
                  alpha_m=math.sqrt(float(self.alpha_m2)), sigma_v2=float(self.sigma_v2),
                  sigma_w2=float(self.sigma_w2))
        if self.norm == "pre":
            kw["beta_c_from"] = self.temperature
        if self.participation != "rem":
            y = 0.0 if self.participation == "zero" else 1.0
            kw["participation"] = lambda be, t: y
        return iterate_map(float(rho0), int(self.depth), float(self.beta), int(self.tokens), **kw)


def _block_map(model) -> BlockMap:
    """The map of the model's blocks: its LayerNorm position, gain control when it
    removes the gap."""
    a2 = to_sympy(model.skip_alpha) ** 2
    return BlockMap(model_beta(model), model.value("n"), model.value("l"), a2, a2,
                    model_sigma_v2(model), MLP_SIGMA_W2, model.ln_position, model.remove_gap == 1)


@dataclass(frozen=True)
class LogitVariance(Prediction):
    """A1 for the model's layer on input tokens (q, p): the variance over keys of one
    row's logits, ``beta_eff^2 log T`` with ``beta_eff = beta sqrt(q (q - p))``."""

    logit_variance: object


@functools.lru_cache(maxsize=256)
def predict_rem_mapping(model) -> LogitVariance:
    """:func:`key_logit_variance_derived` with the model's beta, d and T = n."""
    return LogitVariance(_key_logit_variance().subs({_beta: model_beta(model), _d: to_sympy(model.d),
                                                      _T: model.value("n")}))


@functools.lru_cache(maxsize=None)
def _key_logit_variance():
    return key_logit_variance_derived()


@dataclass(frozen=True)
class Freezing(Prediction):
    """A2 at T = n keys: the finite-T freezing point ``beta_c_T = E[max of T N(0,1)]/sqrt(log T)``
    and, for the model's rows on input tokens (q, p), the frozen-phase free energy
    ``beta_eff beta_c(T)`` (the tangent line through the origin; a lower bound in
    expectation, exceeded by at most ``E H / log T``)."""

    beta_c_T: object
    frozen_free_energy: object


@functools.lru_cache(maxsize=256)
def predict_freezing(model) -> Freezing:
    """The frozen line ``beta_eff f(beta_c)/beta_c`` has slope ``f(beta_c)/beta_c = beta_c``
    (``f(b) = 1 + b^2/2`` at ``b^2 = 2``); at finite T its slope is ``beta_c(T)``."""
    bc = FreezingPointT(model.value("n"))
    return Freezing(beta_c_T=bc, frozen_free_energy=model_beta_eff(model) * bc)


@dataclass(frozen=True)
class Participation(Prediction):
    """A3 for the model's rows on input tokens (q, p), T = n: ``E Y = (1 - m)_+`` and
    ``Var Y = (m (1 - m)/3)_+``, ``m = beta_c(T)/beta_eff`` (Poisson-Dirichlet weights)."""

    mean: object
    variance: object


@functools.lru_cache(maxsize=None)
def _pd_laws():
    """``E Y`` and ``Var Y`` of ``PD(m, 0)`` weights as functions of the symbol m."""
    return pd_power_sum(2), sympy.factor(pd_power_sum(4) + pd_pair_sum(2, 2) - pd_power_sum(2) ** 2)


def _pd_mean_var(m):
    mean, var = _pd_laws()
    return mean.subs(_m, m), var.subs(_m, m)


@functools.lru_cache(maxsize=256)
def predict_participation(model) -> Participation:
    mean, var = _pd_mean_var(_m_of(model))
    return Participation(mean=sympy.Max(0, mean), variance=sympy.Max(0, var))


@dataclass(frozen=True)
class OutputMoments(Prediction):
    """A4 for the model's layer on input tokens (q, p): ``q_att = sigma_v^2 (p + (q - p) Y)``,
    ``p_att = sigma_v^2 p`` (no bias), with the participation ratio
    ``Y = (1 - beta_c(T)/beta_eff)_+`` (finite T = n)."""

    q_att: object
    p_att: object
    participation: object


@functools.lru_cache(maxsize=256)
def predict_output_moments(model) -> OutputMoments:
    Y = sympy.Max(0, _pd_mean_var(_m_of(model))[0])
    qa, pa = attention_output_moments(q, p, Y, sigma_v2=model_sigma_v2(model))
    return OutputMoments(q_att=qa, p_att=pa, participation=Y)


@dataclass(frozen=True)
class Entropy(Prediction):
    """A5 for the model's rows on input tokens (q, p): ``fluid`` = the limit of
    ``H / log T``, ``(1 - beta_eff^2/2)_+``; ``frozen`` = ``E H`` above the freezing
    point, ``psi(1) - psi(1 - m)``, ``m = beta_c(T)/beta_eff`` (finite T = n)."""

    fluid: object
    frozen: object


@functools.lru_cache(maxsize=256)
def predict_entropy(model) -> Entropy:
    return Entropy(fluid=sympy.Max(0, rem_entropy_density().subs(b, model_beta_eff(model))),
                   frozen=frozen_entropy_in_m().subs(_m, _m_of(model)))


@dataclass(frozen=True)
class BlockCosines(Prediction):
    """A6 (post-LN blocks of plain attention) and A7 (pre-LN or post-LN as the
    model's ``ln_position`` says, gain-controlled when it removes the gap,
    ``remove_gap = 1``): the cosine map of the model's blocks (:class:`BlockMap`).
    The two statements differ in the models they cover (their ``applies``)."""

    cosines: BlockMap


@functools.lru_cache(maxsize=256)
def predict_block_cosines(model) -> BlockCosines:
    return BlockCosines(cosines=_block_map(model))


@dataclass(frozen=True)
class DepthCollapse(Prediction):
    """A8 for the model's post-LN blocks: ``slope`` of the map at p = 1 (Y = 0),
    ``skip_exponent`` e of the scaling ``alpha_A^2 = alpha_M^2 ~ L^e`` that keeps
    ``1 - p_L = Theta(1)``, and the cosine map itself."""

    slope: object
    skip_exponent: object
    cosines: BlockMap


@functools.lru_cache(maxsize=256)
def predict_depth_collapse(model) -> DepthCollapse:
    a2 = to_sympy(model.skip_alpha) ** 2
    slope = slope_at_one().subs({_aA2: a2, _aM2: a2, _sv2: model_sigma_v2(model), _sw2: MLP_SIGMA_W2,
                                 _sb2: 0})
    return DepthCollapse(slope=slope, skip_exponent=skip_scaling_exponent(), cosines=_block_map(model))


@dataclass(frozen=True)
class Trainability(Prediction):
    """A9 for the model's post-LN blocks: the cosine map, the freezing point
    ``beta_c(T)`` and the threshold ``eps``; :meth:`label` classifies the cell."""

    cosines: BlockMap
    beta_c: object
    eps: object

    def label(self, rho0) -> tuple[str, float]:
        """``(label, rho_L)`` of :func:`classify_trainability` for input cosine ``rho0``."""
        c = self.cosines
        label, rho_l, _ = classify_trainability(
            float(c.beta), math.sqrt(float(c.alpha_a2)), int(c.depth), int(c.tokens), p0=float(rho0),
            eps=float(self.eps), beta_c=float(self.beta_c), alpha_m=math.sqrt(float(c.alpha_m2)),
            sigma_v2=float(c.sigma_v2), sigma_w2=float(c.sigma_w2))
        return label, rho_l


@functools.lru_cache(maxsize=256)
def predict_trainability(model) -> Trainability:
    return Trainability(cosines=_block_map(model), beta_c=FreezingPointT(model.value("n")),
                        eps=TRAINABILITY_EPS)


@dataclass(frozen=True)
class QKGradients(Prediction):
    """A10 for the model's layer on uncorrelated LN tokens: the normalised query
    Jacobian ``G = |dS/dW_Q|_F^2 / (T d^2 sqrt(log T))``; ``uniform``: below the
    freezing point, the uniform-attention value of noci.uniform-gradients (B3) in the
    input's ``|X|_F^2`` and ``|X^T (I - J) X|_F^2`` (symbols of
    :mod:`theory.companions.noci`); ``frozen``: above it, ``c sigma_v^2 Y`` with the
    measured constant :data:`QK_FROZEN_CONSTANT` and ``Y = (1 - beta_c(T)/beta)_+``."""

    uniform: object
    frozen: object


@functools.lru_cache(maxsize=256)
def predict_qk_gradients(model) -> QKGradients:
    from . import noci
    d, n = to_sympy(model.d), model.value("n")
    beta, sv2 = model_beta(model), model_sigma_v2(model)
    e = noci.uniform_jacobian_expectations(sq=1, sk=sympy.sqrt(d * model.value("sigma_QK2")),
                                           sv=sympy.sqrt(sv2), temperature=sympy.sqrt(d), width=d,
                                           dk=d, dv=d, tokens=n, xbar_sq=1)["Q"]
    norm = n * d ** 2 * sympy.sqrt(sympy.log(n))
    Y = sympy.Max(0, _pd_mean_var(FreezingPointT(n) / beta)[0])
    return QKGradients(uniform=e / norm, frozen=QK_FROZEN_CONSTANT * sv2 * Y)


def _checks_relu_map_grid():
    """Every factor of the ReLU post-LN map increases p, and its slope at p = 1 (a
    one-sided difference of the map, Y = 0) is below 1, on a grid of the five
    hyper-parameters (alpha_A^2, alpha_M^2, sigma_v^2, sigma_w^2 in {0.05, 3}, the
    corners of the range the property tests draw from, sigma_b^2 in {0, 0.9}) at
    beta = 1/2 and 3."""
    import itertools
    worst_inc, worst_slope, h = math.inf, -math.inf, 1e-6
    levels = (0.05, 3.0)
    for a2, m2, sv2, sw2, sb2 in itertools.product(levels, levels, levels, levels, (0.0, 0.9)):
        kw = dict(alpha_a=math.sqrt(a2), alpha_m=math.sqrt(m2), sigma_v2=sv2, sigma_w2=sw2, sigma_b2=sb2)
        for beta in (0.5, 3.0):
            for x in (0.0, 0.3, 0.6, 0.9, 0.99):
                worst_inc = min(worst_inc, block_map_postln(x, beta, 512, **kw) - x)
        worst_slope = max(worst_slope, (1 - block_map_postln(1 - h, 0.5, 512, **kw)) / h)
    grid = {"grid": "2^5 hyper-parameters", "p": [0, 0.3, 0.6, 0.9, 0.99]}
    return [CheckOutcome("ReLU map never decreases p", grid, measured=worst_inc, predicted=">= 0",
                         passed=worst_inc >= -1e-12, tolerance="exact inequality (1e-12)"),
            CheckOutcome("ReLU slope at p = 1 below 1", grid, measured=worst_slope, predicted="< 1",
                         passed=worst_slope < 1, tolerance="exact inequality")]


_COMMON_ASSUMPTIONS = (
    "initialisation: W_Q, W_K entries std sqrt(beta) (log T)^(1/4)/sqrt(d), temperature sqrt(d)",
    "W_V, W_1, W_2 entries variance sigma^2/d; biases variance sigma_b^2",
    "tokens with per-coordinate norm q and overlap p; d large (errors O(d^-1/2))",
)

register(Result(
    id="gg.rem-mapping", title="REM mapping of one attention row", kind="companion",
    source=f"{SOURCE}; docs/derivations.md, section gg.rem-mapping (A1), grade B (derived here, confirmed by simulation)",
    statement="Conditional on the query, the key-specific logits are iid Gaussian with variance "
              "beta_eff^2 log T, beta_eff = beta sqrt(q (q - p)): each attention row is a REM.",
    assumptions=_COMMON_ASSUMPTIONS + ("the REM size is the number of attended keys T",),
    statement_latex=r"s_{ab} = c_a + \beta_{\rm eff}\sqrt{\log T}\, g_b + O(d^{-1/2}),\quad "
                    r"\beta_{\rm eff} = \beta\sqrt{q(q-p)}",
    symbolic_checks=_checks_rem_mapping, empirical_check="gapcheck.numerics.checks.gg_rem_mapping",
    findings=("Open item A1 (authors' BERT code sets the Q/K scale with T = 512 while padded "
              "positions are masked): the checks here use the number of attended keys.",),
    predict=predict_rem_mapping, applies=rem_applies, example=rem_example,
))

register(Result(
    id="gg.freezing", title="Freezing point (entropy collapse) and its finite-T correction",
    kind="companion",
    source=f"{SOURCE}; docs/derivations.md, section gg.freezing (A2), grade C (authors' code), finite-T refinement grade B",
    statement="Attention rows condense at beta_eff = sqrt 2, i.e. beta_c = sqrt(2/(q(q-p))); at finite "
              "T the freezing point is E[max of T N(0,1)]/sqrt(log T), approaching sqrt 2 only like "
              "log log T / log T.",
    assumptions=_COMMON_ASSUMPTIONS,
    statement_latex=r"\beta_c = \sqrt{2/(q(q-p))},\quad \beta_c(T) = "
                    r"\mathbb{E}\max_{b\le T} g_b/\sqrt{\log T}\to\sqrt 2",
    symbolic_checks=_checks_freezing, empirical_check="gapcheck.numerics.checks.gg_freezing",
    predict=predict_freezing, applies=rem_applies, example=rem_example,
))

register(Result(
    id="gg.participation", title="Participation ratio on both sides of the freezing point",
    kind="companion", source=f"{SOURCE}; docs/derivations.md, section gg.participation (A3), grade B (Poisson-Dirichlet weights)",
    statement="Y = sum_b A_ab^2 -> 0 below the freezing point; above it E Y -> 1 - m, m = beta_c/beta_eff, "
              "and Y does not self-average: Var Y -> m(1-m)/3.",
    assumptions=("scalar REM rows, T iid N(0,1) energies", "beta_eff at least 0.3 away from beta_c(T)"),
    statement_latex=r"\mathbb{E}\sum_b A_{ab}^2 \to (1-m)_+,\ \mathrm{Var} \to \tfrac{m(1-m)}{3},"
                    r"\ m = \beta_c/\beta_{\rm eff}",
    symbolic_checks=_checks_participation, empirical_check="gapcheck.numerics.checks.gg_participation",
    predict=predict_participation, applies=rem_applies, example=rem_example,
))

register(Result(
    id="gg.output-moments", title="Attention output moments", kind="companion",
    source=f"{SOURCE}; docs/derivations.md, section gg.output-moments (A4), grade C (authors' code, confirmed)",
    statement="Per coordinate, q_att = sigma_v^2 (p + (q - p) Y) + sigma_b^2 and "
              "p_att = sigma_v^2 p + sigma_b^2; below the freezing point the output is the mean token.",
    assumptions=_COMMON_ASSUMPTIONS + ("beta_eff at least 0.3 away from beta_c(T)",),
    statement_latex=r"q_{\rm att} = \sigma_v^2(p + (q-p)Y) + \sigma_b^2,\quad "
                    r"p_{\rm att} = \sigma_v^2 p + \sigma_b^2",
    symbolic_checks=_checks_output_moments, empirical_check="gapcheck.numerics.checks.gg_output_moments",
    predict=predict_output_moments, applies=rem_applies, example=rem_example,
))

register(Result(
    id="gg.entropy", title="Attention entropy across the freezing point", kind="companion",
    source=f"{SOURCE}; docs/derivations.md, section gg.entropy (A5), grade B; frozen-phase constant psi(1) - psi(1-m) is "
           "gapcheck's own derivation (grade B)",
    statement="H_a / log T -> max(0, 1 - beta_eff^2/2); above the freezing point H_a = O(1), with "
              "E H_a -> psi(1) - psi(1 - m), m = beta_c/beta_eff.",
    assumptions=("scalar REM rows, T iid N(0,1) energies", "beta_eff at least 0.3 away from beta_c(T)"),
    statement_latex=r"\frac{H_a}{\log T}\to\Big(1-\frac{\beta_{\rm eff}^2}{2}\Big)_+,\quad "
                    r"\mathbb{E}H_a\to\psi(1)-\psi(1-m)\ (\beta_{\rm eff}>\sqrt2)",
    symbolic_checks=_checks_entropy, empirical_check="gapcheck.numerics.checks.gg_entropy",
    predict=predict_entropy, applies=rem_applies, example=rem_example,
))

register(Result(
    id="gg.block-map-postln", title="One post-LN block map for the token cosine (ReLU MLP)",
    kind="companion", source=f"{SOURCE}; docs/derivations.md, section gg.block-map-postln (A6), grade C (authors' code, confirmed)",
    statement="Through one post-LN block (attention with skip alpha_A, ReLU MLP with skip alpha_M) "
              "the token overlap follows the A6 map with the arc-cosine kernel and the REM "
              "participation ratio Y(beta sqrt(1 - p)).",
    assumptions=_COMMON_ASSUMPTIONS + ("LN without affine parameters", "finite-T beta_c(T) in Y"),
    statement_latex=r"p' = \frac{p_M + \alpha_M^2 p_0}{q_M + \alpha_M^2},\ "
                    r"p_0 = \frac{\sigma_v^2 p + \sigma_b^2 + \alpha_A^2 p}"
                    r"{\sigma_v^2(p + (1-p)Y) + \sigma_b^2 + \alpha_A^2},\ "
                    r"k(c) = \frac{\sqrt{1-c^2} + c(\pi - \arccos c)}{\pi}",
    symbolic_checks=_checks_block_map_postln,
    empirical_check="gapcheck.numerics.checks.gg_block_map_postln",
    predict=predict_block_cosines, applies=block_applies, example=block_example,
))

register(Result(
    id="gg.block-maps", title="Pre-LN and gain-controlled block maps (gain control = remove the gap)",
    kind="companion", source=f"{SOURCE}; docs/derivations.md, section gg.block-maps (A7), grade C (authors' notebook)",
    statement="Pre-LN keeps an un-normalised stream (q, p) and adds the attention moments of LN(x); "
              "gain-controlled attention ((A - J) X W_V, the core paper's fix) adds (q-p)(Y - 1/T) to "
              "the norm and nothing to the overlap.",
    assumptions=_COMMON_ASSUMPTIONS + ("REM temperature evaluated on LN(x) (A1), see findings",),
    statement_latex=r"\text{pre-LN: } (q,p)\mapsto \alpha^2(q,p) + (\rho + (1-\rho)Y, \rho),\ "
                    r"\rho = p/q;\quad (A-J)XW_V:\ \Delta q = (q-p)(Y - 1/T),\ \Delta p = 0",
    symbolic_checks=_checks_block_maps, empirical_check="gapcheck.numerics.checks.gg_block_maps",
    findings=("Open item A7: the authors' pre-LN notebook evaluates beta_c with the un-normalised "
              "(q, p); the sampled pre-LN network follows the LN(x) version (see the check "
              "'pre-LN: which beta_c').",
              "At alpha_A = alpha_M = 1/2, sigma_v^2 = 2 (beta = 3, T = 128, d = 256, L = 6) the sampled "
              "pre-LN gain-controlled stack leaves the A7 map by 0.16-0.46 in the cosine (root seeds "
              "20241010, 1-4), far beyond the O(sqrt(L/d)) walk budget 0.115; at alpha = 1 it follows it. "
              "The check samples at alpha = 1.",),
    predict=predict_block_cosines, applies=block_maps_applies, example=block_example,
    holds_beyond=("ln_position",),
))

register(Result(
    id="gg.depth-collapse", title="No non-trivial fixed point with ReLU; alpha^2 ~ L depth scaling",
    kind="companion", source=f"{SOURCE}; docs/derivations.md, section gg.depth-collapse (A8), grade B (derived here from A6)",
    statement="Every factor of the ReLU block map increases p, so p = 1 is the only fixed point; its "
              "slope lambda < 1 makes 1 - p decay geometrically, and alpha_A^2, alpha_M^2 ~ L keep "
              "1 - p_L = O(1). A chaotic tanh MLP has a critical skip strength alpha_c.",
    assumptions=_COMMON_ASSUMPTIONS + ("low-variance regime (Y = 0) for the slope",),
    statement_latex=r"\lambda = \frac{\alpha_A^2}{\alpha_A^2+\sigma_v^2+\sigma_b^2}\cdot"
                    r"\frac{\sigma_w^4\mathbb{E}\phi'(u)^2+\alpha_M^2}{q_M+\alpha_M^2},\quad "
                    r"\alpha_{A,c}^2 = \frac{\sigma_v^2+\sigma_b^2}{\chi_M - 1}",
    symbolic_checks=_checks_depth_collapse, empirical_check="gapcheck.numerics.checks.gg_depth_collapse",
    findings=("A value alpha_A,c = 1.342 has been quoted for sigma_w^2 = 4, sigma_v^2 = 1, alpha_M = 0.5; "
              "quadrature gives 1.3401 (the slopes it quotes, 0.963 and 1.034 at 0.95/1.05 alpha_c, "
              "match 1.3401).",),
    predict=predict_depth_collapse, applies=block_applies, example=block_example,
))

register(Result(
    id="gg.trainability", title="Trainability diagram from the block maps", kind="companion",
    source="gapcheck's own claim (grade D; reconstructed from the abstract of Giorlandino & Goldt, "
           "arXiv 2505.24333, and the authors' code; the paper's thresholds are unknown)",
    statement="Iterating the post-LN block map classifies (beta, alpha_A, L) into rank collapse "
              "(1 - p_L < eps), entropy collapse (beta_eff above beta_c(T) at some layer) or trainable; "
              "sampled networks fall in the same cells.",
    assumptions=_COMMON_ASSUMPTIONS + ("eps = 0.05; cells at least 0.3 from beta_c(T) in beta_eff",),
    statement_latex=r"\text{rank collapse: } 1-p_L<\varepsilon;\ \text{entropy collapse: } "
                    r"\exists l:\ \beta\sqrt{1-p_l} > \beta_c(T)",
    empirical_check="gapcheck.numerics.checks.gg_trainability",
    predict=predict_trainability, applies=block_applies, example=block_example,
))

register(Result(
    id="gg.qk-gradients", title="Query gradients switch on at the freezing point", kind="companion",
    source="gapcheck's own claim (grade D; reconstructed from the abstract of Giorlandino & Goldt, "
           "arXiv 2505.24333 'Result 2', and the authors' gradients notebook) with gapcheck's measurement",
    statement="|dS/dW_Q|_F^2 / (T d^2 sqrt(log T)) follows the uniform-attention (Noci B3) value, "
              "O(beta (1/d + 1/T)), below the freezing point and is Theta(1), proportional to the "
              "participation ratio Y(beta), above it.",
    assumptions=_COMMON_ASSUMPTIONS + ("one layer, single head, uncorrelated tokens (p = 0)",),
    statement_latex=r"\frac{\|\partial S/\partial W_Q\|_F^2}{T d^2\sqrt{\log T}} \approx "
                    r"c\, Y(\beta)\ (\beta>\beta_c),\quad \to 0\ (\beta<\beta_c)",
    empirical_check="gapcheck.numerics.checks.gg_qk_gradients",
    predict=predict_qk_gradients, applies=rem_applies, example=rem_example,
))
