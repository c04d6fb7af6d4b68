"""Figures of the ``bn.*``, ``dong.*`` and ``audit.*`` companions, each
simulation drawn against the prediction of :mod:`theory.companions`.

* ``bn-lyapunov-fc``: the Lyapunov spectrum by QR iteration against
  ``mu_k = (log(2/d) + psi((d-k+1)/2))/2``; and the two orders of limits,
  ``(1/L) E log sigma_1^2`` against ``L`` for several ``d`` (Fuss-Catalan edge at
  small ``L``, ``2 mu_1 + (psi(d/2) - psi(1/2))/L`` at large ``L``).
* ``bn-soft-rank``: depth-averaged soft rank of the batch-normalised chain
  against ``d`` with ``sqrt(d)``, and soft-rank trajectories with and without BN.
* ``bn-orthogonality-gap``: ``d E V^2`` against ``d`` with the derived floor
  ``(n-1)(n+2)^2/(4n(n+1))``, and ``V`` along depth.
* ``dong-collapse``: one-layer cubic contraction (residual against ``eps``) and
  the doubly exponential collapse over depth (centred recursion, no float64
  floor), with and without a skip.
* ``audit-ln-rank``: affine rank before/after LayerNorm for generic
  configurations against ``min(r + 1, n - 1, d - 1)``.

Register by adding ``"gapcheck.numerics.figures.companions_products"`` to
``FIGURE_MODULES``.
"""
from __future__ import annotations

import math

import numpy as np

from . import figure, pyplot, save

__all__ = ["bn_lyapunov_fc", "bn_soft_rank", "bn_orthogonality_gap", "dong_collapse", "audit_ln_rank"]


@figure("bn-lyapunov-fc")
def bn_lyapunov_fc(out_dir, config):
    """bn.lyapunov, bn.fc-vs-lyapunov: Lyapunov spectrum by QR iteration; Fuss-Catalan vs Lyapunov limits."""
    from ..companions.products import lyapunov_qr, product_top_sv2
    from ...theory.companions.bn import fc_edge, log_top_sv2_mean, lyapunov_numeric, lyapunov_se

    plt = pyplot()
    rng = np.random.default_rng([config.seed, 901])
    steps = config.pick(300, 1500, 5000)
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for d, c in ((8, "C0"), (16, "C1")):
        mu = lyapunov_qr(d, steps, batch=4, rng=rng).mean(axis=0)
        se = np.array(lyapunov_se(d, 4 * steps))
        k = np.arange(1, d + 1)
        ax[0].errorbar(k, mu, yerr=4 * se, fmt="o", color=c, ms=4, label=f"QR iteration, d = {d}")
        ax[0].plot(k, lyapunov_numeric(d), "-", color=c, lw=1, label=f"derived mu_k, d = {d}")
    ax[0].set_xlabel("k")
    ax[0].set_ylabel("Lyapunov exponent mu_k")
    ax[0].set_title("Gaussian products (variance 1/d): 4 exact SE bars")
    ax[0].legend(fontsize=8)
    Ls = np.unique(np.round(np.logspace(0, math.log10(config.pick(60, 200, 500)), 12)).astype(int))
    chains = config.pick(30, 100, 300)
    for d, c in ((4, "C0"), (16, "C1"), (64, "C2")):
        m = [product_top_sv2(d, int(L), batch=chains, rng=rng).mean() / L for L in Ls]
        ax[1].plot(Ls, m, "o", color=c, ms=4, label=f"simulation, d = {d}")
        two_mu1 = 2 * lyapunov_numeric(d)[0]
        corr = float(log_top_sv2_mean(d, 1)) - two_mu1         # psi(d/2) - psi(1/2)
        Lv = Ls[Ls >= d]                                       # valid once exp(-L/d) is small
        ax[1].plot(Lv, two_mu1 + corr / Lv, "-", color=c, lw=1.5,
                   label=f"2 mu_1 + (psi(d/2) - psi(1/2))/L (L >= d), d = {d}")
    Lf = np.arange(1, 6)
    ax[1].plot(Lf, [math.log(float(fc_edge(int(L)))) / L for L in Lf], "k--", lw=1,
               label="(1/L) log Fuss-Catalan edge (d = oo)")
    ax[1].set_xscale("log")
    ax[1].set_xlabel("depth L")
    ax[1].set_ylabel("(1/L) E log sigma_1^2")
    ax[1].set_title("Fuss-Catalan (L << d) vs Lyapunov (L >> d)")
    ax[1].legend(fontsize=7)
    return save(fig, out_dir, "bn-lyapunov-fc", tight=True)


@figure("bn-soft-rank")
def bn_soft_rank(out_dir, config):
    """bn.sqrt-d: soft rank of the batch-normalised chain against sqrt(d); collapse without BN."""
    from ..companions.products import bn_chain

    plt = pyplot()
    rng = np.random.default_rng([config.seed, 902])
    ds = config.pick((4, 8, 16), (4, 8, 16, 32), (4, 8, 16, 32, 64))
    steps, burn = config.pick((1200, 400), (2500, 1000), (6000, 2000))
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    avgs = [bn_chain(d, steps, gamma=0.1, burn_in=burn, batch=4, rng=rng)[0] for d in ds]
    m = np.array([a.mean() for a in avgs])
    se = np.array([a.std(ddof=1) / math.sqrt(a.size) for a in avgs])
    ax[0].errorbar(ds, m, yerr=4 * se, fmt="o", label="BN chain, depth average")
    ax[0].plot(ds, np.sqrt(ds), "k-", lw=1, label="sqrt(d)")
    ax[0].plot(ds, 0.9 * np.sqrt(ds), "k:", lw=1, label="0.9 sqrt(d)")
    ax[0].set_xscale("log")
    ax[0].set_yscale("log")
    ax[0].set_xlabel("d")
    ax[0].set_ylabel("soft rank r(H H^T)")
    ax[0].set_title("batch normalisation keeps Theta(sqrt d)")
    ax[0].legend(fontsize=8)
    d = ds[-1]
    every = max(1, steps // 100)
    _, tr_bn = bn_chain(d, steps, gamma=0.1, burn_in=steps - 1, batch=2, rng=rng, record_every=every)
    _, tr_van = bn_chain(d, steps, gamma=0.1, burn_in=steps - 1, batch=2, rng=rng, record_every=every,
                         normalise="frobenius")
    t = every * np.arange(1, tr_bn.shape[0] + 1)
    ax[1].plot(t, tr_bn, "C0", lw=1)
    ax[1].plot(t, tr_van, "C3", lw=1)
    ax[1].plot([], [], "C0", label="with BN")
    ax[1].plot([], [], "C3", label="without BN (rescaled)")
    ax[1].axhline(math.sqrt(d), color="k", lw=0.8, ls=":")
    ax[1].set_yscale("log")
    ax[1].set_xlabel("step")
    ax[1].set_ylabel("soft rank")
    ax[1].set_title(f"H <- D (I + 0.1 W) H, d = {d}")
    ax[1].legend(fontsize=8)
    return save(fig, out_dir, "bn-soft-rank", tight=True)


@figure("bn-orthogonality-gap")
def bn_orthogonality_gap(out_dir, config):
    """bn.orthogonality-gap: d E V^2 against the derived floor 27/20 (n = 4); V along depth."""
    from ..companions.products import orthogonality_chain
    from ...theory.companions.bn import orthogonality_floor

    plt = pyplot()
    rng = np.random.default_rng([config.seed, 903])
    n = 4
    ds = config.pick((16, 64, 256), (16, 64, 256, 1024), (16, 64, 256, 1024, 4096))
    chains = config.pick(40, 100, 300)
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    vals, errs = [], []
    for i, d in enumerate(ds):
        H0 = rng.standard_normal((d, 1)) + 0.5 * rng.standard_normal((d, n))   # strongly correlated start
        V = orthogonality_chain(n, d, 50, batch=chains, rng=rng, H0=H0)
        x = (V[25:] ** 2).mean(axis=0) * d
        vals.append(x.mean())
        errs.append(x.std(ddof=1) / math.sqrt(chains))
        ax[1].plot(np.arange(V.shape[0]), V.mean(axis=1), color=f"C{i}", label=f"d = {d}")
        ax[1].axhline(math.sqrt(float(orthogonality_floor(n, d))), color=f"C{i}", ls=":", lw=0.8)
    lv = np.arange(0, 9)
    ax[1].plot(lv, 0.7 * (n / (n + 2)) ** lv, "k--", lw=1, label="(n/(n+2))^l guide")
    ax[0].errorbar(ds, vals, yerr=4 * np.array(errs), fmt="o", label="d E V^2, stationary")
    ax[0].axhline(float(orthogonality_floor(n, 1)), color="k", lw=1,
                  label="(n-1)(n+2)^2/(4n(n+1)) = 27/20")
    ax[0].set_xscale("log")
    ax[0].set_xlabel("d")
    ax[0].set_ylabel("d E V^2")
    ax[0].set_title(f"orthogonality-gap floor, n = {n} (4 SE bars)")
    ax[0].legend(fontsize=8)
    ax[1].set_yscale("log")
    ax[1].set_xlabel("layer l")
    ax[1].set_ylabel("E V(H_l)")
    ax[1].set_title("correlated start; dotted: sqrt(floor)")
    ax[1].legend(fontsize=8)
    return save(fig, out_dir, "bn-orthogonality-gap", tight=True)


@figure("dong-collapse")
def dong_collapse(out_dir, config):
    """dong.cubic, dong.depth, dong.skip-conserves: cubic, doubly exponential collapse; skips stop it."""
    from ..companions.residual import (attention_layer, centred_recursion, composite_norm,
                                              init_san, residual_mean, san_forward)

    plt = pyplot()
    rng = np.random.default_rng([config.seed, 904])
    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    eps = np.logspace(-3.5, -1, 11)
    for j in range(config.pick(2, 4, 8)):
        layer = init_san(8, 1, rng=rng)[0]
        x, R = rng.standard_normal(8), residual_mean(rng.standard_normal((8, 8)))
        R /= composite_norm(R)
        res = [composite_norm(residual_mean(attention_layer(x + e * R, layer))) for e in eps]
        ax[0].loglog(eps, res, "o-", ms=3, lw=0.8)
    ax[0].loglog(eps, eps**3, "k--", lw=1, label="eps^3")
    ax[0].set_xlabel("eps = |res(X)|")
    ax[0].set_ylabel("|res(SA(X))| (composite)")
    ax[0].set_title("one layer: cubic contraction")
    ax[0].legend(fontsize=8)
    depth = config.pick(6, 8, 9)
    for j in range(config.pick(2, 4, 8)):
        X = rng.standard_normal(8)[None, :] + 0.1 * residual_mean(rng.standard_normal((8, 8)))
        logs = np.array(centred_recursion(X, init_san(8, depth, rng=rng))) / math.log(10)
        ax[1].plot(np.arange(depth + 1), -logs, "o-", ms=3, lw=0.8)
    ax[1].plot(np.arange(depth + 1), -logs[0] * 3.0 ** np.arange(depth + 1), "k--", lw=1,
               label="3^l guide")
    ax[1].set_yscale("log")
    ax[1].set_xlabel("layer l")
    ax[1].set_ylabel("-log10 |res(X_l)|_F")
    ax[1].set_title("pure attention: doubly exponential (no float floor)")
    ax[1].legend(fontsize=8)
    X0 = rng.standard_normal((8, 8))
    for skip, uniform, lab in ((False, False, "no skip"), (True, False, "skip"),
                               (True, True, "skip, uniform attention")):
        Xs = san_forward(X0, init_san(8, 30, rng=1), skip=skip, uniform=uniform)
        rel = [np.linalg.norm(residual_mean(X)) / max(np.linalg.norm(X), 1e-300) for X in Xs]
        ax[2].semilogy(np.maximum(rel, 1e-17), "o-", ms=2, lw=0.8, label=lab)
    ax[2].set_xlabel("layer l")
    ax[2].set_ylabel("|res(X_l)| / |X_l|")
    ax[2].set_title("skips stop the collapse (float64 floor ~1e-16)")
    ax[2].legend(fontsize=8)
    return save(fig, out_dir, "dong-collapse", tight=True)


@figure("audit-ln-rank")
def audit_ln_rank(out_dir, config):
    """audit.ln-rank: affine rank after LayerNorm, min(r+1, n-1, d-1), against "preserved"."""
    from ..companions.heads import affine_configuration, affine_rank, layer_norm
    from ...theory.companions.audit import ln_affine_rank_generic

    plt = pyplot()
    rng = np.random.default_rng([config.seed, 905])
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for i, (n, d) in enumerate(((6, 10), (12, 8), (20, 6))):
        rs = np.arange(0, min(n - 1, d) + 1)
        after = [affine_rank(layer_norm(affine_configuration(n, d, int(r), rng=rng))) for r in rs]
        ax.plot(rs, after, "osD"[i], color=f"C{i}", ms=10 - 3 * i, label=f"simulated, n = {n}, d = {d}")
        ax.plot(rs, [int(ln_affine_rank_generic(n, d, int(r))) for r in rs], "-", color=f"C{i}", lw=1)
    top = 20
    ax.plot([0, top], [0, top], "k:", lw=0.8, label="affine rank preserved (false)")
    ax.set_xlim(-0.5, 10.5)
    ax.set_ylim(-0.5, 10.5)
    ax.set_xlabel("affine rank r of the tokens")
    ax.set_ylabel("affine rank after LayerNorm")
    ax.set_title("LN lifts generic configurations: min(r+1, n-1, d-1)")
    ax.legend(fontsize=8)
    return save(fig, out_dir, "audit-ln-rank", tight=True)
