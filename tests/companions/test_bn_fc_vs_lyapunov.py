"""bn.fc-vs-lyapunov (E5): Fuss-Catalan edge at fixed L, Lyapunov growth at fixed d."""
import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st
from scipy.special import digamma

from gapcheck.numerics.companions.products import product_top_sv2, product_top_sv2_lanczos
from gapcheck.theory.companions import bn
from gapcheck.theory.registry import get
from tests.contract import ResultContract


def test_registered_as_companion_with_grade():
    r = get("bn.fc-vs-lyapunov")
    assert r.kind == "companion" and "grade B" in r.source and "own derivation" in r.source


class TestContract(ResultContract):
    result_id = "bn.fc-vs-lyapunov"


def test_prediction_edge_is_the_fuss_catalan_edge_of_the_chains_scale():
    r = get("bn.fc-vs-lyapunov")
    L = sympy.Symbol("l", positive=True, integer=True)
    for depth, edge in ((1, 4), (2, sympy.Rational(27, 4)), (3, sympy.Rational(256, 27))):
        assert r.prediction(bn.GaussianChain(d=9, depth=depth)).edge == edge          # variance 1/d: c = 1
        assert r.prediction(bn.GaussianChain(d=9, depth=depth, sigma_v2=sympy.Rational(1, 3))).edge == 3**depth * edge
    assert bn.fuss_catalan_edge(L, 2).subs(L, 2) == 2**2 * sympy.Rational(27, 4)
    assert sympy.simplify(r.prediction(bn.GaussianChain(d=3, depth=10)).log_mean - bn.log_top_sv2_mean(3, 10)) == 0


@given(d=st.integers(3, 40), L=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_lanczos_equals_dense_top_singular_value(d, L, seed):
    a = product_top_sv2_lanczos(d, L, batch=2, rng=seed)
    b = np.exp(product_top_sv2(d, L, batch=2, rng=seed))
    assert np.allclose(a, b, rtol=1e-9)


def test_renormalised_product_does_not_overflow():
    x = product_top_sv2(4, 5000, batch=2, rng=0)
    assert np.all(np.isfinite(x)) and np.all(x < 0)


def test_sphere_coordinate_log_moment_by_sampling():
    d = 7
    v = np.random.default_rng(1).standard_normal((40000, d))
    x = np.log(v[:, 0] ** 2 / (v**2).sum(1))
    pred = float(bn.expected_log_sphere_coordinate(d))
    assert pred == pytest.approx(digamma(0.5) - digamma(d / 2), rel=1e-12)
    assert abs(x.mean() - pred) <= 4 * x.std(ddof=1) / np.sqrt(x.size)
