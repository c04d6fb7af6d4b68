r"""Key-query bulk law KQ(gamma, linear, nonlinear): linear-plus-noise singular values.

The limiting law of the singular values of ``sqrt(n)(A - 11^T/n)`` for
first-layer key-query softmax attention (``docs/derivations/key_query_bulk.md``):
the singular values of ``L + N`` where

* ``L = Q K^T / sqrt(n d_k)`` is the *linear* part, ``Q, K`` independent
  ``n x d_k`` Gaussian matrices, ``n/d_k = gamma``: its squared singular values
  follow ``linear * MP(1) boxtimes MP(gamma)`` (a free product the package
  already has, :func:`theory.laws.free_product`; at ``gamma = 1`` it is
  ``FC(2)`` with variance ``sqrt(linear)``);
* ``N`` is the *nonlinear* part, asymptotically an i.i.d. (circular) matrix
  with entries of variance ``nonlinear/n``, free from ``L``.

Both parts are R-diagonal, so the symmetrised singular-value law of the sum is
the free additive convolution of the symmetrised laws (Haagerup-Larsen):
``sym(L + N) = sym(L) boxplus SC(nonlinear)``.  The R-transform of the
symmetrised law is therefore (``v = linear``, ``s2 = nonlinear``)

    R(g) = v g / (1 - gamma v g^2) + s2 g,

its free cumulants are ``kappa_2 = v + s2``, ``kappa_(2k) = v (gamma v)^(k-1)``
(k >= 2), odd ones 0, and its Cauchy transform ``g = G(z)`` solves the quartic
(from ``z = R(g) + 1/g``)

    -s2 gamma v g^4 + z gamma v g^3 + ((1 - gamma) v + s2) g^2 - z g + 1 = 0,

equivalently the subordination equation ``g = G_L(z - s2 g)`` with ``G_L`` the
Cauchy transform of the symmetrised linear part.  The singular-value density is
``rho(x) = -2 Im G(x + i0) / pi`` on ``(0, b)``; the right edge ``b = z(g*)``
where ``g*^2 = u*`` is the smallest positive root of the cubic
``dz/dg = 0``:

    -(1 - gamma v u)^2 + v u (1 + gamma v u) + s2 u (1 - gamma v u)^2 = 0.

Special cases: ``gamma = 0`` gives ``QC(v + s2)`` (the Random Markov
quarter-circle), ``s2 = 0, gamma = 1`` gives the singular values of ``FC(2)``
(edge ``sqrt(27/4) v^(1/2)``).

Moments.  The even moments ``m_(2k)`` are exact (moment-cumulant recursion of
:mod:`theory.freeprob` on the cumulants above; they are the moments of the
squared singular values).  The odd moments have no closed form: for numeric
parameters they are ``sympy.Float`` values of ``int x^k rho`` (mpmath
quadrature at 30 digits); for symbolic parameters only even moments are
available (:meth:`even_moments`).

Densities, two independent evaluations (``method=``):

``"stieltjes"``
    the physical root of the quartic at ``x + i0`` (continued from
    ``G(z) ~ 1/z`` at ``z = x + i Y``, ``Y`` large, down the vertical line,
    then polished by Newton at the working precision);
``"subordination"``
    the fixed point ``omega = x - s2 G_L(omega)`` in the upper half-plane, with
    ``G_L(omega) = omega int rho_nu(t) dt / (omega^2 - t)`` computed by
    quadrature of the density of ``nu = linear * MP(1) boxtimes MP(gamma)``
    (the package's :class:`~theory.laws.base.AlgebraicLaw`), never using the
    quartic.

The edge has the same two routes (:meth:`edge`): the critical point of the
cubic, and Biane's condition ``-s2 G_L'(omega) = 1`` at real
``omega`` outside the linear support (``x = omega + s2 G_L(omega)``).

>>> law = KeyQueryBulk(1, 1, sympy.Rational(1, 2))
>>> law.free_cumulants_symmetric(6)
[0, 3/2, 0, 1, 0, 1]
>>> law.even_moments(3)                 # m_2, m_4, m_6
[3/2, 11/2, 215/8]
>>> round(float(law.support()[1]), 12)
2.881349107989
"""
from __future__ import annotations

from functools import cached_property

import mpmath
import numpy as np
import sympy

from .. import _validate
from .. import freeprob
from .base import SpectralLaw, _mp

__all__ = ["KeyQueryBulk"]

_G, _Z, _U = sympy.symbols("g z u")


class KeyQueryBulk(SpectralLaw):
    """KQ(gamma, linear, nonlinear): singular values of ``L + N`` (module docstring).

    ``gamma`` in ``[0, 1]`` (``n / d_k``), ``linear > 0`` (variance of the
    linear part, ``sigma_QK^4`` for attention), ``nonlinear >= 0`` (variance of
    the i.i.d. part).  The second moment is ``linear + nonlinear``.
    """

    name = "key-query bulk"
    _pdf_methods = ("stieltjes", "subordination")

    def __init__(self, gamma, linear, nonlinear):
        _validate.in_interval("gamma", gamma, 0, 1, lo_open=False)
        _validate.positive("linear", linear)
        _validate.nonnegative("nonlinear", nonlinear)
        self.gamma = _validate.to_sympy(gamma)
        self.linear = _validate.to_sympy(linear)
        self.nonlinear = _validate.to_sympy(nonlinear)

    @property
    def parameters(self):
        return {"gamma": self.gamma, "linear": self.linear, "nonlinear": self.nonlinear}

    # ------------------------------------------------------------ parts
    def linear_square_law(self):
        """The law ``linear * MP(1) boxtimes MP(gamma)`` of the squared singular
        values of the linear part (an :class:`AlgebraicLaw`)."""
        from .free_product import free_product
        from .marchenko_pastur import MarchenkoPastur
        if self.gamma == 0:
            return MarchenkoPastur(1, self.linear)
        return free_product(MarchenkoPastur(1, self.linear), MarchenkoPastur(self.gamma))

    def swapped(self):
        """The same law with the linear and nonlinear variances exchanged (a
        negative control; needs ``nonlinear > 0``)."""
        return KeyQueryBulk(self.gamma, self.nonlinear, self.linear)

    # ------------------------------------------------------------ exact side
    @staticmethod
    def linear_r_transform(g=None, gamma=None, linear=None):
        """R-transform of the symmetrised linear part, *derived* from the
        Stieltjes equation ``w psi = v Q(psi)``, ``Q = (1 + psi)^2 (1 + gamma psi)``
        of ``v MP(1) boxtimes MP(gamma)``: with ``G_sym(zeta) = zeta G_nu(zeta^2)``
        and ``G_nu(w) = (1 + psi)/w``, solve for ``zeta = K(g)`` and return
        ``K(g) - 1/g``.

        >>> KeyQueryBulk.linear_r_transform()
        -g*v/(g**2*gamma*v - 1)
        """
        g = _G if g is None else g
        gam = sympy.Symbol("gamma", positive=True) if gamma is None else gamma
        v = sympy.Symbol("v", positive=True) if linear is None else linear
        psi, zeta = sympy.symbols("psi zeta")
        q = (1 + psi)**2 * (1 + gam * psi)
        # zeta^2 psi = v Q(psi) with zeta = (1 + psi)/g
        eq = sympy.numer(sympy.together((((1 + psi) / g)**2 * psi - v * q) / (1 + psi)**2))
        sols = [s for s in sympy.solve(eq, psi) if sympy.limit(s, g, 0) == 0]
        if len(sols) != 1:
            raise ArithmeticError(f"linear_r_transform: {len(sols)} branches with psi -> 0")
        K = (1 + sols[0]) / g
        return sympy.simplify(sympy.cancel(K - 1 / g))

    def r_transform(self, g=None):
        """R-transform of the symmetrised law: linear part plus semicircle."""
        g = _G if g is None else g
        return self.linear_r_transform(g, self.gamma, self.linear) + self.nonlinear * g

    def free_cumulants_symmetric(self, K):
        """Free cumulants ``[kappa_1..kappa_K]`` of the symmetrised law, the
        Taylor coefficients of ``R(g) = sum kappa_(k+1) g^k``."""
        K = _validate.integer("K", K, minimum=1)
        ser = sympy.series(self.r_transform(_G), _G, 0, K).removeO()
        return [sympy.expand(ser.coeff(_G, k - 1)) for k in range(1, K + 1)]

    def symmetric_moments(self, K):
        """Exact moments ``[m_1..m_K]`` of the symmetrised law (odd ones 0)."""
        K = _validate.integer("K", K, minimum=1)
        return [sympy.expand(m) for m in
                freeprob.moments_from_free_cumulants(self.free_cumulants_symmetric(K))]

    def even_moments(self, K):
        """Exact ``[m_2, m_4, ..., m_(2K)]``: the moments of the squared
        singular values."""
        K = _validate.integer("K", K, minimum=1)
        return self.symmetric_moments(2 * K)[1::2]

    def _moments(self, K):
        even = self.even_moments(max(1, K // 2))
        out = []
        for k in range(1, K + 1):
            if k % 2 == 0:
                out.append(even[k // 2 - 1])
            else:
                out.append(self._odd_moment(k))
        return out

    def _odd_moment(self, k):
        if self.is_symbolic:
            raise ValueError(f"odd moment {k} of {self!r} has no closed form: it needs numeric "
                             "parameters (even_moments(K) is exact for symbolic ones)")
        with mpmath.workdps(30):
            _, b = self._support_mp()
            val = mpmath.quad(lambda x: x**k * self._pdf_stieltjes(x), self._nodes(b))
        return sympy.Float(val, 30)

    def cauchy_polynomial(self, z=None, g=None):
        """``P(z, g)`` with ``P(z, G(z)) = 0`` for the Cauchy transform
        ``G(z) = int d sym(t) / (z - t)`` of the symmetrised law
        (numerator of ``z - R(g) - 1/g``: ``-s2 gamma v g^4 + z gamma v g^3 + ...``).

        >>> KeyQueryBulk(1, 1, 1).cauchy_polynomial()
        -g**4 + g**3*z + g**2 - g*z + 1
        """
        z = _Z if z is None else z
        g = _G if g is None else g
        return sympy.expand(sympy.numer(sympy.together(z - self.r_transform(g) - 1 / g)))

    def edge_cubic(self, u=None):
        """The cubic in ``u = g^2`` whose smallest positive root is the edge's
        ``g*^2`` (numerator of ``dz/dg`` for ``z = R(g) + 1/g``)."""
        u = _U if u is None else u
        g = sympy.Symbol("g", positive=True)
        dz = sympy.diff(self.r_transform(g) + 1 / g, g)
        num = sympy.numer(sympy.together(dz))
        return sympy.expand(sympy.expand(num).subs(g, sympy.sqrt(u)))

    def stieltjes_polynomial(self, z=None, m=None):
        """Not available for the singular values themselves (the symmetrised
        law has one: :meth:`cauchy_polynomial`)."""
        raise ValueError("KeyQueryBulk: the singular-value law's Stieltjes transform is not "
                         "algebraic; its symmetrisation's Cauchy transform solves "
                         "law.cauchy_polynomial()")

    # ------------------------------------------------------------ support
    def _edge_u(self):
        """``u* = g*^2`` at the working precision (mpmath roots of the cubic)."""
        gam, v, s2 = _mp(self.gamma), _mp(self.linear), _mp(self.nonlinear)
        # cubic coefficients (descending in u), expanded by hand from the docstring's cubic
        # and checked against edge_cubic() by the tests
        a = gam * v
        coeffs = [s2 * a**2, -(a**2) + v * a - 2 * s2 * a, 2 * a + v + s2, -1]
        while coeffs and coeffs[0] == 0:
            coeffs = coeffs[1:]
        roots = mpmath.polyroots(coeffs, maxsteps=400, extraprec=4 * mpmath.mp.prec)
        tol = mpmath.mpf(10) ** (-mpmath.mp.dps // 2)
        good = [mpmath.re(r) for r in roots if abs(mpmath.im(r)) < tol and mpmath.re(r) > 0
                and (a == 0 or a * mpmath.re(r) < 1)]
        if not good:
            raise ArithmeticError(f"{self!r}: no admissible critical point of z(g)")
        return min(good)

    def edge(self, dps=30, method="cubic"):
        """Right edge of the support at ``dps`` digits: ``"cubic"`` (critical
        point of ``z(g)``) or ``"biane"`` (``-s2 G_L'(omega) = 1`` at real omega,
        by quadrature of the linear part's density; needs ``nonlinear > 0``)."""
        dps = _validate.integer("dps", dps, minimum=1)
        _validate.one_of("method", method, ("cubic", "biane"))
        self._require_numeric("edge")
        with mpmath.workdps(dps + 10):
            if method == "cubic":
                u = self._edge_u()
                g = mpmath.sqrt(u)
                gam, v, s2 = _mp(self.gamma), _mp(self.linear), _mp(self.nonlinear)
                val = 1 / g + v * g / (1 - gam * v * g**2) + s2 * g
            else:
                val = self._edge_biane()
        with mpmath.workdps(dps):
            return +val

    def support(self):
        """``(0, b)``; ``b`` as a 40-digit Float (an algebraic number of degree
        up to 6 in general)."""
        self._require_numeric("support")
        cache = self.__dict__.get("_support_cache")
        if cache is None:
            cache = self.__dict__["_support_cache"] = (
                sympy.Integer(0), sympy.Float(self.edge(dps=40), 40))
        return cache

    # ------------------------------------------------------------ mpmath side
    def _nodes(self, b):
        return [0, b / 4, b / 2, 3 * b / 4, b]

    def _quartic_mp(self, z):
        """Coefficients of the quartic in g, descending (z complex or real)."""
        gam, v, s2 = _mp(self.gamma), _mp(self.linear), _mp(self.nonlinear)
        return [-s2 * gam * v, z * gam * v, (1 - gam) * v + s2, -z, mpmath.mpf(1)]

    def _g_stieltjes(self, x):
        """Physical ``G(x + i0)`` (Im <= 0): float continuation, Newton at the
        working precision, and the nearest of the quartic's roots (mpmath)."""
        seed = complex(self._g_numpy(np.array([float(x)]))[0])
        c = self._quartic_mp(x)
        while c and c[0] == 0:
            c = c[1:]
        g = mpmath.mpc(seed)
        for _ in range(200):
            val, der = mpmath.polyval(c, g, derivative=True)
            step = val / der
            g -= step
            if abs(step) <= 8 * mpmath.eps * abs(g):
                break
        roots = mpmath.polyroots(c, maxsteps=400, extraprec=4 * mpmath.mp.prec)
        near = min(roots, key=lambda r: abs(r - g))
        if abs(near - g) > 1e-6 * abs(g):
            raise ArithmeticError(f"{self!r}: continued root is not a root at x = {x}")
        # next to the edge the physical root and its conjugate merge: keep Im <= 0
        return mpmath.conj(near) if mpmath.im(near) > 0 else near

    def _pdf_stieltjes(self, x):
        return -2 * mpmath.im(self._g_stieltjes(x)) / mpmath.pi

    # subordination route: never touches the quartic
    @cached_property
    def _nu(self):
        return self.linear_square_law()

    def _nu_support(self):
        a, b = self._nu._support_mp()
        return a, b

    def _psi_nu(self, w, start=None):
        """Physical root of ``w psi = v (1 + psi)^2 (1 + gamma psi)`` (the free
        product's Stieltjes equation, ``G_nu(w) = (1 + psi)/w``) at ``w`` off
        ``[0, inf)``: continued along the ray ``r w``, ``r`` from 1e8 down to 1,
        from ``psi ~ v / (r w)``, refined as r -> 1 (or Newton from ``start``, a root at a nearby
        point, when it converges); returns ``(psi, dpsi/dw)``."""
        gam, v = _mp(self.gamma), _mp(self.linear)

        def newton(psi, ww, k):
            for _ in range(k):
                f = v * (1 + psi)**2 * (1 + gam * psi) - ww * psi
                df = v * (2 * (1 + psi) * (1 + gam * psi) + gam * (1 + psi)**2) - ww
                step = f / df
                psi -= step
                # eps^0.85: rounding of f keeps the last steps at the eps scale near a branch point
                if abs(step) <= mpmath.eps ** 0.85 * (1 + abs(psi)):
                    return psi, True
            return psi, False

        ok = False
        if start is not None:
            psi, ok = newton(start, w, 12)
        if not ok:
            # geometric to r = 10, then r = 1 + 10^(-k/4): fine steps next to a branch point
            rs = [mpmath.mpf(10) ** (8 - mpmath.mpf(k) / 10) for k in range(71)]
            rs += [1 + mpmath.mpf(10) ** (-mpmath.mpf(k) / 4) for k in range(1, 4 * mpmath.mp.dps)]
            psi = v / (rs[0] * w)
            for r in rs:
                psi, _ = newton(psi, r * w, 8)
            psi, ok = newton(psi, w, 400)
            if not ok:
                raise ArithmeticError(f"{self!r}: Stieltjes equation of the linear part did not "
                                      f"converge at w = {w}")
        dpsi = psi / (v * (2 * (1 + psi) * (1 + gam * psi) + gam * (1 + psi)**2) - w)
        return psi, dpsi

    def _g_linear(self, omega, derivative=False, start=None):
        """``G_L(omega) = omega G_nu(omega^2) = (1 + psi(omega^2))/omega``, the
        Cauchy transform of the symmetrised linear part, and its derivative
        ``2 psi'(omega^2) - (1 + psi)/omega^2``; returns ``(G_L, G_L', psi)``
        when ``derivative`` (else ``G_L``)."""
        psi, dpsi = self._psi_nu(omega**2, start)
        if derivative:
            return (1 + psi) / omega, 2 * dpsi - (1 + psi) / omega**2, psi
        return (1 + psi) / omega

    def _g_subordination(self, x):
        """Fixed point ``omega = x - s2 G_L(omega)`` (upper half-plane): ten
        contraction steps from ``x + i sqrt(s2)``, then Newton on
        ``omega - x + s2 G_L(omega)``; returns ``G(x + i0) = G_L(omega)``."""
        s2 = _mp(self.nonlinear)
        if s2 == 0:
            raise ValueError("subordination needs nonlinear > 0 (with nonlinear = 0 the law is "
                             "the linear part's: rho(x) = 2 x rho_nu(x^2))")
        omega, psi = mpmath.mpc(x, mpmath.sqrt(s2)), None
        for _ in range(10):
            g, _, psi = self._g_linear(omega, True, psi)
            omega = x - s2 * g
        for _ in range(100):
            g, dg, psi = self._g_linear(omega, True, psi)
            step = (omega - x + s2 * g) / (1 + s2 * dg)
            omega -= step
            if abs(step) <= mpmath.eps ** 0.85 * abs(omega):
                break
        else:
            raise ArithmeticError(f"{self!r}: subordination Newton did not converge at x = {x}")
        if mpmath.im(omega) <= 0:
            raise ArithmeticError(f"{self!r}: subordination fixed point left the upper half-plane")
        return self._g_linear(omega, True, psi)[0]

    def _pdf_subordination(self, x):
        if _mp(self.nonlinear) == 0:
            return 2 * x * self._nu._pdf_stieltjes(x**2)
        return -2 * mpmath.im(self._g_subordination(x)) / mpmath.pi

    def _edge_biane(self):
        s2 = _mp(self.nonlinear)
        if s2 == 0:
            raise ValueError("the Biane edge condition needs nonlinear > 0 "
                             "(with nonlinear = 0 the edge is the linear part's)")
        _, b = self._nu_support()
        lo = mpmath.sqrt(b)
        # -s2 G_L'(omega) = 1 at real omega > sqrt(b_nu); -G_L' decreases from +inf
        f = lambda w: -s2 * self._g_linear(w, derivative=True)[1] - 1
        hi = 2 * lo + 2 * mpmath.sqrt(s2)
        while f(hi) > 0:
            hi *= 2
        left = lo * (1 + mpmath.mpf(10) ** -3)
        while f(left) < 0:
            left = lo + (left - lo) / 10
        omega = mpmath.findroot(f, (left, hi), solver="anderson")
        return omega + s2 * self._g_linear(omega)

    def _cdf_inside(self, x):
        return mpmath.quad(self._pdf_stieltjes, [0, x / 2, x])

    # ------------------------------------------------------------ numpy side
    def _g_numpy(self, x):
        """Physical ``G(x + i0)`` for an array of ``x`` in the support: Newton
        continuation of the quartic along ``z = x + i eta``, eta from large to 0."""
        gam, v, s2 = float(self.gamma), float(self.linear), float(self.nonlinear)
        x = np.asarray(x, dtype=float)
        b = float(self._support_float()[1])
        c4, c2 = -s2 * gam * v, (1 - gam) * v + s2

        def newton(g, z, k):
            for _ in range(k):
                p = (((c4 * g + z * gam * v) * g + c2) * g - z) * g + 1
                dp = ((4 * c4 * g + 3 * z * gam * v) * g + 2 * c2) * g - z
                ok = np.abs(dp) > 0
                g = np.where(ok, g - p / np.where(ok, dp, 1.0), g)
            return g

        etas = np.geomspace(100 * max(b, 1.0), 1e-13 * max(b, 1e-300), 90)
        z = x + 1j * etas[0]
        g = newton(1 / z, z, 6)
        for eta in etas[1:]:
            g = newton(g, x + 1j * eta, 4)
        g0 = newton(g, x + 0j, 6)
        good = (np.abs(g0 - g) < 1e-4 * np.abs(g)) & (g0.imag <= 0)
        return np.where(good, g0, g)

    def _pdf_numpy_inside(self, x):
        return np.maximum(-2 * self._g_numpy(x).imag / np.pi, 0.0)

    @cached_property
    def _cdf_table(self):
        """Distribution function on a grid adapted to both edges: ``x = b (1 -
        (1 - t^3)^2)`` (absorbs a ``x^(-1/3)`` hard edge at 0 and the square
        root at b), Simpson's rule, normalised mass recorded in ``mass``."""
        from scipy.integrate import cumulative_simpson
        b = float(self._support_float()[1])
        t = np.linspace(0.0, 1.0, 8001)
        x = b * (1 - (1 - t**3)**2)
        dxdt = b * 2 * (1 - t**3) * 3 * t**2
        f = np.zeros_like(t)
        inside = (x > 0) & (x < b)
        f[inside] = self._pdf_numpy_inside(x[inside]) * dxdt[inside]
        F = cumulative_simpson(f, x=t, initial=0.0)
        self.__dict__["_cdf_mass"] = float(F[-1])
        return x, F / F[-1]

    def _cdf_numpy_inside(self, x):
        from scipy.interpolate import PchipInterpolator
        xs, F = self._cdf_table
        keep = np.concatenate([[True], np.diff(xs) > 0])
        return np.clip(PchipInterpolator(xs[keep], F[keep])(x), 0.0, 1.0)

    # ------------------------------------------------------------ LaTeX
    def latex(self, what="density"):
        """As :meth:`SpectralLaw.latex`, plus ``"r_transform"`` and
        ``"subordination"``; ``"equation"`` is the quartic for the Cauchy
        transform of the symmetrised law."""
        if what == "r_transform":
            return r"R(g) = " + sympy.latex(self.r_transform(_G))
        if what == "subordination":
            return self._latex_subordination()
        if what == "equation":
            return sympy.latex(sympy.Eq(self.cauchy_polynomial(_Z, _G), 0)) + \
                r"\quad (g = G_{\mathrm{sym}}(z))"
        if what in ("mean", "variance", "support") and self.is_symbolic:
            raise ValueError(f"latex({what!r}) of {self!r} needs numeric parameters")
        return super().latex(what)

    def _latex_subordination(self):
        s2 = sympy.latex(self.nonlinear)
        return (rf"G(z) = G_L\big(z - {s2}\,G(z)\big),\quad "
                r"G_L(\omega) = \omega\, G_{\nu}(\omega^2),\quad "
                rf"\nu = {sympy.latex(self.linear)}\,\mathrm{{MP}}(1)\boxtimes"
                rf"\mathrm{{MP}}({sympy.latex(self.gamma)})")

    def _latex_moments(self):
        ev = self.even_moments(3)
        return (r"m_{2k} = \sum_{\pi \in NC(2k)} \prod_{B\in\pi}\kappa_{|B|},\ "
                rf"\kappa_2 = {sympy.latex(self.linear + self.nonlinear)},\ "
                rf"\kappa_{{2k}} = {sympy.latex(self.linear)}"
                rf"\big({sympy.latex(self.gamma * self.linear)}\big)^{{k-1}};\ "
                rf"m_2, m_4, m_6 = {', '.join(sympy.latex(m) for m in ev)}")

    def _latex_density(self):
        return (r"\rho(x) = -\tfrac{2}{\pi}\operatorname{Im} G(x + i0),\quad "
                + sympy.latex(sympy.Eq(self.cauchy_polynomial(_Z, _G), 0)))
