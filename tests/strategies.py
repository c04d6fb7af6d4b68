"""Hypothesis strategies shared by the test suite (compose them with
``@st.composite`` in a test module when a result needs a joint constraint).

Sizes are kept small by default; the ``thorough`` profile draws more examples
(:func:`expensive` scales the pinned counts of costly property tests with it)
and runs the registered checks at ``--level thorough`` (larger n).
"""
from __future__ import annotations

from fractions import Fraction

from hypothesis import settings, strategies as st

#: the ci and dev profiles' max_examples (tests/conftest.py)
_BASE_EXAMPLES = 8


def expensive(k: int) -> settings:
    """``@settings`` for a property test whose example costs seconds (a whole
    quick-level check): ``k`` examples under the ci and dev profiles, scaled by
    the profile's ``max_examples / 8`` otherwise (25 for k = 2 under thorough).
    """
    return settings(max_examples=max(k, round(k * settings.default.max_examples / _BASE_EXAMPLES)))

#: root seeds for samplers (any failure replays exactly from the printed seed)
seeds = st.integers(min_value=0, max_value=2**32 - 1)

#: ratio gamma = n/d in (0, 1], as exact fractions with small denominators
gammas = st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(2, 3), Fraction(1, 4)])

#: depths of an attention-only stack
depths = st.integers(min_value=1, max_value=3)

#: Random Markov ensembles of Definition 1.1 (named in theory.ensembles)
ensembles = st.sampled_from(["lognormal", "exponential", "uniform"])

#: standard deviations of value weights, attention entries, key/query weights
sigmas = st.floats(min_value=0.5, max_value=1.5, allow_nan=False, allow_infinity=False)

#: exact positive rationals for symbolic checks (ratios, variances)
rationals = st.fractions(min_value=Fraction(1, 8), max_value=4, max_denominator=16).filter(
    lambda q: q > 0)
