"""pytest configuration: Hypothesis profiles, the ``--backend`` option, and
the ``slow`` and ``gpu`` markers.

Profiles (``GAPCHECK_PROFILE=<name>`` or Hypothesis' own
``--hypothesis-profile=<name>``):

* ``ci``: derandomised, few examples; the default when ``CI`` is set.
* ``dev``: random seeds, few examples; the default otherwise.
* ``thorough``: many examples, and larger n: it makes ``--level thorough``
  the default, so every result's empirical check and negative controls run
  on their thorough grids.
"""
from __future__ import annotations

import os

# Small matrices dominate the suite: multi-threaded BLAS only adds contention
# (eigvalsh of 300 x 300 took 2.8 s with OpenBLAS threads on a loaded 2-core
# machine, 0.013 s single-threaded). Set before numpy is imported; a user's
# explicit setting wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest
from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# Parent: Hypothesis' own defaults, not the current default (which is Hypothesis'
# derandomised built-in CI profile when CI is set: dev and thorough would
# silently stop drawing random examples there).
_PARENT = settings.get_profile("default")
settings.register_profile("ci", _PARENT, derandomize=True, max_examples=8, **_COMMON)
settings.register_profile("dev", _PARENT, max_examples=8, **_COMMON)
settings.register_profile("thorough", _PARENT, max_examples=100, **_COMMON)
settings.load_profile(os.environ.get("GAPCHECK_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_addoption(parser):
    parser.addoption("--backend", default="numpy", choices=("numpy", "cupy", "array-api-strict"),
                     help="array backend of the samplers (default numpy)")
    parser.addoption("--level", default=None, choices=("quick", "default", "thorough"),
                     help="size of the empirical checks (see numerics.checks.VerifyConfig); "
                          "default: thorough under the thorough Hypothesis profile, else default")
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    marker_expr = config.getoption("-m") or ""
    run_slow = config.getoption("--runslow") or "slow" in marker_expr
    skip_slow = pytest.mark.skip(reason="slow: larger-n check; run with --runslow or -m slow")
    gpu_reason = _gpu_unavailable()
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and gpu_reason:
            item.add_marker(pytest.mark.skip(reason=gpu_reason))


def _gpu_unavailable() -> str | None:
    try:
        import cupy
    except ImportError:
        return "gpu: CuPy is not installed (pip install 'gapcheck[gpu]')"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "gpu: CuPy is installed but no CUDA device is visible"
    except Exception as exc:  # CUDA driver missing: report, do not fail collection
        return f"gpu: CuPy cannot reach a CUDA device ({type(exc).__name__}: {exc})"
    return None


@pytest.fixture(scope="session")
def backend(request) -> str:
    """The array backend chosen with ``--backend``."""
    return request.config.getoption("--backend")


@pytest.fixture(scope="session")
def verify_config(request, backend):
    """A :class:`numerics.checks.VerifyConfig` for this run's level and backend."""
    from gapcheck.numerics.checks import VerifyConfig
    return VerifyConfig(level=request.config.getoption("--level") or default_level(), backend=backend)


def default_level() -> str:
    """The check level when ``--level`` is not given: it follows the profile."""
    return "thorough" if settings.get_current_profile_name() == "thorough" else "default"
