"""Indexing: ``t[index]`` and ``t[index] = value``, with their autograd nodes."""

from __future__ import annotations

import numpy as np

from ._runtime import broadcast_shapes
from ._tensor import Tensor, _wrap


class Index:
    """A normalized index: a tuple of ints, slices, None and backend index arrays."""

    __slots__ = ("items", "advanced")

    def __init__(self, items: tuple, advanced: bool) -> None:
        self.items = items
        self.advanced = advanced

    def __repr__(self) -> str:
        return f"Index({self.items!r})"


def _index_error(index, dim: int, size: int) -> IndexError:
    return IndexError(f"index {index} is out of bounds for dimension {dim} with size {size}")


def normalize_index(t: Tensor, index) -> Index:
    """Check ``index`` against ``t``'s shape and return it as an :class:`Index`."""
    if isinstance(index, Index):
        return index
    items = index if isinstance(index, tuple) else (index,)
    shape = t._data.shape
    backend = t._backend

    # How many dimensions of ``t`` the index consumes, to expand the Ellipsis.
    consumed = 0
    ellipses = 0
    for item in items:
        if item is Ellipsis:
            ellipses += 1
        elif item is None:
            continue
        elif isinstance(item, Tensor) and item._data.dtype.kind == "b":
            consumed += max(item._data.ndim, 1)
        elif isinstance(item, (list, np.ndarray)) and np.asarray(item).dtype.kind == "b":
            consumed += max(np.asarray(item).ndim, 1)
        else:
            consumed += 1
    if ellipses > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")

    result = []
    dim = 0
    advanced = False
    for item in items:
        if item is Ellipsis:
            result.extend([slice(None)] * (len(shape) - consumed))
            dim += len(shape) - consumed
        elif item is None:
            result.append(None)
        elif isinstance(item, bool):
            raise IndexError("indexing with a Python bool is not supported; use a bool Tensor mask")
        elif isinstance(item, (int, np.integer)) or (isinstance(item, Tensor) and item._data.ndim == 0 and item._data.dtype.kind in "iu"):
            value = int(item)
            size = shape[dim]
            if not -size <= value < size:
                raise _index_error(value, dim, size)
            result.append(value + size if value < 0 else value)
            dim += 1
        elif isinstance(item, slice):
            for part in (item.start, item.stop, item.step):
                if part is not None and not isinstance(part, (int, np.integer)):
                    raise TypeError(f"slice indices must be integers or None, got {type(part).__name__}")
            if item.step is not None and item.step <= 0:
                raise ValueError("step must be greater than zero")
            result.append(item)
            dim += 1
        elif isinstance(item, (Tensor, list, np.ndarray)):
            array = _index_array(item, backend)
            advanced = True
            if array.dtype.kind == "b":
                mask_shape = array.shape
                target = shape[dim:dim + len(mask_shape)]
                if tuple(mask_shape) != tuple(target):
                    bad = next(i for i, (m, s) in enumerate(zip(mask_shape, target)) if m != s)
                    raise IndexError(
                        f"The shape of the mask {list(mask_shape)} at index {bad} does not match the shape of the "
                        f"indexed tensor {list(shape)} at index {dim + bad}"
                    )
                dim += max(len(mask_shape), 1)
            else:
                size = shape[dim]
                numpy_index = backend.to_numpy(array)
                if numpy_index.size and (numpy_index.max() >= size or numpy_index.min() < -size):
                    bad = numpy_index.max() if numpy_index.max() >= size else numpy_index.min()
                    raise _index_error(int(bad), dim, size)
                dim += 1
            result.append(array)
        else:
            raise IndexError(
                f"only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
                f"(got {type(item).__name__})"
            )
    return Index(tuple(result), advanced)


def _index_array(item, backend):
    if isinstance(item, Tensor):
        if item._backend is not backend:
            if item.device.type != "numpy":
                raise RuntimeError(
                    f"indices should be either on the CPU ('numpy') or on the same device as the indexed tensor; "
                    f"got indices on {item.device}"
                )
            # Indices on the CPU work with any device, as in PyTorch: copy them over.
            item = _wrap(backend.from_numpy(item._backend.to_numpy(item._data)), backend)
        kind = item._data.dtype.kind
        if kind not in "iub":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return item._data if kind != "u" or item._data.dtype == np.bool_ else backend.cast(item._data, np.dtype(np.int64))
    array = np.asarray(item)
    if array.dtype.kind not in "iub":
        raise IndexError(f"lists used as indices must hold ints or bools, got {array.dtype}")
    if array.dtype.kind in "iu":
        array = array.astype(np.int64)
    return backend.from_numpy(array)


def getitem(self: Tensor, index) -> Tensor:
    """Return ``self[index]``: a view for basic indexing, a copy for advanced indexing."""
    from ._generated._ops import _index_gather, _index_view

    if not isinstance(self, Tensor):
        raise TypeError(f"expected a Tensor to index, got {type(self).__name__}")
    normalized = normalize_index(self, index)
    if normalized.advanced:
        return _index_gather(self, normalized)
    return _index_view(self, normalized)


def setitem(self: Tensor, index, value) -> None:
    """Write ``value`` into ``self[index]`` in place.

    Basic indices copy into the view ``self[index]``, so a recorded history
    becomes ``CopySlices``; advanced indices run ``_index_put_`` on ``self``.
    """
    from ._generated._ops import _index_put_, _index_view

    if not isinstance(self, Tensor):
        raise TypeError(f"expected a Tensor, got {type(self).__name__}")
    normalized = normalize_index(self, index)
    backend = self._backend

    # The value: a Tensor on this device, or a Python number.
    if isinstance(value, Tensor):
        if value._backend is not backend:
            raise RuntimeError(f"setitem: value is on device {value.device}, but the tensor is on {self.device}; move it with .to()")
    elif not isinstance(value, (int, float, bool, np.number)):
        try:
            array = np.asarray(value, dtype=self._data.dtype)
        except (TypeError, ValueError):
            raise TypeError(f"can't assign a {type(value).__name__} to a tensor; use a Tensor or a number") from None
        value = _wrap(backend.from_numpy(array), backend)

    target_shape = backend.getitem(self._data, normalized.items).shape
    if isinstance(value, Tensor):
        try:
            broadcast = broadcast_shapes(target_shape, value._data.shape)
        except RuntimeError:
            broadcast = None
        if broadcast != tuple(target_shape):
            raise RuntimeError(
                f"shape mismatch: value tensor of shape {list(value._data.shape)} cannot be broadcast to indexing "
                f"result of shape {list(target_shape)}"
            )

    if normalized.advanced:
        _index_put_(self, normalized, value)
    else:
        _index_view(self, normalized).copy_(value)
    # Name the change as the user wrote it in later version errors, not by the internal op.
    last_change = self._version_counter[1]
    if last_change is not None:
        self._version_counter[1] = (last_change[0], last_change[1], "setitem (t[index] = value)")


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem
