"""Proposition 6: without the gap, E||dX_L/dW_l||_F^2 ~ n with constant
sigma_A^(2L) sigma_V^(2(L-1)) gamma^(-L), derived as a product of first moments."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import VerifyConfig, prop6 as check
from gapcheck.numerics.checks import toolkit as T
from gapcheck.theory.model import AttentionModel
from gapcheck.theory.registry import get
from gapcheck.theory.results import prop6
from tests.contract import ResultContract, assert_all_pass
from tests.strategies import ensembles, seeds


def test_registered():
    r = get("prop6")
    assert r.empirical_check == "gapcheck.numerics.checks.prop6" and r.findings


class TestContract(ResultContract):
    result_id = "prop6"
    n_symbolic = 11


def test_prediction_at_the_example_is_the_closed_form():
    """sigma_A^2 = 3/4, sigma_V^2 = 3/2, gamma = 1/2, L = 2: (3/4)^2 (3/2)^1 2^2 = 27/8
    (sigma_V^(2L) would give 81/16, gamma^-(L-1) 27/16)."""
    e = get("prop6").example()
    assert get("prop6").prediction(e).constant == sp.Rational(27, 8)
    assert "remove_gap" in get("prop6").applies(e.replace(remove_gap=0))


def test_constant_is_independent_of_layer_and_rejects_perturbations():
    c = prop6.general()["constant"]
    assert prop6.LAYER not in c.free_symbols
    L, g, a, v = prop6.DEPTH, prop6.GAMMA, prop6.SA2, prop6.SV2
    for wrong in (a ** (L + 1) * v**L / g ** (L + 1), a**L * v ** (L - 1) / g ** (L + 1),
                  a ** (L / 2) * v ** ((L - 1) / 2) / g**L):
        assert sp.simplify(sp.powsimp(c - wrong, force=True)) != 0


@given(n=st.sampled_from([16, 24, 32]), L=st.integers(1, 3), gamma=st.sampled_from([1, 0.5]),
       ensemble=ensembles, sigma_v2=st.sampled_from([sp.Rational(16, 25), 1, sp.Rational(3, 2)]), seed=seeds)
def test_sampled_constant_converges(n, L, gamma, ensemble, sigma_v2, seed):
    model = AttentionModel(n=2 * n, depth=L, gamma=gamma, ensemble=ensemble, sigma_v2=sigma_v2,
                           remove_gap=1)
    case = T.Case(model, (n, 2 * n), 4, f"hypothesis {model!r}")
    config = VerifyConfig(seed=seed)
    out = check.CHECK.compare(config, case, check.CHECK.measured(config, case),
                              get("prop6").prediction(model))
    assert_all_pass([o for o in out if o.name.startswith("constant")])


def test_slope_bias_matches_exact_correction():
    ns = np.array([50.0, 100.0, 200.0])
    vals = [[n * (1 - 10 / n)] * 2 for n in ns]
    fit = np.polyfit(np.log(ns), np.log([v[0] for v in vals]), 1)[0]
    assert T.slope_bias(ns, -10.0) == pytest.approx(fit - 1, abs=1e-12)


def test_correction_bias_reads_the_data_not_the_prediction():
    """The slope allowance comes from the norms divided by the integer power
    nearest their fitted slope: it recovers the exact O(1/n) correction at
    exponents 1 and 2 and takes no exponent under test."""
    ns = [64, 128, 256]
    for e in (1, 2):
        data = [[n**e * (1 - 10 / n)] * 2 for n in ns]
        assert T.correction_bias(ns, data) == pytest.approx(T.slope_bias(ns, -10.0), abs=1e-12)


def test_exponent_controls_fail_the_rate_outcome():
    """Found when migrating prop4: with the allowance read off data divided by the
    predicted exponent, exponent +-0.25 passed every rate outcome (only the limit
    rejected them); now the rate outcome judging the exponent rejects them too."""
    config = VerifyConfig(level="quick")
    for name in ("exponent+0.25", "exponent-0.25"):
        out = check.run(config, predict=check.NEGATIVE_CONTROLS[name](get("prop6").prediction))
        rates = [o for o in out if o.name.startswith("rate")]
        assert rates and not any(o.passed for o in rates), name


@pytest.mark.slow
def test_thorough_level():
    assert_all_pass(check.run(VerifyConfig(level="thorough")))


def test_bad_input():
    with pytest.raises(ValueError, match="l must be an integer"):
        prop6.constants(2, 3, 1, 1, 1)
    with pytest.raises(ValueError, match="gamma"):
        prop6.constants(1, 1, 0, 1, 1)
    with pytest.raises(ValueError, match="does not apply"):
        get("prop6").prediction(AttentionModel(n=8, depth=2, attention="identity"))
