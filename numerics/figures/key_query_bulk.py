"""Figure of ``kq.bulk``: the measured first-layer key-query ESD against the
linear-plus-noise law KQ and against the Random Markov quarter-circle QC(sigma_A),
at sigma_QK^2 = 1/d (Xavier), d^(-1/2) and 1 (gamma = 1).

Each panel divides the singular values of ``sqrt(n)(A - 11^T/n)`` by the
predicted edge ``b_KQ``, so the three scales share one axis; the dashed line
is QC(sigma_A) on the same axis (edge ``2 sigma_A / b_KQ``).
"""
from __future__ import annotations

import math

import numpy as np

from . import figure, pyplot, save

PANELS = (("Xavier", "1/d"), ("power", "d^{-1/2}"), ("one", "1"))


def _rule(kind):
    from ...theory.model import Scale
    return {"Xavier": Scale.xavier(), "power": Scale.power(0.5), "one": 1}[kind]


@figure("key-query-bulk")
def key_query_bulk(out_dir, config):
    """Histogram of the measured singular values, the KQ density and the QC density."""
    from ...theory.laws import QuarterCircle
    from ..checks.kq_bulk import predict, spectra
    from ..checks.toolkit import seed
    from ...theory.model import AttentionModel
    plt = pyplot()
    n = config.pick(256, 512, 1024)
    batch = config.pick(2, 4, 8)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
    for ax, (kind, label) in zip(axes, PANELS):
        rule = _rule(kind)
        model = AttentionModel(n=n, depth=1, gamma=1, attention="key-query", sigma_qk2=rule)
        p = predict(model)
        s, _ = spectra(n, batch, 1, rule, seed(config, "kq.bulk", "figure", kind, n), config.backend)
        b = p["edge"]
        ax.hist(s.ravel() / b, bins=60, density=True, color="0.8", label=f"measured (n = {n})")
        x = np.linspace(1e-4, 1.05, 600)
        ax.plot(x, p["law"].pdf_numpy(x * b) * b, "C0", lw=2, label="KQ (linear + noise)")
        qc = QuarterCircle(p["sigma_A2"])
        ax.plot(x, qc.pdf_numpy(x * b) * b, "C3--", lw=1.5, label=r"QC($\sigma_A$), Random Markov")
        ax.axvline(1.0, color="C0", lw=0.8)
        ax.axvline(p["qc_edge"] / b, color="C3", lw=0.8, ls=":")
        ax.set_title(rf"$\sigma_{{QK}}^2 = {label}$: edge {b:.3g} vs $2\sigma_A$ = {p['qc_edge']:.3g}",
                     fontsize=9)
        ax.set_xlabel(r"singular value of $\sqrt{n}(A - 11^\top/n)$ / $b_{KQ}$")
    axes[0].set_ylabel("density")
    axes[0].set_ylim(0, 6)
    axes[0].legend(fontsize=7, loc="upper right")
    return save(fig, out_dir, "key-query-bulk", tight=True)
