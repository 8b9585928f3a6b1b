"""Hand-written forwards of ops.yaml entries that need control flow.

Each function is named by a ``python:`` field in ops.yaml and builds its
result from other registry ops, so autograd needs nothing more, except
``_to_copy``, which crosses devices and carries its own node.
"""

from __future__ import annotations

from . import _dtype
from ._grad_mode import GRAD_STATE
from ._node import Node, _sequence, edge
from ._runtime import broadcast_shapes, check_inplace, commit_inplace, dim_arg, shape_arg
from ._tensor import Tensor, _wrap, _wrap_dim

# The generated ops import this module, so it refers to them through the module, at call time.
from ._generated import _ops  # noqa: E402


def _check_tensor(t, op: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(t).__name__}")


def reshape(self, *shape):
    """Return ``self`` with another shape: a view when the data allows one, else a copy, as ``torch.reshape``."""
    _check_tensor(self, "reshape")
    shape = shape_arg(shape, "reshape", "shape")
    shape = _infer_shape(shape, self.numel())
    if self._backend.can_view(self._data, shape):
        return _ops._view(self, shape)
    return _ops._unsafe_view(_ops.clone(self), shape)


def view(self, *shape):
    """Return a view with another shape, or raise when the memory layout does not allow one."""
    _check_tensor(self, "view")
    shape = _infer_shape(shape_arg(shape, "view", "shape"), self.numel())
    if not self._backend.can_view(self._data, shape):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans "
            "across two contiguous subspaces). Use .reshape(...) instead."
        )
    return _ops._view(self, shape)


def _infer_shape(shape: tuple, numel: int) -> tuple:
    """Resolve one -1 in ``shape`` and check the element count, with PyTorch's messages."""
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if unknown:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def t(self):
    """Transpose a tensor of at most two dimensions."""
    _check_tensor(self, "t")
    if self._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self._data.ndim}D")
    if self._data.ndim < 2:
        return _ops._view(self, self._data.shape)
    return _ops.transpose(self, 0, 1)


def zero_(self):
    """Fill with zeros in place: fill_(0), recorded as zero_ for the in-place error messages."""
    check_inplace(self, "zero_", (self,))
    return commit_inplace(self, _ops.fill(self, 0), "zero_")


def contiguous(self):
    """Return ``self`` if its memory is contiguous, else a contiguous copy."""
    _check_tensor(self, "contiguous")
    return self if self._backend.is_contiguous(self._data) else _ops.clone(self)


def flatten(self, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim`` to ``end_dim`` into one."""
    _check_tensor(self, "flatten")
    shape = self._data.shape
    if not shape:
        return reshape(self, (1,))
    start, end = dim_arg(start_dim, len(shape), "flatten"), dim_arg(end_dim, len(shape), "flatten")
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    merged = 1
    for s in shape[start:end + 1]:
        merged *= s
    return reshape(self, shape[:start] + (merged,) + shape[end + 1:])


def getitem(self, indices):
    from ._indexing import getitem as index

    return index(self, indices)


def sum_to_size(self, *size):
    from ._formula_helpers import sum_to

    return sum_to(self, shape_arg(size, "sum_to_size", "size"))


class ToCopyBackward0(Node):
    """Backward of a dtype or device conversion: convert the gradient back."""

    __slots__ = ("self_dtype", "self_device")
    _saved_names = ()

    def apply(node, grads):
        return (_to_copy(grads[0], node.self_dtype, node.self_device),)


def _to_copy(self, dtype=None, device=None):
    """Return a copy of ``self`` with another dtype and/or on another device."""
    from ._creation import get_backend

    _check_tensor(self, "to")
    dtype = self.dtype if dtype is None else _dtype.to_dtype(dtype)
    source = self._backend
    target = source if device is None else get_backend(device)
    if not target.supports_dtype(dtype.np):
        raise TypeError(f"to(): dtype {dtype!r} is not supported on device {device}")
    if target is source:
        data = source.cast(self._data, dtype.np) if self._data.dtype != dtype.np else source.clone(self._data)
    else:
        array = source.to_numpy(self._data)
        data = target.from_numpy(array.astype(dtype.np, copy=False))
    out = _wrap(data, target)
    if GRAD_STATE.enabled and self._requires_grad:
        if not dtype.is_floating_point:
            return out
        node = ToCopyBackward0()
        node._seq = next(_sequence)
        node.next_functions = (edge(self),)
        node.self_dtype = self.dtype
        node.self_device = str(self.device)
        out._grad_fn = node
        out._requires_grad = True
    return out


def div(self, other, rounding_mode=None):
    if rounding_mode is None:
        return _ops.true_divide(self, other)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")
    _check_integer_divisor(self, other)
    return _ops.div_rounding(self, other, rounding_mode)


def floor_divide(self, other):
    return div(self, other, rounding_mode="floor")


def remainder(self, other):
    _check_integer_divisor(self, other)
    return _ops._remainder(self, other)


def fmod(self, other):
    _check_integer_divisor(self, other)
    return _ops._fmod(self, other)


def _check_integer_divisor(self, other) -> None:
    """Raise PyTorch's ZeroDivisionError for an integer division by zero, which has no defined result."""
    if _dtype.result_type((self, other)).category == _dtype.FLOAT:
        return
    if isinstance(other, Tensor):
        if other._backend.to_numpy(other._data).__eq__(0).any():
            raise RuntimeError("ZeroDivisionError")
    elif other == 0:
        raise RuntimeError("ZeroDivisionError")


def mean(self, dim=None, keepdim=False, dtype=None):
    _check_tensor(self, "mean")
    if dtype is not None:
        self = self.to(_dtype.to_dtype(dtype))
    if self._data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
            f"Got: {_LEGACY.get(self.dtype, self.dtype.name)}"
        )
    return _ops._mean(self, dim, keepdim)


_LEGACY = {_dtype.int64: "Long", _dtype.int32: "Int", _dtype.bool_: "Bool", _dtype.uint8: "Byte", _dtype.int16: "Short", _dtype.int8: "Char"}


def expand(self, *size):
    _check_tensor(self, "expand")
    size = shape_arg(size, "expand", "size")
    shape = self._data.shape
    if len(size) < len(shape):
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(size)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({len(shape)})"
        )
    lead = len(size) - len(shape)
    target = []
    for i, s in enumerate(size):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: the expanded size of the tensor ({s}) isn't allowed in a leading, non-existing dimension {i}")
            target.append(s)
            continue
        existing = shape[i - lead]
        if s == -1:
            s = existing
        if existing != 1 and s != existing:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({existing}) at non-singleton "
                f"dimension {i}.  Target sizes: {list(size)}.  Tensor sizes: {list(shape)}"
            )
        target.append(s)
    return _ops._expand(self, tuple(target))


def matmul(self, other):
    """Check the shapes with PyTorch's messages, then multiply with the ``_matmul`` primitive."""
    _check_tensor(self, "matmul")
    if not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    check_matmul_shapes(self._data.shape, other._data.shape)
    if self._data.dtype != other._data.dtype:
        # PyTorch multiplies matrices of one dtype only; promotion would hide a float64 or int input.
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {self.dtype.name} != {other.dtype.name}; "
            f"convert one with .to(), for example x.to({other.dtype!r})"
        )
    return _ops._matmul(self, other)


def check_matmul_shapes(a: tuple, b: tuple) -> None:
    """Raise PyTorch's error when shapes ``a`` and ``b`` cannot be multiplied by matmul.

    PyTorch (2.x) words each failure in the terms of the kernel it dispatches to.
    1-D @ 1-D is a dot product. A matrix @ 1-D is mv, and a 1-D or 2-D tensor @ 2-D is mm.
    A batched tensor @ 1-D or 2-D folds its batch into rows first. The rest is bmm.
    """
    if len(a) == 0 or len(b) == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {len(a)}D and {len(b)}D")
    k = a[-1]
    if len(a) == 1 and len(b) == 1:
        if k != b[0]:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{k}] and src [{b[0]}] to have the same number of "
                f"elements, but got {k} and {b[0]} elements respectively"
            )
        return
    rows = 1
    for size in a[:-1]:
        rows *= size
    if len(b) == 1:
        if k != b[0]:
            raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{k}), vec ({b[0]})")
        return
    if len(b) == 2:
        if k != b[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and {b[0]}x{b[1]})")
        return


    batch = broadcast_shapes(tuple(a[:-2]), tuple(b[:-2]))
    count = 1
    for size in batch:
        count *= size
    if k != b[-2]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{count}, {k}] but got: [{count}, {b[-2]}]."
        )


def permute(self, *dims):
    """Check ``dims`` with PyTorch's messages, then reorder with the ``_permute`` primitive."""
    _check_tensor(self, "permute")
    dims = shape_arg(dims, "permute", "dims")
    ndim = self._data.ndim
    if len(dims) != ndim:
        # PyTorch 2.x names the sparse_coo overload in this message even for dense tensors.
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the "
            f"desired ordering of dimensions i.e. input.dim() = {ndim} is not equal to len(dims) = {len(dims)}"
        )
    dims = tuple(_wrap_dim(d, ndim) for d in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _ops._permute(self, dims)


# -- device and dtype conversions ---------------------------------------------------


def to(self, *args, device=None, dtype=None, copy=False, non_blocking=False):
    """Return ``self`` on another device and/or with another dtype.

    Accepts ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``
    and the keywords. Returns ``self`` itself when nothing changes and
    ``copy`` is false, as PyTorch does.
    """
    from ._creation import parse_to_args

    _check_tensor(self, "to")
    keywords = {"copy": copy, "non_blocking": non_blocking}
    if device is not None:
        keywords["device"] = device
    if dtype is not None:
        keywords["dtype"] = dtype
    target_device, target_dtype, copy = parse_to_args(self, args, keywords)
    if target_device == self.device and target_dtype is self.dtype and not copy:
        return self
    return _ops._to_copy(self, target_dtype, str(target_device))


def type_as(self, other):
    """Return ``self`` cast to ``other``'s dtype."""
    if not isinstance(other, Tensor):
        raise TypeError(f"type_as(): argument 'other' must be Tensor, not {type(other).__name__}")
    return to(self, other.dtype)


def cast_float(self):
    return to(self, _dtype.float32)


def cast_double(self):
    return to(self, _dtype.float64)


def cast_half(self):
    return to(self, _dtype.float16)


def cast_long(self):
    return to(self, _dtype.int64)


def cast_int(self):
    return to(self, _dtype.int32)


def cast_bool(self):
    return to(self, _dtype.bool_)


def where(condition, self, other):
    """Select from self where condition is true, else from other, after promoting both to one dtype."""
    if not isinstance(condition, Tensor):
        raise TypeError(f"where(): argument 'condition' must be Tensor, not {type(condition).__name__}")
    if condition._data.dtype.kind != "b":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {_LEGACY_FLOAT.get(condition.dtype, condition.dtype.name)}")
    target = _dtype.result_type((self, other))
    if isinstance(self, Tensor) and self.dtype is not target:
        self = self.to(target)
    if isinstance(other, Tensor) and other.dtype is not target:
        other = other.to(target)
    if not isinstance(self, Tensor) and not isinstance(other, Tensor):
        # Two numbers: the result takes the promoted dtype of the numbers, on the condition's device.
        from ._creation import full_like

        self = full_like(condition, self, dtype=target)
    return _ops._where(condition, self, other)


def where_method(self, condition, other):
    """``self.where(condition, other)``: the method form of :func:`where`."""
    return where(condition, self, other)


_LEGACY_FLOAT = {_dtype.float32: "Float", _dtype.float64: "Double", _dtype.float16: "Half", **_LEGACY}


# -- comparisons of whole tensors ---------------------------------------------------


def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise |self - other| <= atol + rtol * |other|, as a bool tensor; equal infinities are close."""
    if not isinstance(self, Tensor) or not isinstance(other, Tensor):
        raise TypeError("isclose(): expected two Tensors")
    if self.dtype is not other.dtype:
        raise RuntimeError(f"{self.dtype.name} did not match {other.dtype.name}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    close = self == other  # also makes equal infinities close
    if self.is_floating_point():
        difference = _ops.abs(self - other)
        close = _ops.logical_or(close, difference <= atol + rtol * _ops.abs(other))
        if equal_nan:
            close = _ops.logical_or(close, _ops.logical_and(_ops.isnan(self), _ops.isnan(other)))
    return close


def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Return whether every element of self is close to other (see isclose), as a Python bool."""
    return bool(isclose(self, other, rtol, atol, equal_nan).all().item())


def equal(self, other):
    """Return whether self and other have the same shape and elements, as a Python bool."""
    if not isinstance(self, Tensor) or not isinstance(other, Tensor):
        raise TypeError("equal(): expected two Tensors")
    if self._data.shape != other._data.shape:
        return False
    return bool((self == other).all().item())
