"""The contract between multigrad's core and a backend plugin.

A backend owns the memory of its device and runs kernels on it. It never sees
a Tensor: the core unwraps tensors into backend arrays, calls a kernel, and
wraps the returned array again. Autograd lives only in the core.

A backend array is any object with ``shape`` (a tuple of ints) and ``dtype``
(a ``numpy.dtype``). Kernels take backend arrays and Python scalars, and return
new backend arrays unless their documentation says they write in place or
return a view.

Kernel calling conventions, shared by every backend:

- Elementwise kernels receive operands that the core has already promoted to
  one dtype (Python scalars stay Python scalars) and broadcast them with
  NumPy's rules. Comparison kernels return bool arrays.
- Reduction kernels take ``dims`` as a tuple of non-negative ints (an empty
  tuple means every dimension) and ``keepdim`` as a bool.
- View kernels (``view``, ``permute``, ``expand``, ``getitem``, ``as_strided``)
  return arrays that alias the input's memory, so an in-place write through one
  is visible through the other.
- ``assign`` and ``setitem`` write into their first argument in place.

The kernel list is the set of ``kernel:`` names in ``ops.yaml`` plus the
helpers documented on :class:`Backend`. A backend may implement any subset:
asking for a missing kernel raises :class:`KernelNotImplementedError`, which
names the op, the backend and what to install.
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np
import pluggy

__all__ = ["Backend", "BackendUnavailableError", "KernelNotImplementedError", "hookimpl", "nll_targets", "pool_output_size"]

#: Marks a plugin's hook implementation: ``@hookimpl def multigrad_backends(): return [MyBackend]``.
hookimpl = pluggy.HookimplMarker("multigrad")


class BackendUnavailableError(RuntimeError):
    """Raised when a device is requested whose backend cannot run here."""


class KernelNotImplementedError(NotImplementedError):
    """Raised when an op runs on a backend that has no kernel for it."""


class Backend:
    """Base class of a backend: one instance per device.

    Subclasses set :attr:`type_name`, implement the helpers below and define
    one method per kernel they support, named after the ``kernel:`` of the
    op in ``ops.yaml``. Kernels are looked up as plain attributes, so a
    backend instance should not define unrelated attributes with kernel names.
    """

    #: Device type, as users spell it in ``device="..."``.
    type_name: ClassVar[str] = ""

    #: What to install to get this backend working, shown in error messages.
    install_hint: ClassVar[str] = ""

    def __init__(self, index: int = 0) -> None:
        self.index = index

    # -- discovery -----------------------------------------------------

    @classmethod
    def availability(cls) -> tuple[bool, str | None]:
        """Return ``(True, None)``, or ``(False, reason)`` with the fix in the reason."""
        return True, None

    @classmethod
    def device_count(cls) -> int:
        """Return how many devices of this type the machine has."""
        return 1

    @classmethod
    def device_names(cls) -> list[str]:
        """Return a human-readable name for each device, for ``multigrad backends``."""
        return [f"{cls.type_name}:{i}" for i in range(cls.device_count())]

    def supports_dtype(self, dtype: np.dtype) -> bool:
        """Return whether this device can hold and compute with ``dtype``."""
        return True

    # -- conversion ----------------------------------------------------

    def from_numpy(self, array: np.ndarray) -> Any:
        """Copy a NumPy array onto this device."""
        raise NotImplementedError

    def to_numpy(self, array: Any) -> np.ndarray:
        """Copy a backend array into a new NumPy array."""
        raise NotImplementedError

    # -- memory helpers every backend provides ---------------------------

    def full(self, shape: tuple[int, ...], value: Any, dtype: np.dtype) -> Any:
        """Return a new array of ``shape`` filled with ``value``."""
        raise NotImplementedError

    def assign(self, dst: Any, src: Any) -> None:
        """Copy ``src`` (an array broadcastable to ``dst``, or a scalar) into ``dst`` in place."""
        raise NotImplementedError

    def cast(self, x: Any, dtype: np.dtype) -> Any:
        """Return ``x`` converted to ``dtype`` as a new array."""
        raise NotImplementedError

    def shares_memory(self, a: Any, b: Any) -> bool:
        """Return whether two arrays may alias the same memory."""
        raise NotImplementedError

    # -- everything else is a kernel ---------------------------------------

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the subclass does not define: a missing kernel.
        if name.startswith("__"):
            raise AttributeError(name)
        raise KernelNotImplementedError(
            f"op '{name}' is not implemented by the '{self.type_name}' backend. "
            f"Run it on another device (for example tensor.to('numpy')), or "
            f"install a backend that implements it{'; ' + self.install_hint if self.install_hint else ''}."
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.type_name}:{self.index}>"


def normalize_shape(shape: Sequence[int]) -> tuple[int, ...]:
    """Return ``shape`` as a tuple of Python ints."""
    return tuple(int(s) for s in shape)


def pool_output_size(size, kernel_size, stride, padding, dilation, ceil_mode: bool) -> tuple[int, int]:
    """Return the pooled (height, width) by PyTorch's rule; with ``ceil_mode`` a last partial window counts if it starts inside."""
    out = []
    for i in range(2):
        span = size[i] + 2 * padding[i] - dilation[i] * (kernel_size[i] - 1) - 1
        length = (-(-span // stride[i]) if ceil_mode else span // stride[i]) + 1
        if ceil_mode and (length - 1) * stride[i] >= size[i] + padding[i]:
            length -= 1
        out.append(length)
    return tuple(out)


def nll_targets(target: np.ndarray, ignore_index: int, classes: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Check class targets on the host for the ``nll_loss`` kernels.

    Return the targets as int64 with ignored ones replaced by 0, and the mask
    of kept targets (None when every target is kept). Raises PyTorch's
    IndexError for a target outside ``[0, classes)`` that is not ``ignore_index``.
    """
    target = target.astype(np.int64, copy=False)
    # Read as unsigned, a negative target is huge, so one comparison finds both kinds of bad target.
    in_range = target.view(np.uint64) < classes
    if in_range.all():
        if not 0 <= ignore_index < classes:
            return target, None
        kept = target != ignore_index
    else:
        kept = target != ignore_index
        bad = kept & ~in_range
        if bad.any():
            raise IndexError(f"Target {int(target[bad][0])} is out of bounds.")
    if kept.all():
        return target, None
    return np.where(kept, target, 0), kept
