"""wu.masked-collapse (Wu et al. 2024): masked attention still collapses exponentially; LayerNorm's equilibria."""
import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from gapcheck.numerics.checks.wu_masked_collapse import residuals
from gapcheck.numerics.forward import sample
from gapcheck.theory.companions import wu
from gapcheck.theory.model import SYMBOLS, AttentionModel
from gapcheck.theory.registry import get
from tests.contract import ResultContract

RID = "wu.masked-collapse"


def test_registered_with_its_source():
    r = get(RID)
    assert r.kind == "companion" and "2405.18781" in r.source and "Jegelka" in r.source


def test_dirichlet_moments_and_the_full_contraction():
    n = SYMBOLS["n"]
    m2, cross = wu.dirichlet_moments()
    assert sympy.simplify(m2 - 2 / (n * (n + 1))) == 0 and sympy.simplify(cross - 1 / (n * (n + 1))) == 0
    p = get(RID).prediction(get(RID).example().symbolic_like())
    assert sympy.simplify(p.contraction - (n - 1) / (n * (n + 1))) == 0
    assert p.rate == sympy.log(p.contraction)


@pytest.mark.parametrize("n", [2, 3, 5, 9])
def test_causal_contraction_is_one_third_whatever_n(n):
    T = np.array(wu.causal_map(n).tolist(), dtype=float)
    assert max(abs(np.linalg.eigvals(T))) == pytest.approx(1 / 3, abs=1e-12)
    assert get(RID).prediction(AttentionModel(n=n, gamma=1, ensemble="exponential", causal=True)).contraction \
        == sympy.Rational(1, 3)


@given(seed=st.integers(0, 2**32 - 1), causal=st.booleans())
@settings(max_examples=5, deadline=None)
def test_one_step_second_moment_by_monte_carlo(seed, causal):
    """E[|res_1|^2] over many draws of A and W at a fixed X_0 (isometric, the sampler's):
    sigma_V^2 d tr(S_0 ...) from the theory's maps, within 5 SE."""
    m = AttentionModel(n=6, depth=1, gamma=sympy.Rational(1, 2), ensemble="exponential", causal=causal)
    t = sample(m, batch=4000, rng=seed)
    r0, R0 = residuals(t.X[0], causal)
    r1, _ = residuals(t.X[1], causal)
    f = r1 / (float(m.sigma_V2) * m.d)
    if causal:
        G = np.array(wu.causal_one_step(6).tolist(), dtype=float)
        g = np.einsum("bjc,jm,bmc->b", R0, G, R0)
    else:
        g = float(get(RID).prediction(m).contraction) * r0
    diff = f - g
    assert abs(diff.mean()) < 5 * diff.std() / np.sqrt(diff.size)


def test_a_wrong_one_step_matrix_fails_the_causal_band():
    """The causal one-step band (judging no field) can fail: G without the Dirichlet rows'
    cross moments E a_j a_m (its diagonal only) is rejected on the same samples (first
    layer, where the tokens' deviations from token 1 overlap: <x_i - x_1, x_j - x_1> = 1)."""
    m = AttentionModel(n=16, depth=1, gamma=sympy.Rational(1, 2), ensemble="exponential", causal=True)
    traj = sample(m, batch=256, rng=0)
    (s0, R0), (s1, _) = residuals(traj.X[0], True), residuals(traj.X[1], True)
    G = np.array(wu.causal_one_step(16).tolist(), dtype=float)
    wrong = np.diag(np.diag(G))
    growth = float(m.sigma_V2) * m.d
    for M, ok in ((G, True), (wrong, False)):
        x = (s1 / growth - np.einsum("bjc,jm,bmc->b", R0, M, R0)) / s0
        assert bool(abs(x.mean()) < 4.5 * x.std(ddof=1) / np.sqrt(x.size)) is ok


def test_layernorm_fixed_point_of_full_rank():
    X, A, W, defect, rank, moved = wu.ln_fixed_point()
    assert defect.is_zero_matrix and rank == 2 and not moved.is_zero_matrix


def test_applies():
    r = get(RID)
    ex = r.example()
    assert r.applies(ex) is None and r.applies(ex.replace(causal=True)) is None
    assert "exponential" in r.applies(ex.replace(ensemble="lognormal"))
    assert "LayerNorm" in r.applies(ex.replace(layernorm=True))
    assert "Random Markov" in r.applies(ex.replace(attention="key-query", ensemble="lognormal"))


class TestContract(ResultContract):
    result_id = RID


@pytest.mark.slow
@pytest.mark.parametrize("seed", [20241010, 1, 2, 3, 4])
def test_thorough_level_truth_and_controls(seed):
    """512 networks per case: the truth passes and every control is rejected on its field."""
    from gapcheck.numerics.checks import VerifyConfig
    from gapcheck.numerics.checks import wu_masked_collapse as W
    from tests.contract import assert_truth_and_controls
    assert_truth_and_controls(W, RID, VerifyConfig(level="thorough", seed=seed))
