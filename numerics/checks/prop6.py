"""Empirical check of Proposition 6: without the gap, E||dX_L/dW_l||_F^2
grows like n^exponent (exponent 1) with E||dX_L/dW_l||_F^2 / n^exponent ->
constant, both read from the prediction (``theory.results.prop6.predict``:
sigma_A^(2L) sigma_V^(2(L-1)) gamma^(-L), independent of l).

Gradient norms come from :func:`numerics.gradients.grad_norms_sq` (exact
Kronecker identity, no Jacobian is formed), cached by
:func:`numerics.checks.toolkit.gradient_norms` so the truth and every control
read the same draws. Per case and layer l:

* **constant**: ``||grad||^2 / n^exponent`` extrapolated to n = oo along the
  grid (``a + b/n``; :func:`toolkit.limit`: the policy's t quantile times the
  intercept's SE plus the next-order bias budget);
* **rate**: log-log fit of the mean of ``||grad||^2`` against n with a 99%
  bootstrap CI (:func:`toolkit.rate_outcome`): accepted when the CI contains
  the exponent plus the slope bias that the measured O(1/n) correction
  ``beta = b/a`` implies on this grid (allowed +-50%) and is narrower than
  :data:`toolkit.RATE_CI_WIDTH`.

Every level runs the result's example (sigma_A^2 = 3/4, sigma_V^2 = 3/2,
gamma = 1/2, L = 2), where a wrong power of a scale changes the constant.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['sigma_A^2=3/4, sigma_V^2=3/2, gamma=1/2, L=2, lognormal', 'sigma_A^2=1/3, sigma_V^2=1, gamma=1, L=2, uniform']
"""
from __future__ import annotations

import sympy

from . import toolkit as T
from .toolkit import rate_outcome, slope_bias  # noqa: F401  (re-export: prop4/prop5 borrowed them here)
from ...theory.model import AttentionModel
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "sizes", "rate_outcome", "slope_bias"]

#: (L, gamma, ensemble, sigma_V^2) of the earlier check, kept as cases at default/thorough
_CASES = ((1, 1, "exponential", 1), (2, sympy.Rational(1, 2), "exponential", sympy.Rational(16, 25)),
          (3, 1, "exponential", 1), (2, 1, "uniform", 1), (2, 1, "lognormal", 1))


def sizes(config):
    """The grid of n and the networks per n at this level."""
    return config.pick((32, 64, 128), (48, 96, 192), (128, 256, 512)), 16


def _label(model) -> str:
    return (f"sigma_A^2={model.value('sigma_A2')}, sigma_V^2={model.value('sigma_V2')}, "
            f"gamma={model.value('gamma')}, L={model.depth}, {model.ensemble}")


class GradientsWithoutGapCheck(T.Check):
    result_id = "prop6"
    #: the gap removed (remove_gap = 1); prop4's check reuses this class with the gap
    remove_gap = 1

    def cases(self, config):
        ns, batch = sizes(config)
        legacy = config.pick(_CASES[3:4], _CASES[:3], _CASES)
        models = [get(self.result_id).example().replace(n=ns[-1])]
        models += [AttentionModel(n=ns[-1], depth=L, gamma=g, ensemble=e, sigma_v2=v,
                                  remove_gap=self.remove_gap) for L, g, e, v in legacy]
        return [T.Case(m, tuple(ns), batch, _label(m)) for m in models]

    def measure(self, config, case):
        return [T.gradient_norms(case.model.replace(n=n), case.batch,
                                 T.seed(config, self.result_id, "grad-norms", n, case.label),
                                 config.backend) for n in case.ns]

    def compare(self, config, case, data, pred):
        p = pred.numeric()
        ns = case.ns
        out = []
        for l in range(1, case.model.depth + 1):
            par = {"case": case.label, "l": l, "networks_per_n": case.batch}
            ext = T.extrapolate(ns, [d[:, l - 1] / n ** p["exponent"] for d, n in zip(data, ns)])
            out.append(T.limit("constant: E||dX_L/dW_l||_F^2 / n^exponent -> constant", par, ext,
                               predicted=p["constant"], judges=("constant", "exponent")))
            if len(ns) < 3:
                continue   # a rate needs at least three sizes
            beta = ext.slope / ext.estimate if ext.estimate else 0.0
            out.append(T.rate_outcome("rate: exponent of E||dX_L/dW_l||_F^2 in n", par, ns,
                                      [d[:, l - 1] for d in data], p["exponent"],
                                      bias=T.slope_bias(ns, beta),
                                      rng=T.generator(config, self.result_id, "boot", case.label, l)))
        return out


def _times(name: str, factor, rejects=("constant",)) -> T.Control:
    """The constant times ``factor(model)`` (a wrong power of one scale)."""
    return T.Control(name, lambda m, pred: (lambda p: p.replace(constant=p.constant * factor(m)))(pred(m)),
                     tuple(rejects))


CHECK = GradientsWithoutGapCheck()
CHECK.controls = (
    T.shift("exponent", +0.25),
    T.shift("exponent", -0.25),
    T.scale("constant", 1.1),
    T.substitute("L -> L+1", ("constant",), l=lambda l: l + 1),
    T.substitute("2 sigma_A -> sigma_A", ("constant",), sigma_A2=sympy.sqrt),
    _times("sigma_V^(2L) for sigma_V^(2(L-1))", lambda m: m.value("sigma_V2")),
    _times("gamma^-(L-1) for gamma^-L", lambda m: m.value("gamma")),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
