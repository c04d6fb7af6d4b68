"""Lemma 4: mean prod s_i and variance (prod s_i)^2 sum lam_i of a free
product of Marchenko-Pastur laws, derived from S-transforms."""
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from numerics.checks import VerifyConfig, lemma4 as check
from theory.registry import get
from theory.results import lemma4
from tests.strategies import rationals, seeds


def test_registered():
    assert get("lemma4").empirical_check == "numerics.checks.lemma4"


def test_symbolic_checks_pass():
    out = lemma4._symbolic_checks()
    assert len(out) == 11 and all(o.passed for o in out), [o.name for o in out if not o.passed]


def test_symbolic_k_formula():
    g = lemma4.general()
    assert g["relative_variance"] == sp.Sum(lemma4.LAM[lemma4._I], (lemma4._I, 1, lemma4.K))


@given(ratios=st.lists(rationals.filter(lambda q: q <= 1), min_size=1, max_size=3),
       scale=rationals)
def test_exact_ratios_match_closed_form(ratios, scale):
    scales = [scale] * len(ratios)
    mu = lemma4.law([sp.Rational(r.numerator, r.denominator) for r in ratios],
                    [sp.Rational(scale.numerator, scale.denominator)] * len(ratios))
    s = sp.Rational(scale.numerator, scale.denominator) ** len(ratios)
    assert mu.mean() == s
    assert sp.nsimplify(mu.variance() - s**2 * sum(sp.Rational(r.numerator, r.denominator)
                                                   for r in ratios)) == 0


@given(n=st.sampled_from([24, 32, 48]), ratios=st.lists(st.sampled_from([0.25, 0.5, 2 / 3, 1.0]),
       min_size=1, max_size=3), s=st.sampled_from([0.5, 1.0, 1.5]), seed=seeds)
def test_sampled_moments_converge(n, ratios, s, seed):
    out = check.check(ratios, [s] * len(ratios), [n, 2 * n], batch=4, rng=seed)
    assert all(o.passed for o in out), [(o.name, o.measured, o.predicted, o.detail) for o in out]


def test_default_run_passes(verify_config):
    out = check.run(verify_config)
    assert out and all(o.passed for o in out), [(o.name, o.params, o.measured, o.predicted)
                                                for o in out if not o.passed]


@pytest.mark.parametrize("name", sorted(check.NEGATIVE_CONTROLS))
def test_negative_control_rejected(name):
    out = check.run(VerifyConfig(level="quick"), predict=check.NEGATIVE_CONTROLS[name])
    assert any(not o.passed for o in out), f"perturbation {name!r} was accepted"


def test_extrapolation_is_richardson_with_two_sizes():
    e = check.extrapolate([10, 20], [[1.2, 1.2], [1.1, 1.1]])
    assert e.estimate == pytest.approx(1.0) and e.slope == pytest.approx(2.0)
    assert e.bias_budget == pytest.approx(4.0 / 1.0 / 200)


def test_bad_input():
    with pytest.raises(ValueError, match="ratios"):
        lemma4.law([0, 1])
    with pytest.raises(ValueError, match="ns"):
        check.extrapolate([10], [[1.0]])
