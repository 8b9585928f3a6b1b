"""``Parameter``: a tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

from .._tensor import Tensor, _wrap


class Parameter(Tensor):
    """A leaf tensor that requires grad and that a :class:`Module` registers when assigned.

    ``Parameter(data)`` shares memory and version counter with ``data``.
    ``isinstance(p, multigrad.Tensor)`` is true and every op accepts it; op
    results are plain tensors.
    """

    __slots__ = ()

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> "Parameter":
        if data is None:
            from .._creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, got {type(data).__name__}")
        p = object.__new__(cls)
        p._data = data._data
        p._backend = data._backend
        p._requires_grad = False
        p._grad_fn = None
        p._output_nr = 0
        p._grad = None
        p._version_counter = data._version_counter
        p._base = None
        p.requires_grad_(requires_grad)
        return p

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass  # everything happens in __new__; Tensor.__init__ would raise

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)

    def __deepcopy__(self, memo: dict) -> "Parameter":
        if id(self) in memo:
            return memo[id(self)]
        copy = Parameter(_wrap(self._backend.clone(self._data), self._backend), self._requires_grad)
        memo[id(self)] = copy
        return copy


def is_parameter(value: object) -> bool:
    """Return whether ``value`` is a Parameter."""
    return isinstance(value, Parameter)
