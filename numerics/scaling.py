"""Sanity-check a scaling hypothesis: sweep n, fit the exponent, judge it.

A hypothesis has three parts:

* a model, :class:`theory.model.AttentionModel` (or a function ``n -> model``),
  whose scales may depend on d (``Scale.xavier()``); the sweep varies ``n``
  with ``gamma = n/d`` fixed;
* a statistic: a name of :data:`numerics.statistics.STATISTICS` or any
  callable ``fn(trajectory, layer) -> (batch,)``;
* a predicted law: a formula in ``n``, ``d``, ``gamma`` (parsed by the
  whitelist parser :func:`theory.expressions.parse_expression`, never
  evaluated as Python) or an exponent alone.

The verdict and its contract
----------------------------
The statistic's mean is modelled as ``m(n) = C n^a (1 + b n^-w + ...)``: the
finite-n corrections of these models are 1/n (prefactors), n^-2/3 (edge
fluctuations) and n^-1/2 (slowly converging prefactors).  For each correction
order w in {none, 1, 2/3, 1/2} the coefficient a of ``log m = c + a log n +
b n^-w`` is fitted by least squares over the grid, with a percentile-bootstrap
CI from :func:`numerics.stats.loglog_fit` (which widens it for small groups).
The *union* U of these CIs covers the asymptotic exponent whenever one of the
correction models holds, so

``inconsistent``
    the predicted exponent lies outside U: false alarm <= 1% per call
    (the 1% is spent over the looks, 1/2 % on the first, 1/4 % on the
    second, ...; halved again when a constant is judged too);
``consistent``
    the prediction lies in U and U is narrower than ``resolution`` (0.25):
    an exponent off by 0.25 or more can then only be called consistent
    when U misses the true exponent (probability <= 1%);
``inconclusive``
    otherwise, with the reason.  When U is too wide the grid is extended
    (largest n doubled) and judged again, until the answer is conclusive,
    ``max_n`` is reached or the next size would not fit in the ``budget``
    (seconds); the report lists the looks.

By default only the exponent is judged, and the report says so (with the
ratio measured/predicted at the ends of the grid).  With ``constant=True``
(``--judge-constant``) a formula's constant is judged too: the ratio
measured/predicted, extrapolated to n -> oo by the same correction models
(standard errors, Student-t quantiles), must contain 1 and be resolved to
``constant_resolution`` (20%).

``benchmarks/bench_scaling_calibration.py`` measures the false-inconsistent
rate and the power over a catalogue of the package's own laws (and the slow
test ``tests/numerics/test_scaling_calibration.py``).

>>> predicted_exponent("sqrt(n)/2")
0.5
>>> predicted_exponent("1 + 3/n")
0.0
>>> predicted_exponent(-1)
-1.0
"""
from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy

from ..theory._validate import in_interval, integer, positive
from ..theory.expressions import D, GAMMA, N, parse_expression

from .statistics import STATISTICS, Statistic, get_statistic, measure
from .stats import LogLogFit, loglog_fit, small_sample_expansion, z_for_probability

__all__ = ["STATISTICS", "predicted_exponent", "theory_prediction", "parse_prediction", "check_scaling",
           "judge", "ScalingReport", "Judgement", "VERDICTS", "CORRECTIONS"]

VERDICTS = ("consistent", "inconsistent", "inconclusive")
#: largest estimated memory of one size's samples (bytes)
MEMORY_LIMIT = 16 * 2 ** 30
#: correction orders w of m(n) = C n^a (1 + b n^-w) fitted alongside the pure law
CORRECTIONS = (None, 1.0, 2.0 / 3.0, 0.5)


# --------------------------------------------------------------------------- predictions

def parse_prediction(prediction, gamma=1):
    """``(expression or None, exponent)`` from a number (an exponent) or a
    formula in ``n`` (``d`` is replaced by ``n/gamma``).

    >>> parse_prediction("2*sqrt(d)", gamma=sympy.Rational(1, 2))
    (2*sqrt(2)*sqrt(n), 0.5)
    >>> parse_prediction("log(n)")
    Traceback (most recent call last):
    ...
    ValueError: predict must be a power law in n such as 'n**-1' or 'sqrt(n)/2' (log(n) has no power-law exponent)
    """
    if isinstance(prediction, (int, float)) and not isinstance(prediction, bool):
        if not math.isfinite(prediction):
            raise ValueError(f"exponent must be a finite number (got {prediction!r})")
        return None, float(prediction)
    if isinstance(prediction, str):
        expr = parse_expression(prediction, name="predict")
    elif isinstance(prediction, sympy.Basic):
        expr = prediction.subs({sympy.Symbol("n"): N, sympy.Symbol("d"): D,
                                sympy.Symbol("gamma"): GAMMA})
    else:
        raise ValueError(f"predict must be an exponent or a formula in n (got {prediction!r})")
    g = sympy.nsimplify(gamma)
    expr = expr.subs({D: N / g, GAMMA: g})
    extra = expr.free_symbols - {N}
    if extra:
        raise ValueError(f"predict may depend on n, d and gamma only; it also has "
                         f"{', '.join(sorted(map(str, extra)))}")
    if expr.is_number:
        if not (expr.is_finite and expr.is_extended_positive):
            raise ValueError(f"predict must be positive (got {expr})")
        return expr, 0.0
    return expr, _exponent(expr, prediction)


def _exponent(expr, shown):
    try:
        e = sympy.limit(N * sympy.diff(sympy.log(expr), N), N, sympy.oo)
    except (NotImplementedError, ValueError, TypeError):
        e = None
    bad = e is None or not e.is_number or not e.is_finite
    if not bad:
        # a log factor leaves the limit finite but makes n^-e expr non-constant
        ratio = sympy.limit(expr / N ** e, N, sympy.oo)
        bad = not (ratio.is_number and ratio.is_finite and ratio.is_positive)
    if bad:
        raise ValueError(f"predict must be a power law in n such as 'n**-1' or 'sqrt(n)/2' "
                         f"({shown} has no power-law exponent)")
    return float(e)


def theory_prediction(model, statistic: str, layer: int):
    """``(expression, exponent, "which result predicted what")`` from the results
    of :mod:`theory.registry` that apply to ``model`` (``applies(model)`` is
    ``None``) and state a power law of ``statistic`` at ``layer``
    (``predict(model).scaling_laws()``); a ``ValueError`` saying why when
    none does, or when the applicable results disagree.

    >>> from gapcheck.theory.model import preset
    >>> theory_prediction(preset("A", n=32, depth=1), "srank-excess", 1)
    (3/n, -1.0, 'prop3: srank-excess ~ 3*n^-1')
    """
    from ..theory.registry import all_results

    found, why_not = [], []
    for result in all_results():
        if result.predict is None:
            continue
        try:
            reason = result.applies(model) if result.applies is not None else None
        except (TypeError, ValueError, AttributeError) as exc:
            reason = f"cannot judge this model ({exc})"
        laws = []
        if reason is None:
            try:
                laws = [law for law in result.predict(model).scaling_laws()
                        if law.statistic == statistic and law.layer in (None, layer)]
            except (TypeError, ValueError, AttributeError, NotImplementedError) as exc:
                # a result that applies but cannot predict here is reported, not dropped
                why_not.append(f"{result.id}: applies but its prediction failed ({exc})")
            found += [(result.id, law) for law in laws]
        elif statistic in STATISTICS and result.id in STATISTICS[statistic].predicted_by:
            why_not.append(f"{result.id}: {reason}")
    if not found:
        because = f" ({'; '.join(why_not)})" if why_not else ""
        raise ValueError(f"predict theory: no result of the registry that applies to this model "
                         f"states a power law for {statistic} at layer {layer}{because}")
    exponents = {float(sympy.N(law.exponent)) for _, law in found}
    if len(exponents) > 1:
        raise ValueError("predict theory: the applicable results disagree: " + "; ".join(
            f"{rid}: exponent {law.exponent}" for rid, law in found))
    rid, law = found[0]
    p = exponents.pop()
    expr = None
    if law.constant is not None:
        c = sympy.nsimplify(law.constant) if not isinstance(law.constant, sympy.Basic) \
            else law.constant
        if c.is_number and c.is_positive:
            expr = c * N ** sympy.nsimplify(law.exponent)
    said = ", ".join(f"{r}: {statistic} ~ "
                     + (f"{sympy.sstr(lw.constant)}*" if lw.constant is not None else "C ")
                     + f"n^{sympy.sstr(lw.exponent)}" for r, lw in found)
    return expr, p, said


def predicted_exponent(prediction, gamma=1) -> float:
    """The exponent a of a predicted law ~ C n^a (a number is its own exponent)."""
    return parse_prediction(prediction, gamma)[1]


def prediction_values(expr, ns) -> np.ndarray:
    """The predicted law at each n; a complex, negative, zero or non-finite value
    is one ``ValueError`` naming the n.

    >>> prediction_values(N - 40, [32, 64])
    Traceback (most recent call last):
    ...
    ValueError: predict is -8 at n = 32: a prediction must be real and > 0 over the grid
    """
    out = []
    for n in ns:
        v = sympy.N(expr.subs(N, int(n)), 17)
        if not (v.is_real and v.is_finite and v > 0):
            raise ValueError(f"predict is {sympy.nsimplify(v) if v.is_real else v} at n = {n}: "
                             "a prediction must be real and > 0 over the grid")
        out.append(float(v))
    return np.asarray(out)


# --------------------------------------------------------------------------- judging

@dataclass
class Judgement:
    """One look at a grid: the verdict, why, and the intervals behind it."""

    verdict: str
    why: str
    fit: LogLogFit | None = None
    fits: dict = field(default_factory=dict)  # correction order -> LogLogFit of a
    interval: tuple | None = None  # union CI of the asymptotic exponent
    constant: tuple | None = None  # union CI of the asymptotic ratio measured/predicted
    extendable: bool = False  # inconclusive only because the intervals are too wide


def _design(ns, w):
    x = np.log(np.asarray(ns, float))
    cols = [np.ones_like(x), x]
    if w is not None:
        cols.append(np.asarray(ns, float) ** -w)
    return np.column_stack(cols)


def _log_variances(groups):
    """Squared relative standard errors of the group means (the variances of
    log(mean)), floored so that a constant group keeps a finite weight."""
    v = np.array([g.var(ddof=1) / g.size / g.mean() ** 2 for g in groups])
    if not v.max() > 0:  # every group constant (a count): equal weights
        return np.ones_like(v)
    return np.maximum(v, 1e-12 * float(v.max()))


def _exponent_fits(ns, groups, alpha, n_boot, gen):
    """``{w: LogLogFit}``: the coefficient a of each correction model by the
    bootstrap of :func:`loglog_fit`.  a is estimated by weighted least squares
    (weights 1/Var log(mean_i), so that precise sizes count more), a linear
    functional ``L . log(mean)`` with ``sum(L) = 0``; ``loglog_fit``'s
    least-squares slope against the regressor ``L / |L|^2`` is exactly
    ``L . log(mean)``, so the same (small-sample-widened) bootstrap of the
    group means serves every model."""
    weights = 1.0 / _log_variances(groups)
    fits = {}
    for w in CORRECTIONS:
        if w is not None and len(ns) < 4:
            continue
        X = _design(ns, w)
        L = np.linalg.solve(X.T @ (weights[:, None] * X), (weights[:, None] * X).T)[1]
        xs = np.exp(L / (L @ L))
        f = loglog_fit(xs, groups, level=1 - alpha, n_boot=n_boot, rng=gen)
        fits[w] = LogLogFit(f.slope, f.intercept, f.ci_low, f.ci_high, f.level,
                            tuple(float(n) for n in ns))
    return fits


def _constant_interval(ns, means, ses, sizes, pred, alpha):
    """Union over the correction models of the CI of log(m/P) at n -> oo
    (weighted by nothing: least squares on log(m_i/P_i) = c + b n_i^-w), with
    standard errors se_i/m_i and a Student-t quantile widened by
    :func:`small_sample_expansion` of the smallest group."""
    y = np.log(np.asarray(means) / pred)
    var = (np.asarray(ses) / np.asarray(means)) ** 2
    z = z_for_probability(alpha) * small_sample_expansion(min(sizes), 1 - alpha)
    lo, hi = math.inf, -math.inf
    for w in CORRECTIONS:
        X = np.ones((len(ns), 1)) if w is None else \
            np.column_stack([np.ones(len(ns)), np.asarray(ns, float) ** -w])
        if len(ns) < X.shape[1] + 2:
            continue
        L = np.linalg.pinv(X)[0]
        c, se = float(L @ y), float(math.sqrt(L ** 2 @ var))
        lo, hi = min(lo, c - z * se), max(hi, c + z * se)
    return math.exp(lo), math.exp(hi)


def judge(ns, groups, p, pred=None, *, alpha=0.005, resolution=0.25, constant=False,
          constant_resolution=0.2, n_boot=2000, rng=None, floor=0.0) -> Judgement:
    """Judge the predicted exponent ``p`` (and, with ``pred``, the predicted
    values at ``ns``) on the samples ``groups[i]`` at ``ns[i]`` (see the
    module's docstring for the contract; ``alpha`` is this look's
    false-alarm budget)."""
    gen = np.random.default_rng(rng)
    means = [float(g.mean()) for g in groups]
    if not all(np.all(np.isfinite(g)) for g in groups):
        bad = [n for n, g in zip(ns, groups) if not np.all(np.isfinite(g))]
        return Judgement("inconclusive", f"the statistic is not finite at n = {bad} "
                         "(overflow in the model?)")
    nonpos = [n for n, m in zip(ns, means) if m <= 0]
    if nonpos:
        return Judgement("inconclusive", f"the statistic's mean is {means[ns.index(nonpos[0])]:g}"
                         f" (<= 0) at n = {nonpos}: no power law can be fitted")
    zeros = [n for n, g in zip(ns, groups) if np.any(g <= 0)]
    if zeros:
        return Judgement("inconclusive", f"some samples are <= 0 at n = {zeros}: the log-log "
                         "bootstrap needs positive samples (a count that is often 0 has no "
                         "power law at these n)")
    if min(means) < floor:
        return Judgement("inconclusive", f"values down to {min(means):.2g}: at the float64 "
                         "round-off floor of this statistic, the fit measures noise")
    a_const = alpha / 2 if (pred is not None and constant) else alpha
    fits = _exponent_fits(ns, groups, a_const, n_boot, gen)
    pure = loglog_fit(ns, groups, level=1 - a_const, n_boot=n_boot, rng=gen)
    lo = min(f.ci_low for f in fits.values())
    hi = max(f.ci_high for f in fits.values())
    ci = (f"{100 * (1 - a_const):.2f}% interval [{lo:.3f}, {hi:.3f}] of the asymptotic "
          f"exponent (union over corrections n^-w, w in {{none, 1, 2/3, 1/2}})")
    j = Judgement("inconclusive", "", pure, fits, (lo, hi))
    if not lo <= p <= hi:
        j.verdict, j.why = "inconsistent", f"the prediction {p:g} lies outside the {ci}"
        return j
    if not (p - resolution < lo and hi < p + resolution):
        j.why = (f"the prediction {p:g} lies inside the {ci}, but so does "
                 f"{p - resolution if lo <= p - resolution else p + resolution:g}: the "
                 f"interval cannot tell exponents {resolution:g} apart")
        j.extendable = True
        return j
    if pred is None or not constant:
        j.verdict = "consistent"
        j.why = (f"the prediction {p:g} lies inside the {ci}, which is narrower than "
                 f"±{resolution:g} about it (the exponent only is judged, not the constant)")
        return j
    sizes = [g.size for g in groups]
    ses = [float(g.std(ddof=1) / math.sqrt(g.size)) for g in groups]
    c_lo, c_hi = _constant_interval(ns, means, ses, sizes, pred, a_const)
    j.constant = (c_lo, c_hi)
    cst = f"the extrapolated ratio measured/predicted lies in [{c_lo:.3g}, {c_hi:.3g}]"
    if not c_lo <= 1 <= c_hi:
        j.verdict = "inconsistent"
        j.why = f"the exponent {p:g} lies inside the {ci}, but the constant is off: {cst}"
    elif c_hi / c_lo > (1 + constant_resolution) ** 2:
        j.why = (f"the exponent {p:g} lies inside the {ci}, and {cst}, which contains 1 but "
                 f"is wider than ±{100 * constant_resolution:.0f}%: the constant is not "
                 "resolved")
        j.extendable = True
    else:
        j.verdict = "consistent"
        j.why = f"the exponent {p:g} lies inside the {ci}, and {cst} (contains 1)"
    return j


# --------------------------------------------------------------------------- the report

@dataclass
class ScalingReport:
    """Outcome of :func:`check_scaling` (``to_json()`` for a dict)."""

    statistic: str
    layer: int
    model: str
    ns: list[int]
    samples: list[np.ndarray] = field(repr=False)
    means: list[float]
    ses: list[float]
    judgement: Judgement
    prediction: str | None
    predicted_exponent: float
    local_slopes: list[float]
    ratio_to_prediction: list[float] | None
    looks: list[dict]
    stopped: str
    seconds: float
    predicted_by: str | None = None

    @property
    def verdict(self) -> str:
        return self.judgement.verdict

    @property
    def why(self) -> str:
        return self.judgement.why

    @property
    def fit(self) -> LogLogFit | None:
        return self.judgement.fit

    def to_json(self) -> dict:
        d = {k: getattr(self, k) for k in (
            "statistic", "layer", "model", "ns", "means", "ses", "prediction",
            "predicted_exponent", "verdict", "why", "local_slopes", "ratio_to_prediction",
            "looks", "stopped", "seconds", "predicted_by")}
        f = self.fit
        d["fitted_exponent"] = None if f is None else f.slope
        d["ci"] = None if f is None else [f.ci_low, f.ci_high]
        d["ci_level"] = None if f is None else f.level
        d["exponent_interval"] = self.judgement.interval
        d["corrected_exponents"] = {("none" if w is None else f"{w:.3g}"): [v.slope, v.ci_low,
                                                                         v.ci_high]
                                    for w, v in self.judgement.fits.items()}
        d["constant_interval"] = self.judgement.constant
        return json.loads(json.dumps(d, default=float))

    def summary(self) -> str:
        """A few lines for a terminal."""
        f = self.fit
        fitted = "no fit" if f is None else (
            f"fitted exponent {f.slope:.3f} (pure power law, {100 * f.level:.1f}% CI "
            f"[{f.ci_low:.3f}, {f.ci_high:.3f}])")
        slopes = ", ".join(f"{s:.2f}" for s in self.local_slopes)
        pred = f"predicted {self.predicted_exponent:g}" + (
            f" (from {self.prediction})" if self.prediction else " (exponent only)")
        if self.predicted_by:
            pred += f" [{self.predicted_by}]"
        lines = [f"{self.statistic} at layer {self.layer}, n = {', '.join(map(str, self.ns))}: "
                 f"{fitted}; local slopes {slopes}; {pred}"]
        if len(self.looks) > 1 or self.stopped:
            grids = "; ".join(f"n = {lk['ns'][0]}..{lk['ns'][-1]}: {lk['verdict']}"
                              for lk in self.looks)
            lines.append(f"looks: {grids}" + (f" (stopped: {self.stopped})" if self.stopped else ""))
        lines.append(f"verdict: {self.verdict.upper()}: {self.why}")
        return "\n".join(lines)

    def plot(self, path, title: str | None = None) -> list[Path]:
        """Log-log figure: means with 2-SE bars, the fit, the prediction.
        Writes ``path`` (its suffix picks the format) and returns it."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker

        path = Path(path)
        ns = np.asarray(self.ns, float)
        means = np.asarray(self.means)
        ses = np.asarray(self.ses)
        fig, ax = plt.subplots(figsize=(5.2, 4.0))
        pos = means > 0
        lower = np.minimum(2 * ses, 0.95 * np.abs(means))
        ax.errorbar(ns[pos], means[pos], yerr=[lower[pos], 2 * ses[pos]], fmt="o", color="k",
                    capsize=3, label="data (mean ± 2 SE)")
        grid = np.geomspace(ns.min() / 1.15, ns.max() * 1.15, 100)
        f = self.fit
        if f is not None:
            ax.plot(grid, np.exp(f.intercept) * grid ** f.slope, color="tab:blue",
                    label=f"fit: n^{f.slope:.2f} [{f.ci_low:.2f}, {f.ci_high:.2f}]")
        if self.prediction is not None:
            expr = parse_expression(self.prediction)
            y = prediction_values(expr, grid)
            ax.plot(grid, y, "--", color="tab:red", label=f"prediction: {self.prediction}")
        elif f is not None and pos.all():
            x0 = np.exp(np.log(ns).mean())
            y0 = np.exp(np.log(means).mean())
            ax.plot(grid, y0 * (grid / x0) ** self.predicted_exponent, "--", color="tab:red",
                    label=f"prediction: slope {self.predicted_exponent:g}")
        ax.set_xscale("log")
        ax.set_xticks(ns, [str(int(n)) for n in ns])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        if pos.all():
            ax.set_yscale("log")
        ax.set_xlabel("n (tokens)")
        ax.set_ylabel(f"{self.statistic} (layer {self.layer})")
        ax.set_title(title or f"{self.verdict}: {self.model}", fontsize=8)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return [path]


def _describe(model) -> str:
    fields = []
    for f in dataclasses.fields(model):
        if f.name == "n":
            continue
        v = getattr(model, f.name)
        if f.default is not dataclasses.MISSING and v == f.default:
            continue
        fields.append(f"{f.name}={v}")
    return f"{type(model).__name__}(" + ", ".join(fields) + ")"


def _model_at(model, n):
    if callable(model) and not dataclasses.is_dataclass(model):
        return model(n)
    return dataclasses.replace(model, n=n)


def _root_seed(rng) -> int:
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2 ** 62))
    if rng is None:
        return int(np.random.SeedSequence().entropy % 2 ** 62)
    return integer("rng", rng, minimum=0)


def _as_statistic(statistic) -> Statistic:
    if isinstance(statistic, str) or isinstance(statistic, Statistic):
        return get_statistic(statistic)
    if callable(statistic):
        return Statistic(getattr(statistic, "__name__", "statistic"), "user-defined", statistic,
                         keep=("X", "A"), layer_from=0)
    raise ValueError(f"statistic must be a name ({', '.join(STATISTICS)}) or a callable "
                     f"fn(trajectory, layer) (got {statistic!r})")


def _memory_bytes(model, samples, stat) -> int:
    n, d, H = int(model.n), model.d, int(model.heads)
    wide = 0 if model.mlp is None else int(model.mlp.width) * d
    # per layer: the signal, the kept attention (one per head), the weights (values, W_O,
    # the heads' W_Q, W_K, the MLP's two), the MLP's hidden activations
    qk = 2 * d * H * int(model.key_width) if model.attention == "key-query" else 0
    weights = d * d * (1 + (model.out_proj is not None)) + qk + 2 * d * wide
    per = 8 * samples * (model.depth + 1) * (n * d + (H * n * n if "A" in stat.keep else 0)
                                             + weights + n * wide + (H - 1) * n * n)
    return 3 * per


def check_scaling(model, statistic, prediction, *, ns=(32, 64, 128, 256), layer=None,
                  samples: int = 32, rng=None, backend: str = "numpy", level: float = 0.99,
                  resolution: float = 0.25, constant: bool = False,
                  constant_resolution: float = 0.2, budget: float = 120.0, max_n: int = 2048,
                  n_boot: int = 2000,
                  sampler=None) -> ScalingReport:
    """Sweep n, fit the exponent of the statistic's mean, and judge the prediction
    (contract: the module's docstring).

    ``model``: an ``AttentionModel`` (its ``n`` is replaced by each grid
    value, ``gamma`` fixed) or a function ``n -> AttentionModel``.
    ``statistic``: a registered name or a callable ``fn(trajectory, layer)``
    returning one value per sampled network; ``layer``: default the last.
    ``prediction``: an exponent, a formula in n, d, gamma, a sympy
    expression, or ``"theory"`` (the power law stated by the registry's
    results that apply to the model, :func:`theory_prediction`); ``constant``: judge the formula's constant too.  ``level``:
    1 - the false-inconsistent budget of the whole call.  ``budget``: seconds the grid extension may spend (largest n doubled
    while inconclusive), up to ``max_n``; ``budget=0`` keeps the grid.  The
    samples at each n come from a seed derived from ``rng`` and n alone, so
    a grid extension adds samples without changing the old ones.
    ``sampler(n) -> samples`` replaces the sampling (the calibration study
    shares samples between hypotheses).

    Example: a user-defined statistic, the mean row maximum of the attention.
    Xavier keys and queries make attention nearly uniform, so the largest
    weight of a row is about 1/n:

    >>> from gapcheck.theory.model import AttentionModel
    >>> m = AttentionModel(n=16, depth=1, attention="key-query")
    >>> def row_max(traj, layer):
    ...     return traj.A[layer].max(axis=-1).mean(axis=-1)
    >>> r = check_scaling(m, row_max, "1/n", ns=(16, 32, 64, 128), samples=8, rng=0,
    ...                   constant=True, budget=0)
    >>> r.verdict, r.judgement.constant[0] <= 1 <= r.judgement.constant[1]
    ('consistent', True)
    """
    stat = _as_statistic(statistic)
    ns = sorted(integer("n", n, minimum=4) for n in ns)
    if len(ns) < 4 or len(set(ns)) != len(ns):
        raise ValueError(f"ns must list at least 4 distinct sizes (got {ns}): the correction "
                         "models have 3 parameters")
    integer("samples", samples, minimum=4)
    in_interval("level", level, 0, 1, hi_open=True)
    positive("resolution", resolution)
    positive("constant_resolution", constant_resolution)
    if not (isinstance(budget, (int, float)) and budget >= 0 and not math.isnan(budget)):
        raise ValueError(f"budget must be a number of seconds >= 0 (got {budget!r})")
    max_n = integer("max_n", max_n, minimum=max(ns))
    first = _model_at(model, ns[0])
    depth = first.depth
    layer = depth if layer is None else integer("layer", layer, minimum=stat.layer_from,
                                                maximum=depth)
    predicted_by = None
    if isinstance(prediction, str) and prediction.strip() == "theory":
        expr, p, predicted_by = theory_prediction(first, stat.name, layer)
    else:
        expr, p = parse_prediction(prediction, getattr(first, "gamma", 1))
    if expr is not None:
        prediction_values(expr, ns)
    root = _root_seed(rng)
    cache = {}
    timing = {}

    def sample_at(n):
        if n not in cache:
            t = time.perf_counter()
            if sampler is not None:
                cache[n] = np.asarray(sampler(n), float).reshape(-1)
            else:
                m = _model_at(model, n)
                need = _memory_bytes(m, samples, stat)
                if need > MEMORY_LIMIT:
                    raise ValueError(f"n = {n} with {samples} samples needs about "
                                     f"{need / 2 ** 30:.0f} GiB (limit {MEMORY_LIMIT / 2 ** 30:.0f}"
                                     " GiB): lower max_n, the grid or samples")
                gen = np.random.default_rng(np.random.SeedSequence([root, n]))
                cache[n] = measure(stat, m, layer, batch=samples, rng=gen, backend=backend)
            timing[n] = time.perf_counter() - t
        return cache[n]

    t0 = time.perf_counter()
    grid = list(ns)
    looks, stopped = [], ""
    alpha = 1 - level
    while True:
        groups = [sample_at(n) for n in grid]
        pred = None if expr is None else prediction_values(expr, grid)
        look_alpha = alpha * 2.0 ** -(len(looks) + 1)
        j = judge(grid, groups, p, pred, alpha=look_alpha, resolution=resolution,
                  constant=constant, constant_resolution=constant_resolution, n_boot=n_boot,
                  rng=np.random.SeedSequence([root, len(looks), 7]), floor=stat.floor)
        looks.append({"ns": list(grid), "verdict": j.verdict, "alpha": look_alpha})
        if j.verdict != "inconclusive" or not j.extendable:
            break
        nxt = 2 * grid[-1]
        if nxt > max_n:
            stopped = f"the next size n = {nxt} is above max_n = {max_n}"
            break
        last = timing.get(grid[-1], 0.0)
        estimate = last * 2.0 ** 3
        spent = time.perf_counter() - t0
        if spent + estimate > budget:
            stopped = (f"the next size n = {nxt} (about {estimate:.0f} s) does not fit in the "
                       f"budget of {budget:g} s ({spent:.0f} s spent)")
            break
        grid.append(nxt)
    if stopped:
        j.why += f"; grid extension stopped: {stopped}"
    means = [float(g.mean()) for g in groups]
    ses = [float(g.std(ddof=1) / math.sqrt(g.size)) for g in groups]
    ratio = None
    if pred is not None:
        ratio = [float(m / v) for m, v in zip(means, pred)]
        j.why += (f"; measured/predicted = {ratio[0]:.3g} at n = {grid[0]}, {ratio[-1]:.3g} at "
                  f"n = {grid[-1]}")
    local = []
    if all(m > 0 for m in means):
        lm, ln_ = np.log(means), np.log(grid)
        local = [float((lm[i + 1] - lm[i]) / (ln_[i + 1] - ln_[i])) for i in range(len(grid) - 1)]
    return ScalingReport(stat.name, layer, _describe(first), list(grid), groups, means, ses, j,
                         None if expr is None else str(expr), p, local, ratio, looks, stopped,
                         round(time.perf_counter() - t0, 3), predicted_by)
