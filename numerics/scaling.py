"""Sanity-check a scaling hypothesis: sweep n, fit the exponent, compare.

A hypothesis has three parts:

* a model, :class:`theory.model.AttentionModel`, whose scales may depend on d
  (``Scale.xavier()``, ``Scale.power(alpha)``); the sweep varies ``n`` with
  ``gamma = n/d`` fixed, so d-dependent scales become n-dependent;
* a statistic, by name (see :data:`STATISTICS`), measured at one layer;
* a predicted law: a sympy expression in ``n`` (``"sqrt(n)/2"``; ``d`` is
  read as ``n/gamma``) or just an exponent.

:func:`check_scaling` samples the statistic on a grid of n, fits
``mean ~ C n^slope`` on a log-log scale with a bootstrap confidence interval
(:func:`numerics.stats.loglog_fit`) and answers with a verdict:

``consistent``
    the predicted exponent lies in the CI widened by a finite-n budget
    ``slope_bias`` (default 0.05: a prefactor converging like ``1 - c/n``
    tilts the fitted slope at small n), and the CI is narrow enough
    (half-width <= ``resolution``) to tell it from its neighbours;
``inconsistent``
    the predicted exponent lies outside the widened CI, and the local slopes
    do not drift towards it as n grows;
``inconclusive``
    otherwise, with the reason (CI too wide, pre-asymptotic drift, values at
    the round-off floor, a statistic that vanishes so no power law applies).

:meth:`ScalingReport.plot` draws the log-log figure (data with 2-SE bars,
the fit, the prediction).

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
from typing import Callable

import numpy as np
import sympy

from ..theory._validate import in_interval, integer, one_of, positive

from .stats import LogLogFit, loglog_fit

__all__ = ["STATISTICS", "Statistic", "predicted_exponent", "parse_prediction",
           "check_scaling", "ScalingReport", "VERDICTS"]

VERDICTS = ("consistent", "inconsistent", "inconclusive")
N, D, GAMMA = sympy.symbols("n d gamma", positive=True)


# --------------------------------------------------------------------------- statistics

@dataclass(frozen=True)
class Statistic:
    """A measured quantity: ``fn(model, layer, batch, rng, backend) -> (batch,)``."""

    name: str
    description: str
    fn: Callable
    layer_from: int = 1  # smallest valid layer


def _traj(model, batch, rng, backend, keep):
    from .forward import sample
    return sample(model, batch=batch, rng=rng, backend=backend, keep=keep)


def _np(x):
    from .backend import to_numpy
    return np.asarray(to_numpy(x), dtype=float)


def _srank(model, layer, batch, rng, backend):
    from .measures import covariance_stable_rank
    t = _traj(model, batch, rng, backend, ("X",))
    return _np(covariance_stable_rank(t.X[layer]))


def _srank_excess(model, layer, batch, rng, backend):
    return _srank(model, layer, batch, rng, backend) - 1.0


def _srank_fraction(model, layer, batch, rng, backend):
    return _srank(model, layer, batch, rng, backend) / model.n


def _attention(model, layer, batch, rng, backend):
    t = _traj(model, batch, rng, backend, ("X", "A"))
    return t.A[layer]


def _gap_ratio(model, layer, batch, rng, backend):
    from .measures import gap_ratio
    return _np(gap_ratio(_attention(model, layer, batch, rng, backend)))


def _signal_gap_ratio(model, layer, batch, rng, backend):
    from .measures import gap_ratio
    t = _traj(model, batch, rng, backend, ("X",))
    return _np(gap_ratio(t.X[layer]))


def _attention_deviation(model, layer, batch, rng, backend):
    """||sqrt(n) (A - 11^T/n)||_2."""
    from .measures import spectral_norm
    A = _np(_attention(model, layer, batch, rng, backend))
    n = A.shape[-1]
    return _np(spectral_norm(math.sqrt(n) * (A - 1.0 / n)))


def _row_entropy(A):
    A = np.clip(A, 1e-300, None)
    return -(A * np.log(A)).sum(axis=-1).mean(axis=-1)


def _entropy(model, layer, batch, rng, backend):
    return _row_entropy(_np(_attention(model, layer, batch, rng, backend)))


def _entropy_deficit(model, layer, batch, rng, backend):
    A = _np(_attention(model, layer, batch, rng, backend))
    return math.log(A.shape[-1]) - _row_entropy(A)


_QC_EDGE_OVER_MEDIAN = None


def _qc_edge_over_median() -> float:
    """2 / median of the quarter-circle law QC(1) (density sqrt(4 - x^2)/pi on [0, 2])."""
    global _QC_EDGE_OVER_MEDIAN
    if _QC_EDGE_OVER_MEDIAN is None:
        from scipy.optimize import brentq

        def cdf(x):
            return (x * math.sqrt(4 - x * x) / 2 + 2 * math.asin(x / 2)) / math.pi
        _QC_EDGE_OVER_MEDIAN = 2.0 / brentq(lambda x: cdf(x) - 0.5, 0.0, 2.0)
    return _QC_EDGE_OVER_MEDIAN


def _outliers(model, layer, batch, rng, backend, margin=0.1):
    """Singular values of sqrt(n) A_l above (1 + margin) times the bulk edge,
    the edge read off the bulk's median as for a quarter-circle law."""
    from .measures import esd
    A = _np(_attention(model, layer, batch, rng, backend))
    n = A.shape[-1]
    s = esd(math.sqrt(n) * A, hermitian=False)
    edge = np.median(s, axis=-1, keepdims=True) * _qc_edge_over_median()
    return (s > (1 + margin) * edge).sum(axis=-1).astype(float)


def _grad_norm(model, layer, batch, rng, backend):
    from .gradients import grad_norms_sq
    g = _np(grad_norms_sq(model, batch=batch, rng=rng, backend=backend))
    return g[:, layer - 1]


STATISTICS: dict[str, Statistic] = {s.name: s for s in [
    Statistic("srank", "stable rank of Sigma_l = X_l X_l^T", _srank, 0),
    Statistic("srank-excess", "srank(Sigma_l) - 1 (-> 0 under rank collapse)", _srank_excess, 0),
    Statistic("srank-fraction", "srank(Sigma_l) / n", _srank_fraction, 0),
    Statistic("gap-ratio", "s_1/s_2 of the attention matrix A_l (Thm 2: ~ sqrt(n)/(2 sigma_A))",
              _gap_ratio),
    Statistic("signal-gap-ratio", "s_1/s_2 of the signal X_l (Thm 10)", _signal_gap_ratio),
    Statistic("attention-deviation", "||sqrt(n)(A_l - 11^T/n)||_2 (0 for uniform attention)",
              _attention_deviation),
    Statistic("grad-norm", "||dX_L/dW_l||_F^2", _grad_norm),
    Statistic("entropy", "mean row entropy of A_l", _entropy),
    Statistic("entropy-deficit", "log n - mean row entropy of A_l (0 for uniform attention)",
              _entropy_deficit),
    Statistic("outliers", "singular values of sqrt(n) A_l above 1.1 x the bulk edge "
              "(edge from the bulk median, quarter-circle shape)", _outliers),
]}


# --------------------------------------------------------------------------- predictions

def parse_prediction(prediction, gamma=1):
    """``(expression or None, exponent)`` from a number (an exponent) or a
    sympy expression in ``n`` (``d`` is replaced by ``n/gamma``).

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
        try:
            expr = sympy.sympify(prediction, locals={"n": N, "d": D, "gamma": GAMMA})
        except (sympy.SympifyError, SyntaxError, TypeError) as exc:
            raise ValueError(f"predict must be a sympy expression in n (got {prediction!r}: "
                             f"{type(exc).__name__})") from None
    elif isinstance(prediction, sympy.Basic):
        expr = prediction.subs({sympy.Symbol("n"): N, sympy.Symbol("d"): D})
    else:
        raise ValueError(f"predict must be an exponent or an expression in n (got {prediction!r})")
    expr = sympy.sympify(expr).subs({D: N / sympy.nsimplify(gamma), GAMMA: sympy.nsimplify(gamma)})
    extra = expr.free_symbols - {N}
    if extra:
        raise ValueError(f"predict may depend on n (and d) only; it also has "
                         f"{', '.join(sorted(map(str, extra)))}")
    if expr.is_number:
        if not (expr.is_finite and expr.is_positive):
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


def predicted_exponent(prediction, gamma=1) -> float:
    """The exponent a of a predicted law ~ C n^a (a number is its own exponent)."""
    return parse_prediction(prediction, gamma)[1]


# --------------------------------------------------------------------------- the check

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
    fit: LogLogFit | None
    prediction: str | None
    predicted_exponent: float
    verdict: str
    why: str
    local_slopes: list[float]
    ratio_to_prediction: list[float] | None
    seconds: float

    def to_json(self) -> dict:
        d = {k: getattr(self, k) for k in ("statistic", "layer", "model", "ns", "means", "ses",
                                           "prediction", "predicted_exponent", "verdict", "why",
                                           "local_slopes", "ratio_to_prediction", "seconds")}
        d["fitted_exponent"] = None if self.fit is None else self.fit.slope
        d["ci"] = None if self.fit is None else [self.fit.ci_low, self.fit.ci_high]
        d["ci_level"] = None if self.fit is None else self.fit.level
        return json.loads(json.dumps(d, default=float))

    def summary(self) -> str:
        """Three lines for a terminal."""
        if self.fit is None:
            fitted = "no fit"
        else:
            f = self.fit
            fitted = (f"fitted exponent {f.slope:.3f}, {100 * f.level:.0f}% CI "
                      f"[{f.ci_low:.3f}, {f.ci_high:.3f}]")
        pred = f"predicted {self.predicted_exponent:g}" + (
            f" (from {self.prediction})" if self.prediction else "")
        return (f"{self.statistic} at layer {self.layer}, n = {', '.join(map(str, self.ns))}: "
                f"{fitted}; {pred}\nverdict: {self.verdict.upper()}: {self.why}")

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
        if self.fit is not None:
            f = self.fit
            ax.plot(grid, np.exp(f.intercept) * grid ** f.slope, color="tab:blue",
                    label=f"fit: n^{f.slope:.2f} [{f.ci_low:.2f}, {f.ci_high:.2f}]")
        if self.prediction is not None:
            fn = sympy.lambdify(N, sympy.sympify(self.prediction, locals={"n": N}), "numpy")
            y = np.broadcast_to(np.asarray(fn(grid), float), grid.shape)
            ax.plot(grid, y, "--", color="tab:red",
                    label=f"prediction: {self.prediction}")
        elif self.fit is not None and pos.all():
            # exponent only: anchor the predicted slope at the data's log-centre
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


def check_scaling(model, statistic: str, prediction, *, ns=(32, 64, 128, 256), layer=None,
                  samples: int = 16, rng=None, backend: str = "numpy", level: float = 0.99,
                  resolution: float = 0.25, slope_bias: float = 0.05,
                  n_boot: int = 1000) -> ScalingReport:
    """Sweep n, fit the exponent of the statistic's mean, and judge the prediction.

    ``model``: an ``AttentionModel`` (its ``n`` is replaced by each grid
    value, ``gamma`` fixed) or a function ``n -> AttentionModel``.
    ``statistic``: a key of :data:`STATISTICS`; ``layer``: 1..depth (default:
    the last layer). ``prediction``: an exponent or an expression in n.
    ``resolution``: largest CI half-width for a ``consistent`` verdict;
    ``slope_bias``: finite-n budget added on both sides of the CI.

    Example (the README's): Xavier keys and queries make attention uniform,
    so ``||sqrt(n)(A - 11^T/n)||_2 = O(1/d)``.

    >>> from gapcheck.theory.model import AttentionModel, Scale
    >>> m = AttentionModel(n=32, depth=1, gamma=1, attention="key-query",
    ...                    sigma_qk2=Scale.xavier())
    >>> r = check_scaling(m, "attention-deviation", -1, ns=(16, 32, 64), samples=8, rng=0)
    >>> r.verdict
    'consistent'
    """
    one_of("statistic", statistic, tuple(STATISTICS))
    stat = STATISTICS[statistic]
    ns = [integer("n", n, minimum=4) for n in ns]
    if len(ns) < 3 or len(set(ns)) != len(ns):
        raise ValueError(f"ns must list at least 3 distinct sizes (got {ns})")
    ns = sorted(ns)
    integer("samples", samples, minimum=2)
    in_interval("level", level, 0, 1, hi_open=True)
    positive("resolution", resolution)
    from ..theory._validate import nonnegative
    nonnegative("slope_bias", slope_bias)
    first = _model_at(model, ns[0])
    depth = first.depth
    layer = depth if layer is None else integer("layer", layer, minimum=stat.layer_from,
                                                maximum=depth)
    expr, p = parse_prediction(prediction, getattr(first, "gamma", 1))
    gen = np.random.default_rng(rng)
    t0 = time.perf_counter()
    groups = []
    for n in ns:
        values = np.asarray(stat.fn(_model_at(model, n), layer, samples, gen, backend), float)
        groups.append(values)
    means = [float(g.mean()) for g in groups]
    ses = [float(g.std(ddof=1) / math.sqrt(g.size)) for g in groups]
    fit, verdict, why, local = None, "inconclusive", "", []
    ratio = None
    if expr is not None:
        fn = sympy.lambdify(N, expr, "numpy")
        ratio = [float(m / float(fn(n))) for m, n in zip(means, ns)]
    nonfinite = [n for n, g in zip(ns, groups) if not np.all(np.isfinite(g))]
    nonpos = [n for n, g in zip(ns, groups) if g.mean() <= 0]
    if nonfinite:
        why = f"the statistic is not finite at n = {nonfinite} (overflow in the model?)"
    elif nonpos:
        why = (f"the statistic's mean is {means[ns.index(nonpos[0])]:g} (<= 0) at n = {nonpos}: "
               "no power law can be fitted")
    else:
        fit = _fit(ns, groups, level, n_boot, gen)
        logn, logm = np.log(ns), np.log(means)
        local = [float((logm[i + 1] - logm[i]) / (logn[i + 1] - logn[i]))
                 for i in range(len(ns) - 1)]
        verdict, why = _judge(fit, p, local, resolution, means, statistic, slope_bias)
    if ratio is not None and fit is not None:
        why += f"; measured/predicted = {ratio[0]:.3g} at n = {ns[0]}, {ratio[-1]:.3g} at n = {ns[-1]}"
    return ScalingReport(statistic, layer, _describe(first), ns, groups, means, ses, fit,
                         None if expr is None else str(expr), p, verdict, why, local, ratio,
                         round(time.perf_counter() - t0, 3))


def _fit(ns, groups, level, n_boot, gen) -> LogLogFit:
    """:func:`loglog_fit` of the group means; counts with zeros in them (a
    positive mean, some zero samples) get the same percentile bootstrap here,
    since ``loglog_fit`` asks every sample to be > 0."""
    if all(np.all(g > 0) for g in groups):
        return loglog_fit(ns, groups, level=level, n_boot=n_boot, rng=gen)
    logn = np.log(np.asarray(ns, float))
    slope, intercept = np.polyfit(logn, np.log([g.mean() for g in groups]), 1)
    boots = []
    for _ in range(n_boot):
        m = [g[gen.integers(0, g.size, g.size)].mean() for g in groups]
        if min(m) > 0:
            boots.append(np.polyfit(logn, np.log(m), 1)[0])
    if len(boots) < n_boot // 2:
        raise ValueError("the statistic is zero in most bootstrap draws: no power law can be "
                         "fitted (use more samples)")
    a = (1 - level) / 2
    lo, hi = np.quantile(boots, [a, 1 - a])
    return LogLogFit(float(slope), float(intercept), float(lo), float(hi), level,
                     tuple(float(n) for n in ns))


def _judge(fit: LogLogFit, p: float, local, resolution, means, statistic, slope_bias=0.0):
    ci = f"{100 * fit.level:.0f}% CI [{fit.ci_low:.3f}, {fit.ci_high:.3f}]"
    if slope_bias:
        ci += f" ± {slope_bias:g} (finite-n budget)"
    floor = 1e-13 if statistic == "srank-excess" else 0.0
    if min(means) < floor:
        return ("inconclusive", f"values down to {min(means):.2g}: at the float64 round-off "
                "floor of this statistic, the fit measures noise")
    half = fit.width / 2
    if fit.ci_low - slope_bias <= p <= fit.ci_high + slope_bias:
        if half > resolution:
            return ("inconclusive", f"the prediction {p:g} is inside the {ci}, but the CI is "
                    f"wider than ±{resolution:g}: use more samples or a wider range of n")
        return ("consistent", f"the prediction {p:g} lies inside the {ci} of the fitted "
                f"exponent {fit.slope:.3f}")
    # outside the CI: pre-asymptotic drift towards the prediction?
    if len(local) >= 2:
        first, last = local[0], local[-1]
        towards = abs(last - p) < abs(first - p) - 2 * half - slope_bias
        if towards:
            return ("inconclusive", f"the prediction {p:g} is outside the {ci}, but the local "
                    f"slope drifts from {first:.3f} to {last:.3f} towards it: n may still be "
                    "pre-asymptotic; extend the grid of n")
    return ("inconsistent", f"the prediction {p:g} lies outside the {ci} of the fitted "
            f"exponent {fit.slope:.3f} (local slopes {', '.join(f'{s:.2f}' for s in local)})")
