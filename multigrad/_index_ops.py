"""Hand-written forwards of indexing ops: gather and scatter, index_add, masks, index_select, nonzero."""

from __future__ import annotations

from . import _dtype
from ._tensor import Tensor, _wrap_dim


def _check_tensor(t, op: str, position: int = 1, name: str = "input") -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not {type(t).__name__}")


def _check_index(self: Tensor, dim: int, index: Tensor, op: str, other: Tensor | None = None) -> None:
    """Check an index tensor of gather/scatter against self (and src): dtype, rank, sizes and range."""
    _check_tensor(index, op, 3, "index")
    if index._data.dtype != _dtype.int64.np:
        raise RuntimeError(f"{op}(): Expected dtype int64 for index")
    ndim = max(self._data.ndim, 1)
    if max(index._data.ndim, 1) != ndim and index.numel() != 0:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    self_shape = self._data.shape or (1,)
    index_shape = index._data.shape or (1,)
    for d in range(ndim):
        if d != dim and index.numel() and index_shape[d] > self_shape[d]:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(index._data.shape)} to be no larger than "
                f"self {list(self._data.shape)} apart from dimension {dim}"
            )
        if other is not None and index.numel() and index_shape[d] > (other._data.shape or (1,))[d]:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(index._data.shape)} to be no larger than "
                f"src {list(other._data.shape)}"
            )
    values = index._backend.to_numpy(index._data)
    if values.size:
        size = self_shape[dim]
        low, high = int(values.min()), int(values.max())
        if low < -size or high >= size:
            bad = high if high >= size else low
            raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
        if low < 0:
            raise RuntimeError(f"{op}(): negative index {low} is not supported; gather and scatter take indices in [0, {size})")


def _flat(t: Tensor) -> Tensor:
    """Return a 0-d tensor as 1-D, the shape the NumPy kernels index."""
    return t.reshape(1) if t._data.ndim == 0 else t


def gather(self, dim, index):
    from ._generated._ops import _gather

    _check_tensor(self, "gather")
    dim = _wrap_dim(dim, self._data.ndim)
    _check_index(self, dim, index, "gather")
    if self._data.ndim == 0 or index._data.ndim == 0:
        return _gather(_flat(self), dim, _flat(index)).reshape(index._data.shape)
    return _gather(self, dim, index)


def scatter(self, dim, index, src=None, value=None, reduce=None):
    """scatter(dim, index, src) with a tensor src, or scatter(dim, index, value) with a number."""
    from ._generated._ops import _scatter, _scatter_value

    _check_tensor(self, "scatter")
    if reduce is not None:
        raise NotImplementedError("scatter(): the reduce argument is not supported; use scatter_add or index ops")
    if src is not None and value is not None:
        raise TypeError("scatter(): pass either src or value, not both")
    if src is None and value is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    dim = _wrap_dim(dim, self._data.ndim)
    if isinstance(src, Tensor):
        _check_index(self, dim, index, "scatter", src)
        if src._data.dtype != self._data.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        return _scatter(self, dim, index, src)
    value = value if src is None else src
    _check_index(self, dim, index, "scatter")
    return _scatter_value(self, dim, index, value)


def scatter_add(self, dim, index, src):
    from ._generated._ops import _scatter_add

    _check_tensor(self, "scatter_add")
    _check_tensor(src, "scatter_add", 4, "src")
    dim = _wrap_dim(dim, self._data.ndim)
    _check_index(self, dim, index, "scatter_add", src)
    if src._data.dtype != self._data.dtype:
        raise RuntimeError("scatter_add(): Expected self.dtype to be equal to src.dtype")
    return _scatter_add(self, dim, index, src)


def index_select(self, dim, index):
    from ._generated._ops import _index_gather
    from ._indexing import normalize_index

    _check_tensor(self, "index_select")
    _check_tensor(index, "index_select", 3, "index")
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index._data.dtype.kind not in "iu" or index._data.dtype == _dtype.bool_.np:
        raise RuntimeError(f"index_select(): Expected dtype int32/int64 for index but got: {index.dtype!r}")
    if self._data.ndim == 0:
        return _index_gather(self.reshape(1), normalize_index(self.reshape(1), index.reshape(-1))).reshape(())
    dim = _wrap_dim(dim, self._data.ndim)
    items = (slice(None),) * dim + (index.reshape(-1),)
    values = index._backend.to_numpy(index._data)
    if values.size and (values.min() < 0 or values.max() >= self._data.shape[dim]):
        bad = values.min() if values.min() < 0 else values.max()
        raise IndexError(f"index out of range in self: index {int(bad)} is out of bounds for dimension {dim} with size {self._data.shape[dim]}")
    return _index_gather(self, normalize_index(self, items))


def index_add(self, dim, index, source, *, alpha=1):
    """Check index_add's arguments with PyTorch's messages, then add with the ``_index_add`` primitive."""
    from ._generated._ops import _index_add
    from ._runtime import _LEGACY_NAMES_BY_DTYPE as legacy

    _check_tensor(self, "index_add")
    _check_tensor(index, "index_add", 3, "index")
    _check_tensor(source, "index_add", 4, "source")
    dim = _wrap_dim(dim, self._data.ndim)
    if index._data.ndim > 1:
        raise IndexError(
            f"index_add_(): Index is supposed to be a vector, but got dim: {index._data.ndim} with type: "
            f"{legacy.get(index.dtype, index.dtype.name)} and size: {list(index._data.shape)}"
        )
    if index._data.dtype not in (_dtype.int64.np, _dtype.int32.np):
        raise RuntimeError(
            f"index_add_(): Expected dtype int32/int64 for index but got: {legacy.get(index.dtype, index.dtype.name)}"
        )
    if source._data.dtype != self._data.dtype:
        raise RuntimeError(
            f"index_add_(): self ({legacy.get(self.dtype, self.dtype.name)}) and source "
            f"({legacy.get(source.dtype, source.dtype.name)}) must have the same scalar type"
        )
    # A 0-d self counts as one element along dim 0, and so does a 0-d source added to it.
    self_shape, source_shape = self._data.shape, source._data.shape
    if not self_shape:
        self_shape, source_shape = (1,), source_shape or (1,)
    count = index.numel()
    source_size = source_shape[dim] if dim < len(source_shape) else 1
    if count != source_size:
        raise RuntimeError(
            f"index_add_(): Number of indices ({count}) should be equal to source.size(dim): ({source_size}), "
            f"for dim: {dim}"
        )
    if len(source_shape) != len(self_shape) or any(
            a != b for d, (a, b) in enumerate(zip(self_shape, source_shape)) if d != dim):
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified dimension. Got "
            f"self.shape = {list(self._data.shape)} source.shape = {list(source._data.shape)}"
        )
    values = index._backend.to_numpy(index._data)
    if values.size and (values.min() < 0 or values.max() >= self_shape[dim]):
        bad = int(values.min() if values.min() < 0 else values.max())
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {self_shape[dim]}")
    if not self._data.shape:
        return _index_add(self.reshape(1), 0, index.reshape(1), source.reshape(1), alpha).reshape(())
    return _index_add(self, dim, index.reshape(-1), source.reshape(source_shape), alpha)


def masked_fill(self, mask, value):
    """where(mask, value, self), keeping self's dtype; a 0-d tensor value receives gradient."""
    from ._generated._ops import where

    _check_tensor(self, "masked_fill")
    _check_tensor(mask, "masked_fill", 2, "mask")
    if mask._data.dtype != _dtype.bool_.np:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask._data.dtype}")
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(
                f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value._data.ndim} dimension(s)."
            )
        if value.dtype is not self.dtype:
            value = value.to(self.dtype)
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"masked_fill(): argument 'value' must be a number or a 0-d Tensor, not {type(value).__name__}")
    elif self._data.dtype.kind in "iu":
        value = int(value)
    elif self._data.dtype.kind == "b":
        value = bool(value)
    return where(mask, value, self)


def masked_select(self, mask):
    from ._generated._ops import _index_gather
    from ._indexing import normalize_index
    from ._runtime import broadcast_shapes

    _check_tensor(self, "masked_select")
    _check_tensor(mask, "masked_select", 2, "mask")
    if mask._data.dtype != _dtype.bool_.np:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = broadcast_shapes(self._data.shape, mask._data.shape)
    expanded = self.expand(shape) if self._data.shape != shape else self
    mask = mask.expand(shape) if mask._data.shape != shape else mask
    if not shape:
        expanded, mask = expanded.reshape(1), mask.reshape(1)
    return _index_gather(expanded, normalize_index(expanded, mask))


def take_along_dim(self, indices, dim=None):
    from ._runtime import broadcast_shapes

    _check_tensor(self, "take_along_dim")
    _check_tensor(indices, "take_along_dim", 2, "indices")
    if indices._data.dtype.kind not in "iu":
        raise RuntimeError("take_along_dim(): dtype of indices should be Long but got " + repr(indices.dtype))
    if dim is None:
        return gather(self.reshape(-1), 0, indices.reshape(-1).long())
    if self._data.ndim != indices._data.ndim:
        raise RuntimeError(
            f"take_along_dim(): input and indices should have the same number of dimensions, but got "
            f"{self._data.ndim} dimensions for input, and {indices._data.ndim} dimensions for indices"
        )
    dim = _wrap_dim(dim, self._data.ndim)
    self_shape = list(self._data.shape)
    index_shape = list(indices._data.shape)
    self_shape[dim] = index_shape[dim] = 1
    common = list(broadcast_shapes(tuple(self_shape), tuple(index_shape)))
    source_shape, target_shape = list(common), list(common)
    source_shape[dim] = self._data.shape[dim]
    target_shape[dim] = indices._data.shape[dim]
    source = self.expand(tuple(source_shape)) if tuple(source_shape) != self._data.shape else self
    index = indices.expand(tuple(target_shape)) if tuple(target_shape) != indices._data.shape else indices
    return gather(source, dim, index.long())


def nonzero(self, as_tuple=False):
    from ._generated._ops import _nonzero

    _check_tensor(self, "nonzero")
    rows = _nonzero(self)
    if not as_tuple:
        return rows
    if self._data.ndim == 0:
        return (_count_index(rows),)
    return tuple(rows[:, i].contiguous() for i in range(self._data.ndim))


def _count_index(rows: Tensor) -> Tensor:
    """Return the as_tuple result of a 0-d input: zeros, one per nonzero (0 or 1)."""
    from ._creation import zeros

    return zeros(rows._data.shape[0], dtype=_dtype.int64, device=rows.device)
