"""kq.bulk: the first-layer key-query bulk law KQ(gamma, v, sigma_A^2 - v).

The contract runs the symbolic derivation (variance split, R-transform,
quartic, two numerical routes to 25 digits) and the sampled check with its
negative controls (QC(sigma_A), swapped variances) at the quick level; the
default/thorough grids (n to 512 / 2048) run under ``--runslow``.
"""
from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from gapcheck.numerics.checks import VerifyConfig
from gapcheck.numerics.checks import kq_bulk as check
from gapcheck.theory.laws import FussCatalan, KeyQueryBulk, QuarterCircle, free_product, MarchenkoPastur
from tests.contract import ResultContract, assert_all_pass


class TestContract(ResultContract):
    result_id = "kq.bulk"
    n_symbolic = 14
    level = "quick"
    controls_level = "quick"


fractions = st.fractions(min_value=sympy.Rational(1, 8), max_value=1, max_denominator=8)


@settings(deadline=None, max_examples=10)
@given(gamma=fractions, v=fractions, s2=st.fractions(min_value=0, max_value=2, max_denominator=8))
def test_even_moments_are_the_free_additive_convolution(gamma, v, s2):
    """m_2 = v + s2 (the Prop 1 variance survives) and m_4 = 2(v + s2)^2 + gamma v^2: the
    fourth free cumulant gamma v^2 is the only departure from QC (fails for 1 + gamma -> 1 + 2 gamma)."""
    law = KeyQueryBulk(gamma, v, s2)
    m2, m4 = law.even_moments(2)
    g, v_, s = (sympy.Rational(x.numerator, x.denominator) for x in (gamma, v, s2))
    assert m2 == v_ + s
    assert m4 == 2 * (v_ + s)**2 + g * v_**2


def test_linear_part_at_gamma_one_is_fuss_catalan():
    v = sympy.Rational(1, 9)
    ev = KeyQueryBulk(1, v, 0).even_moments(5)
    assert ev == FussCatalan(2, sympy.sqrt(v)).moments(5)
    assert ev == free_product(MarchenkoPastur(1, v), MarchenkoPastur(1)).moments(5)


def test_edge_and_density_two_routes_agree_to_25_digits():
    law = KeyQueryBulk(sympy.Rational(3, 4), sympy.Rational(1, 2), sympy.Rational(1, 3))
    with mpmath.workdps(40):
        e1, e2 = law.edge(dps=30), law.edge(dps=30, method="biane")
        assert abs(e1 - e2) < mpmath.mpf(10) ** -25
        for x in (e1 / 7, e1 / 2, e1 * 9 / 10):
            p1, p2 = law.pdf(x, dps=30), law.pdf(x, dps=30, method="subordination")
            assert abs(p1 - p2) < mpmath.mpf(10) ** -25 * max(1, abs(p1))
            assert float(p1) > 0


def test_density_integrates_to_one_and_reproduces_m2():
    law = KeyQueryBulk(1, 1, sympy.E - 2)
    assert abs(law._cdf_table[1][-1] - 1) == 0 and abs(law._cdf_mass - 1) < 1e-8
    b = float(law.support()[1])
    x = np.linspace(0, b, 200001)[1:-1]
    m2 = np.trapezoid(x**2 * law.pdf_numpy(x), x)
    assert abs(m2 - float(sympy.E - 1)) < 1e-4


def test_gamma_zero_is_the_quarter_circle():
    law, qc = KeyQueryBulk(0, 1, sympy.Rational(1, 2)), QuarterCircle(sympy.Rational(3, 2))
    assert abs(law.edge(dps=20) - 2 * mpmath.sqrt(mpmath.mpf(3) / 2)) < 1e-14
    x = np.linspace(0.1, 2.3, 7)
    assert np.allclose(law.cdf_numpy(x), qc.cdf_numpy(x), atol=1e-7)


def test_edge_above_the_random_markov_edge_and_xavier_ratio():
    """Xavier (v = 1/d^2, nonlinear ~ v^2/2): edge / (2 sigma_A) -> sqrt(27/4)/2 = 1.299."""
    d = 1024
    v = sympy.Rational(1, d**2)
    sA2 = (1 - 2 * v / d) ** (-sympy.Rational(d, 2)) - 1
    law = KeyQueryBulk(1, v, sA2 - v)
    # mpmath, not sympy.sqrt: sympy looks for an exact root of the 15000-bit rational (45 s)
    ratio = float(law.edge(dps=20)) / (2 * float(mpmath.sqrt(mpmath.mpf(sA2.p) / sA2.q)))
    assert abs(ratio - float(sympy.sqrt(sympy.Rational(27, 4)) / 2)) < 1e-5


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="gamma"):
        KeyQueryBulk(2, 1, 1)
    with pytest.raises(ValueError, match="linear"):
        KeyQueryBulk(1, 0, 1)
    with pytest.raises(ValueError, match="nonlinear"):
        KeyQueryBulk(1, 1, -1)
    with pytest.raises(ValueError, match="odd moment"):
        KeyQueryBulk(sympy.Symbol("g", positive=True), 1, 1).moment(1)


def test_ks_distance_scale_of_the_truth_and_of_qc():
    """Power of the quick grid: in every case QC(sigma_A) is at least twice as far (KS) from
    the measured ESD as the predicted law, and beyond the tolerance."""
    config = VerifyConfig(level="quick")
    truth = {o.params["case"]: o.measured for o in check.run(config) if o.name.startswith("ESD")}
    bad = {o.params["case"]: o.measured
           for o in check.run(config, predict=check.NEGATIVE_CONTROLS["Random Markov QC(sigma_A)"])
           if o.name.startswith("ESD")}
    tol = check.KS_C / np.sqrt(256)
    assert truth.keys() == bad.keys() and len(truth) == 2
    assert all(bad[c] > max(2 * truth[c], tol) for c in truth), (truth, bad)


@pytest.mark.slow
@pytest.mark.parametrize("level", ["default", "thorough"])
def test_larger_grids(level):
    assert_all_pass(check.run(VerifyConfig(level=level)))


def test_prediction_at_xavier_width_2048_keeps_the_edge_exact():
    """Xavier's sigma_A^2 at d = 2048 is a rational of ~30000 bits; its root is
    kept unevaluated (sympy's search for square factors took 75 s) and equals
    2 sqrt(sigma_A^2) to 30 digits, and sigma_A^2 ~ sigma_QK^4 = 1/d^2 under Xavier."""
    from gapcheck.theory.model import AttentionModel, Scale
    from gapcheck.theory.registry import get
    m = AttentionModel(n=2048, depth=1, attention="key-query", sigma_qk2=Scale.xavier())
    p = get("kq.bulk").predict(m)
    assert p.sigma_A2.is_Rational and p.sigma_A2.q.bit_length() > 10000
    with mpmath.workdps(40):
        exact = 2 * mpmath.sqrt(mpmath.mpf(p.sigma_A2.p) / p.sigma_A2.q)
        assert abs(sympy.N(p.qc_edge, 35) - sympy.Float(exact, 35)) < mpmath.mpf(10) ** -30 * exact
    assert float(p.sigma_A2) * 2048**2 == pytest.approx(1, rel=1e-3)
