"""Giorlandino-Goldt REM statements A1-A5: gg.rem-mapping, gg.freezing,
gg.participation, gg.entropy, gg.output-moments (symbolic derivations,
property tests, empirical checks and their negative controls)."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.companions.rem import layernorm, ln_tokens, rem_rows, rem_statistics, token_overlap
from gapcheck.theory.companions import gg
from gapcheck.theory.registry import get
from tests.contract import contracts

IDS = ["gg.rem-mapping", "gg.freezing", "gg.participation", "gg.entropy", "gg.output-moments"]
globals().update(contracts(IDS, level="quick"))


@pytest.mark.parametrize("rid", IDS)
def test_registered_as_companion_with_grade(rid):
    r = get(rid)
    assert r.kind == "companion"
    assert "Giorlandino" in r.source and "grade" in r.source


# ---------------------------------------------------------------- derivations

def test_free_energy_entropy_and_freezing_point_are_derived():
    assert sympy.simplify(gg.rem_annealed_free_energy() - (1 + gg.b**2 / 2)) == 0
    assert gg.freezing_point() == sympy.sqrt(2)
    # the frozen line is tangent: a perturbed freezing point breaks the tangency
    f = gg.rem_annealed_free_energy()
    bad = sympy.Rational(6, 5) * sympy.sqrt(2)
    assert sympy.simplify(sympy.diff(f, gg.b).subs(gg.b, bad) - f.subs(gg.b, bad) / bad) != 0


@given(q=st.fractions(min_value=Fraction(1, 4), max_value=3, max_denominator=12),
       frac=st.fractions(min_value=0, max_value=Fraction(9, 10), max_denominator=10))
def test_beta_c_pq_puts_beta_eff_at_sqrt2(q, frac):
    p = q * frac
    bc = gg.freezing_point_pq(q, p)
    assert sympy.simplify(gg.beta_eff(bc, q, p) - sympy.sqrt(2)) == 0
    assert sympy.simplify(bc - sympy.sqrt(2 / (sympy.Rational(q) * (sympy.Rational(q) - p)))) == 0


@given(m=st.fractions(min_value=Fraction(1, 20), max_value=Fraction(19, 20), max_denominator=40))
def test_poisson_dirichlet_moments(m):
    mm = sympy.Rational(m.numerator, m.denominator)
    assert gg.pd_power_sum(1, mm) == 1
    assert gg.pd_power_sum(2, mm) == 1 - mm
    var = gg.pd_power_sum(4, mm) + gg.pd_pair_sum(2, 2, mm) - gg.pd_power_sum(2, mm) ** 2
    assert sympy.simplify(var - mm * (1 - mm) / 3) == 0
    assert sympy.simplify(var - mm * (1 - mm) / 2) != 0


def test_frozen_entropy_law_values_and_domain():
    # m = 1/2: psi(1) - psi(1/2) = 2 log 2
    assert abs(float(gg.frozen_entropy_law(2 * sympy.sqrt(2))) - 2 * math.log(2)) < 1e-12
    with pytest.raises(ValueError, match="freezing point"):
        gg.frozen_entropy_law(1)


def test_expected_max_exact_small_T():
    assert abs(gg.expected_max_gaussian(2) - 1 / math.sqrt(math.pi)) < 1e-12
    assert abs(gg.expected_max_gaussian(3) - 3 / (2 * math.sqrt(math.pi))) < 1e-12
    assert abs(gg.expected_max_gaussian(1)) < 1e-12


def test_beta_c_finite_values_match_companions():
    got = [round(gg.beta_c_finite(T), 3) for T in (512, 1024, 4096, 10**6)]
    assert got == [1.219, 1.234, 1.257, 1.308]  # quoted rounded to 1.309 (docs/derivations.md, gg.freezing)
    assert all(x < math.sqrt(2) for x in got)


def test_participation_and_entropy_laws():
    assert gg.participation_law(1) == 0
    assert gg.participation_law(4) == 1 - sympy.sqrt(2) / 4
    assert gg.participation_variance_law(1) == 0
    assert gg.entropy_law(sympy.Rational(1, 2)) == sympy.Rational(7, 8)
    assert gg.entropy_law(3) == 0
    assert gg.participation_ratio(0.5, 1024) == 0.0
    assert abs(gg.participation_ratio(4.0) - (1 - math.sqrt(2) / 4)) < 1e-15


def test_output_moments_formula():
    q, p, Y = sympy.symbols("q p Y")
    qa, pa = gg.attention_output_moments(q, p, Y, sigma_v2=2, sigma_b2=sympy.Rational(1, 3))
    assert sympy.simplify(qa - (2 * (p + (q - p) * Y) + sympy.Rational(1, 3))) == 0
    assert sympy.simplify(pa - (2 * p + sympy.Rational(1, 3))) == 0


@pytest.mark.parametrize("bad", [dict(beta=0), dict(beta=1, q=-1), dict(beta=1, q=1, p=2)])
def test_beta_eff_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        gg.beta_eff(**bad)


def test_beta_c_finite_rejects_bad_T():
    with pytest.raises(ValueError, match="T must be an integer"):
        gg.beta_c_finite(1)
    with pytest.raises(ValueError, match="T must be an integer"):
        gg.beta_c_finite(2.5)


# ---------------------------------------------------------------- samplers

@given(seed=st.integers(0, 2**32 - 1), beta=st.floats(0.0, 5.0))
def test_rem_rows_are_probability_vectors_and_seeded(seed, beta):
    w = rem_rows(300, beta, reps=3, rng=seed)
    assert np.allclose(w.sum(axis=1), 1.0) and (w >= 0).all()
    assert np.array_equal(w, rem_rows(300, beta, reps=3, rng=seed))


def test_rem_statistics_agree_with_rows():
    Y, H, F = rem_statistics(500, 2.0, reps=4, rng=3)
    w = rem_rows(500, 2.0, reps=4, rng=3)
    assert np.allclose(Y, (w * w).sum(1))
    assert np.allclose(H, -(w * np.log(w)).sum(1))


@given(seed=st.integers(0, 2**32 - 1), p=st.sampled_from([0.0, 0.3, 0.7]))
def test_ln_tokens_overlap(seed, p):
    X = ln_tokens(64, 512, p, batch=4, rng=seed)
    po, qo = token_overlap(X)
    assert np.allclose(qo, 1.0)
    # the shared component's feature mean is removed by LN: overlap p up to O(d^-1/2)
    assert abs(po.mean() - p) < 6 / math.sqrt(512)


def test_layernorm_and_validation():
    X = np.random.default_rng(0).standard_normal((2, 5, 7)) * 3 + 1
    Y = layernorm(X)
    assert np.allclose(Y.mean(-1), 0) and np.allclose((Y * Y).mean(-1), 1)
    with pytest.raises(ValueError, match="p must be in"):
        ln_tokens(4, 8, 1.0)
    with pytest.raises(ValueError, match="T must be an integer"):
        rem_rows(1, 1.0, reps=2)


# ---------------------------------------------------------------- predictions from the model

def test_model_reads_the_authors_scales():
    m = gg.rem_example()
    assert (m.n, m.d, gg.model_beta(m), gg.model_sigma_v2(m)) == (128, 256, 2, sympy.Rational(3, 2))
    # beta = d sigma_QK^2 / sqrt(log n): the sampler's entry std is the authors' sqrt(beta) (log T)^(1/4)/sqrt(d)
    from gapcheck.numerics.companions.rem import qk_std
    assert abs(math.sqrt(float(m.sigma_QK2)) - qk_std(2, 128, 256)) < 1e-15


def test_rem_results_apply_to_one_key_query_layer():
    """A1-A5 and A10 cover one softmax key-query layer, A itself (shared example)."""
    ex = gg.rem_example()
    outside = {"key-query": ex.replace(attention="markov"), "remove_gap": ex.replace(remove_gap=1),
               "paper-code": ex.replace(block="paper-code")}
    for rid in IDS + ["gg.qk-gradients"]:
        r = get(rid)
        assert r.example() == ex and r.applies(ex) is None
        assert all(word in r.applies(m) for word, m in outside.items()), rid


def test_rem_mapping_prediction_in_the_models_scales():
    """beta_eff^2 log T = beta^2 q (q - p) log n with beta from sigma_QK^2: a wrong power
    of d, sigma_QK^2 or log n changes it."""
    m = gg.authors_model(64, 128, sympy.Rational(3, 2))
    v = get("gg.rem-mapping").prediction(m).logit_variance
    assert sympy.simplify(v - sympy.Rational(9, 4) * gg.q * (gg.q - gg.p) * sympy.log(64)) == 0


def test_freezing_point_function_is_the_quadrature():
    n = sympy.Symbol("n", positive=True, integer=True)
    assert abs(float(gg.FreezingPointT(1024)) - gg.beta_c_finite(1024)) < 1e-15
    assert gg.FreezingPointT(n).subs(n, 512).evalf(20) == sympy.Float(gg.beta_c_finite(512), 20)
    p = get("gg.freezing").prediction(gg.authors_model(512, 1024, 3))
    assert abs(float(p.frozen_free_energy.subs({gg.q: 1, gg.p: 0})) - 3 * gg.beta_c_finite(512)) < 1e-12


def test_participation_output_and_entropy_in_the_models_scales():
    frozen, fluid = gg.authors_model(128, 256, 4, sigma_v2=sympy.Rational(3, 512)), gg.authors_model(128, 256, sympy.Rational(1, 2))
    m = gg.beta_c_finite(128) / 4
    at = {gg.q: 1, gg.p: 0}
    p = get("gg.participation").prediction(frozen)
    assert abs(float(p.mean.subs(at)) - (1 - m)) < 1e-12
    assert abs(float(p.variance.subs(at)) - m * (1 - m) / 3) < 1e-12
    assert get("gg.participation").prediction(fluid).mean.subs(at) == 0
    o = get("gg.output-moments").prediction(frozen)
    at3 = {gg.q: 1, gg.p: sympy.Rational(3, 10)}
    y = 1 - gg.beta_c_finite(128) / (4 * math.sqrt(0.7))
    assert abs(float(o.q_att.subs(at3)) - 1.5 * (0.3 + 0.7 * y)) < 1e-12
    assert o.p_att.subs(at3) == sympy.Rational(9, 20)
    e = get("gg.entropy").prediction(fluid)
    assert e.fluid.subs(at) == sympy.Rational(7, 8)
    h = float(get("gg.entropy").prediction(frozen).frozen.subs(at))
    assert abs(h - float(sympy.polygamma(0, 1) - sympy.polygamma(0, 1 - m))) < 1e-12
