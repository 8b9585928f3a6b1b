"""Forwards of the nn functional ops that are not losses, convolutions or pooling.

Each function is named by a ``python: _nn_ops.<name>`` entry of ops.yaml and
builds its result from registry ops, so autograd needs nothing more. Argument
checks raise PyTorch's errors, before anything is computed.
"""

from __future__ import annotations

import numpy as np

from . import _dtype
from ._composites import _check_tensor
from ._generated import _ops
from ._grad_mode import no_grad
from ._tensor import Tensor, _wrap


def constant_like(array: np.ndarray, like: Tensor) -> Tensor:
    """Return a NumPy array as a tensor on ``like``'s device; it does not require grad."""
    backend = like._backend
    array = np.asarray(array)
    return _wrap(backend.from_numpy(array if array.flags.c_contiguous else array.copy()), backend)


def numpy_of(t: Tensor) -> np.ndarray:
    """Return the values of ``t`` as a NumPy array (a copy for devices other than numpy)."""
    return t._backend.to_numpy(t._data)


# -- softmax, activations, linear, dropout ---------------------------------------------------


def softmax(input, dim, dtype=None):
    _check_tensor(input, "softmax")
    if dtype is not None:
        input = input.to(_dtype.to_dtype(dtype))
    return _ops._softmax(input, dim)


def log_softmax(input, dim, dtype=None):
    _check_tensor(input, "log_softmax")
    if dtype is not None:
        input = input.to(_dtype.to_dtype(dtype))
    return _ops._log_softmax(input, dim)


def linear(input, weight, bias=None):
    _check_tensor(input, "linear")
    if weight.ndim == 2:
        out = _ops.matmul(input, _ops.t(weight))
    else:
        out = _ops.matmul(input, weight)
    return out if bias is None else _ops.add(out, bias)


def dropout(input, p=0.5, training=True, inplace=False):
    from ._creation import default_generator

    _check_tensor(input, "dropout")
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0 or input.numel() == 0:
        return input

    # Each element survives with probability 1 - p and is scaled by 1 / (1 - p).
    if p == 1:
        mask = np.zeros(input.shape, dtype=input._data.dtype)
    else:
        keep = default_generator.rng.random(tuple(input.shape)) < 1.0 - p
        mask = keep.astype(input._data.dtype) / input._data.dtype.type(1.0 - p)
    mask = constant_like(mask, input)
    return input.mul_(mask) if inplace else _ops.mul(input, mask)


# -- normalization and distances ------------------------------------------------------------


def _clamped_norm(x, p, dim, eps):
    """Return max(norm_p(x, dim), eps) with keepdim, with a finite gradient for all-zero slices."""
    if p == 2:
        powered = _ops.sum(_ops.mul(x, x), dim, True)
    elif p == float("inf") or p == float("-inf"):
        reduce = getattr(_ops, "amax" if p > 0 else "amin", None)
        if reduce is None:
            # NOTE: infinity norms need the registry's amax/amin, which this checkout lacks.
            raise NotImplementedError(f"normalize(): p={p} needs amax/amin, which are not in the op registry")
        norm = reduce(_ops.abs(x), dim, True)
        return _ops.where(norm < eps, eps, norm)
    else:
        powered = _ops.sum(_ops.pow(_ops.abs(x), p), dim, True)

    # A zero slice takes the eps branch; the inner where keeps pow's gradient there finite.
    zero = powered == 0
    norm = _ops.pow(_ops.where(zero, 1.0, powered), 1.0 / p)
    norm = _ops.where(zero, 0.0, norm)
    return _ops.where(norm < eps, eps, norm)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    _check_tensor(input, "normalize")
    result = _ops.true_divide(input, _clamped_norm(input, p, dim, eps))
    if out is not None:
        out.copy_(result)
        return out
    return result


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    _check_tensor(x1, "cosine_similarity")
    _check_tensor(x2, "cosine_similarity")
    from ._runtime import broadcast_shapes

    shape = broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    x1, x2 = x1.expand(shape), x2.expand(shape)
    unit1 = _ops.true_divide(x1, _clamped_norm(x1, 2, dim, eps))
    unit2 = _ops.true_divide(x2, _clamped_norm(x2, 2, dim, eps))
    return _ops.sum(_ops.mul(unit1, unit2), dim)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    _check_tensor(input, "layer_norm")
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    count = len(normalized_shape)
    if count == 0 or tuple(input.shape[input.ndim - count:]) != normalized_shape or input.ndim < count:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size{list(input.shape)}"
        )
    for name, param in (("weight", weight), ("bias", bias)):
        if param is not None and tuple(param.shape) != normalized_shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                f"{list(param.shape)} and normalized_shape = {list(normalized_shape)}"
            )

    dims = tuple(range(input.ndim - count, input.ndim))
    centered = _ops.sub(input, _ops.mean(input, dims, True))
    variance = _ops.mean(_ops.mul(centered, centered), dims, True)
    out = _ops.true_divide(centered, _ops.sqrt(_ops.add(variance, eps)))
    if weight is not None:
        out = _ops.mul(out, weight)
    if bias is not None:
        out = _ops.add(out, bias)
    return out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    _check_tensor(input, "batch_norm")
    if input.ndim < 2:
        raise ValueError(f"batch_norm(): expected a 2-D or higher input (N, C, ...), got {input.ndim}-D input")
    channels = input.shape[1]
    per_channel = input.numel() // max(channels, 1)
    if training and per_channel <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.size()}")
    for name, param in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if param is not None and tuple(param.shape) != (channels,):
            raise RuntimeError(f"{name} should contain {channels} elements not {param.numel()}")

    if not training and (running_mean is None or running_var is None):
        missing = "running_mean" if running_mean is None else "running_var"
        raise RuntimeError(f"{missing} must be defined in evaluation mode")

    dims = (0,) + tuple(range(2, input.ndim))
    stats_shape = (1, channels) + (1,) * (input.ndim - 2)
    if training:
        mean = _ops.mean(input, dims, True)
        centered = _ops.sub(input, mean)
        variance = _ops.mean(_ops.mul(centered, centered), dims, True)
        _update_running_stats(running_mean, running_var, mean, variance, momentum, per_channel)
    else:
        mean = _ops.reshape(running_mean, stats_shape)
        centered = _ops.sub(input, mean)
        variance = _ops.reshape(running_var, stats_shape)

    out = _ops.true_divide(centered, _ops.sqrt(_ops.add(variance, eps)))
    if weight is not None:
        out = _ops.mul(out, _ops.reshape(weight, stats_shape))
    if bias is not None:
        out = _ops.add(out, _ops.reshape(bias, stats_shape))
    return out


def _update_running_stats(running_mean, running_var, mean, variance, momentum, count):
    """Blend the batch statistics into the running ones in place; the running variance is unbiased."""
    with no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(mean.reshape(-1).to(running_mean.dtype), alpha=momentum)
        if running_var is not None:
            unbiased = variance.reshape(-1).to(running_var.dtype) * (count / (count - 1))
            running_var.mul_(1 - momentum).add_(unbiased, alpha=momentum)


# -- padding -----------------------------------------------------------------------------------------


def pad(input, pad, mode="constant", value=None):
    _check_tensor(input, "pad")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got padding "
            f"length {len(pad)} and input of dimension {input.ndim}"
        )
    if mode == "constant":
        for i in range(len(pad) // 2):
            dim = input.ndim - 1 - i
            size = input.shape[dim] + pad[2 * i] + pad[2 * i + 1]
            if size < 0:
                raise RuntimeError(
                    f"The input size {input.shape[dim]}, plus negative padding {pad[2 * i]} and {pad[2 * i + 1]} "
                    f"resulted in a negative output size, which is invalid. Check dimension {dim} of your input."
                )
        return _ops.constant_pad_nd(input, pad, 0 if value is None else value)

    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    padded_dims = len(pad) // 2
    if not 1 <= padded_dims <= 3 or input.ndim not in (padded_dims + 1, padded_dims + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )

    out = input
    for i in range(padded_dims):
        dim = input.ndim - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        index = _pad_index(mode, input.shape, before, after, dim)
        out = out[(slice(None),) * dim + (constant_like(index, input),)]
    return out


def _pad_index(mode, shape, before, after, dim):
    """Return, for each position of a padded dim, the input position it copies."""
    size = shape[dim]
    if mode == "reflect" and (before >= size or after >= size):
        raise RuntimeError(
            f"Argument #4: Padding size should be less than the corresponding input dimension, but got: "
            f"padding ({before}, {after}) at dimension {dim} of input {list(shape)}"
        )
    if mode == "circular" and (before > size or after > size):
        raise RuntimeError("Padding value causes wrapping around more than once.")
    positions = np.arange(-before, size + after)
    if mode == "reflect":
        positions = np.abs(positions)
        positions = np.where(positions > size - 1, 2 * (size - 1) - positions, positions)
    elif mode == "replicate":
        positions = np.clip(positions, 0, size - 1)
    else:
        positions = positions % size
    return positions.astype(np.int64)


# -- embedding and one_hot -------------------------------------------------------------------------


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Return ``weight[input]`` with PyTorch's ``F.embedding`` arguments; see the registry op embedding."""
    _check_tensor(input, "embedding")
    _check_tensor(weight, "embedding")
    num_weights = weight.shape[0]
    if padding_idx is None:
        padding_idx = -1
    elif padding_idx >= 0:
        if padding_idx >= num_weights:
            raise ValueError("Padding_idx must be within num_embeddings")
    else:
        if padding_idx < -num_weights:
            raise ValueError("Padding_idx must be within num_embeddings")
        padding_idx += num_weights
    if input.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
            f"but got {input.dtype} instead (while checking arguments for embedding)"
        )
    if sparse:
        raise NotImplementedError("embedding(): sparse gradients are not supported; use sparse=False")
    indices = numpy_of(input)
    if indices.size and (indices.min() < 0 or indices.max() >= num_weights):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _embedding_renorm_(weight, indices, max_norm, norm_type)
    return _ops.embedding(weight, input, padding_idx, scale_grad_by_freq, sparse)


def _embedding_renorm_(weight, indices, max_norm, norm_type):
    """Rescale in place the rows that ``indices`` reads whose norm exceeds ``max_norm``, as PyTorch does."""
    rows = np.unique(indices)
    values = numpy_of(weight)[rows]
    norms = np.linalg.norm(values.astype(np.float64), ord=norm_type, axis=1)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(values.dtype)
    with no_grad():
        weight[constant_like(rows, weight)] = constant_like(values * scale[:, None], weight)


def one_hot(input, num_classes=-1):
    _check_tensor(input, "one_hot")
    if input.dtype is not _dtype.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    values = numpy_of(input)
    if num_classes == -1:
        if values.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(values.max()) + 1
    if values.size and values.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if values.size and values.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    encoded = (values[..., None] == np.arange(num_classes)).astype(np.int64)
    return constant_like(encoded, input)
