"""audit.attention-rank (D3): one path never raises rank; skips can; relu vs tanh of rank one."""
import numpy as np
from hypothesis import given, strategies as st

from gapcheck.numerics.companions.heads import low_rank, numerical_rank
from gapcheck.numerics.companions.residual import softmax_rows
from gapcheck.theory.companions import audit
from gapcheck.theory.registry import get
from tests.contract import ResultContract


def test_registered_and_relu_identity():
    r = get("audit.attention-rank")
    assert r.kind == "companion" and "grade A" in r.source
    assert audit.relu_rank_one_identity() == [0, 0, 0, 0]


@given(r=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_path_never_raises_rank_skip_can(r, seed):
    rng = np.random.default_rng(seed)
    X = low_rank(8, 7, r, rng=rng)
    A, W = softmax_rows(rng.standard_normal((8, 8))), rng.standard_normal((7, 7))
    assert numerical_rank(A @ X @ W) <= r
    assert numerical_rank(X + A @ X @ W) == min(2 * r, 7)


@given(seed=st.integers(0, 2**32 - 1))
def test_relu_of_rank_one_has_rank_at_most_two(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(6), rng.standard_normal(5)
    assert numerical_rank(np.maximum(np.outer(a, b), 0)) <= 2


def test_prediction_and_identity_attention_refused():
    r = get("audit.attention-rank")
    p = r.prediction(r.example())
    assert [audit.specialise(getattr(p, f), n=7, d=6, r=2) for f in ("path", "skip", "relu", "tanh")] == [2, 4, 2, 6]
    assert "A = I" in r.applies(r.example().replace(attention="identity"))


class TestContract(ResultContract):
    result_id = "audit.attention-rank"
