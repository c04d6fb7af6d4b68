"""Randomness you can replay (SPEC 7): every sampler takes ``rng``, a numpy
``Generator``, a seed, a ``SeedSequence`` or ``None``; nothing reads global
state.  Independent streams come from ``Generator.spawn``.

>>> a, b = spawn(0, 2)
>>> float(a.standard_normal()) != float(b.standard_normal())
True
>>> float(as_generator(1).random()) == float(as_generator(1).random())
True
"""
from __future__ import annotations

import numbers

import numpy as np

from ..theory._validate import integer

__all__ = ["as_generator", "spawn", "seed_for"]


def as_generator(rng=None) -> np.random.Generator:
    """A numpy ``Generator`` from ``rng`` (the same object if it is one)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, np.random.SeedSequence) or \
            (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        if isinstance(rng, numbers.Integral) and rng < 0:
            raise ValueError(f"rng seed must be a non-negative integer (got {rng})")
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.BitGenerator):
        return np.random.Generator(rng)
    raise ValueError(f"rng must be a numpy Generator, a non-negative int seed, a SeedSequence "
                     f"or None (got {type(rng).__name__})")


def spawn(rng, k: int) -> list[np.random.Generator]:
    """``k`` independent child generators of ``rng`` (advances ``rng``'s seed sequence
    when it is a Generator, so repeated calls give fresh streams)."""
    k = integer("k", k, minimum=0)
    return list(as_generator(rng).spawn(k))


def seed_for(rng) -> int:
    """A 63-bit integer seed drawn from ``rng`` (to seed another library's generator)."""
    return int(as_generator(rng).integers(0, 2**63 - 1))
