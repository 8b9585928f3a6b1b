"""RMSprop (Hinton's lecture notes; the centered form from Graves, 2013)."""

from __future__ import annotations

from .._creation import zeros_like
from .optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop with PyTorch's update rule.

    For each parameter p with gradient g (negated when ``maximize``)::

        g = g + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g
        a = g_avg + (1 - alpha) * (g - g_avg)        (centered only; then avg = sqrt(s - a * a))
        avg = sqrt(s) + eps
        b = momentum * b + g / avg;  p = p - lr * b   (momentum > 0)
        p = p - lr * g / avg                         (momentum = 0)
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, *, maximize: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param, group) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
        grad = param._grad
        if group["maximize"]:
            grad = -grad

        state = self.state[param]
        if not state:
            state["step"] = 0
            state["square_avg"] = zeros_like(param)
            if momentum > 0:
                state["momentum_buffer"] = zeros_like(param)
            if centered:
                state["grad_avg"] = zeros_like(param)
        state["step"] += 1

        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        square_avg = state["square_avg"]
        square_avg.mul_(alpha).add_(grad * grad, alpha=1 - alpha)
        if centered:
            grad_avg = state["grad_avg"]
            grad_avg.add_(grad - grad_avg, alpha=1 - alpha)
            avg = square_avg.sub(grad_avg * grad_avg).sqrt()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(eps)

        if momentum > 0:
            buf = state["momentum_buffer"]
            buf.mul_(momentum).add_(grad / avg)
            param.add_(buf, alpha=-lr)
        else:
            param.add_(grad / avg, alpha=-lr)
