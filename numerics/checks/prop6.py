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
  :data:`toolkit.RATE_CI_WIDTH`. ``beta`` is measured on the norms divided by
  the integer power of n nearest their fitted slope
  (:func:`toolkit.correction_bias`), not by the predicted exponent: divided
  by a wrong exponent (``exponent +-0.25``) the data carry a trend that the
  fit reads as a correction, and the allowance followed the wrong prediction
  far enough that the rate outcome accepted it.

Every level runs the result's example (sigma_A^2 = 3/4, sigma_V^2 = 3/2,
gamma = 1/2, L = 2), where a wrong power of a scale changes the constant.

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['sigma_A^2=3/4, sigma_V^2=3/2, gamma=1/2, L=2, lognormal', 'sigma_A^2=1/3, sigma_V^2=1, gamma=1, L=2, uniform']
"""
from __future__ import annotations

import sympy

from . import toolkit as T
from ...theory.model import AttentionModel
from ...theory.registry import get

__all__ = ["GradientsWithoutGapCheck", "CHECK", "run", "NEGATIVE_CONTROLS", "sizes"]

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

    def sizes(self, config):
        return sizes(config)

    def legacy_cases(self, config):
        """(L, gamma, ensemble, sigma_V^2) sampled besides the result's example."""
        return config.pick(_CASES[3:4], _CASES[:3], _CASES)

    def rate_at(self, l: int) -> bool:
        """Whether the rate is fitted at layer l (every layer here)."""
        return True

    def cases(self, config):
        ns, batch = self.sizes(config)
        models = [get(self.result_id).example().replace(n=ns[-1])]
        models += [AttentionModel(n=ns[-1], depth=L, gamma=g, ensemble=e, sigma_v2=v,
                                  remove_gap=self.remove_gap) for L, g, e, v in self.legacy_cases(config)]
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
            if len(ns) < 3 or not self.rate_at(l):
                continue   # a rate needs at least three sizes
            norms = [d[:, l - 1] for d in data]
            out.append(T.rate_outcome("rate: exponent of E||dX_L/dW_l||_F^2 in n", par, ns,
                                      norms, p["exponent"], bias=T.correction_bias(ns, norms),
                                      rng=T.generator(config, self.result_id, "boot", case.label, l)))
        return out


CHECK = GradientsWithoutGapCheck()
CHECK.controls = (
    T.shift("exponent", +0.25),
    T.shift("exponent", -0.25),
    T.scale("constant", 1.1),
    T.substitute("L -> L+1", ("constant",), l=lambda l: l + 1),
    T.substitute("2 sigma_A -> sigma_A", ("constant",), sigma_A2=sympy.sqrt),
    T.times("sigma_V^(2L) for sigma_V^(2(L-1))", "constant", lambda m: m.value("sigma_V2")),
    T.times("gamma^-(L-1) for gamma^-L", "constant", lambda m: m.value("gamma")),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
