"""Hand-written forwards of shape and movement ops: views, tiling, joining and splitting.

Views are built from the view primitives (``_view``, ``_index_view``,
``permute``, ``_expand``), so they share memory and version counter with
their input. ``cat`` carries its own Node because its input is a list of
tensors, which generated primitives do not take.
"""

from __future__ import annotations

from . import _dtype
from ._grad_mode import GRAD_STATE
from ._node import Node, _sequence, edge
from ._runtime import dims_arg, shape_arg
from ._tensor import Tensor, _wrap, _wrap_dim
from ._views import mark_multi_output_views


def _check_tensor(t, op: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(t).__name__}")


def _check_int(value, op: str, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")


# -- views that add or remove size-1 dimensions ------------------------------------

def squeeze(self, dim=None):
    from ._generated._ops import _view

    _check_tensor(self, "squeeze")
    shape = self._data.shape
    dims = set(range(len(shape))) if dim is None else set(dims_arg(dim, len(shape), "squeeze"))
    if dim is not None and not shape:
        dims = set()
    return _view(self, tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1)))


def unsqueeze(self, dim):
    from ._generated._ops import _view

    _check_tensor(self, "unsqueeze")
    _check_int(dim, "unsqueeze", "dim")
    shape = self._data.shape
    dim = _wrap_dim(dim, len(shape) + 1)
    return _view(self, shape[:dim] + (1,) + shape[dim:])


def unflatten(self, dim, sizes):
    from ._composites import _infer_shape, reshape

    _check_tensor(self, "unflatten")
    shape = self._data.shape
    dim = _wrap_dim(dim, len(shape))
    sizes = tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        sizes = _infer_shape(sizes, shape[dim])
    except RuntimeError:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} ({shape[dim]}) in the input tensor"
        ) from None
    return reshape(self, shape[:dim] + sizes + shape[dim + 1:])


def expand_as(self, other):
    _check_tensor(other, "expand_as")
    return self.expand(other._data.shape)


def broadcast_to(self, *size):
    _check_tensor(self, "broadcast_to")
    return self.expand(shape_arg(size, "broadcast_to", "size"))


def movedim(self, source, destination):
    from ._generated._ops import permute

    _check_tensor(self, "movedim")
    ndim = self._data.ndim
    source = (source,) if isinstance(source, int) else tuple(source)
    destination = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(source) != len(destination):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(source)} dims) should contain the same "
            f"number of dims as destination ({list(destination)} dims)"
        )
    source = dims_arg(source, ndim, "movedim")
    destination = dims_arg(destination, ndim, "movedim")
    order = [None] * ndim
    for s, d in zip(source, destination):
        order[d] = s
    rest = iter(d for d in range(ndim) if d not in source)
    order = [next(rest) if o is None else o for o in order]
    return permute(self, tuple(order))


# -- copies: tile, flip, roll ---------------------------------------------------------

def repeat(self, *repeats):
    """Tile by reshaping to (1, s0, 1, s1, ...), expanding to (r0, s0, r1, s1, ...) and merging pairs."""
    from ._composites import reshape

    _check_tensor(self, "repeat")
    repeats = shape_arg(repeats, "repeat", "repeats")
    shape = self._data.shape
    if len(repeats) < len(shape):
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    if any(r < 0 for r in repeats):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(repeats)}: {list(repeats)}")
    shape = (1,) * (len(repeats) - len(shape)) + shape
    interleaved, expanded = [], []
    for r, s in zip(repeats, shape):
        interleaved += [1, s]
        expanded += [r, s]
    tiled = reshape(self, tuple(interleaved)).expand(tuple(expanded))
    out = reshape(tiled, tuple(r * s for r, s in zip(repeats, shape)))
    # Repeats of one leave nothing to expand, and reshape then returns a view: repeat always copies.
    return out.clone() if out._base is not None else out


def tile(self, *dims):
    _check_tensor(self, "tile")
    dims = shape_arg(dims, "tile", "dims")
    ndim = self._data.ndim
    if len(dims) < ndim:
        dims = (1,) * (ndim - len(dims)) + dims
    return repeat(self, dims)


def flip(self, *dims):
    from ._generated._ops import _flip, clone

    _check_tensor(self, "flip")
    dims = shape_arg(dims, "flip", "dims")
    wrapped = tuple(_wrap_dim(d, self._data.ndim) for d in dims)
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"dims has duplicates, original flip dims size={len(wrapped)}, but unique flip dims size={len(set(wrapped))}")
    if not wrapped or not self._data.ndim:
        return clone(self)
    return _flip(self, wrapped)


def roll(self, shifts, dims=None):
    from ._generated._ops import _roll

    _check_tensor(self, "roll")
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        flat = self.reshape(-1)
        return _roll(flat, shifts, (0,)).view(self._data.shape)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    dims = tuple(_wrap_dim(d, self._data.ndim) for d in dims)
    return _roll(self, shifts, dims)


# -- joining --------------------------------------------------------------------------

class CatBackward0(Node):
    """Backward of cat: each input gets its slice of the gradient, cast back to its dtype."""

    __slots__ = ("dim", "sizes", "dtypes")
    _saved_names = ()

    def apply(node, grads):
        from ._generated._ops import narrow

        grad = grads[0]
        out = []
        offset = 0
        for (next_node, _), size, dtype in zip(node.next_functions, node.sizes, node.dtypes):
            if size is None:
                # A legacy empty 1-D input, which cat skips.
                out.append(None if next_node is None else _empty_grad(grad, dtype))
                continue
            if next_node is None:
                out.append(None)
            else:
                piece = narrow(grad, node.dim, offset, size)
                out.append(piece if piece.dtype is dtype else piece.to(dtype))
            offset += size
        return tuple(out)


def _empty_grad(grad, dtype):
    from ._creation import zeros

    return zeros(0, dtype=dtype, device=grad.device)


def _tensor_list(tensors, op: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not {type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    if not tensors:
        raise RuntimeError(f"{op}(): expected a non-empty list of Tensors")
    return list(tensors)


def cat(tensors, dim=0):
    """Join tensors along an existing dimension; 1-D empty tensors are skipped, as PyTorch does."""
    tensors = _tensor_list(tensors, "cat")
    _check_int(dim, "cat", "dim")
    # Legacy rule: a tensor of shape (0,) joins anything.
    kept = [t for t in tensors if t._data.shape != (0,)] or tensors[:1]
    reference = kept[0]
    ndim = reference._data.ndim
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    dim = _wrap_dim(dim, ndim)
    backend = reference._backend
    kept_ids = {id(t) for t in kept}
    for i, t in enumerate(tensors):
        if t._backend is not backend:
            raise RuntimeError(
                f"Expected all tensors to be on the same device, but found at least two devices, "
                f"{reference.device} and {t.device}! (when checking arguments for cat)"
            )
        if id(t) not in kept_ids:
            continue
        if t._data.ndim != ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ndim} and {t._data.ndim}"
            )
        for d in range(ndim):
            if d != dim and t._data.shape[d] != reference._data.shape[d]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{reference._data.shape[d]} but got size {t._data.shape[d]} for tensor number {i} in the list."
                )

    target = _dtype.result_type(tensors)
    arrays = [t._data if t._data.dtype == target.np else backend.cast(t._data, target.np) for t in kept]
    out = _wrap(backend.cat(arrays, dim), backend)

    if GRAD_STATE.enabled and any(t._requires_grad for t in tensors):
        node = CatBackward0()
        node._seq = next(_sequence)
        node.next_functions = tuple(edge(t) for t in tensors)
        node.dim = dim
        node.sizes = tuple(t._data.shape[dim] if id(t) in kept_ids else None for t in tensors)
        node.dtypes = tuple(t.dtype for t in tensors)
        out._grad_fn = node
        out._requires_grad = True
    return out


def stack(tensors, dim=0):
    tensors = _tensor_list(tensors, "stack")
    _check_int(dim, "stack", "dim")
    first = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and "
                f"{list(t._data.shape)} at entry {i}"
            )
    dim = _wrap_dim(dim, len(first) + 1)
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def cat_pad_one(t, dim, front=True):
    """Return ``t`` with a slice of ones joined before (or after) it along ``dim``."""
    from ._creation import ones

    shape = list(t._data.shape)
    shape[dim] = 1
    pad = ones(tuple(shape), dtype=t.dtype, device=t.device)
    return cat([pad, t] if front else [t, pad], dim)


# -- splitting into views ---------------------------------------------------------------

def narrow(self, dim, start, length):
    from ._generated._ops import _index_view
    from ._indexing import Index

    _check_tensor(self, "narrow")
    for name, value in (("dim", dim), ("start", start), ("length", length)):
        _check_int(value, "narrow", name)
    shape = self._data.shape
    if not shape:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = _wrap_dim(dim, len(shape))
    size = shape[dim]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    items = (slice(None),) * dim + (slice(start, start + length),)
    return _index_view(self, Index(items, False))


def select(self, dim, index):
    from ._generated._ops import _index_view
    from ._indexing import Index

    _check_tensor(self, "select")
    _check_int(dim, "select", "dim")
    _check_int(index, "select", "index")
    shape = self._data.shape
    if not shape:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = _wrap_dim(dim, len(shape))
    size = shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(shape)} at dimension {dim}")
    items = (slice(None),) * dim + (index % size,)
    return _index_view(self, Index(items, False))


def split(self, split_size_or_sections, dim=0):
    _check_tensor(self, "split")
    _check_int(dim, "split", "dim")
    shape = self._data.shape
    dim = _wrap_dim(dim, len(shape))
    size = shape[dim] if shape else 0
    if isinstance(split_size_or_sections, int) and not isinstance(split_size_or_sections, bool):
        step = split_size_or_sections
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
        if step == 0:
            if size != 0:
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
            return (narrow(self, dim, 0, 0),)
        sections = [min(step, size - start) for start in range(0, size, step)] or [0]
    else:
        sections = list(split_size_or_sections)
        if sum(sections) != size or any(s < 0 for s in sections):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at dimension "
                f"{dim}), but got split_sizes={sections}"
            )
    pieces = []
    start = 0
    for length in sections:
        pieces.append(narrow(self, dim, start, length))
        start += length
    mark_multi_output_views(pieces, "Split" if isinstance(split_size_or_sections, int) else "SplitWithSizes")
    return tuple(pieces)


def chunk(self, chunks, dim=0):
    _check_tensor(self, "chunk")
    _check_int(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    shape = self._data.shape
    if not shape:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    size = shape[_wrap_dim(dim, len(shape))]
    step = -(-size // chunks)
    if step == 0:
        return split(self, [0] * chunks, dim)
    return split(self, step, dim)


def unbind(self, dim=0):
    _check_tensor(self, "unbind")
    shape = self._data.shape
    if not shape:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    dim = _wrap_dim(dim, len(shape))
    pieces = tuple(select(self, dim, i) for i in range(shape[dim]))
    mark_multi_output_views(pieces, "Unbind")
    return pieces

