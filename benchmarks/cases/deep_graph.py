"""Backward through long chains of cheap ops on a one-element tensor.

Only backward is timed. A short and a long chain (10x longer) run in the same
process, so the ratio of their times shows whether backward scales linearly.
"""

from __future__ import annotations

import gc
import time
from typing import Any, Callable

import numpy as np

from benchmarks.cases.common import loss_value
from benchmarks.libraries import gradient_norm, import_library, make_tensor, tensor_gradients
from benchmarks.timing import TimingPlan, summarize

# Alternating x * 0.999 and x + 0.001 keeps x near its fixed point 1.
SCALE = 0.999
SHIFT = 0.001

# Builds one chain of the given length, runs its backward and returns the backward
# time in seconds, the loss and a reader for the gradients.
ChainRun = Callable[[int], tuple[float, Any, Callable[[], list]]]


def chain(x: Any, ops: int) -> Any:
    for _ in range(ops // 2):
        x = x * SCALE
        x = x + SHIFT
    return x


def make_tensor_runner(module: Any, data: np.ndarray) -> ChainRun:
    """Return the chain runner for multigrad or torch, which share this code."""

    def run_chain(ops: int) -> tuple[float, Any, Callable[[], list]]:
        x = make_tensor(module, data, requires_grad=True)
        loss = chain(x, ops).sum()
        gc.collect()
        start = time.perf_counter()
        loss.backward()
        return time.perf_counter() - start, loss, lambda: tensor_gradients([x])

    return run_chain


def make_autograd_runner(data: np.ndarray) -> ChainRun:
    import autograd.numpy as anp
    from autograd import make_vjp

    def run_chain(ops: int) -> tuple[float, Any, Callable[[], list]]:
        vjp, loss = make_vjp(lambda x: anp.sum(chain(x, ops)))(data)
        gc.collect()
        start = time.perf_counter()
        grad = vjp(np.float32(1.0))
        return time.perf_counter() - start, loss, lambda: [grad]

    return run_chain


def time_chain(run_chain: ChainRun, ops: int, plan: TimingPlan) -> list[float]:
    """Return backward times of at least ``plan.min_calls`` chains of ``ops`` ops.

    A fresh chain is built for every call, and only its backward is timed.
    """
    durations: list[float] = []
    start = time.perf_counter()
    while len(durations) < plan.min_calls or (
        time.perf_counter() - start < plan.measure_s and len(durations) < plan.max_calls
    ):
        duration, _, _ = run_chain(ops)
        durations.append(duration)
    return durations


def run(library: str, params: dict[str, Any], plan: TimingPlan) -> dict[str, Any]:
    data = np.full(1, 0.5, np.float32)
    if library == "autograd":
        run_chain = make_autograd_runner(data)
    else:
        run_chain = make_tensor_runner(import_library(library), data)

    # The first short chain is the warm-up and the correctness check.
    _, loss, read_gradients = run_chain(params["short_ops"])
    check = {"loss": loss_value(loss), "grad_norm": gradient_norm(read_gradients())}

    metrics = {
        "backward_short": summarize(time_chain(run_chain, params["short_ops"], plan)),
        "backward_long": summarize(time_chain(run_chain, params["long_ops"], plan)),
    }
    return {"metrics": metrics, "check": check}
