"""Empirical check of Theorem 10 (second singular value polynomially smaller), on the toolkit.

On the signal spectra of :func:`numerics.checks.spectra.signal_spectrum` (the
same draws as the checks of Proposition 3 and Theorem 9 for the same model),
the prediction (:class:`theory.results.thm10.SpectralGap`: ``exponent``,
``constant``) is compared with

* the exponent of ``s_1/s_2`` in n (judges ``exponent``): the 99% bootstrap CI
  of the log-log fit must contain the exponent up to the slope a one-sided
  edge bias ``EDGE_COEF l n^(-2/3)`` induces over the grid
  (:func:`numerics.checks.toolkit.slope_budget`; ``n^(-l/2) s_1/s_2`` decreases
  to its limit, so the finite-n fit is flatter and the truth lies above the
  CI), and be narrower than 0.25 (the quick level: 0.6);
* ``s_1/s_2`` at the largest n against ``constant n^exponent`` (judges both):
  the policy's quantile of SE plus the relative edge budget ``EDGE_COEF l
  n^(-2/3)`` above (the bulk edge converges at the Tracy-Widom scale).

The cases: the example of :func:`theory.results.thm10.example` (sigma_A^2 =
1/4, sigma_V^2 = 3, gamma = 1/2, l = 2; every level) and the paper's
exponential-ensemble point at depth 1 (beyond quick).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['sigma_A^2=1/4, sigma_V^2=3, gamma=1/2, l=2']
"""
from __future__ import annotations

import numpy as np

from . import toolkit as T
from .prop3 import DEFAULT as _PROP3_DEFAULT, width_bound
from .thm9 import SignalSpectrumCheck
from ..stats import loglog_fit, mean_se

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS"]

#: relative edge budget per layer, times n^(-2/3) (calibrated, tests/README.md)
EDGE_COEF = 2.0


class SpectralGapCheck(SignalSpectrumCheck):
    result_id = "thm10"
    paper = dict(_PROP3_DEFAULT, depth=1)

    def measure(self, config, case):
        return {"ratio": [np.sqrt(lam[:, 0] / lam[:, 1]) for _, _, lam, _ in self.spectra(config, case)]}

    def compare(self, config, case, m, pred):
        ns, depth = case.ns, case.model.depth
        n = ns[-1]
        p = pred.numeric()
        par = {"case": case.label, "batch": case.batch}
        fit = loglog_fit(ns, m["ratio"], rng=T.generator(config, self.result_id, "boot-gap", case.label),
                         n_boot=1000)
        out = [T.rate("s_1/s_2 ~ n^(l/2): fitted exponent", par, fit, predicted=p["exponent"],
                      above=T.slope_budget(ns, EDGE_COEF * depth),
                      max_width=width_bound(config, T.MAX_CI_WIDTH))]
        mean, se = mean_se(m["ratio"][-1])
        predicted = p["constant"] * n ** p["exponent"]
        out.append(T.band("s_1/s_2 -> n^(l/2) / (sigma_A^l sqrt(x_+)) at the largest n", dict(par, n=n),
                          measured=mean, predicted=predicted, se=se, judges=("constant", "exponent"),
                          above=T.edge_budget(n, EDGE_COEF, depth) * predicted))
        return out


CHECK = SpectralGapCheck()
CHECK.controls = (
    T.shift("exponent", +0.25),
    T.shift("exponent", -0.25),
    T.scale("constant", 1.1),
    T.substitute("l -> l+1", ("exponent", "constant"), l=lambda l: l + 1),
    T.substitute("2 sigma -> sigma", ("constant",), sigma_A2=lambda s: s / 4),
    T.substitute("sigma_A^l -> sigma_A^(2l)", ("constant",), sigma_A2=lambda s: s ** 2),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
