"""Named initialisations (theory.presets): the variances each source states,
exactly, and the samplers running them."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy

from gapcheck.theory.model import preset
from gapcheck.theory.presets import INIT_NAMES, INITS, init_preset
from gapcheck.numerics.forward import draw, logits, sample
from gapcheck.numerics.gradients import grad_norms_sq
from gapcheck.numerics.layers import layernorm


@pytest.mark.parametrize("n, depth", [(48, 3), (96, 12)])
def test_gpt2_std_002_and_residual_projections(n, depth):
    m = init_preset("gpt2", n=n, depth=depth)
    var = sympy.Rational(2, 100) ** 2  # std 0.02 whatever d is
    assert m.sigma_V2 == var and m.sigma_QK2 == var and m.mlp.variances(m.d)[0] == var
    # residual projections: std 0.02 / sqrt(2L)
    assert m.sigma_O2 == var / (2 * depth) and m.mlp.variances(m.d)[1] == var / (2 * depth)
    assert (m.heads, m.causal, m.ln_position, m.layernorm, m.mlp.activation, m.mlp.width) == \
        (12, True, "pre", True, "gelu", 4)
    assert m.logit_scale == 1 / sympy.sqrt(m.d // 12) and m.skip_alpha == 1


def test_bert_is_post_ln_unmasked_with_std_002_everywhere():
    m = init_preset("bert", n=96, depth=4)
    var = sympy.Rational(1, 2500)
    assert (m.ln_position, m.causal, m.mlp.activation) == ("post", False, "gelu")
    assert m.sigma_O2 == var and m.mlp.variances(m.d) == (var, var) and m.sigma_V2 == var


@pytest.mark.parametrize("n, heads", [(96, 2), (96, 12), (192, 4)])
def test_t5_logits_have_unit_variance(n, heads):
    """Query std 1/sqrt(d d_k), key std 1/sqrt(d), no temperature: a logit between
    tokens of norm sqrt(d) has variance sigma_Q^2 sigma_K^2 d^2 d_k = 1."""
    m = init_preset("t5", n=n, depth=2, heads=heads)
    assert m.sigma_QK2 ** 2 * m.d ** 2 * m.key_width == 1
    assert m.logit_scale == 1 and m.sigma_V2 == sympy.Rational(1, m.d) == m.sigma_O2
    assert m.mlp.variances(m.d) == (sympy.Rational(1, m.d), sympy.Rational(1, 4 * m.d))


def test_t5_sampled_logits_have_unit_variance():
    """The empirical variance of the first layer's logits on LN(X_0) (tokens of
    norm ~ sqrt(d)): 20 networks x 4 heads x 64^2 logits; the relative SE of a
    variance estimate from >= 20 x 4 x 64 independent rows is below 2%, so 0.1
    is > 5 SE.  Control: the keys' 1/sqrt(d_k) left out of the query gives d_k = 16."""
    m = init_preset("t5", n=64, depth=1, heads=4)
    dr = draw(m, batch=20, rng=5)
    U = layernorm(dr.X0)
    S = logits(m, dr, 1, U)
    assert S.shape == (20, 4, 64, 64)
    assert abs(np.var(S) - 1) < 0.1
    wrong = m.replace(sigma_qk2=Fraction(1, 64))
    assert abs(np.var(logits(wrong, draw(wrong, batch=20, rng=5), 1, U)) - 1) > 1


def test_mup_and_xavier():
    m = init_preset("mup", n=96, depth=2)
    assert m.temperature == "linear" and m.logit_scale == sympy.Rational(1, m.key_width)
    x = init_preset("xavier", n=32, depth=3, gamma=Fraction(1, 2))
    assert x == preset("A(X) + skip + LN", n=32, depth=3, gamma=Fraction(1, 2))
    assert x.beyond_paper() is None and init_preset("xavier", n=32, heads=2).heads == 2


@pytest.mark.parametrize("name", list(INITS))
def test_gap_variant_only_removes_the_gap(name):
    kw = dict(n=48, depth=2, heads=None if name == "xavier" else 4)
    a, b = init_preset(name, **kw), init_preset(name + "+gap", **kw)
    assert (a.remove_gap, b.remove_gap) == (0, 1) and b.replace(remove_gap=0) == a


def test_more_tokens_than_features_and_bad_names():
    m = init_preset("gpt2", n=48, depth=2, gamma=Fraction(4, 3))
    assert (m.d, m.isometry) == (36, "columns")
    assert init_preset("gpt2", n=48, depth=2).isometry == "rows"
    with pytest.raises(ValueError, match="heads must divide the width d = 40"):
        init_preset("bert", n=40, depth=2)
    with pytest.raises(ValueError, match="init must be one of"):
        init_preset("gpt-2", n=48)


@pytest.mark.parametrize("name", INIT_NAMES)
def test_every_initialisation_samples_and_differentiates(name):
    m = init_preset(name, n=12, depth=2, heads=None if name.startswith("xavier") else 2)
    traj = sample(m, batch=2, rng=1)
    assert all(np.all(np.isfinite(x)) for x in traj.X)
    g = grad_norms_sq(m, batch=2, rng=1, method="hutchinson", probes=4)
    assert g.shape == (2, 2) and np.all(g > 0)
