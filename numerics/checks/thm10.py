"""Empirical check of Theorem 10 (second singular value polynomially smaller).

On the samples of :func:`numerics.checks.prop3.signal_spectrum`:

* the exponent of ``s_1/s_2`` in n: 99% bootstrap CI containing ``l/2`` up to a
  one-sided edge-bias slope above the CI (``n^(-l/2) s_1/s_2`` decreases to its
  limit, so the finite-n fit is flatter), width < 0.25;
* the constant ``n^(-l/2) s_1/s_2 -> 1/(sigma_A^l sqrt(x_+))`` at the largest n:
  ``Z`` SE plus the edge budget ``EDGE_COEF l n^(-2/3)`` (relative, from above).

>>> p = predict(1.0, 1, 1)
>>> p["exponent"], round(p["constant"], 4)
(0.5, 0.3849)
"""
from __future__ import annotations

import functools

import numpy as np

from ...theory.registry import CheckOutcome
from .prop3 import DEFAULT as _PROP3_DEFAULT, signal_spectrum, sizes, width_bound
from .thm2 import MAX_CI_WIDTH, Z, sigma_A_of, slope_budget, stream
from ..stats import loglog_fit, mean_se

DEFAULT = dict(_PROP3_DEFAULT, depth=1)
#: relative edge budget per layer (measured: n^(-l/2) s_1/s_2 is 1-3% above its limit at n = 256)
EDGE_COEF = 1.5


def predict(sigma_A, depth, gamma):
    from ...theory.registry import get
    f = get("thm10").formulas(l=depth, gamma=gamma, sigma_A=sigma_A)
    return {"exponent": float(f["s_1/s_2 exponent in n"]), "constant": float(f["n^(-l/2) s_1/s_2 limit"])}


@functools.lru_cache(maxsize=32)
def measure(config, ensemble, sigma_a2, depth, gamma, sigma_v2):
    ns, batch = sizes(config)
    ratios = []
    for n in ns:
        lam, _, _ = signal_spectrum(n, depth, gamma, ensemble, sigma_a2, sigma_v2, batch,
                                    stream(config, "signal", n, depth, str(gamma)), config.backend)
        ratios.append(np.sqrt(lam[:, 0] / lam[:, 1]))
    n = ns[-1]
    return {"ns": ns, "batch": batch, "fit": loglog_fit(ns, ratios, rng=stream(config, "thm10-boot"), n_boot=1000),
            "constant": mean_se(ratios[-1] / n ** (depth / 2))}


def run(config, predict=None, params=None) -> list[CheckOutcome]:
    p = dict(DEFAULT, **(params or {}))
    ens, sa2, depth, gamma, sv2 = p["ensemble"], p["sigma_a2"], int(p["depth"]), p["gamma"], p["sigma_v2"]
    sA = sigma_A_of(ens, sa2)
    pred = (predict or globals()["predict"])(sA, depth, gamma)
    m = measure(config, ens, sa2, depth, gamma, sv2)
    ns, n = m["ns"], m["ns"][-1]
    par = {"ensemble": ens, "sigma_A": round(sA, 6), "l": depth, "gamma": str(gamma), "ns": list(ns),
           "batch": m["batch"]}
    fit = m["fit"]
    b = slope_budget(ns, EDGE_COEF * depth)
    wb = width_bound(config, MAX_CI_WIDTH)
    ok = fit.ci_low <= pred["exponent"] <= fit.ci_high + b and fit.width < wb
    out = [CheckOutcome("s_1/s_2 ~ n^(l/2): fitted exponent", par, fit.slope, pred["exponent"], bool(ok),
                        f"99% CI [{fit.ci_low:.3f}, {fit.ci_high:.3f}], edge-bias slope {b:.3f} above, "
                        f"width < {wb}")]
    mean, se = m["constant"]
    budget = EDGE_COEF * depth * n ** (-2 / 3) * pred["constant"]
    ok = -Z * se <= mean - pred["constant"] <= Z * se + budget
    out.append(CheckOutcome("n^(-l/2) s_1/s_2 -> 1/(sigma_A^l sqrt(x_+))", dict(par, n=n), mean, pred["constant"],
                            bool(ok), f"{Z} SE, plus {EDGE_COEF} l n^(-2/3) above (edge bias)", f"SE {se:.3g}"))
    return out


NEGATIVE_CONTROLS = {
    "exponent+0.25": lambda s, l, g: dict(predict(s, l, g), exponent=predict(s, l, g)["exponent"] + 0.25),
    "exponent-0.25": lambda s, l, g: dict(predict(s, l, g), exponent=predict(s, l, g)["exponent"] - 0.25),
    "mean x1.1": lambda s, l, g: dict(predict(s, l, g), constant=1.1 * predict(s, l, g)["constant"]),
    "l -> l+1": lambda s, l, g: predict(s, l + 1, g),
    "2 sigma -> sigma": lambda s, l, g: predict(s / 2, l, g),
}
