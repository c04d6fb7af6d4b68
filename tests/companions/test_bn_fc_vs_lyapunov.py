"""bn.fc-vs-lyapunov (E5): Fuss-Catalan edge at fixed L, Lyapunov growth at fixed d."""
import numpy as np
import pytest
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
    controls_level = "quick"


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
