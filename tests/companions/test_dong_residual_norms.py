"""dong.residual-norms (Dong et al. C1): composite norm, residuals, the sharp factor 2(1 - 1/n)."""
import numpy as np
import pytest
import sympy
from hypothesis import example, given, strategies as st
from hypothesis.extra.numpy import arrays

from gapcheck.numerics.companions.residual import (composite_norm, l1_norm, linf_norm, residual_mean,
                                          residual_optimal)
from gapcheck.theory.companions import dong
from gapcheck.theory.model import SYMBOLS, AttentionModel
from gapcheck.theory.registry import get
from tests.contract import ResultContract

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


def test_registered_as_companion_with_grade():
    r = get("dong.residual-norms")
    assert r.kind == "companion" and "grade A" in r.source and "Dong" in r.source
    assert r.findings and "2(1 - 1/n)" in r.findings[0]


class TestContract(ResultContract):
    result_id = "dong.residual-norms"


def test_prediction_is_the_centring_factor_at_the_models_n_and_covers_every_model():
    r = get("dong.residual-norms")
    sym = r.prediction(AttentionModel.symbolic(attention="key-query"))
    assert sympy.simplify(sym.factor - (2 - 2 / SYMBOLS["n"])) == 0
    ex = r.example()
    assert r.prediction(ex).factor == sympy.Rational(2 * (ex.n - 1), ex.n)
    # a norm inequality for every n x d matrix: no model is outside (identity attention included)
    assert r.applies(ex.replace(attention="identity")) is None


def test_centring_factor_is_sharp_and_below_two():
    n = sympy.Symbol("n", positive=True)
    assert dong.centring_factor() == 2 - 2 / n
    assert dong.tight_examples(7) == (sympy.Rational(12, 7),) * 2


@given(X=arrays(float, st.tuples(st.integers(3, 6), st.integers(1, 4)), elements=finite))
@example(X=np.full((3, 2), 5.96046448e-08))                 # found by a random-seed run
def test_mean_centring_within_sharp_factor_of_optimal(X):
    n = X.shape[0]
    c = float(dong.centring_factor(n))
    R1, o1 = residual_optimal(X, "1")
    Ri, oi = residual_optimal(X, "inf")
    Rm = residual_mean(X)
    # the LP is accurate to ~1e-9 of the spread max|X - mean| (residual_optimal; an
    # absolute 1e-9 failed for a constant 6e-8 matrix under HiGHS' default
    # tolerances), and the float64 column mean is off by <= n eps max|X| per entry
    # (norms sum <= n d such entries: <= 24 * 6 * 2.2e-16 < 1e-13 of max|X|)
    tol = 1e-8 * float(np.max(np.abs(X - X.mean(axis=0)))) + 1e-12 * float(np.max(np.abs(X)))
    assert o1 <= l1_norm(Rm) + tol and oi <= linf_norm(Rm) + tol            # optimality
    assert l1_norm(Rm) <= c * o1 + tol and linf_norm(Rm) <= c * oi + tol
    assert np.allclose(R1 - R1.mean(0), Rm) and np.allclose(Ri - Ri.mean(0), Rm)   # same centred part


@given(A=arrays(float, (4, 3), elements=finite), B=arrays(float, (3, 5), elements=finite))
def test_composite_norm_submultiplicative_and_dominates_spectral(A, B):
    assert composite_norm(A @ B) <= composite_norm(A) * composite_norm(B) * (1 + 1e-12) + 1e-12
    assert np.linalg.norm(A, 2) ** 2 <= l1_norm(A) * linf_norm(A) * (1 + 1e-12) + 1e-12


def test_bad_input():
    with pytest.raises(ValueError, match="norm must be"):
        residual_optimal(np.eye(3), "2")
    with pytest.raises(ValueError, match="one n x d"):
        residual_optimal(np.ones((2, 3, 3)), "1")
