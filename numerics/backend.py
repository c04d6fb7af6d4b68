"""Array backends: numpy by default, CuPy when installed and asked for, and
``array-api-strict`` (a strict, non-numpy namespace used in the tests to keep
the code backend-agnostic).  The array code is written once against the
array API standard through ``array-api-compat``.

>>> xp = namespace("numpy")
>>> x = xp.ones((2, 2))
>>> to_numpy(x).sum()
np.float64(4.0)
>>> namespace("torch")
Traceback (most recent call last):
...
ValueError: backend must be one of 'numpy', 'cupy', 'array-api-strict' (got 'torch')
"""
from __future__ import annotations

import numpy as np

from ..theory._validate import one_of

__all__ = ["BACKENDS", "namespace", "to_numpy", "from_numpy", "get_namespace", "is_numpy",
           "is_cupy", "resolve_dtype", "backend_name", "availability", "BackendUnavailable",
           "BackendUnsupported", "require_backend"]

BACKENDS = ("numpy", "cupy", "array-api-strict")
DTYPES = ("float64", "float32")

_INSTALL_HINT = {
    "cupy": "CuPy is not installed: pip install 'gapcheck[gpu]' (or cupy-cuda12x / cupy-cuda11x "
            "matching your CUDA)",
    "array-api-strict": "array-api-strict is not installed: pip install array-api-strict",
}


class BackendUnavailable(ImportError):
    """The backend cannot run on this machine (its library is missing, or
    CuPy sees no CUDA device); the message says which and how to fix it."""


class BackendUnsupported(ValueError):
    """A computation has no implementation on the requested backend:
    ``"<what> cannot run on <backend>: <reason>"`` (never a silent fall-back
    to numpy)."""

    def __init__(self, what: str, backend: str, reason: str):
        self.what, self.backend, self.reason = what, backend, reason
        super().__init__(f"{what} cannot run on {backend}: {reason}")


def availability(name: str) -> tuple[bool, str | None]:
    """``(True, None)`` if backend ``name`` can run here, else ``(False, reason)``:
    the library is not installed (with the install hint), or CuPy is
    installed but sees no CUDA device.  Imports the library; starts nothing.

    >>> availability("numpy")
    (True, None)
    """
    one_of("backend", name, BACKENDS)
    if name == "numpy":
        return True, None
    if name == "array-api-strict":
        try:
            import array_api_strict  # noqa: F401
        except ImportError:
            return False, _INSTALL_HINT[name]
        return True, None
    try:
        import cupy
    except ImportError:
        return False, _INSTALL_HINT["cupy"]
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return False, "CuPy is installed but no CUDA device is visible"
    except Exception as exc:  # CUDA driver / runtime errors have no common base class
        return False, f"CuPy cannot reach a CUDA device ({type(exc).__name__}: {exc})"
    return True, None


def namespace(name="numpy"):
    """The array-API namespace of backend ``name`` (or pass a namespace through);
    :class:`BackendUnavailable` (an ``ImportError``) with the reason if the
    backend cannot run here."""
    if not isinstance(name, str):
        return name
    one_of("backend", name, BACKENDS)
    if name == "numpy":
        import array_api_compat.numpy as xp
        return xp
    ok, reason = availability(name)
    if not ok:
        raise BackendUnavailable(f"backend {name!r} is unavailable: {reason}")
    if name == "cupy":
        import array_api_compat.cupy as xp
        return xp
    import array_api_strict as xp
    return xp


def require_backend(backend, supported, what: str, reason: str) -> str:
    """The name of ``backend`` (a name or a namespace) if it is one of
    ``supported``, else :class:`BackendUnsupported` saying that ``what``
    cannot run on it and why.

    >>> require_backend("cupy", ("numpy",), "lyapunov_qr", "batched QR is numpy-only here")
    Traceback (most recent call last):
    ...
    gapcheck.numerics.backend.BackendUnsupported: lyapunov_qr cannot run on cupy: batched QR is numpy-only here
    """
    name = backend if isinstance(backend, str) else backend_name(backend)
    one_of("backend", name, BACKENDS)
    if name not in supported:
        raise BackendUnsupported(what, name, reason)
    return name


def backend_name(xp) -> str:
    """``"numpy"``, ``"cupy"`` or ``"array-api-strict"`` for a namespace."""
    mod = getattr(xp, "__name__", "")
    if "cupy" in mod:
        return "cupy"
    if "array_api_strict" in mod:
        return "array-api-strict"
    return "numpy"


def is_numpy(xp) -> bool:
    return backend_name(xp) == "numpy"


def is_cupy(xp) -> bool:
    return backend_name(xp) == "cupy"


def get_namespace(*arrays):
    """The namespace of the given arrays (``array_api_compat.array_namespace``)."""
    import array_api_compat
    return array_api_compat.array_namespace(*arrays)


def resolve_dtype(xp, dtype="float64"):
    """The namespace's float dtype named ``dtype`` ("float64" or "float32")."""
    if not isinstance(dtype, str):
        dtype = str(np.dtype(dtype)) if not hasattr(dtype, "__name__") else dtype.__name__
    dtype = str(dtype).replace("numpy.", "")
    one_of("dtype", dtype, DTYPES)
    return getattr(xp, dtype)


def to_numpy(x):
    """A numpy array with the values of ``x`` (any backend; copies off the GPU)."""
    if isinstance(x, np.ndarray) or np.isscalar(x):
        return np.asarray(x)
    if hasattr(x, "get") and type(x).__module__.startswith("cupy"):
        return x.get()
    try:
        return np.from_dlpack(x)
    except (TypeError, AttributeError, RuntimeError, BufferError):
        return np.asarray(x)


def from_numpy(xp, a, dtype=None):
    """Move the numpy array ``a`` to namespace ``xp`` (with ``dtype``)."""
    if dtype is None:
        return xp.asarray(a)
    if is_numpy(xp):
        return np.asarray(a, dtype=dtype)
    return xp.asarray(np.ascontiguousarray(a), dtype=dtype)
