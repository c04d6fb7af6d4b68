"""audit.skip-no-exact-collapse (D2): no exact collapse with a skip; uniform attention without one collapses."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import audit_skip_no_exact_collapse as check
from gapcheck.numerics.companions.residual import attention_layer, init_san, residual_mean
from gapcheck.theory.registry import get
from tests.contract import ResultContract


def test_registered_and_symbolic():
    r = get("audit.skip-no-exact-collapse")
    assert r.kind == "companion" and "grade A" in r.source


@given(seed=st.integers(0, 2**32 - 1), heads=st.integers(1, 3))
def test_uniform_without_skip_collapses_with_skip_does_not(seed, heads):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((6, 5))
    layer = init_san(5, 1, heads=heads, rng=rng)[0]
    r0 = np.linalg.norm(residual_mean(X))
    assert np.linalg.norm(residual_mean(attention_layer(X, layer, uniform=True))) <= check.FLOOR * r0
    assert np.linalg.norm(residual_mean(X + attention_layer(X, layer))) > check.FLOOR * r0
    assert np.linalg.norm(residual_mean(X + attention_layer(X, layer, uniform=True))) == pytest.approx(r0)


def test_prediction_read_off_the_exact_identities():
    r = get("audit.skip-no-exact-collapse")
    p = r.prediction(r.example())
    assert (p.with_skip, p.uniform_without_skip) == (0, 1)
    assert "no skip" in r.applies(r.example().replace(skip=None))


class TestContract(ResultContract):
    result_id = "audit.skip-no-exact-collapse"
