"""Elementwise formulas: one line per op, as OpenCL C expressions.

Unary formulas read ``x``; binary ones read ``a`` and ``b``; ``T`` is the
compute type. ``on_float`` is used for float compute types, ``on_int`` for
integer and bool ones (None means the op is float-only, so integer inputs are
computed in a float type, as NumPy does). ``vector=True`` marks a float formula
that is also valid for OpenCL vector types, which lets contiguous operands take
the vectorized fast path. Helpers named ``mg_*`` are defined by ``templates.helpers()``.

``result`` says which dtype the op returns: ``same`` (the compute dtype),
``float`` (a float dtype even for integer inputs) or ``bool``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Formula", "UNARY", "BINARY", "TERNARY", "PARAMETRIC", "INTEGER_ONLY"]


@dataclass(frozen=True)
class Formula:
    """The C expressions and result rule of one elementwise op."""

    on_float: str
    on_int: str | None = None
    result: str = "same"
    vector: bool = False


def same(on_float: str, on_int: str | None, vector: bool = True) -> Formula:
    """Return a formula whose result dtype is the compute dtype."""
    return Formula(on_float, on_int, "same", vector)


def floating(expression: str, vector: bool = True) -> Formula:
    """Return a float-only formula; integer inputs are computed as floats."""
    return Formula(expression, None, "float", vector)


def boolean(on_float: str, on_int: str) -> Formula:
    """Return a formula that yields a bool."""
    return Formula(on_float, on_int, "bool", False)


UNARY: dict[str, Formula] = {
    "neg": same("-x", "-x"),
    "abs": same("fabs(x)", "(x < (T)0 ? -x : x)"),
    "sign": same("mg_select(copysign((T)1, x), x, (x == (T)0) | isnan(x))", "(T)((x > (T)0) - (x < (T)0))"),
    "square": same("x * x", "x * x"),
    "relu": same("mg_select(x, (T)0, x < (T)0)", "(x < (T)0 ? (T)0 : x)"),
    "floor": same("floor(x)", "x"),
    "ceil": same("ceil(x)", "x"),
    "round": same("rint(x)", "x"),  # rint rounds half to even, as numpy.round does
    "trunc": same("trunc(x)", "x"),
    "exp": floating("exp(x)"),
    "exp2": floating("exp2(x)"),
    "expm1": floating("expm1(x)"),
    "log": floating("log(x)"),
    "log2": floating("log2(x)"),
    "log10": floating("log10(x)"),
    "log1p": floating("log1p(x)"),
    "sqrt": floating("sqrt(x)"),
    "rsqrt": floating("rsqrt(x)"),
    "reciprocal": floating("(T)1 / x"),
    "sin": floating("sin(x)"),
    "cos": floating("cos(x)"),
    "tan": floating("tan(x)"),
    "asin": floating("asin(x)"),
    "acos": floating("acos(x)"),
    "atan": floating("atan(x)"),
    "sinh": floating("sinh(x)"),
    "cosh": floating("cosh(x)"),
    "tanh": floating("tanh(x)"),
    "sigmoid": floating("(T)1 / ((T)1 + exp(-x))"),
    "erf": floating("erf(x)"),
    "silu": floating("x / ((T)1 + exp(-x))"),
    "log_sigmoid": floating("-(fmax(-x, (T)0) + log1p(exp(-fabs(x))))"),
    "frac": same("x - trunc(x)", "(T)0"),
    "logical_not": boolean("x == (T)0", "x == (T)0"),
    "isnan": boolean("isnan(x)", "0"),
    "isinf": boolean("isinf(x)", "0"),
    "isfinite": boolean("isfinite(x)", "1"),
}

BINARY: dict[str, Formula] = {
    "add": same("a + b", "a + b"),
    "sub": same("a - b", "a - b"),
    "mul": same("a * b", "a * b"),
    "div": floating("a / b"),
    "div_floor": same("mg_floor_div(a, b)", "mg_floor_div(a, b)", vector=False),
    "div_trunc": same("trunc(a / b)", "mg_trunc_div(a, b)"),
    "pow": same("pow(a, b)", "mg_int_pow(a, b)"),
    "remainder": same("mg_remainder(a, b)", "mg_remainder(a, b)", vector=False),
    "fmod": same("fmod(a, b)", "mg_fmod(a, b)"),
    "maximum": same("mg_select(b, a, (a > b) | isnan(a))", "(a > b ? a : b)"),
    "minimum": same("mg_select(b, a, (a < b) | isnan(a))", "(a < b ? a : b)"),
    "atan2": floating("atan2(a, b)"),
    "eq": boolean("a == b", "a == b"),
    "ne": boolean("a != b", "a != b"),
    "lt": boolean("a < b", "a < b"),
    "le": boolean("a <= b", "a <= b"),
    "gt": boolean("a > b", "a > b"),
    "ge": boolean("a >= b", "a >= b"),
    "logical_and": boolean("(a != (T)0) && (b != (T)0)", "(a != (T)0) && (b != (T)0)"),
    "logical_or": boolean("(a != (T)0) || (b != (T)0)", "(a != (T)0) || (b != (T)0)"),
    "logical_xor": boolean("(a != (T)0) != (b != (T)0)", "(a != (T)0) != (b != (T)0)"),
    "bitwise_and": same("a", "a & b"),
    "bitwise_or": same("a", "a | b"),
    "bitwise_xor": same("a", "a ^ b"),
}

#: Integer-only ops: float operands raise before their ``on_float`` placeholder could run.
INTEGER_ONLY = frozenset({"bitwise_and", "bitwise_or", "bitwise_xor"})

#: Ops with parameters. Operands are named by count, as for the tables above: ``x`` alone;
#: ``a`` (the input) and ``b``; or ``c`` (the input), ``a`` and ``b``.
PARAMETRIC: dict[str, Formula] = {
    "leaky_relu": floating("mg_select(a * b, a, a > (T)0)"),
    "elu": floating("mg_select(b * expm1(a), a, a > (T)0)"),
    "gelu_tanh": floating(
        "(T)0.5 * x * ((T)1 + tanh((T)0.7978845608028654 * (x + (T)0.044715 * x * x * x)))"),
    "gelu_erf": floating("(T)0.5 * x * ((T)1 + erf(x * (T)0.7071067811865476))"),
    # log1p(exp(-|cx|)) + max(cx, 0) is log(1 + exp(cx)) without overflow.
    "softplus": floating("mg_select((log1p(exp(-fabs(c * a))) + fmax(c * a, (T)0)) / a, c, c * a > b)"),
    "round_up": floating("rint(a * b) / b"),
    "round_down": floating("rint(a / b) * b"),
    "binary_cross_entropy": floating(
        "-(b * fmax(log(a), (T)-100) + ((T)1 - b) * fmax(log1p(-a), (T)-100))"),
    "add_scaled": same("c + a * b", "c + a * b"),
    "sub_scaled": same("c - a * b", "c - a * b"),
    "lerp": same("mg_select(a - (a - c) * ((T)1 - b), c + b * (a - c), fabs(b) < (T)0.5)", None),
}

#: ``where(cond, a, b)``: cond is loaded in the compute type of ``a`` and ``b``.
TERNARY: dict[str, Formula] = {
    "where": same("(c != (T)0 ? a : b)", "(c != (T)0 ? a : b)", vector=False),
}
