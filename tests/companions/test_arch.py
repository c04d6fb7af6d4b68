"""arch.*: gapcheck's own results beyond the paper (issue 14): multi-head
attention, the causal mask, pre-LN vs post-LN.

The contracts run the symbolic derivations and the sampled checks with their
negative controls at the quick level (the default/thorough grids under
``--runslow``); the tests below pin the derivations' pieces so that a factor
off in any of them goes red.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from gapcheck.numerics.checks import VerifyConfig
from gapcheck.numerics.checks import arch_causal, arch_ln_position, arch_multihead
from gapcheck.theory.companions import arch
from gapcheck.theory.model import SYMBOLS, AttentionModel
from gapcheck.theory.registry import get
from tests.contract import assert_all_pass, contracts

globals().update(contracts(("arch.multihead", "arch.causal", "arch.ln-position"), level="quick"))

gamma, H = SYMBOLS["gamma"], SYMBOLS["H"]


@settings(deadline=None, max_examples=5)
@given(heads=st.integers(1, 6), depth=st.integers(1, 5),
       g=st.fractions(min_value=sympy.Rational(1, 8), max_value=1, max_denominator=8))
def test_recursion_solution_satisfies_the_recursion(heads, depth, g):
    """r_l from rsolve satisfies r_l = c + (1 + r_(l-1))/H with r_0 = 0 (fails for 1/H -> 1/H^2)."""
    c = sympy.Rational(g.numerator, g.denominator)
    r = [arch.relative_variance(k, heads, c) for k in range(depth + 1)]
    assert r[0] == 0
    assert all(sympy.simplify(r[k] - c - (1 + r[k - 1]) / heads) == 0 for k in range(1, depth + 1))


def test_one_layer_moments_by_the_machinery_match_a_direct_count():
    """First layer, isometric input: m_2/m_1^2 = 1 + gamma + 1/H exactly (H = 3, gamma = 1/2)."""
    m1, m2 = arch.layer_moments(1, 1, 3, sympy.Rational(1, 2), sympy.Rational(1, 3), 2)
    assert m1 == sympy.Rational(2, 3)
    assert sympy.simplify(m2 / m1**2 - 1 - sympy.Rational(1, 2) - sympy.Rational(1, 3)) == 0


def test_heads_average_does_not_enter():
    """The prediction is not the single head with sigma_A^2/H: its mean differs by H^l."""
    ex = get("arch.multihead").example()
    p = get("arch.multihead").prediction(ex)
    wrong = arch_multihead._averaged_as_one_head(ex, get("arch.multihead").prediction)
    assert sympy.simplify(p.mean / wrong.mean - ex.heads ** ex.depth) == 0
    assert p.relative_variance < ex.depth * (1 + ex.value("gamma"))


def test_causal_eigenvalues_and_mean_matrix_at_small_n():
    """Sampled causal A: eigenvalues = diagonal; rows sum to 1; zero above the diagonal."""
    m = AttentionModel(n=12, depth=1, ensemble="exponential", causal=True)
    stats = arch_causal.matrix_stats(m, 8, 3)
    assert stats[:, 0].max() < 1e-12
    from gapcheck.numerics.forward import sample
    A = sample(m, batch=4, rng=3, keep=("A",)).A[1]
    assert np.allclose(A.sum(-1), 1) and np.all(np.triu(A, 1) == 0)


def test_causal_prediction_by_ensemble():
    p = arch.causal_predict(AttentionModel(n=16, depth=1, ensemble="exponential", causal=True))
    assert p.depth_rate == -4 and sympy.simplify(p.crossover_n - sympy.exp(2)) == 0
    assert p.trace_mean == sympy.harmonic(16)
    u = arch.causal_predict(AttentionModel(n=16, depth=1, ensemble="uniform", causal=True))
    assert sympy.simplify(u.depth_rate - 4 * (sympy.Rational(1, 2) - sympy.log(4))) == 0


def test_cesaro_norm_below_hardy():
    vals = [float(arch.CesaroNorm(sympy.Integer(k))) for k in (2, 8, 128)]
    assert vals[0] == pytest.approx(float(sympy.sqrt((3 + sympy.sqrt(5)) / 8) * sympy.sqrt(2)), rel=1e-12)
    assert vals == sorted(vals) and vals[-1] < 2


def test_ln_levels_are_the_jensen_bound():
    m = get("arch.ln-position").example()
    p = get("arch.ln-position").prediction(m)
    a2, d = sympy.Rational(1, 4), m.d
    assert p.signal_level == a2 * sympy.Rational(3, 2) * m.n * d**2 and p.grad_level == a2 * m.n * d**2
    post = get("arch.ln-position").prediction(m.replace(ln_position="post"))
    assert post.signal_level == m.n * d and post.signal_exponent == 0


def test_applies():
    mh, ca, ln = (get(r) for r in ("arch.multihead", "arch.causal", "arch.ln-position"))
    assert "causal" in ca.applies(AttentionModel(n=8, depth=1)).lower()
    assert mh.applies(AttentionModel(n=8, depth=1, attention="key-query"))
    assert ln.applies(AttentionModel(n=8, depth=1, layernorm=True)) is not None   # no skip
    assert mh.applies(AttentionModel(n=8, depth=1, heads=2, causal=True)) is not None


@pytest.mark.slow
@pytest.mark.parametrize("module", [arch_multihead, arch_causal, arch_ln_position])
def test_default_level(module):
    assert_all_pass(module.run(VerifyConfig(level="default")))


def test_verify_expands_a_family():
    from gapcheck.numerics.commands.verify import expand
    assert [r.id for r in expand("arch")] == ["arch.multihead", "arch.causal", "arch.ln-position"]
    assert [r.id for r in expand("arch.causal")] == ["arch.causal"]
    with pytest.raises(ValueError, match="unknown result id"):
        expand("archx")
