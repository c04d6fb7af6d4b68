"""Figures of the Giorlandino-Goldt (``gg.*``) and Noci et al. (``noci.*``)
companions; every curve from the maps of :mod:`theory.companions` is drawn
against sampled networks or REM rows.

* ``gg-phase-diagram``: trainability diagram in (query/key scale beta, residual
  strength alpha^2) at fixed depth, coloured by the map's 1 - p_L, with the rank-
  collapse contour (1 - p_L = 0.05), the entropy-collapse line (beta_eff of the
  input above beta_c(T)), and sampled networks classified by the same rule;
  second panel: cosine against depth from the map and from sampled networks.
* ``gg-entropy``: normalised attention entropy and participation ratio of REM
  rows across the freezing point (samples with 4 SE bars) against the laws
  (asymptotic sqrt 2 and finite-T beta_c(T)).
* ``noci-depth-scaling``: post-LN token cosine against depth for fixed alpha and
  alpha^2 = c/L (map and sampled network), and the Q/V Jacobian ratio against rho.
"""
from __future__ import annotations

import math

import numpy as np

from . import figure, pyplot, save

__all__ = ["gg_phase_diagram", "gg_entropy", "noci_depth_scaling"]


_MARK = {"rank-collapse": ("x", "black"), "entropy-collapse": ("s", "white"),
         "trainable": ("o", "white")}


@figure("gg-phase-diagram")
def gg_phase_diagram(out_dir, config):
    from ..checks.gg_trainability import EPS, H_STAR
    from ..companions.rem import ln_tokens, stack
    from ...theory.companions.gg import beta_c_finite, classify_trainability, iterate_map

    plt = pyplot()
    rng = np.random.default_rng([config.seed, 911])
    L, T = 10, 128
    betas = np.linspace(0.2, 5.0, config.pick(16, 36, 60))
    alpha2s = np.geomspace(0.25, 4 * L, config.pick(12, 26, 40))
    gap = np.empty((alpha2s.size, betas.size))
    for i, a2 in enumerate(alpha2s):
        for j, beta in enumerate(betas):
            _, rho_L, _ = classify_trainability(beta, math.sqrt(a2), L, T, eps=EPS,
                                                alpha_m=math.sqrt(a2))
            gap[i, j] = 1 - rho_L
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.3))
    im = ax[0].pcolormesh(betas, alpha2s, gap, shading="auto", cmap="viridis", vmin=0, vmax=1)
    fig.colorbar(im, ax=ax[0], label=r"map: $1-p_L$")
    ax[0].contour(betas, alpha2s, gap, levels=[EPS], colors="red", linewidths=1.5)
    bc = beta_c_finite(T)
    ax[0].axvline(bc, color="orange", ls="--", label=r"$\beta_{\rm eff}(p_0=0)=\beta_c(T)$")
    ax[0].plot([], [], color="red", label=r"rank collapse: $1-p_L=0.05$")
    ax[0].set_yscale("log")
    ax[0].set_xlabel(r"query/key scale $\beta$")
    ax[0].set_ylabel(r"residual strength $\alpha_A^2=\alpha_M^2$")
    ax[0].set_title(f"post-LN trainability diagram, L={L}, T={T}")
    d, B = config.pick((64, 1), (96, 1), (128, 2))
    agree = 0
    cells = [(b_, a_) for b_ in (0.5, 3.0, 4.5) for a_ in (1.0, float(L))]
    for beta, a2 in cells:
        a = math.sqrt(a2)
        cos, ent = stack(ln_tokens(T, d, 0.0, batch=B, rng=rng), L, beta, norm="post", alpha_a=a,
                         alpha_m=a, rng=rng)
        got = ("rank-collapse" if 1 - cos[-1] < EPS else
               "entropy-collapse" if min(ent) < H_STAR else "trainable")
        want = classify_trainability(beta, a, L, T, eps=EPS, alpha_m=a)[0]
        agree += got == want
        m, c = _MARK[got]
        edge = "red" if got != want else "black"
        if m == "x":  # unfilled marker: its colour is the only channel, red flags a disagreement
            ax[0].scatter([beta], [a2], marker=m, s=80, color=c if got == want else edge)
        else:
            ax[0].scatter([beta], [a2], marker=m, s=80, facecolors=c, edgecolors=edge)
    for lab, (m, c) in _MARK.items():
        style = dict(color=c) if m == "x" else dict(facecolors=c, edgecolors="black")
        ax[0].scatter([], [], marker=m, label=f"network: {lab}", **style)
    ax[0].legend(fontsize=7, loc="lower right")
    ax[0].text(0.02, 0.97, f"network = map in {agree}/{len(cells)} cells", transform=ax[0].transAxes,
               va="top", color="white", fontsize=8)
    for beta, col in ((0.5, "C0"), (3.0, "C3")):
        for a2, ls in ((1.0, "-"), (float(L), "--")):
            a = math.sqrt(a2)
            cos, _ = stack(ln_tokens(T, d, 0.0, batch=B, rng=rng), L, beta, norm="post", alpha_a=a,
                           alpha_m=a, rng=rng)
            ax[1].plot(range(L + 1), iterate_map(cos[0], L, beta, T, alpha_a=a, alpha_m=a), ls,
                       color=col, label=rf"map $\beta$={beta}, $\alpha^2$={a2:g}")
            ax[1].plot(range(L + 1), cos, "o", color=col, ms=4)
    ax[1].set_xlabel("block l")
    ax[1].set_ylabel(r"token cosine $p_l$")
    ax[1].set_title(f"map (lines) vs sampled networks (dots), d={d}")
    ax[1].legend(fontsize=7)
    return save(fig, out_dir, "gg-phase-diagram", tight=True)


@figure("gg-entropy")
def gg_entropy(out_dir, config):
    from scipy.special import digamma

    from ..companions.rem import rem_statistics
    from ...theory.companions.gg import beta_c_finite

    plt = pyplot()
    rng = np.random.default_rng([config.seed, 912])
    grid = np.linspace(0.05, 5, 400)
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    ax[0].plot(grid, np.maximum(0, 1 - grid**2 / 2), "k-", label=r"$T\to\infty$: $(1-\beta^2/2)_+$")
    ax[1].plot(grid, np.maximum(0, 1 - math.sqrt(2) / grid), "k-",
               label=r"$T\to\infty$: $(1-\sqrt{2}/\beta)_+$")
    reps = config.pick(100, 400, 1500)
    for T, col in ((1000, "C0"), (config.pick(10000, 30000, 100000), "C1")):
        bc = beta_c_finite(T)
        m = np.minimum(1, bc / grid)
        with np.errstate(invalid="ignore", divide="ignore"):
            h_frozen = np.where(grid > bc, digamma(1) - digamma(np.maximum(1 - m, 1e-12)), np.nan)
        fluid = grid < bc
        ax[0].plot(grid[fluid], 1 - grid[fluid] ** 2 / 2, "--", color=col, lw=1)
        ax[0].plot(grid[~fluid], h_frozen[~fluid] / math.log(T), ":", color=col,
                   label=rf"$T$={T}: PD value $(\psi(1)-\psi(1-m))/\log T$")
        ax[1].plot(grid, np.maximum(0, 1 - bc / grid), "--", color=col,
                   label=rf"$T$={T}: $1-\beta_c(T)/\beta$, $\beta_c$={bc:.3f}")
        bs = np.array([0.3, 0.6, 0.9, 1.1, 1.3, 1.6, 2.0, 2.5, 3.0, 4.0, 5.0])
        r = reps if T <= 1000 else max(20, reps // 10)
        stats = [rem_statistics(T, b_, reps=r, rng=rng, chunk=max(1, 200000 // T)) for b_ in bs]
        for k, (idx, lab) in enumerate(((1, "H / log T"), (0, "Y"))):
            vals = np.array([s[idx] / (math.log(T) if idx == 1 else 1) for s in stats])
            mean = vals.mean(1)
            se = vals.std(1, ddof=1) / math.sqrt(r)
            ax[k].errorbar(bs, mean, yerr=4 * se, fmt="o", color=col, ms=4, capsize=2,
                               label=f"REM rows, T={T} ({r} reps, 4 SE)")
        ax[0].axvline(bc, color=col, lw=0.6, alpha=0.6)
        ax[1].axvline(bc, color=col, lw=0.6, alpha=0.6)
    ax[0].axvline(math.sqrt(2), color="k", lw=0.6)
    ax[0].set_xlabel(r"$\beta_{\rm eff}$")
    ax[0].set_ylabel(r"attention entropy $H/\log T$")
    ax[0].set_title("entropy collapse at the freezing point")
    ax[1].set_xlabel(r"$\beta_{\rm eff}$")
    ax[1].set_ylabel(r"participation ratio $\sum_b A_{ab}^2$")
    ax[1].set_title("participation ratio (Poisson-Dirichlet above freezing)")
    for a in ax:
        a.legend(fontsize=7)
        a.set_ylim(-0.03, 1.03)
    return save(fig, out_dir, "gg-entropy", tight=True)


@figure("noci-depth-scaling")
def noci_depth_scaling(out_dir, config):
    import sympy

    from ..companions.qk_gradients import postln_uniform_stack, preln_uniform_stack
    from ..companions.rem import ln_tokens
    from ...theory.companions import noci

    plt = pyplot()
    rng = np.random.default_rng([config.seed, 913])
    n, d = 8, config.pick(300, 1000, 2000)
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    for L, col in ((12, "C0"), (48, "C1")):
        for a2, ls, lab in ((1.0, "-", r"$\alpha=1$"), (1.0 / L, "--", r"$\alpha^2=1/L$")):
            cos = postln_uniform_stack(ln_tokens(n, d, 0.2, rng=rng), L, a2, rng=rng)
            ax[0].plot(np.arange(L + 1) / L, noci.iterate_postln(cos[0], L, a2, n), ls, color=col,
                       label=f"post-LN map, L={L}, " + lab)
            ax[0].plot(np.arange(L + 1) / L, cos, "o", color=col, ms=3)
    L = 48
    cos = preln_uniform_stack(ln_tokens(n, d, 0.2, rng=rng), L, 1.0, rng=rng)
    ax[0].plot(np.arange(L + 1) / L, noci.iterate_preln(cos[0], L, 1.0, n), ":", color="C2",
               label=r"pre-LN map, L=48, $\alpha=1$")
    ax[0].plot(np.arange(L + 1) / L, cos, "o", color="C2", ms=3)
    ax[0].axhline(1 - noci.postln_lower_bound(0.2, 1.0), color="gray", lw=0.8,
                  label=r"bound $1-(1-\rho_0)e^{-c s_v^2}$, $\rho_0=0.2$")
    ax[0].set_xlabel("relative depth l / L")
    ax[0].set_ylabel(r"token cosine $\rho_l$ (dots: d=%d network)" % d)
    ax[0].set_title("uniform attention: depth-scaled residuals")
    ax[0].legend(fontsize=7)
    ratio = noci.ratio_q_to_v()
    rhos = np.linspace(0.0, 0.99, 200)
    for nn, col in ((16, "C0"), (128, "C1"), (512, "C2")):
        f = sympy.lambdify(noci.rho, ratio.subs({noci.s_k: 1, noci.s_v: 1, noci.n: nn}))
        ax[1].semilogy(rhos, f(rhos), color=col, label=f"n={nn}")
    ax[1].set_xlabel(r"token cosine $\rho$")
    ax[1].set_ylabel(r"$\mathbb{E}\|\partial S/\partial W_Q\|^2 / \|\partial S/\partial W_V\|^2$")
    ax[1].set_title("Q vs V Jacobians at uniform attention (B3)")
    ax[1].legend(fontsize=8)
    return save(fig, out_dir, "noci-depth-scaling", tight=True)
