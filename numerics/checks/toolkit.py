"""The one toolkit every empirical check is built from.

A check has one shape::

    cases(config)                  -> the models (and sizes) it samples
    measure(config, case)          -> measurements, cached: the truth and every
                                      negative control read the SAME samples
    compare(config, case, m, pred) -> CheckOutcome records against a Prediction

and its negative controls are perturbations of the prediction
(:class:`Control`: ``model -> Prediction``), each naming the prediction
fields whose outcome it must fail (``rejects=("constant",)``).

What used to be spelled in each check lives here once:

* **The false-alarm policy.** The suite allows :data:`FALSE_ALARM_PER_RUN`
  (1%) false alarms per full run of every check; a run has at most
  :data:`STATISTICAL_OUTCOMES` statistical outcomes (the contract (``tests/contract.py``)
  counts them at every level), so each outcome gets the Bonferroni share
  :func:`alarm` and the quantiles :func:`z` (normal) and :func:`t` (Student).
* **Seed streams.** :func:`seed_sequence` derives a ``SeedSequence`` from the
  root seed, the result id and a key by spawning (the id and the key are
  encoded injectively as integer words: no magic integers, no hashes), so two
  results never share a stream and a failure replays from its id.
* **Typed outcome builders.** :func:`band` (two-sided, with one-sided bias
  budgets), :func:`bound` (one-sided), :func:`rate` (log-log fit with a CI),
  :func:`limit` (extrapolation to n = oo), :func:`identity` (an exact
  statement, to rounding).

>>> from gapcheck.numerics.checks import VerifyConfig
>>> cfg = VerifyConfig(seed=7)
>>> seed(cfg, "prop3", "signal", 64) == seed(cfg, "prop3", "signal", 64)
True
>>> seed(cfg, "prop3", "signal", 64) == seed(cfg, "thm9", "signal", 64)
False
>>> round(z(), 3) == round(z(alarm()), 3)
True
>>> o = band("mean", {}, measured=1.02, predicted=1.0, se=0.01, judges=("mean",))
>>> o.passed, o.judges
(True, ('mean',))
"""
from __future__ import annotations

import abc
import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from scipy import stats as _st

from ...theory._validate import in_interval, positive
from ...theory.registry import CheckOutcome, get

__all__ = ["FALSE_ALARM_PER_RUN", "STATISTICAL_OUTCOMES", "alarm", "z", "t", "seed_sequence",
           "seed", "generator", "band", "bound", "rate", "limit", "identity", "Extrapolation",
           "extrapolate", "Control", "shift", "scale", "times", "substitute", "remodel", "Case", "Check"]

#: false alarms the whole suite may raise per full run of every check
FALSE_ALARM_PER_RUN = 0.01
#: upper bound on the statistical outcomes of one full run (each result with an empirical
#: check gets an equal share; the contract test of each result enforces it)
STATISTICAL_OUTCOMES = 1000


def alarm() -> float:
    """The false-alarm probability of one statistical outcome (Bonferroni share)."""
    return FALSE_ALARM_PER_RUN / STATISTICAL_OUTCOMES


@functools.lru_cache(maxsize=None)
def z(p: float | None = None, sides: int = 2) -> float:
    """Normal quantile for false-alarm probability ``p`` (default :func:`alarm`).

    >>> round(z(1e-5), 2), round(z(1e-5, sides=1), 2)
    (4.42, 4.26)
    """
    p = alarm() if p is None else p
    in_interval("p", p, 0, 1, hi_open=True)
    return float(_st.norm.isf(p / sides))


@functools.lru_cache(maxsize=None)
def t(df: float, p: float | None = None, sides: int = 2) -> float:
    """Student-t quantile at ``df`` degrees of freedom (normal for infinite df)."""
    p = alarm() if p is None else p
    if not math.isfinite(df):
        return z(p, sides)
    positive("df", df)
    return float(_st.t.isf(p / sides, df))


# ---------------------------------------------------------------------------
# seed streams
# ---------------------------------------------------------------------------
def _words(part) -> list[int]:
    """An injective encoding of a key part as non-negative 32-bit words
    (a type tag, the length, then the UTF-8 bytes of its text)."""
    if isinstance(part, (bool, np.bool_)):
        part = int(part)
    if isinstance(part, (int, np.integer)) and part >= 0:
        v = int(part)
        out = [1]
        while True:
            out.append(v & 0xFFFFFFFF)
            v >>= 32
            if not v:
                return out + [0xFFFFFFFF]
    raw = str(part).encode()
    padded = raw + b"\0" * (-len(raw) % 4)
    return [2, len(raw)] + [int.from_bytes(padded[i:i + 4], "little") for i in range(0, len(padded), 4)]


def seed_sequence(config, result_id: str, *key) -> np.random.SeedSequence:
    """The stream of ``(result_id, *key)`` under ``config.seed``, spawned from the
    root: ``SeedSequence(config.seed, spawn_key=words(result_id, *key))``."""
    words: list[int] = []
    for part in (result_id, *key):
        words += _words(part)
    return np.random.SeedSequence(int(config.seed), spawn_key=tuple(words))


def seed(config, result_id: str, *key) -> int:
    """An integer seed drawn from :func:`seed_sequence` (for cached samplers keyed by it)."""
    return int(seed_sequence(config, result_id, *key).generate_state(1, np.uint64)[0] >> 1)


def generator(config, result_id: str, *key) -> np.random.Generator:
    """A ``Generator`` on the stream of ``(result_id, *key)``."""
    return np.random.default_rng(seed_sequence(config, result_id, *key))


# ---------------------------------------------------------------------------
# outcome builders
# ---------------------------------------------------------------------------
def band(name: str, params: Mapping, *, measured, predicted, se, judges: Sequence[str],
         below: float = 0.0, above: float = 0.0, df: float = math.inf, p: float | None = None,
         detail: str = "") -> CheckOutcome:
    """``-(q se + below) <= measured - predicted <= q se + above`` with ``q`` the
    t (or normal) quantile of the policy; ``below``/``above`` are one-sided
    finite-n bias budgets (absolute)."""
    q = t(df, p)
    diff = float(measured) - float(predicted)
    ok = -(q * se + below) <= diff <= q * se + above
    budget = ""
    if below or above:
        budget = f", bias budget -{below:.3g}/+{above:.3g}"
    tol = f"{q:.2f} SE ({'t, %.0f df' % df if math.isfinite(df) else 'normal'}, " \
          f"false alarm {p if p is not None else alarm():.2g}){budget}"
    return CheckOutcome(name, dict(params), float(measured), float(predicted), bool(ok), tol,
                        detail or f"SE {se:.3g}", tuple(judges))


def bound(name: str, params: Mapping, *, measured, limit, se=0.0, judges: Sequence[str],
          upper: bool = True, p: float | None = None, df: float = math.inf,
          detail: str = "") -> CheckOutcome:
    """A one-sided statement: ``measured <= limit`` (``upper``) or ``>=``, allowing
    the one-sided quantile (normal, or Student-t at ``df`` degrees of freedom
    when ``se`` comes from a few samples) times ``se``."""
    q = t(df, p, sides=1)
    ok = float(measured) <= float(limit) + q * se if upper else float(measured) >= float(limit) - q * se
    rel = "<=" if upper else ">="
    return CheckOutcome(name, dict(params), float(measured), float(limit), bool(ok),
                        f"one-sided: measured {rel} bound" + (f" ({q:.2f} SE" + (f", t {df:.0f} df)" if math.isfinite(df) else ")") if se else ""),
                        detail, tuple(judges))


def rate(name: str, params: Mapping, fit, *, predicted, judges: Sequence[str] = ("exponent",),
         below: float = 0.0, above: float = 0.0, max_width: float | None = None,
         detail: str = "") -> CheckOutcome:
    """A fitted log-log exponent (:func:`numerics.stats.loglog_fit`): its CI,
    extended by the finite-n slope budgets, must contain ``predicted`` and be
    narrower than ``max_width`` (the width bound is what gives power against
    a wrong exponent)."""
    ok = fit.ci_low - below <= float(predicted) <= fit.ci_high + above
    if max_width is not None:
        ok = ok and fit.width < max_width
    tol = (f"{fit.level:.0%} CI [{fit.ci_low:.3f}, {fit.ci_high:.3f}], slope budget "
           f"-{below:.3f}/+{above:.3f}" + (f", width < {max_width:g}" if max_width is not None else ""))
    return CheckOutcome(name, {**params, "n": list(map(int, fit.ns))}, fit.slope, float(predicted),
                        bool(ok), tol, detail, tuple(judges))


def identity(name: str, params: Mapping, *, measured, predicted, judges: Sequence[str],
             rtol: float = 1e-10, atol: float = 0.0) -> CheckOutcome:
    """An exact statement checked to rounding."""
    m, p_ = np.asarray(measured, float), np.asarray(predicted, float)
    ok = bool(np.all(np.abs(m - p_) <= atol + rtol * np.abs(p_)))
    return CheckOutcome(name, dict(params), measured, predicted, ok,
                        f"exact (to rounding: rtol {rtol:g}, atol {atol:g})", "", tuple(judges))


@dataclass(frozen=True)
class Extrapolation:
    """Fit ``a + b n^-order`` of per-n sample means; ``estimate`` = a."""

    ns: tuple
    means: tuple
    ses: tuple
    estimate: float
    se: float
    slope: float
    bias_budget: float
    order: float
    df: float

    def z(self, p: float | None = None) -> float:
        """Two-sided Student-t quantile of the policy at the Welch-Satterthwaite
        degrees of freedom of the intercept's SE (the SEs come from a few
        networks per n, so a normal quantile would be optimistic)."""
        return t(self.df, p)

    def band(self, z: float | None = None) -> float:
        return (self.z() if z is None else z) * self.se + self.bias_budget

    def accepts(self, predicted: float, z: float | None = None) -> bool:
        return bool(abs(self.estimate - predicted) <= self.band(z))


def extrapolate(ns, samples, *, order: float = 1.0) -> Extrapolation:
    """Least-squares extrapolation of ``mean(samples[i]) ~ a + b ns[i]^-order``.

    The SE of ``a`` is propagated from the per-n standard errors (the
    intercept is a fixed linear combination of the per-n means); a group with
    a single sample gets no SE of its own and borrows the largest relative SE
    of the others. With two sizes this is Richardson extrapolation. The bias
    budget is the next-order term ``c n^-2order`` that the fit leaves out, with
    ``|c|`` of the size ``b^2/|a|`` (geometric decay of the corrections): the
    chord of ``c x^2`` between ``x_min`` and ``x_max`` misses the intercept by
    ``|c| x_min x_max``.

    >>> e = extrapolate([100, 200, 400], [[1.01, 1.01], [1.005, 1.005], [1.0025, 1.0025]])
    >>> round(e.estimate, 6), round(e.slope, 6)
    (1.0, 1.0)
    """
    ns = np.asarray(ns, float)
    if ns.ndim != 1 or ns.size < 2 or np.any(ns <= 0):
        raise ValueError(f"ns must list at least 2 positive sizes (got {ns.tolist()})")
    positive("order", order)
    groups = [np.asarray(s, float).ravel() for s in samples]
    if len(groups) != ns.size or any(g.size == 0 or not np.all(np.isfinite(g)) for g in groups):
        raise ValueError("samples must hold one non-empty, finite group per n")
    means = np.array([g.mean() for g in groups])
    rel = [g.std(ddof=1) / np.sqrt(g.size) / abs(g.mean()) for g in groups if g.size > 1]
    fallback = max(rel) if rel else 0.0
    ses = np.array([g.std(ddof=1) / np.sqrt(g.size) if g.size > 1 else fallback * abs(g.mean())
                    for g in groups])
    x = ns ** (-order)
    X = np.column_stack([np.ones_like(x), x])
    C = np.linalg.pinv(X)            # (2, m): rows give a and b as combinations of the means
    a, b = C @ means
    terms = C[0] ** 2 * ses**2
    se = float(np.sqrt(np.sum(terms)))
    sizes = np.array([g.size for g in groups], float)
    denom = np.sum(np.where(sizes > 1, terms**2 / np.maximum(sizes - 1, 1), 0.0))
    df = float(np.sum(terms) ** 2 / denom) if denom > 0 else float("inf")
    budget = float(b * b / max(abs(a), 1e-300) * x.min() * x.max())
    return Extrapolation(tuple(ns.astype(int).tolist()), tuple(means.tolist()), tuple(ses.tolist()),
                         float(a), se, float(b), budget, float(order), df)


def limit(name: str, params: Mapping, ext: Extrapolation, *, predicted, judges: Sequence[str],
          z: float | None = None) -> CheckOutcome:
    """An extrapolated n -> oo limit against ``predicted`` (band: the policy's t
    quantile times the intercept's SE, plus the next-order bias budget)."""
    q = ext.z() if z is None else z
    return CheckOutcome(
        name, {**params, "n": list(ext.ns)}, ext.estimate, float(predicted),
        ext.accepts(float(predicted), q),
        f"{q:.2f} SE (t quantile, {ext.df:.0f} df) of the n -> oo extrapolation "
        f"(a + b n^-{ext.order:g}) + next-order bias budget b^2/|a| x_min x_max",
        f"per-n means {np.round(ext.means, 4).tolist()}, SE {ext.se:.3g}, "
        f"budget {ext.bias_budget:.3g}, b = {ext.slope:.3g}", tuple(judges))


# ---------------------------------------------------------------------------
# negative controls: perturbations of predictions
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Control:
    """A perturbed prediction ``perturb(model, predict) -> Prediction`` that the
    check must reject on an outcome judging one of ``rejects``."""

    name: str
    perturb: Callable[[Any, Callable], Any]
    rejects: tuple[str, ...]

    def __call__(self, predict: Callable) -> Callable:
        """The perturbed prediction function ``model -> Prediction``."""
        return lambda model: self.perturb(model, predict)


def shift(field: str, by: float, name: str | None = None) -> Control:
    """``field -> field + by`` (e.g. ``exponent+0.25``)."""
    return Control(name or f"{field}{by:+g}",
                   lambda m, pred: (lambda p: p.replace(**{field: getattr(p, field) + by}))(pred(m)),
                   (field,))


def scale(field: str, factor: float, name: str | None = None, rejects: Sequence[str] | None = None) -> Control:
    """``field -> factor * field`` (e.g. ``mean x1.1``)."""
    return Control(name or f"{field} x{factor:g}",
                   lambda m, pred: (lambda p: p.replace(**{field: getattr(p, field) * factor}))(pred(m)),
                   tuple(rejects or (field,)))


def substitute(name: str, rejects: Sequence[str], *, fields: Sequence[str] | None = None,
               **subs) -> Control:
    """A mistake in the formula: the symbolic prediction with symbols replaced
    (``l="l + 1"`` style callables of the canonical symbols), then specialised
    to the model. ``subs`` maps a canonical symbol name to a function of the
    symbol, e.g. ``substitute("1+gamma -> 1+2gamma", ("constant",), gamma=lambda g: 2*g)``.
    ``fields`` confines the mistake to those fields (the others keep the true
    prediction), e.g. a wrong variance formula with the mean right."""
    from ...theory.model import SYMBOLS

    def perturb(model, pred):
        sym = model.symbolic_like()
        p = pred(sym)
        p = p.subs({SYMBOLS[k]: f(SYMBOLS[k]) for k, f in subs.items()}).subs(model.bindings())
        if fields is None:
            return p
        return pred(model).replace(**{f: getattr(p, f) for f in fields})
    return Control(name, perturb, tuple(rejects))


def times(name: str, field: str, factor: Callable[[Any], Any], rejects: Sequence[str] | None = None) -> Control:
    """``field -> field * factor(model)`` (e.g. a wrong power of one scale:
    ``times("sigma_V^(2L)", "constant", lambda m: m.value("sigma_V2"))``)."""
    return Control(name, lambda m, pred: (lambda p: p.replace(**{field: getattr(p, field) * factor(m)}))(pred(m)),
                   tuple(rejects or (field,)))


def remodel(name: str, rejects: Sequence[str], change: Callable[[Any], Mapping]) -> Control:
    """A prediction made for the wrong model: ``predict(model.replace(**change(model)))``
    (e.g. ``l -> l+1`` as ``lambda m: {"depth": m.depth + 1}``)."""
    return Control(name, lambda m, pred: pred(m.replace(**change(m))), tuple(rejects))


# ---------------------------------------------------------------------------
# the check shape
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One sampled point of a check: the model and the sizes it is sampled at."""

    model: Any
    ns: tuple = ()
    batch: int = 0
    label: str = ""


class Check(abc.ABC):
    """Base of an empirical check: ``cases -> measure (cached) -> compare``.

    Subclasses set ``result_id``, ``controls`` and implement :meth:`cases`,
    :meth:`measure` and :meth:`compare`. ``run(config, predict=None)`` feeds
    the result's ``predict`` (or a control's perturbation of it) through the
    same measurements.
    """

    result_id: str = ""
    controls: tuple[Control, ...] = ()

    @abc.abstractmethod
    def cases(self, config) -> list[Case]:
        """The sampled points at this config's level."""

    @abc.abstractmethod
    def measure(self, config, case: Case):
        """Sample and measure one case (no prediction involved)."""

    @abc.abstractmethod
    def compare(self, config, case: Case, measured, prediction) -> list[CheckOutcome]:
        """The outcomes of one case's measurements against ``prediction``."""

    def example_and_paper(self, config, n, paper: Mapping, params: Mapping | None = None) -> list:
        """The models most checks run, at ``n`` tokens: the result's
        non-degenerate :attr:`~theory.registry.Result.example` at every level,
        preceded by the paper's point (fields ``paper``) beyond the quick
        level; ``params`` (fields over ``paper``) replaces both by one model."""
        from ...theory.model import AttentionModel
        if params is not None:
            return [AttentionModel(n=n, **dict(paper, **params))]
        models = [get(self.result_id).example().replace(n=n)]
        if config.level != "quick":
            models = [AttentionModel(n=n, **paper)] + models
        return models

    @functools.cached_property
    def _cache(self) -> dict:
        return {}

    def measured(self, config, case: Case):
        """:meth:`measure`, cached per (config, case): the truth and the controls
        read the same samples."""
        key = (config, case)
        if key not in self._cache:
            self._cache[key] = self.measure(config, case)
        return self._cache[key]

    @property
    def NEGATIVE_CONTROLS(self) -> dict[str, Control]:
        return {c.name: c for c in self.controls}

    def run(self, config, predict: Callable | None = None, **options) -> list[CheckOutcome]:
        """The outcomes of every case against ``predict`` (default: the result's
        own); ``options`` (e.g. ``params=...``, a check's own choice of cases)
        go to :meth:`cases`."""
        predict = predict or get(self.result_id).prediction
        out: list[CheckOutcome] = []
        for case in self.cases(config, **options):
            out.extend(self.compare(config, case, self.measured(config, case), predict(case.model)))
        return out



# ---------------------------------------------------------------------------
# finite-n budgets of bulk edges (Tracy-Widom scale); shared by the checks of
# Theorem 2, Lemmas 2 and 3, Prop 1 and Theorems 9 and 10
# ---------------------------------------------------------------------------
#: relative edge-bias budget ``TW_BUDGET n^(-2/3)`` of a bulk edge: 2.5x the
#: Gaussian Tracy-Widom mean shift |E TW_1| 2^(4/3)/8 = 0.38 of the top singular
#: value of a square Gaussian matrix (calibrated in tests/README.md, thm2)
TW_BUDGET = 1.0
#: stated width bound of the 99% bootstrap CI of a fitted exponent (what gives a
#: rate outcome its power against exponent +-0.25)
MAX_CI_WIDTH = 0.25


def edge_budget(n, coef: float = TW_BUDGET, depth: int = 1) -> float:
    """Relative finite-n bias budget of a bulk edge: ``coef * depth * n^(-2/3)``.

    >>> round(edge_budget(64), 4)
    0.0625
    """
    return coef * depth * n ** (-2.0 / 3.0)


def slope_budget(ns, coef: float) -> float:
    """Largest slope a relative correction ``coef n^(-2/3)`` can add to a log-log
    fit over ``ns``.

    >>> round(slope_budget((64, 128, 256), 1.0), 4)
    0.0272
    """
    return coef * (min(ns) ** (-2 / 3) - max(ns) ** (-2 / 3)) / math.log(max(ns) / min(ns))


# ---------------------------------------------------------------------------
# helpers several checks borrow (moved here from numerics.checks.prop6)
# ---------------------------------------------------------------------------
#: stated width bound of the 99% bootstrap CI of a fitted exponent (:func:`rate_outcome`)
RATE_CI_WIDTH = 0.25


def slope_bias(ns, beta, order: float = 1.0) -> float:
    """Fitted log-log slope of ``1 + beta n^-order`` over the grid: the bias
    that a relative correction ``beta n^-order`` adds to a fitted exponent.

    >>> round(slope_bias([64, 128, 256], -14.6), 3)
    0.144
    """
    ns = np.asarray(ns, float)
    return float(np.polyfit(np.log(ns), np.log1p(beta * ns ** (-order)), 1)[0])


def correction_bias(ns, samples, *, order: float = 1.0, power: float | None = None) -> float:
    """The finite-n slope bias (:func:`slope_bias`) of a log-log fit of the
    means of ``samples``, from their relative correction ``beta n^-order``
    measured on ``samples / n^power`` (``beta = b/a`` of :func:`extrapolate`).

    ``power`` defaults to the integer nearest the fitted log-log slope of the
    means: the allowance then depends on the data alone, never on the exponent
    under test (normalised by a wrong predicted exponent, the data carry a
    spurious trend that the ``b/a`` fit reads as a correction and turns into
    an allowance that follows the wrong prediction). The exponents that this
    serves (Props 4-6) are integers, and their slope biases are far below 1/2.

    >>> ns = [64, 128, 256]
    >>> data = [[n ** 2 * (1 - 14.6 / n)] * 2 for n in ns]
    >>> round(correction_bias(ns, data), 3)
    0.144
    """
    ns = np.asarray(ns, float)
    means = np.array([np.mean(s) for s in samples], float)
    if power is None:
        power = float(np.rint(np.polyfit(np.log(ns), np.log(means), 1)[0]))
    ext = extrapolate(ns, [np.asarray(s, float) / n**power for s, n in zip(samples, ns)], order=order)
    beta = ext.slope / ext.estimate if ext.estimate else 0.0
    return slope_bias(ns, beta, order)


def rate_outcome(name, params, ns, samples, exponent, *, bias=0.0, rng=0, judges=("exponent",),
                 max_width: float = RATE_CI_WIDTH) -> CheckOutcome:
    """Log-log rate of the means of ``samples`` (:func:`rate` on a 99% bootstrap
    fit): the CI must contain ``exponent + bias`` (``bias``: the finite-n slope
    bias, e.g. :func:`slope_bias` of a measured O(1/n) correction, allowed
    +-50%) and be narrower than ``max_width``."""
    from ..stats import loglog_fit
    fit = loglog_fit(ns, samples, rng=rng, n_boot=1000)
    slack = 0.5 * abs(bias)
    return rate(name, params, fit, predicted=exponent, judges=judges, below=bias + slack,
                above=slack - bias, max_width=max_width,
                detail=f"finite-n slope bias {bias:+.3g} (+-50%) shifts the target")


@functools.lru_cache(maxsize=32)
def gradient_norms(model, batch: int, seed: int, backend: str = "numpy"):
    """``||dX_L/dW_l||_F^2`` (batch, L) of ``model`` from
    :func:`numerics.gradients.grad_norms_sq`, cached by (model, batch, seed,
    backend) so a truth and its controls read the same draws (read-only)."""
    from ..gradients import grad_norms_sq
    out = np.asarray(grad_norms_sq(model, batch=batch, rng=seed, backend=backend), float)
    out.setflags(write=False)
    return out


__all__ += ["RATE_CI_WIDTH", "slope_bias", "correction_bias", "rate_outcome", "gradient_norms"]
