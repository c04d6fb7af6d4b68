"""Lemma 4: mean prod s_i and variance (prod s_i)^2 sum lam_i of a free
product of Marchenko-Pastur laws, derived from S-transforms."""
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import VerifyConfig, lemma4 as check
from gapcheck.numerics.checks.toolkit import Case, extrapolate
from gapcheck.theory.model import AttentionModel
from gapcheck.theory.registry import get
from gapcheck.theory.results import lemma4
from tests import strategies as S
from tests.contract import ResultContract, assert_all_pass
from tests.strategies import rationals, seeds


def test_registered():
    assert get("lemma4").empirical_check == "gapcheck.numerics.checks.lemma4"


class TestContract(ResultContract):
    result_id = "lemma4"
    n_symbolic = 15


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


def test_prediction_reads_the_model():
    """predict(model) is the stack's instance MP(1, sigma_A^2)^l boxtimes MP(gamma, sigma_V^2)^l:
    mean (sigma_A^2 sigma_V^2)^l, variance mean^2 l (1 + gamma); the general lists stay in moments()."""
    m = AttentionModel(n=64, depth=3, gamma=sp.Rational(1, 4), ensemble="uniform", sigma_v2=2)
    p = get("lemma4").prediction(m)
    assert p.mean == sp.Rational(2, 3) ** 3 and p.variance == sp.Rational(2, 3) ** 6 * 3 * sp.Rational(5, 4)
    assert check.factors(m) == ([1.0] * 3 + [0.25] * 3, [1 / 3] * 3 + [2.0] * 3)
    assert lemma4.moments([1, 0.25], [1 / 3, 2])["variance"] == pytest.approx((2 / 3) ** 2 * 1.25)
    assert "LayerNorm" in get("lemma4").applies(m.replace(layernorm=True))


def test_quick_level_samples_the_example():
    (case,) = check.CHECK.cases(VerifyConfig(level="quick"))
    assert case.model.replace(n=96) == get("lemma4").example()


@S.expensive(3)
@given(depth=st.integers(1, 2), gamma=S.gammas, ensemble=st.sampled_from(["uniform", "exponential"]),
       sigma_v2=st.sampled_from([sp.Rational(1, 2), 1, sp.Rational(3, 2)]), seed=seeds)
def test_sampled_moments_converge(depth, gamma, ensemble, sigma_v2, seed):
    model = AttentionModel(n=48, depth=depth, gamma=sp.Rational(gamma.numerator, gamma.denominator),
                           ensemble=ensemble, sigma_v2=sigma_v2)
    case, cfg = Case(model, (24, 48), 6, "property"), VerifyConfig(level="quick", seed=seed)
    assert_all_pass(check.CHECK.compare(cfg, case, check.CHECK.measure(cfg, case), get("lemma4").predict(model)))


def test_extrapolation_is_richardson_with_two_sizes():
    e = extrapolate([10, 20], [[1.2, 1.2], [1.1, 1.1]])
    assert e.estimate == pytest.approx(1.0) and e.slope == pytest.approx(2.0)
    assert e.bias_budget == pytest.approx(4.0 / 1.0 / 200)


def test_bad_input():
    with pytest.raises(ValueError, match="ratios"):
        lemma4.law([0, 1])
    with pytest.raises(ValueError, match="ns"):
        extrapolate([10], [[1.0]])
    with pytest.raises(ValueError, match="ratios"):
        check.sample_moments(8, [0], [1], batch=1)
