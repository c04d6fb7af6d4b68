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
# # The spectral gap of a Random Markov matrix
#
# *Definition 1.1, Theorem 2, Lemmas 2 and 3 of "Mind the Gap" (Naderi, Nait Saada, Tanner).*
#
# A **Random Markov matrix** is $A = D^{-1} M$ with $M_{ij} \ge 0$ i.i.d. (mean 1,
# relative variance $\sigma_A^2$, finite fourth moment) and $D$ the diagonal of row
# sums. Then $\lambda_1(A) = 1$ exactly (eigenvector $\mathbf 1$) and, almost surely,
#
# $$ s_1(A) \to 1, \qquad s_2(\sqrt n\,A) \to 2\sigma_A, \qquad
#    \frac{s_1(A)}{s_2(A)} \sim \frac{\sqrt n}{2\sigma_A}, $$
#
# the singular values of $\sqrt n A$ other than the top one follow the quarter-circle
# law $\mathrm{QC}(\sigma_A)$, and (Lemma 3) $\sqrt n\,(A - \tfrac1n \mathbf 1\mathbf 1^\top)$
# has no outlier. Sharper (Lemma 2, $l = 1$): $n\,(s_1(A) - 1) \to \sigma_A^2/2$.
#
# Set `GAPCHECK_NOTEBOOK_SIZE=small` for a seconds-long run (the test suite does).

# %%
import math

import numpy as np
import sympy as sp
from IPython.display import Markdown, Math, display

from _nbtools import Verdicts, pick, show
from gapcheck.numerics.measures import top_singular_values
from gapcheck.numerics.sampling import random_markov, remove_gap
from gapcheck.theory.ensembles import ENSEMBLES
from gapcheck.theory.laws import QuarterCircle

N = pick(200, 1000)
BATCH = pick(12, 40)
verdicts = Verdicts()

for rid in ("def1.1", "thm2", "lemma3", "lemma2"):
    show(rid)

# %% [markdown]
# ## Derivation (sympy, live)
#
# The relative variance of each ensemble, from its exact moments, and the second moment of
# $\mathrm{QC}(\sigma)$, which is what the Frobenius norm of $\sqrt n A^\perp$ measures
# ($\|\sqrt n A^\perp\|_F^2 / n$ is the mean squared singular value).

# %%
for name, ens in ENSEMBLES.items():
    display(Math(rf"\text{{{name}}}:\ \sigma_A^2 = \frac{{\mathrm{{Var}}\,M}}{{(\mathbb E M)^2}}"
                 rf" = {sp.latex(sp.simplify(ens.variance / ens.mean**2))}"))

x, s, th = sp.symbols("x sigma theta", positive=True)
qc_density = sp.sqrt(4 * s**2 - x**2) / (sp.pi * s**2)
# substitute x = 2 sigma sin(theta), dx = 2 sigma cos(theta) dtheta, theta in [0, pi/2]
sub = {x: 2 * s * sp.sin(th)}
jac = 2 * s * sp.cos(th)
qc_moment = [sp.simplify(sp.integrate(sp.simplify((x**k * qc_density).subs(sub) * jac)
                                      .subs(sp.sqrt(4 * s**2 - 4 * s**2 * sp.sin(th)**2),
                                            2 * s * sp.cos(th)), (th, 0, sp.pi / 2)))
             for k in (0, 2)]
display(Math(rf"\int_0^{{2\sigma}} \mathrm{{QC}}_\sigma = {sp.latex(qc_moment[0])}, \qquad"
             rf"\int_0^{{2\sigma}} x^2\,\mathrm{{QC}}_\sigma(x)\,dx = {sp.latex(qc_moment[1])}"))
assert qc_moment[0] == 1 and sp.simplify(qc_moment[1] - s**2) == 0, qc_moment
# the law object of theory.laws agrees with the integral (its moments come from the S-transform)
assert QuarterCircle(sp.Rational(1, 3)).moment(2) == sp.Rational(1, 3)

ens = ENSEMBLES["exponential"]
sigma_A2 = sp.simplify(ens.variance / ens.mean**2)
sA = math.sqrt(float(sigma_A2))
n_sym = sp.Symbol("n", positive=True)
display(Math(rf"\text{{exponential entries: }}\sigma_A^2 = {sp.latex(sigma_A2)},\quad"
             rf"\frac{{s_1}}{{s_2}} \sim {sp.latex(sp.sqrt(n_sym) / (2 * sp.sqrt(sigma_A2)))}"))

# %% [markdown]
# ## Simulation
#
# Exponential entries ($\sigma_A = 1$, light tails: the edge converges faster than for
# the lognormal ensemble). We measure $s_1(A)$, $\sqrt n\, s_2(A)$, the top singular value
# of $\sqrt n A^\perp$ and $\|\sqrt n A^\perp\|_F^2/n$ on a batch of independent draws.

# %%
rng = np.random.default_rng(20241010)
A = np.asarray(random_markov(N, batch=BATCH, ensemble="exponential", rng=rng))
s = np.asarray(top_singular_values(A, 2))
Aperp = np.asarray(remove_gap(A))
s_perp = np.asarray(top_singular_values(math.sqrt(N) * Aperp, 1))[:, 0]
fro = (Aperp**2).sum(axis=(1, 2))  # = ||sqrt(n) A_perp||_F^2 / n
all_sv = np.linalg.svd(math.sqrt(N) * A[:4], compute_uv=False)

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3.6))
ax.hist(all_sv[:, 1:].ravel(), bins=50, density=True, color="0.7",
        label=r"singular values 2..n of $\sqrt{n}A$")
xs = np.linspace(1e-3, 2 * sA, 300)
ax.plot(xs, QuarterCircle(float(sigma_A2)).pdf_numpy(xs), "r", lw=2,
        label=r"QC($\sigma_A$)")
ax.axvline(2 * sA, color="r", ls=":")
ax.set_title(f"n = {N}: top singular value {all_sv[:, 0].mean():.1f} = sqrt(n) s_1 "
             "(off the axis)", fontsize=9)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Verdict
#
# Tolerances: $k = 4$ standard errors (computed from the batch) plus an explicit
# finite-$n$ bias budget: the edge of a quarter-circle bulk converges like $n^{-2/3}$
# (Tracy-Widom scale), so $\sqrt n s_2$ may sit $c\,n^{-2/3}$ above $2\sigma_A$ (budget
# $c = 4$: $0.12$ at $n = 200$); $n(s_1 - 1)$ has corrections $O(n^{-1/2})$ (budget
# $3/\sqrt n$); $\mathbb E\|\sqrt n A^\perp\|_F^2/n = \sigma_A^2 + O(1/n)$ (budget $4/n$).

# %%
verdicts.check("n (s_1(A) - 1) -> sigma_A^2 / 2", N * (s[:, 0] - 1), float(sigma_A2) / 2, 3 / math.sqrt(N))
verdicts.check("sqrt(n) s_2(A) -> 2 sigma_A", math.sqrt(N) * s[:, 1], 2 * sA, 4 * N ** (-2 / 3) * 2 * sA)
verdicts.check("s_1(sqrt(n) A_perp) -> 2 sigma_A (no outlier)", s_perp, 2 * sA, 4 * N ** (-2 / 3) * 2 * sA)
verdicts.check("||sqrt(n) A_perp||_F^2 / n -> sigma_A^2 (QC second moment)", fro, float(sigma_A2), 4 / N)
# negative control: the edge 1 + 2 sigma_A^2 (a wrong constant) is rejected by the same band
verdicts.reject("sqrt(n) s_2 -> 1 + 2 sigma_A^2", math.sqrt(N) * s[:, 1], 1 + 2 * float(sigma_A2),
                4 * N ** (-2 / 3) * 2 * sA)
verdicts.table()
