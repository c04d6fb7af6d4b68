"""The common interface of the spectral laws, and the algebraic family.

:class:`SpectralLaw` is the interface every law offers (DESIGN.md): exact
moments and S-transforms (sympy), densities at any precision (mpmath, with the
precision set locally by ``mpmath.workdps``), a float vectorised path for
``scipy.stats`` and LaTeX.

:class:`AlgebraicLaw` is the family closed under free multiplicative
convolution that contains Marchenko-Pastur and Fuss-Catalan: laws whose
S-transform is the reciprocal of a polynomial,

    1/S(w) = c * prod_j (1 + a_j w)^(e_j),        c > 0, a_j > 0,

(MP(lam, s2): c = s2, one factor a = lam; FC(p, s2): c = s2^p, a = 1 with
e = p).  With ``Q(w) = (1 + w) prod_j (1 + a_j w)^(e_j)`` (unit scale) the
moment series ``psi(u) = sum_k m_k u^k`` of the unit law solves
``psi = u Q(psi)``; everything follows from this one equation:

* moments by Lagrange inversion: ``m_k = c^k (1/k) [w^(k-1)] Q(w)^k``;
* at ``u = 1/x``: ``x psi = Q(psi)`` (polynomial of degree ``deg Q``), and the
  Stieltjes transform ``m(z) = int rho(t) dt / (t - z)`` is
  ``m = -(1 + psi)/z``;
* the support edges are critical values of ``x(psi) = Q(psi)/psi``;
* the density is ``rho(x) = -Im psi(x) / (pi x)`` on the physical branch;
* the distribution function has the closed form
  ``F(x) = 1 - Im Phi(psi(x)) / pi`` with the primitive
  ``Phi(psi) = (F - 1) psi + sum_j f_j (1 - 1/a_j) log(1 + a_j psi) - log psi``
  (``Q = prod_j (1 + a_j psi)^(f_j)``, ``F = sum_j f_j``), because
  ``G(z) dz = (1 + psi) d log(Q(psi)/psi) = dPhi``.

Root selection (the physical branch).  For ``x`` inside the support the
physical ``psi`` is the root of ``Q(psi) = x psi`` that

1. has ``Im psi < 0``, i.e. ``Im m(x + i0) > 0`` (``m`` maps the upper
   half-plane to itself: ``Im m(x + i eps) = int rho eps / |t - z|^2 > 0``),
   and
2. satisfies the phase identity without wrap-around, with principal
   arguments: ``sum_j f_j arg(1 + a_j psi) - arg(psi) = 0`` (not a nonzero
   multiple of 2 pi).

(2) is the continuation argument made explicit: at the right edge ``psi`` is
real and positive and all arguments vanish; along the support ``psi`` moves
continuously in the lower half-plane (the density is positive there), the
phase difference is continuous and lies in ``2 pi Z``, hence stays 0.  It also
continues to ``m ~ -1/z`` at infinity (``psi -> 0``).  Other roots with
``Im psi < 0`` exist for higher degree (for FC(3) a second complex pair sits
in the lower half-plane at every ``x`` in the support) and carry a phase of
``-2 pi`` or less: taking "the" root with ``Im m > 0`` is ambiguous there,
which is how a Plemelj evaluation can land on the wrong sheet.  The
implementation checks that exactly one root passes both tests and raises
otherwise; the tests compare with the closed forms (MP, QC, FC
parametrisation), with ``mpmath.quad`` masses and moments, and with the
distribution function by quadrature.
"""
from __future__ import annotations

import abc
import math
import numbers
from functools import cached_property

import mpmath
import numpy as np
import sympy

from .. import _validate
from .. import freeprob
from ..symbols import latex as _tex

__all__ = ["SpectralLaw", "AlgebraicLaw"]

_Z, _M, _W = sympy.symbols("z m w")


def _check_dps(dps):
    return _validate.integer("dps", dps, minimum=1)


def _real_number(name, x):
    """An mpmath-convertible real number (not a symbol) or ValueError."""
    if isinstance(x, bool) or (isinstance(x, sympy.Basic) and x.free_symbols):
        raise ValueError(f"{name} must be a real number (got {x!r})")
    try:
        if isinstance(x, sympy.Basic):
            if not x.is_real:
                raise TypeError
            return x
        if isinstance(x, (numbers.Real, mpmath.mpf)):
            if isinstance(x, float) and not math.isfinite(x):
                raise TypeError
            return x
        return mpmath.mpf(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite real number (got {x!r})") from None


def _mp(value):
    """``value`` (sympy or Python number) as an mpf at the current precision."""
    if isinstance(value, sympy.Basic):
        return mpmath.mpmathify(sympy.N(value, mpmath.mp.dps + 10))
    return mpmath.mpmathify(value)


def lower_half_angle(z):
    """Argument of ``z`` taken on the closed lower half-plane, in [-pi, 0].

    The physical root psi(x) of the Stieltjes equation has Im psi < 0; near
    the hard edge at 0 its imaginary part can round to +-0, and ``np.angle``
    then jumps from -pi to +pi (a cdf of 2 instead of 0).  Forcing the sign
    of a vanishing imaginary part keeps the branch.

    >>> float(lower_half_angle(np.array(-1 + 0j)))
    -3.141592653589793
    """
    z = np.asarray(z)
    return np.arctan2(np.where(z.imag < 0, z.imag, -0.0), z.real)



class SpectralLaw(abc.ABC):
    """A probability law on [0, inf) with exact moments and mpmath densities.

    Subclasses provide ``parameters``, ``_moments(K)`` (exact ``[m_1..m_K]``)
    and ``support()``; for densities ``_pdf_<method>(x)`` (mpmath, inside the
    support), ``_cdf_inside``, ``_pdf_numpy_inside``, ``_cdf_numpy_inside``;
    ``atom()`` if the law has mass at 0.  Mean, variance, relative variance,
    free cumulants, S-transform series, validation, support handling, the
    scipy bridge and LaTeX are derived here.
    """

    #: short name used in ``repr`` and LaTeX
    name = "law"

    # ---------------------------------------------------------- parameters
    @property
    @abc.abstractmethod
    def parameters(self) -> dict:
        """The law's parameters (sympy), by name."""

    @property
    def is_symbolic(self) -> bool:
        """True when a parameter is a sympy expression with free symbols."""
        return any(isinstance(v, sympy.Basic) and v.free_symbols
                   for v in self.parameters.values())

    def __repr__(self):
        args = ", ".join(f"{k}={v}" for k, v in self.parameters.items())
        return f"{type(self).__name__}({args})"

    def _require_numeric(self, what):
        if self.is_symbolic:
            raise ValueError(f"{what} needs numeric parameters (got {self!r}); "
                             "substitute numbers for the symbols first")

    # ---------------------------------------------------------- moments
    @abc.abstractmethod
    def _moments(self, K):
        """Exact ``[m_1, ..., m_K]``."""

    def moments(self, K) -> list:
        """Exact moments ``[m_1, ..., m_K]`` (sympy)."""
        K = _validate.integer("K", K, minimum=0)
        cache = self.__dict__.setdefault("_moment_cache", [])
        if len(cache) < K:
            cache[:] = self._moments(K)
        return list(cache[:K])

    def moment(self, k):
        """Exact k-th moment ``E[x^k]`` (sympy; ``k = 0`` gives 1)."""
        k = _validate.integer("k", k, minimum=0)
        return sympy.Integer(1) if k == 0 else self.moments(k)[-1]

    def mean(self):
        """Exact mean (the first moment)."""
        return self.moment(1)

    def variance(self):
        """Exact variance ``m_2 - m_1^2``, derived from the moments."""
        m1, m2 = self.moments(2)
        return sympy.factor(sympy.expand(m2 - m1**2))

    def relative_variance(self):
        """``variance / mean^2``: additive under free multiplicative convolution."""
        return sympy.simplify(self.variance() / self.mean()**2)

    def free_cumulants(self, K):
        """Free cumulants ``[kappa_1..kappa_K]`` (moment-cumulant recursion)."""
        return freeprob.free_cumulants_from_moments(self.moments(K))

    # ---------------------------------------------------------- transforms
    def s_series(self, K):
        """First ``K`` coefficients of the S-transform (series reversion)."""
        return freeprob.s_transform_from_moments(self.moments(K))

    def s_transform(self, z=None, order=None):
        """S-transform at ``z`` (a sympy expression).  Laws without a closed form
        return the series to ``O(z^order)`` (default order 6)."""
        z = _Z if z is None else z
        order = 6 if order is None else _validate.integer("order", order, minimum=1)
        coeffs = self.s_series(order)
        return sum(c * z**j for j, c in enumerate(coeffs)) + sympy.O(z**order)

    def stieltjes_polynomial(self, z=None, m=None):
        """``P(z, m)`` with ``P(z, m(z)) = 0``; laws without one raise ValueError."""
        raise ValueError(f"{self!r} has no known algebraic equation for its Stieltjes transform")

    def atom(self):
        """Mass of the atom at 0 (exact); 0 for laws without one."""
        return sympy.Integer(0)

    @abc.abstractmethod
    def support(self):
        """Exact endpoints ``(a, b)`` of the support (of the continuous part)."""

    def _support_mp(self):
        cache = self.__dict__.setdefault("_support_mp_cache", {})
        prec = mpmath.mp.prec
        if prec not in cache:
            a, b = self.support()
            cache[prec] = (_mp(a), _mp(b))
        return cache[prec]

    def _support_float(self):
        cache = self.__dict__.get("_support_float_cache")
        if cache is None:
            a, b = self.support()
            cache = self.__dict__["_support_float_cache"] = (float(a), float(b))
        return cache

    # ---------------------------------------------------------- densities
    #: names of the density evaluations this law has, "auto" picks the first
    _pdf_methods = ()

    def pdf(self, x, dps=30, method="auto"):
        """Density at ``x`` (mpmath number at ``dps`` digits).

        ``method``: ``"auto"`` (the closed form where one exists),
        ``"closed"`` or ``"stieltjes"`` (physical root of the algebraic
        equation).  Outside the support the density is 0 (no error).  For a law
        with an atom at 0 this is the density of the continuous part.
        """
        dps = _check_dps(dps)
        x = _real_number("x", x)
        if not self._pdf_methods:
            raise ValueError(f"{self!r} has no density evaluation")
        if method == "auto":
            method = self._pdf_methods[0]
        _validate.one_of("method", method, self._pdf_methods)
        self._require_numeric("pdf")
        with mpmath.workdps(dps + 10):
            xm = _mp(x)
            a, b = self._support_mp()
            if not (a < xm < b):
                val = mpmath.mpf(0)
            else:
                val = getattr(self, f"_pdf_{method}")(xm)
        with mpmath.workdps(dps):
            return +val

    def cdf(self, x, dps=30):
        """Distribution function ``P(X <= x)`` at ``dps`` digits (includes the
        atom at 0, if any)."""
        dps = _check_dps(dps)
        x = _real_number("x", x)
        self._require_numeric("cdf")
        with mpmath.workdps(dps + 10):
            xm = _mp(x)
            a, b = self._support_mp()
            if xm < 0:
                val = mpmath.mpf(0)
            elif xm >= b:
                val = mpmath.mpf(1)
            elif xm <= a:
                val = _mp(self.atom())
            else:
                val = self._cdf_inside(xm)
        with mpmath.workdps(dps):
            return +val

    # generic fallbacks (subclasses override with closed forms / batched code)
    def _cdf_inside(self, x):
        """``atom + int_a^x pdf`` by tanh-sinh quadrature, with ``t = a + (x - a) s^6``
        so that an integrable power singularity at ``a`` does not lose mass."""
        a, _ = self._support_mp()
        method = getattr(self, f"_pdf_{self._pdf_methods[0]}")
        return _mp(self.atom()) + mpmath.quad(
            lambda s: method(a + (x - a) * s**6) * 6 * (x - a) * s**5 if s > 0 else 0, [0, 1])

    def _pdf_numpy_inside(self, x):
        with mpmath.workdps(20):
            return np.array([float(self.pdf(v, dps=20)) for v in x])

    def _cdf_numpy_inside(self, x):
        with mpmath.workdps(20):
            return np.array([float(self.cdf(v, dps=20)) for v in x])

    def pdf_numpy(self, x):
        """Float density, vectorised over ``x`` (0 outside the support)."""
        self._require_numeric("pdf_numpy")
        x = np.asarray(x, dtype=float)
        a, b = self._support_float()
        out = np.zeros(x.shape)
        inside = (x > a) & (x < b)
        if inside.any():
            out[inside] = self._pdf_numpy_inside(x[inside])
        return out

    def cdf_numpy(self, x):
        """Float distribution function, vectorised (usable by
        ``scipy.stats.kstest(samples, law.cdf_numpy)``)."""
        self._require_numeric("cdf_numpy")
        x = np.asarray(x, dtype=float)
        a, b = self._support_float()
        out = np.where(x >= b, 1.0, 0.0)
        out = np.where((x >= 0) & (x <= a), float(self.atom()), out)
        inside = (x > a) & (x < b)
        if inside.any():
            out[inside] = self._cdf_numpy_inside(x[inside])
        return out

    def to_scipy(self):
        """A ``scipy.stats`` random variable for this law.

        Built with ``scipy.stats.make_distribution`` (SciPy >= 1.15), the new
        distribution infrastructure, from an object exposing ``support``,
        ``pdf``, ``cdf`` and the exact moments; it therefore gets ``mean``,
        ``variance``, ``sample`` (by numerical inversion), ``logpdf`` etc.
        Chosen over ``rv_continuous`` because it needs no subclassing and
        takes the exact moments as overrides.  Laws with an atom (MP with
        ratio > 1) are not continuous: use ``cdf_numpy`` with ``kstest``.

        >>> from gapcheck.theory.laws import MarchenkoPastur
        >>> X = MarchenkoPastur(1).to_scipy()
        >>> round(float(X.mean()), 12), round(float(X.variance()), 12)
        (1.0, 1.0)
        """
        self._require_numeric("to_scipy")
        if self.atom() != 0:
            raise ValueError(f"to_scipy: {self!r} has an atom at 0 of mass {self.atom()}; "
                             "only laws without atoms are continuous distributions "
                             "(use law.cdf_numpy with scipy.stats.kstest)")
        from scipy import stats

        law = self
        a, b = self._support_float()
        m = [float(v) for v in self.moments(4)]

        class _Law:
            __make_distribution_version__ = "1.16.0"
            parameters = ()
            support = (a, b)

            def pdf(self, x):
                return law.pdf_numpy(x)

            def cdf(self, x):
                return law.cdf_numpy(x)

            def moment(self, order, kind="raw"):
                if kind == "raw" and order in (1, 2, 3, 4):
                    return m[int(order) - 1]
                return None

        _Law.__name__ = type(self).__name__
        return stats.make_distribution(_Law())()

    # ---------------------------------------------------------- LaTeX
    def _latex_moments(self):
        k = sympy.Symbol("k")
        return r"m_k = " + _tex(self.moment_formula(k))

    def latex(self, what="density"):
        """LaTeX for ``what`` in ``"density"``, ``"moments"``, ``"s_transform"``,
        ``"equation"``, ``"support"``, ``"mean"``, ``"variance"``."""
        _validate.one_of("what", what, ("density", "moments", "s_transform", "equation",
                                        "support", "mean", "variance"))
        if what == "moments":
            return self._latex_moments()
        if what == "s_transform":
            return r"S(z) = " + _tex(self.s_transform(_Z))
        if what == "equation":
            return _tex(sympy.Eq(self.stieltjes_polynomial(_Z, _M), 0))
        if what == "support":
            a, b = self.support()
            return r"\operatorname{supp} = " + _tex(sympy.Interval(a, b))
        if what == "mean":
            return r"\mathbb{E}[x] = " + _tex(self.mean())
        if what == "variance":
            return r"\operatorname{Var}[x] = " + _tex(self.variance())
        return self._latex_density()


class AlgebraicLaw(SpectralLaw):
    """A law with ``1/S(w) = c prod_j (1 + a_j w)^(e_j)`` (see the module
    docstring for the equations, the root selection and the closed-form cdf).

    Not usually built directly: :class:`MarchenkoPastur`, :class:`FussCatalan`
    and :func:`free_product` of those return instances.
    """

    name = "algebraic law"
    _pdf_methods = ("stieltjes",)

    def __init__(self, factors, scale):
        # factors: {a: e}, a sympy positive, e int >= 1
        merged = {}
        for a, e in factors:
            a = _validate.to_sympy(a)
            merged[a] = merged.get(a, 0) + int(e)
        self._factors = tuple(sorted(merged.items(), key=lambda t: sympy.default_sort_key(t[0])))
        self._scale = _validate.to_sympy(scale)

    # ------------------------------------------------------- structure
    @property
    def parameters(self):
        return {"scale": self._scale,
                "factors": tuple((a, e) for a, e in self._factors)}

    @property
    def is_symbolic(self):
        return bool(self._scale.free_symbols) or any(a.free_symbols for a, _ in self._factors)

    @property
    def scale(self):
        """The scale ``c``: the law is ``c`` times its unit-scale version."""
        return self._scale

    @cached_property
    def _q_factors(self):
        """``Q(w) = prod_j (1 + a_j w)^(f_j)``: the factors with ``(1 + w)`` folded in."""
        f = dict(self._factors)
        f[sympy.Integer(1)] = f.get(sympy.Integer(1), 0) + 1
        return tuple(f.items())

    def q_polynomial(self, w=None):
        """``Q(w) = (1 + w) c^(-1)/S(w)``, the polynomial behind everything (unit scale)."""
        w = _W if w is None else w
        return sympy.Mul(*[(1 + a * w)**f for a, f in self._q_factors])

    @cached_property
    def _q_coeffs(self):
        return sympy.Poly(sympy.expand(self.q_polynomial(_W)), _W).all_coeffs()[::-1]

    # ------------------------------------------------------- exact side
    def _moments(self, K):
        unit = freeprob.moments_from_lagrange(self._q_coeffs, K)
        c = self._scale
        return [sympy.expand(c**k * m) for k, m in enumerate(unit, start=1)]

    def s_transform(self, z=None, order=None):
        """Exact S-transform ``1 / (c prod_j (1 + a_j z)^(e_j))`` (a series to
        ``O(z^order)`` if ``order`` is given)."""
        z = _Z if z is None else z
        expr = 1 / (self._scale * sympy.Mul(*[(1 + a * z)**e for a, e in self._factors]))
        if order is not None:
            order = _validate.integer("order", order, minimum=1)
            return sympy.series(expr, z, 0, order)
        return expr

    def stieltjes_polynomial(self, z=None, m=None):
        """``P(z, m)`` with ``P(z, m(z)) = 0`` for the Stieltjes transform
        ``m(z) = int rho(t) dt / (t - z)``: from ``z psi = c Q(psi)`` with
        ``psi = -1 - z m`` (divided by ``-z``).

        >>> from gapcheck.theory.laws import MarchenkoPastur
        >>> MarchenkoPastur(1).stieltjes_polynomial()
        m**2*z + m*z + 1
        """
        z = _Z if z is None else z
        m = _M if m is None else m
        psi = -1 - z * m
        r = self._scale * sympy.Mul(*[(1 + a * psi)**e for a, e in self._factors])
        return sympy.expand(-(m * r - (1 + z * m)))

    def atom(self):
        """Mass at 0: ``max(0, 1 - 1/max_j a_j)`` (the physical psi tends to
        ``-1/max_j a_j`` as x -> 0+)."""
        a_max = sympy.Max(1, *[a for a, _ in self._factors])
        return sympy.Max(0, 1 - 1 / a_max) if a_max.free_symbols else 1 - 1 / a_max

    def _support_from_equation(self):
        """Support edges as critical values of ``x(psi) = c Q(psi)/psi``: the
        right edge from the positive critical point, the left edge from the
        largest critical point at or below ``-1/max a_j`` (exact algebraic
        numbers, ``CRootOf`` beyond degree 4)."""
        if any(a.free_symbols for a, _ in self._factors):
            raise ValueError(f"support of {self!r} needs numeric ratios "
                             "(the edges are roots of a polynomial in psi)")
        w = _W
        exact = [(sympy.nsimplify(a, rational=True) if a.is_Float else a, f)
                 for a, f in self._q_factors]
        q = sympy.Mul(*[(1 + a * w)**f for a, f in exact])
        crit = sympy.Poly(sympy.expand(w * sympy.diff(q, w) - q), w)
        roots = sympy.real_roots(crit)
        a_max = max(a for a, _ in exact)
        pos = [r for r in roots if r > 0]
        neg = [r for r in roots if r <= -1 / a_max]
        x_of = lambda r: sympy.nsimplify(sympy.radsimp(q.subs(w, r) / r)) if not isinstance(
            r, sympy.CRootOf) else q.subs(w, r) / r
        right = x_of(max(pos))
        left = sympy.Integer(0) if not neg else x_of(max(neg))
        if left != 0 and left.is_zero:
            left = sympy.Integer(0)
        c = self._scale

        def tidy(e):
            return sympy.expand(e) if e.has(sympy.CRootOf) else sympy.simplify(e)
        lo, hi = tidy(c * left), tidy(c * right)
        if any(a.is_Float for a, _ in self._factors) or self._scale.is_Float:
            lo, hi = sympy.Float(sympy.N(lo, 30)), sympy.Float(sympy.N(hi, 30))
        return lo, hi

    def support(self):
        """Exact endpoints ``(a, b)`` of the support of the continuous part."""
        cache = self.__dict__.get("_support_cache")
        if cache is None:
            cache = self.__dict__["_support_cache"] = self._support_from_equation()
        return cache

    # ------------------------------------------------------- mpmath side
    def _mp_factors(self):
        cache = self.__dict__.setdefault("_mp_factor_cache", {})
        prec = mpmath.mp.prec
        if prec not in cache:
            cache[prec] = [(_mp(a), f) for a, f in self._q_factors]
        return cache[prec]

    def _phase(self, psi, factors):
        return sum(f * mpmath.arg(1 + a * psi) for a, f in factors) - mpmath.arg(psi)

    def _physical_psi(self, xu):
        """Physical root of ``Q(psi) = xu psi`` for ``xu`` inside the unit-scale
        support (see the module docstring for the selection rule).

        Fast path: the float root (same selection rule) polished by Newton at
        the working precision, accepted only if it still passes both tests;
        otherwise all roots by ``mpmath.polyroots`` and the selection rule."""
        factors = self._mp_factors()
        q = [mpmath.mpf(1)]
        for a, f in factors:
            for _ in range(f):
                q = [c0 + a * c1 for c0, c1 in zip(q + [0], [0] + q)]
        q[1] -= xu
        tol = mpmath.mpf(10) ** (-mpmath.mp.dps // 2)
        if 1e-300 < xu < 1e300:
            psi = mpmath.mpc(complex(self._psi_numpy(np.array([float(xu)]))[0]))
            for _ in range(100):
                val, der = mpmath.polyval(q[::-1], psi, derivative=True)
                step = val / der
                psi -= step
                if abs(step) <= 4 * mpmath.eps * abs(psi):
                    break
            else:
                psi = None
            if (psi is not None and mpmath.im(psi) < 0
                    and abs(self._phase(psi, factors)) < tol):
                return psi
        roots = mpmath.polyroots(q[::-1], maxsteps=400, extraprec=2 * mpmath.mp.prec)
        good = [r for r in roots
                if mpmath.im(r) < 0 and abs(self._phase(r, factors)) < tol]
        if len(good) != 1:
            raise ArithmeticError(f"{self!r}: {len(good)} roots pass the physical-branch test "
                                  f"at x = {xu} (expected exactly 1)")
        return good[0]

    def _pdf_stieltjes(self, x):
        c = _mp(self._scale)
        xu = x / c
        psi = self._physical_psi(xu)
        return -mpmath.im(psi) / (mpmath.pi * xu) / c

    def _phi_im(self, psi, factors):
        F = sum(f for _, f in factors)
        val = (F - 1) * psi - mpmath.log(psi)
        for a, f in factors:
            val += f * (1 - 1 / a) * mpmath.log(1 + a * psi)
        return mpmath.im(val)

    def _cdf_inside(self, x):
        c = _mp(self._scale)
        psi = self._physical_psi(x / c)
        return 1 - self._phi_im(psi, self._mp_factors()) / mpmath.pi

    # ------------------------------------------------------- numpy side
    @cached_property
    def _np_factors(self):
        return [(float(a), f) for a, f in self._q_factors]

    def _psi_numpy(self, xu):
        """Physical roots for an array of unit-scale points, batched: companion
        eigenvalues, the same selection rule as :meth:`_physical_psi`, then two
        Newton steps."""
        factors = self._np_factors
        q = np.array([1.0])
        for a, f in factors:
            for _ in range(f):
                q = np.convolve(q, [1.0, a])          # ascending powers
        D = len(q) - 1
        lead = q[-1]
        n = xu.size
        comp = np.zeros((n, D, D))
        comp[:, 1:, :-1] = np.eye(D - 1)
        coeffs = np.broadcast_to(q[:-1] / lead, (n, D)).copy()
        coeffs[:, 1] -= xu / lead
        comp[:, :, -1] = -coeffs
        roots = np.linalg.eigvals(comp)
        phase = -np.angle(roots)
        for a, f in factors:
            phase = phase + f * np.angle(1 + a * roots)
        score = np.where(roots.imag < 0, np.abs(phase), np.inf)
        psi = roots[np.arange(n), np.argmin(score, axis=1)]
        dq = np.arange(1, D + 1) * q[1:]
        for _ in range(2):
            p = np.polynomial.polynomial.polyval(psi, q) - xu * psi
            dp = np.polynomial.polynomial.polyval(psi, dq) - xu
            ok = np.abs(dp) > 0
            psi = np.where(ok, psi - p / np.where(ok, dp, 1.0), psi)
        return psi

    def _pdf_numpy_inside(self, x):
        c = float(self._scale)
        xu = x / c
        return -self._psi_numpy(xu).imag / (np.pi * xu) / c

    def _cdf_numpy_inside(self, x):
        c = float(self._scale)
        psi = self._psi_numpy(x / c)
        factors = self._np_factors
        F = sum(f for _, f in factors)
        im = (F - 1) * psi.imag - lower_half_angle(psi)
        for a, f in factors:
            im = im + f * (1 - 1 / a) * lower_half_angle(1 + a * psi)
        return np.clip(1 - im / np.pi, float(self.atom()), 1.0)

    # ------------------------------------------------------- LaTeX
    def _latex_moments(self):
        if hasattr(self, "moment_formula"):
            return SpectralLaw._latex_moments(self)
        w = sympy.Symbol("w")
        c = "" if self._scale == 1 else rf"\left({_tex(self._scale)}\right)^k"
        return (rf"m_k = \frac{{{c or 1}}}{{k}}\,[w^{{k-1}}]\left({_tex(self.q_polynomial(w))}"
                r"\right)^{k}")

    def _latex_density(self):
        w = sympy.Symbol(r"\psi")
        c = "" if self._scale == 1 else _tex(self._scale) + r"\,"
        return (r"\rho(x) = -\frac{\operatorname{Im}\psi(x)}{\pi x},\quad "
                rf"x\,\psi = {c}{_tex(self.q_polynomial(w))}")
