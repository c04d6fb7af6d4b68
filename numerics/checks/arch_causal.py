"""Empirical check of ``arch.causal`` (gapcheck's own claim): the causal Random
Markov matrix and rank collapse in depth with and without the mask.

Everything is sampled with :func:`numerics.forward.sample` (``causal=True``).

* **the matrix** (the example: lognormal, sigma_A^2 = 1/2; n on a grid):
  eigenvalues = diagonal (to rounding); ``E tr A`` against ``trace_mean = H_n``
  (policy band); ``E s_1(A) >= ||C_n||_2`` (``top_lower``, one-sided);
  ``E||A_n||_F^2 - E||A_(n/2)||_F^2`` at the largest n (rows n/2+1..n of the
  same matrices: row i of a causal A is that of A_i) against
  ``frobenius_doubling``, with the previous doubling's change over
  ``sqrt 2 - 1`` as the next-order budget (corrections decaying at least like
  n^(-1/2)); the log-log
  slope of ``s_1/s_2`` in n against ``gap_exponent = 0``, with the drift of
  the deterministic ``s_1/s_2`` of ``C_n = E A`` over the same grid as the
  finite-n budget (its ratio tends to 1 like 1/log^2 n);
* **depth** (exponential entries, n = 8, l = 1..24): per network the OLS slope
  of ``log(srank(X_l X_l^T) - 1)`` over l = 12..24 (``srank - 1`` from the
  singular values of ``X_l``: ``sum_(k>=2) (s_k/s_1)^4``), mean over networks
  against ``depth_rate = 4 E log A_22`` with the policy's t band plus the
  next exponent's budget ``4 n |lam_3 - lam_2| exp((lam_3 - lam_2) l_min)``
  (``lam_i = E log A_ii``, exact for exponential entries);
* **mask vs no mask** (exponential, n = 64, gamma = 1/2, l = 1..6, same
  draws for both: the mask reuses the unmasked entries): the slope over
  l = 3..6 of both; the unmasked one against Prop 3's (its registered
  prediction at each l, budget: the change of the fitted slope between the
  windows l = 2..5 and 3..6), and the sign of the difference against
  ``crossover_n`` (the mask collapses slower iff n > crossover_n).
"""
from __future__ import annotations

import functools
import math

import numpy as np
import sympy

from . import toolkit as T
from ..stats import loglog_fit, mean_se
from ...theory.companions.arch import self_weight_log_mean
from ...theory.model import AttentionModel
from ...theory.registry import get

__all__ = ["CHECK", "run", "NEGATIVE_CONTROLS", "matrix_stats", "log_excess"]

RID = "arch.causal"
#: layers whose slope is the depth rate (exponential entries, n = 8)
DEPTH_WINDOW = (12, 24)
#: layers of the mask-vs-no-mask comparison (n = 64) and the shifted window of its budget
COMPARE_WINDOW, COMPARE_SHIFTED = (3, 6), (2, 5)


@functools.lru_cache(maxsize=32)
def matrix_stats(model, batch: int, seed: int, backend: str = "numpy"):
    """Per network (batch, 5 + n): max |sorted eigenvalues - sorted diagonal|, trace,
    s_1, s_2, ||A||_F^2 and the rows' squared norms of the layer-1 attention of
    ``model`` (read-only)."""
    from ..backend import to_numpy
    from ..forward import sample
    A = np.asarray(to_numpy(sample(model.replace(depth=1), batch=batch, rng=seed, backend=backend,
                                   keep=("A",)).A[1]), float)
    ev = np.sort_complex(np.linalg.eigvals(A))
    dg = np.sort(np.diagonal(A, axis1=1, axis2=2), axis=1)
    err = np.abs(ev - dg).max(axis=1)
    s = np.linalg.svd(A, compute_uv=False)
    out = np.column_stack([err, np.trace(A, axis1=1, axis2=2), s[:, 0], s[:, 1], (A**2).sum(axis=(1, 2)),
                           (A**2).sum(axis=2)])
    out.setflags(write=False)
    return out


@functools.lru_cache(maxsize=32)
def log_excess(model, batch: int, seed: int, backend: str = "numpy"):
    """(batch, L): ``log(srank(X_l X_l^T) - 1)`` for l = 1..L, from the singular
    values of ``X_l`` (``sum_(k>=2) (s_k/s_1)^4``, accurate while s_2/s_1 > 1e-13)."""
    from ..backend import to_numpy
    from ..forward import sample
    tr = sample(model, batch=batch, rng=seed, backend=backend)
    out = np.empty((batch, model.depth))
    for l in range(1, model.depth + 1):
        s = np.linalg.svd(np.asarray(to_numpy(tr.X[l]), float), compute_uv=False)
        out[:, l - 1] = np.log(((s[:, 1:] / s[:, :1]) ** 4).sum(axis=1))
    out.setflags(write=False)
    return out


def _slopes(y, window):
    """Per-network OLS slope of y[:, l-1] over l in the window (inclusive)."""
    ls = np.arange(window[0], window[1] + 1)
    Y = y[:, window[0] - 1:window[1]]
    lc = ls - ls.mean()
    return (Y - Y.mean(axis=1, keepdims=True)) @ lc / (lc @ lc)


@functools.lru_cache(maxsize=8)
def _prop3_slope(model):
    """Prop 3's per-layer slope of log(srank - 1) over COMPARE_WINDOW for the unmasked
    ``model`` (its registered prediction at each depth)."""
    p3 = get("prop3").prediction
    logs = [math.log(float(q.constant) * int(model.n) ** float(q.exponent))
            for q in (p3(model.replace(depth=k)) for k in range(1, COMPARE_WINDOW[1] + 1))]
    return float(_slopes(np.array([logs]), COMPARE_WINDOW)[0])


@functools.lru_cache(maxsize=8)
def _cesaro_ratio(n):
    C = np.tril(np.ones((n, n))) / np.arange(1, n + 1)[:, None]
    s = np.linalg.svd(C, compute_uv=False)
    return s[0] / s[1]


class CausalCheck(T.Check):
    result_id = RID

    def sizes(self, config):
        return config.pick((64, 128, 256), (64, 128, 256, 512), (128, 256, 512, 1024)), config.pick(16, 24, 32)

    def cases(self, config):
        ns, batch = self.sizes(config)
        ex = get(RID).example().replace(n=ns[-1])
        deep = AttentionModel(n=8, depth=DEPTH_WINDOW[1], gamma=sympy.Rational(1, 2), ensemble="exponential",
                              causal=True)
        cmp_ = AttentionModel(n=64, depth=COMPARE_WINDOW[1], gamma=sympy.Rational(1, 2),
                              ensemble="exponential", causal=True)
        return [T.Case(ex, ns, config.pick(48, 64, 96), "matrix: lognormal sigma_A^2=1/2"),
                T.Case(deep, (8,), config.pick(48, 64, 128), "depth: exponential, n=8"),
                T.Case(cmp_, (64,), config.pick(24, 32, 64), "mask vs none: exponential, n=64")]

    def measure(self, config, case):
        kind = case.label.split(":")[0]
        if kind == "matrix":
            return [matrix_stats(case.model.replace(n=n), case.batch,
                                 T.seed(config, RID, "matrix", n), config.backend) for n in case.ns]
        seed = T.seed(config, RID, kind)
        if kind == "depth":
            return log_excess(case.model, case.batch, seed, config.backend)
        return (log_excess(case.model, case.batch, seed, config.backend),
                log_excess(case.model.replace(causal=False), case.batch, seed, config.backend))

    def compare(self, config, case, data, pred):
        p = pred.numeric()
        par = {"case": case.label, "networks": case.batch}
        kind = case.label.split(":")[0]
        if kind == "matrix":
            return self._matrix(config, case, data, pred, p, par)
        if kind == "depth":
            lam2 = float(self_weight_log_mean("exponential", 1, 2))
            lam3 = float(self_weight_log_mean("exponential", 1, 3))
            n = int(case.model.n)
            budget = 4 * n * abs(lam3 - lam2) * math.exp((lam3 - lam2) * DEPTH_WINDOW[0])
            sl = _slopes(data, DEPTH_WINDOW)
            mean, se = mean_se(sl)
            return [T.band(f"masked depth rate: slope of E log(srank - 1) over l = {DEPTH_WINDOW[0]}.."
                           f"{DEPTH_WINDOW[1]} -> 4 E log A_22", dict(par, n=n), measured=mean,
                           predicted=p["depth_rate"], se=se, df=case.batch - 1, below=budget,
                           above=budget, judges=("depth_rate",))]
        causal, plain = data
        n = int(case.model.n)
        sc, sp = _slopes(causal, COMPARE_WINDOW), _slopes(plain, COMPARE_WINDOW)
        pred3 = _prop3_slope(case.model.replace(causal=False))
        drift = abs(float(np.mean(sp)) - float(np.mean(_slopes(plain, COMPARE_SHIFTED))))
        m, se = mean_se(sp)
        diff, se_d = mean_se(sc - sp)
        slower = n > p["crossover_n"]
        return [T.band("unmasked depth rate (Prop 3's per-layer slope of log(srank - 1))",
                       dict(par, n=n, window=COMPARE_WINDOW), measured=m, predicted=pred3, se=se,
                       df=case.batch - 1, below=drift, above=drift, judges=()),
                T.bound("mask minus no mask: per-layer slope difference (> 0 iff n > crossover_n: "
                        "the mask collapses slower)",
                        dict(par, n=n, crossover_n=p["crossover_n"]), measured=diff, limit=0.0,
                        se=se_d, df=case.batch - 1, upper=not slower, judges=("crossover_n",))]

    def _matrix(self, config, case, data, pred, p, par):
        ns, n = case.ns, case.ns[-1]
        last = data[-1]
        out = [T.identity("eigenvalues of the causal A = its diagonal (max over networks)",
                          dict(par, n=n), measured=float(last[:, 0].max()), predicted=0.0,
                          atol=1e-10, judges=())]
        m, se = mean_se(last[:, 1])
        out.append(T.band("E tr A = H_n (E A_ii = 1/i)", dict(par, n=n), measured=m,
                          predicted=p["trace_mean"], se=se, df=case.batch - 1, judges=("trace_mean",)))
        m, se = mean_se(last[:, 2])
        out.append(T.bound("E s_1(A) >= ||E A||_2 = ||C_n||_2 (Jensen)", dict(par, n=n), measured=m,
                           limit=p["top_lower"], se=se, df=case.batch - 1, upper=False,
                           judges=("top_lower",)))
        # row i of a causal A depends on M_i1..M_ii only, so the first i rows of A_n are
        # those of A_i: one doubling is rows n/2+1..n of the same matrix (no difference of
        # independent means); the previous doubling's change is the next-order budget
        rows = last[:, 5:]
        inc = rows[:, n // 2:].sum(axis=1)
        prev = rows[:, n // 4:n // 2].sum(axis=1)
        m, se = mean_se(inc)
        # corrections decay at least like n^(-1/2) (heavy-tailed entries): what the last
        # doubling still misses is at most |change| / (sqrt 2 - 1)
        budget = abs(m - float(prev.mean())) / (math.sqrt(2) - 1)
        out.append(T.band("E||A_n||_F^2 - E||A_(n/2)||_F^2 (rows n/2+1..n) -> (1 + sigma_A^2) log 2",
                          dict(par, n=n), measured=m, predicted=p["frobenius_doubling"], se=se,
                          df=case.batch - 1, below=budget, above=budget, judges=("frobenius_doubling",),
                          detail=f"SE {se:.3g}; previous doubling {float(prev.mean()):.4g} (the change / "
                                 f"(sqrt 2 - 1) is the next-order budget)"))
        fit = loglog_fit(ns, [d[:, 2] / d[:, 3] for d in data],
                         rng=T.generator(config, RID, "boot-gap"), n_boot=1000)
        drift = abs(math.log(_cesaro_ratio(ns[-1]) / _cesaro_ratio(ns[0])) / math.log(ns[-1] / ns[0]))
        out.append(T.rate("no sqrt(n) gap: s_1(A)/s_2(A) ~ n^0", par, fit, predicted=p["gap_exponent"],
                          judges=("gap_exponent",), below=0.02, above=1.5 * drift, max_width=0.25,
                          detail=f"drift of s_1/s_2 of C_n = E A over the grid: {-drift:.3f}"))
        return out


CHECK = CausalCheck()
CHECK.controls = (
    T.scale("trace_mean", 1.1),
    T.Control("E tr A = 1 (the unmasked trace)", lambda m, pred: pred(m).replace(trace_mean=1),
              ("trace_mean",)),
    T.scale("top_lower", 1.1),
    T.scale("frobenius_doubling", 1.25),
    T.shift("gap_exponent", 0.5, name="Thm 2's sqrt(n) gap (exponent 1/2)"),
    T.Control("depth rate 4 E log A_33 (the next token)", lambda m, pred: pred(m).replace(
        depth_rate=pred(m).depth_rate * 3 / 2 if m.ensemble == "exponential" else pred(m).depth_rate),
        ("depth_rate",)),
    T.Control("annealed depth rate log E A_22^4 = -log 5 (exponential)", lambda m, pred: pred(m).replace(
        depth_rate=-sympy.log(5) if m.ensemble == "exponential" else pred(m).depth_rate), ("depth_rate",)),
    T.scale("depth_rate", 0.5, name="depth rate 2 E log A_22 (s_2/s_1 squared, not to the 4th)"),
    T.Control("crossover beyond n (the mask collapses faster)", lambda m, pred: pred(m).replace(
        crossover_n=2 * int(m.n)), ("crossover_n",)),
)
run = CHECK.run
NEGATIVE_CONTROLS = CHECK.NEGATIVE_CONTROLS
