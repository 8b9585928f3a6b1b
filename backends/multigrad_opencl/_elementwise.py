"""Elementwise kernels: the unary, binary and ternary ops of ``formulas``, plus the shared map engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import templates
from ._cl import kernel_arg
from .array import CLArray, broadcast_shapes, broadcast_strides, coalesce
from .formulas import BINARY, INTEGER_ONLY, PARAMETRIC, TERNARY, UNARY, Formula

if TYPE_CHECKING:
    from .backend import OpenCLBackend

__all__ = ["ElementwiseKernels"]

_NAMES = {1: ["x"], 2: ["a", "b"], 3: ["c", "a", "b"]}

#: Elements per work-item on the vectorized fast path, by compute dtype.
_VECTOR_WIDTH = {np.dtype(np.float32): 8, np.dtype(np.float64): 4}

Operand = Any  # a CLArray or a Python scalar


def float_result_dtype(dtype: np.dtype, has_fp64: bool) -> np.dtype:
    """Return NumPy's float result dtype for a float-only op on ``dtype`` (float16 becomes float32).

    NOTE: NumPy returns float16 for exp(int8) and exp(bool); float16 is not
    supported here, so those compute in float32. Without fp64, float32 replaces float64.
    """
    if dtype.kind == "f":
        return dtype
    result = np.result_type(dtype, np.float16)
    if result == np.float16 or (result == np.float64 and not has_fp64):
        return np.dtype(np.float32)
    return result


class ElementwiseKernels:
    """Mixin of OpenCLBackend with the elementwise kernels and the engine they share."""

    def map(self: "OpenCLBackend", op: str, formula: Formula, operands: list[Operand],
            out: CLArray | None = None, compute: np.dtype | None = None) -> CLArray:
        """Apply ``formula`` to broadcast ``operands`` and return the result (written to ``out`` if given).

        The compute dtype is NumPy's result type of the operands (Python
        scalars are weak, as in NumPy 2), unless ``compute`` is given. Every
        operand is converted to it when loaded.
        """
        arrays = [self.check_array(op, o) for o in operands if isinstance(o, CLArray)]
        if compute is None:
            compute = np.result_type(*[a.dtype for a in arrays], *[o for o in operands if not isinstance(o, CLArray)])
        if formula.result == "float" or (formula.on_int is None and compute.kind != "f"):
            compute = float_result_dtype(compute, self.has_fp64)
        result_dtype = np.dtype(np.bool_) if formula.result == "bool" else compute
        if out is not None:
            result_dtype = out.dtype
        self.check_dtype(op, compute, result_dtype, *[a.dtype for a in arrays])

        shape = broadcast_shapes(op, *[a.shape for a in arrays])
        if out is None:
            out = self.empty(shape, result_dtype)
        elif broadcast_shapes(op, out.shape, shape) != out.shape:
            raise ValueError(f"{op}: cannot write a result of shape {shape} into an array of shape {out.shape}")
        n = out.size
        if n == 0:
            return out

        expression = formula.on_float if compute.kind == "f" else formula.on_int
        names = _NAMES[len(operands)]
        inputs = [o.dtype if isinstance(o, CLArray) else None for o in operands]
        scalar_args = [kernel_arg(o, compute) for o in operands if not isinstance(o, CLArray)]
        flat = out.is_contiguous and all(a.is_contiguous and a.shape == out.shape for a in arrays)

        if flat and formula.vector and compute in _VECTOR_WIDTH and result_dtype == compute \
                and all(a.dtype == compute for a in arrays):
            width = _VECTOR_WIDTH[compute]
            key = ("vector", expression, tuple(inputs), compute)
            kernel = self.kernel(key, op, lambda: templates.elementwise_vector(expression, names, inputs, compute, width))
            global_size, local_size = self.flat_range(-(-n // width))
            self.launch(op, kernel, global_size, local_size, self._map_args(out, operands, scalar_args) + [np.int64(n)])
            return out

        if flat:
            key = ("flat", expression, tuple(inputs), compute, result_dtype)
            kernel = self.kernel(key, op, lambda: templates.elementwise_flat(expression, names, inputs, compute, result_dtype))
            global_size, local_size = self.flat_range(n)
            self.launch(op, kernel, global_size, local_size, self._map_args(out, operands, scalar_args) + [np.int64(n)])
            return out

        stride_lists = [out.strides] + [broadcast_strides(a, out.shape) for a in arrays]
        sizes, strides = coalesce(out.shape, stride_lists)
        rank = len(sizes)
        key = ("strided", expression, tuple(inputs), compute, result_dtype, rank)
        kernel = self.kernel(
            key, op, lambda: templates.elementwise_strided(expression, names, inputs, compute, result_dtype, rank))
        args = self._map_args(out, operands, scalar_args) + [np.int64(s) for s in sizes]
        args += [np.int64(s) for operand_strides in strides for s in operand_strides]
        global_size, local_size = self.ndrange(sizes)
        self.launch(op, kernel, global_size, local_size, args)
        return out

    @staticmethod
    def _map_args(out: CLArray, operands: list[Operand], scalar_args: list[np.generic]) -> list[Any]:
        args: list[Any] = [out.buffer, np.int64(out.offset)]
        scalars = iter(scalar_args)
        for operand in operands:
            if isinstance(operand, CLArray):
                args += [operand.buffer, np.int64(operand.offset)]
            else:
                args.append(next(scalars))
        return args

    def div(self: "OpenCLBackend", a: Operand, b: Operand, rounding_mode: str | None = None) -> CLArray:
        """Return ``a / b``: true division, or rounded with ``rounding_mode`` ``"floor"`` or ``"trunc"``.

        Integer true division returns a float array, as in NumPy. Integer
        division by zero returns 0, as NumPy does (NumPy also warns).
        """
        if rounding_mode is None:
            return self.map("div", BINARY["div"], [a, b])
        if rounding_mode == "floor":
            return self.map("div_floor", BINARY["div_floor"], [a, b])
        if rounding_mode == "trunc":
            return self.map("div_trunc", BINARY["div_trunc"], [a, b])
        raise ValueError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")

    def true_divide(self: "OpenCLBackend", a: Operand, b: Operand) -> CLArray:
        """Return ``a / b`` with true division; integer operands give a float result."""
        return self.map("true_divide", BINARY["div"], [a, b])

    def div_rounding(self: "OpenCLBackend", a: Operand, b: Operand, rounding_mode: str) -> CLArray:
        """Return ``a / b`` rounded toward negative infinity (``"floor"``) or zero (``"trunc"``)."""
        return self.div(a, b, rounding_mode=rounding_mode)

    def add(self: "OpenCLBackend", a: Operand, b: Operand, alpha: Any = 1) -> CLArray:
        """Return ``a + alpha * b`` elementwise with broadcasting."""
        if alpha == 1:
            return self.map("add", BINARY["add"], [a, b])
        return self.map("add", PARAMETRIC["add_scaled"], [a, b, alpha])

    def sub(self: "OpenCLBackend", a: Operand, b: Operand, alpha: Any = 1) -> CLArray:
        """Return ``a - alpha * b`` elementwise with broadcasting."""
        if alpha == 1:
            return self.map("sub", BINARY["sub"], [a, b])
        return self.map("sub", PARAMETRIC["sub_scaled"], [a, b, alpha])

    def where(self: "OpenCLBackend", cond: CLArray, a: Operand, b: Operand) -> CLArray:
        """Return elements of ``a`` where ``cond`` is true and of ``b`` elsewhere, broadcast together.

        The result has ``a``'s dtype when ``a`` is an array, else ``b``'s, as
        the NumPy backend returns; two scalars give NumPy's result type.
        """
        if isinstance(a, CLArray):
            compute = a.dtype
        elif isinstance(b, CLArray):
            compute = b.dtype
        else:
            compute = np.result_type(a, b)
        return self.map("where", TERNARY["where"], [cond, a, b], compute=compute)

    def _keep_dtype(self: "OpenCLBackend", op: str, formula: Formula, operands: list[Operand]) -> CLArray:
        """Compute ``formula`` in a float type and store the result in the first operand's dtype."""
        x = operands[0]
        out = self.empty(broadcast_shapes(op, *[o.shape for o in operands if isinstance(o, CLArray)]), x.dtype)
        compute = float_result_dtype(x.dtype, self.has_fp64)
        return self.map(op, formula, operands, out=out, compute=compute)

    def leaky_relu(self: "OpenCLBackend", x: CLArray, negative_slope: float) -> CLArray:
        """Return ``x`` where positive, else ``x * negative_slope``."""
        return self._keep_dtype("leaky_relu", PARAMETRIC["leaky_relu"], [x, negative_slope])

    def elu(self: "OpenCLBackend", x: CLArray, alpha: float) -> CLArray:
        """Return ``x`` where positive, else ``alpha * (exp(x) - 1)``."""
        return self._keep_dtype("elu", PARAMETRIC["elu"], [x, alpha])

    def gelu(self: "OpenCLBackend", x: CLArray, approximate: str) -> CLArray:
        """Return the GELU of ``x``: exact with erf for ``"none"``, the tanh approximation for ``"tanh"``."""
        formula = PARAMETRIC["gelu_tanh" if approximate == "tanh" else "gelu_erf"]
        return self._keep_dtype("gelu", formula, [x])

    def softplus(self: "OpenCLBackend", x: CLArray, beta: float, threshold: float) -> CLArray:
        """Return ``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``."""
        return self._keep_dtype("softplus", PARAMETRIC["softplus"], [x, beta, threshold])

    def binary_cross_entropy(self: "OpenCLBackend", x: CLArray, target: CLArray) -> CLArray:
        """Return the elementwise binary cross entropy, each log clamped at -100 as PyTorch does."""
        return self._keep_dtype("binary_cross_entropy", PARAMETRIC["binary_cross_entropy"], [x, target])

    def round(self: "OpenCLBackend", x: CLArray, decimals: int = 0) -> CLArray:
        """Return ``x`` rounded half to even at ``decimals`` decimal places (negative: tens, hundreds ...)."""
        if decimals == 0 or (x.dtype.kind in "iub" and decimals > 0):
            return self.map("round", UNARY["round"], [x])
        if decimals > 0:
            return self._keep_dtype("round", PARAMETRIC["round_up"], [x, 10.0 ** decimals])
        return self._keep_dtype("round", PARAMETRIC["round_down"], [x, 10.0 ** -decimals])

    def clamp(self: "OpenCLBackend", x: CLArray, low: Operand | None, high: Operand | None) -> CLArray:
        """Return ``x`` limited to ``[low, high]``; either bound may be None, a scalar or an array. NaN propagates."""
        result = x
        if low is not None:
            result = self.map("clamp", BINARY["maximum"], [result, low])
        if high is not None:
            result = self.map("clamp", BINARY["minimum"], [result, high])
        return self.clone(result) if result is x else result

    def lerp(self: "OpenCLBackend", start: CLArray, end: CLArray, weight: Operand) -> CLArray:
        """Return ``start + weight * (end - start)``, each of its two forms used where it is exact."""
        return self.map("lerp", PARAMETRIC["lerp"], [start, end, weight])

    def bitwise_not(self: "OpenCLBackend", x: CLArray) -> CLArray:
        """Return ``~x`` for integers and ``not x`` for bool."""
        _check_integer("bitwise_not", x)
        if x.dtype == np.bool_:
            return self.map("bitwise_not", UNARY["logical_not"], [x])
        return self.map("bitwise_not", _BITWISE_NOT, [x])

    def fill(self: "OpenCLBackend", x: CLArray, value: Any) -> CLArray:
        """Return a new array shaped like ``x`` filled with ``value``."""
        return self.full(x.shape, value, x.dtype)

    def copy_from(self: "OpenCLBackend", x: CLArray, src: Operand) -> CLArray:
        """Return a new array shaped like ``x`` holding ``src`` (broadcast and converted to ``x``'s dtype)."""
        out = self.empty(x.shape, x.dtype)
        self.assign(out, src)
        return out


_BITWISE_NOT = Formula("x", "~x")


def _check_integer(op: str, *operands: Operand) -> None:
    """Raise PyTorch's error for a bitwise op on float operands."""
    for operand in operands:
        is_float = operand.dtype.kind == "f" if isinstance(operand, CLArray) else isinstance(operand, float)
        if is_float:
            raise RuntimeError(f"\"{op}_opencl\" not implemented for 'Float'")


def _unary_kernel(name: str, formula: Formula):
    def kernel(self: "OpenCLBackend", x: CLArray) -> CLArray:
        return self.map(name, formula, [x])

    kernel.__name__ = name
    kernel.__doc__ = f"Return ``{formula.on_float.replace('T', 'dtype')}`` elementwise (op '{name}')."
    return kernel


def _binary_kernel(name: str, formula: Formula):
    def kernel(self: "OpenCLBackend", a: Operand, b: Operand) -> CLArray:
        if name in INTEGER_ONLY:
            _check_integer(name, a, b)
        return self.map(name, formula, [a, b])

    kernel.__name__ = name
    kernel.__doc__ = (f"Return ``{formula.on_float}`` elementwise with broadcasting; "
                      f"either operand may be a Python scalar (op '{name}').")
    return kernel


# One method per table entry, so adding an op to formulas.py is all it takes.
# Methods written out in the class body (add, round ...) take parameters the table kernels lack.
for _name, _formula in UNARY.items():
    if _name not in vars(ElementwiseKernels):
        setattr(ElementwiseKernels, _name, _unary_kernel(_name, _formula))
for _name, _formula in BINARY.items():
    if _name not in vars(ElementwiseKernels):
        setattr(ElementwiseKernels, _name, _binary_kernel(_name, _formula))
