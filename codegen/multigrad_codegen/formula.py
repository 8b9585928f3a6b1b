"""Parse and check the formulas of an op, and infer what its Node must save.

Formulas are Python expressions read with :mod:`ast`, never evaluated here.
A formula may read ``grad`` (the gradient of the output), ``result`` (the
output), the op's arguments, ``<arg>.shape``/``.dtype``/``.ndim`` (saved as
plain values, so that changing the tensor in place later is harmless), call
registry ops as functions or Tensor methods, and use a few Python builtins.
"""

from __future__ import annotations

import ast
import os

from .model import Op

BUILTINS = {"None", "True", "False", "len", "tuple", "list", "range", "min", "max", "int", "float", "abs", "sum", "zip", "enumerate", "sorted", "isinstance"}
METADATA = {"shape", "dtype", "ndim", "device"}
#: Tensor members that are not registry ops but may be called in formulas.
TENSOR_MEMBERS = {"shape", "dtype", "ndim", "device", "numel", "size", "dim", "detach", "to", "float", "double", "long", "bool", "type_as", "item"}
def module_functions(registry_path: str, module: str) -> set[str]:
    """Return the names a module of the multigrad package beside the registry defines or lists in ``__all__``.

    The module is read with ast, never imported, so the generator works on a
    checkout whose generated code is broken.
    """
    path = os.path.join(os.path.dirname(os.path.abspath(registry_path)), "multigrad", f"{module}.py")
    if not os.path.exists(path):
        return set()
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            names |= {elt.value for elt in node.value.elts if isinstance(elt, ast.Constant)}
    return names


class _MetadataRewriter(ast.NodeTransformer):
    """Turn ``x.shape`` into the saved name ``x_shape`` for op arguments and ``result``."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.metadata: set[tuple[str, str]] = set()

    def visit_Attribute(self, node: ast.Attribute):
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id in self.names and node.attr in METADATA:
            self.metadata.add((node.value.id, node.attr))
            return ast.copy_location(ast.Name(id=f"{node.value.id}_{node.attr}", ctx=ast.Load()), node)
        return node


def check_formula(text: str, op: Op, known_ops: dict, allowed: set[str], helpers: set[str] = frozenset()) -> tuple[ast.Expression, list[str]]:
    """Parse ``text`` and return its tree and a list of problems (empty when valid)."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        return None, [f"formula {text!r} does not parse: {error.msg}"]
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id not in allowed and node.id not in known_ops and node.id not in BUILTINS and node.id not in helpers:
                problems.append(f"formula {text!r} reads unknown name '{node.id}'")
        elif isinstance(node, ast.Attribute):
            ok = node.attr in TENSOR_MEMBERS or (node.attr in known_ops and "method" in known_ops[node.attr].variants)
            if not ok:
                problems.append(f"formula {text!r} uses unknown Tensor member '.{node.attr}'")
        elif isinstance(node, (ast.Lambda, ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom)):
            problems.append(f"formula {text!r} uses {type(node).__name__}, which formulas do not allow")
    return tree, problems


def analyze_op(op: Op, known_ops: dict, registry_path: str, helpers: set[str]) -> list[str]:
    """Validate the op's formulas and fill ``op.saved`` and ``op.rewritten``; return problems."""
    problems: list[str] = []
    arg_names = {a.name for a in op.args}
    for reserved in ("grad", "result"):
        if reserved in arg_names and op.derivatives:
            problems.append(
                f"argument '{reserved}' hides the '{reserved}' that derivative formulas read; rename it (for example {reserved}_output)"
            )
    tensor_names = {a.name for a in op.tensor_args}

    if op.composite is not None:
        _, found = check_formula(op.composite, op, known_ops, arg_names, helpers)
        problems += found
    if op.python is not None:
        module, _, function = op.python.rpartition(".")
        module = module or "_composites"
        if function not in module_functions(registry_path, module.replace(".", "/")):
            problems.append(f"python forward '{op.python}': no function '{function}' in multigrad/{module.replace('.', '/')}.py")

    if op.kernel is None and op.derivatives:
        problems.append("only primitives (with 'kernel') declare derivatives; a composite's gradient comes from the ops it uses")
    for name in op.derivatives:
        if name not in tensor_names:
            problems.append(f"derivative for '{name}', which is not a Tensor argument")

    # saved: name -> set of inputs whose formula reads it
    saved: dict[str, set[str]] = {}
    for input_name, text in op.derivatives.items():
        tree, found = check_formula(text, op, known_ops, arg_names | {"grad", "result"}, helpers)
        problems += found
        if tree is None:
            continue
        rewriter = _MetadataRewriter(arg_names | {"result"})
        tree = ast.fix_missing_locations(rewriter.visit(tree))
        op.rewritten[input_name] = ast.unparse(tree)
        for arg, attr in rewriter.metadata:
            saved.setdefault(f"{arg}_{attr}", set()).add(input_name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and (node.id in arg_names or node.id == "result"):
                saved.setdefault(node.id, set()).add(input_name)
    if op.fits_gradients:
        for a in op.tensor_args:
            saved.setdefault(f"{a.name}_meta", set()).add(a.name)
    op.saved = {name: sorted(readers) for name, readers in sorted(saved.items())}
    return problems
