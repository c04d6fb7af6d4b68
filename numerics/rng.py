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


def _is_seed(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def as_generator(rng=None) -> np.random.Generator:
    """A numpy ``Generator`` from ``rng`` (the same object if it is one): a
    Generator, a non-negative int seed, a sequence of them (``[seed, 7]``, an
    entropy pool as ``numpy.random.default_rng`` takes it), a ``SeedSequence``,
    a ``BitGenerator`` or None (fresh entropy).

    >>> float(as_generator([3, 7]).random()) == float(as_generator([3, 7]).random())
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (list, tuple)) and rng and all(_is_seed(x) for x in rng):
        seeds = rng
    elif rng is None or isinstance(rng, np.random.SeedSequence) or _is_seed(rng):
        seeds = [rng] if _is_seed(rng) else []
    elif isinstance(rng, np.random.BitGenerator):
        return np.random.Generator(rng)
    else:
        raise ValueError(f"rng must be a numpy Generator, a non-negative int seed (or a sequence "
                         f"of them), a SeedSequence or None (got {type(rng).__name__})")
    if any(x < 0 for x in seeds):
        raise ValueError(f"rng seed must be a non-negative integer (got {rng})")
    return np.random.default_rng(rng)


def spawn(rng, k: int) -> list[np.random.Generator]:
    """``k`` independent child generators of ``rng`` (advances ``rng``'s seed sequence
    when it is a Generator, so repeated calls give fresh streams)."""
    k = integer("k", k, minimum=0)
    return list(as_generator(rng).spawn(k))


def seed_for(rng) -> int:
    """A 63-bit integer seed drawn from ``rng`` (to seed another library's generator)."""
    return int(as_generator(rng).integers(0, 2**63 - 1))
