"""Elementwise kernels: arithmetic, functions, comparisons, where and fills."""

from __future__ import annotations

import math

import numpy as np

from ._util import _array, _asarray, ndarray


class ElementwiseKernels:
    """Mixin of NumpyBackend."""


    # The hottest kernels test for a 0-d result inline instead of calling _array.

    def add(self, x, y, alpha=1):
        out = np.add(x, y if alpha == 1 else np.multiply(y, alpha))
        return out if out.__class__ is ndarray else _asarray(out)

    def sub(self, x, y, alpha=1):
        out = np.subtract(x, y if alpha == 1 else np.multiply(y, alpha))
        return out if out.__class__ is ndarray else _asarray(out)

    def mul(self, x, y):
        out = np.multiply(x, y)
        return out if out.__class__ is ndarray else _asarray(out)

    def true_divide(self, x, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _array(np.true_divide(x, y))

    def div_rounding(self, x, y, rounding_mode):
        with np.errstate(divide="ignore", invalid="ignore"):
            if rounding_mode == "floor":
                return _array(np.floor_divide(x, y))
            dtype = np.result_type(x, y)
            if dtype.kind in "iu":
                # Exact integer truncation: floor, then step toward zero where the signs differ and it is inexact.
                floor = np.floor_divide(x, y)
                inexact = np.not_equal(np.remainder(x, y), 0)
                signs_differ = np.not_equal(np.less(x, 0), np.less(y, 0))
                return _array(floor + (inexact & signs_differ).astype(dtype))
            return _array(np.trunc(np.true_divide(x, y)).astype(dtype))

    def pow(self, x, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _array(np.power(x, y))

    def neg(self, x):
        return _array(np.negative(x))

    def exp(self, x):
        out = np.exp(x)
        return out if out.__class__ is ndarray else _asarray(out)

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
        out = np.tanh(x)
        return out if out.__class__ is ndarray else _asarray(out)

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
        # The core has promoted x and y; a Python number among them must not widen the result.
        if hasattr(x, "dtype"):
            dtype = x.dtype
        elif hasattr(y, "dtype"):
            dtype = y.dtype
        else:
            dtype = result.dtype
        return result.astype(dtype, copy=False)

    def fill(self, x, value):
        return np.full(x.shape, value, dtype=x.dtype)

    def copy_from(self, x, src):
        out = np.empty(x.shape, dtype=x.dtype)
        np.copyto(out, src, casting="unsafe")
        return out

    # -- exponentials, logarithms and powers ---------------------------------

    def exp2(self, x):
        return _array(np.exp2(x))

    def expm1(self, x):
        return _array(np.expm1(x))

    def log2(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _array(np.log2(x))

    def log10(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _array(np.log10(x))

    def log1p(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _array(np.log1p(x))

    def rsqrt(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _array(np.reciprocal(np.sqrt(x)))

    def reciprocal(self, x):
        with np.errstate(divide="ignore"):
            return _array(np.reciprocal(x))

    def square(self, x):
        return _array(np.multiply(x, x))

    # -- trigonometric and hyperbolic functions --------------------------------

    def sin(self, x):
        return _array(np.sin(x))

    def cos(self, x):
        return _array(np.cos(x))

    def tan(self, x):
        return _array(np.tan(x))

    def asin(self, x):
        with np.errstate(invalid="ignore"):
            return _array(np.arcsin(x))

    def acos(self, x):
        with np.errstate(invalid="ignore"):
            return _array(np.arccos(x))

    def atan(self, x):
        return _array(np.arctan(x))

    def sinh(self, x):
        with np.errstate(over="ignore"):
            return _array(np.sinh(x))

    def cosh(self, x):
        with np.errstate(over="ignore"):
            return _array(np.cosh(x))

    def atan2(self, x, y):
        return _array(np.arctan2(x, y))

    def erf(self, x):
        return _array(_erf(x).astype(x.dtype, copy=False))

    # -- activations -------------------------------------------------------------

    def leaky_relu(self, x, negative_slope):
        return _array(np.where(x > 0, x, x * negative_slope).astype(x.dtype, copy=False))

    def elu(self, x, alpha):
        with np.errstate(over="ignore"):
            negative = alpha * np.expm1(np.minimum(x, 0))
        return _array(np.where(x > 0, x, negative).astype(x.dtype, copy=False))

    def gelu(self, x, approximate):
        if approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
            return _array((0.5 * x * (1 + np.tanh(inner))).astype(x.dtype, copy=False))
        return _array((0.5 * x * (1 + _erf(x * _SQRT_HALF))).astype(x.dtype, copy=False))

    def silu(self, x):
        return _array(np.multiply(x, self.sigmoid(x)))

    def softplus(self, x, beta, threshold):
        # log1p(exp(-|bx|)) + max(bx, 0) equals log(1 + exp(bx)) without overflow.
        scaled = x * beta
        smooth = (np.log1p(np.exp(-np.abs(scaled))) + np.maximum(scaled, 0)) / beta
        return _array(np.where(scaled > threshold, x, smooth).astype(x.dtype, copy=False))

    # -- rounding ------------------------------------------------------------------

    def floor(self, x):
        return x.copy() if x.dtype.kind in "iub" else _array(np.floor(x))

    def ceil(self, x):
        return x.copy() if x.dtype.kind in "iub" else _array(np.ceil(x))

    def trunc(self, x):
        return x.copy() if x.dtype.kind in "iub" else _array(np.trunc(x))

    def round(self, x, decimals):
        # np.round rounds halves to even, as torch.round does.
        if x.dtype.kind in "iub" and decimals >= 0:
            return x.copy()
        return _array(np.round(x, decimals))

    def frac(self, x):
        return _array(np.subtract(x, np.trunc(x)))

    # -- binary arithmetic ----------------------------------------------------------

    def clamp(self, x, low, high):
        if low is not None:
            x = np.maximum(x, low)
        if high is not None:
            x = np.minimum(x, high)
        return _array(x)

    def remainder(self, x, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _array(np.remainder(x, y))

    def fmod(self, x, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _array(np.fmod(x, y))

    def maximum(self, x, y):
        return _array(np.maximum(x, y))

    def minimum(self, x, y):
        return _array(np.minimum(x, y))

    def lerp(self, start, end, weight):
        # Two forms, each exact at its own end, as PyTorch computes lerp.
        diff = np.subtract(end, start)
        low = start + weight * diff
        high = end - diff * (1 - np.asarray(weight))
        result = np.where(np.abs(weight) < 0.5, low, high)
        return _array(result.astype(np.result_type(start, end), copy=False))

    # -- logical, bitwise and float classification ------------------------------------

    def logical_or(self, x, y):
        return _array(np.logical_or(x, y))

    def logical_xor(self, x, y):
        return _array(np.logical_xor(x, y))

    def bitwise_and(self, x, y):
        _check_bitwise("bitwise_and", x, y)
        return _array(np.bitwise_and(x, y))

    def bitwise_or(self, x, y):
        _check_bitwise("bitwise_or", x, y)
        return _array(np.bitwise_or(x, y))

    def bitwise_xor(self, x, y):
        _check_bitwise("bitwise_xor", x, y)
        return _array(np.bitwise_xor(x, y))

    def bitwise_not(self, x):
        _check_bitwise("bitwise_not", x)
        return _array(np.invert(x))

    def isnan(self, x):
        return _array(np.isnan(x))

    def isinf(self, x):
        return _array(np.isinf(x))

    def isfinite(self, x):
        return _array(np.isfinite(x))


def _check_bitwise(op, *operands):
    for operand in operands:
        if isinstance(operand, ndarray) and operand.dtype.kind == "f":
            name = {2: "Half", 4: "Float", 8: "Double"}[operand.dtype.itemsize]
            raise RuntimeError(f'"{op}_cpu" not implemented for \'{name}\'')
        if isinstance(operand, float):
            raise RuntimeError(f'"{op}_cpu" not implemented for \'Float\'')


_SQRT_HALF = 0.7071067811865476
_SQRT_2_OVER_PI = 0.7978845608028654

try:
    from scipy.special import erf as _scipy_erf
except ImportError:  # scipy is optional
    _scipy_erf = None


def _erf(x):
    """Return erf(x) elementwise: scipy's ufunc when installed, else math.erf element by element."""
    if _scipy_erf is not None:
        return _scipy_erf(x)
    # NOTE: the math.erf fallback runs in Python per element, about 100x slower than a ufunc.
    return np.vectorize(math.erf, otypes=[np.float64])(x)
