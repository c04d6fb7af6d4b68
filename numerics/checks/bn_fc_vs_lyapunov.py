"""Empirical check of ``bn.fc-vs-lyapunov`` (E5), on the toolkit: both orders
of limits against :class:`theory.companions.bn.TopSingularValue`.

The example's factors have variance ``c/d`` with ``c = d sigma_V^2`` of the
example (3/2, not the statement's 1, so a wrong power of the variance shows).

* ``edge L=...`` (L = 1, 2, 3): the mean top squared singular value
  (matrix-free Lanczos) over a grid of d at fixed ``c``, extrapolated to
  ``d = oo`` in the soft-edge scale ``d^{-2/3}`` (:func:`toolkit.extrapolate`,
  policy t band plus the next-order budget), against ``edge``;
* ``d=3``, ``d=6`` at ``L = 100``: ``E log sigma_1^2`` (renormalised
  products, SE from the spread over chains, policy t band) against
  ``log_mean`` (the neglected ``exp(-2 L (mu_1 - mu_2))`` is below ``1e-7``).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['edge L=1', 'edge L=2', 'edge L=3', 'd=3, L=100', 'd=6, L=100']
"""
from __future__ import annotations

import numpy as np

from . import toolkit as T
from ..companions.products import product_top_sv2, product_top_sv2_lanczos
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "DEPTH"]

#: the depth of the fixed-d cases
DEPTH = 100


def _at_width(model, d):
    """The model's chain at width d with the same ``c = d sigma_V^2``."""
    return model.replace(d=d, sigma_v2=model.d * model.variance / d)


class FcVsLyapunovCheck(T.Check):
    result_id = "bn.fc-vs-lyapunov"

    def cases(self, config):
        ex = get(self.result_id).example()
        ds = config.pick((16, 32, 64), (16, 32, 64, 128), (16, 32, 64, 128, 256))
        scale = config.pick(0.25, 0.35, 2.0)
        chains = config.pick(300, 800, 3000)
        edge = [T.Case(_at_width(ex, ds[0]).replace(depth=L), tuple(ds),
                       tuple(max(20, int(scale * 12800 / d)) for d in ds), f"edge L={L}") for L in (1, 2, 3)]
        return edge + [T.Case(_at_width(ex, d).replace(depth=DEPTH), (d,), chains, f"d={d}, L={DEPTH}")
                       for d in (3, 6)]

    def measure(self, config, case):
        m = case.model
        if case.label.startswith("edge"):
            return [product_top_sv2_lanczos(d, m.depth, batch=b, variance=float(_at_width(m, d).variance),
                                            rng=T.generator(config, self.result_id, case.label, d),
                                            backend=config.backend) for d, b in zip(case.ns, case.batch)]
        return product_top_sv2(m.d, m.depth, batch=case.batch, variance=float(m.variance),
                               rng=T.generator(config, self.result_id, case.label), backend=config.backend)

    def compare(self, config, case, x, pred):
        p = pred.numeric()
        par = {"case": case.label, "c = d sigma_V^2": float(case.model.d * case.model.variance)}
        if case.label.startswith("edge"):
            ext = T.extrapolate(case.ns, x, order=2 / 3)
            return [T.limit("sigma_1^2 extrapolated to d = oo vs the Fuss-Catalan edge", {**par, "L": case.model.depth},
                            ext, predicted=p["edge"], judges=("edge",))]
        return [T.band("E log sigma_1^2 at fixed d, large L", {**par, "chains": case.batch}, measured=x.mean(),
                       predicted=p["log_mean"], se=x.std(ddof=1) / np.sqrt(x.size), df=x.size - 1,
                       judges=("log_mean",))]


def _no_correction(m, pred):
    """``log_mean`` without its finite-L correction: ``L`` times the per-layer
    increment of the prediction (``2 L mu_1``)."""
    p = pred(m)
    return p.replace(log_mean=m.depth * (pred(m.replace(depth=m.depth + 1)).log_mean - p.log_mean))


CHECK = FcVsLyapunovCheck()
CHECK.controls = (
    T.remodel("edge FC(L) -> FC(L+1)", ("edge",), lambda m: {"depth": m.depth + 1}),
    T.scale("edge", 1.1),
    T.Control("Marchenko-Pastur edge for every L", lambda m, pred: pred(m).replace(
        edge=pred(m.replace(depth=1)).edge), ("edge",)),
    T.Control("no finite-L correction (2 L mu_1)", _no_correction, ("log_mean",)),
    T.remodel("mu_1 at width d - 1 (psi((d-1)/2))", ("log_mean",),
              lambda m: {"d": m.d - 1, "sigma_v2": m.variance}),
    T.remodel("sigma_V^2 -> sigma_V^4", ("edge", "log_mean"), lambda m: {"sigma_v2": m.variance ** 2}),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
