"""The backward graph's public names: Node and saved-tensor hooks."""

from __future__ import annotations

from typing import Any, Callable

from .._node import SAVED_TENSOR_HOOKS, Node

__all__ = ["Node", "saved_tensors_hooks"]


class saved_tensors_hooks:
    """Pack tensors saved for backward with ``pack_hook`` and restore them with ``unpack_hook``.

    Inside the ``with`` block, every tensor an op saves is passed to
    ``pack_hook(tensor)``, and the node keeps only what it returns. Backward
    calls ``unpack_hook(packed)`` to get a tensor back. Hooks apply to the
    thread that entered the block; blocks nest, and the innermost wins.
    Tensors packed this way skip the version check, since the node no longer
    keeps them.
    """

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError("saved_tensors_hooks expects two callables: pack_hook(tensor) and unpack_hook(packed)")
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> "saved_tensors_hooks":
        SAVED_TENSOR_HOOKS.push(self.pack_hook, self.unpack_hook)
        return self

    def __exit__(self, *exc_info) -> None:
        SAVED_TENSOR_HOOKS.pop()
