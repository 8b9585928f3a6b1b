"""Lower a derivative formula to backend kernel calls, for backward without recording.

A formula normally runs as multigrad ops, so that ``create_graph=True`` can
record it. When nothing is recorded, the same arithmetic can call the
backend's kernels on arrays directly and skip each op's wrapper. A formula
lowers when it is made of arithmetic operators, comparisons, constants and
calls of primitives whose arguments are all tensors. Any other formula keeps
just its Tensor path.
"""

from __future__ import annotations

import ast

from .model import Op

_BINARY_KERNELS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "true_divide", ast.Pow: "pow"}
_COMPARE_KERNELS = {ast.Gt: "gt", ast.Lt: "lt", ast.GtE: "ge", ast.LtE: "le", ast.Eq: "eq", ast.NotEq: "ne"}


class _Unlowerable(Exception):
    pass


def lower_formula(text: str, op: Op, known_ops: dict, tensor_names: set[str], scalar_names: set[str],
                  value_names: frozenset[str] = frozenset()) -> str | None:
    """Return array-level Python source for ``text``, or None when the formula does not lower.

    In the returned source, ``grad`` and each name in ``tensor_names`` stand
    for arrays (``<name>_d``), names in ``scalar_names`` for plain saved
    values (numbers, or numbers standing for a Tensor|Scalar argument), names
    in ``value_names`` for saved metadata such as ``self_shape``, and ``b`` is
    the backend. Arithmetic between plain values stays Python arithmetic, so
    no kernel ever gets two numbers, because NumPy would return a float64
    array for them and change the gradient's dtype.
    """
    names = _Names(tensor_names, scalar_names, value_names)
    try:
        source, _ = _lower(ast.parse(text, mode="eval").body, op, known_ops, names)
        return source
    except _Unlowerable:
        return None


class _Names:
    """The saved names a formula may read, by what they stand for in the array path."""

    def __init__(self, tensors: set[str], scalars: set[str], values: frozenset[str]) -> None:
        self.tensors, self.scalars, self.values = tensors, scalars, values


def _is_scalar_test(node: ast.AST, scalar_names: set[str]) -> bool:
    """Return whether ``node`` is a condition on plain saved values, evaluated in Python as it is."""
    allowed = (ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Constant, ast.Load, ast.cmpop, ast.boolop, ast.unaryop)
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            if child.id not in scalar_names:
                return False
        elif not isinstance(child, allowed):
            return False
    return True


_PYTHON_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}

# Kinds of a lowered expression: surely an array, surely a number, either (a Tensor|Scalar argument), or
# another plain value (a shape, dims, a flag) that only an array twin may take.
ARRAY, NUMBER, EITHER, VALUE = "array", "number", "either", "value"

#: Formula helpers and ops with an array-level twin ``<name>_array(b, ...)`` in
#: multigrad/_formula_helpers.py. A call of one lowers to a call of its twin, which takes the
#: backend, then the same arguments with arrays in place of tensors.
ARRAY_TWINS = frozenset({
    "sum", "sum_to", "sum_backward", "mean_backward", "matmul_backward", "_nll_loss_backward",
})


def _lower(node: ast.AST, op: Op, known_ops: dict, names: _Names) -> tuple[str, str]:
    """Return ``(source, kind)`` for one formula node."""
    def again(child: ast.AST) -> tuple[str, str]:
        source, kind = _lower(child, op, known_ops, names)
        if kind == VALUE:
            raise _Unlowerable("a shape or flag outside an array twin's arguments")
        return source, kind

    if isinstance(node, ast.Name):
        if node.id == "grad":
            return "grad_d", ARRAY
        if node.id in names.tensors:
            arg = next((a for a in op.args if a.name == node.id), None)
            return f"{node.id}_d", EITHER if arg is not None and arg.type != "Tensor" else ARRAY
        if node.id in names.scalars:
            return node.id, NUMBER
        if node.id in names.values:
            return node.id, VALUE
        raise _Unlowerable(node.id)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return repr(node.value), NUMBER
        return repr(node.value), VALUE
    if isinstance(node, ast.IfExp) and _is_scalar_test(node.test, names.scalars):
        (body, body_kind), (orelse, orelse_kind) = again(node.body), again(node.orelse)
        if body_kind != orelse_kind:
            raise _Unlowerable("branches of different kinds")
        return f"({body} if {ast.unparse(node.test)} else {orelse})", body_kind
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY_KERNELS:
        (left, left_kind), (right, right_kind) = again(node.left), again(node.right)
        if ARRAY in (left_kind, right_kind):
            return f"b.{_BINARY_KERNELS[type(node.op)]}({left}, {right})", ARRAY
        if left_kind == right_kind == NUMBER:
            return f"({left} {_PYTHON_OPERATORS[type(node.op)]} {right})", NUMBER
        raise _Unlowerable("a kernel could get two numbers")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        operand, kind = again(node.operand)
        if kind == ARRAY:
            return f"b.neg({operand})", ARRAY
        if kind == NUMBER:
            return f"(-{operand})", NUMBER
        raise _Unlowerable("negation of a tensor or number")
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE_KERNELS:
        (left, left_kind), (right, right_kind) = again(node.left), again(node.comparators[0])
        if ARRAY not in (left_kind, right_kind):
            raise _Unlowerable("comparison without an array")
        return f"b.{_COMPARE_KERNELS[type(node.ops[0])]}({left}, {right})", ARRAY
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        if node.func.id in ARRAY_TWINS:
            lowered = [_lower(a, op, known_ops, names) for a in node.args]
            if lowered and lowered[0][1] == ARRAY:
                return f"{node.func.id}_array(b, {', '.join(source for source, _ in lowered)})", ARRAY
        called = known_ops.get(node.func.id)
        if called is not None and called.kernel is not None and called.dtype_rule in ("promote", "float", "none", "keep"):
            if all(a.is_tensor for a in called.args) and len(node.args) == len(called.args):
                lowered = [again(a) for a in node.args]
                if any(kind == ARRAY for _, kind in lowered):
                    return f"b.{called.kernel}({', '.join(source for source, _ in lowered)})", ARRAY
    raise _Unlowerable(ast.dump(node))
