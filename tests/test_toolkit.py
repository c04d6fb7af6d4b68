"""numerics.checks.toolkit: the false-alarm policy, seed streams, outcome builders
and negative controls as perturbations of predictions."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from scipy import stats

from gapcheck.numerics.checks import VerifyConfig
from gapcheck.numerics.checks import toolkit as T
from gapcheck.numerics.stats import loglog_fit
from gapcheck.theory.model import SYMBOLS
from gapcheck.theory.registry import get


def test_policy_quantiles_follow_the_per_run_rate():
    a = T.alarm()
    assert a == pytest.approx(T.FALSE_ALARM_PER_RUN / T.STATISTICAL_OUTCOMES)
    # a correct normal statistic exceeds z() with probability alarm()
    assert 2 * stats.norm.sf(T.z()) == pytest.approx(a, rel=1e-9)
    assert stats.norm.sf(T.z(sides=1)) == pytest.approx(a, rel=1e-9)
    assert 2 * stats.t.sf(T.t(5), 5) == pytest.approx(a, rel=1e-9)
    assert T.t(math.inf) == T.z()
    # over the suite: at most FALSE_ALARM_PER_RUN expected false alarms per run
    assert T.STATISTICAL_OUTCOMES * a <= T.FALSE_ALARM_PER_RUN + 1e-15


def test_policy_calibration_by_simulation():
    """The band of a correct mean (SE known) fails at rate alarm(): with a larger
    alarm for the simulation's sake, 200 000 draws hit the nominal rate."""
    rng = np.random.default_rng(0)
    p = 0.01
    x = rng.standard_normal(200_000)
    rate = np.mean(np.abs(x) > T.z(p))
    assert abs(rate - p) < 4 * math.sqrt(p * (1 - p) / x.size)


def test_streams_depend_on_id_key_and_root_only():
    c1, c2 = VerifyConfig(seed=1), VerifyConfig(seed=2)
    assert T.seed(c1, "prop3", "a", 64) == T.seed(c1, "prop3", "a", 64)
    assert T.seed(c1, "prop3", "a", 64) != T.seed(c2, "prop3", "a", 64)
    assert T.seed(c1, "prop3", "a", 64) != T.seed(c1, "thm9", "a", 64)
    # injective encoding: no collision by concatenation or by type
    assert T.seed(c1, "ab", "c") != T.seed(c1, "a", "bc")
    assert T.seed(c1, "x", 1) != T.seed(c1, "x", "1")
    assert T.seed(c1, "x", 2**40) != T.seed(c1, "x", 2**40 % 2**32)
    g1, g2 = T.generator(c1, "prop3", 0), T.generator(c1, "prop3", 0)
    assert np.array_equal(g1.standard_normal(5), g2.standard_normal(5))


def test_band_judges_and_one_sided_budgets():
    kw = dict(predicted=1.0, se=0.01, judges=("mean",))
    assert T.band("m", {}, measured=1.0 + 0.9 * T.z() * 0.01, **kw).passed
    assert not T.band("m", {}, measured=1.0 + 1.1 * T.z() * 0.01, **kw).passed
    low = 1.0 - T.z() * 0.01 - 0.05
    assert not T.band("m", {}, measured=low, **kw).passed
    assert T.band("m", {}, measured=low, below=0.06, **kw).passed
    assert not T.band("m", {}, measured=2 - low, below=0.06, **kw).passed   # budget is one-sided
    o = T.band("m", {"n": 4}, measured=1.0, **kw)
    assert o.judges == ("mean",) and o.to_json()["judges"] == ["mean"]


def test_rate_and_bound_and_identity():
    ns = [64, 128, 256, 512]
    rng = np.random.default_rng(3)
    samples = [n ** -1.0 * np.exp(0.01 * rng.standard_normal(16)) for n in ns]
    fit = loglog_fit(ns, samples, rng=1, n_boot=500)
    assert T.rate("r", {}, fit, predicted=-1.0, max_width=0.25).passed
    assert not T.rate("r", {}, fit, predicted=-0.75, max_width=0.25).passed
    assert T.rate("r", {}, fit, predicted=-0.75, above=0.3).passed
    assert not T.rate("r", {}, fit, predicted=-1.0, max_width=1e-6).passed
    assert T.bound("b", {}, measured=1.0, limit=1.1, judges=("edge",)).passed
    assert not T.bound("b", {}, measured=1.2, limit=1.1, judges=("edge",)).passed
    assert T.bound("b", {}, measured=1.2, limit=1.1, upper=False, judges=("edge",)).passed
    assert T.identity("i", {}, measured=[1.0, 2.0], predicted=[1.0, 2.0 + 1e-13], judges=("x",)).passed
    assert not T.identity("i", {}, measured=[1.0], predicted=[1.001], judges=("x",)).passed


def test_limit_extrapolates_a_one_over_n_bias():
    ns = [100, 200, 400]
    rng = np.random.default_rng(5)
    samples = [2.0 + 3.0 / n + 0.001 * rng.standard_normal(8) for n in ns]
    ext = T.extrapolate(ns, samples)
    assert T.limit("lim", {}, ext, predicted=2.0, judges=("limit",)).passed
    assert not T.limit("lim", {}, ext, predicted=2.2, judges=("limit",)).passed
    with pytest.raises(ValueError, match="ns must list"):
        T.extrapolate([100], [[1.0]])


def test_controls_are_perturbations_of_the_prediction():
    result = get("prop3")
    model = result.example()
    truth = result.prediction(model)
    l, g = model.depth, model.value("gamma")
    up = T.shift("exponent", 0.25)(result.prediction)(model)
    assert up.exponent == truth.exponent + 0.25 and up.constant == truth.constant
    wrong_gamma = T.substitute("1+gamma -> 1+2gamma", ("constant",), gamma=lambda x: 2 * x)
    p = wrong_gamma(result.prediction)(model)
    closed = (1 + l * (1 + 2 * g)) / (1 + l * (1 + g))
    assert sympy.simplify(p.constant / truth.constant - closed) == 0
    deeper = T.remodel("l -> l+1", ("exponent",), lambda m: {"depth": m.depth + 1})(result.prediction)(model)
    assert deeper.exponent == truth.exponent - 2
    halved = T.substitute("2 sigma -> sigma", ("constant",), sigma_A2=lambda s: s / 4)(result.prediction)(model)
    assert sympy.simplify(halved.constant / truth.constant - sympy.Rational(1, 4) ** (2 * l)) == 0
    assert SYMBOLS["sigma_A2"] not in sympy.sympify(halved.constant).free_symbols
