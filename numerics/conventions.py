"""The stated model against the authors' code: which stable-rank curves change.

The paper states the block ``X_l = LN(X_{l-1} + A_l X_{l-1} W_l)``; the code
that drew its figures runs it with ``mlp=False``, which under the standard
skip sends the output through a second residual with an identity MLP, so
``X_l = 2 LN(Z_l)`` (``2 Z_l`` without LayerNorm), in float32
(:class:`~theory.model.AttentionModel`, ``block="paper-code"``).
:func:`convention_study` samples each of the paper's configurations
(:data:`~theory.model.PRESETS`) in three *arms* on common random numbers:

===============  ================  =========  =====================================
arm              block             dtype      isolates
===============  ================  =========  =====================================
``stated``       ``"stated"``      float64    the model as the paper states it
``doubling``     ``"paper-code"``  float64    the factor 2 alone
``paper-code``   ``"paper-code"``  float32    the authors' code (factor 2 and float32)
===============  ================  =========  =====================================

and compares the stable rank ``srank(X_l X_l^T)`` at every layer in three
*contrasts*: ``doubling`` (doubling - stated: the effect of the factor),
``float32`` (paper-code - doubling: the effect of float32 arithmetic) and
``total`` (paper-code - stated).  The float32 arm runs the same draws,
rounded to float32 (so the contrast is the arithmetic, not new randomness);
its stable rank is measured in float64 from the float32 signal.

**The decision** (per preset, contrast and layer).  The paired differences
``D_s`` of the S samples give a Student-t confidence interval for the mean
difference at the simultaneous level of the toolkit's false-alarm policy:
the family of all the study's comparisons shares
:func:`~numerics.checks.toolkit.alarm` by Bonferroni (each interval at
``alarm() / m``, ``m`` = presets x contrasts x layers).  Against the
equivalence margin ``margin * |mean of the reference arm|`` (1% by default:
a difference a reader cannot see on the paper's plots) the layer's verdict is

* ``"same"``: every ``D_s`` is exactly 0, or the interval lies inside the
  margin (equivalence, as in two one-sided tests): whatever difference there
  is cannot be seen on the curve;
* ``"differs"``: otherwise, when the interval excludes 0 (a difference beyond
  sampling error), or when one arm's curve ends at this layer while the
  other goes on (the signal underflowed to exactly zero, or overflowed, in
  one arm only: float32's range is narrower; ``truncated`` is set);
* ``"undecided"``: the interval holds 0 and reaches beyond the margin (the
  samples cannot tell at this size).

``significant`` says whether the interval excludes 0, also for a "same"
layer (a real difference far below the margin: LayerNorm's ``eps`` makes
``LN(2Z)`` differ from ``LN(Z)`` by ``O(eps / var)``, 1e-6 of the stable
rank).  A preset's verdict is ``"differs"`` when a layer differs, ``"same"``
when all are the same, else ``"undecided"``.

Error rates: the family's false-alarm probability is that of one toolkit
outcome (the t quantile assumes roughly normal means of the paired
differences; with 32-128 samples of a bounded stable rank that holds well
enough to be measured): over 10 root seeds at n = 32, 128 samples, the three
changed key-query curves were called "differs" every time (power) and their
float32 contrast, a null with non-zero rounding differences, never (false
alarms); the no-factor controls cannot raise one, their differences being
exactly 0 (``tests/numerics/test_conventions.py``, slow).

To draw both conventions where they differ (a figure)::

    study = convention_study("all", n=100, depth=10, samples=64, rng=seed)
    for name in study.differing("doubling"):
        for arm in ("stated", "paper-code"):
            layers, mean, se = study.curve(name, arm)

What to expect, and what the study finds (docs/derivations.md, section
paper-code): for Random Markov attention ``A_l`` does not see ``X``, so
without LayerNorm ``X_l`` of the authors' block is exactly ``2^l`` times the
stated one (bitwise: a power of 2 scales floats exactly) and the stable rank,
scale-invariant, is identical; with LayerNorm only ``eps`` separates them.
For key-query attention the next layer's logits
``X W_Q W_K^T X^T / sqrt(d)`` are quadratic in ``X``: the doubling multiplies
them by 4 from layer 2 on and sharpens the softmax.  At n = d = 100, depth 10
that changes two curves beyond the margin, A(X)-perp + skip (stable rank 83.9
-> 1.25 at layer 10: its collapse is the doubling's) and A(X)-perp + skip +
LN (-11% to +37%); A(X) + skip and A(X) + skip + LN stay within 0.5% (the gap
has already collapsed them to rank 1).  With the upscaled skip or no skip
there is no factor, and the curves must come out identical (a control: the
study would flag them if the factor were applied there).  float32 alone ends
the A(X)-perp curve early (underflow to zero).

>>> s = convention_study(["A + skip", "A(X)-perp + skip"], n=12, depth=3, samples=8, rng=0)
>>> s.verdict("A + skip"), s.verdict("A(X)-perp + skip")
('same', 'differs')
>>> s.layer("A + skip", 3).exact
True
>>> s.differing()
('A(X)-perp + skip',)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ..theory import _validate
from ..theory.model import PRESETS, preset as _preset

from .backend import to_numpy
from .checks.toolkit import alarm, t as _t_quantile
from .forward import Draws, draw, propagate
from .measures import covariance_stable_rank
from .rng import as_generator

__all__ = ["ARMS", "CONTRASTS", "VERDICTS", "LayerComparison", "ConventionStudy",
           "convention_study", "arm_model", "BLOCK_SAMPLES"]

#: arm -> (block, dtype)
ARMS = MappingProxyType({
    "stated": ("stated", "float64"),
    "doubling": ("paper-code", "float64"),
    "paper-code": ("paper-code", "float32"),
})
#: contrast -> (arm, reference arm): the difference is arm - reference
CONTRASTS = MappingProxyType({
    "doubling": ("doubling", "stated"),
    "float32": ("paper-code", "doubling"),
    "total": ("paper-code", "stated"),
})
VERDICTS = ("same", "differs", "undecided")
#: samples drawn at once (memory: one block's draws and three trajectories);
#: a constant, so the study depends on the seed and the sample count only
BLOCK_SAMPLES = 16


@dataclass(frozen=True)
class LayerComparison:
    """One contrast at one layer of one preset (see the module docstring).

    ``reference`` and ``other`` are the two arms' mean stable ranks, ``diff``
    the mean paired difference ``other - reference`` with its simultaneous
    interval ``[ci_low, ci_high]``; ``margin`` is the absolute equivalence
    margin; ``samples`` the pairs used; ``exact``: every difference is 0;
    ``truncated``: one arm's curve ended before this layer (its signal
    underflowed to zero or overflowed), the other's did not (``diff`` is
    nan)."""

    preset: str
    contrast: str
    layer: int
    reference: float
    other: float
    diff: float
    ci_low: float
    ci_high: float
    margin: float
    samples: int
    verdict: str
    significant: bool
    exact: bool = False
    truncated: bool = False

    @property
    def relative(self) -> float:
        """``diff / reference``: the size of the difference relative to the curve."""
        return self.diff / self.reference if self.reference else math.nan

    def describe(self) -> str:
        if self.truncated:
            return (f"{self.preset}, layer {self.layer}: {self.contrast}: one curve ends "
                    f"(its signal left the floating-point range)")
        return (f"{self.preset}, layer {self.layer}: {self.contrast} {self.diff:+.4g} "
                f"[{self.ci_low:+.3g}, {self.ci_high:+.3g}] on {self.reference:.4g} "
                f"({self.relative:+.2%}), {self.verdict}")


@dataclass
class ConventionStudy:
    """The result of :func:`convention_study`.

    ``values[(preset, arm)]``: the stable rank, shape (depth, samples), layer
    l = 1..depth in row l - 1, nan after the arm's curve ended (the signal
    underflowed to zero or overflowed; ``stopped[(preset, arm)]`` says why).  ``comparisons``:
    every :class:`LayerComparison`.  The fields ``n, gamma, depth, samples,
    margin, false_alarm`` record the setting; ``paired[preset]`` whether the
    arms shared their draws (the two blocks had the same width)."""

    presets: tuple
    n: int
    gamma: float
    depth: int
    samples: int
    margin: float
    false_alarm: float
    paired: dict
    values: dict
    stopped: dict
    comparisons: list = field(default_factory=list)

    # -- per layer ------------------------------------------------------------
    def layer(self, preset: str, layer: int, contrast: str = "doubling") -> LayerComparison:
        """The comparison of ``contrast`` at ``layer`` (1..depth) of ``preset``."""
        _validate.one_of("contrast", contrast, tuple(CONTRASTS))
        for c in self.comparisons:
            if c.preset == preset and c.layer == layer and c.contrast == contrast:
                return c
        raise ValueError(f"no comparison for preset {preset!r}, layer {layer} (presets "
                         f"{', '.join(self.presets)}; layers 1..{self.depth})")

    def layers(self, preset: str, contrast: str = "doubling") -> list:
        """The comparisons of ``contrast`` for ``preset``, layer 1..depth."""
        return [self.layer(preset, l, contrast) for l in range(1, self.depth + 1)]

    # -- per preset -----------------------------------------------------------
    def verdict(self, preset: str, contrast: str = "doubling") -> str:
        """``"differs"`` if a layer differs, ``"same"`` if every layer is the
        same, else ``"undecided"``."""
        vs = [c.verdict for c in self.layers(preset, contrast)]
        if "differs" in vs:
            return "differs"
        return "same" if all(v == "same" for v in vs) else "undecided"

    def differing(self, contrast: str = "doubling") -> tuple:
        """The presets whose curves differ under ``contrast``, in the study's order."""
        return tuple(p for p in self.presets if self.verdict(p, contrast) == "differs")

    def undecided(self, contrast: str = "doubling") -> tuple:
        return tuple(p for p in self.presets if self.verdict(p, contrast) == "undecided")

    def largest(self, preset: str, contrast: str = "doubling") -> LayerComparison:
        """The layer with the largest ``|relative|`` difference (a truncated
        layer counts as largest)."""
        cs = self.layers(preset, contrast)
        return max(cs, key=lambda c: math.inf if c.truncated else abs(c.relative)
                   if math.isfinite(c.relative) else -1.0)

    def curve(self, preset: str, arm: str = "stated"):
        """``(layers, mean, standard error)`` of the arm's stable rank over
        the layers its curve reaches (for plotting both conventions)."""
        _validate.one_of("arm", arm, tuple(ARMS))
        v = self.values[(preset, arm)]
        ok = ~np.isnan(v).any(axis=1)
        v = v[ok]
        se = v.std(axis=1, ddof=1) / math.sqrt(v.shape[1]) if v.shape[1] > 1 else np.zeros(len(v))
        return np.arange(1, self.depth + 1)[ok], v.mean(axis=1), se

    def summary(self, contrast: str = "doubling") -> str:
        """One line per preset: verdict and the largest difference."""
        lines = []
        w = max(len(p) for p in self.presets)
        for p in self.presets:
            c = self.largest(p, contrast)
            v = self.verdict(p, contrast)
            if c.truncated:
                what = f"curve ends at layer {c.layer - 1} in one arm"
            elif c.exact:
                what = "identical at every layer"
            else:
                what = (f"largest at layer {c.layer}: {c.reference:.4g} -> {c.other:.4g} "
                        f"({c.relative:+.2%}, CI [{c.ci_low:+.3g}, {c.ci_high:+.3g}])")
            lines.append(f"{p:<{w}}  {v:<9}  {what}")
        return "\n".join(lines)


def arm_model(name: str, arm: str, *, n: int, depth: int, gamma=1):
    """The model of preset ``name`` in ``arm`` (block) and the arm's dtype."""
    _validate.one_of("arm", arm, tuple(ARMS))
    block, dtype = ARMS[arm]
    return _preset(name, n=n, depth=depth, gamma=gamma, block=block), dtype


def _as_float32(dr: Draws) -> Draws:
    def cast(a):
        return None if a is None else a.astype(np.float32)
    return Draws(cast(dr.X0), *[[cast(a) for a in getattr(dr, k)] for k in ("W", "A", "WQ", "WK")])


def _srank(model, dr, depth, method):
    """Stable rank (depth, batch), nan after the curve ends (underflow to zero,
    or overflow: the deepest depth that stays finite is kept), and the note."""
    try:
        t = propagate(model, dr, on_underflow="stop")
    except OverflowError as exc:
        if model.depth == 1:
            return np.full((depth, dr.X0.shape[0]), np.nan), f"overflow: {exc}"
        out, _ = _srank(model.replace(depth=model.depth - 1), dr, depth, method)
        return out, f"overflow: {exc}"
    b = dr.X0.shape[0]
    out = np.full((depth, b), np.nan)
    if t.depth:
        X = np.stack([to_numpy(x) for x in t.X[1:]], axis=0)
        out[:t.depth] = to_numpy(covariance_stable_rank(X, method))
    return out, t.stopped


def _compare(preset, contrast, ref, oth, q, margin, paired=True):
    """The :class:`LayerComparison` of each layer for arms ``ref``, ``oth``
    (depth, samples) and the quantile ``q``: the mean paired difference and
    its standard error, or for independent arms (``paired=False``) the
    difference of the means with the Welch standard error."""
    out = []
    for l in range(ref.shape[0]):
        a, b = ref[l], oth[l]
        fa, fb = bool(np.isfinite(a).all()), bool(np.isfinite(b).all())
        mean_a = float(a.mean()) if fa else math.nan
        mean_b = float(b.mean()) if fb else math.nan
        if not (fa and fb):
            trunc = fa != fb
            out.append(LayerComparison(preset, contrast, l + 1, mean_a, mean_b, math.nan, math.nan,
                                       math.nan, math.nan, 0, "differs" if trunc else "same",
                                       trunc, exact=not trunc, truncated=trunc))
            continue
        D = b - a if paired else None
        exact = paired and not np.any(D)
        diff = float(D.mean()) if paired else mean_b - mean_a
        if exact:
            lo = hi = 0.0
        else:
            se = (float(D.std(ddof=1)) / math.sqrt(D.size) if paired
                  else math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size))
            lo, hi = diff - q * se, diff + q * se
        tol = margin * abs(mean_a)
        if exact or (-tol <= lo and hi <= tol):
            verdict = "same"
        elif lo > 0 or hi < 0:
            verdict = "differs"
        else:
            verdict = "undecided"
        out.append(LayerComparison(preset, contrast, l + 1, mean_a, mean_b, diff, lo, hi, tol,
                                   a.size, verdict, bool(lo > 0 or hi < 0), exact=exact))
    return out


def convention_study(presets="all", *, n: int = 100, depth: int = 10, gamma=1, samples: int = 32,
                     rng=0, margin: float = 0.01, false_alarm: float | None = None,
                     method: str = "auto") -> ConventionStudy:
    """Sample the paper's configurations under the stated model and the
    authors' code and decide, per preset, contrast and layer, whether the
    stable-rank curves differ (module docstring: arms, contrasts, decision).

    ``presets``: ``"all"`` (the 25 of :data:`~theory.model.PRESETS`), a name
    or a list of names.  ``n, depth, gamma``: the size (the paper's figures:
    n = 100, depth 10, gamma = 1).  ``samples``: independent networks per
    preset (the three arms of one sample share its draws when the two blocks
    have the same width; with the authors' truncation ``int(n / gamma)``
    differing from the stated rounding the arms are drawn independently and
    the comparison is unpaired, Welch).  ``rng``: a seed or Generator; preset
    ``k`` of :data:`PRESETS` always gets the ``k``-th child stream, so a
    preset's samples do not depend on which others are studied.
    ``margin``: relative equivalence margin.  ``false_alarm``: the family's
    false-alarm probability (default :func:`numerics.checks.toolkit.alarm`).
    """
    if isinstance(presets, str):
        presets = list(PRESETS) if presets == "all" else [presets]
    presets = tuple(presets)
    if not presets:
        raise ValueError("presets must name at least one of the 25 paper configurations")
    for p in presets:
        if p not in PRESETS:
            raise ValueError(f"presets must be names of the 25 paper configurations "
                             f"({', '.join(PRESETS)}) (got {p!r})")
    n = _validate.integer("n", n, minimum=2)
    depth = _validate.integer("depth", depth, minimum=1)
    samples = _validate.integer("samples", samples, minimum=2)
    _validate.in_interval("gamma", gamma, 0, 1)
    _validate.in_interval("margin", margin, 0, 1, lo_open=False)
    false_alarm = alarm() if false_alarm is None else false_alarm
    _validate.in_interval("false_alarm", false_alarm, 0, 1)
    _validate.one_of("method", method, ("auto", "exact", "lanczos", "power"))

    children = as_generator(rng).spawn(len(PRESETS))
    index = {p: i for i, p in enumerate(PRESETS)}
    values, stopped, paired = {}, {}, {}
    for p in presets:
        models = {arm: arm_model(p, arm, n=n, depth=depth, gamma=gamma) for arm in ARMS}
        same_d = models["stated"][0].d == models["paper-code"][0].d
        paired[p] = same_d
        g = children[index[p]]
        per_arm = {arm: [] for arm in ARMS}
        start = 0
        gens = g.spawn(-(-samples // BLOCK_SAMPLES))
        for gb in gens:
            b = min(BLOCK_SAMPLES, samples - start)
            start += b
            g_st, g_pc = gb.spawn(2)
            dr = draw(models["stated"][0], batch=b, rng=g_st, dtype="float64")
            dr_pc = dr if same_d else draw(models["doubling"][0], batch=b, rng=g_pc, dtype="float64")
            for arm, (model, dtype) in models.items():
                use = dr if arm == "stated" else dr_pc
                if dtype == "float32":
                    use = _as_float32(use)
                v, note = _srank(model, use, depth, method)
                per_arm[arm].append(v)
                if note and (p, arm) not in stopped:
                    stopped[(p, arm)] = note
        for arm in ARMS:
            values[(p, arm)] = np.concatenate(per_arm[arm], axis=1)
            stopped.setdefault((p, arm), None)

    m = len(presets) * len(CONTRASTS) * depth
    study = ConventionStudy(presets, n, float(gamma), depth, samples, float(margin),
                            float(false_alarm), paired, values, stopped)
    for p in presets:
        for contrast, (arm, ref) in CONTRASTS.items():
            pair = paired[p] or contrast == "float32"
            df = samples - 1 if pair else 2 * samples - 2
            q = _t_quantile(df, false_alarm / m)
            study.comparisons += _compare(p, contrast, values[(p, ref)], values[(p, arm)], q,
                                          margin, paired=pair)
    return study
