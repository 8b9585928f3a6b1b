"""Guarded access to pyopencl, OpenCL error names and the dtype-to-C-type map.

Importing this module never fails: when pyopencl is missing, :data:`cl` is None
and :data:`IMPORT_ERROR` stores the reason.
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    import pyopencl as cl
    IMPORT_ERROR: str | None = None
except ImportError as exc:  # pragma: no cover - exercised only without pyopencl
    cl = None
    IMPORT_ERROR = f"pyopencl is not installed ({exc})"

__all__ = ["cl", "IMPORT_ERROR", "OpenCLError", "error_name", "wrap_cl_error", "C_TYPES", "c_type"]

INSTALL_HINT = (
    "install an OpenCL driver (on Debian/Ubuntu: apt-get install pocl-opencl-icd "
    "ocl-icd-libopencl1, or the GPU vendor's driver) and the Python bindings "
    "(pip install -e \".[opencl]\" in the multigrad checkout)"
)


class OpenCLError(RuntimeError):
    """An OpenCL call failed; the message names the op, the ``CL_*`` status and the device."""


def _status_names() -> dict[int, str]:
    if cl is None:
        return {}
    names = {}
    for name, value in vars(cl.status_code).items():
        if isinstance(value, int) and not name.startswith("_"):
            names[value] = f"CL_{name}"
    return names


_STATUS_NAMES = _status_names()


def error_name(code: int) -> str:
    """Return the ``CL_*`` name of an OpenCL status code, or ``CL_<code>`` when unknown."""
    return _STATUS_NAMES.get(code, f"CL_{code}")


def wrap_cl_error(op: str, device: str, exc: Exception) -> OpenCLError:
    """Return an :class:`OpenCLError` for ``exc`` naming the op, the ``CL_*`` status and the device."""
    code = getattr(exc, "code", None)
    what = getattr(exc, "what", None)
    detail = what() if callable(what) else str(exc)
    status = error_name(code) if isinstance(code, int) else "unknown status"
    return OpenCLError(f"OpenCL call failed in op '{op}' on {device}: {status} ({detail})")


#: OpenCL C scalar type for each supported NumPy dtype. bool is stored as one byte.
C_TYPES: dict[np.dtype, str] = {
    np.dtype(np.bool_): "uchar",
    np.dtype(np.int8): "char",
    np.dtype(np.uint8): "uchar",
    np.dtype(np.int16): "short",
    np.dtype(np.uint16): "ushort",
    np.dtype(np.int32): "int",
    np.dtype(np.uint32): "uint",
    np.dtype(np.int64): "long",
    np.dtype(np.uint64): "ulong",
    np.dtype(np.float32): "float",
    np.dtype(np.float64): "double",
}


def c_type(dtype: np.dtype) -> str:
    """Return the OpenCL C type name for ``dtype`` (KeyError when it has none)."""
    return C_TYPES[dtype]


def kernel_arg(value: Any, dtype: np.dtype) -> np.generic:
    """Return a Python scalar as a NumPy scalar of ``dtype``, ready to pass to ``set_arg``."""
    if dtype == np.bool_:
        return np.uint8(bool(value))
    return dtype.type(value)
