"""The paper's figures, regenerated from the samplers and the laws of :mod:`theory`.

Each function is registered with :func:`numerics.figures.figure` and writes
``<name>.png`` and ``<name>.pdf`` into ``out_dir``; sizes follow the
:class:`~numerics.checks.VerifyConfig` level (``quick`` for the tests).

* ``fig1-markov-spectrum``: eigenvalues of sqrt(n) A (outlier at sqrt(n), bulk
  in the disk of radius sigma_A) and the singular values against the
  quarter-circle law (Theorem 2, Lemma 3).
* ``fig2-srank-depth``: stable rank of Sigma_l against depth, with and without
  the gap (Props 3 and 5).
* ``fig4-srank-width``: stable rank against n at several layers, with the
  Prop 5 limit ``n m_2 / x_max^2`` of the bulk law of Prop 7.
* ``fig5-gradients``: ||dX_L/dW_l||_F^2 against n with and without the gap
  (Props 4 and 6).
* ``fig7-keyquery-outliers``: the top singular values of sqrt(n) A_l of
  key-query attention across layers and the number of outliers (spikes with
  delocalised singular vectors, counted without assuming a bulk law).
* ``prop7-bulk``, ``prop8-bulk``: histograms of the bulk spectra against the
  densities of the limiting laws (mpmath-backed ``pdf_numpy``).
"""
from __future__ import annotations

import math

import numpy as np

from . import figure, pyplot, save


def _yerr(v, z=2.0):
    """Mean and (lower, upper) z-SE bars of samples along axis -1, the lower bar
    clipped so that it stays above zero on a log axis."""
    m = v.mean(axis=-1)
    se = v.std(axis=-1, ddof=1) / math.sqrt(v.shape[-1])
    return m, np.vstack([np.minimum(z * se, 0.9 * np.abs(m)), z * se])


def _n_ticks(ax, ns):
    import matplotlib.ticker as mt
    ax.set_xticks(list(ns), [str(int(n)) for n in ns])
    ax.xaxis.set_minor_locator(mt.NullLocator())


def _np(x):
    from ..backend import to_numpy
    return np.asarray(to_numpy(x), dtype=float)


@figure("fig1-markov-spectrum")
def fig1_markov_spectrum(out_dir, config):
    """Figure 1: spectrum of a Random Markov matrix: one outlier, a quarter-circle bulk."""
    from ...theory.laws import QuarterCircle
    from ...theory.model import AttentionModel

    from ..sampling import random_markov

    plt = pyplot()
    n = config.pick(200, 800, 2000)
    batch = config.pick(2, 4, 8)
    model = AttentionModel(n=n)  # the paper's lognormal ensemble, sigma_A^2 = 1
    sa = math.sqrt(float(model.sigma_A2))
    A = _np(random_markov(n, batch=batch, ensemble=model.ensemble, rng=config.seed,
                          backend=config.backend))
    M = math.sqrt(n) * A
    eig = np.linalg.eigvals(M[0])
    sv = np.linalg.svd(M, compute_uv=False)
    fig = plt.figure(figsize=(11, 4.4))
    gs = fig.add_gridspec(1, 3, width_ratios=[4, 1, 5], wspace=0.16)
    ax1 = fig.add_subplot(gs[0])
    ax1b = fig.add_subplot(gs[1], sharey=ax1)
    ax2 = fig.add_subplot(gs[2])
    t = np.linspace(0, 2 * np.pi, 300)
    for ax in (ax1, ax1b):
        ax.scatter(eig.real, eig.imag, s=5, color="k", alpha=0.6,
                   label=r"eigenvalues of $\sqrt{n}A$")
    ax1.plot(sa * np.cos(t), sa * np.sin(t), color="tab:red",
             label=rf"circle of radius $\sigma_A = {sa:.2g}$")
    ax1.set_xlim(-1.4 * sa, 1.4 * sa)
    ax1.set_ylim(-1.4 * sa, 1.4 * sa)
    ax1.set_aspect("equal")
    ax1b.set_xlim(math.sqrt(n) - 0.5, math.sqrt(n) + 0.5)
    ax1b.axvline(math.sqrt(n), color="tab:blue", ls="--", lw=1)
    ax1b.set_title(rf"outlier $\sqrt{{n}}$ = {math.sqrt(n):.1f}", fontsize=8)
    ax1b.tick_params(labelleft=False)
    ax1.spines["right"].set_visible(False)
    ax1b.spines["left"].set_visible(False)
    ax1.set_xlabel("Re (axis broken)")
    ax1.set_ylabel("Im")
    ax1.set_title(f"eigenvalues, n = {n}: circular bulk + Perron outlier", fontsize=9)
    ax1.legend(fontsize=7, loc="lower left")
    bulk = sv[:, 1:].ravel()
    ax2.hist(bulk, bins=60, density=True, color="0.7",
             label=f"singular values 2..n ({batch} draws)")
    law = QuarterCircle(float(model.sigma_A2))
    x = np.linspace(1e-4, 2 * sa, 400)
    ax2.plot(x, law.pdf_numpy(x), color="tab:red", lw=2, label=r"quarter circle QC($\sigma_A$)")
    ax2.axvline(2 * sa, color="tab:red", ls=":", lw=1, label=r"bulk edge $2\sigma_A$")
    ax2.set_xlabel(r"singular value of $\sqrt{n}A$")
    ax2.set_title(rf"bulk; the top one, {sv[:, 0].mean():.2f} $\approx\sqrt{{n}}$, is off the axis",
                  fontsize=9)
    ax2.legend(fontsize=7)
    fig.suptitle(f"Random Markov matrix (Def. 1.1, Thm 2), lognormal entries, "
                 f"$\\sigma_A^2$ = {float(model.sigma_A2):g}", fontsize=11)
    fig.subplots_adjust(left=0.06, right=0.98, top=0.85, bottom=0.13)
    return save(fig, out_dir, "fig1-markov-spectrum")


def _srank_by_layer(models, n, depth, batch, rng, backend):
    """srank(Sigma_l), l = 0..depth, for several models sharing one set of draws."""
    from ..forward import draw, propagate
    from ..measures import covariance_stable_rank

    draws = draw(models[0], batch=batch, rng=rng, backend=backend)
    out = []
    for m in models:
        t = propagate(m, draws)
        out.append(np.array([_np(covariance_stable_rank(X)) for X in t.X]))  # (L+1, batch)
    return out


@figure("fig2-srank-depth")
def fig2_srank_depth(out_dir, config):
    """Figures 2 and 4: stable rank of the covariance against depth, with and without the gap."""
    from ...theory.model import preset

    plt = pyplot()
    n = config.pick(32, 100, 200)
    depth = config.pick(4, 10, 10)
    batch = config.pick(3, 8, 16)
    names = ["A", "A-perp", "A + skip + LN", "A-perp + skip + LN"]
    models = [preset(name, n=n, depth=depth) for name in names]
    sr = _srank_by_layer(models, n, depth, batch, config.seed, config.backend)
    fig, ax = plt.subplots(figsize=(6, 4.2))
    layers = np.arange(depth + 1)
    styles = ["-o", "-s", "--o", "--s"]
    for name, s, st in zip(names, sr, styles):
        m, err = _yerr(s)
        ax.errorbar(layers, m, yerr=err, fmt=st, ms=4, capsize=2, label=name)
    ax.set_xticks(layers)
    ax.set_yscale("log")
    ax.set_xlabel("layer l")
    ax.set_ylabel(r"srank$(\Sigma_l)$")
    ax.set_title(f"rank collapse in depth (n = d = {n}, mean ± 2 SE of {batch})", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, out_dir, "fig2-srank-depth")


def _prop5_fraction(l, gamma=1):
    """Prop 5 limit of srank/n: m_2 / x_max^2 of the (mean-normalised) bulk law of Prop 7."""
    import sympy

    from ...theory.results.prop7 import bulk_law

    law = bulk_law(l, sympy.nsimplify(gamma), 1, 1)
    edge = law.support()[1]
    return float(law.moment(2) / edge ** 2)


@figure("fig4-srank-width")
def fig4_srank_width(out_dir, config):
    """Figures 2 and 4: stable rank against width n, with the gap (-> 1) and without (~ n)."""
    from ...theory.model import preset

    plt = pyplot()
    ns = config.pick([16, 32, 64], [32, 64, 128, 256], [64, 128, 256, 512, 1024])
    batch = config.pick(3, 8, 16)
    layers = [1, 2, 3]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    res = {name: np.zeros((len(ns), len(layers) + 1, batch)) for name in ("A", "A-perp")}
    for i, n in enumerate(ns):
        models = [preset(name, n=n, depth=max(layers)) for name in res]
        for name, s in zip(res, _srank_by_layer(models, n, max(layers), batch,
                                                config.seed + i, config.backend)):
            res[name][i] = s
    nn = np.asarray(ns, float)
    for k, l in enumerate(layers):
        c = f"C{k}"
        ex = res["A"][:, l] - 1
        m, err = _yerr(ex)
        ax1.errorbar(nn, m, yerr=err, fmt="o", color=c, capsize=2, label=f"A, layer {l}")
        pred = (1 + l * 2) * nn ** (1 - 2 * l)  # Prop 3 rate, sigma_A = gamma = 1
        ax1.plot(nn, pred, "--", color=c, lw=1)
        m, err = _yerr(res["A-perp"][:, l])
        ax2.errorbar(nn, m, yerr=err, fmt="s", color=c, capsize=2, label=f"A-perp, layer {l}")
        ax2.plot(nn, _prop5_fraction(l) * nn, "--", color=c, lw=1)
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    _n_ticks(ax1, ns)
    ax1.set_xlabel("n = d")
    ax1.set_ylabel(r"srank$(\Sigma_l) - 1$")
    ax1.set_title("with the gap: collapse (dashed: Prop 3 rate (1+2l) n^(1-2l))", fontsize=9)
    ax1.legend(fontsize=8)
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    _n_ticks(ax2, ns)
    ax2.set_xlabel("n = d")
    ax2.set_ylabel(r"srank$(\Sigma^\perp_l)$")
    ax2.set_title(r"gap removed: srank ~ n (dashed: Prop 5 limit $n\,m_2/x_{max}^2$)", fontsize=9)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, out_dir, "fig4-srank-width")


@figure("fig5-gradients")
def fig5_gradients(out_dir, config):
    """Figures 4 and 5: gradient norms ||dX_L/dW_l||_F^2 against n, with and without the gap."""
    from ...theory.model import preset

    from ..gradients import grad_norms_sq

    plt = pyplot()
    ns = config.pick([16, 32, 64], [32, 64, 128, 256], [64, 128, 256, 512])
    batch = config.pick(4, 12, 24)
    L = 3
    from ...theory.results.prop6 import constants as prop6_predict

    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    nn = np.asarray(ns, float)
    first_A = None
    for name, marker in (("A", "o"), ("A-perp", "s")):
        model = preset(name, n=ns[0], depth=L)
        g = np.array([_np(grad_norms_sq(model.replace(n=n), batch=batch,
                                        rng=config.seed + i, backend=config.backend))
                      for i, n in enumerate(ns)])  # (len(ns), batch, L)
        for l in range(1, L + 1):
            m, err = _yerr(g[:, :, l - 1])
            if name == "A" and first_A is None:
                first_A = m[0]
            ax.errorbar(nn, m, yerr=err, fmt=marker + ("-" if name == "A" else "--"), ms=4,
                        capsize=2, color=f"C{l - 1}", label=f"{name}, W_{l}")
    c6 = prop6_predict(L, 1, 1, float(model.sigma_A2), float(model.sigma_V2))["constant"]
    ax.plot(nn, c6 * nn, "-.", color="k", lw=1.2,
            label=rf"Prop 6: {c6:g} n ($\sigma_A^{{2L}}\sigma_V^{{2(L-1)}}\gamma^{{-L}} n$)")
    ax.plot(nn, first_A * (nn / nn[0]) ** L, ":", color="k", lw=1.2,
            label=f"slope L = {L} (Prop 4 rate n^L)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _n_ticks(ax, ns)
    ax.set_xlabel("n = d")
    ax.set_ylabel(r"$\|\partial X_L / \partial W_l\|_F^2$")
    ax.set_title(f"gradients at depth L = {L}: exploding with the gap, linear without", fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return save(fig, out_dir, "fig5-gradients")


@figure("fig7-keyquery-outliers")
def fig7_keyquery_outliers(out_dir, config):
    """Figure 7: outliers in the spectrum of key-query attention across layers,
    counted by :func:`numerics.measures.spectral_outliers` (spikes separated
    from the bulk by more than 8 edge spacings, with delocalised singular
    vectors; no bulk law is assumed: the key-query bulk is not quarter-circle)."""
    from ...theory.model import preset

    from ..forward import sample
    from ..measures import LOCALISED_IPR, inverse_participation, spectral_outliers

    plt = pyplot()
    n = config.pick(48, 128, 256)
    depth = config.pick(4, 6, 8)
    batch = config.pick(2, 6, 12)
    name = "A(X) + skip + LN"
    t = sample(preset(name, n=n, depth=depth), batch=batch, rng=config.seed,
               backend=config.backend, keep=("X", "A"))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    counts = []
    k = 8
    for l in range(1, depth + 1):
        M = math.sqrt(n) * _np(t.A[l])
        counts.append(spectral_outliers(M))
        U, s, Vt = np.linalg.svd(M)
        local = np.minimum(inverse_participation(U[..., :k], axis=-2),
                           inverse_participation(Vt[..., :k, :], axis=-1)) > LOCALISED_IPR / n
        for j in range(k):
            x = np.full(batch, l) + 0.06 * (j - k / 2)
            spike = counts[-1] > j
            ax1.scatter(x[spike], s[spike, j], s=14, color="tab:red",
                        label="outlier" if l == 1 and j == 0 else None)
            bulk = ~spike & ~local[:, j]
            ax1.scatter(x[bulk], s[bulk, j], s=8, color="0.5", alpha=0.7,
                        label="bulk" if l == 1 and j == k - 1 else None)
            loc = ~spike & local[:, j]
            ax1.scatter(x[loc], s[loc, j], s=8, marker="x", color="tab:blue",
                        label="localised (heavy-tail bulk)" if l == 1 and j == k - 1 else None)
    ax1.set_yscale("log")
    ax1.set_xlabel("layer l")
    ax1.set_ylabel(r"top singular values of $\sqrt{n}A_l$")
    ax1.set_title(f"{name}, Xavier keys/queries, n = d = {n}", fontsize=9)
    ax1.legend(fontsize=7)
    counts = np.array(counts, float)
    ax2.errorbar(np.arange(1, depth + 1), counts.mean(1),
                 yerr=2 * counts.std(1, ddof=1) / math.sqrt(batch) if batch > 1 else None,
                 fmt="o-", capsize=3)
    ax2.set_xlabel("layer l")
    ax2.set_ylabel("outliers (spectral_outliers)")
    ax2.set_ylim(bottom=0)
    ax2.set_title("number of outliers per layer (mean ± 2 SE)", fontsize=9)
    fig.tight_layout()
    return save(fig, out_dir, "fig7-keyquery-outliers")


@figure("prop7-bulk")
def prop7_bulk(out_dir, config):
    """Prop 7: eigenvalues of the normalised covariance Y_l Y_l^T against its limiting law."""
    import sympy

    from ...theory.model import preset
    from ...theory.results.prop7 import bulk_law

    from ..forward import sample
    from ..measures import esd

    plt = pyplot()
    n = config.pick(64, 300, 600)
    batch = config.pick(2, 4, 8)
    layers = [1, 2, 3]
    gamma = sympy.Rational(1, 2)
    model = preset("A-perp", n=n, depth=max(layers), gamma=gamma)
    d = model.d
    t = sample(model, batch=batch, rng=config.seed, backend=config.backend)
    fig, axes = plt.subplots(1, len(layers), figsize=(4 * len(layers), 3.8))
    for ax, l in zip(axes, layers):
        # X_l = A_l..A_1 X0 W_1..W_l, so Y_l = (sqrt(n) A_l)..(sqrt(n) A_1) X0 (W_1/sqrt(d))..
        # (W_l/sqrt(d)) = (n/d)^(l/2) X_l
        Y = _np(t.X[l]) * (n / d) ** (l / 2)
        ev = esd(Y @ np.swapaxes(Y, 1, 2), hermitian=True).ravel()
        law = bulk_law(l, gamma, model.sigma_A2, model.sigma_V2)
        hi = float(law.support()[1])
        ax.hist(ev, bins=np.linspace(0, max(hi, np.quantile(ev, 0.999)) * 1.05, 60),
                density=True, color="0.7", label=f"eigenvalues ({batch} draws)")
        x = np.linspace(hi * 1e-3, hi * 0.9999, 500)
        ax.plot(x, law.pdf_numpy(x), color="tab:red", lw=2, label="limit law (Prop 7)")
        top = np.quantile(law.pdf_numpy(x[len(x) // 10:]), 1.0)
        ax.set_ylim(0, 1.6 * top)
        ax.set_title(f"layer {l}: mean {ev.mean():.2f} (theory {float(law.mean()):.2f}), "
                     f"var {ev.var():.2f} ({float(law.variance()):.2f})", fontsize=8)
        ax.set_xlabel(r"eigenvalue of $\gamma^l \Sigma^\perp_l$")
        ax.legend(fontsize=7)
    fig.suptitle(f"Prop 7: bulk of the covariance without the gap (n = {n}, gamma = 1/2, "
                 r"law MP(1)$^{\boxtimes l}\boxtimes$MP($\gamma$)$^{\boxtimes l}$)", fontsize=10)
    fig.tight_layout()
    return save(fig, out_dir, "prop7-bulk")


def _log_convolution_density(law_a, law_b, x):
    """Density of the product XY of independent X ~ law_a, Y ~ law_b (a classical,
    not free, product: the squared singular values of a Kronecker product),
    by convolving the densities of log X and log Y on a uniform grid."""
    ea, eb = float(law_a.support()[1]), float(law_b.support()[1])
    lo = -18.0
    h = 0.004
    ua = np.arange(lo, math.log(ea), h)
    ub = np.arange(lo, math.log(eb), h)
    ga = law_a.pdf_numpy(np.exp(ua)) * np.exp(ua)
    gb = law_b.pdf_numpy(np.exp(ub)) * np.exp(ub)
    ga, gb = ga / (ga.sum() * h), gb / (gb.sum() * h)
    gz = np.convolve(ga, gb) * h
    uz = 2 * lo + h * np.arange(gz.size)
    return np.interp(np.log(x), uz, gz) / x


@figure("prop8-bulk")
def prop8_bulk(out_dir, config):
    """Prop 8: squared singular values of the Jacobian (A-side x W-side products) against
    the product of two Fuss-Catalan laws."""
    from ...theory.laws import FussCatalan

    from ..measures import esd
    from ..sampling import random_markov, remove_gap, value_weights

    plt = pyplot()
    n = config.pick(48, 200, 400)
    layers = [1, 2]
    rng = np.random.default_rng(config.seed)
    fig, axes = plt.subplots(1, len(layers), figsize=(5 * len(layers), 3.8))
    for ax, l in zip(axes, layers):
        PA = np.eye(n)[None]
        PW = np.eye(n)[None]
        for _ in range(l):
            A = _np(remove_gap(random_markov(n, batch=1, ensemble="exponential", rng=rng)))
            W = _np(value_weights(n, batch=1, variance=1.0, rng=rng))
            PA = math.sqrt(n) * A @ PA
            PW = PW @ (W / math.sqrt(n))
        sa = esd(PA[0] @ PA[0].T, hermitian=True)[1:]  # drop the zero of A-perp
        sw = esd(PW[0] @ PW[0].T, hermitian=True)
        # all pairwise products (subsampled to keep the histogram light)
        prod = np.outer(sa, sw).ravel()
        prod = rng.choice(prod, size=min(prod.size, 200_000), replace=False)
        law = FussCatalan(l)
        hi = float(law.support()[1]) ** 2
        x = np.geomspace(hi * 1e-4, hi, 400)
        dens = _log_convolution_density(law, law, x)
        bins = np.geomspace(hi * 1e-4, hi * 1.05, 70)
        # density with respect to all samples (some fall below the first bin: the laws
        # have much mass near 0), so that it compares with the law's density directly
        counts, _ = np.histogram(prod, bins=bins)
        ax.stairs(counts / (prod.size * np.diff(bins)), bins, fill=True, color="0.7",
                  label=f"pairwise products, n = d = {n}")
        ax.plot(x, dens, color="tab:red", lw=2, label=f"FC({l}) x FC({l}) (classical product)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("squared singular value of the Jacobian")
        ax.set_title(f"l = {l}: mean {prod.mean():.2f} (theory 1), var {prod.var():.1f} "
                     f"(theory {l * l + 2 * l})", fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle("Prop 8: bulk of the Jacobian (exponential ensemble, sigma_A = sigma_V = 1)",
                 fontsize=10)
    fig.tight_layout()
    return save(fig, out_dir, "prop8-bulk")
