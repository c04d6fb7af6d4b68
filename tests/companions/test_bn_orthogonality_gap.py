"""bn.orthogonality-gap (E4): BN orthogonalises; floor d E V^2 -> (n-1)(n+2)^2/(4n(n+1)), response n/(n+2)."""
import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.companions.products import orthogonality_chain, orthogonality_gap
from gapcheck.theory.companions import bn
from gapcheck.theory.registry import get
from tests.contract import ResultContract


def test_registered_as_companion_with_grades():
    r = get("bn.orthogonality-gap")
    assert r.kind == "companion" and "grade C" in r.source and "own derivation (grade B)" in r.source


class TestContract(ResultContract):
    result_id = "bn.orthogonality-gap"


def test_prediction_at_the_chains_n_and_d():
    r = get("bn.orthogonality-gap")
    p = r.prediction(bn.GaussianChain(d=64, depth=5, samples=4, batchnorm=True))
    assert p.floor == sympy.Rational(27, 20) / 64 and p.exponent == -sympy.Rational(1, 2)
    assert p.bound.subs({bn.ALPHA: 1, bn.STEP: 0}) == 2 + sympy.Rational(3 * 4, 8)
    assert "samples" in r.applies(bn.GaussianChain(d=64, batchnorm=True))


def test_floor_formula():
    n, d = sympy.symbols("n d", positive=True)
    assert sympy.simplify(bn.orthogonality_floor() - (n - 1) * (n + 2) ** 2 / (4 * n * (n + 1) * d)) == 0


@pytest.mark.parametrize("n", [2, 4])
def test_one_step_response_is_n_over_n_plus_2(n):
    """Start at G = I/n + delta diag(1, -1, 0, ...) with d = 5000: E V_1^2 = c^2 V_0^2 + noise;
    tolerance 4 SE plus 0.01 (the noise at G != I/n differs from (1-1/n)/d by O(n delta),
    a few per cent of c^2 V_0^2 here)."""
    rng = np.random.default_rng(n)
    d, delta, b = 5000, 0.04, 200
    g = np.full(n, 1 / n)
    g[0], g[1] = g[0] + delta, g[1] - delta
    H0 = np.linalg.qr(rng.standard_normal((d, n)))[0] * np.sqrt(g)
    V = orthogonality_chain(n, d, 1, batch=b, rng=rng, H0=H0)
    noise = float(bn.orthogonality_noise(n, d))
    c2 = (V[1] ** 2 - noise) / V[0, 0] ** 2
    c, se = np.sqrt(c2.mean()), c2.std(ddof=1) / np.sqrt(b) / (2 * np.sqrt(c2.mean()))
    assert abs(c - float(bn.orthogonality_response(n))) <= 4 * se + 0.01


@given(n=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_gap_is_zero_for_orthonormal_columns_and_scale_free(n, seed):
    Q = np.linalg.qr(np.random.default_rng(seed).standard_normal((12, n)))[0]
    assert orthogonality_gap(Q) < 1e-12
    H = np.random.default_rng(seed).standard_normal((12, n))
    assert orthogonality_gap(3.7 * H) == pytest.approx(orthogonality_gap(H), rel=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="d must be"):
        orthogonality_chain(5, 4, 3)
