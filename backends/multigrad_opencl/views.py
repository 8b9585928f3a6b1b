"""View kernels: new shape, strides and offset over the same buffer, no data moved.

Each function follows PyTorch's semantics for the op of the same name and
raises its error text where PyTorch has one.
"""

from __future__ import annotations

from math import prod
from typing import Any, Sequence

from .array import CLArray, contiguous_strides

__all__ = [
    "infer_shape", "view", "permute", "transpose", "expand", "squeeze", "unsqueeze",
    "getitem", "as_strided", "diagonal", "view_strides",
]


def infer_shape(shape: Sequence[int], numel: int) -> tuple[int, ...]:
    """Return ``shape`` with a single -1 replaced by the size that keeps ``numel`` elements."""
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    if any(s < 0 for s in shape) or prod(shape) != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def view_strides(x: CLArray, shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """Return strides that show ``x``'s elements in C order as ``shape``, or None if no strides can.

    The dims of ``x`` are split into runs that are contiguous with respect to
    each other; each run can be reshaped freely, but a new dim may not span two runs.
    """
    if x.size == 0 or x.is_contiguous:
        return contiguous_strides(shape)
    old = [(s, st) for s, st in zip(x.shape, x.strides) if s != 1]
    new_strides = [0] * len(shape)
    new_index = len(shape) - 1
    old_index = len(old) - 1
    while old_index >= 0:
        # Collect one contiguous run of old dims, from the innermost outwards.
        run_size, run_stride = old[old_index]
        old_index -= 1
        while old_index >= 0 and old[old_index][1] == old[old_index + 1][1] * old[old_index + 1][0]:
            run_size *= old[old_index][0]
            old_index -= 1
        # Fill new dims from the innermost until they use up the run exactly.
        stride = run_stride
        covered = 1
        while covered < run_size:
            if new_index < 0:
                return None
            size = shape[new_index]
            new_strides[new_index] = stride
            stride *= size
            covered *= size
            new_index -= 1
        if covered != run_size:
            return None
    for i in range(new_index + 1):
        if shape[i] != 1:
            return None
        new_strides[i] = 1
    # Size-1 dims between runs keep whatever stride was left; any value is valid.
    return tuple(new_strides)


def view(x: CLArray, shape: Sequence[int]) -> CLArray:
    """Return ``x`` with a new shape, sharing memory; raise when the layout does not allow it."""
    shape = infer_shape(shape, x.size)
    strides = view_strides(x, shape)
    if strides is None:
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride (shape {x.shape}, "
            f"strides {x.strides} to shape {shape}); use .reshape(...) instead."
        )
    return x.with_layout(shape, strides, x.offset)


def _wrap_dim(dim: int, ndim: int, op: str) -> int:
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(
            f"{op}: Dimension out of range (expected to be in range of [{-bound}, {bound - 1}], but got {dim})"
        )
    return dim % bound


def permute(x: CLArray, dims: Sequence[int]) -> CLArray:
    """Return ``x`` with its dims reordered as ``dims``."""
    dims = [_wrap_dim(int(d), x.ndim, "permute") for d in dims]
    if len(dims) != x.ndim:
        raise RuntimeError(
            f"permute: number of dims don't match in permute (input.dim() = {x.ndim}, len(dims) = {len(dims)})"
        )
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"permute: repeated dim in dims {dims}")
    return x.with_layout(tuple(x.shape[d] for d in dims), tuple(x.strides[d] for d in dims), x.offset)


def transpose(x: CLArray, dim0: int, dim1: int) -> CLArray:
    """Return ``x`` with dims ``dim0`` and ``dim1`` swapped."""
    if x.ndim == 0:
        return x
    order = list(range(x.ndim))
    a, b = _wrap_dim(dim0, x.ndim, "transpose"), _wrap_dim(dim1, x.ndim, "transpose")
    order[a], order[b] = order[b], order[a]
    return permute(x, order)


def expand(x: CLArray, shape: Sequence[int]) -> CLArray:
    """Return ``x`` broadcast to ``shape`` with stride 0 on the new and size-1 dims; -1 keeps a size."""
    shape = tuple(int(s) for s in shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to the "
            f"number of dimensions in the tensor ({x.ndim})"
        )
    sizes, strides = list(shape[:lead]), [0] * lead
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dimension (shape {shape})")
    for size, target, stride in zip(x.shape, shape[lead:], x.strides):
        if target == -1 or target == size:
            sizes.append(size)
            strides.append(stride)
        elif size == 1 and target >= 0:
            sizes.append(target)
            strides.append(0)
        else:
            raise RuntimeError(
                f"The expanded size of the tensor ({target}) must match the existing size ({size}) at "
                f"non-singleton dimension {len(sizes)}.  Target sizes: {list(shape)}.  Tensor sizes: {list(x.shape)}"
            )
    return x.with_layout(tuple(sizes), tuple(strides), x.offset)


def squeeze(x: CLArray, dims: Sequence[int] | None = None) -> CLArray:
    """Return ``x`` without the size-1 dims among ``dims`` (every size-1 dim when None)."""
    if dims is None:
        drop = {i for i, s in enumerate(x.shape) if s == 1}
    else:
        drop = {i for i in (_wrap_dim(int(d), x.ndim, "squeeze") for d in dims) if x.ndim and x.shape[i] == 1}
    keep = [i for i in range(x.ndim) if i not in drop]
    return x.with_layout(tuple(x.shape[i] for i in keep), tuple(x.strides[i] for i in keep), x.offset)


def unsqueeze(x: CLArray, dim: int) -> CLArray:
    """Return ``x`` with a new size-1 dim inserted at ``dim``."""
    dim = _wrap_dim(dim, x.ndim + 1, "unsqueeze")
    inner = x.strides[dim] * x.shape[dim] if dim < x.ndim else 1
    return x.with_layout(x.shape[:dim] + (1,) + x.shape[dim:], x.strides[:dim] + (inner,) + x.strides[dim:], x.offset)


def as_strided(x: CLArray, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None) -> CLArray:
    """Return a view with the given shape, element strides and storage offset over ``x``'s buffer."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    offset = x.offset if storage_offset is None else int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError(f"as_strided: mismatch in length of strides and shape ({size} and {stride})")
    if any(s < 0 for s in size) or any(s < 0 for s in stride) or offset < 0:
        raise RuntimeError(f"as_strided: negative size, stride or storage offset (size {size}, stride {stride}, "
                           f"offset {offset})")
    result = x.with_layout(size, stride, offset)
    low, high = result.element_span()
    if high * x.dtype.itemsize > x.nbytes_capacity:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset} require "
            f"{high * x.dtype.itemsize} bytes, but the storage has only {x.nbytes_capacity} bytes"
        )
    return result


def diagonal(x: CLArray, offset: int = 0, dim1: int = 0, dim2: int = 1) -> CLArray:
    """Return the diagonal of ``x`` over ``dim1`` and ``dim2`` as a view, appended as the last dim."""
    d1, d2 = _wrap_dim(dim1, x.ndim, "diagonal"), _wrap_dim(dim2, x.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    start = x.offset
    if offset >= 0:
        length = max(min(x.shape[d1], x.shape[d2] - offset), 0)
        start += offset * x.strides[d2] if length else 0
    else:
        length = max(min(x.shape[d1] + offset, x.shape[d2]), 0)
        start -= offset * x.strides[d1] if length else 0
    keep = [i for i in range(x.ndim) if i not in (d1, d2)]
    shape = tuple(x.shape[i] for i in keep) + (length,)
    strides = tuple(x.strides[i] for i in keep) + (x.strides[d1] + x.strides[d2],)
    return x.with_layout(shape, strides, start)


def getitem(x: CLArray, key: Any) -> CLArray:
    """Return the view selected by a basic index: ints, slices with positive steps, None and Ellipsis.

    Integer index arrays are not basic indices; use ``take``, ``index_select``
    or ``gather`` for them.
    """
    if not isinstance(key, tuple):
        key = (key,)
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(1 for k in key if k is not None and k is not Ellipsis)
    if consumed > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    if Ellipsis in key:
        at = key.index(Ellipsis)
        key = key[:at] + (slice(None),) * (x.ndim - consumed) + key[at + 1:]
    else:
        key = key + (slice(None),) * (x.ndim - consumed)

    shape: list[int] = []
    strides: list[int] = []
    offset = x.offset
    dim = 0
    for item in key:
        if item is None:
            shape.append(1)
            strides.append(0)
            continue
        size, stride = x.shape[dim], x.strides[dim]
        if isinstance(item, slice):
            step = 1 if item.step is None else int(item.step)
            if step <= 0:
                raise ValueError(f"step must be greater than zero (got slice step {step})")
            start, stop, step = slice(item.start, item.stop, step).indices(size)
            length = max(0, -(-(stop - start) // step))
            if length:
                offset += start * stride
            shape.append(length)
            strides.append(stride * step)
        elif hasattr(item, "__index__") and not isinstance(item, bool):
            index = item.__index__()
            if not -size <= index < size:
                raise IndexError(f"index {index} is out of bounds for dimension {dim} with size {size}")
            offset += (index % size) * stride
        else:
            raise IndexError(
                f"getitem: unsupported index {item!r} of type {type(item).__name__}; basic indexing accepts "
                f"int, slice, None and Ellipsis (use take, index_select or gather for index arrays)"
            )
        dim += 1
    return x.with_layout(tuple(shape), tuple(strides), offset)
