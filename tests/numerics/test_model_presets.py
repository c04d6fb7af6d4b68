"""The model description: validation, derived quantities, the 25 presets."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from gapcheck.theory.model import PRESETS, AttentionModel, Scale, preset
from gapcheck.numerics.forward import sample

BASES = ("A", "A-perp", "A(X)", "A(X)-perp")
SUFFIXES = ("", " + LN", " + skip", " + upscaled skip", " + skip + LN", " + upscaled skip + LN")


def test_presets_are_the_papers_25_legends():
    expected = {b + s for b in BASES for s in SUFFIXES} | {"identity"}
    assert set(PRESETS) == expected and len(PRESETS) == 25


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_samples(name):
    m = preset(name, n=6, depth=3, gamma=Fraction(1, 2))
    tr = sample(m, batch=2, rng=0)
    assert [x.shape for x in tr.X] == [(2, 6, 12)] * 4
    assert all(np.isfinite(x).all() for x in tr.X)
    assert m.sigma_V2 == 1
    assert m.layernorm == ("LN" in name)
    assert m.remove_gap == ("perp" in name)
    expected = "identity" if name == "identity" else "key-query" if name.startswith("A(X)") \
        else "markov"
    assert m.attention == expected


def test_preset_fields_follow_the_authors_configs():
    a = preset("A(X)-perp + upscaled skip + LN", n=50, depth=2, gamma=0.5)
    assert a.d == 100 and a.sigma_QK2 == sympy.Rational(1, 100)
    assert a.skip_alpha == 1 / sympy.sqrt(100) and a.layernorm and a.remove_gap == 1
    assert preset("A + skip", n=5).skip_alpha == 1
    assert preset("A", n=5).ensemble == "lognormal" and preset("A", n=5).sigma_A2 == 1
    assert preset("identity", n=5).sigma_A2 == 0


def test_key_query_sigma_A2_is_the_finite_dk_formula_of_prop1():
    # docs/derivations.md, section prop1: 1.724 at d_k = 512 and 1.91 at d_k = 16 (sigma_QK = 1)
    m512 = AttentionModel(n=512, attention="key-query", sigma_qk2=1)
    m16 = AttentionModel(n=16, attention="key-query", sigma_qk2=1)
    assert abs(float(m512.sigma_A2) - 1.7236) < 1e-3
    assert abs(float(m16.sigma_A2) - ((8 / 7) ** 8 - 1)) < 1e-12
    assert abs(float(m16.sigma_A2) - 1.91) < 0.01
    # negative control: the asymptotic e - 1 is not the finite-d_k value at d_k = 16
    assert abs(float(m16.sigma_A2) - (math.e - 1)) > 0.1
    assert AttentionModel(n=2, attention="key-query", sigma_qk2=1).sigma_A2 == sympy.oo


def test_scales():
    assert Scale.xavier()(8) == sympy.Rational(1, 8)
    assert Scale.power(2)(4) == sympy.Rational(1, 16)
    assert Scale.power(0.5)(16) == 0.25
    m = AttentionModel(n=4, gamma=Fraction(1, 2), sigma_v2=Scale.power(1))
    assert m.sigma_V2 == sympy.Rational(1, 8)


@pytest.mark.parametrize("kwargs, param", [
    (dict(n=1), "n"), (dict(n=2.5), "n"), (dict(n=4, gamma=0), "gamma"),
    (dict(n=4, gamma=1.5), "gamma"), (dict(n=4, depth=0), "depth"),
    (dict(n=4, sigma_v2=0), "sigma_v2"), (dict(n=4, sigma_v2=-1.0), "sigma_v2"),
    (dict(n=4, sigma_qk2=0), "sigma_qk2"), (dict(n=4, sigma_a2=-1), "sigma_a2"),
    (dict(n=4, ensemble="cauchy"), "ensemble"), (dict(n=4, attention="linear"), "attention"),
    (dict(n=4, remove_gap=4), "remove_gap"), (dict(n=4, remove_gap=-1), "remove_gap"),
    (dict(n=4, skip="wide"), "skip"), (dict(n=4, skip=-0.5), "skip"),
    (dict(n=4, layernorm="yes"), "layernorm"),
    (dict(n=4, ensemble="exponential", sigma_a2=2), "sigma_a2"),
])
def test_bad_model_parameters_name_the_parameter(kwargs, param):
    with pytest.raises(ValueError, match=param):
        AttentionModel(**kwargs)


def test_unknown_preset():
    with pytest.raises(ValueError, match="preset"):
        preset("A + MLP", n=4)


def test_model_is_frozen_and_replace_revalidates():
    m = AttentionModel(n=4)
    with pytest.raises(Exception):
        m.n = 5
    with pytest.raises(ValueError, match="n must"):
        m.replace(n=1)


def test_symbolic_width():
    n = sympy.Symbol("n", positive=True, integer=True)
    m = AttentionModel(n=n, gamma=sympy.Rational(1, 2))
    assert m.d == 2 * n and m.sigma_QK2 == 1 / (2 * n)


@given(n=st.integers(2, 300), gamma=st.floats(0.05, 1.0), depth=st.integers(1, 50),
       sv=st.floats(1e-3, 1e3), qk=st.floats(1e-3, 1e3))
def test_valid_parameters_give_consistent_widths(n, gamma, depth, sv, qk):
    m = AttentionModel(n=n, gamma=gamma, depth=depth, sigma_v2=sv, sigma_qk2=qk)
    assert m.d >= n and abs(m.d - n / gamma) <= 0.5
    assert m.sigma_V2 == sv and m.sigma_QK2 == qk


@given(gamma=st.one_of(st.floats(-10, 0), st.floats(1.0001, 10)))
def test_gamma_outside_unit_interval_is_rejected(gamma):
    with pytest.raises(ValueError, match="gamma must be in"):
        AttentionModel(n=4, gamma=gamma)
