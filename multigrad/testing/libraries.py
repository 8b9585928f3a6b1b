"""Adapters that let the registry checks run the same sample in multigrad (on any device) and in PyTorch.

Each adapter creates tensors from NumPy arrays, looks up public ops by name,
runs ``autograd.grad`` and reads results back as NumPy arrays. The checks in
:mod:`.checks` only talk to these adapters, so a new device or a new
reference library needs an adapter and nothing else.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

import numpy as np

__all__ = ["Library", "MultigradLibrary", "TorchLibrary", "make_library"]


class Library:
    """The operations the checks need from a tensor library."""

    #: Short name used in messages: ``multigrad[numpy]``, ``torch``.
    name: str = "library"
    #: The module whose namespace the special-op expressions receive as ``lib``.
    module: Any = None

    def tensor(self, array: np.ndarray, dtype_name: str, requires_grad: bool):
        raise NotImplementedError

    def index_tensor(self, values: list):
        """Return an int64 (or, for bool values, bool) tensor to use inside an index."""
        raise NotImplementedError

    def dtype(self, name: str):
        return getattr(self.module, name)

    def dtype_name(self, t) -> str:
        raise NotImplementedError

    def is_tensor(self, value) -> bool:
        raise NotImplementedError

    def to_numpy(self, t) -> np.ndarray:
        raise NotImplementedError

    def grad(self, outputs: list, inputs: list, grad_outputs: list) -> tuple:
        """Return d(outputs)/d(inputs) weighted by grad_outputs; None for inputs that outputs do not use."""
        return self.module.autograd.grad(outputs, inputs, grad_outputs, allow_unused=True)

    def function(self, name: str, functional_first: bool = False) -> Callable | None:
        """Return the public op ``name`` as a function, or None when the library has none.

        With ``functional_first``, ``nn.functional`` is searched before the top-level namespace.
        """
        raise NotImplementedError

    def is_view_of(self, t, args) -> bool:
        """Return whether ``t`` shares memory with a tensor among ``args`` (or inside a list of them)."""
        if t._base is None:
            return False
        for arg in args:
            for candidate in arg if isinstance(arg, list) else [arg]:
                if self.is_tensor(candidate) and (candidate is t._base or candidate._base is t._base):
                    return True
        return False

    def node_name(self, t) -> str | None:
        return None if t.grad_fn is None else type(t.grad_fn).__name__


class MultigradLibrary(Library):
    """multigrad on one device (``"numpy"``, ``"opencl"``, ``"opencl:1"``...)."""

    def __init__(self, device: str = "numpy") -> None:
        import multigrad

        self.module = multigrad
        self.device = device
        self.name = f"multigrad[{device}]"

    def supports(self, dtype_name: str) -> bool:
        """Return whether the device supports tensors of ``dtype_name``."""
        from multigrad._creation import get_backend

        return get_backend(self.device).supports_dtype(np.dtype(dtype_name))

    def tensor(self, array, dtype_name, requires_grad):
        return self.module.tensor(array, dtype=self.dtype(dtype_name), device=self.device, requires_grad=requires_grad)

    def index_tensor(self, values):
        array = np.asarray(values)
        dtype_name = "bool" if array.dtype == np.bool_ else "int64"
        return self.module.tensor(array, dtype=self.dtype(dtype_name), device=self.device)

    def dtype(self, name):
        return self.module.bool if name == "bool" else getattr(self.module, name)

    def dtype_name(self, t):
        return t.dtype.name

    def is_tensor(self, value):
        return isinstance(value, self.module.Tensor)

    def to_numpy(self, t):
        return np.array(t.detach().numpy(), copy=True)

    def function(self, name, functional_first=False):
        functional = getattr(getattr(self.module, "nn", None), "functional", None)
        namespaces = (functional, self.module) if functional_first else (self.module, functional)
        for namespace in namespaces:
            found = getattr(namespace, name, None)
            if callable(found) and not isinstance(found, type):
                return found
        return None


class TorchLibrary(Library):
    """PyTorch on the CPU, the reference for values and gradients."""

    name = "torch"

    def __init__(self) -> None:
        self.module = importlib.import_module("torch")

    def tensor(self, array, dtype_name, requires_grad):
        out = self.module.from_numpy(np.array(array, copy=True)).to(self.dtype(dtype_name))
        return out.requires_grad_(requires_grad)

    def index_tensor(self, values):
        return self.module.tensor(values)

    def dtype_name(self, t):
        return str(t.dtype).removeprefix("torch.")

    def is_tensor(self, value):
        return isinstance(value, self.module.Tensor)

    def to_numpy(self, t):
        return t.detach().cpu().numpy().copy()

    def function(self, name, functional_first=False):
        torch = self.module
        namespaces = (torch, torch.Tensor, torch.nn.functional)
        if functional_first:
            # torch.dropout, torch.batch_norm and others take other arguments than their nn.functional namesakes.
            namespaces = (torch.nn.functional, torch, torch.Tensor)
        for namespace in namespaces:
            found = getattr(namespace, name, None)
            if callable(found) and not isinstance(found, type):
                return found
        return None


def make_library(spec: str) -> Library:
    """Return the adapter for ``torch`` or for a multigrad device name (``numpy``, ``opencl``)."""
    if spec == "torch":
        return TorchLibrary()
    return MultigradLibrary(spec)
