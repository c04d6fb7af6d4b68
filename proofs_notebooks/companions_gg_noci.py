# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Companions: the REM view of softmax attention and query/key gradients
#
# *Giorlandino & Goldt, "Two failure modes of deep transformers and how to avoid them"
# (arXiv 2505.24333, ICLR 2026), ids `gg.*`; Noci et al., "Signal propagation in transformers:
# theoretical perspectives and the role of rank collapse" (NeurIPS 2022), ids `noci.*`.* Grades as in
# `docs/derivations.md`, section 0 (A exact, B derived, C authors' code, D reconstructed: checked as gapcheck's own claims).
#
# The statements in one line each:
#
# * **REM mapping** (A1): given the query, key logits are iid Gaussian with variance
#   $\beta_{\rm eff}^2\log T$, $\beta_{\rm eff}=\beta\sqrt{q(q-p)}$.
# * **Freezing** (A2, A5): $H/\log T\to(1-\beta_{\rm eff}^2/2)_+$, entropy collapse at $\sqrt2$; at finite
#   $T$ the freezing point is $\beta_c(T)=\mathbb E\max_{b\le T}g_b/\sqrt{\log T}$.
# * **Participation** (A3): $\mathbb E\sum_b A_{ab}^2\to 1-m$, $\operatorname{Var}\to m(1-m)/3$,
#   $m=\beta_c/\beta_{\rm eff}$ (Poisson-Dirichlet weights).
# * **Block maps** (A6-A8): the token cosine through post-/pre-LN blocks; $p=1$ is the only fixed point with
#   ReLU, $\alpha^2\propto L$ keeps $1-p_L=O(1)$; gain control $=(A-J)$, the core paper's fix.
# * **Noci** (B1-B4): rank-one input kills Q/K gradients exactly, near collapse they vanish like
#   $\varepsilon^2$, closed forms at uniform attention, and $\alpha^2=c/L$ keeps correlations bounded.
#
# Set `GAPCHECK_NOTEBOOK_SIZE=small` for a seconds-long run (the test suite does).

# %%
import math

import numpy as np
import sympy as sp
from IPython.display import Markdown, Math, display
from scipy.special import digamma

from _nbtools import Verdicts, pick
from gapcheck.numerics.companions.qk_gradients import (equicorrelated_tokens, jacobian_sq_norms,
                                              postln_uniform_stack)
from gapcheck.numerics.companions.rem import ln_tokens, rem_statistics, stack
from gapcheck.numerics.stats import loglog_fit
from gapcheck.theory.companions import gg, noci
from gapcheck.theory.registry import get

rng = np.random.default_rng(20241010)
verdicts = Verdicts()
for rid in ("gg.rem-mapping", "gg.freezing", "gg.participation", "gg.output-moments", "gg.entropy",
            "gg.block-map-postln", "gg.block-maps", "gg.depth-collapse", "gg.trainability",
            "gg.qk-gradients", "noci.rank-one-zero", "noci.qk-vanish", "noci.uniform-gradients",
            "noci.depth-scaling"):
    r = get(rid)
    display(Markdown(f"**{r.id}** ({r.source.split(';')[-1].strip()}): {r.statement}"),
            Math(r.statement_latex))

# %% [markdown]
# ## 1. Live derivation: the REM free energy, its freezing point, Poisson-Dirichlet moments
#
# From $\mathbb E e^{tg}=e^{t^2/2}$ (sympy integrates it) the annealed free energy per $\log T$ is
# $f(\beta)=1+\beta^2/2$; the entropy $s=f-\beta f'$ vanishes at the freezing point; above it the free
# energy is the tangent line through the origin. Pitman's formula for $PD(m,0)$ gives the moments of the
# frozen weights.

# %%
f = gg.rem_annealed_free_energy()
s = gg.rem_entropy_density()
bc = gg.freezing_point()
m = sp.Symbol("m", positive=True)
EY = gg.pd_power_sum(2)
VarY = sp.factor(gg.pd_power_sum(4) + gg.pd_pair_sum(2, 2) - EY**2)
display(Math(r"f(\beta)=" + sp.latex(f) + r",\quad s(\beta)=" + sp.latex(s) + r",\quad \beta_c="
             + sp.latex(bc) + r",\quad \mathbb EY=" + sp.latex(EY) + r",\quad \mathrm{Var}\,Y="
             + sp.latex(VarY)))
ok = (bc == sp.sqrt(2) and sp.simplify(VarY - m * (1 - m) / 3) == 0
      and sp.simplify(sp.diff(f, gg.b).subs(gg.b, bc) - f.subs(gg.b, bc) / bc) == 0)
verdicts.record("derivation: sqrt 2, 1 - m, m(1-m)/3, tangency", 1.0, 1.0, "exact (sympy)", ok)
display(Markdown("Finite-T freezing points: " + ", ".join(
    f"T={T}: {gg.beta_c_finite(T):.4f}" for T in (512, 1024, 4096, 10**6)) + " (all below sqrt 2 = 1.4142)"))

# %% [markdown]
# ## 2. Simulation: REM rows across the freezing point

# %%
T = pick(2000, 2000)
reps = pick(4000, 8000)
betas = [0.5, 0.8, 3.0, 4.0]
stats = {b_: rem_statistics(T, b_, reps=reps if b_ > 1 else 50, rng=rng) for b_ in betas}
bcT = gg.beta_c_finite(T)
for b_ in (3.0, 4.0):
    Y = stats[b_][0]
    mm = bcT / b_
    verdicts.check(f"E Y at beta_eff={b_} (1 - beta_c(T)/beta)", Y, 1 - mm, bias=0.01)
    if b_ == 3.0:  # the 10% perturbation of m is largest in absolute terms at the smaller beta
        verdicts.reject(f"E Y with 1 - m/1.1 at beta_eff={b_}", Y, 1 - mm / 1.1, bias=0.01)
for b_ in (0.5, 0.8):
    H = stats[b_][1] / math.log(T)
    verdicts.check(f"H/log T at beta_eff={b_}", H, 1 - b_**2 / 2, bias=0.02)
    verdicts.reject(f"H/log T with freezing point x1.2 at beta_eff={b_}", H,
                    1 - b_**2 / (2 * 1.44), bias=0.02)

# %% [markdown]
# ## 3. Figure: entropy and participation ratio, samples against the laws

# %%
import matplotlib.pyplot as plt

grid = np.linspace(0.05, 5, 300)
bs = np.array([0.3, 0.6, 0.9, 1.2, 1.6, 2.0, 2.5, 3.0, 4.0, 5.0])
samp = [rem_statistics(T, b_, reps=pick(60, 300), rng=rng) for b_ in bs]
fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
ax[0].plot(grid, np.maximum(0, 1 - grid**2 / 2), "k-", label="$(1-\\beta^2/2)_+$")
mfro = np.minimum(1, bcT / grid)
with np.errstate(invalid="ignore", divide="ignore"):
    ax[0].plot(grid[grid > bcT], (digamma(1) - digamma(1 - mfro[grid > bcT])) / math.log(T), ":",
               label="PD value / log T")
ax[0].plot(bs, [s_[1].mean() / math.log(T) for s_ in samp], "o", label=f"REM rows, T={T}")
ax[1].plot(grid, np.maximum(0, 1 - bcT / grid), "--", label="$1-\\beta_c(T)/\\beta$")
ax[1].plot(grid, np.maximum(0, 1 - math.sqrt(2) / grid), "k-", label="$1-\\sqrt{2}/\\beta$")
ax[1].plot(bs, [s_[0].mean() for s_ in samp], "o", label=f"REM rows, T={T}")
for a, lab in zip(ax, ("$H/\\log T$", "$\\sum_b A_{ab}^2$")):
    a.set_xlabel("$\\beta_{\\rm eff}$")
    a.set_ylabel(lab)
    a.set_ylim(-0.03, 1.03)
    a.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## 4. Block maps against sampled networks; the pre-LN temperature (open item A7)
#
# The post-LN map (A6) and the pre-LN map (A7) are iterated from the measured input cosine and compared
# with sampled single-head networks. For pre-LN the REM temperature can be evaluated on $\mathrm{LN}(x)$
# (what the network does, A1) or on the un-normalised stream (the authors' notebook): the network decides.

# %%
Tn, dn, L, B = pick(128, 256), pick(128, 256), 6, pick(4, 3)
budget = 0.75 * math.sqrt(L / dn)
fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
for beta, col in ((0.5, "C0"), (3.0, "C3")):
    cos, _ = stack(ln_tokens(Tn, dn, 0.2, batch=B, rng=rng), L, beta, norm="post", rng=rng)
    pred = gg.iterate_map(cos[0], L, beta, Tn)
    err = float(np.max(np.abs(np.subtract(cos, pred))))
    verdicts.record(f"post-LN map vs network, beta={beta} (max abs error)", err, 0.0,
                    f"<= 0.75 sqrt(L/d) = {budget:.3f}", err <= budget)
    ax[0].plot(pred, "-", color=col, label=f"map beta={beta}")
    ax[0].plot(cos, "o", color=col)
cos, _ = stack(ln_tokens(Tn, dn, 0.2, batch=B, rng=rng), L, 2.0, norm="pre", rng=rng)
ln_map = gg.iterate_map(cos[0], L, 2.0, Tn, norm="pre")
st_map = gg.iterate_map(cos[0], L, 2.0, Tn, norm="pre", beta_c_from="stream")
rms = lambda c: float(np.sqrt(np.mean(np.subtract(cos, c) ** 2)))  # noqa: E731
verdicts.record("pre-LN: RMS(LN(x) temperature) < RMS(stream temperature)", rms(ln_map), rms(st_map),
                "comparison", rms(ln_map) < rms(st_map))
ax[1].plot(ln_map, "-", label="pre-LN map, beta_c on LN(x)")
ax[1].plot(st_map, "--", label="pre-LN map, beta_c on stream (notebook)")
ax[1].plot(cos, "o", label="network, beta=2")
for a in ax:
    a.set_xlabel("block")
    a.set_ylabel("token cosine")
    a.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## 5. Depth: the slope at $p=1$ and the $\alpha^2\propto L$ scaling (A8)

# %%
lam_sym = gg.slope_at_one()
display(Math(r"\lambda_{\rm ReLU} = " + sp.latex(lam_sym)))
lam = gg.slope_at_one_closed_form(1.0, 1.0, 1.0, 1.0, 0.0)
h = 1e-7
num = (1 - gg.block_map_postln(1 - h, 0.5, 512)) / h
verdicts.record("slope at p=1: closed form vs difference of the map", num, lam,
                "1e-4 (O(h) curvature)", abs(num - lam) < 1e-4)
gaps = [1 - gg.iterate_map(0.0, Ld, 0.5, 512, alpha_a=math.sqrt(Ld), alpha_m=math.sqrt(Ld))[-1]
        for Ld in (10, 100, pick(300, 1000))]
verdicts.record("alpha^2 = L: 1 - p_L depth-independent (max/min)", max(gaps) / min(gaps), 1.0,
                "<= 1.25", max(gaps) / min(gaps) <= 1.25)
gaps_half = [1 - gg.iterate_map(0.0, Ld, 0.5, 512, alpha_a=Ld**0.25, alpha_m=Ld**0.25)[-1]
             for Ld in (10, 100, pick(300, 1000))]
verdicts.record("(control) alpha^2 = sqrt(L) collapses (max/min)", max(gaps_half) / min(gaps_half), 1.0,
                "> 1.25 must hold", max(gaps_half) / min(gaps_half) > 1.25)
ac = gg.critical_skip_strength(0.25, 1.0, 4.0)
display(Markdown(f"tanh MLP, sigma_w^2 = 4, sigma_v^2 = 1, alpha_M = 0.5: critical alpha_A = {ac:.4f} "
                 "(1.342 has been quoted; the slopes quoted with it, 0.963/1.034 at 0.95/1.05 alpha_c match 1.3401)."))

# %% [markdown]
# ## 6. Noci et al.: rank one, near rank one, uniform attention, depth scaling

# %%
n, d = 12, 16
x = rng.standard_normal((1, 1, d))
R = rng.standard_normal((1, n, d))
W = [rng.standard_normal((1, d, d)) / math.sqrt(d) for _ in range(3)]
j0 = jacobian_sq_norms(np.ones((1, n, 1)) * x, *W)
verdicts.record("rank one: |dS/dW_Q| / |dS/dW_V|", math.sqrt(j0["Q"][0] / j0["V"][0]), 0.0, "1e-10",
                math.sqrt(j0["Q"][0] / j0["V"][0]) < 1e-10)
eps = np.logspace(-4, -1, 7)
norms = [np.sqrt(jacobian_sq_norms(np.ones((1, n, 1)) * x + e * R, *W)["Q"]) for e in eps]
fit = loglog_fit(eps, norms, rng=rng, n_boot=200)
verdicts.record("near rank one: exponent of |dS/dW_Q| in eps", fit.slope, 2.0, "+-0.1",
                abs(fit.slope - 2) <= 0.1)
verdicts.record("(control) exponent 1.75 rejected", fit.slope, 1.75, "+-0.1 must fail",
                abs(fit.slope - 1.75) > 0.1)
ratio = noci.ratio_q_to_v()
display(Math(r"\frac{\mathbb E\|\partial S/\partial W_Q\|^2}{\|\partial S/\partial W_V\|^2} = "
             + sp.latex(ratio)))
draws = pick(1000, 4000)
Xe = np.broadcast_to(equicorrelated_tokens(8, 16, 0.5, rng=rng), (draws, 8, 16))
Wd = [rng.standard_normal((draws, 16, 16)) / 4 for _ in range(3)]
jj = jacobian_sq_norms(Xe, *Wd, uniform=True)
pred_q = float(noci.equicorrelated_expectations(cos=sp.Rational(1, 2), tokens=8, width=16, sq=1, sk=1,
                                                sv=1, temperature=4, dk=16, dv=16)["Q"])
verdicts.check("E|dS/dW_Q|^2 at A = J (B3)", jj["Q"], pred_q)
verdicts.reject("B3 with (1-rho) instead of (1-rho)^2", jj["Q"], pred_q / 0.5)
Ld, dd = 12, pick(500, 1000)
cos = postln_uniform_stack(ln_tokens(8, dd, 0.2, rng=rng), Ld, 1.0 / Ld, rng=rng)
mp_ = noci.iterate_postln(cos[0], Ld, 1.0 / Ld, 8)
err = float(np.max(np.abs(np.subtract(cos, mp_))))
verdicts.record("post-LN, alpha^2 = 1/L: network vs map", err, 0.0,
                f"<= {0.75 * math.sqrt(Ld / dd):.3f}", err <= 0.75 * math.sqrt(Ld / dd))

# %% [markdown]
# ## 7. Verdict

# %%
verdicts.table()
