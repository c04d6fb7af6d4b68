"""audit.head-recovery (D4): kernel n(H d_k - rank W_O) of the head sum; gauge symmetries 2 H d_k^2."""
import numpy as np
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.companions.heads import (gauge_transform, head_recovery_matrix, init_heads,
                                       kernel_dimension, multihead_attention, parameter_jacobian)
from gapcheck.theory.companions import audit
from gapcheck.theory.registry import get
from tests.contract import ResultContract


def test_registered_with_both_grades():
    r = get("audit.head-recovery")
    assert r.kind == "companion" and "grade A" in r.source and "grade D" in r.source


def test_abstract_count_is_the_kernel_exactly_when_rank_wo_is_d_k():
    n, H, dk = sympy.symbols("n H d_k", positive=True, integer=True)
    assert sympy.expand(audit.head_kernel_dimension(n, H, dk, dk) - n * (H - 1) * dk) == 0
    assert audit.head_kernel_dimension(6, 2, 4, 4) == 24            # docs/derivations.md, audit.head-recovery: 24 = 6 * 4


@given(n=st.integers(1, 4), H=st.integers(1, 3), dk=st.integers(1, 3), d=st.integers(1, 7),
       seed=st.integers(0, 2**32 - 1))
def test_kernel_dimension_formula(n, H, dk, d, seed):
    Wo = np.random.default_rng(seed).standard_normal((H, dk, d))
    got = kernel_dimension(head_recovery_matrix(n, Wo))
    assert got == audit.head_kernel_dimension(n, H, dk, min(H * dk, d))


@given(seed=st.integers(0, 2**32 - 1), H=st.integers(1, 3), dk=st.integers(1, 3))
def test_gauge_symmetries_leave_output_unchanged(seed, H, dk):
    rng = np.random.default_rng(seed)
    p = init_heads(5, H, dk, rng=rng)
    Q = np.linalg.qr(rng.standard_normal((2, H, dk, dk)))[0]
    M, N = Q[0] * rng.uniform(0.5, 2, (H, 1, dk)), Q[1] * rng.uniform(0.5, 2, (H, 1, dk))
    X = rng.standard_normal((4, 5))
    Y = multihead_attention(X, p)
    assert np.allclose(multihead_attention(X, gauge_transform(p, M, N)), Y, rtol=1e-11, atol=1e-13)


def test_jacobian_matches_finite_differences():
    rng = np.random.default_rng(3)
    p = init_heads(4, 2, 2, rng=rng)
    Xs = [rng.standard_normal((5, 4)) for _ in range(2)]
    Jm = parameter_jacobian(Xs, p)
    v = {k: rng.standard_normal(p[k].shape) for k in p}
    h = 1e-6
    plus = {k: p[k] + h * v[k] for k in p}
    minus = {k: p[k] - h * v[k] for k in p}
    fd = np.concatenate([((multihead_attention(X, plus) - multihead_attention(X, minus)) / (2 * h)).ravel()
                         for X in Xs])
    vec = np.concatenate([v[k].ravel() for k in ("Wq", "Wk", "Wv", "Wo")])
    assert np.allclose(Jm @ vec, fd, rtol=1e-6, atol=1e-8)


def test_prediction_holds_for_multi_head_models():
    r = get("audit.head-recovery")
    p = r.prediction(r.example().replace(heads=2))
    assert audit.specialise(p.kernel, n=6, H=2, d_k=4, r_O=4) == 24
    assert audit.specialise(p.gauge, H=3, d_k=2) == 24
    assert "key-query" in r.applies(r.example().replace(attention="markov"))


class TestContract(ResultContract):
    result_id = "audit.head-recovery"
