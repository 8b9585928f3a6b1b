"""Indexing kernels with index arrays: gather, index_select, take, scatter, scatter_add, masked_fill."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import templates, views
from ._cl import kernel_arg
from .array import CLArray, broadcast_shapes, coalesce
from .formulas import TERNARY

if TYPE_CHECKING:
    from .backend import OpenCLBackend

__all__ = ["IndexingKernels"]


def _wrap_dim(op: str, dim: int, ndim: int) -> int:
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-bound}, {bound - 1}], "
                         f"but got {dim})")
    return dim % bound


def _as_1d(x: CLArray) -> CLArray:
    return x if x.ndim else x.with_layout((1,), (1,), x.offset)


class IndexingKernels:
    """Mixin of OpenCLBackend with the kernels that read or write through integer index arrays.

    Negative indices count from the end, as in NumPy. An index outside
    ``[-size, size)`` raises IndexError after the kernel has run, and the
    result (always a new array) is discarded, so no input changes.
    """

    def _check_index(self: "OpenCLBackend", op: str, index: CLArray) -> CLArray:
        index = self.check_array(op, index)
        if index.dtype.kind not in "iu":
            raise TypeError(f"{op}: expected an integer index array, got dtype {index.dtype}")
        return index

    def _gather(self: "OpenCLBackend", op: str, x: CLArray, index: CLArray, out: CLArray,
                x_strides: list[int], gather_stride: int, gather_size: int) -> CLArray:
        """Run the gather kernel over ``out``'s shape, with ``index`` already viewed as that shape."""
        if out.size == 0:
            return out
        if gather_size == 0:
            raise IndexError(f"{op}: index out of range in self (indexing a dim of size 0)")
        sizes, strides = coalesce(out.shape, [out.strides, index.strides, x_strides])
        key = ("gather", x.dtype, index.dtype, len(sizes))
        kernel = self.kernel(key, op, lambda: templates.gather(x.dtype, index.dtype, len(sizes)))
        args = [out.buffer, np.int64(out.offset), index.buffer, np.int64(index.offset), x.buffer,
                np.int64(x.offset), np.int64(gather_stride), np.int64(gather_size), self._error_flag]
        args += [np.int64(v) for v in sizes] + [np.int64(v) for s in strides for v in s]
        self.clear_error_flag()
        global_size, local_size = self.ndrange(sizes)
        self.launch(op, kernel, global_size, local_size, args)
        if self.read_error_flag():
            raise IndexError(f"{op}: index out of range in self (an index is outside [-{gather_size}, "
                             f"{gather_size}))")
        return out

    def gather(self: "OpenCLBackend", x: CLArray, dim: int, index: CLArray) -> CLArray:
        """Return ``out[i][j] = x[index[i][j]][j]`` for ``dim=0`` (and likewise for any dim), shaped like ``index``."""
        x, index = self.check_array("gather", x), self._check_index("gather", index)
        dim = _wrap_dim("gather", dim, x.ndim)
        x1, index1 = _as_1d(x), _as_1d(index)
        if index1.ndim != x1.ndim:
            raise RuntimeError(f"gather: Index tensor must have the same number of dimensions as input tensor "
                               f"(shapes {index.shape} and {x.shape})")
        for d in range(x1.ndim):
            if d != dim and index1.shape[d] > x1.shape[d]:
                raise RuntimeError(f"gather: Size does not match at dimension {d} expected index {index.shape} "
                                   f"to be smaller than self {x.shape} apart from dimension {dim}")
        out = self.empty(index.shape, x.dtype)
        x_strides = [0 if d == dim else s for d, s in enumerate(x1.strides)]
        out1 = out.with_layout(index1.shape, tuple(1 for _ in index1.shape), out.offset) if out.ndim == 0 else out
        self._gather("gather", x1, index1, out1, x_strides, x1.strides[dim], x1.shape[dim])
        return out

    def index_select(self: "OpenCLBackend", x: CLArray, dim: int, index: CLArray) -> CLArray:
        """Return the entries of ``x`` at positions ``index`` (1-D) along ``dim``."""
        x, index = self.check_array("index_select", x), self._check_index("index_select", index)
        if index.ndim > 1:
            raise IndexError(f"index_select(): Index is supposed to be a vector, got shape {index.shape}")
        dim = _wrap_dim("index_select", dim, x.ndim)
        x1, index1 = _as_1d(x), _as_1d(index)
        shape = x1.shape[:dim] + index1.shape + x1.shape[dim + 1:]
        out = self.empty(shape if x.ndim else index.shape, x.dtype)
        out1 = out.with_layout(shape, (1,), out.offset) if out.ndim == 0 else out
        index_view = index1.with_layout(shape, tuple(index1.strides[0] if d == dim else 0 for d in range(len(shape))),
                                        index1.offset)
        x_strides = [0 if d == dim else s for d, s in enumerate(x1.strides)]
        self._gather("index_select", x1, index_view, out1, x_strides, x1.strides[dim], x1.shape[dim])
        return out

    def take(self: "OpenCLBackend", x: CLArray, index: CLArray) -> CLArray:
        """Return ``x`` read as a flat C-order array at ``index``, shaped like ``index``."""
        x, index = self.check_array("take", x), self._check_index("take", index)
        flat = self.contiguous(x)
        out = self.empty(index.shape, x.dtype)
        self._gather("take", flat, index, out, [0] * index.ndim, 1, x.size)
        return out

    def scatter(self: "OpenCLBackend", x: CLArray, dim: int, index: CLArray, src: Any) -> CLArray:
        """Return a copy of ``x`` with ``out[index[i][j]][j] = src[i][j]`` for ``dim=0`` (any dim alike).

        ``src`` may be a Python scalar. With repeated indices the last entry
        along ``dim`` wins.
        """
        return self._scatter("scatter", x, dim, index, src, accumulate=False)

    def index_add(self: "OpenCLBackend", x: CLArray, dim: int, index: CLArray, source: CLArray, alpha: Any) -> CLArray:
        """Return a copy of ``x`` with ``alpha * source[..., i, ...]`` added at ``x[..., index[i], ...]`` along ``dim``."""
        shape = [1] * source.ndim
        shape[dim] = index.shape[0]
        spread = views.expand(self.reshape(index, tuple(shape)), source.shape)
        values = source if alpha == 1 else self.cast(self.mul(source, alpha), x.dtype)
        return self.scatter_add(x, dim, spread, values)

    def scatter_add(self: "OpenCLBackend", x: CLArray, dim: int, index: CLArray, src: Any) -> CLArray:
        """Return a copy of ``x`` with ``out[index[i][j]][j] += src[i][j]`` for ``dim=0`` (any dim alike).

        Repeated indices add every value, in order, so results are deterministic.
        """
        return self._scatter("scatter_add", x, dim, index, src, accumulate=True)

    def _scatter(self: "OpenCLBackend", op: str, x: CLArray, dim: int, index: CLArray, src: Any,
                 accumulate: bool) -> CLArray:
        x, index = self.check_array(op, x), self._check_index(op, index)
        dim = _wrap_dim(op, dim, x.ndim)
        scalar_source = not isinstance(src, CLArray)
        out = self.clone(x)
        x1, index1, out1 = _as_1d(x), _as_1d(index), _as_1d(out)
        src1 = None if scalar_source else _as_1d(self.check_array(op, src))
        if index1.ndim != x1.ndim or (src1 is not None and src1.ndim != x1.ndim):
            raise RuntimeError(f"{op}: Index tensor must have the same number of dimensions as self tensor "
                               f"(shapes {index.shape} and {x.shape})")
        for d in range(x1.ndim):
            if (d != dim and index1.shape[d] > x1.shape[d]) or (src1 is not None and index1.shape[d] > src1.shape[d]):
                raise RuntimeError(f"{op}: Expected index {index.shape} to be smaller than self {x.shape} apart "
                                   f"from dimension {dim} and to be smaller size than src "
                                   f"{getattr(src, 'shape', ())}")
        if index.size == 0:
            return out
        if x1.shape[dim] == 0:
            raise IndexError(f"{op}: index out of range in self (dim {dim} has size 0)")

        kept = [d for d in range(x1.ndim) if d != dim]
        operands = [out1, index1] + ([] if src1 is None else [src1])
        sizes, strides = coalesce([index1.shape[d] for d in kept], [[o.strides[d] for d in kept] for o in operands])
        key = (op, x.dtype, index.dtype, len(sizes), scalar_source)
        kernel = self.kernel(key, op, lambda: templates.scatter(
            x.dtype, index.dtype, len(sizes), accumulate, scalar_source))
        args: list[Any] = [out1.buffer, np.int64(out1.offset), index1.buffer, np.int64(index1.offset)]
        if src1 is None:
            args.append(kernel_arg(src, x.dtype))
        else:
            if src1.dtype != x.dtype:
                src1 = self.cast(src1, x.dtype)
            args += [src1.buffer, np.int64(src1.offset), np.int64(src1.strides[dim])]
        args += [np.int64(index1.shape[dim]), np.int64(index1.strides[dim]), np.int64(out1.strides[dim]),
                 np.int64(x1.shape[dim]), self._error_flag]
        args += [np.int64(v) for v in sizes] + [np.int64(v) for s in strides for v in s]
        self.clear_error_flag()
        global_size, local_size = self.ndrange(sizes)
        self.launch(op, kernel, global_size, local_size, args)
        if self.read_error_flag():
            raise IndexError(f"{op}: index out of range in self (an index is outside [-{x1.shape[dim]}, "
                             f"{x1.shape[dim]}) along dim {dim})")
        return out

    def masked_fill(self: "OpenCLBackend", x: CLArray, mask: CLArray, value: Any) -> CLArray:
        """Return a copy of ``x`` with ``value`` (a scalar or 0-d array) where ``mask`` (bool) is true."""
        x, mask = self.check_array("masked_fill", x), self.check_array("masked_fill", mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"masked_fill only supports boolean masks, but got mask with dtype {mask.dtype}")
        if broadcast_shapes("masked_fill", x.shape, mask.shape) != x.shape:
            raise RuntimeError(f"masked_fill: the mask of shape {mask.shape} must be broadcastable to the "
                               f"input's shape {x.shape}")
        if isinstance(value, CLArray) and value.ndim != 0:
            raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s)")
        out = self.empty(x.shape, x.dtype)
        return self.map("masked_fill", TERNARY["where"], [mask, value, x], out=out, compute=x.dtype)
