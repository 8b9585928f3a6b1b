"""Helpers that the generated op wrappers call: argument checks, dtype rules, views, in-place.

Everything here runs on every op call, so the common cases come first and
take no detour.
"""

from __future__ import annotations

import numbers
import weakref

from . import _dtype
from ._grad_mode import GRAD_STATE
from ._node import HOOK_STATES, Node, SavedTensor, _sequence, describe_site, edge, user_site
from ._tensor import Tensor, _wrap, _wrap_dim
from ._views import make_view, multi_output_view_error, rebase_view

# Imported at the end of the module: the formula helpers import the generated ops, which import this module.
_formula_helpers = None

__all__ = [
    "prepare", "prepare1", "prepare2", "check_broadcast", "make_view", "dims_arg", "dim_arg", "shape_arg", "int_list_arg",
    "dtype_arg", "check_bool", "check_int", "scalar_arg", "save_maybe", "is_bool_data", "meta_of", "shape_of", "dtype_of",
    "fit", "unpack", "unpack_data", "check_inplace", "commit_inplace", "bump_version", "user_site", "broadcast_shapes",
]

def _type_name(value) -> str:
    return "Tensor" if isinstance(value, Tensor) else type(value).__name__


def _as_scalar(value, op: str):
    """Return a Python number for a number-like ``value``, or raise TypeError."""
    cls = value.__class__
    if cls is float or cls is int or cls is bool:
        return value
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        return value.item() if hasattr(value, "item") else value
    raise TypeError(f"{op}(): expected a Tensor or a Python number, but got {_type_name(value)}")


def _device_error(op: str, a: Tensor, b: Tensor) -> RuntimeError:
    # Private primitives (_matmul) stand for the public op the user called.
    return RuntimeError(
        f"Expected all tensors to be on the same device, but found at least two devices, {a.device} and {b.device}! "
        f"(when checking arguments for {op.lstrip('_')}); move one with .to(device)"
    )


def prepare(op: str, rule: str, kinds: str, args: tuple, dtype=None):
    """Check the tensor arguments of ``op`` and return ``(backend, arrays)`` ready for its kernel.

    ``kinds`` has one letter per argument: ``t`` a Tensor, ``o`` an optional
    Tensor, ``s`` a Tensor or a Python number. ``rule`` is the op's dtype rule:
    ``promote`` casts every tensor to the promoted dtype, ``float`` does so and
    turns integer results into the default float dtype, ``bool`` promotes the
    operands of a comparison, ``keep`` and ``none`` pass arrays unchanged.
    """
    # Fast path: all arguments are tensors (or an absent optional one) on one device, and with one dtype
    # unless the op passes dtypes through.
    first = args[0]
    if first.__class__ is Tensor or isinstance(first, Tensor):
        backend = first._backend
        np_dtype = first._data.dtype
        fast = dtype is None
        any_dtype = rule == "none" or rule == "keep"
        for arg, kind in zip(args, kinds):
            if arg is None and kind == "o":
                continue
            if not isinstance(arg, Tensor) or arg._backend is not backend or (
                    arg._data.dtype is not np_dtype and not any_dtype):
                fast = False
                break
        if fast and (rule != "float" or np_dtype.kind == "f") and (rule != "accumulate" or np_dtype.kind == "f"):
            return backend, tuple(None if arg is None else arg._data for arg in args)
    return _prepare_slow(op, rule, kinds, args, dtype)


def prepare1(op: str, rule: str, x, dtype=None):
    """Return ``(backend, array)`` for a one-tensor op; see :func:`prepare`."""
    if (x.__class__ is Tensor or isinstance(x, Tensor)) and dtype is None:
        data = x._data
        if data.dtype.kind == "f" or rule == "promote" or rule == "keep" or rule == "none" or rule == "bool":
            return x._backend, data
    backend, arrays = _prepare_slow(op, rule, "t", (x,), dtype)
    return backend, arrays[0]


def prepare2(op: str, rule: str, a, b, broadcast: bool):
    """Return ``(backend, a_array, b_array)`` for a two-operand op; see :func:`prepare`.

    The fast paths cover two tensors of one dtype on one device, and a tensor
    with a Python scalar that does not change its dtype (a float tensor with an
    int or float, an integer tensor with an int).
    """
    a_cls = a.__class__
    b_cls = b.__class__
    # Subclasses such as nn.Parameter take the same paths as Tensor.
    if a_cls is not Tensor and a_cls is not float and isinstance(a, Tensor):
        a_cls = Tensor
    if b_cls is not Tensor and b_cls is not float and isinstance(b, Tensor):
        b_cls = Tensor
    if a_cls is Tensor:
        a_data = a._data
        kind = a_data.dtype.kind
        if b_cls is Tensor:
            b_data = b._data
            if a._backend is b._backend and a_data.dtype is b_data.dtype and (rule != "float" or kind == "f"):
                if broadcast and a_data.shape != b_data.shape:
                    broadcast_shapes(a_data.shape, b_data.shape)
                return a._backend, a_data, b_data
        elif (b_cls is float and kind == "f") or (b_cls is int and (kind == "f" or (kind in "iu" and rule != "float"))):
            return a._backend, a_data, b
    elif b_cls is Tensor:
        b_data = b._data
        kind = b_data.dtype.kind
        if (a_cls is float and kind == "f") or (a_cls is int and (kind == "f" or (kind in "iu" and rule != "float"))):
            return b._backend, a, b_data
    backend, (a_data, b_data) = _prepare_slow(op, rule, "ss", (a, b), None)
    if broadcast:
        check_broadcast(op, a_data, b_data)
    return backend, a_data, b_data


def _prepare_slow(op: str, rule: str, kinds: str, args: tuple, dtype):
    backend = None
    first_tensor = None
    values = []
    for arg, kind in zip(args, kinds):
        if arg.__class__ is Tensor or isinstance(arg, Tensor):
            if backend is None:
                backend, first_tensor = arg._backend, arg
            elif arg._backend is not backend:
                arg, backend, first_tensor = _reconcile_devices(op, arg, backend, first_tensor, values)
            values.append(arg)
        elif arg is None and kind == "o":
            values.append(None)
        elif kind == "s":
            values.append(_as_scalar(arg, op))
        else:
            raise TypeError(f"{op}(): argument {len(values) + 1} must be Tensor, not {_type_name(arg)}")
    if backend is None:
        raise TypeError(f"{op}(): expected at least one Tensor argument, got only numbers")

    if rule == "none" or rule == "keep":
        target = None
        if dtype is not None:
            target = dtype
    else:
        target = _dtype.result_type(values)
        if rule == "float" and target.category != _dtype.FLOAT:
            target = _dtype.get_default_dtype()
        elif rule == "accumulate" and target.category != _dtype.FLOAT:
            target = _dtype.int64
        if dtype is not None:
            target = dtype

    arrays = []
    for value in values:
        if value.__class__ is Tensor or isinstance(value, Tensor):
            data = value._data
            if target is not None and data.dtype != target.np:
                if not backend.supports_dtype(target.np):
                    raise TypeError(f"{op}(): dtype {target!r} is not supported on device {first_tensor.device}")
                data = backend.cast(data, target.np)
            arrays.append(data)
        elif value is None:
            arrays.append(None)
        else:
            if target is not None and target.category == _dtype.BOOL:
                value = bool(value)
            elif target is not None and target.category == _dtype.INT and isinstance(value, bool):
                value = int(value)
            arrays.append(value)
    return backend, tuple(arrays)


def _is_cpu_scalar(t: Tensor) -> bool:
    return t._data.ndim == 0 and t._backend.type_name == "numpy" and not t._requires_grad


def _reconcile_devices(op: str, arg: Tensor, backend, first_tensor: Tensor, values: list):
    """Allow a 0-d CPU tensor without grad next to tensors of another device, as PyTorch does for CUDA.

    Returns the (possibly moved) argument, and the backend and first tensor
    that the other arguments must share; raises the device error otherwise.
    """
    if _is_cpu_scalar(arg):
        return _move(arg, backend), backend, first_tensor
    if _is_cpu_scalar(first_tensor) and all(not isinstance(v, Tensor) or _is_cpu_scalar(v) for v in values):
        # Every earlier tensor is a CPU scalar: the device of ``arg`` wins, and they move to it.
        for i, v in enumerate(values):
            if isinstance(v, Tensor):
                values[i] = _move(v, arg._backend)
        return arg, arg._backend, arg
    raise _device_error(op, first_tensor, arg)


def _move(t: Tensor, backend) -> Tensor:
    return _wrap(backend.from_numpy(t._backend.to_numpy(t._data)), backend)


def broadcast_shapes(a: tuple, b: tuple) -> tuple:
    """Return the broadcast of two shapes, or raise PyTorch's size-mismatch error."""
    if a == b:
        return a
    # The common bias case: one shape ends the other.
    if len(b) < len(a) and a[len(a) - len(b):] == b:
        return a
    if len(a) < len(b) and b[len(b) - len(a):] == a:
        return b
    ndim = max(len(a), len(b))
    pa = (1,) * (ndim - len(a)) + tuple(a)
    pb = (1,) * (ndim - len(b)) + tuple(b)
    out = []
    for i, (x, y) in enumerate(zip(pa, pb)):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise RuntimeError(
                f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton dimension {i}"
            )
    return tuple(out)


def check_broadcast(op: str, *arrays) -> None:
    """Raise PyTorch's error if the array operands of ``op`` do not broadcast together."""
    shape = None
    for array in arrays:
        if array is None or not hasattr(array, "shape"):
            continue
        shape = array.shape if shape is None else broadcast_shapes(shape, array.shape)


def dims_arg(dim, ndim: int, op: str) -> tuple:
    """Normalize ``dim`` (None, an int or a sequence) to a tuple of distinct non-negative dims; () means all."""
    if dim is None:
        return ()
    if isinstance(dim, int) and not isinstance(dim, bool):
        return (_wrap_dim(dim, ndim),)
    if isinstance(dim, (tuple, list)):
        dims = tuple(_wrap_dim(d, ndim) for d in dim)
        if len(set(dims)) != len(dims):
            repeated = next(d for d in dims if dims.count(d) > 1)
            raise RuntimeError(f"{op}(): dim {repeated} appears multiple times in the list of dims")
        return dims
    raise TypeError(f"{op}(): dim must be an int, a tuple of ints or None, got {type(dim).__name__}")


def dim_arg(dim, ndim: int, op: str) -> int:
    """Normalize one dimension index, accepting negative values."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{op}(): dim must be an int, got {type(dim).__name__}")
    return _wrap_dim(dim, ndim)


def shape_arg(shape: tuple, op: str, name: str) -> tuple:
    """Normalize sizes given as ``f(2, 3)`` or ``f((2, 3))`` to a tuple of ints."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, int) or isinstance(s, bool):
            if isinstance(s, Tensor) and s.numel() == 1 and not s.is_floating_point():
                continue
            raise TypeError(f"{op}(): argument '{name}' must be a sequence of ints, but found element of type {type(s).__name__}")
    return tuple(int(s) for s in shape)


def int_list_arg(value, op: str, name: str):
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, (tuple, list)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value)
    raise TypeError(f"{op}(): argument '{name}' must be an int or a sequence of ints, got {value!r}")


def dtype_arg(value):
    return None if value is None else _dtype.to_dtype(value)


def check_bool(value, op: str, name: str) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{op}(): argument '{name}' must be bool, not {type(value).__name__}")


def check_int(value, op: str, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")


def scalar_arg(value, op: str, name: str):
    if value is None:
        return None
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise TypeError(f"{op}(): argument '{name}' must be a number, not a Tensor with {value.numel()} elements")
        return value.item()
    try:
        return _as_scalar(value, op)
    except TypeError:
        raise TypeError(f"{op}(): argument '{name}' must be a number, not {type(value).__name__}") from None


def is_bool_data(value) -> bool:
    """Return whether a kernel operand (an array or a Python scalar) is boolean."""
    dtype = getattr(value, "dtype", None)
    return value.__class__ is bool if dtype is None else dtype.kind == "b"


def save_maybe(value):
    """Save a Tensor for backward, or keep a Python scalar or None as it is."""
    return SavedTensor(value) if isinstance(value, Tensor) else value


def meta_of(value, out: Tensor):
    """Return ``(shape, numpy dtype)`` of a tensor input whose gradient must be fitted to it.

    None when the input is a Python scalar, or has the output's shape and
    dtype, so its gradient needs no fitting.
    """
    if not isinstance(value, Tensor):
        return None
    data, out_data = value._data, out._data
    if data.shape == out_data.shape and data.dtype is out_data.dtype:
        return None
    return (data.shape, data.dtype)


def shape_of(value) -> tuple:
    return value._data.shape if isinstance(value, Tensor) else ()


def dtype_of(value):
    """Return a tensor argument's dtype, or None for a Python scalar."""
    return value.dtype if isinstance(value, Tensor) else None


def unpack(saved, node):
    """Return a saved value for a formula, unpacking saved tensors with their version check."""
    if saved.__class__ is SavedTensor:
        return saved.unpack(node)
    return saved


def unpack_data(saved, node):
    """Return a saved tensor's backend array (version-checked), or a saved Python scalar as it is."""
    if saved.__class__ is SavedTensor:
        return saved.unpack_data(node)
    return saved


def fit(grad, meta):
    """Sum a broadcast gradient back to its input's shape and cast it to the input's dtype."""
    if grad is None or meta is None:
        return grad
    shape, np_dtype = meta
    if grad._data.shape != shape:
        grad = _formula_helpers.sum_to(grad, shape)
    if grad._data.dtype != np_dtype:
        grad = grad.to(_dtype.FROM_NUMPY[np_dtype])
    return grad


def fit_array(b, data, meta):
    """Array twin of :func:`fit`: sum a broadcast gradient array back to its input's shape and dtype."""
    shape, np_dtype = meta
    if data.shape != shape:
        data = _formula_helpers.sum_to_array(b, data, shape)
    if data.dtype != np_dtype:
        data = b.cast(data, np_dtype)
    return data


def wrap_arrays(arrays: tuple, backend) -> tuple:
    """Wrap each gradient array from a node's ``apply_arrays`` as a Tensor, keeping None."""
    return tuple(None if a is None else _wrap(a, backend) for a in arrays)


# -- in-place ops ---------------------------------------------------------------

def bump_version(t: Tensor, op: str) -> None:
    """Count an in-place change of ``t`` and remember where the user made it."""
    counter = t._version_counter
    counter[0] += 1
    site = user_site()
    counter[1] = None if site is None else (site[0], site[1], op)


LEAF_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation."
LEAF_VIEW_MESSAGE = "a view of a leaf Variable that requires grad is being used in an in-place operation."
LEAF_FIX = ("To change a leaf's values (an initialization or an update), do it under multigrad.no_grad(). "
            "To compute with them, use the out-of-place op (x = x.add(1)) or a clone.")


def check_inplace(self: Tensor, op: str, inputs: tuple) -> None:
    """Raise before anything changes if ``op`` may not modify ``self`` in place."""
    if not isinstance(self, Tensor):
        raise TypeError(f"{op}(): expected a Tensor to modify in place, got {_type_name(self)}")
    strides = getattr(self._data, "strides", None)
    if strides is not None and 0 in strides and any(
            stride == 0 and size > 1 for stride, size in zip(strides, self._data.shape)):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation."
        )
    if not GRAD_STATE.enabled:
        return
    if self._requires_grad and self._grad_fn is None:
        raise RuntimeError(f"{LEAF_MESSAGE} ({op} at {describe_site(user_site())}) {LEAF_FIX}")
    base = self._base
    if base is None:
        return
    if base._requires_grad and base._grad_fn is None:
        raise RuntimeError(f"{LEAF_VIEW_MESSAGE} ({op} at {describe_site(user_site())}) {LEAF_FIX}")
    if self._view_replay.__class__ is not tuple and (
        self._requires_grad or any(isinstance(t, Tensor) and t._requires_grad for t in inputs)
    ):
        raise multi_output_view_error(self)


def commit_inplace(self: Tensor, out: Tensor, op: str) -> Tensor:
    """Write ``out`` (the out-of-place result) into ``self``, bump its version and move its history."""
    if out._data.shape != self._data.shape:
        raise RuntimeError(
            f"output with shape {list(self._data.shape)} doesn't match the broadcast shape {list(out._data.shape)}"
        )
    same_dtype = out._data.dtype is self._data.dtype
    if not same_dtype:
        out_dtype, self_dtype = out.dtype, self.dtype
        if out_dtype.category > self_dtype.category:
            raise RuntimeError(
                f"result type {_LEGACY_NAMES[out_dtype.category]} can't be cast to the desired output type "
                f"{_LEGACY_NAMES_BY_DTYPE.get(self_dtype, self_dtype.name)}. Use the out-of-place op, or "
                f"convert the tensor first, for example x = x.to({out_dtype!r})"
            )

    node = out._grad_fn
    if node is not None:
        _snapshot_saved_self(node, self)
    elif GRAD_STATE.enabled and self._requires_grad:
        # A non-differentiable op (gt_, eq_, ...) overwrote a tensor with history: its gradient is zero.
        node = zero_gradient_node(op, self)

    backend = self._backend
    backend.assign(self._data, out._data if same_dtype else backend.cast(out._data, self._data.dtype))
    bump_version(self, op)

    if node is not None:
        old_grad_fn, old_output_nr = self._grad_fn, self._output_nr
        if self._base is None:
            # The in-place op's node becomes the history of ``self``.
            self._grad_fn = node
            self._output_nr = 0
            self._requires_grad = True
        else:
            rebase_view(self, node)
        _rebind_saved_result(node, out, self)
        if getattr(self, "_retains_grad", False) and old_grad_fn is not None:
            move_retain_grad(self, old_grad_fn, old_output_nr)
    return self


_ZERO_GRADIENT_CLASSES: dict = {}


class ZeroGradientNode(Node):
    """The history of a tensor overwritten by a non-differentiable in-place op: no gradient flows back."""

    __slots__ = ()

    def apply(node, grads):
        # Zeros, not None, so that leaves get a zero .grad as in PyTorch.
        return (_formula_helpers.zeros_like(grads[0]),)


def zero_gradient_node(op: str, t: Tensor) -> Node:
    """Return a node named like PyTorch's (``GtBackward0`` for ``gt_``) whose gradient is zero."""
    name = "".join(part.capitalize() for part in op.strip("_").split("_")) + "Backward0"
    cls = _ZERO_GRADIENT_CLASSES.get(name)
    if cls is None:
        cls = _ZERO_GRADIENT_CLASSES[name] = type(name, (ZeroGradientNode,), {"__slots__": ()})
    node = cls()
    node._seq = next(_sequence)
    node._site = user_site(node)
    node.next_functions = (edge(t),)
    return node


def move_retain_grad(t: Tensor, old_grad_fn, old_output_nr: int) -> None:
    """Make ``retain_grad`` follow ``t`` to its new history, so ``t.grad`` is the gradient of its current value."""
    state = HOOK_STATES.get(old_grad_fn)
    if state is not None:
        state.retain_grad.pop(old_output_nr, None)
    t._grad_fn._add_retain_grad(t._output_nr, weakref.ref(t))


_LEGACY_NAMES = {_dtype.BOOL: "Bool", _dtype.INT: "Long", _dtype.FLOAT: "Float"}
_LEGACY_NAMES_BY_DTYPE = {
    _dtype.bool_: "Bool", _dtype.int64: "Long", _dtype.int32: "Int", _dtype.int16: "Short", _dtype.int8: "Char",
    _dtype.uint8: "Byte", _dtype.float32: "Float", _dtype.float64: "Double", _dtype.float16: "Half",
}


def _snapshot_saved_self(node, self: Tensor) -> None:
    """Give saved references to ``self`` their own copy of its old value before it is overwritten."""
    for name in node._saved_names:
        saved = getattr(node, name, None)
        if saved.__class__ is SavedTensor and saved.tensor is self:
            old = _wrap(self._backend.clone(self._data), self._backend)
            old._requires_grad = self._requires_grad
            old._grad_fn = self._grad_fn
            old._output_nr = self._output_nr
            saved.tensor = old
            saved.counter = old._version_counter
            saved.version = 0


def _rebind_saved_result(node, out: Tensor, self: Tensor) -> None:
    """Point a saved result at ``self``, which now contains it, so later in-place changes are detected."""
    for name in node._saved_names:
        saved = getattr(node, name, None)
        if saved.__class__ is SavedTensor and saved.tensor is None and saved.data is out._data:
            saved.data = self._data
            saved.counter = self._version_counter
            saved.version = self._version_counter[0]


def _late_imports() -> None:
    global _formula_helpers
    from . import _formula_helpers as helpers

    _formula_helpers = helpers
