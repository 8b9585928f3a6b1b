"""Gradient clipping, in place on the ``.grad`` of parameters."""

from __future__ import annotations

import math
from typing import Iterable

from ..._grad_mode import no_grad
from ..._tensor import Tensor


def _grads_of(parameters) -> list[Tensor]:
    """Return the ``.grad`` tensors of the parameters that have one."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: "Tensor | Iterable[Tensor]", max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale the gradients in place so that their total norm is at most ``max_norm``; return the norm.

    The total norm is the ``norm_type`` norm of all gradients taken as one
    vector (``inf`` for the largest absolute value), computed before clipping.
    """
    import multigrad as mg

    norm_type = float(norm_type)
    grads = _grads_of(parameters)
    if not grads:
        return mg.tensor(0.0)
    with no_grad():
        if norm_type == math.inf:
            norms = [g.abs().max() for g in grads]
            total = mg.stack([n.to(grads[0].device) for n in norms]).max()
        else:
            norms = [mg.norm(g.reshape(-1), norm_type) for g in grads]
            total = mg.norm(mg.stack([n.to(grads[0].device) for n in norms]), norm_type)
        if error_if_nonfinite and not math.isfinite(total.item()):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
                "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
                "`error_if_nonfinite=False`"
            )
        scale = float(max_norm) / (total.item() + 1e-6)
        if scale < 1.0:
            for g in grads:
                g.mul_(scale)
    return total


def clip_grad_value_(parameters: "Tensor | Iterable[Tensor]", clip_value: float) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads_of(parameters):
            g.clamp_(-clip_value, clip_value)
