"""Proposition 1: first-layer key-query attention is a Random Markov matrix."""
from __future__ import annotations

import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import VerifyConfig, check_module
from gapcheck.theory.registry import get
from tests import strategies as S
from tests.contract import ResultContract, assert_all_pass

RESULT = get("prop1")
CHECK = check_module(RESULT)


class TestContract(ResultContract):
    result_id = "prop1"


def test_moments_derived_by_integration():
    from gapcheck.theory.results import prop1 as P
    assert sympy.simplify(P.product_gaussian_mgf() - (1 - P.t ** 2) ** sympy.Rational(-1, 2)) == 0
    from gapcheck.theory.model import AttentionModel
    kq = dict(attention="key-query", sigma_qk2=1)
    p = RESULT.prediction(AttentionModel(n=256, gamma=sympy.Rational(1, 2), **kq))     # d_k = d = 512, v = 1
    assert abs(float(p.sigma_A2) - 1.7236) < 1e-3      # docs/derivations.md, prop1: 1.724
    assert abs(float(P.marginal_relative_variance(512, 1)) - 1.7369) < 1e-3         # the i.i.d.-entry reading
    assert "fourth moment" in RESULT.applies(AttentionModel(n=16, **kq))            # d_k = 16 = 16 v
    assert RESULT.applies(AttentionModel(n=17, **kq)) is None


def test_bessel_k0_density():
    from gapcheck.theory.results.prop1 import bessel_density_moment
    assert [bessel_density_moment(k) for k in (0, 1, 2, 3, 4)] == [1, 0, 1, 0, 9]


def test_prediction_reads_the_model():
    """d_k = d = n/gamma and v = sigma_QK^4 from the description; the model's own
    sigma_A^2 (theory.model) is the same derivation (theory.key_query)."""
    from gapcheck.theory.model import AttentionModel
    model = RESULT.example()                       # sigma_QK^2 = 3/4, gamma = 1/2, n = 128: d_k = 256
    p = RESULT.prediction(model)
    assert p.logit_variance == sympy.Rational(9, 16) and p.xavier_exponent == -1
    dk, v = sympy.Integer(256), sympy.Rational(9, 16)
    assert sympy.simplify(p.sigma_A2 - ((1 - 2 * v / dk) ** (-dk / 2) - 1)) == 0   # (1 - 2v/d_k)^(-d_k/2) - 1
    assert sympy.simplify(p.sigma_A2 - model.sigma_A2) == 0
    # a wrong power of the key/query scale changes the logit variance at this point
    assert RESULT.prediction(model.replace(sigma_qk2=sympy.Rational(9, 16))).logit_variance != p.logit_variance
    with pytest.raises(ValueError, match="prop1 does not apply.*first layer"):
        RESULT.prediction(model.replace(depth=2))
    with pytest.raises(ValueError, match="prop1 does not apply.*fourth moment"):
        RESULT.prediction(AttentionModel(n=16, attention="key-query", sigma_qk2=2))


@S.expensive(3)
@given(sigma_qk2=st.sampled_from([0.5, 0.75, 0.9]), gamma=st.sampled_from([0.5, 1]), seed=S.seeds)
def test_property_within_row_variance(sigma_qk2, gamma, seed):
    outs = CHECK.run(VerifyConfig(level="quick", seed=seed), params={"sigma_qk2": sigma_qk2, "gamma": gamma})
    assert_all_pass(outs)


def test_finding_outliers_when_d_k_much_smaller_than_n(verify_config):
    outs = CHECK.run(verify_config)
    (finding,) = [o for o in outs if o.name.startswith("finding: d_k << n")]
    assert finding.passed and finding.measured > 1.2


def test_bad_input():
    with pytest.raises(ValueError, match="sigma_qk2 must be > 0"):
        RESULT.prediction(RESULT.example().replace(sigma_qk2=0))


def test_finding_edge_above_random_markov_in_the_papers_regime(verify_config):
    """d_k = d = 4n: the key-query edge exceeds 2 sigma_A by several per cent, more than a
    lognormal Random Markov matrix with the same sigma_A (docs/derivations.md, section prop1: 5-10%)."""
    outs = CHECK.run(verify_config)
    (finding,) = [o for o in outs if o.name.startswith("finding: d_k = d")]
    assert finding.passed and finding.measured > 1.02 and finding.measured > finding.predicted


def test_finding_second_layer_is_not_random_markov(verify_config):
    outs = CHECK.run(verify_config)
    (finding,) = [o for o in outs if o.name.startswith("finding: beyond the first layer")]
    assert finding.passed, finding.measured
