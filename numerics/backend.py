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
           "is_cupy", "resolve_dtype", "backend_name"]

BACKENDS = ("numpy", "cupy", "array-api-strict")
DTYPES = ("float64", "float32")

_INSTALL_HINT = {
    "cupy": "CuPy is not installed: pip install 'gapcheck[gpu]' (or cupy-cuda12x / cupy-cuda11x "
            "matching your CUDA)",
    "array-api-strict": "array-api-strict is not installed: pip install array-api-strict",
}


def namespace(name="numpy"):
    """The array-API namespace of backend ``name`` (or pass a namespace through)."""
    if not isinstance(name, str):
        return name
    one_of("backend", name, BACKENDS)
    if name == "numpy":
        import array_api_compat.numpy as xp
        return xp
    if name == "cupy":
        try:
            import cupy  # noqa: F401
        except ImportError as exc:
            raise ImportError(_INSTALL_HINT["cupy"]) from exc
        import array_api_compat.cupy as xp
        return xp
    try:
        import array_api_strict as xp
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT["array-api-strict"]) from exc
    return xp


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
