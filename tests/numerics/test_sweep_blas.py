"""BLAS threads chosen by matrix size: one thread for small products (parallelism
comes from chunks), more for large ones, never more than the CPUs per worker."""
from __future__ import annotations

import pytest

from gapcheck.numerics.blas import MIN_THREADED_N, blas_limit, blas_threads

threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl is a core dependency")


def test_rule():
    assert blas_threads(MIN_THREADED_N - 1, cpus=64) == 1
    assert blas_threads(MIN_THREADED_N, cpus=64) == MIN_THREADED_N // 256
    assert blas_threads(8192, cpus=16) == 16
    assert blas_threads(8192, cpus=16, workers=4) == 4
    assert blas_threads(8192, cpus=2, workers=4) == 1


def test_limit_is_applied_and_restored():
    import numpy  # noqa: F401  (loads its BLAS)
    assert [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        with blas_limit(150):
            inside = {i["num_threads"] for i in threadpoolctl.threadpool_info()
                      if i["user_api"] == "blas"}
        after = {i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"}
    assert inside == {1}
    assert after == {2}
