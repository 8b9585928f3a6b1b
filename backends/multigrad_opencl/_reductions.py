"""Reduction kernels (sum, prod, amax, amin, all, any, argmax, argmin) and scans (cumsum, cumprod)."""

from __future__ import annotations

import math
from math import prod
from typing import TYPE_CHECKING, Sequence

import numpy as np

from . import templates
from .array import CLArray, contiguous_strides, coalesce
from .formulas import BINARY, Formula

if TYPE_CHECKING:
    from .backend import OpenCLBackend

__all__ = ["ReductionKernels"]

_COPY = Formula("x", "x")

#: Split reductions with fewer outputs than this over several work-items per output.
_CHUNK_BELOW_OUTPUTS = 64
#: ... but only when each output reduces at least this many elements.
_CHUNK_ABOVE_ELEMENTS = 8192
#: Work-items to aim for when splitting.
_CHUNK_TARGET_ITEMS = 256


def accumulate_dtype(dtype: np.dtype) -> np.dtype:
    """Return NumPy's result dtype of sum, prod, cumsum and cumprod (small ints widen to 64 bits)."""
    return np.sum(np.zeros(1, dtype)).dtype


def _limit_literal(dtype: np.dtype, lowest: bool) -> str:
    if dtype.kind == "f":
        return "-INFINITY" if lowest else "INFINITY"
    if dtype.kind == "b":
        return "0" if lowest else "1"
    info = np.iinfo(dtype)
    value = int(info.min if lowest else info.max)
    if dtype == np.int64 and lowest:
        return "(-9223372036854775807L - 1)"
    return f"{value}UL" if dtype.kind == "u" else f"{value}L"


def _normalize_dims(op: str, dims: Sequence[int] | int | None, ndim: int) -> list[int]:
    if dims is None or (not isinstance(dims, int) and len(dims) == 0):
        return list(range(ndim))
    if isinstance(dims, int):
        dims = (dims,)
    bound = max(ndim, 1)
    result = []
    for dim in dims:
        if not -bound <= dim < bound:
            raise IndexError(
                f"{op}: Dimension out of range (expected to be in range of [{-bound}, {bound - 1}], but got {dim})")
        dim %= bound
        if dim in result:
            raise RuntimeError(f"{op}: dim {dim} appears multiple times in the list of dims")
        result.append(dim)
    return [d for d in result if d < ndim]


class ReductionKernels:
    """Mixin of OpenCLBackend with reduction and scan kernels."""

    def _reduce(self: "OpenCLBackend", op: str, x: CLArray, dims: Sequence[int] | int | None, keepdim: bool,
                out_dtype: np.dtype, accumulator: np.dtype, init: str) -> CLArray:
        x = self.check_array(op, x)
        self.check_dtype(op, x.dtype, out_dtype)
        reduced_dims = _normalize_dims(op, dims, x.ndim)
        kept_dims = [d for d in range(x.ndim) if d not in reduced_dims]
        if keepdim:
            out_shape = tuple(1 if d in reduced_dims else s for d, s in enumerate(x.shape))
        else:
            out_shape = tuple(x.shape[d] for d in kept_dims)
        outputs = prod(x.shape[d] for d in kept_dims)
        reduced = prod(x.shape[d] for d in reduced_dims)
        if outputs == 0:
            return self.empty(out_shape, out_dtype)
        if reduced == 0:
            if op in ("amax", "amin", "argmax", "argmin"):
                raise RuntimeError(
                    f"{op}(): Expected reduction dim to be specified for input.numel() == 0, or a non-empty "
                    f"reduction; got shape {x.shape} reduced over dims {reduced_dims}, which has no identity")
            return self.full(out_shape, {"sum": 0, "prod": 1, "all": True, "any": False}[op], out_dtype)

        kept_out_strides = contiguous_strides([x.shape[d] for d in kept_dims])
        kept_sizes, (out_strides, x_kept_strides) = coalesce(
            [x.shape[d] for d in kept_dims], [kept_out_strides, [x.strides[d] for d in kept_dims]])
        order = reduced_dims
        if op not in ("argmax", "argmin"):
            # Walk the smallest stride innermost; argmax must keep C order to return flat indices.
            order = sorted(reduced_dims, key=lambda d: -abs(x.strides[d]))
        reduced_sizes, (reduced_strides,) = coalesce([x.shape[d] for d in order], [[x.strides[d] for d in order]])

        chunked = (op not in ("argmax", "argmin") and outputs < _CHUNK_BELOW_OUTPUTS
                   and reduced >= _CHUNK_ABOVE_ELEMENTS and reduced_sizes[0] >= 2)
        if not chunked:
            out = self.empty(out_shape, out_dtype)
            self._launch_reduce(op, x, out, kept_sizes, out_strides, x_kept_strides,
                                reduced_sizes, reduced_strides, accumulator, init, None)
            return out

        # Pass 1 writes one partial result per chunk of reduced dim 0; pass 2 reduces the chunks.
        chunks = min(reduced_sizes[0], max(2, _CHUNK_TARGET_ITEMS // outputs))
        chunk = -(-reduced_sizes[0] // chunks)
        chunks = -(-reduced_sizes[0] // chunk)
        partial_dtype = out_dtype if op != "amax" and op != "amin" else x.dtype
        partial = self.empty((outputs, chunks), partial_dtype)
        self._launch_reduce(op, x, partial, kept_sizes + [chunks], [s * chunks for s in out_strides] + [1],
                            x_kept_strides + [chunk * reduced_strides[0]], reduced_sizes, reduced_strides,
                            accumulator, init, chunk)
        second_op = {"sum": "sum", "prod": "prod", "amax": "amax", "amin": "amin", "all": "all", "any": "any"}[op]
        result = getattr(self, second_op)(partial, (1,), False)
        return result.with_layout(out_shape, contiguous_strides(out_shape), result.offset)

    def _launch_reduce(self: "OpenCLBackend", op: str, x: CLArray, out: CLArray, kept_sizes: list[int],
                       out_strides: list[int], x_strides: list[int], reduced_sizes: list[int],
                       reduced_strides: list[int], accumulator: np.dtype, init: str, chunk: int | None) -> None:
        kept_rank, reduced_rank = len(kept_sizes), len(reduced_sizes)
        key = ("reduce", op, x.dtype, accumulator, out.dtype, kept_rank, reduced_rank, chunk is not None)
        kernel = self.kernel(key, op, lambda: templates.reduction(
            op, x.dtype, accumulator, out.dtype, kept_rank, reduced_rank, chunk is not None, init))
        args = [out.buffer, np.int64(out.offset), x.buffer, np.int64(x.offset)]
        args += [np.int64(v) for v in (*kept_sizes, *out_strides, *x_strides, *reduced_sizes, *reduced_strides)]
        if chunk is not None:
            args.append(np.int64(chunk))
        global_size, local_size = self.ndrange(kept_sizes)
        self.launch(op, kernel, global_size, local_size, args)

    def sum(self: "OpenCLBackend", x: CLArray, dims: Sequence[int] = (), keepdim: bool = False) -> CLArray:
        """Return the sum over ``dims`` (all when empty); ints and bool sum to int64/uint64 as in NumPy."""
        dtype = accumulate_dtype(x.dtype)
        return self._reduce("sum", x, dims, keepdim, dtype, dtype, "(A)0")

    def prod(self: "OpenCLBackend", x: CLArray, dims: Sequence[int] = (), keepdim: bool = False) -> CLArray:
        """Return the product over ``dims`` (all when empty), with NumPy's result dtype."""
        dtype = accumulate_dtype(x.dtype)
        return self._reduce("prod", x, dims, keepdim, dtype, dtype, "(A)1")

    def amax(self: "OpenCLBackend", x: CLArray, dims: Sequence[int] = (), keepdim: bool = False) -> CLArray:
        """Return the maximum over ``dims`` (all when empty); NaN propagates, as in NumPy."""
        return self._reduce("amax", x, dims, keepdim, x.dtype, x.dtype, _limit_literal(x.dtype, lowest=True))

    def amin(self: "OpenCLBackend", x: CLArray, dims: Sequence[int] = (), keepdim: bool = False) -> CLArray:
        """Return the minimum over ``dims`` (all when empty); NaN propagates, as in NumPy."""
        return self._reduce("amin", x, dims, keepdim, x.dtype, x.dtype, _limit_literal(x.dtype, lowest=False))

    def all(self: "OpenCLBackend", x: CLArray, dims: Sequence[int] = (), keepdim: bool = False) -> CLArray:
        """Return whether every element over ``dims`` is nonzero, as bool."""
        return self._reduce("all", x, dims, keepdim, np.dtype(np.bool_), np.dtype(np.bool_), "1")

    def any(self: "OpenCLBackend", x: CLArray, dims: Sequence[int] = (), keepdim: bool = False) -> CLArray:
        """Return whether any element over ``dims`` is nonzero, as bool."""
        return self._reduce("any", x, dims, keepdim, np.dtype(np.bool_), np.dtype(np.bool_), "0")

    def argmax(self: "OpenCLBackend", x: CLArray, dim: int | None = None, keepdim: bool = False) -> CLArray:
        """Return int64 indices of the first maximum along ``dim``, or into the flattened array when None.

        A NaN counts as the maximum, as in NumPy.
        """
        return self._arg_reduce("argmax", x, dim, keepdim)

    def argmin(self: "OpenCLBackend", x: CLArray, dim: int | None = None, keepdim: bool = False) -> CLArray:
        """Return int64 indices of the first minimum along ``dim``, or into the flattened array when None."""
        return self._arg_reduce("argmin", x, dim, keepdim)

    def _arg_reduce(self: "OpenCLBackend", op: str, x: CLArray, dim: int | None, keepdim: bool) -> CLArray:
        index = np.dtype(np.int64)
        if dim is None:
            result = self._reduce(op, x, (), False, index, x.dtype, "(A)0")
            return result.with_layout((1,) * x.ndim, (1,) * x.ndim, result.offset) if keepdim else result
        return self._reduce(op, x, (dim,), keepdim, index, x.dtype, "(A)0")

    def cumsum(self: "OpenCLBackend", x: CLArray, dim: int) -> CLArray:
        """Return the running sum along ``dim``, with NumPy's result dtype (small ints widen)."""
        return self._scan("cumsum", x, dim)

    def cumprod(self: "OpenCLBackend", x: CLArray, dim: int) -> CLArray:
        """Return the running product along ``dim``, with NumPy's result dtype (small ints widen)."""
        return self._scan("cumprod", x, dim)

    def _scan(self: "OpenCLBackend", op: str, x: CLArray, dim: int) -> CLArray:
        x = self.check_array(op, x)
        dtype = accumulate_dtype(x.dtype)
        self.check_dtype(op, x.dtype, dtype)
        (dim,) = _normalize_dims(op, (dim,), x.ndim) or (None,)
        out = self.empty(x.shape, dtype)
        if out.size == 0:
            return out
        if dim is None:  # a 0-d input: its running sum is itself
            self.map(op, _COPY, [x], out=out, compute=dtype)
            return out
        kept = [d for d in range(x.ndim) if d != dim]
        sizes, (out_strides, x_strides) = coalesce(
            [x.shape[d] for d in kept], [[out.strides[d] for d in kept], [x.strides[d] for d in kept]])
        key = ("scan", op, x.dtype, dtype, len(sizes))
        kernel = self.kernel(key, op, lambda: templates.scan(op, x.dtype, dtype, len(sizes)))
        args = [out.buffer, np.int64(out.offset), x.buffer, np.int64(x.offset)]
        args += [np.int64(v) for v in (*sizes, *out_strides, *x_strides)]
        args += [np.int64(x.shape[dim]), np.int64(out.strides[dim]), np.int64(x.strides[dim])]
        global_size, local_size = self.ndrange(sizes)
        self.launch(op, kernel, global_size, local_size, args)
        return out

    def mean(self: "OpenCLBackend", x: CLArray, dims: Sequence[int] = (), keepdim: bool = False) -> CLArray:
        """Return the mean over ``dims`` (all when empty) of a float array; an empty reduction gives NaN."""
        reduced_dims = _normalize_dims("mean", dims, x.ndim)
        count = prod(x.shape[d] for d in reduced_dims)
        total = self.sum(x, dims, keepdim)
        out = self.empty(total.shape, x.dtype)
        return self.map("mean", BINARY["div"], [total, float(count)], out=out, compute=x.dtype)

    def norm(self: "OpenCLBackend", x: CLArray, p: float, dims: Sequence[int] = (), keepdim: bool = False) -> CLArray:
        """Return the vector ``p``-norm over ``dims`` (all when empty), in ``x``'s dtype.

        ``p`` may be any float: 0 counts nonzero elements, inf and -inf take
        the largest and smallest magnitude (0 and inf over no elements).
        """
        magnitude = self.abs(x)
        reduced_dims = _normalize_dims("norm", dims, x.ndim)
        empty = prod(x.shape[d] for d in reduced_dims) == 0
        if p == 2:
            result = self.sqrt(self.sum(self.mul(magnitude, magnitude), dims, keepdim))
        elif p == 1:
            result = self.sum(magnitude, dims, keepdim)
        elif p in (math.inf, -math.inf):
            if empty:
                shape = self.sum(magnitude, dims, keepdim).shape
                return self.full(shape, 0 if p > 0 else math.inf, x.dtype)
            result = (self.amax if p > 0 else self.amin)(magnitude, dims, keepdim)
        elif p == 0:
            result = self.sum(self.ne(magnitude, 0), dims, keepdim)
        else:
            result = self.pow(self.sum(self.pow(magnitude, float(p)), dims, keepdim), 1.0 / p)
        return result if result.dtype == x.dtype else self.cast(result, x.dtype)

    # PyTorch's names for the value reductions.
    max = amax
    min = amin

    def argsort(self: "OpenCLBackend", x: CLArray, dim: int, descending: bool) -> CLArray:
        """Return int64 indices that sort ``x`` along ``dim``, stably; NaN counts as the largest value.

        The sort runs on the device, one work-item per line along ``dim``
        (see ``templates.argsort_rows`` for its cost).
        """
        x = self.check_array("argsort", x)
        if x.ndim == 0:
            return self.zeros((), np.dtype(np.int64))
        # Move dim last and make the lines contiguous rows.
        order = [d for d in range(x.ndim) if d != dim] + [dim]
        moved = self.contiguous(self.permute(x, order))
        n = x.shape[dim]
        rows = moved.size // n if n else 0
        out = self.empty(moved.shape, np.dtype(np.int64))
        if rows and n:
            kernel = self.kernel(("argsort", moved.dtype.str, bool(descending)), "argsort",
                                 lambda: templates.argsort_rows(moved.dtype, bool(descending)))
            global_size, local_size = self.flat_range(rows)
            self.launch("argsort", kernel, global_size, local_size,
                        [out.buffer, moved.buffer, np.int64(rows), np.int64(n)])
        inverse = [0] * x.ndim
        for position, d in enumerate(order):
            inverse[d] = position
        return self.contiguous(self.permute(out, inverse))
