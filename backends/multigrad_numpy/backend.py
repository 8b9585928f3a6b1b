"""Kernels of the NumPy backend: one method per ``kernel:`` name in ops.yaml.

NumPy returns scalars instead of 0-d arrays from ufuncs on 0-d input, so
results pass through :func:`_array` where that can happen.
"""

from __future__ import annotations

import numpy as np

from multigrad.backend import Backend

ndarray = np.ndarray
_asarray = np.asarray


def _array(value):
    return value if value.__class__ is ndarray else _asarray(value)


def _sum_dims(x, dims, keepdim):
    return dims if dims else None


class NumpyBackend(Backend):
    """Runs every kernel with NumPy on the host CPU."""

    type_name = "numpy"
    install_hint = "the NumPy backend ships with multigrad"

    # -- conversion and memory -------------------------------------------------

    def from_numpy(self, array):
        return np.array(array, copy=True) if array.__class__ is ndarray else _asarray(array)

    def to_numpy(self, array):
        return array

    def full(self, shape, value, dtype):
        return np.full(shape, value, dtype=dtype)

    def assign(self, dst, src):
        np.copyto(dst, src, casting="unsafe")

    def cast(self, x, dtype):
        return x.astype(dtype)

    def clone(self, x):
        return x.copy()

    def shares_memory(self, a, b):
        return np.may_share_memory(a, b)

    def is_contiguous(self, x):
        return x.flags.c_contiguous

    def can_view(self, x, shape):
        try:
            np.reshape(x, shape, copy=False)
        except ValueError:
            return False
        return True

    # -- elementwise -------------------------------------------------------------

    def add(self, x, y, alpha=1):
        return _array(np.add(x, y if alpha == 1 else np.multiply(y, alpha)))

    def sub(self, x, y, alpha=1):
        return _array(np.subtract(x, y if alpha == 1 else np.multiply(y, alpha)))

    def mul(self, x, y):
        return _array(np.multiply(x, y))

    def true_divide(self, x, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _array(np.true_divide(x, y))

    def div_rounding(self, x, y, rounding_mode):
        with np.errstate(divide="ignore", invalid="ignore"):
            if rounding_mode == "floor":
                return _array(np.floor_divide(x, y))
            quotient = np.true_divide(x, y)
            result = np.trunc(quotient)
            dtype = np.result_type(x, y)
            return _array(result.astype(dtype) if dtype.kind in "iu" else result.astype(dtype))

    def pow(self, x, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _array(np.power(x, y))

    def neg(self, x):
        return _array(np.negative(x))

    def exp(self, x):
        return _array(np.exp(x))

    def log(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _array(np.log(x))

    def sqrt(self, x):
        with np.errstate(invalid="ignore"):
            return _array(np.sqrt(x))

    def abs(self, x):
        return _array(np.abs(x))

    def sign(self, x):
        return _array(np.sign(x))

    def relu(self, x):
        return _array(np.maximum(x, x.dtype.type(0)))

    def sigmoid(self, x):
        # exp(-|x|) never overflows; the two branches give the same sigmoid.
        e = np.exp(-np.abs(x))
        return _array(np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False))

    def tanh(self, x):
        return _array(np.tanh(x))

    def eq(self, x, y):
        return _array(np.equal(x, y))

    def ne(self, x, y):
        return _array(np.not_equal(x, y))

    def lt(self, x, y):
        return _array(np.less(x, y))

    def le(self, x, y):
        return _array(np.less_equal(x, y))

    def gt(self, x, y):
        return _array(np.greater(x, y))

    def ge(self, x, y):
        return _array(np.greater_equal(x, y))

    def logical_and(self, x, y):
        return _array(np.logical_and(x, y))

    def logical_not(self, x):
        return _array(np.logical_not(x))

    def where(self, condition, x, y):
        result = np.where(condition, x, y)
        dtype = x.dtype if hasattr(x, "dtype") else (y.dtype if hasattr(y, "dtype") else result.dtype)
        return result.astype(dtype, copy=False)

    def fill(self, x, value):
        return np.full(x.shape, value, dtype=x.dtype)

    def copy_from(self, x, src):
        out = np.empty(x.shape, dtype=x.dtype)
        np.copyto(out, src, casting="unsafe")
        return out

    # -- reductions --------------------------------------------------------------

    def sum(self, x, dims, keepdim):
        return _array(np.sum(x, axis=dims if dims else None, keepdims=keepdim, dtype=x.dtype))

    def mean(self, x, dims, keepdim):
        with np.errstate(invalid="ignore", divide="ignore"):
            return _array(np.mean(x, axis=dims if dims else None, keepdims=keepdim, dtype=x.dtype))

    # -- linear algebra ----------------------------------------------------------

    def matmul(self, x, y):
        return _array(np.matmul(x, y))

    # -- views and copies ----------------------------------------------------------

    def view(self, x, shape):
        return np.reshape(x, shape, copy=False)

    def transpose(self, x, dim0, dim1):
        return np.swapaxes(x, dim0, dim1)

    def permute(self, x, dims):
        return np.transpose(x, dims)

    def expand(self, x, shape):
        return np.broadcast_to(x, shape)

    def getitem(self, x, items):
        if any(isinstance(item, ndarray) for item in items):
            return _array(x[items])
        # A trailing Ellipsis keeps a 0-d result an array view instead of a scalar.
        return x[items + (Ellipsis,)]

    def setitem(self, x, items, value):
        if any(isinstance(item, ndarray) for item in items):
            x[items] = value
        else:
            x[items + (Ellipsis,)] = value

    def index_backward(self, grad, shape, items):
        out = np.zeros(shape, dtype=grad.dtype)
        if any(isinstance(item, ndarray) for item in items):
            np.add.at(out, items, grad)
        else:
            out[items + (Ellipsis,)] = grad
        return out
