"""audit.ln-rank (Cirrincione D1): what holds for LayerNorm and rank, and the pinned counterexamples."""
import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.companions.heads import (affine_configuration, affine_rank, layer_norm, low_rank,
                                       numerical_rank, ones_in_rowspace)
from gapcheck.theory.companions import audit
from gapcheck.theory.registry import get
from tests.contract import ResultContract


def test_registered_as_gapchecks_reading():
    r = get("audit.ln-rank")
    assert r.kind == "companion" and "gapcheck's reading" in r.source and "abstract only" in r.source


# ---- the counterexamples, pinned (exact sympy and numerics agree) ---------------------------
def test_counterexample_radial_lift_2_to_3():
    X, before, after = audit.ln_counterexamples()["radial lift: 2 -> 3"]
    assert (before, after) == (2, 3)
    Xf = np.array(X.tolist(), dtype=float)
    assert (affine_rank(Xf), affine_rank(layer_norm(Xf))) == (2, 3)


def test_counterexample_more_tokens_than_width_d_to_d_minus_1():
    X, before, after = audit.ln_counterexamples()["n > d: 3 -> 2"]
    assert (before, after) == (3, 2)
    Y = layer_norm(np.random.default_rng(0).standard_normal((10, 8)))      # the 8 -> 7 of docs/derivations.md, section audit.ln-rank
    assert affine_rank(Y) == 7 and np.allclose(Y.sum(1), 0)


def test_counterexample_merge_creates_exact_collapse():
    X, before, after = audit.ln_counterexamples()["merge: 2 -> 0"]
    assert (before, after) == (2, 0)
    Y = audit.layer_norm_exact(X)
    assert Y.row(0) == Y.row(1) == Y.row(2)


def test_literal_claim_is_false_but_linear_version_holds():
    for X, before, after in audit.ln_counterexamples().values():
        assert after != before                          # "preserves the affine rank" fails
        Xf = np.array(X.tolist(), dtype=float)
        assert numerical_rank(layer_norm(Xf)) == audit.ln_rank(numerical_rank(Xf), ones_in_rowspace(Xf))


# ---- properties -------------------------------------------------------------------------------
@given(n=st.integers(2, 9), d=st.integers(2, 9), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_rank_formula_with_random_gamma(n, d, data, seed):
    r = data.draw(st.integers(1, min(n, d)))
    rng = np.random.default_rng(seed)
    X = low_rank(n, d, r, rng=rng)
    gamma = rng.uniform(0.5, 2, d) * rng.choice([-1, 1], d)
    assert numerical_rank(layer_norm(X, gamma=gamma)) == audit.ln_rank(r, ones_in_rowspace(X))
    assert ones_in_rowspace(X) == (r == d)               # generic: 1 is in the row space iff full column rank


@given(n=st.integers(2, 10), d=st.integers(3, 10), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_generic_affine_rank_after_ln(n, d, data, seed):
    r = data.draw(st.integers(0, min(n - 1, d)))
    X = affine_configuration(n, d, r, rng=seed)
    assert affine_rank(X) == r
    assert affine_rank(layer_norm(X)) == audit.ln_affine_rank_generic(n, d, r)


def test_width_two_is_not_generic():
    """d = 2: every LN token is +-(1, -1), so the affine rank is 0 or 1 by signs alone."""
    X = np.array([[0.0, 1.0], [0.0, 2.0], [3.0, 1.0]])
    assert np.allclose(np.abs(layer_norm(X)), 1) and affine_rank(layer_norm(X)) == 1
    assert affine_rank(layer_norm(X[:2])) == 0
    with pytest.raises(ValueError, match="d must be"):
        audit.ln_affine_rank_generic(3, 2, 1)


def test_prediction_is_the_statement_at_any_shape_for_a_model_with_layernorm():
    r = get("audit.ln-rank")
    p = r.prediction(r.example())
    assert (p.rank_drop, p.merged) == (1, 0)
    assert [audit.specialise(p.affine_rank, n=n, d=d, r=k) for n, d, k in ((4, 4, 2), (10, 8, 8), (5, 6, 0))] == [3, 7, 0]
    assert "LayerNorm" in r.applies(r.example().replace(layernorm=False))


def test_bad_input():
    with pytest.raises(ValueError, match="constant token"):
        layer_norm(np.array([[1.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="constant"):
        audit.layer_norm_exact(sympy.Matrix([[2, 2]]))


class TestContract(ResultContract):
    result_id = "audit.ln-rank"
