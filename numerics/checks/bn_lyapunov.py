"""Empirical check of ``bn.lyapunov`` (E3), on the toolkit: QR iteration on
products of Gaussian matrices against the predicted exponents
(:class:`theory.companions.bn.LyapunovSpectrum`, a function of the index
``K``).

Each case is the example chain at one width d (its variance kept, so the
power of sigma_V^2 shows). The summands ``log|R_kk|`` of the QR iteration
are exactly independent across steps whatever the starting frame (for
Gaussian factors ``W Q`` has the law of ``W``), so ``chains`` independent
runs of ``steps`` factors give ``chains`` independent means of each exponent:
one policy-t band (``chains - 1`` degrees of freedom) per d, on the exponent
farthest from its prediction, with the false-alarm share split over the d
exponents (Bonferroni).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> [c.label for c in CHECK.cases(VerifyConfig(level="quick"))]
['d=2', 'd=5']
"""
from __future__ import annotations

import numpy as np
import sympy

from . import toolkit as T
from ..companions.products import lyapunov_qr
from ...theory.companions.bn import K
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "worst_band"]


def worst_band(name, params, means, predicted, ses, *, df, judges):
    """One outcome for a vector of estimates: the policy band of the entry
    farthest from its prediction (in SEs), the false-alarm share split over
    the entries; a non-finite prediction fails."""
    means, predicted, ses = (np.asarray(a, float) for a in (means, predicted, ses))
    zs = np.where(np.isfinite(predicted), np.abs(means - predicted) / ses, np.inf)
    i = int(np.argmax(zs))
    return T.band(f"{name} (the worst of {means.size})", params, measured=means[i], predicted=predicted[i],
                  se=ses[i], df=df, p=T.alarm() / means.size, judges=judges,
                  detail=f"index {i + 1}, SE {ses[i]:.3g}")


class LyapunovCheck(T.Check):
    result_id = "bn.lyapunov"

    def cases(self, config):
        ex = get(self.result_id).example()
        ds = config.pick((2, 5), (2, 5, 8), (2, 5, 8, 16, 32))
        chains = config.pick(32, 64, 64)
        steps = config.pick(75, 250, 1250)
        return [T.Case(ex.replace(d=d, depth=steps), (d,), chains, f"d={d}") for d in ds]

    def measure(self, config, case):
        m = case.model
        return lyapunov_qr(m.d, m.depth, batch=case.batch, variance=float(m.variance),
                           rng=T.generator(config, self.result_id, case.label), backend=config.backend)

    def compare(self, config, case, mu, pred):
        predicted = [_value(pred.exponent.subs(K, k)) for k in range(1, case.model.d + 1)]
        ses = mu.std(axis=0, ddof=1) / np.sqrt(mu.shape[0])
        return [worst_band("Lyapunov exponent mu_k by QR iteration", {"case": case.label, "steps": case.model.depth,
                                                                     "chains": case.batch},
                           mu.mean(axis=0), predicted, ses, df=mu.shape[0] - 1, judges=("exponent",))]


def _value(expr) -> float:
    """A prediction's number, nan where it has none (a pole)."""
    try:
        return float(sympy.N(expr))
    except (TypeError, ValueError):
        return np.nan


def _psi_shift(m, pred):
    """The mistake psi((d-k+1)/2) -> psi((d-k)/2): the prediction read at K + 1."""
    p = pred(m)
    return p.replace(exponent=p.exponent.subs(K, K + 1))


CHECK = LyapunovCheck()
CHECK.controls = (
    T.Control("psi((d-k+1)/2) -> psi((d-k)/2)", _psi_shift, ("exponent",)),
    T.remodel("sigma_V^2 -> 1/d (the statement's variance for any model)", ("exponent",),
              lambda m: {"sigma_v2": None}),
    T.remodel("sigma_V^2 -> sigma_V^4", ("exponent",), lambda m: {"sigma_v2": m.variance ** 2}),
    T.Control("mu_k -> mu_k + 1/(4d)", lambda m, pred: (lambda p: p.replace(
        exponent=p.exponent + sympy.Rational(1, 4 * m.d)))(pred(m)), ("exponent",)),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
