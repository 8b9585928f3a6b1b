"""Peak resident memory of forward plus backward through a deep tanh MLP.

Each layer is ``x = tanh(x @ w)`` on float32 activations of batch x width, and
the loss is the sum of the last activation. The figure is the growth of the
process's peak RSS over its value after the imports, so it includes the
weights, the saved activations and the weight gradients.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterator

import numpy as np

from benchmarks.cases.common import loss_value
from benchmarks.libraries import gradient_norm, import_library, make_tensor, tensor_gradients
from benchmarks.timing import TimingPlan, peak_rss_bytes

SEED = 3


def generate_arrays(layers: int, batch: int, width: int) -> Iterator[np.ndarray]:
    """Yield the input, then one weight per layer, each created directly in float32.

    Arrays are yielded one at a time so that a library which copies them never
    keeps two full sets in memory at once.
    """
    rng = np.random.default_rng(SEED)
    yield rng.standard_normal((batch, width), dtype=np.float32)
    for _ in range(layers):
        weight = rng.standard_normal((width, width), dtype=np.float32)
        weight *= 1 / np.sqrt(width)
        yield weight


def run_tensor(module: Any, arrays: Iterator[np.ndarray]) -> tuple[Any, Callable[[], list]]:
    """Run forward and backward in multigrad or torch, which share this code."""
    x = make_tensor(module, next(arrays))
    weights = [make_tensor(module, w, requires_grad=True) for w in arrays]
    for w in weights:
        x = (x @ w).tanh()
    loss = x.sum()
    del x
    loss.backward()
    return loss, lambda: tensor_gradients(weights)


def run_autograd(arrays: Iterator[np.ndarray]) -> tuple[Any, Callable[[], list]]:
    import autograd.numpy as anp
    from autograd import value_and_grad

    x = next(arrays)
    weights = list(arrays)

    def loss_fn(weights: list) -> Any:
        h = x
        for w in weights:
            h = anp.tanh(anp.dot(h, w))
        return anp.sum(h)

    loss, grads = value_and_grad(loss_fn)(weights)
    return loss, lambda: grads


def run_numpy(arrays: Iterator[np.ndarray]) -> tuple[Any, Callable[[], list]]:
    """Run forward and backward by hand, keeping only what the backward reads."""
    activations = [next(arrays)]
    weights = list(arrays)
    for w in weights:
        activations.append(np.tanh(activations[-1] @ w))
    loss = activations[-1].sum()

    # Free each layer's output once its gradient is through, as an autograd engine does.
    grads: list[np.ndarray] = [np.empty(0)] * len(weights)
    grad = np.ones_like(activations[-1])
    for index in reversed(range(len(weights))):
        output = activations.pop()
        grad = grad * (1 - output * output)
        del output
        grads[index] = activations[-1].T @ grad
        if index > 0:
            grad = grad @ weights[index].T
    return loss, lambda: grads


def run(library: str, params: dict[str, Any], plan: TimingPlan) -> dict[str, Any]:
    # The worker has imported the library before this call, so this is the baseline after imports.
    baseline = peak_rss_bytes()
    arrays = generate_arrays(params["layers"], params["batch"], params["width"])

    start = time.perf_counter()
    if library == "numpy":
        loss, read_gradients = run_numpy(arrays)
    elif library == "autograd":
        loss, read_gradients = run_autograd(arrays)
    else:
        loss, read_gradients = run_tensor(import_library(library), arrays)
    duration = time.perf_counter() - start
    peak = peak_rss_bytes()

    check = {"loss": loss_value(loss), "grad_norm": gradient_norm(read_gradients())}
    metrics = {"peak_rss": {"value": peak - baseline}, "time": {"value": duration}}
    return {"metrics": metrics, "check": check}
