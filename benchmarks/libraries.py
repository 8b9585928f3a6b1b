"""The compared libraries: importing them, converting data, reading results.

multigrad and PyTorch share one code path in every case, because multigrad
follows PyTorch's API names. HIPS autograd and hand-written NumPy get their own.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from types import ModuleType
from typing import Any

import numpy as np

# Each name is both the import name and the distribution name.
LIBRARIES = ("multigrad", "torch", "autograd", "numpy")


class LibraryMissingError(ImportError):
    """Raised when a compared library is not installed."""


def import_library(name: str) -> ModuleType:
    """Import a compared library, raising LibraryMissingError if it is not installed.

    Any other import failure (a broken or half-written package) propagates, so
    the report shows it as an error instead of "missing".
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name == name:
            raise LibraryMissingError(f"{name} is not installed") from error
        raise


def library_version(name: str, module: ModuleType) -> str | None:
    """Return the library's version, or None when it declares none."""
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def make_tensor(module: ModuleType, array: np.ndarray, requires_grad: bool = False) -> Any:
    """Copy a NumPy array into a multigrad or torch tensor; floats become float32."""
    if np.issubdtype(array.dtype, np.floating):
        return module.tensor(array, dtype=module.float32, requires_grad=requires_grad)
    return module.tensor(array)


def tensor_gradients(params: list[Any]) -> list[np.ndarray]:
    """Return the ``.grad`` of multigrad or torch leaves as NumPy arrays."""
    return [np.array(p.grad.numpy()) for p in params]


def gradient_norm(gradients: list[np.ndarray]) -> float:
    """Return the 2-norm of all gradients taken together, computed in float64."""
    return float(np.sqrt(sum(np.sum(np.asarray(g, dtype=np.float64) ** 2) for g in gradients)))
