"""One SGD step of a two-layer MLP with ReLU and cross-entropy.

Shapes: batch 64, 64 inputs, 128 hidden units, 10 classes. The update is plain
``p -= lr * p.grad`` under no_grad for multigrad and torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.cases.common import GradientReader, Step, check_and_time
from benchmarks.libraries import import_library, make_tensor, tensor_gradients
from benchmarks.timing import TimingPlan

SEED = 1
LEARNING_RATE = 0.1


def make_data(batch: int, inputs: int, hidden: int, classes: int) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Return inputs, integer labels and the parameters [w1, b1, w2, b2] in float32."""
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((batch, inputs)).astype(np.float32)
    labels = rng.integers(0, classes, batch).astype(np.int64)
    params = [
        (rng.standard_normal((inputs, hidden)) / np.sqrt(inputs)).astype(np.float32),
        np.zeros(hidden, np.float32),
        (rng.standard_normal((hidden, classes)) / np.sqrt(hidden)).astype(np.float32),
        np.zeros(classes, np.float32),
    ]
    return x, labels, params


def build_tensor_step(module: Any, x_data: np.ndarray, label_data: np.ndarray, param_data: list[np.ndarray]) -> tuple[Step, GradientReader]:
    """Return the step and gradient reader for multigrad or torch, which share this code."""
    functional = module.nn.functional
    x = make_tensor(module, x_data)
    labels = make_tensor(module, label_data)
    params = [make_tensor(module, p, requires_grad=True) for p in param_data]

    def step() -> Any:
        w1, b1, w2, b2 = params
        for p in params:
            p.grad = None
        hidden = (x @ w1 + b1).relu()
        logits = hidden @ w2 + b2
        loss = functional.cross_entropy(logits, labels)
        loss.backward()
        with module.no_grad():
            for p in params:
                p -= LEARNING_RATE * p.grad
        return loss

    return step, lambda: tensor_gradients(params)


def build_autograd_step(x: np.ndarray, labels: np.ndarray, param_data: list[np.ndarray]) -> tuple[Step, GradientReader]:
    import autograd.numpy as anp
    from autograd import value_and_grad

    one_hot = np.eye(param_data[3].shape[0], dtype=np.float32)[labels]

    def loss_fn(params: list) -> Any:
        w1, b1, w2, b2 = params
        hidden = anp.maximum(anp.dot(x, w1) + b1, 0.0)
        logits = anp.dot(hidden, w2) + b2
        shifted = logits - anp.max(logits, axis=1, keepdims=True)
        log_probs = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.sum(log_probs * one_hot) / x.shape[0]

    loss_and_grad = value_and_grad(loss_fn)
    params = [p.copy() for p in param_data]
    state: dict[str, Any] = {}

    def step() -> Any:
        loss, grads = loss_and_grad(params)
        params[:] = [p - LEARNING_RATE * g for p, g in zip(params, grads)]
        state["grads"] = grads
        return loss

    return step, lambda: state["grads"]


def build_numpy_step(x: np.ndarray, labels: np.ndarray, param_data: list[np.ndarray]) -> tuple[Step, GradientReader]:
    params = [p.copy() for p in param_data]
    rows = np.arange(x.shape[0])
    state: dict[str, Any] = {}

    def step() -> Any:
        w1, b1, w2, b2 = params
        pre_activation = x @ w1 + b1
        hidden = np.maximum(pre_activation, 0)
        logits = hidden @ w2 + b2

        # Cross-entropy through a max-shifted softmax, averaged over the batch.
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp_shifted = np.exp(shifted)
        sum_exp = exp_shifted.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(sum_exp[:, 0]) - shifted[rows, labels])

        # d(loss)/d(logits) is (softmax - one_hot) / batch.
        grad_logits = exp_shifted / sum_exp
        grad_logits[rows, labels] -= 1
        grad_logits /= x.shape[0]
        grad_w2 = hidden.T @ grad_logits
        grad_b2 = grad_logits.sum(axis=0)
        grad_hidden = grad_logits @ w2.T
        grad_pre = grad_hidden * (pre_activation > 0)
        grad_w1 = x.T @ grad_pre
        grad_b1 = grad_pre.sum(axis=0)

        grads = [grad_w1, grad_b1, grad_w2, grad_b2]
        for p, g in zip(params, grads):
            p -= LEARNING_RATE * g
        state["grads"] = grads
        return loss

    return step, lambda: state["grads"]


def run(library: str, params: dict[str, Any], plan: TimingPlan) -> dict[str, Any]:
    x, labels, param_data = make_data(params["batch"], params["inputs"], params["hidden"], params["classes"])
    if library == "numpy":
        step, read_gradients = build_numpy_step(x, labels, param_data)
    elif library == "autograd":
        step, read_gradients = build_autograd_step(x, labels, param_data)
    else:
        step, read_gradients = build_tensor_step(import_library(library), x, labels, param_data)
    return check_and_time(step, read_gradients, plan)
