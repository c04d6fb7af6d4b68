"""Lemma 4: mean prod s_i and variance (prod s_i)^2 sum lam_i of a free
product of Marchenko-Pastur laws, derived from S-transforms."""
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import lemma4 as check
from gapcheck.theory.registry import get
from gapcheck.theory.results import lemma4
from tests.contract import ResultContract, assert_all_pass
from tests.strategies import rationals, seeds


def test_registered():
    assert get("lemma4").empirical_check == "gapcheck.numerics.checks.lemma4"


class TestContract(ResultContract):
    result_id = "lemma4"
    controls_level = "quick"
    n_symbolic = 11


def test_symbolic_k_formula():
    g = lemma4.general()
    assert g["relative_variance"] == sp.Sum(lemma4.LAM[lemma4._I], (lemma4._I, 1, lemma4.K))


@given(ratios=st.lists(rationals.filter(lambda q: q <= 1), min_size=1, max_size=3),
       scales=st.lists(rationals, min_size=3, max_size=3))
def test_exact_ratios_match_closed_form(ratios, scales):
    """Distinct ratios and distinct scales per factor: mean prod s_i, variance (prod s_i)^2 sum lam_i."""
    lam = [sp.Rational(r.numerator, r.denominator) for r in ratios]
    sc = [sp.Rational(q.numerator, q.denominator) for q in scales[: len(ratios)]]
    mu = lemma4.law(lam, sc)
    s = sp.prod(sc)
    assert mu.mean() == s
    assert sp.simplify(mu.variance() - s**2 * sum(lam)) == 0


@given(n=st.sampled_from([24, 32, 48]), ratios=st.lists(st.sampled_from([0.25, 0.5, 2 / 3, 1.0]),
       min_size=1, max_size=3), s=st.sampled_from([0.5, 1.0, 1.5]), seed=seeds)
def test_sampled_moments_converge(n, ratios, s, seed):
    out = check.check(ratios, [s] * len(ratios), [n, 2 * n], batch=4, rng=seed)
    assert_all_pass(out)


def test_extrapolation_is_richardson_with_two_sizes():
    e = check.extrapolate([10, 20], [[1.2, 1.2], [1.1, 1.1]])
    assert e.estimate == pytest.approx(1.0) and e.slope == pytest.approx(2.0)
    assert e.bias_budget == pytest.approx(4.0 / 1.0 / 200)


def test_bad_input():
    with pytest.raises(ValueError, match="ratios"):
        lemma4.law([0, 1])
    with pytest.raises(ValueError, match="ns"):
        check.extrapolate([10], [[1.0]])
