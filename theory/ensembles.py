"""Exact laws of the entries of a Random Markov matrix (Definition 1.1).

A Random Markov matrix is ``A = D^{-1} M`` with ``M`` an ``n x n`` matrix of
i.i.d. non-negative entries (mean ``m > 0``, variance ``sigma^2``, finite fourth
moment) and ``D`` the diagonal of its row sums.  ``A`` does not change when
``M`` is scaled, so the theory only sees the *relative variance*
``sigma_A^2 = variance / mean^2``.

Each :class:`Ensemble` derives its moments with ``sympy.stats`` (never typed
in): the lognormal ones from the moment generating function of the Gaussian
exponent, the exponential and uniform ones from their densities.

* ``"lognormal"``: ``exp(Z)``, ``Z ~ N(-s2/2, s2)``; mean 1, variance
  ``e^{s2} - 1``.  The paper takes ``s2 = log 2`` so that ``sigma_A^2 = 1``;
  :meth:`Ensemble.with_relative_variance` picks ``s2 = log(1 + sigma_A^2)``.
* ``"exponential"``: ``Exp(1)``, ``sigma_A^2 = 1``.
* ``"uniform"``: ``Uniform[0, 2]``, ``sigma_A^2 = 1/3``.

>>> ENSEMBLES["lognormal"].sigma_A2
1
>>> ENSEMBLES["uniform"].mean, ENSEMBLES["uniform"].variance, ENSEMBLES["uniform"].sigma_A2
(1, 1/3, 1/3)
>>> ENSEMBLES["exponential"].fourth_moment
24
>>> ENSEMBLES["lognormal"].with_relative_variance(3).parameter_value
log(4)
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Callable

import sympy
from sympy import stats as _stats

from . import _validate

__all__ = ["Ensemble", "ENSEMBLES", "LOG_VARIANCE", "get_ensemble"]

#: the parameter of the lognormal family: the variance ``s2`` of its Gaussian exponent
LOG_VARIANCE = sympy.Symbol("s2", positive=True)


def _lognormal_moment(k: int, s2):
    """E[exp(k Z)] for Z ~ N(-s2/2, s2): the Gaussian moment generating function at k."""
    t = sympy.Symbol("t")
    Z = _stats.Normal("Z", -s2 / 2, sympy.sqrt(s2))
    return sympy.simplify(_stats.moment_generating_function(Z)(t).subs(t, k))


def _rv_moment(factory: Callable, k: int):
    return sympy.simplify(_stats.E(factory() ** k))


@dataclass(frozen=True)
class Ensemble:
    """Law of the non-negative entries ``M_ij`` of a Random Markov matrix.

    ``moment(k)`` is the exact k-th raw moment (a sympy expression, in
    :data:`LOG_VARIANCE` for the general lognormal family before a value is
    chosen).  ``parameter_value`` fixes the lognormal's ``s2``; the other
    ensembles have no parameter.
    """

    name: str
    description: str
    _moment: Callable[[int, object], object]
    parameter: sympy.Symbol | None = None
    parameter_value: object = None

    def moment(self, k: int):
        """Exact k-th raw moment ``E[M^k]``.

        >>> ENSEMBLES["uniform"].moment(3)
        2
        """
        return _moment(self, _validate.integer("k", k, minimum=1))

    @cached_property
    def mean(self):
        return self.moment(1)

    @cached_property
    def variance(self):
        return sympy.simplify(self.moment(2) - self.moment(1) ** 2)

    @cached_property
    def fourth_moment(self):
        return self.moment(4)

    @property
    def sigma_A2(self):
        """Relative variance ``variance / mean^2`` (the theory's ``sigma_A^2``)."""
        return _relative_variance(self)

    def relative_variance(self):
        """Same as :attr:`sigma_A2`."""
        return self.sigma_A2

    def with_relative_variance(self, sigma_a2) -> "Ensemble":
        """The member of this family with ``sigma_A^2 = sigma_a2``.

        Only the lognormal family has a free parameter (``s2 = log(1 + sigma_a2)``);
        asking another ensemble for a relative variance other than its own is a
        ``ValueError``.

        >>> ENSEMBLES["exponential"].with_relative_variance(2)
        Traceback (most recent call last):
        ...
        ValueError: sigma_a2 must equal 1 for the 'exponential' ensemble (got 2); only 'lognormal' has a free relative variance
        """
        _validate.positive("sigma_a2", sigma_a2)
        if self.parameter is None:
            own = self.sigma_A2
            try:
                same = bool(sympy.simplify(_validate.to_sympy(sigma_a2) - own) == 0) or \
                    abs(float(sigma_a2) - float(own)) <= 1e-12 * float(own)
            except TypeError:
                same = False
            if not same:
                raise ValueError(
                    f"sigma_a2 must equal {own} for the {self.name!r} ensemble (got {sigma_a2!r}); "
                    "only 'lognormal' has a free relative variance")
            return self
        s2 = sympy.log(1 + _validate.to_sympy(sigma_a2))
        return replace(self, parameter_value=s2)

    @property
    def log_variance(self):
        """The lognormal's ``s2`` (``None`` for the other ensembles)."""
        return self.parameter_value if self.parameter is not None else None


# Module-level caches keyed by the (frozen, hashable) ensemble: every model asks
# its ensemble for sigma_A^2, and ``with_relative_variance`` makes a new but equal
# instance each time, so a per-instance cache would miss (sympy.stats' moment
# generating function took 12 s of a prop3 contract test before these).
@lru_cache(maxsize=1024)
def _moment(ens: Ensemble, k: int):
    value = ens.parameter_value if ens.parameter is not None else None
    return sympy.simplify(ens._moment(k, value if value is not None else ens.parameter))


@lru_cache(maxsize=256)
def _relative_variance(ens: Ensemble):
    return sympy.simplify(ens.variance / ens.mean ** 2)


ENSEMBLES: dict[str, Ensemble] = {
    "lognormal": Ensemble(
        "lognormal", "exp(N(-s2/2, s2)), mean 1 (paper: s2 = log 2, sigma_A^2 = 1)",
        lambda k, s2: _lognormal_moment(k, s2), parameter=LOG_VARIANCE,
        parameter_value=sympy.log(2)),
    "exponential": Ensemble(
        "exponential", "Exp(1)",
        lambda k, _: _rv_moment(lambda: _stats.Exponential("M", 1), k)),
    "uniform": Ensemble(
        "uniform", "Uniform[0, 2]",
        lambda k, _: _rv_moment(lambda: _stats.Uniform("M", 0, 2), k)),
}


def get_ensemble(name: str) -> Ensemble:
    """``ENSEMBLES[name]`` with a clear error for unknown names."""
    _validate.one_of("ensemble", name, tuple(ENSEMBLES))
    return ENSEMBLES[name]
