"""Shape and indexing kernels: advanced getitem/setitem, index_backward, cat, flip, roll, tril, nonzero.

Advanced indexing follows NumPy's rules. Bool masks become the int64
coordinates of their true elements (``nonzero``), ints next to index arrays
count as 0-d index arrays, and every index array is broadcast to one shape B.
The basic items select a view V; each entry of B is turned into one element
offset into V's buffer (``linear``), and one gather or scatter kernel moves the
data. The dims of B replace the indexed dims in place when the index arrays
are adjacent, and come first otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from . import templates, views
from ._cl import kernel_arg
from .array import CLArray, broadcast_shapes, coalesce, contiguous_strides

if TYPE_CHECKING:
    from .backend import OpenCLBackend

__all__ = ["ShapeKernels"]

_INT64 = np.dtype(np.int64)


@dataclass
class _AdvancedIndex:
    """An index with index arrays, resolved against one array."""

    view: CLArray                 # the array selected by the basic items
    linear: CLArray               # int64, shape B: element offsets into view's buffer, relative to view.offset
    result_shape: tuple[int, ...]
    index_dims: list[int]         # where B's dims sit in the result
    rest_dims: list[int]          # where view's remaining dims sit in the result
    rest_strides: list[int]       # view's strides for those dims


def _has_index_array(items: tuple) -> bool:
    return any(isinstance(item, CLArray) for item in items)


def _expand_ellipsis(items: tuple, ndim: int) -> tuple:
    consumed = 0
    for item in items:
        if isinstance(item, CLArray) and item.dtype == np.bool_:
            consumed += item.ndim
        elif item is not None and item is not Ellipsis:
            consumed += 1
    if Ellipsis not in items:
        return items
    at = items.index(Ellipsis)
    return items[:at] + (slice(None),) * (ndim - consumed) + items[at + 1:]


class ShapeKernels:
    """Mixin of OpenCLBackend with indexing and shape kernels."""

    # -- layout queries ------------------------------------------------------

    def can_view(self: "OpenCLBackend", x: CLArray, shape: Sequence[int]) -> bool:
        """Return whether ``x`` can be viewed as ``shape`` without copying."""
        return views.view_strides(x, tuple(int(s) for s in shape)) is not None

    def is_contiguous(self: "OpenCLBackend", x: CLArray) -> bool:
        """Return whether ``x`` is laid out in C order without gaps."""
        return x.is_contiguous

    def element_strides(self: "OpenCLBackend", x: CLArray) -> tuple[int, ...]:
        """Return the strides of ``x`` in elements."""
        return x.strides

    # -- indexing --------------------------------------------------------------

    def getitem(self: "OpenCLBackend", x: CLArray, items: Any) -> CLArray:
        """Return ``x[items]``: a view for basic items, a new array when ``items`` contains index arrays.

        ``items`` is a tuple of ints, slices, None, Ellipsis and int64 or bool
        CLArrays (a single item is accepted too).
        """
        items = items if isinstance(items, tuple) else (items,)
        if not _has_index_array(items):
            return views.getitem(x, items)
        index = self._resolve_index(x, items)
        out = self.empty(index.result_shape, x.dtype)
        if out.size == 0:
            return out
        index_strides = [0] * len(index.result_shape)
        for dim, stride in zip(index.index_dims, contiguous_strides(index.linear.shape)):
            index_strides[dim] = stride
        source_strides = [0] * len(index.result_shape)
        for dim, stride in zip(index.rest_dims, index.rest_strides):
            source_strides[dim] = stride
        linear = index.linear.with_layout(index.result_shape, tuple(index_strides), index.linear.offset)
        capacity = x.nbytes_capacity // x.dtype.itemsize
        return self._gather("getitem", index.view, linear, out, source_strides, 1, capacity)

    def setitem(self: "OpenCLBackend", x: CLArray, items: Any, value: Any) -> None:
        """Write ``value`` (a scalar, or an array broadcastable to ``x[items]``) into ``x[items]`` in place.

        With repeated indices the last value in C order wins.
        """
        items = items if isinstance(items, tuple) else (items,)
        if not _has_index_array(items):
            self.assign(views.getitem(x, items), value)
            return
        self._scatter_index("setitem", x, items, value, accumulate=False)

    def index_put(self: "OpenCLBackend", x: CLArray, items: tuple, values: Any) -> CLArray:
        """Return a copy of ``x`` with ``values`` written at ``[items]``."""
        out = self.clone(x)
        self.setitem(out, items, values)
        return out

    def index_backward(self: "OpenCLBackend", grad: CLArray, shape: Sequence[int], items: tuple) -> CLArray:
        """Return zeros of ``shape`` with ``grad`` added at ``[items]``; repeated indices add up."""
        out = self.full(tuple(shape), 0, grad.dtype)
        if not _has_index_array(items):
            self.assign(views.getitem(out, items), grad)
            return out
        self._scatter_index("index_backward", out, items, grad, accumulate=True)
        return out

    def _resolve_index(self: "OpenCLBackend", x: CLArray, items: tuple) -> _AdvancedIndex:
        items = _expand_ellipsis(items, x.ndim)

        # Bool masks become one int64 coordinate array per dim they cover; ints become 0-d arrays.
        resolved: list[Any] = []
        for item in items:
            if isinstance(item, CLArray) and item.dtype == np.bool_:
                if item.ndim == 0:
                    raise IndexError("getitem: a 0-d bool index is not supported on OpenCL; use a 1-d mask")
                coordinates = self.nonzero(item)
                count = coordinates.shape[0]
                for d in range(item.ndim):
                    resolved.append(coordinates.with_layout((count,), (item.ndim,), coordinates.offset + d))
            elif isinstance(item, CLArray):
                if item.dtype.kind not in "iu":
                    raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, got {item.dtype}")
                resolved.append(item)
            elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
                resolved.append(self.from_numpy(np.array(int(item), _INT64)))
            else:
                resolved.append(item)

        # The basic view keeps a full slice where each index array goes.
        basic = tuple(slice(None) if isinstance(item, CLArray) else item for item in resolved)
        view = views.getitem(x, basic)
        positions, view_dims, dim = [], [], 0
        for k, item in enumerate(resolved):
            if isinstance(item, CLArray):
                positions.append(k)
                view_dims.append(dim)
            dim += 1

        arrays = [resolved[k] for k in positions]
        shape = broadcast_shapes("getitem", *[a.shape for a in arrays])
        linear = self.full(shape, 0, _INT64)
        for array, view_dim in zip(arrays, view_dims):
            size = view.shape[view_dim]
            array = array if array.dtype == _INT64 else self.cast(array, _INT64)
            bad = self.any(self.logical_or(self.ge(array, size), self.lt(array, -size)))
            if self.to_numpy(bad).item():
                raise IndexError(f"index out of range: an index is outside [{-size}, {size}) for dimension "
                                 f"{view_dim} with size {size}")
            wrapped = self.where(self.lt(array, 0), self.add(array, size), array)
            linear = self.add(linear, self.mul(wrapped, view.strides[view_dim]))

        adjacent = positions == list(range(positions[0], positions[-1] + 1))
        rest = [d for d in range(view.ndim) if d not in view_dims]
        if adjacent:
            before = [d for d in rest if d < view_dims[0]]
            after = [d for d in rest if d > view_dims[-1]]
            index_dims = list(range(len(before), len(before) + len(shape)))
            rest_dims = list(range(len(before))) + [len(before) + len(shape) + i for i in range(len(after))]
        else:
            index_dims = list(range(len(shape)))
            rest_dims = [len(shape) + i for i in range(len(rest))]
        result_shape = [0] * (len(shape) + len(rest))
        for dim, size in zip(index_dims, shape):
            result_shape[dim] = size
        for dim, d in zip(rest_dims, rest):
            result_shape[dim] = view.shape[d]
        return _AdvancedIndex(view, linear, tuple(result_shape), index_dims, rest_dims,
                              [view.strides[d] for d in rest])

    def _scatter_index(self: "OpenCLBackend", op: str, x: CLArray, items: tuple, value: Any, accumulate: bool) -> None:
        """Write or add ``value`` at the advanced index ``items`` of ``x``, one work-item per line of the rest dims.

        Each work-item walks every entry of B in C order, so repeated indices
        never race: the last write wins, or every value is added in order.
        """
        index = self._resolve_index(x, items)
        count = index.linear.size
        if count == 0 or prod(index.result_shape) == 0:
            return
        scalar_source = not isinstance(value, CLArray)
        source = None
        if not scalar_source:
            value = self.check_array(op, value)
            if broadcast_shapes(op, index.result_shape, value.shape) != index.result_shape:
                raise RuntimeError(f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast "
                                   f"to indexing result of shape {list(index.result_shape)}")
            # A contiguous copy in x's dtype: B's dims are adjacent in it, so they flatten to one stride.
            source = self.empty(index.result_shape, x.dtype)
            self.assign(source, views.expand(value, index.result_shape))

        rest_sizes = [index.result_shape[d] for d in index.rest_dims]
        stride_lists = [index.rest_strides, [0] * len(rest_sizes)]
        if source is not None:
            stride_lists.append([source.strides[d] for d in index.rest_dims])
        sizes, strides = coalesce(rest_sizes, stride_lists) if rest_sizes else ([], [[] for _ in stride_lists])
        linear = index.linear if index.linear.is_contiguous else self.clone(index.linear)

        key = (op, "flat", x.dtype, len(sizes), accumulate, scalar_source)
        kernel = self.kernel(key, op, lambda: templates.scatter(x.dtype, _INT64, len(sizes), accumulate, scalar_source))
        args: list[Any] = [index.view.buffer, np.int64(index.view.offset), linear.buffer, np.int64(linear.offset)]
        if scalar_source:
            args.append(kernel_arg(value, x.dtype))
        else:
            step_source = source.strides[index.index_dims[-1]] if index.index_dims else 0
            args += [source.buffer, np.int64(source.offset), np.int64(step_source)]
        capacity = x.nbytes_capacity // x.dtype.itemsize
        args += [np.int64(count), np.int64(1), np.int64(1), np.int64(capacity), self._error_flag]
        args += [np.int64(v) for v in sizes] + [np.int64(v) for s in strides for v in s]
        global_size, local_size = self.ndrange(sizes)
        self.launch(op, kernel, global_size, local_size, args)

    def nonzero(self: "OpenCLBackend", x: CLArray) -> CLArray:
        """Return the int64 coordinates of the nonzero elements of ``x``, shape (count, ndim), in C order."""
        x = self.check_array("nonzero", x)
        # A fresh contiguous mask (offset 0), which the kernel reads by flat index.
        mask = self.clone(x) if x.dtype == np.bool_ else self.ne(x, 0)
        if x.ndim == 0:
            count = int(bool(self.to_numpy(mask).item()))
            return self.empty((count, 0), _INT64)
        if mask.size == 0:
            return self.empty((0, x.ndim), _INT64)
        flat = mask.with_layout((mask.size,), (1,), mask.offset)
        position = self.cumsum(flat, 0)
        count = int(self.to_numpy(views.getitem(position, (mask.size - 1,))).item())
        out = self.empty((count, x.ndim), _INT64)
        if count == 0:
            return out
        kernel = self.kernel(("nonzero", x.ndim), "nonzero", lambda: templates.nonzero(x.ndim))
        global_size, local_size = self.flat_range(mask.size)
        args = [out.buffer, flat.buffer, position.buffer, np.int64(mask.size)] + [np.int64(s) for s in x.shape]
        self.launch("nonzero", kernel, global_size, local_size, args)
        return out

    # -- shape ops ---------------------------------------------------------------

    def cat(self: "OpenCLBackend", arrays: Sequence[CLArray], dim: int) -> CLArray:
        """Return ``arrays`` joined along ``dim``; the dtype is their NumPy result type."""
        arrays = [self.check_array("cat", a) for a in arrays]
        if not arrays:
            raise ValueError("cat: expected a non-empty list of arrays")
        first = arrays[0]
        for a in arrays[1:]:
            if a.ndim != first.ndim or any(s != t for d, (s, t) in enumerate(zip(a.shape, first.shape)) if d != dim):
                raise RuntimeError(f"cat: sizes of tensors must match except in dimension {dim}, got shapes "
                                   f"{list(first.shape)} and {list(a.shape)}")
        size = sum(a.shape[dim] for a in arrays)
        out = self.empty(first.shape[:dim] + (size,) + first.shape[dim + 1:], np.result_type(*[a.dtype for a in arrays]))
        start = 0
        for a in arrays:
            part = (slice(None),) * dim + (slice(start, start + a.shape[dim]),)
            self.assign(views.getitem(out, part), a)
            start += a.shape[dim]
        return out

    def flip(self: "OpenCLBackend", x: CLArray, dims: Sequence[int]) -> CLArray:
        """Return a copy of ``x`` with the order of elements reversed along ``dims``."""
        strides, offset = list(x.strides), x.offset
        for d in dims:
            if x.shape[d] > 0:
                offset += (x.shape[d] - 1) * x.strides[d]
            strides[d] = -x.strides[d]
        return self.clone(x.with_layout(x.shape, tuple(strides), offset))

    def roll(self: "OpenCLBackend", x: CLArray, shifts: Sequence[int], dims: Sequence[int] | None) -> CLArray:
        """Return ``x`` with elements shifted along ``dims`` (flattened when ``dims`` is empty), wrapping around."""
        shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
        dims = () if dims is None else ((dims,) if isinstance(dims, (int, np.integer)) else tuple(dims))
        if not dims:
            flat = self.contiguous(x)
            flat = flat.with_layout((x.size,), (1,), flat.offset)
            rolled = self.roll(flat, (sum(shifts),), (0,))
            return rolled.with_layout(x.shape, contiguous_strides(x.shape), rolled.offset)
        result = x
        for shift, dim in zip(shifts, dims):
            size = result.shape[dim]
            shift = shift % size if size else 0
            if not shift:
                continue
            lead = (slice(None),) * dim
            tail = views.getitem(result, lead + (slice(size - shift, None),))
            head = views.getitem(result, lead + (slice(0, size - shift),))
            result = self.cat([tail, head], dim)
        return self.clone(result) if result is x else result

    def tril(self: "OpenCLBackend", x: CLArray, diagonal: int) -> CLArray:
        """Return ``x`` with the elements above the ``diagonal``-th diagonal of its last two dims set to 0."""
        return self.where(self._diagonal_mask(x, diagonal, lower=True), x, 0)

    def triu(self: "OpenCLBackend", x: CLArray, diagonal: int) -> CLArray:
        """Return ``x`` with the elements below the ``diagonal``-th diagonal of its last two dims set to 0."""
        return self.where(self._diagonal_mask(x, diagonal, lower=False), x, 0)

    def _diagonal_mask(self: "OpenCLBackend", x: CLArray, diagonal: int, lower: bool) -> CLArray:
        rows, cols = x.shape[-2:]
        row = self.arange(0, rows, 1, _INT64)
        col = self.arange(0, cols, 1, _INT64)
        offset = self.sub(col.with_layout((1, cols), (0, 1), col.offset), row.with_layout((rows, 1), (1, 0), row.offset))
        return self.le(offset, diagonal) if lower else self.ge(offset, diagonal)

    def diagonal_backward(self: "OpenCLBackend", grad: CLArray, shape: Sequence[int], offset: int,
                          dim1: int, dim2: int) -> CLArray:
        """Return zeros of ``shape`` with ``grad`` written on the diagonal that ``diagonal`` selects."""
        out = self.full(tuple(shape), 0, grad.dtype)
        self.assign(views.diagonal(out, offset, dim1, dim2), grad)
        return out
