"""Memory kernels: conversion to and from NumPy, fills, copies, casts and views."""

from __future__ import annotations

from math import ceil
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from . import templates, views
from ._cl import cl, kernel_arg, wrap_cl_error
from .array import CLArray
from .formulas import Formula

if TYPE_CHECKING:
    from .backend import OpenCLBackend

__all__ = ["MemoryKernels"]

_COPY = Formula("x", "x", "same", vector=True)


class MemoryKernels:
    """Mixin of OpenCLBackend with conversion, fill, copy, cast and view kernels."""

    # -- conversion ------------------------------------------------------

    def from_numpy(self: "OpenCLBackend", array: np.ndarray) -> CLArray:
        """Copy a NumPy array (or anything ``np.asarray`` accepts) onto this device as a contiguous array."""
        host = np.asarray(array, order="C")  # unlike ascontiguousarray, keeps 0-d arrays 0-d
        self.check_dtype("from_numpy", host.dtype)
        result = self.empty(host.shape, host.dtype)
        if host.size:
            try:
                cl.enqueue_copy(self.queue, result.buffer, host)
            except cl.Error as exc:
                raise wrap_cl_error("from_numpy", self.device_name, exc) from exc
        return result

    def to_numpy(self: "OpenCLBackend", array: CLArray) -> np.ndarray:
        """Copy an array into a new contiguous NumPy array, waiting for pending kernels."""
        array = self.check_array("to_numpy", array)
        result = np.empty(array.shape, array.dtype)
        if result.size == 0:
            return result
        itemsize = array.dtype.itemsize
        try:
            if array.is_contiguous:
                cl.enqueue_copy(self.queue, result, array.buffer, src_offset=array.offset * itemsize)
                return result
            # Copy the span the view covers, then let NumPy apply the strides on the host.
            low, high = array.element_span()
            span = np.empty(high - low, array.dtype)
            cl.enqueue_copy(self.queue, span, array.buffer, src_offset=low * itemsize)
        except cl.Error as exc:
            raise wrap_cl_error("to_numpy", self.device_name, exc) from exc
        strided = np.lib.stride_tricks.as_strided(
            span[array.offset - low:], array.shape, tuple(s * itemsize for s in array.strides))
        result[...] = strided
        return result

    # -- fills and copies --------------------------------------------------

    def full(self: "OpenCLBackend", shape: Sequence[int], value: Any, dtype: np.dtype) -> CLArray:
        """Return a new array of ``shape`` filled with ``value`` converted to ``dtype``."""
        self.check_dtype("full", np.dtype(dtype))
        result = self.empty(shape, np.dtype(dtype))
        if result.size:
            pattern = kernel_arg(value, result.dtype)
            try:
                cl.enqueue_fill_buffer(self.queue, result.buffer, pattern, 0, result.size * result.dtype.itemsize)
            except cl.Error as exc:
                raise wrap_cl_error("full", self.device_name, exc) from exc
        return result

    def zeros(self: "OpenCLBackend", shape: Sequence[int], dtype: np.dtype) -> CLArray:
        """Return a new array of zeros."""
        return self.full(shape, 0, dtype)

    def arange(self: "OpenCLBackend", start: float, end: float, step: float, dtype: np.dtype) -> CLArray:
        """Return ``start, start + step, ...`` up to but excluding ``end``, as NumPy's arange does."""
        if step == 0:
            raise ValueError("arange: step must be nonzero")
        if (end - start) / step == float("inf"):
            raise ValueError(f"arange: invalid range start={start}, end={end}, step={step}")
        length = max(ceil((end - start) / step), 0)
        dtype = np.dtype(dtype)
        result = self.empty((length,), dtype)
        if length == 0:
            return result
        # Integer ranges are computed exactly in int64, others in the widest float available.
        if dtype.kind != "f" and all(float(v).is_integer() for v in (start, step)):
            compute = np.dtype(np.int64)
        else:
            compute = np.dtype(np.float64 if self.has_fp64 else np.float32)
        key = ("arange", compute, dtype)
        kernel = self.kernel(key, "arange", lambda: templates.arange(compute, dtype))
        global_size, local_size = self.flat_range(length)
        args = [result.buffer, kernel_arg(start, compute), kernel_arg(step, compute), np.int64(length)]
        self.launch("arange", kernel, global_size, local_size, args)
        return result

    def assign(self: "OpenCLBackend", dst: CLArray, src: Any) -> None:
        """Copy ``src`` (an array broadcastable to ``dst``, or a scalar) into ``dst`` in place.

        ``src`` is converted to ``dst``'s dtype. When ``src`` overlaps ``dst``,
        it is copied first so that no element is read after being overwritten.
        """
        dst = self.check_array("assign", dst)
        if isinstance(src, CLArray):
            self.check_array("assign", src)
            if self.shares_memory(dst, src):
                src = self.clone(src)
            self.map("assign", _COPY, [src], out=dst, compute=src.dtype)
        else:
            self.map("assign", _COPY, [src], out=dst, compute=dst.dtype)

    def cast(self: "OpenCLBackend", x: CLArray, dtype: np.dtype) -> CLArray:
        """Return ``x`` converted to ``dtype`` as a new array (C conversion rules; to bool means != 0)."""
        dtype = np.dtype(dtype)
        self.check_dtype("cast", x.dtype, dtype)
        result = self.empty(x.shape, dtype)
        self.map("cast", _COPY, [x], out=result, compute=x.dtype)
        return result

    def clone(self: "OpenCLBackend", x: CLArray) -> CLArray:
        """Return a contiguous copy of ``x``."""
        result = self.empty(x.shape, x.dtype)
        self.map("clone", _COPY, [x], out=result, compute=x.dtype)
        return result

    def contiguous(self: "OpenCLBackend", x: CLArray) -> CLArray:
        """Return ``x`` itself when it is C-contiguous, else a contiguous copy."""
        return x if x.is_contiguous else self.clone(x)

    def shares_memory(self: "OpenCLBackend", a: CLArray, b: CLArray) -> bool:
        """Return whether the element spans of ``a`` and ``b`` overlap in one buffer (may be a false positive)."""
        if a.buffer is not b.buffer or a.size == 0 or b.size == 0:
            return False
        low_a, high_a = a.element_span()
        low_b, high_b = b.element_span()
        return low_a * a.dtype.itemsize < high_b * b.dtype.itemsize and \
            low_b * b.dtype.itemsize < high_a * a.dtype.itemsize

    # -- views -------------------------------------------------------------

    def view(self: "OpenCLBackend", x: CLArray, shape: Sequence[int]) -> CLArray:
        """Return ``x`` with a new shape (one -1 is inferred), sharing memory; raise if strides forbid it."""
        return views.view(x, shape)

    def reshape(self: "OpenCLBackend", x: CLArray, shape: Sequence[int]) -> CLArray:
        """Return a view of ``x`` with a new shape when strides allow it, else a reshaped copy."""
        shape = views.infer_shape(shape, x.size)
        strides = views.view_strides(x, shape)
        if strides is not None:
            return x.with_layout(shape, strides, x.offset)
        return views.view(self.clone(x), shape)

    def permute(self: "OpenCLBackend", x: CLArray, dims: Sequence[int]) -> CLArray:
        """Return a view of ``x`` with its dims reordered."""
        return views.permute(x, dims)

    def transpose(self: "OpenCLBackend", x: CLArray, dim0: int, dim1: int) -> CLArray:
        """Return a view of ``x`` with two dims swapped."""
        return views.transpose(x, dim0, dim1)

    def expand(self: "OpenCLBackend", x: CLArray, shape: Sequence[int]) -> CLArray:
        """Return a view of ``x`` broadcast to ``shape`` (stride 0 on broadcast dims)."""
        return views.expand(x, shape)

    def squeeze(self: "OpenCLBackend", x: CLArray, dims: Sequence[int] | None = None) -> CLArray:
        """Return a view of ``x`` without size-1 dims (only those in ``dims`` when given)."""
        return views.squeeze(x, dims)

    def unsqueeze(self: "OpenCLBackend", x: CLArray, dim: int) -> CLArray:
        """Return a view of ``x`` with a size-1 dim inserted at ``dim``."""
        return views.unsqueeze(x, dim)

    def as_strided(self: "OpenCLBackend", x: CLArray, size: Sequence[int], stride: Sequence[int],
                   storage_offset: int | None = None) -> CLArray:
        """Return a view over ``x``'s buffer with the given shape, element strides and offset."""
        return views.as_strided(x, size, stride, storage_offset)

    def diagonal(self: "OpenCLBackend", x: CLArray, offset: int = 0, dim1: int = 0, dim2: int = 1) -> CLArray:
        """Return a view of the diagonal of ``x`` over ``dim1`` and ``dim2``, as the last dim."""
        return views.diagonal(x, offset, dim1, dim2)
