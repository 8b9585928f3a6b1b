"""Load ``ops.yaml`` into :class:`~.model.Op` records and validate them."""

from __future__ import annotations

import keyword
import re

import yaml

from .model import ARG_TYPES, Arg, Op, Registry

KNOWN_FIELDS = {
    "name", "signature", "doc", "variants", "operator", "dtype", "kernel", "composite", "python",
    "derivatives", "samples", "broadcast", "view", "nondifferentiable", "node", "bool_error",
}
VARIANTS = {"function", "method", "inplace"}
DTYPE_RULES = {"promote", "float", "bool", "accumulate", "keep", "none"}
OPERATORS = {"add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor"}

_SIGNATURE = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\((?P<args>.*)\)\s*->\s*(?P<returns>.+)$")


class RegistryError(Exception):
    """Raised when ``ops.yaml`` is invalid; the message lists every problem with its line."""


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that records each mapping's line number under ``__line__``."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def parse_signature(text: str) -> tuple[str, list[Arg], list[str]]:
    """Parse ``name(Type arg=default, *, Type kw=default) -> Return``."""
    match = _SIGNATURE.match(text.strip())
    if not match:
        raise ValueError(f"signature {text!r} does not have the form 'name(Type arg, ...) -> Tensor'")
    args: list[Arg] = []
    keyword_only = False
    for part in _split_args(match["args"]):
        if part == "*":
            keyword_only = True
            continue
        decl, _, default = part.partition("=")
        pieces = decl.split()
        if len(pieces) != 2:
            raise ValueError(f"argument {part!r} must be 'Type name' or 'Type name=default'")
        arg_type, name = pieces
        if arg_type not in ARG_TYPES:
            raise ValueError(f"argument {name!r} has unknown type {arg_type!r}; known types: {', '.join(sorted(ARG_TYPES))}")
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"argument name {name!r} is not a valid Python identifier")
        args.append(Arg(name, arg_type, default.strip() or None if default else None, keyword_only))
    returns = [r.strip() for r in match["returns"].strip("() ").split(",")]
    return match["name"], args, returns


def _split_args(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def load_registry(path: str) -> Registry:
    """Load and validate the registry at ``path``; raise :class:`RegistryError` listing every problem."""
    from .formula import analyze_op, module_functions

    with open(path, encoding="utf-8") as f:
        try:
            entries = yaml.load(f, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
        except yaml.YAMLError as error:
            raise RegistryError(f"{path}: invalid YAML: {error}") from None
    if not isinstance(entries, list):
        raise RegistryError(f"{path}: expected a list of op entries at the top level")

    errors: list[str] = []
    ops: list[Op] = []
    seen: dict[str, int] = {}
    for entry in entries:
        line = entry.get("__line__", 0) if isinstance(entry, dict) else 0
        try:
            op = _build_op(entry)
        except ValueError as error:
            name = entry.get("name", "?") if isinstance(entry, dict) else "?"
            errors.append(f"{path}:{line}: op '{name}': {error}")
            continue
        if op.name in seen:
            errors.append(f"{path}:{line}: op '{op.name}': already declared at line {seen[op.name]}")
            continue
        seen[op.name] = line
        ops.append(op)

    node_lines: dict[str, tuple[str, int]] = {}
    for op in ops:
        if not op.derivatives:
            continue  # only differentiable primitives generate a Node class
        if op.node_name in node_lines:
            other, other_line = node_lines[op.node_name]
            errors.append(
                f"{path}:{op.line}: op '{op.name}': Node class {op.node_name} is also made by op '{other}' "
                f"(line {other_line}); set 'node:' on one of them"
            )
        node_lines[op.node_name] = (op.name, op.line)

    registry = Registry(ops, path)
    known = registry.by_name()
    helpers = module_functions(path, "_formula_helpers")
    for op in ops:
        for problem in analyze_op(op, known, path, helpers):
            errors.append(f"{path}:{op.line}: op '{op.name}': {problem}")
    if errors:
        raise RegistryError("\n".join(errors))
    return registry


def _build_op(entry: object) -> Op:
    if not isinstance(entry, dict):
        raise ValueError(f"an entry must be a mapping, got {type(entry).__name__}")
    unknown = set(entry) - KNOWN_FIELDS - {"__line__"}
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}; known fields: {', '.join(sorted(KNOWN_FIELDS))}")
    for required in ("name", "signature", "doc"):
        if required not in entry:
            raise ValueError(f"missing required field '{required}'")
    if "samples" not in entry:
        raise ValueError("missing required field 'samples' (use 'samples: []' only for ops the test suite must reject)")

    sig_name, args, returns = parse_signature(str(entry["signature"]))
    if sig_name != entry["name"]:
        raise ValueError(f"signature names '{sig_name}', but the entry is '{entry['name']}'")

    forwards = [key for key in ("kernel", "composite", "python") if key in entry]
    if len(forwards) != 1:
        raise ValueError("needs exactly one forward: 'kernel' (a backend primitive), 'composite' (a formula) or 'python' (a function of multigrad._composites, or 'module.function' for another module of the multigrad package)")

    variants = entry.get("variants", ["function", "method"])
    if not isinstance(variants, list) or not set(variants) <= VARIANTS:
        raise ValueError(f"variants must be a list drawn from {sorted(VARIANTS)}, got {variants!r}")
    operator = entry.get("operator")
    if operator is not None and operator not in OPERATORS:
        raise ValueError(f"operator {operator!r} is not one of {sorted(OPERATORS)}")
    dtype_rule = entry.get("dtype", "promote")
    if dtype_rule not in DTYPE_RULES:
        raise ValueError(f"dtype rule {dtype_rule!r} is not one of {sorted(DTYPE_RULES)}")

    derivatives = entry.get("derivatives", {}) or {}
    if not isinstance(derivatives, dict):
        raise ValueError("derivatives must map input names to formulas")
    derivatives = {k: str(v) for k, v in derivatives.items() if k != "__line__"}
    arg_names = {a.name for a in args}
    for name in derivatives:
        if name not in arg_names:
            raise ValueError(f"derivative for unknown input '{name}'; inputs are {', '.join(a.name for a in args)}")
    nondifferentiable = bool(entry.get("nondifferentiable", False))
    if "bool_error" in entry and "kernel" not in entry:
        raise ValueError("bool_error applies to primitives (with 'kernel') only")
    if "kernel" in entry and not derivatives and not nondifferentiable:
        raise ValueError("a primitive needs a derivative formula per differentiable input, or 'nondifferentiable: true'")

    samples = entry["samples"] or []
    if not isinstance(samples, list):
        raise ValueError("samples must be a list")
    clean_samples = []
    for sample in samples:
        if not isinstance(sample, dict) or "args" not in sample:
            raise ValueError(f"each sample needs 'args' (a list), got {sample!r}")
        clean_samples.append({k: v for k, v in sample.items() if k != "__line__"})

    camel = "".join(part.capitalize() for part in entry["name"].strip("_").split("_"))
    return Op(
        name=entry["name"],
        line=entry["__line__"],
        args=args,
        returns=returns,
        doc=str(entry["doc"]).strip(),
        variants=variants,
        operator=operator,
        dtype_rule=dtype_rule,
        kernel=entry.get("kernel"),
        composite=entry.get("composite"),
        python=entry.get("python"),
        derivatives=derivatives,
        samples=clean_samples,
        broadcast=bool(entry.get("broadcast", False)),
        view=bool(entry.get("view", False)),
        node_name=entry.get("node", f"{camel}Backward0"),
        nondifferentiable=nondifferentiable,
        bool_error=entry.get("bool_error"),
    )
