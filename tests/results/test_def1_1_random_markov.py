"""Definition 1.1: Random Markov matrix (symbolic moments, sampled entries, negative controls)."""
from __future__ import annotations

import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import VerifyConfig, check_module
from gapcheck.theory.registry import get
from tests import strategies as S
from tests.contract import ResultContract, assert_all_pass

RESULT = get("def1.1")
CHECK = check_module(RESULT)


class TestContract(ResultContract):
    result_id = "def1.1"


def test_relative_variances_derived_from_ensembles():
    """The prediction of each ensemble against closed forms written here:
    sigma_A^2 = Var/mean^2 and b_1 = 3 m_2 sigma_A^2 - 2 (m_3 - m_2) from the raw
    moments of the mean-1 law (Exp(1): m_2 = 2, m_3 = 6; Uniform[0, 2]: 4/3, 2;
    lognormal, s = sigma_A^2: 1 + s, (1 + s)^3)."""
    from gapcheck.theory.model import SYMBOLS, AttentionModel
    from gapcheck.theory.results.def1_1 import ensemble_law

    def b1(s, m2, m3):
        return 3 * m2 * s - 2 * (m3 - m2)

    s2 = sympy.Symbol("s2", positive=True)
    assert sympy.simplify(ensemble_law("lognormal").sigma_A2 - (sympy.exp(s2) - 1)) == 0
    exp_ = RESULT.prediction(AttentionModel(n=64, ensemble="exponential"))
    uni = RESULT.prediction(AttentionModel(n=64, ensemble="uniform"))
    assert (exp_.variance, exp_.b1) == (1, b1(1, 2, 6)) == (1, -2)
    third = sympy.Rational(1, 3)
    assert (uni.variance, uni.b1) == (third, b1(third, 4 * third, 2)) == (third, 0)
    s = SYMBOLS["sigma_A2"]
    logn = RESULT.prediction(AttentionModel.symbolic())
    assert sympy.simplify(logn.b1 - b1(s, 1 + s, (1 + s) ** 3)) == 0 and logn.variance == s
    assert logn.b1.subs(s, 1) == -6 and (logn.row_sum, logn.mean) == (1, 1)


@S.expensive(4)
@given(ensemble=S.ensembles, seed=S.seeds,
       sigma_a2=st.sampled_from([None, 0.5, 2.0]))
def test_property_sampled_entries_match(ensemble, seed, sigma_a2):
    sa2 = sigma_a2 if ensemble == "lognormal" else None
    outs = CHECK.run(VerifyConfig(level="quick", seed=seed), params={"ensemble": ensemble, "sigma_a2": sa2})
    assert_all_pass(outs)


def test_prediction_reads_the_model():
    """predict(model) reads the ensemble and sigma_a2: b_1 = -s(1 + s)(1 + 2s) on the
    lognormal family (-6 at the paper's s = 1, -3/2 at s = 1/2), -2 for Exp(1), 0 for uniform."""
    from gapcheck.theory.model import AttentionModel
    half = sympy.Rational(1, 2)
    p = RESULT.prediction(AttentionModel(n=64, ensemble="lognormal", sigma_a2=half))
    assert (p.row_sum, p.mean, p.variance, p.b1) == (1, 1, half, -sympy.Rational(3, 2))
    assert RESULT.prediction(AttentionModel(n=64)).b1 == -6
    assert RESULT.prediction(AttentionModel(n=64, ensemble="exponential")).b1 == -2
    assert RESULT.prediction(AttentionModel(n=64, ensemble="uniform")).b1 == 0
    custom = AttentionModel(n=64, ensemble=lambda rng, shape: rng.random(shape), sigma_a2=half)
    assert "custom sampler" in RESULT.applies(custom)


def test_quick_level_samples_the_example():
    """The quick level (what `gapcheck verify --quick` runs) samples sigma_A^2 = 1/2, where
    b_1 = -3/2 is resolved at the small size (b_1 = 0 and b_1 x2 are rejected there)."""
    (case,) = CHECK.CHECK.cases(VerifyConfig(level="quick"))
    assert case.model.value("sigma_A2") == sympy.Rational(1, 2)


def test_bad_ensemble_is_a_clear_error():
    with pytest.raises(ValueError, match="ensemble"):
        RESULT.prediction(RESULT.example().replace(ensemble="cauchy"))
