"""bn.lyapunov (E3): mu_k = (log(2/d) + psi((d-k+1)/2))/2, derived from the chi^2 Mellin transform."""
import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.companions.products import lyapunov_qr
from gapcheck.theory.companions import bn
from gapcheck.theory.registry import get
from tests.contract import ResultContract


def test_registered_as_companion_with_grade():
    r = get("bn.lyapunov")
    assert r.kind == "companion" and "grade A/B" in r.source


class TestContract(ResultContract):
    result_id = "bn.lyapunov"
    n_symbolic = 5


def test_prediction_reads_the_chains_width_and_variance():
    r = get("bn.lyapunov")
    d, k = sympy.symbols("d k", positive=True)
    # the statement's variance 1/d gives the closed form; sigma_V^2 shifts every exponent by log(d sigma_V^2)/2
    p = r.prediction(bn.GaussianChain(d=7, depth=3))
    assert sympy.simplify(p.exponent - bn.lyapunov_closed_form(7, bn.K)) == 0
    q = r.prediction(bn.GaussianChain(d=7, depth=3, sigma_v2=sympy.Rational(1, 4)))
    assert sympy.simplify(q.exponent - p.exponent - sympy.log(sympy.Rational(7, 4)) / 2) == 0
    assert r.applies(bn.GaussianChain(d=7, batchnorm=True)) and r.applies(r.example().replace(residual=True))
    with pytest.raises(ValueError, match="no field"):
        r.example().replace(gamma=sympy.Rational(1, 2))


@given(d=st.integers(1, 40), data=st.data())
def test_derived_exponent_equals_closed_form_and_numeric(d, data):
    k = data.draw(st.integers(1, d))
    der = bn.lyapunov_exponent(d, k)
    assert sympy.simplify(der - bn.lyapunov_closed_form(d, k)) == 0
    assert float(der) == pytest.approx(bn.lyapunov_numeric(d)[k - 1], rel=1e-12, abs=1e-14)


@given(d=st.integers(2, 30))
def test_spectrum_is_decreasing_and_sums_to_log_det(d):
    mu = bn.lyapunov_numeric(d)
    assert all(a > b for a, b in zip(mu, mu[1:]))
    # sum_k mu_k = E log|det W|: independent mpmath evaluation of sum E log chi_{nu}/sqrt(d)
    with mpmath.workdps(30):
        direct = sum((mpmath.log(2) + mpmath.digamma(mpmath.mpf(nu) / 2) - mpmath.log(d)) / 2
                     for nu in range(1, d + 1))
    assert sum(mu) == pytest.approx(float(direct), rel=1e-12)


def test_gap_expansion_and_its_perturbations():
    assert bn.lyapunov_gap_series(order=2) == 1 / (2 * sympy.Symbol("d", positive=True))
    gap = bn.lyapunov_numeric(200)[0] - bn.lyapunov_numeric(200)[1]
    assert gap == pytest.approx(1 / 400 + 3 / (4 * 200**2), rel=1e-3)


@given(d=st.integers(2, 6), seed=st.integers(0, 2**32 - 1))
def test_qr_estimate_within_exact_standard_errors(d, seed):
    # the summands are independent from the first step (Bartlett), so short chains in a
    # large batch estimate the same exponents with the same exact SE at less Python overhead
    steps, batch = 40, 32
    mu = lyapunov_qr(d, steps, batch=batch, rng=seed).mean(axis=0)
    se = np.array(bn.lyapunov_se(d, steps * batch))
    assert np.all(np.abs(mu - bn.lyapunov_numeric(d)) <= 4.5 * se)


def test_bad_input():
    with pytest.raises(ValueError, match="k must be"):
        bn.lyapunov_exponent(3, 4)
    with pytest.raises(ValueError, match="d must be"):
        lyapunov_qr(0, 10)
