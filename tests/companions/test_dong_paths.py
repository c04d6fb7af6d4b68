"""dong.paths (Dong et al. C5): C(L,k) H^k paths of length k, mean length LH/(H+1)."""
from fractions import Fraction
from math import comb

import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.companions.residual import init_san, path_length_counts, path_terms
from gapcheck.theory.companions import dong
from gapcheck.theory.registry import get
from tests.contract import ResultContract


def test_registered_and_symbolic():
    r = get("dong.paths")
    assert r.kind == "companion" and "grade A" in r.source
    assert dong.path_length_mean(12, 12) == sympy.Rational(144, 13)


@given(L=st.integers(1, 6), H=st.integers(1, 3))
def test_enumeration_matches_generating_function(L, H):
    counts = path_length_counts(L, H)
    assert counts == [comb(L, k) * H**k for k in range(L + 1)] == [int(c) for c in dong.path_counts(L, H)]
    assert sum(counts) == (H + 1) ** L
    mean = Fraction(sum(k * c for k, c in enumerate(counts)), sum(counts))
    var = Fraction(sum(k * k * c for k, c in enumerate(counts)), sum(counts)) - mean**2
    assert mean == Fraction(L * H, H + 1) and var == Fraction(L * H, (H + 1) ** 2)


@given(L=st.integers(1, 3), H=st.integers(1, 2), seed=st.integers(0, 2**32 - 1))
def test_path_expansion_sums_to_the_network(L, H, seed):
    X = np.random.default_rng(seed).standard_normal((4, 3))
    total, terms = path_terms(X, init_san(3, L, heads=H, rng=seed))
    assert len(terms) == (H + 1) ** L
    assert np.allclose(sum(terms.values()), total, rtol=1e-10, atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="depth"):
        path_length_counts(0, 2)


def test_prediction_in_the_heads_symbol_at_the_models_depth():
    r = get("dong.paths")
    ex = r.example()
    p = r.prediction(ex)
    assert sympy.expand(p.generating_function - (1 + dong.HEADS * dong.Z) ** ex.depth) == 0
    assert p.total == (dong.HEADS + 1) ** ex.depth
    assert sympy.simplify(p.mean_length - ex.depth * dong.HEADS / (dong.HEADS + 1)) == 0
    assert sympy.simplify(p.variance - ex.depth * dong.HEADS / (dong.HEADS + 1) ** 2) == 0
    assert "no skip" in r.applies(ex.replace(skip=None))
    assert r.applies(ex.replace(attention="markov")) is None      # combinatorial: any attention


class TestContract(ResultContract):
    result_id = "dong.paths"
