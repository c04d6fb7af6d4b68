"""bn.soft-rank (Daneshmand et al. E1): rank_tau(M) >= (1 - tau)^2 tr(M)^2/|M|_F^2, sharp."""
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import bn_soft_rank as check
from gapcheck.numerics.companions.products import random_psd, rank_tau, soft_rank
from gapcheck.theory.companions import bn
from gapcheck.theory.registry import get
from tests.contract import ResultContract


def test_registered_as_companion_with_grade():
    r = get("bn.soft-rank")
    assert r.kind == "companion" and "grade A" in r.source and "Daneshmand" in r.source
    assert r.empirical_check == "gapcheck.numerics.checks.bn_soft_rank"
    assert r"(1-\tau)^2" in r.latex()


class TestContract(ResultContract):
    result_id = "bn.soft-rank"
    n_symbolic = 5


def test_prediction_is_the_factor_in_tau_for_every_model():
    r = get("bn.soft-rank")
    p = r.prediction(r.example())
    assert p.factor == (1 - bn.TAU) ** 2 and p.sharpness == 1
    assert r.applies(get("prop3").example()) is None          # any model's Gram matrices are PSD


def test_sharpness_limit_is_one_and_a_larger_constant_fails_on_the_family():
    assert bn.soft_rank_tight_ratio() == 1
    spec = check.tight_spectra(np.array([0.5]), k=3, m=2000, eps=1e-4)[0]
    r = spec.sum() ** 2 / (spec**2).sum()
    assert np.sum(spec >= 0.5 * spec.sum() / spec.size) == 3
    assert rank_tau(np.diag(spec[::250]), 0.5) >= 1
    assert 3 >= 0.25 * r > 3 / 1.01                 # (1-tau)^2 r just below the rank: sharp


@given(lam=st.lists(st.fractions(min_value=0, max_value=50, max_denominator=20), min_size=1, max_size=7),
       tau=st.fractions(min_value=0, max_value=Fraction(19, 20), max_denominator=20))
def test_exact_inequality_on_rational_spectra(lam, tau):
    if sum(lam) == 0:
        return
    slack = bn.rank_tau_exact(lam, tau) - bn.soft_rank_bound(tau) * bn.soft_rank_exact(lam)
    assert slack >= 0


@given(dim=st.integers(1, 9), seed=st.integers(0, 2**32 - 1), tau=st.floats(0, 0.95))
def test_numeric_inequality_on_random_psd(dim, seed, tau):
    M = random_psd(dim, batch=20, rng=seed)
    assert np.all(rank_tau(M, tau) >= (1 - tau) ** 2 * soft_rank(M) * (1 - 1e-9))


def test_bad_input():
    with pytest.raises(ValueError, match="tau"):
        rank_tau(np.eye(2), 1.0)
    with pytest.raises(ValueError, match="square"):
        soft_rank(np.ones((2, 3)))
    with pytest.raises(ValueError, match="tau"):
        bn.rank_tau_exact([1, 2], sympy.Integer(2))
