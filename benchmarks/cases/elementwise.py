"""A chain of 100 elementwise ops, then sum and backward.

On 4 elements the time is almost all per-op overhead. On 1e6 elements it is
almost all kernel time, so hand-written NumPy is the floor for multigrad's NumPy
backend.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from benchmarks.cases.common import GradientReader, Step, check_and_time
from benchmarks.libraries import import_library, make_tensor, tensor_gradients
from benchmarks.timing import TimingPlan

# Each block is four ops (mul, add, tanh, exp), so 25 blocks make 100 ops.
BLOCKS = 25
SEED = 0

# A block maps x to exp(tanh(0.9 * x - 0.9)). After the first block every value
# lies in (0.6, 2.5) and moves towards the fixed point 1. The block's derivative
# there is 0.9, so the input gradient stays near 0.9**25 = 0.07 instead of vanishing.
SCALE = 0.9
SHIFT = -0.9


def chain(x: Any, tanh: Callable[[Any], Any], exp: Callable[[Any], Any]) -> Any:
    """Apply the 100 ops."""
    for _ in range(BLOCKS):
        x = x * SCALE
        x = x + SHIFT
        x = tanh(x)
        x = exp(x)
    return x


def make_input(numel: int) -> np.ndarray:
    return np.random.default_rng(SEED).uniform(-1.0, 1.0, numel).astype(np.float32)


def build_tensor_step(module: Any, data: np.ndarray) -> tuple[Step, GradientReader]:
    """Return the step and gradient reader for multigrad or torch, which share this code."""
    x = make_tensor(module, data, requires_grad=True)

    def step() -> Any:
        x.grad = None
        loss = chain(x, module.tanh, module.exp).sum()
        loss.backward()
        return loss

    return step, lambda: tensor_gradients([x])


def build_autograd_step(data: np.ndarray) -> tuple[Step, GradientReader]:
    import autograd.numpy as anp
    from autograd import value_and_grad

    loss_and_grad = value_and_grad(lambda x: anp.sum(chain(x, anp.tanh, anp.exp)))
    state: dict[str, Any] = {}

    def step() -> Any:
        loss, state["grad"] = loss_and_grad(data)
        return loss

    return step, lambda: [state["grad"]]


def build_numpy_step(data: np.ndarray) -> tuple[Step, GradientReader]:
    """Return a step whose backward is written by hand with the same NumPy calls a library makes."""
    state: dict[str, Any] = {}

    def step() -> Any:
        saved = []
        y = data
        for _ in range(BLOCKS):
            y = y * SCALE
            y = y + SHIFT
            tanh_out = np.tanh(y)
            y = np.exp(tanh_out)
            saved.append((tanh_out, y))
        loss = y.sum()

        # d(sum)/dy is ones. Walk the blocks backwards: exp, tanh, add (identity), mul.
        grad = np.ones_like(y)
        for tanh_out, exp_out in reversed(saved):
            grad = grad * exp_out
            grad = grad * (1 - tanh_out * tanh_out)
            grad = grad * SCALE
        state["grad"] = grad
        return loss

    return step, lambda: [state["grad"]]


def run(library: str, params: dict[str, Any], plan: TimingPlan) -> dict[str, Any]:
    data = make_input(params["numel"])
    if library == "numpy":
        step, read_gradients = build_numpy_step(data)
    elif library == "autograd":
        step, read_gradients = build_autograd_step(data)
    else:
        step, read_gradients = build_tensor_step(import_library(library), data)
    return check_and_time(step, read_gradients, plan)
