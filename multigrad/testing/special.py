"""The one table of registry ops that the checks cannot call by their own name.

Ops are called by name in both libraries (``torch.<name>``, ``torch.Tensor.<name>``
or ``torch.nn.functional.<name>``). Private ops (names starting with ``_``) and
ops without a PyTorch namesake need an entry here: either :class:`Through`, an
expression over public API that both libraries run and that reaches the op, or
:class:`Skip` with the reason the op is not checked against PyTorch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["Through", "Skip", "SPECIAL_OPS"]


@dataclass(frozen=True)
class Through:
    """Check an op through public API: ``call(lib, *args, **kwargs)`` runs in multigrad and in PyTorch.

    ``lib`` is the library module (``multigrad`` or ``torch``). When
    ``check_node`` is set, multigrad's result must come from the op's own
    Node (``op.node_name``), which proves that the expression reached the op.
    """

    call: Callable
    expression: str
    check_node: bool = True


@dataclass(frozen=True)
class Skip:
    """Leave an op out of the registry checks, for ``reason``."""

    reason: str


def _index_backward(lib, grad, shape, index):
    # The backward of x[index] at a zero x of ``shape``; recorded so that its own gradient can be checked.
    x = lib.zeros(tuple(shape), dtype=grad.dtype, device=grad.device, requires_grad=True)
    (result,) = lib.autograd.grad(x[index], x, grad, create_graph=True)
    return result


def _public(lib, name: str):
    # multigrad and torch keep some ops only in nn.functional (torch has no public torch.gelu).
    found = getattr(lib, name, None)
    return found if found is not None else getattr(lib.nn.functional, name)


def _unsafe_view(lib, x, shape):
    # Transposing first makes the data non-contiguous, so reshape must copy and then take _unsafe_view.
    # NOTE: a 1-D or 0-d sample stays contiguous and takes _view; the node check then fails.
    return x.transpose(0, -1).reshape(shape)


SPECIAL_OPS: dict[str, Through | Skip] = {
    "_mean": Through(lambda lib, x, dim=None, keepdim=False: lib.mean(x, dim, keepdim), "mean(x, dim, keepdim)"),
    "_matmul": Through(lambda lib, a, b: lib.matmul(a, b), "matmul(a, b)"),
    "_permute": Through(lambda lib, x, dims: x.permute(dims), "x.permute(dims)"),
    "_view": Through(lambda lib, x, shape: x.view(shape), "x.view(shape)"),
    "_unsafe_view": Through(_unsafe_view, "x.transpose(0, -1).reshape(shape)"),
    "_expand": Through(lambda lib, x, size: x.expand(size), "x.expand(size)"),
    "_index_view": Through(lambda lib, x, index: x[index], "x[index]"),
    "_index_gather": Through(lambda lib, x, index: x[index], "x[index]"),
    "_index_backward": Through(_index_backward, "autograd.grad(zeros(shape)[index], grad_outputs=grad)"),
    "_to_copy": Through(lambda lib, x, dtype=None, device=None: x.to(dtype, copy=True), "x.to(dtype, copy=True)"),
    "_gelu": Through(lambda lib, x, approximate: _public(lib, "gelu")(x, approximate=approximate),
                     "gelu(x, approximate=approximate)"),
    "_clamp_scalar": Through(lambda lib, x, min, max: lib.clamp(x, min, max), "clamp(x, min, max) with numbers"),
    "_clamp_tensor": Through(lambda lib, x, min, max: lib.clamp(x, min, max), "clamp(x, min, max) with tensors"),
    "div_rounding": Through(lambda lib, a, b, mode: lib.div(a, b, rounding_mode=mode), "div(a, b, rounding_mode=mode)"),
}
