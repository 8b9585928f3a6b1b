"""Elementwise kernels against NumPy: every formula, over layouts, dtypes and shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from multigrad_opencl.formulas import BINARY, INTEGER_ONLY, UNARY

from .layouts import LAYOUTS, SHAPES


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[x.dtype])(x)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


NUMPY_UNARY = {
    "neg": np.negative, "abs": np.abs, "sign": np.sign, "square": np.square, "relu": lambda x: np.maximum(x, 0),
    "floor": np.floor, "ceil": np.ceil, "round": np.round, "trunc": np.trunc, "exp": np.exp, "exp2": np.exp2,
    "expm1": np.expm1, "log": np.log, "log2": np.log2, "log10": np.log10, "log1p": np.log1p, "sqrt": np.sqrt,
    "rsqrt": lambda x: 1 / np.sqrt(x), "reciprocal": np.reciprocal, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
    "sigmoid": _sigmoid, "erf": _erf, "logical_not": np.logical_not, "isnan": np.isnan, "isinf": np.isinf,
    "isfinite": np.isfinite, "silu": lambda x: x * _sigmoid(x), "log_sigmoid": lambda x: np.log(_sigmoid(x)),
    "frac": lambda x: x - np.trunc(x),
}

NUMPY_BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide, "div_floor": np.floor_divide,
    "div_trunc": lambda a, b: np.trunc(a / b), "pow": np.power, "remainder": np.remainder, "fmod": np.fmod,
    "maximum": np.maximum, "minimum": np.minimum, "atan2": np.arctan2, "eq": np.equal, "ne": np.not_equal,
    "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
    "logical_and": np.logical_and, "logical_or": np.logical_or, "logical_xor": np.logical_xor,
    "bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or, "bitwise_xor": np.bitwise_xor,
}

# Inputs inside each op's domain, so NaN appears only where a test puts it.
POSITIVE = {"log", "log2", "log10", "sqrt", "rsqrt"}
UNIT = {"asin", "acos"}


def _unary_input(name: str, rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    if name in POSITIVE:
        values = rng.uniform(0.1, 5, shape)
    elif name == "log1p":
        values = rng.uniform(-0.9, 5, shape)
    elif name in UNIT:
        values = rng.uniform(-0.99, 0.99, shape)
    elif name in ("round",):
        values = rng.integers(-8, 8, shape) / 2  # exact halves test rounding half to even
    else:
        values = rng.uniform(-3, 3, shape)
    return np.asarray(values, dtype)


def test_formula_tables_match_tests() -> None:
    assert set(UNARY) == set(NUMPY_UNARY)
    assert set(BINARY) == set(NUMPY_BINARY)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_contiguous(backend, rng, float_dtype, name) -> None:
    values = _unary_input(name, rng, (1000,), float_dtype)
    result = backend.to_numpy(getattr(backend, name)(backend.from_numpy(values)))
    expected = NUMPY_UNARY[name](values)
    assert result.dtype == expected.dtype
    np.testing.assert_allclose(result, expected, rtol=2e-6 if float_dtype == np.float32 else 1e-12, atol=1e-6)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ["exp", "abs", "isnan", "relu"])
def test_unary_layouts(backend, rng, layout, shape, name) -> None:
    expected_in, device_in = LAYOUTS[layout](backend, _unary_input(name, rng, shape, np.dtype(np.float32)))
    result = backend.to_numpy(getattr(backend, name)(device_in))
    expected = NUMPY_UNARY[name](expected_in)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, rtol=2e-6)


@pytest.mark.parametrize("name", ["neg", "abs", "sign", "square", "relu", "floor", "round", "logical_not",
                                  "isnan", "isfinite"])
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "int8"])
def test_unary_integers(backend, rng, name, dtype) -> None:
    values = rng.integers(-100, 100, (50,)).astype(dtype)
    result = backend.to_numpy(getattr(backend, name)(backend.from_numpy(values)))
    expected = NUMPY_UNARY[name](values)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


def test_unary_float_op_on_ints_returns_float64(backend, rng) -> None:
    values = rng.integers(0, 10, (20,)).astype(np.int32)
    result = backend.to_numpy(backend.exp(backend.from_numpy(values)))
    assert result.dtype == np.float64
    np.testing.assert_allclose(result, np.exp(values))


def test_unary_special_values(backend, float_dtype) -> None:
    values = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 2.5, -2.5, 0.5, 1.5], float_dtype)
    device = backend.from_numpy(values)
    for name in ["sign", "relu", "round", "isnan", "isinf", "isfinite", "logical_not", "abs", "floor"]:
        np.testing.assert_array_equal(backend.to_numpy(getattr(backend, name)(device)), NUMPY_UNARY[name](values),
                                      err_msg=name)


def _binary_inputs(name, rng, shape, dtype):
    a = rng.uniform(-4, 4, shape)
    b = rng.uniform(-4, 4, shape)
    if name == "pow":
        a = np.abs(a) + 0.1
    if name in ("div", "div_floor", "div_trunc", "remainder", "fmod"):
        b = np.where(np.abs(b) < 0.5, 1.5, b)
    if name in ("eq", "ne", "le", "ge"):
        b = np.where(rng.random(shape) < 0.3, a, b)  # some ties
    return a.astype(dtype), b.astype(dtype)


@pytest.mark.parametrize("name", sorted(set(BINARY) - INTEGER_ONLY))
def test_binary_contiguous(backend, rng, float_dtype, name) -> None:
    a, b = _binary_inputs(name, rng, (999,), float_dtype)
    result = backend.to_numpy(getattr(backend, name)(backend.from_numpy(a), backend.from_numpy(b)))
    expected = NUMPY_BINARY[name](a, b)
    assert result.dtype == expected.dtype
    np.testing.assert_allclose(result, expected, rtol=1e-5 if float_dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("name", ["add", "mul", "div_floor", "remainder", "maximum", "lt", "logical_xor"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_binary_layouts(backend, rng, name, layout, shape) -> None:
    a, b = _binary_inputs(name, rng, shape, np.float32)
    a_expected, a_device = LAYOUTS[layout](backend, a)
    result = backend.to_numpy(getattr(backend, name)(a_device, backend.from_numpy(b)))
    np.testing.assert_allclose(result, NUMPY_BINARY[name](a_expected, b), rtol=1e-5)


@pytest.mark.parametrize("shapes", [((4, 1, 3), (5, 1)), ((3,), (2, 3)), ((), (2, 2)), ((2, 1), (1, 0))], ids=str)
def test_binary_broadcasting(backend, rng, shapes) -> None:
    a = rng.standard_normal(shapes[0]).astype(np.float32)
    b = rng.standard_normal(shapes[1]).astype(np.float32)
    result = backend.to_numpy(backend.sub(backend.from_numpy(a), backend.from_numpy(b)))
    np.testing.assert_allclose(result, a - b, rtol=1e-6)


def test_binary_incompatible_shapes_raise(backend) -> None:
    a = backend.full((2, 3), 1.0, np.float32)
    b = backend.full((4,), 1.0, np.float32)
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        backend.add(a, b)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "pow", "div", "maximum", "gt", "remainder"])
def test_binary_python_scalars(backend, rng, float_dtype, name) -> None:
    a, _ = _binary_inputs(name, rng, (31,), float_dtype)
    device = backend.from_numpy(a)
    np.seterr(invalid="ignore")  # (-3) ** 1.5 is NaN on both sides
    for scalar in (2, 1.5, -3):
        for result, expected in [
            (getattr(backend, name)(device, scalar), NUMPY_BINARY[name](a, scalar)),
            (getattr(backend, name)(scalar, device), NUMPY_BINARY[name](scalar, a)),
        ]:
            values = backend.to_numpy(result)
            assert values.dtype == expected.dtype
            np.testing.assert_allclose(values, expected, rtol=1e-5)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div_floor", "div_trunc", "remainder", "fmod", "pow",
                                  "maximum", "minimum", "eq", "lt", "logical_and"])
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "int16"])
def test_binary_integers(backend, rng, name, dtype) -> None:
    a = rng.integers(-20, 20, (200,)).astype(dtype)
    b = rng.integers(-6, 6, (200,)).astype(dtype)
    if name == "pow":
        b = np.abs(b) % 4
    elif name in ("div_floor", "div_trunc", "remainder", "fmod"):
        b = np.where(b == 0, 3, b).astype(dtype)
    result = backend.to_numpy(getattr(backend, name)(backend.from_numpy(a), backend.from_numpy(b)))
    if name == "div_trunc":
        expected = (np.trunc(a.astype(np.float64) / b)).astype(dtype)
    else:
        expected = NUMPY_BINARY[name](a, b)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


def test_integer_division_by_zero_returns_zero(backend) -> None:
    a = backend.from_numpy(np.array([5, -5, 0], np.int32))
    zero = backend.from_numpy(np.zeros(3, np.int32))
    for name in ("div_floor", "remainder", "fmod", "div_trunc"):
        np.testing.assert_array_equal(backend.to_numpy(getattr(backend, name)(a, zero)), [0, 0, 0], err_msg=name)


def test_div_rounding_modes(backend) -> None:
    a, b = np.array([7.0, -7.0, 7.5], np.float32), np.array([2.0, 2.0, -2.0], np.float32)
    da, db = backend.from_numpy(a), backend.from_numpy(b)
    np.testing.assert_array_equal(backend.to_numpy(backend.div(da, db, rounding_mode="floor")), np.floor_divide(a, b))
    np.testing.assert_array_equal(backend.to_numpy(backend.div(da, db, rounding_mode="trunc")), np.trunc(a / b))
    with pytest.raises(ValueError, match="rounding_mode"):
        backend.div(da, db, rounding_mode="round")


def test_maximum_propagates_nan(backend) -> None:
    a = np.array([np.nan, 1.0, 2.0, np.nan], np.float32)
    b = np.array([1.0, np.nan, 1.0, np.nan], np.float32)
    for name in ("maximum", "minimum"):
        result = backend.to_numpy(getattr(backend, name)(backend.from_numpy(a), backend.from_numpy(b)))
        np.testing.assert_array_equal(result, NUMPY_BINARY[name](a, b), err_msg=name)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_where_layouts(backend, rng, layout) -> None:
    cond = rng.random((4, 5)) < 0.5
    a = rng.standard_normal((4, 5)).astype(np.float32)
    b = rng.standard_normal((5,)).astype(np.float32)
    a_expected, a_device = LAYOUTS[layout](backend, a)
    result = backend.where(backend.from_numpy(cond), a_device, backend.from_numpy(b))
    np.testing.assert_array_equal(backend.to_numpy(result), np.where(cond, a_expected, b))
    scalar_result = backend.where(backend.from_numpy(cond), a_device, 0.5)
    np.testing.assert_array_equal(backend.to_numpy(scalar_result), np.where(cond, a_expected, np.float32(0.5)))


@pytest.mark.parametrize("name", sorted(INTEGER_ONLY))
def test_bitwise_integers_and_float_error(backend, rng, name) -> None:
    a = rng.integers(-50, 50, (33,)).astype(np.int32)
    b = rng.integers(-50, 50, (33,)).astype(np.int32)
    result = backend.to_numpy(getattr(backend, name)(backend.from_numpy(a), backend.from_numpy(b)))
    np.testing.assert_array_equal(result, NUMPY_BINARY[name](a, b))
    with pytest.raises(RuntimeError, match=f"{name}_opencl.*Float"):
        getattr(backend, name)(backend.from_numpy(a.astype(np.float32)), 1)


def test_bitwise_not_on_bool_is_logical_not(backend) -> None:
    values = np.array([True, False, True])
    result = backend.to_numpy(backend.bitwise_not(backend.from_numpy(values)))
    np.testing.assert_array_equal(result, ~values)
