"""Empirical check of ``kq.bulk``: the first-layer key-query bulk against the law KQ.

For each case (gamma, sigma_QK^2 rule) first-layer key-query attention is
sampled at a grid of n (isometric input, ``numerics.forward.sample``) and the
singular values of ``M = sqrt(n)(A - 11^T/n)`` are compared with the
prediction of ``theory.companions.kq`` (the law ``KQ(gamma, v, sigma_A^2 - v)``):

* **ESD**: the Kolmogorov-Smirnov distance of the pooled singular values at the
  largest n to the law's distribution function, below ``KS_C / sqrt(n)``
  (the finite-n corrections of the linearisation are ``O(n^(-1/2))``; the
  ESD's own fluctuations are ``O(log n / n)``, far smaller);
* **edge**: the mean of ``s_2..s_5`` per network, extrapolated to n = oo in
  ``n^(-2/3)`` (edge fluctuations are Tracy-Widom sized), within the policy's
  t band plus the next-order budget (``toolkit.limit``); ``s_1`` is left out
  because heavy-tailed entries (sigma_QK^2 = 1) put an occasional isolated
  extreme-value singular value above the edge;
* **second moment** (what survives of Prop 1): ``||M||_F^2 / n`` against
  ``sigma_A^2``;
* **outlier count**: the fraction of singular values above the Random Markov
  edge ``2 sigma_A`` against ``1 - F_KQ(2 sigma_A)`` (within the KS tolerance);
* **consequences** (cases without heavy tails): Thm 2's constant
  ``n^(-1/2) s_1(A)/s_2(A) -> 1/b_KQ`` and Prop 5's ``srank(M)/n -> sigma_A^2/b_KQ^2``,
  both extrapolated in ``n^(-2/3)``.

Negative controls: the Random Markov prediction (``QC(sigma_A)``, edge
``2 sigma_A``, no singular values above it, constants ``1/(2 sigma_A)`` and 1/4)
and the law with the linear and nonlinear variances swapped.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ...theory.model import AttentionModel, Scale
from ...theory.registry import CheckOutcome
from .toolkit import band, extrapolate, limit, seed

RID = "kq.bulk"
#: KS distance bound KS_C / sqrt(n) at the largest n (measured: 0.2-0.6 / sqrt(n), see tests)
KS_C = 1.0
#: which singular values measure the edge (0-based: s_2..s_5)
EDGE_RANKS = slice(1, 5)


@dataclass(frozen=True)
class Case:
    gamma: object
    rule: object          # number or Scale
    label: str
    heavy: bool           # heavy-tailed entries: skip the s_1-based consequences

    def model(self, n):
        return AttentionModel(n=n, depth=1, gamma=self.gamma, attention="key-query",
                              sigma_qk2=self.rule)


CASES = {
    "gamma=1, sigma_QK^2=1": Case(1, 1, "gamma=1, sigma_QK^2=1", True),
    "gamma=1/2, sigma_QK^2=1": Case(0.5, 1, "gamma=1/2, sigma_QK^2=1", True),
    "gamma=1, Xavier": Case(1, Scale.xavier(), "gamma=1, sigma_QK^2=1/d (Xavier)", False),
    "gamma=1, d^-1/2": Case(1, Scale.power(0.5), "gamma=1, sigma_QK^2=d^(-1/2)", False),
    "gamma=1/2, Xavier": Case(0.5, Scale.xavier(), "gamma=1/2, sigma_QK^2=1/d (Xavier)", False),
}


def sizes(config):
    ns = config.pick((64, 128, 256), (128, 256, 512), (256, 512, 1024, 2048))
    batch = config.pick(8, 8, 8)
    names = config.pick(("gamma=1, sigma_QK^2=1", "gamma=1, Xavier"),
                        ("gamma=1, sigma_QK^2=1", "gamma=1/2, sigma_QK^2=1", "gamma=1, Xavier",
                         "gamma=1, d^-1/2"),
                        tuple(CASES))
    return ns, batch, names


def predict(model) -> dict:
    """Numbers from the registered derivation (``theory.companions.kq.predict``)."""
    from ...theory.companions.kq import predict as kq_predict
    p = kq_predict(model)
    law = p.law()
    qc = float(p.qc_edge)
    return {"law": law, "edge": float(p.edge()), "sigma_A2": float(p.sigma_A2), "qc_edge": qc,
            "above_qc": float(1 - law.cdf_numpy(np.array([qc]))[0]),
            "gap_const": p.gap_ratio_constant(), "srank": p.srank_limit()}


@functools.lru_cache(maxsize=64)
def spectra(n: int, batch: int, gamma, rule, seed_: int, backend: str = "numpy"):
    """Singular values (batch, n) of ``sqrt(n)(A - 11^T/n)`` and ``s_1/s_2`` of ``A``
    for first-layer key-query attention; cached so that controls reuse the samples."""
    from ..backend import to_numpy
    from ..forward import sample
    model = AttentionModel(n=n, depth=1, gamma=gamma, attention="key-query", sigma_qk2=rule)
    A = to_numpy(sample(model, batch=batch, rng=seed_, backend=backend, keep=("A",)).A[1])
    s = np.linalg.svd(math.sqrt(n) * (A - 1.0 / n), compute_uv=False)
    sa = np.linalg.svd(A, compute_uv=False)[:, :2]
    s.setflags(write=False)
    return s, sa[:, 0] / sa[:, 1]


@functools.lru_cache(maxsize=32)
def measure(config, name):
    ns, batch, _ = sizes(config)
    case = CASES[name]
    data = [spectra(n, batch, case.gamma, case.rule, seed(config, RID, name, n), config.backend)
            for n in ns]
    return {"ns": ns, "batch": batch, "s": [d[0] for d in data], "ratio": [d[1] for d in data]}


def run(config, predict=None) -> list[CheckOutcome]:
    pred_fn = predict or globals()["predict"]
    ns, batch, names = sizes(config)
    out = []
    for name in names:
        case = CASES[name]
        m = measure(config, name)
        n = ns[-1]
        p = pred_fn(case.model(n))
        par = {"case": case.label, "batch": batch}
        s = m["s"][-1]
        pooled = np.sort(s.ravel())
        ks = float(stats.kstest(pooled, p["law"].cdf_numpy).statistic)
        tol = KS_C / math.sqrt(n)
        out.append(CheckOutcome("ESD of sqrt(n)(A - 11^T/n): KS distance to the predicted law",
                                dict(par, n=n), ks, 0.0, bool(ks <= tol),
                                f"KS <= {KS_C}/sqrt(n) = {tol:.3g}", _describe(p["law"]),
                                ("law",)))
        # the law moves with d (Xavier), so each n is measured relative to its own prediction
        preds = [pred_fn(case.model(nn)) for nn in ns[:-1]] + [p]
        ext = extrapolate(ns, [x[:, EDGE_RANKS].mean(axis=1) / q["edge"]
                               for x, q in zip(m["s"], preds)], order=2 / 3)
        out.append(limit("bulk edge / predicted edge (mean of s_2..s_5, extrapolated in n^(-2/3))",
                         par, ext, predicted=1.0, judges=("edge",)))
        m2 = (s**2).mean(axis=1)
        out.append(band("second moment ||M||_F^2/n = sigma_A^2 (Prop 1 survives)", dict(par, n=n),
                        measured=m2.mean(), predicted=p["sigma_A2"],
                        se=m2.std(ddof=1) / math.sqrt(batch), df=batch - 1,
                        above=2 * p["sigma_A2"] / n, below=2 * p["sigma_A2"] / n,
                        judges=("sigma_A2",)))
        frac = float(np.mean(pooled > p["qc_edge"]))
        out.append(CheckOutcome("fraction of singular values above 2 sigma_A (outliers of the "
                                "Random Markov picture) = 1 - F(2 sigma_A)", dict(par, n=n), frac,
                                p["above_qc"], bool(abs(frac - p["above_qc"]) <= tol),
                                f"within the KS tolerance {tol:.3g}", "", ("above_qc",)))
        if not case.heavy:
            ext = extrapolate(ns, [r / math.sqrt(nn) / q["gap_const"]
                                   for r, nn, q in zip(m["ratio"], ns, preds)], order=2 / 3)
            out.append(limit("Thm 2 for key-query: n^(-1/2) s_1(A)/s_2(A) b_KQ -> 1", par, ext,
                             predicted=1.0, judges=("gap_const",)))
            sr = [(x**2).sum(axis=1) / x[:, 0]**2 / nn / q["srank"]
                  for x, nn, q in zip(m["s"], ns, preds)]
            ext = extrapolate(ns, sr, order=2 / 3)
            out.append(limit("Prop 5 with the gap removed: srank(M)/n / (sigma_A^2/b_KQ^2) -> 1",
                             par, ext, predicted=1.0, judges=("srank",)))
    return out


def _describe(law):
    """A short name of the law with float parameters (exact ones can be huge rationals)."""
    return type(law).__name__ + "(" + ", ".join(
        f"{k}={float(v):.6g}" for k, v in law.parameters.items()) + ")"


def _qc(model):
    from ...theory.laws import QuarterCircle
    p = predict(model)
    qc = p["qc_edge"]
    return {**p, "law": QuarterCircle(p["sigma_A2"]), "edge": qc, "above_qc": 0.0,
            "gap_const": 1 / qc, "srank": 0.25}


def _swapped(model):
    p = predict(model)
    law = p["law"].swapped()
    edge = float(law.edge(dps=20))
    return {**p, "law": law, "edge": edge,
            "above_qc": float(1 - law.cdf_numpy(np.array([p["qc_edge"]]))[0]),
            "gap_const": 1 / edge, "srank": p["sigma_A2"] / edge**2}


NEGATIVE_CONTROLS = {
    "Random Markov QC(sigma_A)": _qc,
    "linear and nonlinear variances swapped": _swapped,
}
