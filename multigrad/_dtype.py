"""Dtypes and PyTorch's type-promotion rules."""

from __future__ import annotations

import numpy as np

# Promotion categories, lowest first: a higher category always wins.
BOOL, INT, FLOAT = 0, 1, 2


class dtype:
    """A tensor element type, printed as ``multigrad.float32``."""

    __slots__ = ("name", "np", "category", "itemsize", "is_floating_point", "is_signed")

    def __init__(self, name: str, np_dtype: str, category: int) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == FLOAT
        self.is_signed = self.np.kind != "u" and category != BOOL

    def __repr__(self) -> str:
        return f"multigrad.{self.name}"

    def __reduce__(self):
        return (_lookup, (self.name,))


bool_ = dtype("bool", "bool", BOOL)
uint8 = dtype("uint8", "uint8", INT)
int8 = dtype("int8", "int8", INT)
int16 = dtype("int16", "int16", INT)
int32 = dtype("int32", "int32", INT)
int64 = dtype("int64", "int64", INT)
float16 = dtype("float16", "float16", FLOAT)
float32 = dtype("float32", "float32", FLOAT)
float64 = dtype("float64", "float64", FLOAT)

ALL_DTYPES = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)

# Keyed by numpy.dtype, which hashes and compares by value.
FROM_NUMPY: dict = {d.np: d for d in ALL_DTYPES}
_BY_NAME = {d.name: d for d in ALL_DTYPES}
# PyTorch's aliases.
_BY_NAME.update({"float": float32, "double": float64, "half": float16, "long": int64, "int": int32, "short": int16})

# The legacy type names that PyTorch prints in some messages.
TYPE_NAMES = {
    bool_: "BoolTensor", uint8: "ByteTensor", int8: "CharTensor", int16: "ShortTensor",
    int32: "IntTensor", int64: "LongTensor", float16: "HalfTensor",
    float32: "FloatTensor", float64: "DoubleTensor",
}

_default_float = [float32]


def _lookup(name: str) -> dtype:
    return _BY_NAME[name]


def get_default_dtype() -> dtype:
    """Return the dtype that Python floats and float factories get (float32 unless changed)."""
    return _default_float[0]


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype; only float32 and float64 are accepted, as in PyTorch."""
    if d is not float32 and d is not float64:
        raise TypeError(f"only floating-point types are supported as the default type, got {d!r}")
    _default_float[0] = d


def to_dtype(value) -> dtype:
    """Convert a dtype, a NumPy dtype, a Python type or a name into a multigrad dtype."""
    if isinstance(value, dtype):
        return value
    if value is float:
        return _default_float[0]
    if value is int:
        return int64
    if value is bool:
        return bool_
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    try:
        return FROM_NUMPY[np.dtype(value)]
    except (TypeError, KeyError):
        supported = ", ".join(d.name for d in ALL_DTYPES)
        raise TypeError(f"unsupported dtype {value!r}; use one of: {supported}") from None


def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if a.category == BOOL:
        return a
    return FROM_NUMPY[np.promote_types(a.np, b.np)]


_PAIR_CACHE: dict = {}


def promote_types(a: dtype, b: dtype) -> dtype:
    """Return the smallest dtype that both ``a`` and ``b`` convert to, as ``torch.promote_types``."""
    key = (a, b)
    result = _PAIR_CACHE.get(key)
    if result is None:
        result = _PAIR_CACHE[key] = _promote_pair(a, b)
    return result


def scalar_dtype(value) -> dtype:
    """Return the dtype a Python scalar takes when it stands alone."""
    if value.__class__ is bool:
        return bool_
    if value.__class__ is int:
        return int64
    return _default_float[0]


def result_type(operands) -> dtype:
    """Return the dtype of an op on ``operands`` (tensors and Python scalars), by PyTorch's rules.

    Three priority classes take part: tensors with dimensions, zero-dimensional
    tensors, and Python scalars. A lower class changes the result only when its
    category (bool < integer < floating) is higher than every higher class's.
    """
    from ._tensor import Tensor

    dim_result = zero_result = scalar_result = None
    for op in operands:
        if isinstance(op, Tensor):
            d = op.dtype
            if op._data.ndim:
                dim_result = d if dim_result is None else promote_types(dim_result, d)
            else:
                zero_result = d if zero_result is None else promote_types(zero_result, d)
        elif op is not None:
            d = scalar_dtype(op)
            scalar_result = d if scalar_result is None else promote_types(scalar_result, d)

    result = None
    for candidate in (dim_result, zero_result, scalar_result):
        if candidate is None:
            continue
        if result is None or candidate.category > result.category:
            result = candidate
    return result
