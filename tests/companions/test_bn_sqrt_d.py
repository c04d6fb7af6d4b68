"""bn.sqrt-d (Daneshmand et al. E2): the batch-normalised chain keeps r(H H^T) = Theta(sqrt d)."""
import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.numerics.checks import VerifyConfig, bn_sqrt_d as check
from gapcheck.numerics.companions.products import bn_chain
from gapcheck.theory.registry import get
from tests.contract import ResultContract, assert_all_pass


def test_registered_as_companion_with_grade():
    r = get("bn.sqrt-d")
    assert r.kind == "companion" and "grade C" in r.source
    p = r.prediction(r.example().replace(d=16))
    assert (p.growth, p.exponent, p.collapsed) == (4, sympy.Rational(1, 2), 1)
    assert "small step" in r.applies(r.example().replace(sigma_v2=sympy.Rational(1, 4)))


@given(d=st.integers(2, 12), seed=st.integers(0, 2**32 - 1))
def test_soft_rank_between_one_and_d_and_rows_normalised(d, seed):
    avg, trace = bn_chain(d, 40, gamma=0.1, burn_in=5, batch=3, rng=seed, record_every=10)
    assert np.all(avg >= 1 - 1e-12) and np.all(avg <= d + 1e-12)
    assert trace.shape == (4, 3)


def test_bn_keeps_rank_where_the_vanilla_chain_collapses():
    bn_avg, _ = bn_chain(16, 1500, gamma=0.1, burn_in=1000, batch=4, rng=3)
    van, _ = bn_chain(16, 1500, gamma=0.1, burn_in=1000, batch=4, rng=3, normalise="frobenius")
    assert bn_avg.mean() > 0.5 * 4 and van.mean() < 1.2


def test_bad_input():
    with pytest.raises(ValueError, match="burn_in"):
        bn_chain(4, 10, gamma=0.1, burn_in=10)
    with pytest.raises(ValueError, match="gamma"):
        bn_chain(4, 10, gamma=0.0, burn_in=1)
    with pytest.raises(ValueError, match="normalise"):
        bn_chain(4, 10, gamma=0.1, burn_in=1, normalise="columns")


class TestContract(ResultContract):
    result_id = "bn.sqrt-d"
    symbolic = False


@pytest.mark.slow
def test_thorough_run_passes():
    out = check.run(VerifyConfig(level="thorough"))
    assert_all_pass(out)
