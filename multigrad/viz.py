"""Draw the backward graph of a tensor in Graphviz's DOT language, in the style of torchviz.

Backward nodes are grey boxes named by ``Node.name()``. Leaf tensors that
collect ``.grad`` are light blue. The tensors passed in are darkolivegreen1,
and their view bases darkolivegreen3. Saved tensors, drawn when
``show_saved=True``, are orange. These are the colours that torchviz's
``make_dot`` uses (pytorchviz, torchviz/dot.py).
"""

from __future__ import annotations

import re

import os
import shutil
import subprocess

from ._node import AccumulateGrad, SavedTensor
from ._tensor import Tensor

__all__ = ["make_dot", "Digraph", "GraphvizNotFoundError"]

LEAF_COLOR = "lightblue"
OUTPUT_COLOR = "darkolivegreen1"
BASE_COLOR = "darkolivegreen3"
SAVED_COLOR = "orange"

_INTERNAL_SLOTS = {"next_functions", "_seq", "_hook_state", "__weakref__", "variable"}


class GraphvizNotFoundError(RuntimeError):
    """Raised by :meth:`Digraph.render` when Graphviz's ``dot`` program is not installed."""


class Digraph:
    """A graph drawing: ``source`` is the DOT text, :meth:`render` turns it into an image."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __str__(self) -> str:
        return self.source

    def save(self, path: str | os.PathLike) -> str:
        """Write the DOT text to ``path`` and return the path."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.source)
        return os.fspath(path)

    def render(self, path: str | os.PathLike, format: str | None = None, dot: str | None = None) -> str:
        """Draw the graph into ``path`` with Graphviz and return the path.

        ``format`` is ``"svg"`` or ``"png"`` (any format that ``dot -T``
        accepts works); by default it comes from the file's suffix, else
        svg. A path without a suffix gets ``.<format>`` appended, as the
        graphviz package does (``render("graph")`` writes ``graph.svg``).
        ``dot`` is the Graphviz program to run (default: ``dot`` on PATH).
        Raises :class:`GraphvizNotFoundError` when it is missing.
        """
        path = os.fspath(path)
        suffix = os.path.splitext(path)[1].lstrip(".").lower()
        if format is None:
            format = suffix or "svg"
        if not suffix:
            path = f"{path}.{format}"
        program = dot or shutil.which("dot")
        if program is None or not os.path.exists(program):
            raise GraphvizNotFoundError(
                "Graphviz's 'dot' program was not found on PATH, so the graph cannot be drawn; install Graphviz "
                "(Debian/Ubuntu: apt-get install graphviz, macOS: brew install graphviz) or write the DOT text "
                "with .save(path)"
            )
        result = subprocess.run([program, f"-T{format}", "-o", path], input=self.source.encode("utf-8"),
                                capture_output=True, check=False)
        if result.returncode != 0:
            message = result.stderr.decode("utf-8", "replace").strip()
            raise RuntimeError(f"Graphviz 'dot -T{format}' failed with exit status {result.returncode}: {message}")
        return path

    def _repr_svg_(self) -> str:  # shown inline by Jupyter
        program = shutil.which("dot")
        if program is None:
            return ""
        result = subprocess.run([program, "-Tsvg"], input=self.source.encode("utf-8"), capture_output=True, check=False)
        return result.stdout.decode("utf-8", "replace")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _size_text(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def make_dot(var: "Tensor | tuple[Tensor, ...]", params: dict[str, Tensor] | None = None, show_attrs: bool = False,
             show_saved: bool = False, max_attr_chars: int = 50, forward: bool = False) -> Digraph:
    """Return a drawing of the backward graph that produced ``var`` (a tensor or a tuple of tensors).

    Args:
        var: the output tensor(s); the graph is walked from their ``grad_fn``.
        params: names for leaf tensors, such as ``dict(model.named_parameters())``.
        show_attrs: list each node's non-tensor saved values (shapes, scalars) under its name.
        show_saved: draw the tensors each node saved for backward, in orange.
        max_attr_chars: cut attribute values longer than this.
        forward: draw the forward computation instead: each node is named by its op
            (``mul`` for ``MulBackward0``) and leaves feed their ops directly, without the
            AccumulateGrad nodes.
    """
    if params is not None:
        for name, value in params.items():
            if not isinstance(value, Tensor):
                raise TypeError(f"make_dot(): params[{name!r}] must be a Tensor, got {type(value).__name__}")
    names = {id(v): k for k, v in (params or {}).items()}
    lines = [
        "digraph {",
        "\tgraph [size=\"12,12\"]",
        "\tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled]",
    ]
    seen: set[int] = set()

    def tensor_label(t, name: str | None = None) -> str:
        if not name:
            name = names.get(id(t), "")
        return f"{name}\n {_size_text(t.shape)}"

    def add_node(key: int, label: str, color: str | None = None) -> None:
        attrs = f"label={_quote(label)}"
        if color:
            attrs += f" fillcolor={color}"
        lines.append(f"\t{key} [{attrs}]")

    def add_edge(src: int, dst: int, extra: str = "") -> None:
        lines.append(f"\t{src} -> {dst}" + (f" [{extra}]" if extra else ""))

    def add_saved(fn) -> None:
        for slot in fn._saved_names:
            saved = getattr(fn, slot, None)
            if saved.__class__ is not SavedTensor:
                continue
            key = id(saved)
            if key in seen:
                continue
            seen.add(key)
            if saved.counter is None:
                shape = "(freed)"
            elif saved.tensor is not None:
                shape = _size_text(saved.tensor._data.shape)
            else:
                shape = _size_text(saved.data.shape)
            add_node(key, f"{slot}\n {shape}", SAVED_COLOR)
            add_edge(id(fn), key, "dir=none")

    def walk(root) -> None:
        # An explicit stack instead of recursion: graphs may be deeper than Python's recursion limit.
        stack = [root]
        while stack:
            fn = stack.pop()
            if id(fn) in seen:
                continue
            seen.add(id(fn))
            if show_saved:
                add_saved(fn)
            if isinstance(fn, AccumulateGrad):
                leaf = fn.variable
                seen.add(id(leaf))
                add_node(id(leaf), tensor_label(leaf), LEAF_COLOR)
                if not forward:
                    add_edge(id(leaf), id(fn))
                    add_node(id(fn), _node_label(fn, show_attrs, max_attr_chars))
                continue
            label = _node_label(fn, show_attrs, max_attr_chars)
            add_node(id(fn), _forward_op_name(label) if forward else label)
            for next_fn, _ in fn.next_functions:
                if next_fn is None:
                    continue
                # In the forward view a leaf feeds the op itself, not through its AccumulateGrad node.
                source = id(next_fn.variable) if forward and isinstance(next_fn, AccumulateGrad) else id(next_fn)
                add_edge(source, id(fn))
                stack.append(next_fn)

    def add_output(t: Tensor, color: str) -> None:
        if id(t) in seen:
            return
        seen.add(id(t))
        add_node(id(t), tensor_label(t), color)
        if t.grad_fn is not None:
            walk(t.grad_fn)
            add_edge(id(t.grad_fn), id(t))
        if t._base is not None:
            add_output(t._base, BASE_COLOR)
            add_edge(id(t._base), id(t), "style=dotted")

    outputs = var if isinstance(var, tuple) else (var,)
    for t in outputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"make_dot(): expected a Tensor or a tuple of Tensors, got {type(t).__name__}")
        add_output(t, OUTPUT_COLOR)

    lines.append("}")
    # Grow the drawing with its content, as torchviz does, so large graphs stay legible.
    size = max(12.0, (len(lines) - 4) * 0.15)
    lines[1] = f"\tgraph [size=\"{size:g},{size:g}\"]"
    return Digraph("\n".join(lines) + "\n")


def _forward_op_name(label: str) -> str:
    """Return the forward op of a node label: ``mul`` for ``MulBackward0``, ``setitem`` for ``CopySlices``."""
    first, _, rest = label.partition("\n")
    if first == "CopySlices":
        name = "setitem"
    else:
        stem = re.sub(r"Backwards?\d*$", "", first)
        name = re.sub(r"(?<!^)(?=[A-Z])", "_", stem).lower()
    return name + ("\n" + rest if rest else "")


def _node_label(fn, show_attrs: bool, max_attr_chars: int) -> str:
    name = fn.name()
    if not show_attrs:
        return name
    attrs = {}
    for cls in type(fn).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if slot in _INTERNAL_SLOTS or slot.startswith("_") or slot in attrs:
                continue
            value = getattr(fn, slot, None)
            if value is None:
                continue
            if isinstance(value, SavedTensor):
                attrs[slot] = "[saved tensor]"
            elif slot.endswith("_meta") and isinstance(value, tuple) and len(value) == 2:
                shape, np_dtype = value
                attrs[slot] = f"{_size_text(shape)} {np_dtype}"
            else:
                attrs[slot] = str(value)
    if not attrs:
        return name
    width = max(max_attr_chars, 3)
    key_width = max(len(k) for k in attrs)
    value_width = min(max(len(v) for v in attrs.values()), width)

    def cut(text: str) -> str:
        return text[:value_width - 3] + "..." if len(text) > value_width else text

    rows = [f"{k.ljust(key_width)}: {cut(v).rjust(value_width)}" for k, v in attrs.items()]
    rule = "-" * max(key_width + value_width + 2, len(name))
    return name + "\n" + rule + "\n" + "\n".join(rows)
