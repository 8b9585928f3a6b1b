"""CLArray, an n-d view onto an OpenCL buffer, and helpers for shapes and strides.

Strides and offsets count elements, not bytes, as in PyTorch.
"""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

if TYPE_CHECKING:
    from .backend import OpenCLBackend

__all__ = ["CLArray", "contiguous_strides", "broadcast_shapes", "broadcast_strides", "coalesce"]


def contiguous_strides(shape: Sequence[int]) -> tuple[int, ...]:
    """Return the C-order element strides of ``shape``."""
    strides = []
    step = 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


class CLArray:
    """A strided view of an OpenCL buffer on one device.

    ``buffer`` is shared by every view of the same storage, so ``is`` on buffers
    tells whether two arrays alias. ``offset`` and ``strides`` count elements.
    """

    __slots__ = ("buffer", "shape", "strides", "offset", "dtype", "backend", "nbytes_capacity")

    def __init__(
        self,
        buffer: Any,
        shape: tuple[int, ...],
        strides: tuple[int, ...],
        offset: int,
        dtype: np.dtype,
        backend: "OpenCLBackend",
        nbytes_capacity: int,
    ) -> None:
        self.buffer = buffer
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.dtype = dtype
        self.backend = backend
        self.nbytes_capacity = nbytes_capacity

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of elements."""
        return prod(self.shape)

    @property
    def is_contiguous(self) -> bool:
        """Whether the elements are laid out in C order with no gaps (size-1 dims ignored)."""
        step = 1
        for size, stride in zip(reversed(self.shape), reversed(self.strides)):
            if size != 1 and stride != step:
                return False
            step *= size
        return True

    def with_layout(self, shape: tuple[int, ...], strides: tuple[int, ...], offset: int) -> "CLArray":
        """Return a view of the same buffer with another shape, strides and offset."""
        return CLArray(self.buffer, shape, strides, offset, self.dtype, self.backend, self.nbytes_capacity)

    def element_span(self) -> tuple[int, int]:
        """Return the lowest and one past the highest element index this view reads."""
        if self.size == 0:
            return self.offset, self.offset
        low = high = self.offset
        for size, stride in zip(self.shape, self.strides):
            if stride > 0:
                high += (size - 1) * stride
            else:
                low += (size - 1) * stride
        return low, high + 1

    def __repr__(self) -> str:
        return (
            f"CLArray(shape={self.shape}, dtype={self.dtype}, strides={self.strides}, "
            f"offset={self.offset}, device={self.backend.device_name})"
        )


def broadcast_shapes(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """Return the NumPy broadcast of ``shapes``, or raise ValueError naming the op and shapes."""
    ndim = max((len(s) for s in shapes), default=0)
    result = []
    for axis in range(ndim):
        size = 1
        for shape in shapes:
            dim = shape[axis - ndim + len(shape)] if axis - ndim + len(shape) >= 0 else 1
            if dim == 1:
                continue
            if size not in (1, dim):
                raise ValueError(
                    f"{op}: shapes {' and '.join(str(s) for s in shapes)} cannot be broadcast together "
                    f"(dimension {axis} has sizes {size} and {dim})"
                )
            size = dim
        result.append(size)
    return tuple(result)


def broadcast_strides(array: CLArray, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Return the strides of ``array`` viewed as ``shape``, with 0 for broadcast dims."""
    lead = len(shape) - array.ndim
    strides = [0] * lead
    for size, target, stride in zip(array.shape, shape[lead:], array.strides):
        strides.append(0 if size == 1 and target != 1 else stride)
    return tuple(strides)


def coalesce(shape: Sequence[int], stride_lists: Sequence[Sequence[int]]) -> tuple[list[int], list[list[int]]]:
    """Merge adjacent dims that every operand steps through as one, and drop size-1 dims.

    Returns the shorter shape and one stride list per operand. A kernel indexed
    by the result visits the same elements in the same order as one indexed by
    the input, with fewer index computations.
    """
    dims = [i for i, size in enumerate(shape) if size != 1]
    out_shape: list[int] = []
    out_strides: list[list[int]] = [[] for _ in stride_lists]
    for i in dims:
        size = shape[i]
        if out_shape and all(
            strides[i] * size == merged[-1] for strides, merged in zip(stride_lists, out_strides)
        ):
            out_shape[-1] *= size
            for strides, merged in zip(stride_lists, out_strides):
                merged[-1] = strides[i]
            continue
        out_shape.append(size)
        for strides, merged in zip(stride_lists, out_strides):
            merged.append(strides[i])
    return out_shape, out_strides
