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
# # Companions: products of random matrices, residual contraction, and an audit of head-channel claims
#
# *Daneshmand et al. (batch normalisation and rank, NeurIPS 2020/2021), Dong, Cordonnier & Loukas
# (pure attention loses rank doubly exponentially, ICML 2021), and an audit of the LayerNorm /
# head-channel claims of Cirrincione (arXiv 2604.23681, abstract only).* Ids `bn.*`, `dong.*`,
# `audit.*`; grades as in `docs/derivations.md`, section 0 (A exact, B derived, C authors' code, D reconstructed).
#
# The statements in one line each:
#
# * **Lyapunov spectrum** of $W_L\cdots W_1$, $W$ iid $N(0,1/d)$:
#   $\mu_k = \tfrac12\big(\log\tfrac2d + \psi(\tfrac{d-k+1}2)\big)$, gap $\mu_1-\mu_2 \sim \tfrac1{2d}$.
# * **Two orders of limits**: $\sigma_1^2 \to (L+1)^{L+1}/L^L$ (Fuss-Catalan) at fixed $L$,
#   $\mathbb E\log\sigma_1^2 = 2L\mu_1 + \psi(d/2)-\psi(1/2) + o(1)$ at fixed $d$.
# * **Batch normalisation** keeps the soft rank $r(M)=\operatorname{tr}(M)^2/\|M\|_F^2$ of order
#   $\sqrt d$, and $\operatorname{rank}_\tau(M) \ge (1-\tau)^2 r(M)$ (sharp); BN orthogonalises to a
#   floor $\mathbb E V^2 \to \frac{(n-1)(n+2)^2}{4n(n+1)d}$.
# * **Pure attention** contracts the residual cubically per layer,
#   $\log|\mathrm{res}_L| = 3^L(\log|\mathrm{res}_0| + \kappa/2) - \kappa/2$; a skip with uniform
#   attention conserves $(I-J)X$ exactly.
# * **Audit**: LayerNorm does *not* preserve the affine rank (generic $r \mapsto \min(r+1, n-1, d-1)$);
#   the head sum has kernel dimension $n(Hd_k - \operatorname{rank} W_O)$.
#
# Set `GAPCHECK_NOTEBOOK_SIZE=small` for a seconds-long run (the test suite does).

# %%
import math

import numpy as np
import sympy as sp
from IPython.display import Markdown, Math, display

from _nbtools import Verdicts, pick
from gapcheck.numerics.companions.heads import affine_configuration, affine_rank, layer_norm
from gapcheck.numerics.companions.products import bn_chain, lyapunov_qr, orthogonality_chain, product_top_sv2
from gapcheck.numerics.companions.residual import (attention_layer, centred_recursion, composite_norm,
                                          init_san, residual_mean)
from gapcheck.numerics.stats import loglog_fit
from gapcheck.theory.companions import audit, bn, dong
from gapcheck.theory.registry import get

rng = np.random.default_rng(20241010)
verdicts = Verdicts()
for rid in ("bn.lyapunov", "bn.fc-vs-lyapunov", "bn.soft-rank", "bn.sqrt-d", "bn.orthogonality-gap",
            "dong.residual-norms", "dong.cubic", "dong.depth", "dong.skip-conserves", "dong.paths",
            "audit.ln-rank", "audit.skip-no-exact-collapse", "audit.attention-rank",
            "audit.head-recovery", "audit.pgop-overhead"):
    r = get(rid)
    display(Markdown(f"**{r.id}: {r.title}.** {r.statement} *Source: {r.source}.*"))

# %% [markdown]
# ## Derivations (sympy, live)
#
# **Lyapunov exponents.** The QR diagonals of $W Q$ are independent $\chi_{d-k+1}/\sqrt d$, so
# $\mu_k = \tfrac12(\mathbb E\log\chi^2_{d-k+1} - \log d)$; $\mathbb E\log\chi^2_\nu$ and its
# variance are the first two derivatives at $s=0$ of $\log\mathbb E[X^s]$, obtained by integrating
# the $\chi^2_\nu$ density.

# %%
mellin = bn.chi2_mellin()
d, k = sp.symbols("d k", positive=True)
display(Math(r"\mathbb E[X^s] = " + sp.latex(mellin)),
        Math(r"\mu_k = " + sp.latex(bn.lyapunov_exponent())),
        Math(r"\mu_1-\mu_2 = " + sp.latex(bn.lyapunov_gap_series()) + r"+\dots"))
assert sp.simplify(bn.lyapunov_exponent() - bn.lyapunov_closed_form()) == 0
assert bn.lyapunov_gap_series(order=2) == 1 / (2 * d)

# %% [markdown]
# **Orthogonality floor.** For $u$ uniform on $S^{n-1}$, $\mathbb E u_1^4 = 3/(n(n+2))$ and
# $\mathbb E u_1^2u_2^2 = 1/(n(n+2))$ (Gaussian moments over $\mathbb E|g|^4 = n(n+2)$). One BN step
# responds linearly to $G - I/n$ with factor $c_n$, and adds noise $(1-1/n)/d$; the stationary
# $\mathbb E V^2$ is noise$/(1-c_n^2)$.

# %%
display(Math(r"c_n = " + sp.latex(bn.orthogonality_response())),
        Math(r"\mathbb E V^2 \to " + sp.latex(bn.orthogonality_floor())))
assert bn.orthogonality_floor(4, 1) == sp.Rational(27, 20)

# %% [markdown]
# **Cubic contraction.** Two tokens $x+\varepsilon r_{1,2}$ in $d=1$: the residual of one attention
# layer, expanded in $\varepsilon$ (sigmoid Taylor polynomial, exact to the order shown); and the
# solution of $y_{l+1} = 3y_l + \kappa$ for $y = \log|\mathrm{res}|$.

# %%
display(Math(r"\tfrac12(Y_1 - Y_2) = " + sp.latex(dong.two_token_residual_series())),
        Math(r"y_L = " + sp.latex(dong.depth_solution())),
        Math(r"\#\text{paths: } (1+Hz)^L,\ \ \mathbb E\,k = " + sp.latex(dong.path_length_mean())),
        Math(r"\|I - J\|_1 = \|I-J\|_\infty = " + sp.latex(dong.centring_factor())))
assert sp.Poly(dong.two_token_residual_series().removeO(), sp.Symbol("epsilon", positive=True)).monoms() == [(3,)]

# %% [markdown]
# **Audit, exactly.** Three LayerNorm counterexamples to "LN preserves the affine rank", computed
# with radicals; and the head-sum kernel $n(Hd_k - \operatorname{rank}W_O)$, which equals the
# abstract's $n(H-1)d_k$ exactly when $\operatorname{rank} W_O = d_k$.

# %%
for name, (X, before, after) in audit.ln_counterexamples().items():
    display(Markdown(f"* {name}: affine rank {before} -> {after} after LayerNorm"))
    assert before != after
n_, H_, dk_ = sp.symbols("n H d_k", positive=True, integer=True)
assert sp.expand(audit.head_kernel_dimension(n_, H_, dk_, dk_) - n_ * (H_ - 1) * dk_) == 0
display(Math(r"\text{PG-OP overhead (BERT-base)} = " + sp.latex(audit.pgop_overhead(768, 12))
             + rf" = {100 * float(audit.pgop_overhead(768, 12)):.4f}\%"))

# %% [markdown]
# ## Simulations
#
# Lyapunov exponents by QR iteration (exact standard errors
# $\sqrt{\psi'((d-k+1)/2)/(4\,\text{samples})}$), the BN chain against $\sqrt d$, the orthogonality
# floor, and the cubic / doubly exponential collapse.

# %%
D, STEPS = pick((5, 400), (8, 3000))
mu = lyapunov_qr(D, STEPS, batch=4, rng=rng).mean(axis=0)
se = np.array(bn.lyapunov_se(D, 4 * STEPS))
pred = np.array(bn.lyapunov_numeric(D))
for i in range(D):
    verdicts.record(f"mu_{i + 1}, d = {D}", mu[i], pred[i], "4.5 exact SE", abs(mu[i] - pred[i]) <= 4.5 * se[i])
wrong = np.array([(math.log(2 / D) + float(sp.polygamma(0, sp.Rational(D - i - 1, 2)))) / 2
                  if D - i - 1 > 0 else math.nan for i in range(D)])
verdicts.record("(control) rejects psi((d-k)/2)", mu[0], wrong[0], "4.5 exact SE",
                not abs(mu[0] - wrong[0]) <= 4.5 * se[0])

ds = pick((4, 8, 16), (4, 8, 16, 32, 64))
avgs = [bn_chain(dd, pick(1500, 4000), gamma=0.1, burn_in=pick(600, 1000), batch=4, rng=rng)[0]
        for dd in ds]
fit = loglog_fit(ds, avgs, rng=1, n_boot=300)
verdicts.record("exponent of the BN soft rank in d", fit.slope, 0.5, "0.1", abs(fit.slope - 0.5) <= 0.1)
verdicts.record("(control) rejects d^0.75", fit.slope, 0.75, "0.1", abs(fit.slope - 0.75) > 0.1)

dd = pick(64, 256)
V = orthogonality_chain(4, dd, 45, batch=pick(60, 200), rng=rng)
per_chain = (V[25:] ** 2).mean(axis=0) * dd
m, s = per_chain.mean(), per_chain.std(ddof=1) / math.sqrt(per_chain.size)
floor = float(bn.orthogonality_floor(4, 1))
verdicts.record(f"d E V^2 at d = {dd}", m, floor, "4 SE + 2 floor/d", abs(m - floor) <= 4 * s + 2 * floor / dd)
verdicts.record("(control) rejects 1.25 x floor", m, 1.25 * floor, "4 SE + 2 floor/d",
                abs(m - 1.25 * floor) > 4 * s + 2 * floor / dd)

# %%
eps = np.logspace(-3.5, -1, 8)
layer = init_san(8, 1, rng=rng)[0]
x0, R = rng.standard_normal(8), residual_mean(rng.standard_normal((8, 8)))
res = [composite_norm(residual_mean(attention_layer(x0 + e * R, layer))) for e in eps]
slope = np.polyfit(np.log(eps), np.log(res), 1)[0]
verdicts.record("one-layer exponent", slope, 3, "0.1", abs(slope - 3) <= 0.1)
verdicts.record("(control) rejects 2.75", slope, 2.75, "0.1", abs(slope - 2.75) > 0.1)
X0 = rng.standard_normal(8)[None, :] + 0.1 * residual_mean(rng.standard_normal((8, 8)))
logs = np.array(centred_recursion(X0, init_san(8, pick(7, 9), rng=rng)))
ratio = logs[-1] / logs[-2]
verdicts.record("log|res_L| / log|res_{L-1}|", ratio, 3, "0.05", abs(ratio - 3) <= 0.05)
n_tok, d_ln = 12, 8
ranks = [(r, affine_rank(layer_norm(affine_configuration(n_tok, d_ln, r, rng=rng)))) for r in range(1, d_ln + 1)]
ok = all(a == int(audit.ln_affine_rank_generic(n_tok, d_ln, r)) for r, a in ranks)
verdicts.record("LN affine rank = min(r+1, n-1, d-1), all r", 1.0 * ok, 1.0, "exact", ok)

# %% [markdown]
# ## Figure
#
# Left: the measured Lyapunov spectrum on the derived curve. Middle: the two orders of limits,
# $(1/L)\,\mathbb E\log\sigma_1^2$ against $L$ (Fuss-Catalan edge for $L \ll d$, Lyapunov growth with
# the derived $1/L$ correction for $L \gg d$). Right: the doubly exponential collapse, followed far
# below the float64 floor by the centred recursion.

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(1, 3, figsize=(14, 4))
ax[0].errorbar(np.arange(1, D + 1), mu, yerr=4 * se, fmt="o", label="QR iteration")
ax[0].plot(np.arange(1, D + 1), pred, "-", label="derived $\\mu_k$")
ax[0].set(xlabel="k", ylabel="$\\mu_k$", title=f"Lyapunov spectrum, d = {D}")
ax[0].legend()
Ls = np.array(pick((1, 2, 4, 8, 16, 32), (1, 2, 4, 8, 16, 32, 64, 128, 256)))
for dd, c in ((4, "C0"), (16, "C1")):
    sim = [product_top_sv2(dd, int(L), batch=pick(20, 100), rng=rng).mean() / L for L in Ls]
    ax[1].plot(Ls, sim, "o", color=c, label=f"simulation, d = {dd}")
    two_mu1 = 2 * bn.lyapunov_numeric(dd)[0]
    corr = float(bn.log_top_sv2_mean(dd, 1)) - two_mu1
    Lv = Ls[Ls >= dd]
    ax[1].plot(Lv, two_mu1 + corr / Lv, "-", color=c, label=f"Lyapunov + 1/L correction, d = {dd}")
ax[1].plot(np.arange(1, 5), [math.log(float(bn.fc_edge(L))) / L for L in range(1, 5)], "k--",
           label="Fuss-Catalan edge, d = oo")
ax[1].set(xscale="log", xlabel="L", ylabel="(1/L) E log $\\sigma_1^2$", title="two orders of limits")
ax[1].legend(fontsize=7)
ax[2].plot(-logs / math.log(10), "o-")
ax[2].set(yscale="log", xlabel="layer", ylabel="-log10 |res|", title="doubly exponential collapse")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Verdict
#
# Every check and every negative control (a perturbed prediction that must be rejected) in one
# table; the cell fails if any did not behave.

# %%
verdicts.table()
