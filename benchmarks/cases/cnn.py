"""One SGD step of a small CNN on 8x8 single-channel images.

conv 3x3 (8 channels, padding 1), ReLU, max pool 2, conv 3x3 (16 channels,
padding 1), ReLU, flatten, linear to 10 classes, cross-entropy. autograd and
hand-written NumPy compute each convolution as one tensordot over 9 shifted
copies of the padded input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.cases.common import GradientReader, Step, check_and_time
from benchmarks.libraries import import_library, make_tensor, tensor_gradients
from benchmarks.timing import TimingPlan

SEED = 2
LEARNING_RATE = 0.05
CHANNELS = (8, 16)
CLASSES = 10


def make_data(batch: int, size: int) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Return images, integer labels and [conv1_w, conv1_b, conv2_w, conv2_b, linear_w, linear_b]."""
    rng = np.random.default_rng(SEED)
    c1, c2 = CHANNELS
    features = c2 * (size // 2) ** 2

    def weight(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)

    x = rng.standard_normal((batch, 1, size, size)).astype(np.float32)
    labels = rng.integers(0, CLASSES, batch).astype(np.int64)
    params = [
        weight((c1, 1, 3, 3), 9),
        np.full(c1, 0.1, np.float32),
        weight((c2, c1, 3, 3), c1 * 9),
        np.full(c2, 0.1, np.float32),
        weight((features, CLASSES), features),
        np.zeros(CLASSES, np.float32),
    ]
    return x, labels, params


def build_tensor_step(module: Any, x_data: np.ndarray, label_data: np.ndarray, param_data: list[np.ndarray]) -> tuple[Step, GradientReader]:
    """Return the step and gradient reader for multigrad or torch, which share this code."""
    functional = module.nn.functional
    x = make_tensor(module, x_data)
    labels = make_tensor(module, label_data)
    params = [make_tensor(module, p, requires_grad=True) for p in param_data]
    batch = x_data.shape[0]

    def step() -> Any:
        conv1_w, conv1_b, conv2_w, conv2_b, linear_w, linear_b = params
        for p in params:
            p.grad = None
        h = functional.conv2d(x, conv1_w, conv1_b, padding=1).relu()
        h = functional.max_pool2d(h, 2)
        h = functional.conv2d(h, conv2_w, conv2_b, padding=1).relu()
        logits = h.reshape(batch, -1) @ linear_w + linear_b
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

    def conv3x3(inputs: Any, weight: Any, bias: Any) -> Any:
        n, c, h, w = inputs.shape
        k = weight.shape[0]
        padded = anp.pad(inputs, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="constant")
        shifted = anp.stack([padded[:, :, i : i + h, j : j + w] for i in range(3) for j in range(3)], axis=2)
        columns = anp.reshape(shifted, (n, c * 9, h, w))
        out = anp.tensordot(columns, anp.reshape(weight, (k, c * 9)), axes=([1], [1]))
        return anp.transpose(out, (0, 3, 1, 2)) + anp.reshape(bias, (1, k, 1, 1))

    def max_pool2(inputs: Any) -> Any:
        # Strided slices keep float32 gradients, unlike anp.max over a reshaped window axis.
        top = anp.maximum(inputs[:, :, 0::2, 0::2], inputs[:, :, 0::2, 1::2])
        bottom = anp.maximum(inputs[:, :, 1::2, 0::2], inputs[:, :, 1::2, 1::2])
        return anp.maximum(top, bottom)

    one_hot = np.eye(CLASSES, dtype=np.float32)[labels]

    def loss_fn(params: list) -> Any:
        conv1_w, conv1_b, conv2_w, conv2_b, linear_w, linear_b = params
        h = anp.maximum(conv3x3(x, conv1_w, conv1_b), 0.0)
        h = max_pool2(h)
        h = anp.maximum(conv3x3(h, conv2_w, conv2_b), 0.0)
        logits = anp.dot(anp.reshape(h, (x.shape[0], -1)), linear_w) + linear_b
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


def conv3x3_forward(inputs: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the padded 3x3 convolution and the column matrix that its backward reads."""
    n, c, h, w = inputs.shape
    k = weight.shape[0]
    padded = np.pad(inputs, ((0, 0), (0, 0), (1, 1), (1, 1)))
    shifted = np.stack([padded[:, :, i : i + h, j : j + w] for i in range(3) for j in range(3)], axis=2)
    columns = shifted.reshape(n, c * 9, h, w)
    out = np.tensordot(columns, weight.reshape(k, c * 9), axes=([1], [1])).transpose(0, 3, 1, 2)
    return out + bias.reshape(1, k, 1, 1), columns


def conv3x3_backward(
    grad_out: np.ndarray, columns: np.ndarray, weight: np.ndarray, need_input_grad: bool
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Return the gradients of input (None unless requested), weight and bias."""
    n, k, h, w = grad_out.shape
    c = weight.shape[1]
    grad_bias = grad_out.sum(axis=(0, 2, 3))
    grad_weight = np.tensordot(grad_out, columns, axes=([0, 2, 3], [0, 2, 3])).reshape(weight.shape)
    if not need_input_grad:
        return None, grad_weight, grad_bias

    # Scatter the column gradients back onto the padded input, then drop the padding.
    grad_columns = np.tensordot(weight.reshape(k, c * 9), grad_out, axes=([0], [1]))
    grad_shifted = grad_columns.transpose(1, 0, 2, 3).reshape(n, c, 9, h, w)
    grad_padded = np.zeros((n, c, h + 2, w + 2), grad_out.dtype)
    for index in range(9):
        i, j = divmod(index, 3)
        grad_padded[:, :, i : i + h, j : j + w] += grad_shifted[:, :, index]
    return grad_padded[:, :, 1:-1, 1:-1], grad_weight, grad_bias


def build_numpy_step(x: np.ndarray, labels: np.ndarray, param_data: list[np.ndarray]) -> tuple[Step, GradientReader]:
    params = [p.copy() for p in param_data]
    batch = x.shape[0]
    rows = np.arange(batch)
    state: dict[str, Any] = {}

    def step() -> Any:
        conv1_w, conv1_b, conv2_w, conv2_b, linear_w, linear_b = params
        pre1, columns1 = conv3x3_forward(x, conv1_w, conv1_b)
        relu1 = np.maximum(pre1, 0)
        n, c, h, w = relu1.shape
        windows = relu1.reshape(n, c, h // 2, 2, w // 2, 2)
        pooled = windows.max(axis=(3, 5))
        pre2, columns2 = conv3x3_forward(pooled, conv2_w, conv2_b)
        relu2 = np.maximum(pre2, 0)
        flat = relu2.reshape(batch, -1)
        logits = flat @ linear_w + linear_b

        shifted = logits - logits.max(axis=1, keepdims=True)
        exp_shifted = np.exp(shifted)
        sum_exp = exp_shifted.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(sum_exp[:, 0]) - shifted[rows, labels])

        grad_logits = exp_shifted / sum_exp
        grad_logits[rows, labels] -= 1
        grad_logits /= batch
        grad_linear_w = flat.T @ grad_logits
        grad_linear_b = grad_logits.sum(axis=0)
        grad_pre2 = (grad_logits @ linear_w.T).reshape(relu2.shape) * (pre2 > 0)
        grad_pooled, grad_conv2_w, grad_conv2_b = conv3x3_backward(grad_pre2, columns2, conv2_w, True)

        # Max pool sends each gradient to the window's maximum. Tied windows are all
        # zeros after ReLU, and the ReLU backward below zeroes their gradient anyway.
        is_max = windows == pooled[:, :, :, None, :, None]
        grad_relu1 = (is_max * grad_pooled[:, :, :, None, :, None]).reshape(relu1.shape)
        grad_pre1 = grad_relu1 * (pre1 > 0)
        _, grad_conv1_w, grad_conv1_b = conv3x3_backward(grad_pre1, columns1, conv1_w, False)

        grads = [grad_conv1_w, grad_conv1_b, grad_conv2_w, grad_conv2_b, grad_linear_w, grad_linear_b]
        for p, g in zip(params, grads):
            p -= LEARNING_RATE * g
        state["grads"] = grads
        return loss

    return step, lambda: state["grads"]


def run(library: str, params: dict[str, Any], plan: TimingPlan) -> dict[str, Any]:
    x, labels, param_data = make_data(params["batch"], params["size"])
    if library == "numpy":
        step, read_gradients = build_numpy_step(x, labels, param_data)
    elif library == "autograd":
        step, read_gradients = build_autograd_step(x, labels, param_data)
    else:
        step, read_gradients = build_tensor_step(import_library(library), x, labels, param_data)
    return check_and_time(step, read_gradients, plan)
