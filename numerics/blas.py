"""BLAS threads chosen by matrix size (threadpoolctl).

Batched products of small matrices gain nothing from several BLAS threads,
and on a machine where another process holds a core, OpenBLAS threads spin
waiting for each other (measured on a 2-core machine: the paper's sweep took
6.6 s with one BLAS thread and 46.2 s with two while another process ran).
Sweeps therefore get their parallelism from chunks (Dask workers) and give
BLAS several threads only for products large enough to split:
:func:`blas_threads` is the rule, :func:`blas_limit` applies it.

>>> blas_threads(150, cpus=2)
1
>>> blas_threads(4096, cpus=8)
8
>>> blas_threads(4096, cpus=8, workers=4)
2
"""
from __future__ import annotations

import contextlib
import os

__all__ = ["blas_threads", "blas_limit", "MIN_THREADED_N", "cpu_count"]

#: below this matrix size (rows of the n x d products) one BLAS thread is used
MIN_THREADED_N = 512


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def blas_threads(n: int, *, cpus: int | None = None, workers: int = 1) -> int:
    """BLAS threads for products of size ``n``: one below :data:`MIN_THREADED_N`,
    else the CPUs left per worker (``cpus // workers``, at least one), and never
    more than one thread per 256 rows (a thread needs a panel worth its start)."""
    cpus = cpu_count() if cpus is None else int(cpus)
    if n < MIN_THREADED_N:
        return 1
    return max(1, min(cpus // max(1, int(workers)), int(n) // 256))


@contextlib.contextmanager
def blas_limit(n: int, *, workers: int = 1):
    """Run the block with :func:`blas_threads` ``(n)`` BLAS threads (restored after)."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=blas_threads(n, workers=workers), user_api="blas"):
        yield
