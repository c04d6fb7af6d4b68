"""Empirical check of ``dong.paths`` (C5), on the toolkit.

For each case (the model's residual stack at a depth L, with H heads per
layer: H is the statement's own parameter, carried by the case) every path is
enumerated (:func:`numerics.companions.residual.path_length_counts`) and
compared exactly with the prediction (:class:`theory.companions.dong.PathCounts`,
its symbol ``HEADS`` set to H):

* the counts by length against the coefficients of ``generating_function``
  in ``Z`` (judges ``generating_function``), the number of paths against
  ``total`` (judges ``total``);
* the mean and the variance of the length of a uniform path (exact
  fractions) against ``mean_length`` and ``variance``;
* on the cases with at most ``EXPANDED`` paths, the path expansion itself: the sum of the path terms
  ``prod(A) X prod(W)`` of a network with the model's entry variances equals
  its output (relative ``1e-10``; judges no field) and there are ``total`` of
  them (judges ``total``).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['L=3, H=2', 'L=4, H=1']
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy

from . import toolkit as T
from .dong_skip_conserves import HeadsCase, model_layers
from ..companions.residual import path_length_counts, path_terms
from ...theory.companions.dong import HEADS, Z
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "EXPANDED"]

#: the path expansion is summed term by term on the cases with at most this many paths
EXPANDED = 27


class PathsCheck(T.Check):
    result_id = "dong.paths"

    def cases(self, config):
        ex = get(self.result_id).example()
        grid = config.pick(((3, 2), (4, 1)), ((3, 2), (4, 3), (6, 2), (10, 1)),
                           ((3, 2), (4, 3), (6, 2), (10, 1), (7, 3)))
        return [HeadsCase(ex.replace(depth=L), (ex.n,), 0, f"L={L}, H={H}", heads=H) for L, H in grid]

    def measure(self, config, case):
        m, H = case.model, case.heads
        counts = path_length_counts(m.depth, H)
        total = sum(counts)
        mean = Fraction(sum(k * c for k, c in enumerate(counts)), total)
        second = Fraction(sum(k * k * c for k, c in enumerate(counts)), total)
        out = {"counts": counts, "total": total, "mean": mean, "variance": second - mean ** 2}
        if total <= EXPANDED:
            gen = T.generator(config, self.result_id, case.label)
            full, terms = path_terms(gen.standard_normal((m.n, m.d)), model_layers(m, H, gen))
            out["expansion"] = float(np.linalg.norm(sum(terms.values()) - full) / np.linalg.norm(full))
            out["terms"] = len(terms)
        return out

    def compare(self, config, case, meas, pred):
        p = pred.subs({HEADS: case.heads})
        L = case.model.depth
        par = {"case": case.label}
        poly = sympy.Poly(sympy.expand(p.generating_function), Z)
        predicted = [int(poly.coeff_monomial(Z ** k)) for k in range(L + 1)]
        out = [T.identity("path counts by length (enumeration) = coefficients of the generating function", par,
                          measured=meas["counts"], predicted=predicted, judges=("generating_function",),
                          rtol=0.0),
               T.identity("number of paths", par, measured=meas["total"], predicted=float(p.total),
                          judges=("total",), rtol=0.0),
               T.identity("mean length of a uniform path (exact fractions)", par, measured=float(meas["mean"]),
                          predicted=float(p.mean_length), judges=("mean_length",), rtol=1e-15),
               T.identity("variance of the length of a uniform path (exact fractions)", par,
                          measured=float(meas["variance"]), predicted=float(p.variance), judges=("variance",),
                          rtol=1e-15)]
        if "expansion" in meas:
            out.append(T.identity("sum of the path terms = network output (relative)", par,
                                  measured=meas["expansion"], predicted=0.0, judges=(), rtol=0.0, atol=1e-10))
            out.append(T.identity("number of path terms of the network", par, measured=meas["terms"],
                                  predicted=float(p.total), judges=("total",), rtol=0.0))
        return out


def _field_of(field, change, name):
    """``field`` replaced by ``change(value)`` (a mistake in that formula, still in HEADS)."""
    return T.Control(name, lambda m, pred: (lambda p: p.replace(**{field: change(getattr(p, field))}))(pred(m)),
                     (field,))


CHECK = PathsCheck()
CHECK.controls = (
    _field_of("mean_length", lambda v: v * (HEADS + 1) / (HEADS + 2), "mean LH/(H+1) -> LH/(H+2)"),
    _field_of("generating_function", lambda g: g * HEADS, "counts C(L,k) H^k -> C(L,k) H^(k+1)"),
    _field_of("generating_function", lambda g: g.subs(HEADS, HEADS + 1), "counts -> C(L,k) (H+1)^k"),
    _field_of("total", lambda t: t.subs(HEADS, HEADS + 1), "total (H+1)^L -> (H+2)^L"),
    _field_of("variance", lambda v: v * (HEADS + 1), "variance LH/(H+1)^2 -> LH/(H+1)"),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
