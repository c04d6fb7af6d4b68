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
# # Bulk laws without the gap: covariance (Prop. 7) and Jacobian (Prop. 8)
#
# *Propositions 7 and 8, Lemma 4 of "Mind the Gap".*
#
# With normalised factors $\sqrt n A_l^\perp$ and $W_l/\sqrt d$,
# $Y_l = (\sqrt n A_l^\perp)\cdots(\sqrt n A_1^\perp)X_0 (W_1/\sqrt d)\cdots(W_l/\sqrt d)$.
#
# * **Prop. 7:** the eigenvalue law of $Y_lY_l^\top$ tends to
#   $\mathrm{MP}(1,\sigma_A^2)^{\boxtimes l}\boxtimes\mathrm{MP}(\gamma,\sigma_V^2)^{\boxtimes l}$:
#   mean $(\sigma_A^2\sigma_V^2)^l$, variance $(\sigma_A^2\sigma_V^2)^{2l}\,l(1+\gamma)$.
# * **Prop. 8:** the squared singular values of the Jacobian
#   $J_l = (A^\perp_l\cdots A^\perp_1)\otimes(W_1\cdots W_l)^\top$ are the pairwise products of
#   the factors' (two Fuss-Catalan laws): $m_k = (\sigma_A\sigma_V)^{2lk}\,\mathrm{FC}_l(k)^2$,
#   mean $(\sigma_A\sigma_V)^{2l}$, variance $(\sigma_A\sigma_V)^{4l}(l^2 + 2l)$.
# * **Lemma 4:** for $\mathrm{MP}(\lambda_1, s_1)\boxtimes\cdots\boxtimes\mathrm{MP}(\lambda_k, s_k)$,
#   mean $\prod s_i$ and variance $(\prod s_i)^2\sum\lambda_i$.

# %%
import math

import numpy as np
import sympy as sp
from IPython.display import Math, display

from _nbtools import Verdicts, pick, show
from gapcheck.numerics.checks.prop8 import sample_moments
from gapcheck.numerics.forward import sample
from gapcheck.numerics.measures import esd, ks_distance
from gapcheck.theory.laws import FussCatalan, MarchenkoPastur, free_product
from gapcheck.theory.model import preset
from gapcheck.theory.results.prop7 import bulk_law

for rid in ("prop7", "prop8", "lemma4"):
    show(rid)
N = pick(128, 400)
BATCH = pick(6, 16)
GAMMA = sp.Rational(1, 2)
verdicts = Verdicts()

# %% [markdown]
# ## Derivation (sympy, live)
#
# Moments from S-transforms (series reversion in `theory.freeprob`): Lemma 4's example, the
# mean and variance of Prop. 7's law for symbolic $\gamma$, and Prop. 8's moments from
# Fuss-Catalan numbers.

# %%
mom = free_product(MarchenkoPastur(sp.Rational(1, 2)), MarchenkoPastur(1), MarchenkoPastur(1)).moments(5)
display(Math(r"\mathrm{MP}(\tfrac12)\boxtimes\mathrm{MP}(1)^{\boxtimes 2}:\ m_{1..5} = "
             + sp.latex(mom)))
assert mom == [1, sp.Rational(7, 2), sp.Rational(67, 4), sp.Rational(741, 8), sp.Rational(8909, 16)]

g, s_a, s_v = sp.symbols("gamma sigma_A2 sigma_V2", positive=True)
for l in (1, 2):
    law = bulk_law(l, g, s_a, s_v)
    mean, var = sp.factor(law.mean()), sp.factor(law.variance())
    display(Math(rf"\text{{Prop. 7}},\ l = {l}:\ \text{{mean}} = {sp.latex(mean)},\ "
                 rf"\text{{variance}} = {sp.latex(var)}"))
    assert sp.simplify(var - (s_a * s_v) ** (2 * l) * l * (1 + g)) == 0

for l in (1, 2, 3):
    fc = FussCatalan(l)
    m1, m2 = fc.moment(1) ** 2, fc.moment(2) ** 2  # moments of a product of independent copies
    display(Math(rf"\text{{Prop. 8}},\ l = {l}:\ m_1 = {m1},\ m_2 = \mathrm{{FC}}_{l}(2)^2 = {m2},\ "
                 rf"\text{{variance}} = {m2 - m1**2}"))
    assert m2 - m1**2 == l**2 + 2 * l

# %% [markdown]
# ## Simulation
#
# Prop. 7: model "A-perp" (lognormal, $\sigma_A^2 = \sigma_V^2 = 1$), $\gamma = 1/2$, the
# eigenvalues of $Y_lY_l^\top = (n/d)^l X_lX_l^\top$. Prop. 8: the moments of the Kronecker
# factors (exponential ensemble), never forming the $nd\times nd$ Jacobian.

# %%
model = preset("A-perp", n=N, depth=2, gamma=GAMMA)
t = sample(model, batch=BATCH, rng=3)
ev = {}
for l in (1, 2):
    Y = np.asarray(t.X[l]) * (N / model.d) ** (l / 2)
    ev[l] = esd(Y @ np.swapaxes(Y, 1, 2), hermitian=True)  # (batch, n)
jac = {l: sample_moments(N, N, l, "exponential", 1.0, batch=BATCH, rng=10 + l) for l in (1, 2)}

# %%
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for ax, l in zip(axes, (1, 2)):
    law = bulk_law(l, GAMMA, 1, 1)
    hi = float(law.support()[1])
    ax.hist(ev[l].ravel(), bins=60, range=(0, hi * 1.1), density=True, color="0.7", label="eigenvalues")
    x = np.linspace(hi * 2e-3, hi * 0.9999, 400)
    ax.plot(x, law.pdf_numpy(x), "r", lw=2, label="Prop 7 law")
    ax.set_ylim(0, 1.5 * law.pdf_numpy(x[40:]).max())
    ax.set_title(f"layer {l}, n = {N}, gamma = 1/2", fontsize=9)
    ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Verdict
#
# Means and variances per draw, 4 SE (from the draws) plus finite-$n$ budgets: $4l/n$
# (relative) for means (each $A^\perp$ loses $O(1/n)$ of its Frobenius mass) and
# $l/\sqrt n$ (relative) for variances (the reference measured $-8\%$ at $l = 3$,
# $n = 500$, i.e. $0.6\,l/\sqrt n$). The Kolmogorov-Smirnov distance to the law must
# fall below $2 n^{-1/2}$. Controls: Prop. 7 with $l \to l+1$ and Prop. 8 without
# its cross term ($l^2$) are rejected by the same bands.

# %%
for l in (1, 2):
    law = bulk_law(l, GAMMA, 1, 1)
    mean, var = float(law.mean()), float(law.variance())
    verdicts.check(f"Prop 7 mean, l = {l}", ev[l].mean(1), mean, 4 * l / N * mean)
    verdicts.check(f"Prop 7 variance, l = {l}", ev[l].var(1), var, l / math.sqrt(N) * var)
    ks = ks_distance(ev[l], law)
    verdicts.record(f"Prop 7 KS distance, l = {l}", ks, 0.0, f"< {2 / math.sqrt(N):.3g}", ks < 2 / math.sqrt(N))
verdicts.reject("Prop 7 variance with l -> l + 1, l = 2", ev[2].var(1), 3 * (1 + float(GAMMA)),
                2 / math.sqrt(N) * float(bulk_law(2, GAMMA, 1, 1).variance()))
for l in (1, 2):
    verdicts.check(f"Prop 8 mean, l = {l}", jac[l][:, 0], 1.0, 4 * l / N)
    verdicts.check(f"Prop 8 variance, l = {l}", jac[l][:, 1], l * l + 2 * l, l / math.sqrt(N) * (l * l + 2 * l))
verdicts.reject("Prop 8 variance without the cross term (l^2), l = 2", jac[2][:, 1], 4,
                2 / math.sqrt(N) * 8)
verdicts.table()
