"""The first-layer law of key-query attention (derived here; Proposition 1 and
:attr:`theory.model.AttentionModel.sigma_A2` both read it).

``A = softmax(X0 W_Q W_K^T X0^T / sqrt(d_k))`` row-wise, with ``X0 X0^T = I_n``
and ``W_Q, W_K`` of i.i.d. ``N(0, sigma_QK^2)`` entries: ``Q = X0 W_Q`` and
``K = X0 W_K`` have i.i.d. ``N(0, sigma_QK^2)`` entries, the logit
``S = q.k / sqrt(d_k)`` is a sum of ``d_k`` products of two Gaussians, of
variance ``v = sigma_QK^4``. By sympy integration:

* ``E exp(t Z_1 Z_2) = (1 - t^2)^(-1/2)``, hence ``E exp(p S) = (1 - p^2 v /
  d_k)^(-d_k/2)`` (:func:`logit_mgf`);
* given the query ``q_i`` the logits of row i are i.i.d. ``N(0, sigma_QK^2
  |q_i|^2 / d_k)``, so the row is a lognormal Random Markov row; averaging
  ``exp(sigma_QK^2 |q_i|^2/d_k)`` over ``|q_i|^2 = sigma_QK^2 chi^2_{d_k}`` (the
  chi-square moment generating function) gives the within-row relative variance
  ``(1 - 2 v/d_k)^(-d_k/2) - 1`` (:func:`within_row_relative_variance`);
* the marginal relative variance of ``exp(S)`` is
  ``E e^{2S} / (E e^S)^2 - 1`` (:func:`marginal_relative_variance`).

>>> sympy.simplify(within_row_relative_variance() - ((1 - 2 * v / d_k) ** (-d_k / 2) - 1))
0
>>> within_row_sigma_A2(16, 1) == sympy.Rational(8, 7) ** 8 - 1
True
>>> within_row_sigma_A2(2, 1)
oo
"""
from __future__ import annotations

import functools

import sympy
from ._validate import to_sympy

__all__ = ["product_gaussian_mgf", "chi2_mgf", "logit_mgf", "within_row_relative_variance",
           "marginal_relative_variance", "within_row_sigma_A2", "d_k", "v", "t", "p"]

d_k, v, t, p = sympy.symbols("d_k v t p", positive=True)
_x, _y = sympy.symbols("x y", real=True)


def _phi(u):
    return sympy.exp(-u ** 2 / 2) / sympy.sqrt(2 * sympy.pi)


@functools.lru_cache(maxsize=None)
def product_gaussian_mgf():
    """``E exp(t Z_1 Z_2)`` for independent standard Gaussians, |t| < 1, by integration."""
    inner = sympy.simplify(sympy.integrate(_phi(_y) * sympy.exp(t * _x * _y), (_y, -sympy.oo, sympy.oo)))
    outer = sympy.integrate(_phi(_x) * inner, (_x, -sympy.oo, sympy.oo), conds="none")
    outer = sympy.piecewise_fold(outer)
    if isinstance(outer, sympy.Piecewise):      # the branch valid for t < 1
        outer = outer.args[-1][0]
    return sympy.simplify(outer)


@functools.lru_cache(maxsize=None)
def chi2_mgf():
    """``E exp(s Z^2)`` for a standard Gaussian Z, s < 1/2, by integration (in ``t``)."""
    out = sympy.integrate(_phi(_x) * sympy.exp(t * _x ** 2), (_x, -sympy.oo, sympy.oo), conds="none")
    out = sympy.piecewise_fold(out)
    if isinstance(out, sympy.Piecewise):
        out = out.args[-1][0]
    return sympy.simplify(out)


def logit_mgf(p_=p, dk=d_k, v_=v):
    """``E exp(p S)`` with ``S = sum_{i<=d_k} q_i k_i / sqrt(d_k)``, Var(q_i k_i) = v:
    the product of ``d_k`` single-pair moment generating functions."""
    single = product_gaussian_mgf().subs(t, p_ * sympy.sqrt(v_) / sympy.sqrt(dk))
    return sympy.powsimp(single ** dk, force=True)


def within_row_relative_variance(dk=d_k, v_=v):
    """``E_q[exp(sigma_K^2 |q|^2/d_k)] - 1`` with ``|q|^2 = sigma_Q^2 chi^2_{d_k}``."""
    return chi2_mgf().subs(t, v_ / dk) ** dk - 1


def marginal_relative_variance(dk=d_k, v_=v):
    """``E exp(2S) / (E exp(S))^2 - 1``."""
    return logit_mgf(2, dk, v_) / logit_mgf(1, dk, v_) ** 2 - 1


def within_row_sigma_A2(dk, v_):
    """The within-row relative variance at ``d_k`` and ``v = sigma_QK^4`` (symbolic
    or exact numbers): ``oo`` once ``d_k <= 2 v`` (the chi-square moment
    generating function diverges)."""
    dk, v_ = to_sympy(dk), to_sympy(v_)
    if (dk - 2 * v_).is_nonpositive:
        return sympy.oo
    return sympy.simplify(within_row_relative_variance(dk, v_))
