"""Factory functions, devices and the random number generator."""

from __future__ import annotations

import numbers
import os

import numpy as np

from . import _dtype
from ._plugins import REGISTRY
from ._tensor import Tensor, _wrap, device

__all__ = [
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange", "linspace", "eye",
    "zeros_like", "ones_like", "full_like", "empty_like", "rand", "randn", "randint", "randperm",
    "rand_like", "randn_like", "manual_seed", "seed", "initial_seed", "get_default_device",
    "set_default_device", "get_backend", "default_generator",
]

_default_device = [None]  # a device, or None for MULTIGRAD_DEVICE / "numpy"


def get_default_device() -> device:
    """Return the device that factories use when none is given.

    It is the one set by :func:`set_default_device`, else the environment
    variable ``MULTIGRAD_DEVICE``, else ``numpy``.
    """
    if _default_device[0] is not None:
        return _default_device[0]
    return device(os.environ.get("MULTIGRAD_DEVICE") or "numpy")


def set_default_device(dev: "str | device | None") -> None:
    """Set the device that factories use when none is given; None restores the default."""
    if dev is None:
        _default_device[0] = None
        return
    dev = device(dev)
    get_backend(dev)  # fail now, with the backend's reason, if the device cannot run
    _default_device[0] = dev


def get_backend(dev: "str | device | None" = None):
    """Return the Backend instance that runs device ``dev`` (default: the default device)."""
    if dev is None:
        from_environment = _default_device[0] is None and bool(os.environ.get("MULTIGRAD_DEVICE"))
        try:
            dev = get_default_device()
            return REGISTRY.get(dev.type, dev.index or 0)
        except (RuntimeError, ValueError) as error:
            if from_environment:
                raise type(error)(f"{error} (the device comes from MULTIGRAD_DEVICE={os.environ['MULTIGRAD_DEVICE']!r})") from None
            raise
    dev = device(dev)
    return REGISTRY.get(dev.type, dev.index or 0)


def _requires_grad(out: Tensor) -> Tensor:
    """Make a new factory tensor require grad, with PyTorch's factory message for non-float dtypes."""
    if out._data.dtype.kind != "f":
        raise RuntimeError(
            f"Only Tensors of floating point dtype can require gradients, got {out.dtype!r}; "
            "pass a floating dtype such as multigrad.float32"
        )
    out._requires_grad = True
    return out


def _infer_dtype(array: np.ndarray, data) -> _dtype.dtype:
    kind = array.dtype.kind
    if kind == "b":
        return _dtype.bool_
    if kind in "iu":
        if isinstance(data, np.ndarray):
            return _dtype.to_dtype(array.dtype)
        return _dtype.int64
    if kind == "f":
        if isinstance(data, (np.ndarray, np.generic)):
            return _dtype.to_dtype(array.dtype)
        return _dtype.get_default_dtype()
    raise TypeError(f"can't convert data of NumPy dtype {array.dtype} to a tensor; supported are bool, integer and float data")


def _to_numpy(data) -> np.ndarray:
    if isinstance(data, Tensor):
        return data._backend.to_numpy(data._data)
    if isinstance(data, (list, tuple)):
        if any(isinstance(item, Tensor) for item in data):
            data = [_to_numpy(item) for item in data]
    try:
        return np.asarray(data)
    except ValueError as error:
        raise ValueError(f"tensor(): could not build a tensor from the nested sequence: {error}") from None


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Return a new tensor holding a copy of ``data`` (a number, nested sequences or an array).

    The dtype is inferred as PyTorch does: bool, int64 for integers, the
    default float dtype (float32) for Python floats, and the array's own
    dtype for NumPy arrays.
    """
    if isinstance(data, str) or data is None:
        raise TypeError(f"tensor(): data must be a number, a sequence or an array, got {type(data).__name__}")
    array = _to_numpy(data)
    if array.dtype == object:
        raise TypeError("tensor(): could not infer dtype of the data; pass numbers of one kind, or nested lists of equal length")
    target = _dtype.to_dtype(dtype) if dtype is not None else (
        data.dtype if isinstance(data, Tensor) else _infer_dtype(array, data)
    )
    array = np.array(array, dtype=target.np, copy=True)
    if device is None and isinstance(data, Tensor):
        device = data.device
    backend = get_backend(device)
    out = _wrap(backend.from_numpy(array), backend)
    if requires_grad:
        _requires_grad(out)
    return out


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Return ``data`` as a tensor, without copying when it already is one of that dtype and device."""
    if isinstance(data, Tensor):
        return data.to(device=device or data.device, dtype=dtype or data.dtype)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """Return a tensor sharing memory with ``array`` on the NumPy device."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy() expects a numpy.ndarray, got {type(array).__name__}")
    _dtype.to_dtype(array.dtype)
    backend = get_backend("numpy")
    return _wrap(array, backend)


def _size_args(size: tuple, name: str) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"{name}(): size must be ints, but got {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"{name}(): trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(int(s) for s in size)


def _finish(array: np.ndarray, device, requires_grad: bool) -> Tensor:
    backend = get_backend(device)
    out = _wrap(backend.from_numpy(array), backend)
    if requires_grad:
        _requires_grad(out)
    return out


def _float_dtype(dtype) -> _dtype.dtype:
    return _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Return a tensor of ``size`` filled with ``fill_value``; the dtype follows the value when not given."""
    size = _size_args((size,), "full")
    if dtype is None:
        dtype = _dtype.scalar_dtype(fill_value) if not isinstance(fill_value, Tensor) else fill_value.dtype
    dtype = _dtype.to_dtype(dtype)
    backend = get_backend(device)
    out = _wrap(backend.full(size, fill_value, dtype.np), backend)
    if requires_grad:
        _requires_grad(out)
    return out


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Return a tensor of zeros; sizes may be given as ints or as one sequence."""
    size = _size_args(size, "zeros")
    backend = get_backend(device)
    out = _wrap(backend.full(size, 0, _float_dtype(dtype).np), backend)
    return _requires_grad(out) if requires_grad else out


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Return a tensor of ones; sizes may be given as ints or as one sequence."""
    size = _size_args(size, "ones")
    backend = get_backend(device)
    out = _wrap(backend.full(size, 1, _float_dtype(dtype).np), backend)
    return _requires_grad(out) if requires_grad else out


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Return a tensor of ``size``; multigrad fills it with zeros, so its values are defined."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def _like(t: Tensor, dtype, device):
    if not isinstance(t, Tensor):
        raise TypeError(f"expected a Tensor, got {type(t).__name__}")
    return (t.dtype if dtype is None else _dtype.to_dtype(dtype)), (t.device if device is None else device)


def zeros_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Return zeros with the shape of ``input`` (and its dtype and device unless given)."""
    return full_like(input, 0, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Return ones with the shape of ``input`` (and its dtype and device unless given)."""
    return full_like(input, 1, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Return a tensor shaped like ``input``; multigrad fills it with zeros."""
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input: Tensor, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Return a tensor shaped like ``input`` filled with ``fill_value``."""
    dtype, dev = _like(input, dtype, device)
    backend = input._backend if device is None else get_backend(dev)
    out = _wrap(backend.full(input._data.shape, fill_value, dtype.np), backend)
    return _requires_grad(out) if requires_grad else out


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Return the values ``start, start + step, ...`` below ``end``, as ``torch.arange``."""
    if end is None:
        start, end = 0, start
    for name, value in (("start", start), ("end", end), ("step", step)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"arange(): argument '{name}' must be a number, got {type(value).__name__}")
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange(): upper bound and larger bound inconsistent with step sign (start={start}, end={end}, step={step})"
        )
    if dtype is None:
        is_int = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = _dtype.int64 if is_int else _dtype.get_default_dtype()
    dtype = _dtype.to_dtype(dtype)
    array = np.arange(start, end, step, dtype=np.float64 if dtype.is_floating_point else None).astype(dtype.np)
    return _finish(array, device, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Return ``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if not isinstance(steps, int) or steps < 0:
        raise RuntimeError(f"linspace(): number of steps must be non-negative, got {steps!r}")
    array = np.linspace(start, end, steps).astype(_float_dtype(dtype).np)
    return _finish(array, device, requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Return an ``n`` x ``m`` matrix with ones on the diagonal."""
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"eye(): n and m must be non-negative, got n={n}, m={m}")
    array = np.eye(n, m, dtype=_float_dtype(dtype).np)
    return _finish(array, device, requires_grad)


# -- random numbers -------------------------------------------------------------

class _Generator:
    """The global random state: a NumPy Generator that ``manual_seed`` resets."""

    def __init__(self) -> None:
        self.seed_value = int(np.random.SeedSequence().entropy % (2**63))
        self.rng = np.random.default_rng(self.seed_value)

    def manual_seed(self, seed: int) -> "_Generator":
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
            raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}")
        self.seed_value = int(seed)
        self.rng = np.random.default_rng(self.seed_value % (2**64))
        return self


default_generator = _Generator()


def manual_seed(seed: int) -> _Generator:
    """Seed the random number generator that every random factory and op uses."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the generator from OS entropy and return the seed."""
    value = int(np.random.SeedSequence().entropy % (2**63))
    default_generator.manual_seed(value)
    return value


def initial_seed() -> int:
    """Return the seed the generator was last seeded with."""
    return default_generator.seed_value


def rand(*size, dtype=None, device=None, requires_grad: bool = False, generator=None) -> Tensor:
    """Return uniform random values in [0, 1)."""
    size = _size_args(size, "rand")
    d = _float_dtype(dtype)
    if not d.is_floating_point:
        raise RuntimeError(f"rand(): expected a floating point dtype, got {d!r}")
    rng = (generator or default_generator).rng
    return _finish(rng.random(size, dtype=np.float64).astype(d.np), device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad: bool = False, generator=None) -> Tensor:
    """Return standard normal random values."""
    size = _size_args(size, "randn")
    d = _float_dtype(dtype)
    if not d.is_floating_point:
        raise RuntimeError(f"randn(): expected a floating point dtype, got {d!r}")
    rng = (generator or default_generator).rng
    return _finish(rng.standard_normal(size, dtype=np.float64).astype(d.np), device, requires_grad)


def randint(low, high=None, size=None, *, dtype=None, device=None, generator=None) -> Tensor:
    """Return random integers in [low, high), as ``torch.randint(low, high, size)``."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() missing required argument 'size' (a tuple of ints)")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    size = _size_args((size,), "randint")
    d = _dtype.int64 if dtype is None else _dtype.to_dtype(dtype)
    rng = (generator or default_generator).rng
    return _finish(rng.integers(low, high, size).astype(d.np), device, False)


def randperm(n: int, *, dtype=None, device=None, generator=None) -> Tensor:
    """Return a random permutation of ``0 .. n-1``."""
    if n < 0:
        raise RuntimeError(f"randperm(): n must be non-negative, got {n}")
    d = _dtype.int64 if dtype is None else _dtype.to_dtype(dtype)
    rng = (generator or default_generator).rng
    return _finish(rng.permutation(n).astype(d.np), device, False)


def rand_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Return uniform random values shaped like ``input``."""
    dtype, dev = _like(input, dtype, device)
    return rand(*input.shape, dtype=dtype, device=dev, requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Return standard normal values shaped like ``input``."""
    dtype, dev = _like(input, dtype, device)
    return randn(*input.shape, dtype=dtype, device=dev, requires_grad=requires_grad)


# -- Tensor.to ------------------------------------------------------------------

def parse_to_args(t: Tensor, args: tuple, kwargs: dict):
    """Parse the arguments of ``Tensor.to`` into ``(device, dtype, copy)``."""
    unknown = set(kwargs) - {"device", "dtype", "copy", "non_blocking"}
    if unknown:
        raise TypeError(f"to() got unexpected keyword argument(s) {', '.join(sorted(unknown))}")
    target_device = kwargs.get("device")
    target_dtype = kwargs.get("dtype")
    copy = bool(kwargs.get("copy", False))
    for arg in args:
        if isinstance(arg, Tensor):
            target_device, target_dtype = arg.device, arg.dtype
        elif isinstance(arg, _dtype.dtype) or arg in (float, int, bool):
            target_dtype = arg
        elif isinstance(arg, (str, device)):
            target_device = arg
        else:
            raise TypeError(f"to() received an invalid argument {arg!r}; expected a device, a dtype or a Tensor")
    target_device = t.device if target_device is None else device(target_device)
    if target_device.index is None and target_device.type != "numpy":
        target_device = device(target_device.type, 0)
    target_dtype = t.dtype if target_dtype is None else _dtype.to_dtype(target_dtype)
    return target_device, target_dtype, copy
