"""The paper's figures about initialisation, regenerated: ``gapcheck figures --paper``.

One entry of :data:`PAPER_FIGURES` per figure of "Mind the Gap" (arXiv
2410.07799 v1) that concerns the network at initialisation, keyed by the
paper's number (``fig1`` ... ``fig9``): the files are ``figN.png``,
``figN.pdf`` and the caption ``figN.md``; ``CAPTIONS.md`` indexes them and
lists the figures not regenerated (:data:`NOT_REGENERATED`, with the reason).

Every figure draws

* **measured** data: the samplers of :mod:`numerics.forward` and
  :mod:`numerics.gradients`, measured by the statistics registry
  (:mod:`numerics.statistics`), mean and 2 standard errors over the batch;
* the **prediction** of the theory where a result applies: ``get(id).prediction(model)``
  of :mod:`theory.registry` (its fields or its power laws); no formula of a
  result is typed here;
* **both conventions** where they differ: the model as the paper states it
  (``block="stated"``) and as the authors' code ran it (``block="paper-code"``:
  the output doubled under the standard skip, float32).  The doubling is a
  rescaling of X_l, so it cannot change a scale-invariant measure of Random
  Markov stacks (the next layer is homogeneous in X) nor the first layer's
  stable rank; it changes key-query stacks from layer 2 (the logits are
  quadratic in X) and every gradient norm under the standard skip.  The
  figures draw the paper-code curve exactly for those configurations.

Greyscale: measured curves differ by marker (one per architecture suffix)
and line style (one per attention); the paper-code curves have hollow
markers; predictions are thick grey lines or large crosses without markers of
the measured kind.  Every drawn artist carries a legend label
(:func:`unlabelled_artists` lists the ones that do not; the tests require none).

The caption of each figure says what the paper's figure shows and what the
package finds, with numbers read from the data just drawn.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import pyplot, save

__all__ = ["PaperFigure", "PAPER_FIGURES", "NOT_REGENERATED", "write_paper_figures",
           "unlabelled_artists", "paper_figure_files"]

STATED, CODE = "stated", "paper-code"
#: one marker and colour per curve of a figure, in order (greyscale: the marker tells them apart)
MARKERS = ("o", "s", "^", "v", "D", "P", "X", "<", ">", "h")
#: line style of each attention (a second greyscale cue)
BASE_STYLE = {"A": "-", "A-perp": "--", "A(X)": "-.", "A(X)-perp": ":"}
BASES = tuple(BASE_STYLE)
SUFFIXES = ("", " + LN", " + skip", " + upscaled skip", " + skip + LN", " + upscaled skip + LN")
#: a prediction: a thick translucent grey line without markers
PRED = dict(color="0.35", lw=3.0, alpha=0.6, zorder=1)


@dataclass(frozen=True)
class PaperFigure:
    """One figure of the paper: its number, what the paper's figure shows (in
    our words), and ``draw(config) -> (figure, finds)`` where ``finds`` says
    what the package measures, with numbers."""

    key: str
    number: int
    title: str
    paper: str
    draw: Callable


# ---------------------------------------------------------------------------
# models, styles, sampling
# ---------------------------------------------------------------------------
def _split(name):
    for base in sorted(BASES, key=len, reverse=True):
        if name.startswith(base):
            return base, name[len(base):]
    return name, ""


def _model(name, convention=STATED, **size):
    from ...theory.model import preset
    return preset(name, **size).replace(block=convention)


def _differs(name, statistic_is_scale_invariant=True) -> bool:
    """Whether the authors' block changes this configuration's curve: the
    output doubling (``output_scale``) changes the next key-query logits, and
    every gradient norm; a scale-invariant measure of an X-independent
    attention is unchanged."""
    m = _model(name, n=4, depth=1)
    if m.replace(block=CODE).output_scale == m.output_scale:
        return False
    return m.attention == "key-query" or not statistic_is_scale_invariant


def _style(name, convention=STATED, slot=0):
    """Marker and colour number ``slot`` of the figure; line style by attention;
    the authors' convention hollow and thinner."""
    base, _ = _split(name)
    kw = dict(marker=MARKERS[slot % len(MARKERS)], color=f"C{slot % 10}",
              ls=BASE_STYLE.get(base, "-"), ms=5, lw=1.5, capsize=2)
    if convention == CODE:
        kw.update(mfc="white", mew=1.3, lw=1.0)
    return kw


def _label(name, convention=STATED):
    return f"{name} [authors' code]" if convention == CODE else name


def _seed(config, *key):
    from ..checks.toolkit import seed
    return seed(config, "paper-figures", *key)


def _trajectory(model, batch, rng, keep=("X",)):
    """The sampled trajectory of ``model``; a float overflow (the authors' float32)
    ends it at the last finite layer, an underflow to zero stops it (both are
    reported by ``trajectory.stopped``)."""
    from ..forward import draw, propagate

    draws = draw(model, batch=batch, rng=rng)
    depth = int(model.depth)
    while depth >= 1:
        try:
            t = propagate(model.replace(depth=depth), draws, keep=keep, on_underflow="stop")
        except OverflowError:
            depth -= 1
            continue
        if depth < model.depth and t.stopped is None:
            t.stopped = f"overflowed {model.default_dtype} at layer {depth + 1}"
        return t
    return None


def _stat(name, trajectory, layer):
    from ..statistics import get_statistic
    return np.asarray(get_statistic(name).fn(trajectory, layer), dtype=float)


def _mean_err(v):
    """Mean and (lower, upper) 2-SE bars, the lower bar clipped above zero (log axes)."""
    v = np.asarray(v, dtype=float)
    m = v.mean(axis=-1)
    se = v.std(axis=-1, ddof=1) / math.sqrt(v.shape[-1]) if v.shape[-1] > 1 else 0 * m
    return m, np.vstack([np.minimum(2 * se, 0.9 * np.abs(m)), 2 * se])


def _curve(ax, x, values, name, convention=STATED, slot=0, **extra):
    """Mean ± 2 SE of ``values`` (len(x), batch) as one labelled errorbar."""
    m, err = _mean_err(values)
    kw = _style(name, convention, slot)
    kw.update(extra)
    ax.errorbar(x, m, yerr=err, label=_label(name, convention), **kw)
    return m


def _law_value(result_id, model, statistic):
    """The value of ``statistic`` that result ``result_id`` predicts for ``model``
    (its power law ``constant * n^exponent`` at the model's n)."""
    from ...theory.prediction import as_float
    from ...theory.registry import get

    pred = get(result_id).prediction(model)
    for law in pred.scaling_laws():
        if law.statistic == statistic:
            return as_float(law.constant) * float(model.n) ** as_float(law.exponent)
    raise ValueError(f"{result_id} states no power law for {statistic}")


def _finish(ax, xlabel, ylabel, title, *, logy=True, logx=False, legend=True, ncol=1):
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    if legend:
        ax.legend(fontsize=6.5, ncol=ncol, framealpha=0.85)


def _n_ticks(ax, ns):
    import matplotlib.ticker as mt
    ax.set_xticks(list(ns), [str(int(n)) for n in ns])
    ax.xaxis.set_minor_locator(mt.NullLocator())


def _fmt(x):
    return f"{x:.3g}"


# ---------------------------------------------------------------------------
# Figure 1: the spectral gap of a Random Markov matrix
# ---------------------------------------------------------------------------
def _fig1(config):
    from ...theory.prediction import as_float
    from ...theory.registry import get

    from ..measures import top_singular_values
    from ..sampling import random_markov, remove_gap

    plt = pyplot()
    ns_eig = config.pick([24, 96], [64, 256, 1024], [64, 256, 1024])
    ns = config.pick([16, 32, 64], [32, 64, 128, 256, 512, 1024], [64, 128, 256, 512, 1024, 2048])
    batch = config.pick(3, 8, 16)
    model = _model("A", n=ns[0], depth=1)
    sa = math.sqrt(float(model.sigma_A2))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.6))
    markers = ["o", "s", "^"]
    t = np.linspace(0, 2 * np.pi, 300)
    for k, n in enumerate(ns_eig):
        A = np.asarray(random_markov(n, batch=1, ensemble=model.ensemble,
                                     rng=_seed(config, 1, "eig", n)), dtype=float)[0]
        ev = np.linalg.eigvals(A)
        ax1.scatter(ev.real, ev.imag, s=10, marker=markers[k], facecolors="none",
                    edgecolors=f"C{k}", linewidths=0.7, label=f"eigenvalues of A, n = {n}")
        r = sa / math.sqrt(n)
        ax1.plot(r * np.cos(t), r * np.sin(t), color=f"C{k}", ls=["-", "--", ":"][k], lw=1.2,
                 label=rf"circle $\sigma_A/\sqrt{{n}}$ = {r:.2g} (n = {n})")
    ax1.scatter([1.0], [0.0], s=120, marker="x", color="k", linewidths=2.5, zorder=5,
                label=r"Perron eigenvalue $\lambda_1 = 1$ (Thm 2)")
    ax1.set_aspect("equal")
    ax1.set_xlim(-0.3, 1.1)
    ax1.set_ylim(-0.5, 0.5)
    _finish(ax1, "Re", "Im", f"eigenvalues of one Random Markov matrix A "
            f"(lognormal, $\\sigma_A^2$ = {float(model.sigma_A2):g})", logy=False)
    ax1.legend(fontsize=6.5, loc="upper right", framealpha=0.85)

    s = np.zeros((3, len(ns), batch))
    pred = np.zeros((3, len(ns)))
    for i, n in enumerate(ns):
        A = random_markov(n, batch=batch, ensemble=model.ensemble, rng=_seed(config, 1, "sv", n))
        sv = np.asarray(top_singular_values(A, k=2, method="auto"), dtype=float)
        s[0, i], s[1, i] = sv[..., 0], sv[..., 1]
        s[2, i] = np.asarray(top_singular_values(remove_gap(A), k=1, method="auto"),
                             dtype=float)[..., 0]
        gap = get("thm2").prediction(model.replace(n=n))
        nogap = get("lemma3").prediction(model.replace(n=n, remove_gap=1))
        pred[0, i] = as_float(gap.s1)
        # the statement is about sqrt(n) A: its edge divided by sqrt(n)
        pred[1, i] = as_float(gap.edge) / math.sqrt(n)
        pred[2, i] = as_float(nogap.edge) / math.sqrt(n)
    nn = np.asarray(ns, float)
    labels = [r"$s_1(A)$", r"$s_2(A)$", r"$s_1(A - 11^\top/n)$ (gap removed)"]
    plabels = [r"Thm 2: $s_1(A) \to$ 1", r"Thm 2: $s_2 \approx 2\sigma_A/\sqrt{n}$",
               r"Lemma 3: $s_1 \approx 2\sigma_A/\sqrt{n}$"]
    for j, (mk, ls) in enumerate([("o", "-"), ("s", "--"), ("^", "-.")]):
        m, err = _mean_err(s[j])
        ax2.errorbar(nn, m, yerr=err, marker=mk, ls=ls, color=f"C{j}", capsize=2, ms=5,
                     label=f"measured {labels[j]}")
        ax2.plot(nn, pred[j], **PRED, ls=["-", "--", "-."][j], label=f"predicted, {plabels[j]}")
    _finish(ax2, "n (tokens)", "singular value", f"the gap: $s_1/s_2$ grows like "
            r"$\sqrt{n}$" + f" (mean ± 2 SE of {batch})", logx=True)
    _n_ticks(ax2, ns)
    fig.tight_layout()
    ratio = s[0, -1].mean() / s[1, -1].mean()
    finds = (f"At n = {ns[-1]}: s_1(A) = {_fmt(s[0, -1].mean())} (Thm 2: {_fmt(pred[0, -1])}), "
             f"s_2(A) = {_fmt(s[1, -1].mean())} (predicted {_fmt(pred[1, -1])}, the limit; "
             f"the lognormal edge converges slowly, here from "
             f"{'above' if s[1, -1].mean() > pred[1, -1] else 'below'}), gap ratio s_1/s_2 = "
             f"{_fmt(ratio)}; after "
             f"removing 11^T/n the top singular value is {_fmt(s[2, -1].mean())} (Lemma 3: "
             f"{_fmt(pred[2, -1])}): the outlier is gone. The eigenvalues fill the disk of "
             f"radius sigma_A/sqrt(n) around 0, apart from the Perron eigenvalue 1.")
    return fig, finds


# ---------------------------------------------------------------------------
# Figure 2: stable rank against depth, the 25 configurations
# ---------------------------------------------------------------------------
def _fig2(config):
    from ..conventions import convention_study

    plt = pyplot()
    n = config.pick(16, 100, 150)
    depth = config.pick(4, 10, 10)
    samples = config.pick(3, 10, 20)
    # the 25 configurations in three arms on common random numbers; which curves the
    # authors' block changes is the study's decision (paired t intervals, 1% margin)
    study = convention_study("all", n=n, depth=depth, samples=samples,
                             rng=_seed(config, 2, n, depth))
    both = set(study.differing("total")) | set(study.undecided("total"))
    fig, axes = plt.subplots(2, 3, figsize=(14, 8.6), sharey=True)
    layers = np.arange(1, depth + 1)
    for ax, suffix in zip(axes.ravel(), SUFFIXES):
        names = [b + suffix for b in BASES] + (["identity"] if suffix == "" else [])
        for slot, name in enumerate(names):
            for arm in (STATED, CODE) if name in both else (STATED,):
                x, m, se = study.curve(name, arm)
                kw = _style(name, arm, slot)
                ax.errorbar(x, m, yerr=np.vstack([np.minimum(2 * se, 0.9 * m), 2 * se]),
                            label=_label(name, arm), **kw)
        if suffix == "":
            p3 = [_law_value("prop3", _model("A", n=n, depth=l), "srank-excess") + 1
                  for l in layers]
            p5 = [_law_value("prop5", _model("A-perp", n=n, depth=l), "stable-rank")
                  for l in layers]
            ax.plot(layers, p3, **PRED, ls="-", label="A: Prop 3, 1 + c n^(1-2l)")
            ax.plot(layers, p5, **PRED, ls="--", label=r"A-perp: Prop 5, n m$_2$/x$_{max}^2$")
        _finish(ax, "layer l", r"srank$(\Sigma_l)$ = $\|\Sigma_l\|_F^2/\|\Sigma_l\|_2^2$",
                f"attention{suffix or ' only'} (n = d = {n})")
        ax.set_xticks(layers)
    # shared y: low enough for the Prop 5 limits of the deep layers (n m_2/x_max^2 < 1 at small n)
    # and high enough that the legends sit above the curves that start at n
    axes[0, 0].set_ylim(min(0.8, 0.7 * min(p5)), 12 * n)
    fig.suptitle(f"Stable rank of the covariance against depth, the paper's 25 configurations "
                 f"(mean ± 2 SE of {samples}; hollow markers: the authors' code, drawn where "
                 f"it changes the curve)", fontsize=11)
    fig.tight_layout()

    def at(name, l, arm=STATED):
        return float(np.nanmean(study.values[(name, arm)][l - 1]))

    diff = []
    for name in study.differing("total"):
        c = study.largest(name, "total")
        diff.append(f"{name} (layer {c.layer}: {_fmt(c.reference)} stated, {_fmt(c.other)} "
                    f"authors' code)" if not c.truncated else f"{name} (one curve ends at "
                    f"layer {c.layer - 1})")
    undecided = study.undecided("total")
    finds = (f"At n = {n}, layer 1: A {_fmt(at('A', 1))} (Prop 3 predicts {_fmt(p3[0])}), "
             f"A-perp {_fmt(at('A-perp', 1))} (Prop 5 limit {_fmt(p5[0])}; its limits for deep "
             f"layers, below 1 at this n, hold only as n grows at fixed l). At layer {depth}: "
             f"A {_fmt(at('A', depth))} against A-perp {_fmt(at('A-perp', depth))}; with "
             f"LayerNorm {_fmt(at('A + LN', depth))} against {_fmt(at('A-perp + LN', depth))}; "
             f"identity attention {_fmt(at('identity', depth))}: the collapse in depth "
             f"persists without any gap. The authors' block (output doubled under the standard "
             f"skip, float32) changes, beyond sampling error and the 1% margin "
             f"(numerics.conventions, {samples} paired samples): "
             + ("; ".join(diff) if diff else "no curve") + ". "
             + (f"Undecided at this size: {', '.join(undecided)}. " if undecided else "")
             + "Every other curve is the same under both conventions (Random Markov attention "
             "does not see the doubling; the upscaled skip and no skip carry no factor; a "
             "curve that ends early in float32 underflowed to exactly zero there).")
    return fig, finds


# ---------------------------------------------------------------------------
# Figure 4: first layer against width: stable rank and gradient norm
# ---------------------------------------------------------------------------
def _fig4(config):
    from ..forward import draw
    from ..gradients import grad_norms_sq

    plt = pyplot()
    ns = config.pick([8, 16, 32], [25, 50, 100, 200], [50, 100, 200, 400])
    batch = config.pick(2, 6, 12)
    nn = np.asarray(ns, float)
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(16, 5.2))
    finds = []
    suffixes = ["", " + LN", " + skip", " + skip + LN"]
    for ax, bases, stat in ((ax1, ("A", "A(X)"), "srank-excess"),
                            (ax2, ("A-perp", "A(X)-perp"), "stable-rank")):
        for slot, (base, suffix) in enumerate((b, x) for b in bases for x in suffixes):
            name = base + suffix
            v = np.array([_stat(stat, _trajectory(_model(name, n=n, depth=1), batch,
                                                  _seed(config, 4, name, n)), 1)
                          for n in ns])
            m = _curve(ax, nn, np.maximum(v, 1e-16), name, slot=slot)
            if name in ("A", "A-perp"):
                rid = "prop3" if name == "A" else "prop5"
                p = [_law_value(rid, _model(name, n=n, depth=1), stat) for n in ns]
                ax.plot(nn, p, **PRED, label=f"{name}: {'Prop 3' if name == 'A' else 'Prop 5'}"
                        " prediction")
                finds.append(f"{name}: {stat} {_fmt(m[-1])} at n = {ns[-1]} "
                             f"(predicted {_fmt(p[-1])})")
    _finish(ax1, "n = d", r"srank$(\Sigma_1) - 1$", "with the gap: collapse in width",
            logx=True)
    _finish(ax2, "n = d", r"srank$(\Sigma_1)$", "gap removed: stable rank grows like n",
            logx=True)
    grad = {}
    for slot, name in enumerate(["A", "A-perp", "A + LN", "A-perp + LN", "A + skip",
                                 "A-perp + skip", "A(X)", "A(X)-perp"]):
        for conv in (STATED, CODE) if _differs(name, False) else (STATED,):
            vals = []
            for n in ns:
                model = _model(name, conv, n=n, depth=1)
                d = draw(model, batch=batch, rng=_seed(config, 4, "grad", name, n))
                # rng: the Hutchinson probes (models with LayerNorm, skip or key-query)
                vals.append(np.asarray(grad_norms_sq(
                    model, draws=d, rng=_seed(config, 4, "probes", name, n)), dtype=float)[:, 0])
            m = _curve(ax3, nn, np.array(vals), name, conv, slot)
            if conv == STATED:
                grad[name] = m
            if conv == CODE:
                finds.append(f"gradient of {name}: the authors' code gives {_fmt(m[-1] / prev)} "
                             f"times the stated model's at n = {ns[-1]}")
            prev = m[-1]
    for name, rid in (("A", "prop4"), ("A-perp", "prop6")):
        p = [_law_value(rid, _model(name, n=n, depth=1), "grad-norm-sq") for n in ns]
        ax3.plot(nn, p, **PRED, ls="-" if name == "A" else "--",
                 label=f"{name}: {'Prop 4' if name == 'A' else 'Prop 6'} prediction")
        finds.append(f"gradient of {name} {_fmt(grad[name][-1])} at n = {ns[-1]} (predicted "
                     f"{_fmt(p[-1])})")
    slopes = {k: np.polyfit(np.log(nn), np.log(v), 1)[0] for k, v in grad.items()}
    finds.append("fitted log-log slopes of the gradient in n: " +
                 ", ".join(f"{k} {v:.2f}" for k, v in slopes.items()))
    faster = [k for k, v in slopes.items() if v > 1.5]
    if faster:
        finds.append("so the growth is not linear for " + ", ".join(faster) + " (a slope near "
                     f"{np.median([slopes[k] for k in faster]):.0f}, unlike the paper's linear trend)")
    _finish(ax3, "n = d", r"$\|\partial X_1/\partial W_1\|_F^2$",
            "single layer: gradient norm against n (linear without LayerNorm)", logx=True,
            ncol=2)
    for ax in (ax1, ax2, ax3):
        _n_ticks(ax, ns)
    fig.suptitle(f"First layer across architectures against width (mean ± 2 SE of {batch}; "
                 "hollow markers: the authors' code)", fontsize=11)
    fig.tight_layout()
    text = ("; ".join(finds) + ". The first layer's stable rank is the same under both "
            "conventions (the doubling comes after it); the gradient is not: the authors' "
            "block multiplies it by 4 under the standard skip.")
    return fig, text


# ---------------------------------------------------------------------------
# Figures 5 and 9: gradient norm against depth
# ---------------------------------------------------------------------------
def _grad_depth(name, conv, n, depths, batch, config):
    from ..forward import draw
    from ..gradients import grad_norms_sq

    model = _model(name, conv, n=n, depth=max(depths))
    d = draw(model, batch=batch, rng=_seed(config, 5, name, n))
    out = []
    for L in depths:
        with np.errstate(over="ignore", invalid="ignore"):
            g = np.asarray(grad_norms_sq(model.replace(depth=L), draws=d,
                                         rng=_seed(config, 5, "probes", name, n, L)),
                           dtype=float)[:, 0]
        out.append(g)
    return np.array(out)


def _grad_depth_figure(config, names, number, title):
    plt = pyplot()
    n = config.pick(17, 32, 64)  # n d > 256: Hutchinson probes already at quick
    depths = list(range(1, config.pick(3, 6, 8) + 1))
    batch = config.pick(2, 5, 10)
    fig, ax = plt.subplots(figsize=(8, 5.6))
    measured = {}
    for slot, name in enumerate(names):
        for conv in (STATED, CODE) if _differs(name, False) else (STATED,):
            v = _grad_depth(name, conv, n, depths, batch, config)
            ok = np.all(np.isfinite(v) & (v > 0), axis=1)
            measured[name, conv] = _curve(ax, np.asarray(depths)[ok], v[ok], name, conv, slot)
    top = max(float(np.max(v)) for v in measured.values() if len(v))
    # curves that vanish (many orders below the rest) would squash the others: cut the axis
    low = [name for (name, _), v in measured.items() if len(v) and float(np.min(v)) < 1e-15 * top]
    if low and len(set(low)) < len({name for name, _ in measured}):  # e.g. A(X)-perp: Xavier keys make A ~ 11^T/n, which the gap removal zeroes
        bottom = 0.3 * min(float(np.min(v)) for (name, _), v in measured.items()
                           if name not in low)
        ax.set_ylim(bottom=bottom)
        ax.annotate(f"below the axis: {', '.join(low)}", xy=(0.02, 0.02),
                    xycoords="axes fraction", fontsize=8)
    bound = [_law_value("prop4", _model("A", n=n, depth=L), "grad-norm-sq") for L in depths]
    ax.plot(depths, bound, **PRED, ls="-", label="Random Markov with the gap: Prop 4, c n^L")
    if number == 5:
        p6 = [_law_value("prop6", _model("A-perp", n=n, depth=L), "grad-norm-sq") for L in depths]
        ax.plot(depths, p6, **PRED, ls="--", label="gap removed: Prop 6, c n")
    _finish(ax, "depth L", r"$\|\partial X_L/\partial W_1\|_F^2$",
            f"{title} (n = d = {n}, mean ± 2 SE of {batch}; hollow: the authors' code)", ncol=2)
    ax.set_xticks(depths)
    fig.tight_layout()
    L = depths[-1]
    parts = [f"{_label(k[0], k[1])} {_fmt(v[-1])}" for k, v in measured.items()
             if len(v) == len(depths)]
    finds = (f"At depth L = {L}: " + "; ".join(parts) +
             f"; Prop 4 (Random Markov, with the gap) predicts {_fmt(bound[-1])}")
    if low:
        finds += (f"; {', '.join(low)} vanishes (" +
                  "; ".join(f"{_fmt(measured[k][-1])} at depth {len(measured[k])}"
                            for k in measured if k[0] in low) +
                  "): with Xavier keys and queries the attention is "
                  "nearly uniform, 11^T/n, and removing the gap leaves almost nothing")
    return fig, finds, measured, bound


def _fig5(config):
    names = ["A", "A + LN", "A-perp", "A-perp + LN", "A(X)", "A(X)-perp"]
    fig, finds, m, bound = _grad_depth_figure(config, names, 5,
                                              "gradient norm against depth")
    ratio = m["A", STATED][-1] / bound[-1]
    finds += (f". Random Markov with the gap follows Prop 4 (measured/predicted {_fmt(ratio)} at "
              "the deepest layer); LayerNorm or removing the gap stops the growth in n^L. "
              "None of these configurations has a skip, so the two conventions agree.")
    return fig, finds


def _fig9(config):
    names = ["A(X)", "A(X) + LN", "A(X) + skip", "A(X) + skip + LN", "A(X)-perp",
             "A(X)-perp + skip"]
    fig, finds, m, bound = _grad_depth_figure(config, names, 9,
                                              "key-query attention: gradient norm against depth")
    code = [f"{k[0]} {_fmt(v[-1] / m[k[0], STATED][-1])}" for k, v in m.items()
            if k[1] == CODE and len(v) == len(m[k[0], STATED])]
    full = [v for (name, conv), v in m.items() if name == "A(X)" and len(v) == len(bound)]
    if full:
        r = full[0][-1] / bound[-1]
        finds += (f". Under the stated model, key-query attention with Xavier keys gives A(X) "
                  f"measured/predicted {_fmt(r)} at the deepest layer: " +
                  ("it follows the Random Markov prediction, the bound does not loosen with "
                   "depth here" if 0.5 < r < 2 else "the Random Markov bound is loose here"))
    finds += (". With the standard skip the authors' block multiplies the gradient (ratio "
              "authors' code / stated at the deepest layer: " + "; ".join(code) + "): the "
              "faster-than-predicted growth appears under their block.")
    return fig, finds


# ---------------------------------------------------------------------------
# Figure 7: outliers of key-query attention across layers
# ---------------------------------------------------------------------------
def _fig7(config):
    from ...theory.model import AttentionModel
    from ...theory.prediction import as_float
    from ...theory.registry import get

    from ..measures import top_singular_values

    plt = pyplot()
    n = config.pick(48, 128, 256)  # the law-free outlier count needs >= 16 bulk values
    depth = config.pick(3, 6, 8)
    batch = config.pick(2, 6, 12)
    k = 6
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    counts = {}
    layers = np.arange(1, depth + 1)
    for slot, name in enumerate(["A(X) + skip + LN", "A(X) + LN"]):
        for conv in (STATED, CODE) if _differs(name) else (STATED,):
            t = _trajectory(_model(name, conv, n=n, depth=depth), batch,
                            _seed(config, 7, name, n), keep=("X", "A"))
            c = np.array([_stat("outliers", t, l) for l in range(1, t.depth + 1)])
            counts[name, conv] = _curve(ax2, layers[:t.depth], c, name, conv, slot)
            if name == "A(X) + skip + LN":
                off = -0.12 if conv == STATED else 0.12
                xs, ys = [], []
                for l in range(1, t.depth + 1):
                    sv = np.asarray(top_singular_values(math.sqrt(n) * np.asarray(
                        t.A[l], dtype=float), k=k, method="exact"), dtype=float).ravel()
                    xs.append(np.full(sv.size, l + off))
                    ys.append(sv)
                st = _style(name, conv, slot)
                ax1.plot(np.concatenate(xs), np.concatenate(ys), ls="none", marker=st["marker"],
                         color=st["color"], mfc=st.get("mfc"), ms=4,
                         label=f"top {k} singular values, {_label(name, conv)}")
    first = AttentionModel(n=n, depth=1, attention="key-query")
    kq = get("kq.bulk").prediction(first)
    # Prop 1: the first layer is a Random Markov matrix of this sigma_A^2 (kq.bulk reads it)
    rm = AttentionModel(n=n, depth=1, attention="markov", sigma_a2=as_float(kq.sigma_A2))
    s1 = as_float(get("thm2").prediction(rm).s1) * math.sqrt(n)
    edge = float(kq.edge())
    ax1.plot([0.6, 1.4], [s1, s1], **PRED, ls="-",
             label=r"layer 1: Perron value $\sqrt{n}\,s_1$ (Prop 1 + Thm 2)")
    ax1.plot([0.6, 1.4], [edge, edge], **PRED, ls="--",
             label="layer 1: bulk edge of the key-query law (kq.bulk)")
    _finish(ax1, "layer l", r"singular values of $\sqrt{n}A_l$",
            f"A(X) + skip + LN, Xavier keys/queries, n = d = {n}")
    ax1.set_xticks(layers)
    _finish(ax2, "layer l", "outliers of $\\sqrt{n}A_l$ (spectral_outliers)",
            f"number of outliers per layer (mean ± 2 SE of {batch})", logy=False)
    ax2.set_xticks(layers)
    ax2.set_ylim(bottom=0)
    fig.tight_layout()
    parts = [f"{_label(*key)}: {_fmt(v[0])} at layer 1, {_fmt(v[-1])} at layer {len(v)}"
             for key, v in counts.items()]
    finds = ("Outliers of sqrt(n) A_l (spikes with delocalised singular vectors, no bulk law "
             "assumed): " + "; ".join(parts) + f". At layer 1 the attention is the predicted "
             f"Random Markov matrix (one Perron outlier sqrt(n) = {_fmt(s1)}, bulk edge "
             f"{_fmt(edge)}).")
    a, b = counts.get(("A(X) + skip + LN", STATED)), counts.get(("A(X) + skip + LN", CODE))
    if a is not None and b is not None and len(a) > 1 and len(b) > 1:
        finds += (" Beyond layer 1 the authors' doubling after LayerNorm (next logits x 4) "
                  + ("changes the count" if np.max(np.abs(a[1:len(b)] - b[1:len(a)])) >= 1
                     else "leaves the count unchanged at this size") + ".")
    return fig, finds


# ---------------------------------------------------------------------------
PAPER_FIGURES: dict[str, PaperFigure] = {f.key: f for f in [
    PaperFigure("fig1", 1, "The spectral gap of an attention matrix",
                "eigenvalues of a Random Markov attention matrix: the eigenvalue 1 (all-ones "
                "eigenvector) and a bulk that shrinks as n grows, so the gap between the two "
                "largest widens (Theorem 2)", _fig1),
    PaperFigure("fig2", 2, "Rank collapse in depth",
                "the stable rank of the covariance Sigma_l against depth for the architectures "
                "of the experiments (attention with and without the gap, with LayerNorm, skip "
                "connections or both, identity attention): removing the gap slows the collapse, "
                "nothing prevents it", _fig2),
    PaperFigure("fig4", 4, "First layer against width",
                "the stable rank of the first layer, across architectures, against the width n "
                "(collapse with the gap, Prop 3; restored without, Prop 5), and the gradient "
                "norm, which scales linearly with width; removing the gap changes only its "
                "slope (Props 4 and 6, single layer)", _fig4),
    PaperFigure("fig5", 5, "Gradient norms against depth",
                "gradient norms against depth: Random Markov attention with the gap explodes, "
                "LayerNorm or removing the gap controls it; key-query attention stays above the "
                "Random Markov lower bound", _fig5),
    PaperFigure("fig7", 7, "Outliers of key-query attention",
                "the spectrum of key-query attention across layers: beyond the first layer the "
                "attention is no longer a Random Markov matrix and more outliers appear", _fig7),
    PaperFigure("fig9", 9, "Key-query gradient norms (appendix)",
                "complement to Figure 5: the gradient norms of key-query attention against "
                "depth; the Random Markov lower bound becomes looser with depth", _fig9),
]}

#: figures of the paper not regenerated, and why
NOT_REGENERATED = {
    "fig3": "not cited in the text of arXiv v1 that the package was built from, so its content "
            "could not be identified; nothing is drawn rather than a guess",
    "fig6": "training losses with and without the gap (Heaviside task): training, not "
            "initialisation",
    "fig8": "training losses for Xavier keys/queries and the upscaled skip: training, not "
            "initialisation",
}


def paper_figure_files(names=None) -> list[str]:
    """The files ``write_paper_figures`` writes for ``names`` (all by default)."""
    keys = list(PAPER_FIGURES) if not names else list(names)
    return [f"{k}.{ext}" for k in keys for ext in ("png", "pdf", "md")] + ["CAPTIONS.md"]


def _caption(f: PaperFigure, finds: str) -> str:
    return (f"**Figure {f.number}: {f.title}.** The paper's figure shows {f.paper}. "
            f"The package finds: {finds}")


def write_paper_figures(out_dir, config, names=None, log=None, check=None) -> list[Path]:
    """Draw the paper's figures (``names``: keys of :data:`PAPER_FIGURES`, all by
    default) into ``out_dir``: ``figN.png``, ``figN.pdf``, the caption ``figN.md``,
    and the index ``CAPTIONS.md``.  ``check(key, figure)`` is called before each
    figure is saved (the tests check the legends there)."""
    import time

    keys = list(PAPER_FIGURES) if not names else list(names)
    unknown = [k for k in keys if k not in PAPER_FIGURES]
    if unknown:
        raise ValueError(f"unknown paper figure {unknown[0]!r}; known: {', '.join(PAPER_FIGURES)}")
    out = Path(out_dir)
    written, captions = [], []
    for key in keys:
        f = PAPER_FIGURES[key]
        t0 = time.perf_counter()
        fig, finds = f.draw(config)
        if check is not None:
            check(key, fig)
        files = save(fig, out, key)
        caption = _caption(f, finds)
        md = out / f"{key}.md"
        md.write_text(caption + "\n")
        written += files + [md]
        captions.append((f, caption))
        if log is not None:
            log(f"{key}: {', '.join(p.name for p in files + [md])} ({time.perf_counter() - t0:.1f} s)")
    lines = ["# The paper's figures about initialisation, regenerated by gapcheck", "",
             f"`gapcheck figures --paper` at level {config.level}, root seed {config.seed}. "
             "Measured: mean ± 2 standard errors over the sampled networks; predicted: the "
             "registered results' predictions (thick grey lines); hollow markers: the authors' "
             "code convention (block=\"paper-code\").", ""]
    for f, caption in captions:
        lines += [f"## Figure {f.number}", "", f"![Figure {f.number}]({f.key}.png)", "",
                  caption, ""]
    lines += ["## Not regenerated", ""]
    lines += [f"- Figure {k[3:]}: {why}." for k, why in NOT_REGENERATED.items()]
    index = out / "CAPTIONS.md"
    index.write_text("\n".join(lines) + "\n")
    written.append(index)
    return written


def unlabelled_artists(fig) -> list[str]:
    """The drawn artists of ``fig`` that no legend explains: every line,
    collection and patch with data must carry a label (or belong to a labelled
    errorbar/bar container) shown in a legend of its axes or of the figure."""
    from matplotlib.container import Container

    shown = set()
    for lg in [ax.get_legend() for ax in fig.axes] + list(fig.legends):
        if lg is not None:
            shown |= {t.get_text() for t in lg.get_texts()}
    missing = []
    for ax in fig.axes:
        owner = {}
        for c in ax.containers:
            if isinstance(c, Container):
                for child in c.get_children():
                    if child is not None:
                        owner[id(child)] = c.get_label()
        for art in list(ax.lines) + list(ax.collections) + list(ax.patches):
            if art is ax.patch:
                continue
            label = owner.get(id(art), art.get_label())
            if not label or label.startswith("_") or label not in shown:
                missing.append(f"{ax.get_title()!r}: {type(art).__name__} {label!r}")
    return missing
