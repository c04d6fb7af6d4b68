"""dong.depth (Dong et al. C3): doubly exponential collapse, log-residual ratios -> 3."""
import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.companions.residual import centred_recursion, init_san, residual_mean, san_forward
from gapcheck.theory.companions import dong
from gapcheck.theory.model import AttentionModel
from gapcheck.theory.registry import get
from tests.contract import ResultContract


def test_registered_and_recursion_solved():
    r = get("dong.depth")
    assert r.kind == "companion" and "grade B" in r.source
    L, y0, kappa = sympy.symbols("L y_0 kappa")
    L = sympy.Symbol("L", positive=True)
    assert sympy.simplify(dong.depth_solution() - (3**L * (y0 + kappa / 2) - kappa / 2)) == 0


@given(seed=st.integers(0, 2**32 - 1), heads=st.integers(1, 3))
def test_recursion_is_the_forward_pass(seed, heads):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(5)[None, :] + 0.5 * rng.standard_normal((6, 5))
    layers = init_san(5, 2, heads=heads, rng=rng)
    naive = [np.linalg.norm(residual_mean(Y)) for Y in san_forward(X, layers)]
    rec = centred_recursion(X, layers)
    for a, b in zip(rec, naive):
        if b > 1e-6:
            assert a == pytest.approx(np.log(b), rel=1e-8, abs=1e-8)


@given(seed=st.integers(0, 2**32 - 1))
def test_ratio_tends_to_three_below_the_float_floor(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(6)[None, :] + 0.05 * residual_mean(rng.standard_normal((6, 6)))
    y = -np.array(centred_recursion(X, init_san(6, 7, rng=rng)))
    assert y[-1] > 300 * np.log(10)                      # far below 1e-300... in log space
    assert abs(y[-1] / y[-2] - 3) < 0.02


def test_bad_input():
    with pytest.raises(ValueError, match="collapsed"):
        centred_recursion(np.ones((3, 2)), init_san(2, 1, rng=0))


def test_prediction_is_the_limit_of_the_solved_recursion():
    r = get("dong.depth")
    p = r.prediction(AttentionModel.symbolic(attention="key-query"))
    assert p.exponent == 3
    ex = r.example()
    assert r.applies(ex) is None and ex.depth > 1
    assert "pure self-attention" in r.applies(ex.replace(skip="standard"))


class TestContract(ResultContract):
    result_id = "dong.depth"
