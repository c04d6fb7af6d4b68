"""Definition 1.1: exact moments of the ensembles (sympy) and Monte Carlo
z-tests of the samplers against them, with negative controls."""
from __future__ import annotations

import numpy as np
import pytest
import sympy

from gapcheck.theory.ensembles import ENSEMBLES, LOG_VARIANCE, get_ensemble
from gapcheck.numerics.sampling import markov_entries, random_markov
from gapcheck.numerics.stats import mean_se, within


def test_exact_moments_match_the_closed_forms():
    s2 = LOG_VARIANCE
    from dataclasses import replace
    ln = replace(ENSEMBLES["lognormal"], parameter_value=s2)
    assert sympy.simplify(ln.mean - 1) == 0
    assert sympy.simplify(ln.variance - (sympy.exp(s2) - 1)) == 0
    assert sympy.simplify(ln.fourth_moment - sympy.exp(6 * s2)) == 0
    e, u = ENSEMBLES["exponential"], ENSEMBLES["uniform"]
    assert (e.mean, e.variance, e.fourth_moment, e.sigma_A2) == (1, 1, 24, 1)
    assert (u.mean, u.variance, u.fourth_moment, u.sigma_A2) == (1, sympy.Rational(1, 3),
                                                                 sympy.Rational(16, 5),
                                                                 sympy.Rational(1, 3))
    # the paper's lognormal: s2 = log 2 gives sigma_A^2 = 1 exactly
    assert ENSEMBLES["lognormal"].sigma_A2 == 1
    assert ENSEMBLES["lognormal"].with_relative_variance(sympy.Rational(1, 2)).sigma_A2 == \
        sympy.Rational(1, 2)


def test_unknown_ensemble():
    with pytest.raises(ValueError, match="ensemble must be one of"):
        get_ensemble("gamma")
    with pytest.raises(ValueError, match="ensemble"):
        markov_entries(4, ensemble="gamma", rng=0)


def _variance_se(x):
    """Sample variance and its standard error (delta method on (x - mean)^2)."""
    c = (x - x.mean()) ** 2
    return c.mean(), c.std(ddof=1) / np.sqrt(x.size)


@pytest.mark.parametrize("name, sigma_a2", [("lognormal", None), ("lognormal", 0.5),
                                            ("exponential", None), ("uniform", None)])
def test_sampled_entries_have_the_exact_mean_and_variance(name, sigma_a2):
    law = ENSEMBLES[name] if sigma_a2 is None else ENSEMBLES[name].with_relative_variance(sigma_a2)
    x = markov_entries(200, batch=5, ensemble=name, sigma_a2=sigma_a2, rng=11).ravel()
    m, se = mean_se(x)
    v, vse = _variance_se(x)
    assert within(m, float(law.mean), se, z=4.5)
    assert within(v, float(law.variance), vse, z=4.5)
    # negative controls: a variance off by 10% or a mean off by 5% is rejected
    assert not within(v, 1.1 * float(law.variance), vse, z=4.5)
    assert not within(m, 1.05 * float(law.mean), se, z=4.5)


def test_custom_sampler():
    A = random_markov(5, batch=3, ensemble=lambda rng, shape: rng.gamma(2.0, size=shape), rng=0)
    assert np.allclose(A.sum(-1), 1) and (A >= 0).all()
    with pytest.raises(ValueError, match="negative"):
        random_markov(5, ensemble=lambda rng, shape: rng.standard_normal(shape), rng=0)
    with pytest.raises(ValueError, match="shape"):
        random_markov(5, ensemble=lambda rng, shape: np.ones(3), rng=0)
    with pytest.raises(ValueError, match="non-finite"):
        random_markov(2, ensemble=lambda rng, shape: np.full(shape, np.inf), rng=0)
    with pytest.raises(ValueError, match="row of zeros"):
        random_markov(2, ensemble=lambda rng, shape: np.zeros(shape), rng=0)
