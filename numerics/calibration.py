"""The size-and-power study of :func:`numerics.scaling.check_scaling`.

A catalogue of scaling laws whose exponents the package derives (Props 3-7,
Theorems 2 and 10, the Xavier key-query laws, gradient norms with and without
the gap), each judged over many seeds against its true exponent and against
the exponent moved by -0.25 and +0.25.  The verdict's contract
(:mod:`numerics.scaling`) says: at the truth "inconsistent" at most 1% of
calls; at +-0.25 never "consistent" (inconsistent, or inconclusive with the
reason).

Cheap by construction: the samples of all seeds at one n are drawn together
(one batched call per chunk of networks), lazily (a larger n is sampled only
when some seed's verdict asks to extend the grid to it), and shared by the
three hypotheses of an entry (a perturbation changes only the prediction).

>>> [e.name for e in CATALOGUE][:3]
['thm2-markov', 'thm2-keyquery-fixed', 'prop3-l1']
>>> len(CATALOGUE) >= 12
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..theory.model import AttentionModel, Scale, preset

from .scaling import check_scaling
from .statistics import measure

__all__ = ["Entry", "CATALOGUE", "Tally", "run_entry", "FAST"]


@dataclass(frozen=True)
class Entry:
    """A law ``statistic ~ n^exponent`` of ``model(n)`` at ``layer``, the
    result that derives it, and the grid the study starts from."""

    name: str
    result: str
    statistic: str
    exponent: float
    model: object  # n -> AttentionModel
    layer: int = 1
    ns: tuple = (16, 32, 64, 128)
    max_n: int = 256


def _kq(sigma_qk2, depth=1):
    return lambda n: AttentionModel(n=n, depth=depth, attention="key-query", sigma_qk2=sigma_qk2)


def _preset(name, depth):
    return lambda n: preset(name, n=n, depth=depth)


CATALOGUE = (
    Entry("thm2-markov", "thm2", "gap-ratio-attention", 0.5, _preset("A", 1)),
    Entry("thm2-keyquery-fixed", "thm2, prop1", "gap-ratio-attention", 0.5, _kq(1)),
    Entry("prop3-l1", "prop3", "srank-excess", -1.0, _preset("A", 1)),
    Entry("prop3-l2", "prop3", "srank-excess", -3.0, _preset("A", 2), layer=2),
    Entry("prop4-grad-sq-L2", "prop4", "grad-norm-sq", 2.0, _preset("A", 2)),
    Entry("prop4-grad-L1", "prop4", "grad-norm", 0.5, _preset("A", 1)),
    Entry("prop5-l1", "prop5", "stable-rank", 1.0, _preset("A-perp", 1)),
    Entry("prop5-l2", "prop5", "stable-rank", 1.0, _preset("A-perp", 2), layer=2),
    Entry("prop6-grad-sq-L2", "prop6", "grad-norm-sq", 1.0, _preset("A-perp", 2)),
    Entry("prop6-grad-L1", "prop6", "grad-norm", 0.5, _preset("A-perp", 1)),
    Entry("prop7-top-eig", "prop7", "top-eig", 0.0, _preset("A-perp", 1)),
    Entry("xavier-deviation", "key_query notebook (FC(2) edge)", "attention-deviation", -1.0,
          _kq(Scale.xavier())),
    Entry("xavier-srank-excess", "key_query notebook", "srank-excess", -5.0,
          _kq(Scale.xavier())),
    Entry("xavier-gap-ratio", "thm2 with sigma_A ~ 1/d", "gap-ratio-attention", 1.5,
          _kq(Scale.xavier())),
    Entry("thm10-l1", "thm10", "gap-ratio-signal", 0.5, _preset("A", 1)),
)

#: cheap entries for the default test suite
FAST = ("prop4-grad-sq-L2", "prop6-grad-sq-L2")

SHIFTS = (0.0, -0.25, 0.25)


@dataclass
class Tally:
    """Verdict counts of one entry: ``counts[shift][verdict]`` over seeds, and
    the reasons of the inconclusive ones."""

    entry: Entry
    seeds: int
    counts: dict
    reasons: dict
    largest_n: int

    def rate(self, shift, verdict) -> float:
        return self.counts[shift][verdict] / self.seeds

    @property
    def false_inconsistent(self) -> float:
        return self.rate(0.0, "inconsistent")

    @property
    def power(self) -> float:
        """Fraction of perturbed calls answered "inconsistent"."""
        return (self.counts[-0.25]["inconsistent"] + self.counts[0.25]["inconsistent"]) / (
            2 * self.seeds)

    @property
    def perturbed_consistent(self) -> int:
        return self.counts[-0.25]["consistent"] + self.counts[0.25]["consistent"]

    def line(self) -> str:
        c = self.counts
        return (f"{self.entry.name:22s} a={self.entry.exponent:+.2f} seeds={self.seeds}  truth: "
                f"{c[0.0]['consistent']:3d} cons {c[0.0]['inconsistent']:2d} incons "
                f"{c[0.0]['inconclusive']:3d} inconcl | -0.25: {c[-0.25]['inconsistent']:3d} "
                f"incons {c[-0.25]['consistent']:d} cons | +0.25: {c[0.25]['inconsistent']:3d} "
                f"incons {c[0.25]['consistent']:d} cons | n <= {self.largest_n}")


def run_entry(entry: Entry, *, seeds: int = 50, samples: int = 16, seed: int = 0,
              chunk: int = 64, ns=None, max_n=None) -> Tally:
    """Judge ``entry`` and its +-0.25 perturbations over ``seeds`` seeds
    (``samples`` networks per n and seed; grid extension without a time
    budget, up to ``max_n``, so the study is deterministic)."""
    ns = tuple(ns or entry.ns)
    max_n = max_n or entry.max_n
    pools = {}
    index = [e.name for e in CATALOGUE].index(entry.name) if entry in CATALOGUE else 99

    def pool(n):
        if n not in pools:
            total = seeds * samples
            ss = np.random.SeedSequence([seed, index, n])
            parts = []
            for k, child in enumerate(ss.spawn(math.ceil(total / chunk))):
                b = min(chunk, total - k * chunk)
                parts.append(measure(entry.statistic, entry.model(n), entry.layer, batch=b,
                                     rng=np.random.default_rng(child)))
            pools[n] = np.concatenate(parts).reshape(seeds, samples)
        return pools[n]

    counts = {s: {"consistent": 0, "inconsistent": 0, "inconclusive": 0} for s in SHIFTS}
    reasons = {s: [] for s in SHIFTS}
    for s in range(seeds):
        for shift in SHIFTS:
            r = check_scaling(entry.model, entry.statistic, entry.exponent + shift, ns=ns,
                              layer=entry.layer, samples=samples, rng=s, budget=math.inf,
                              max_n=max_n, sampler=lambda n, s=s: pool(n)[s])
            counts[shift][r.verdict] += 1
            if r.verdict == "inconclusive":
                reasons[shift].append(r.why)
    return Tally(entry, seeds, counts, reasons, max(pools))
