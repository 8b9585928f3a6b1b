"""Neural-network functions with PyTorch's ``torch.nn.functional`` names, arguments and defaults.

Each function is an op of the registry (``ops.yaml``), or a thin wrapper that
maps PyTorch's functional signature onto one, so every op here is
differentiable, double-differentiable, and runs on any backend that has the
kernels of its primitives.
"""

from __future__ import annotations

import warnings

from .. import _nn_ops
from .._generated import _ops

__all__ = [
    "linear", "softmax", "log_softmax", "softmin", "dropout",
    "relu", "relu_", "gelu", "silu", "tanh", "sigmoid", "elu", "elu_", "leaky_relu", "leaky_relu_", "softplus",
    "logsigmoid",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div",
    "cosine_similarity", "normalize", "layer_norm", "batch_norm",
    "pad", "conv1d", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "embedding", "one_hot",
]

# Registry ops whose signature is already PyTorch's functional one.
linear = _ops.linear
dropout = _ops.dropout
mse_loss = _ops.mse_loss
l1_loss = _ops.l1_loss
smooth_l1_loss = _ops.smooth_l1_loss
huber_loss = _ops.huber_loss
nll_loss = _ops.nll_loss
cross_entropy = _ops.cross_entropy
binary_cross_entropy = _ops.binary_cross_entropy
binary_cross_entropy_with_logits = _ops.binary_cross_entropy_with_logits
kl_div = _ops.kl_div
cosine_similarity = _ops.cosine_similarity
normalize = _ops.normalize
layer_norm = _ops.layer_norm
batch_norm = _ops.batch_norm
pad = _ops.pad
conv1d = _ops.conv1d
conv2d = _ops.conv2d
max_pool2d = _ops.max_pool2d
avg_pool2d = _ops.avg_pool2d
adaptive_avg_pool2d = _ops.adaptive_avg_pool2d
one_hot = _ops.one_hot
logsigmoid = _ops.log_sigmoid
embedding = _nn_ops.embedding


def _implicit_softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Return softmax(input) along ``dim``; without ``dim``, warn and pick PyTorch's legacy default."""
    if dim is None:
        dim = _implicit_softmax_dim("softmax", input.ndim, _stacklevel)
    return _ops.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Return log(softmax(input)) along ``dim``, computed stably."""
    if dim is None:
        dim = _implicit_softmax_dim("log_softmax", input.ndim, _stacklevel)
    return _ops.log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """Return softmax(-input) along ``dim``."""
    if dim is None:
        dim = _implicit_softmax_dim("softmin", input.ndim, _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return _ops.softmax(_ops.neg(input), dim)


# -- activations: the registry's elementwise ops with PyTorch's ``inplace`` flag ----------------


def _registry_op(name: str):
    op = getattr(_ops, name, None)
    if op is None:
        raise NotImplementedError(f"multigrad.nn.functional.{name}: the op registry has no '{name}' op yet")
    return op


def relu(input, inplace=False):
    """Return max(input, 0); with ``inplace``, write it into input."""
    return _ops.relu_(input) if inplace else _ops.relu(input)


def relu_(input):
    return _ops.relu_(input)


def tanh(input):
    return _ops.tanh(input)


def sigmoid(input):
    return _ops.sigmoid(input)


def gelu(input, approximate="none"):
    """Return input * Phi(input), with the tanh approximation when ``approximate='tanh'``."""
    return _registry_op("gelu")(input, approximate=approximate)


def silu(input, inplace=False):
    """Return input * sigmoid(input)."""
    return _registry_op("silu_" if inplace else "silu")(input)


def elu(input, alpha=1.0, inplace=False):
    """Return input where positive, alpha * (exp(input) - 1) elsewhere."""
    return _registry_op("elu_" if inplace else "elu")(input, alpha)


def elu_(input, alpha=1.0):
    return _registry_op("elu_")(input, alpha)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """Return input where positive, negative_slope * input elsewhere."""
    return _registry_op("leaky_relu_" if inplace else "leaky_relu")(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return _registry_op("leaky_relu_")(input, negative_slope)


def softplus(input, beta=1.0, threshold=20.0):
    """Return log(1 + exp(beta * input)) / beta, linear where beta * input > threshold."""
    return _registry_op("softplus")(input, beta, threshold)
