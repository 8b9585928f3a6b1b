"""Attach the generated op methods and Python operators to Tensor."""

from __future__ import annotations

from ._generated import _nodes  # noqa: F401  (import first: nodes and ops import each other)
from ._generated import _bindings
from ._runtime import _late_imports
from ._tensor import Tensor


def bind_methods() -> None:
    for name, function in _bindings.METHODS.items():
        setattr(Tensor, name, function)
    for name, function in _bindings.OPERATORS.items():
        setattr(Tensor, name, function)
    # Tensor.where's self is the value, not the condition as in the function form.
    Tensor.where = _bindings._ops.where_method
    Tensor.__pos__ = lambda self: self
    # Defining __eq__ would otherwise drop the identity hash that dict keys and sets rely on.
    Tensor.__hash__ = lambda self: id(self)


bind_methods()
_late_imports()
