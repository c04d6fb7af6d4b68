"""dong.skip-conserves (Dong et al. C4): (I - J)(X + J X W) = (I - J) X."""
import numpy as np
from hypothesis import given, strategies as st

from gapcheck.numerics.companions.residual import init_san, residual_mean, san_forward
from gapcheck.theory.companions import dong
from gapcheck.theory.model import AttentionModel
from gapcheck.theory.registry import get
from tests.contract import ResultContract


def test_registered_and_symbolic_identity():
    r = get("dong.skip-conserves")
    assert r.kind == "companion" and "grade A" in r.source
    assert dong.skip_conservation_defect(3, 3).is_zero_matrix


@given(n=st.integers(2, 7), d=st.integers(1, 5), heads=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_centred_part_conserved_and_relative_residual_shrinks(n, d, heads, seed):
    X0 = np.random.default_rng(seed).standard_normal((n, d))
    Xs = san_forward(X0, init_san(d, 12, heads=heads, sigma_v=1.5, rng=seed), skip=True, uniform=True)
    scale = max(np.abs(X).max() for X in Xs)
    assert all(np.abs(residual_mean(X) - residual_mean(X0)).max() <= 1e3 * np.finfo(float).eps * scale
               for X in Xs)


def test_without_uniform_attention_the_residual_moves():
    X0 = np.random.default_rng(0).standard_normal((5, 4))
    Xs = san_forward(X0, init_san(4, 3, rng=1), skip=True)
    assert np.abs(residual_mean(Xs[-1]) - residual_mean(X0)).max() > 1e-3


def test_prediction_is_conservation_for_every_residual_model():
    r = get("dong.skip-conserves")
    p = r.prediction(AttentionModel.symbolic(attention="key-query", skip="standard"))
    assert p.values() == {"centred_ratio": 1, "centred_change": 0}
    ex = r.example()
    assert r.applies(ex) is None
    assert "skip" in r.applies(ex.replace(skip=None))
    assert "uniform attention" in r.applies(ex.replace(attention="markov"))


class TestContract(ResultContract):
    result_id = "dong.skip-conserves"
