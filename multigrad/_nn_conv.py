"""Forwards of the nn functional convolutions and poolings.

The heavy work runs in registry primitives: ``_conv_nd`` (im2col and one
matrix product) with its two backward primitives, and max pooling as
``_max_pool2d_indices`` followed by ``_pool_gather``. Average pooling is a
depthwise convolution with a kernel of ones divided by the window sizes, and
adaptive average pooling is two matrix products with averaging matrices.
"""

from __future__ import annotations

import numpy as np

from ._composites import _check_tensor
from ._generated import _ops
from ._nn_ops import constant_like
from .backend import pool_output_size


def _tuple(value, size, name, op):
    """Return ``value`` (an int or a sequence of 1 or ``size`` ints) as a tuple of ``size`` ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * size
    if isinstance(value, (tuple, list)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        if len(value) == 1:
            return tuple(value) * size
        if len(value) == size:
            return tuple(value)
    raise TypeError(f"{op}(): argument '{name}' must be an int or a tuple of {size} ints, got {value!r}")


def _batched(input, spatial, op):
    """Return ``input`` with a batch dim and whether one was added, or raise for a wrong rank."""
    if input.ndim == spatial + 2:
        return input, False
    if input.ndim == spatial + 1:
        return _ops.reshape(input, (1,) + tuple(input.shape)), True
    raise RuntimeError(
        f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input to {op}, "
        f"but got input of size: {list(input.shape)}"
    )


def _unbatched(out, added):
    return _ops.reshape(out, tuple(out.shape[1:])) if added else out


# -- convolution -----------------------------------------------------------------------------


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def _convolution(input, weight, bias, stride, padding, dilation, groups, spatial, op):
    _check_tensor(input, op)
    _check_tensor(weight, op)
    x, added = _batched(input, spatial, op)
    stride = _tuple(stride, spatial, "stride", op)
    dilation = _tuple(dilation, spatial, "dilation", op)
    _check_conv_weight(x, weight, bias, groups, spatial)
    kernel = tuple(weight.shape[2:])

    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * spatial
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            x, padding = _pad_same(x, kernel, dilation)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = _tuple(padding, spatial, "padding", op)
        if any(p < 0 for p in padding):
            raise RuntimeError("negative padding is not supported")

    padded = tuple(x.shape[2 + i] + 2 * padding[i] for i in range(spatial))
    effective = tuple(dilation[i] * (kernel[i] - 1) + 1 for i in range(spatial))
    if any(e > p for e, p in zip(effective, padded)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
            f"({' x '.join(map(str, effective))}). Kernel size can't be greater than actual input size"
        )

    out = _ops._conv_nd(x, weight, stride, padding, dilation, groups)
    if bias is not None:
        out = _ops.add(out, _ops.reshape(bias, (1, weight.shape[0]) + (1,) * spatial))
    return _unbatched(out, added)


def _check_conv_weight(x, weight, bias, groups, spatial):
    if weight.ndim != spatial + 2:
        raise RuntimeError(
            f"Expected {spatial + 2}-dimensional weight for {spatial + 2}-dimensional input {list(x.shape)}, "
            f"but got {weight.ndim}-dimensional weight of size {list(weight.shape)} instead"
        )
    if groups < 1:
        raise RuntimeError("non-positive groups is not supported")
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of "
            f"size [{list(weight.shape)}] instead"
        )
    if x.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input{list(x.shape)} to have "
            f"{weight.shape[1] * groups} channels, but got {x.shape[1]} channels instead"
        )
    if x.dtype is not weight.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_name(weight)} but found {_scalar_name(x)}")
    if bias is not None and bias.dtype is not weight.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_name(weight)} but found {_scalar_name(bias)}")


def _scalar_name(t):
    return {"float32": "Float", "float64": "Double", "float16": "Half"}.get(t.dtype.name, t.dtype.name)


def _pad_same(x, kernel, dilation):
    """Return ``x`` and symmetric padding that keep the output size; odd totals get the extra on the right."""
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    left = tuple(t // 2 for t in total)
    extra = [t - 2 * half for t, half in zip(total, left)]
    if any(extra):
        # constant_pad_nd lists (before, after) pairs from the last dim backwards.
        pads = []
        for e in reversed(extra):
            pads += [0, e]
        x = _ops.constant_pad_nd(x, tuple(pads), 0)
    return x, left


# -- pooling -------------------------------------------------------------------------------


def _pool_args(kernel_size, stride, padding, op):
    kernel = _tuple(kernel_size, 2, "kernel_size", op)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else _tuple(
        stride, 2, "stride", op
    )
    return kernel, stride, _tuple(padding, 2, "padding", op)


def _check_output_size(x, size, op):
    if size[0] <= 0 or size[1] <= 0:
        n, c, h, w = x.shape
        raise RuntimeError(
            f"Given input size: ({c}x{h}x{w}). Calculated output size: ({c}x{size[0]}x{size[1]}). "
            "Output size is too small"
        )


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    _check_tensor(input, "max_pool2d")
    kernel, stride, padding = _pool_args(kernel_size, stride, padding, "max_pool2d")
    dilation = _tuple(dilation, 2, "dilation", "max_pool2d")
    for k, p, d in zip(kernel, padding, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} and "
                f"dilation={d}"
            )
    x, added = _batched(input, 2, "max_pool2d")
    size = pool_output_size(tuple(x.shape[2:]), kernel, stride, padding, dilation, ceil_mode)
    _check_output_size(x, size, "max_pool2d")

    indices = _ops._max_pool2d_indices(x, kernel, stride, padding, dilation, ceil_mode)
    out = _unbatched(_ops._pool_gather(x, indices), added)
    if return_indices:
        return out, _unbatched(indices, added)
    return out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    _check_tensor(input, "avg_pool2d")
    kernel, stride, padding = _pool_args(kernel_size, stride, padding, "avg_pool2d")
    for k, p in zip(kernel, padding):
        if p > k // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} and dilation=1"
            )
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    x, added = _batched(input, 2, "avg_pool2d")
    n, channels, height, width = x.shape
    size = pool_output_size((height, width), kernel, stride, padding, (1, 1), ceil_mode)
    _check_output_size(x, size, "avg_pool2d")

    # Sum each window with a depthwise convolution; ceil_mode's last windows need zeros on the right.
    planes = _ops.reshape(x, (n * channels, 1, height, width))
    extra = [max(0, (size[i] - 1) * stride[i] + kernel[i] - (x.shape[2 + i] + 2 * padding[i])) for i in range(2)]
    if any(extra):
        planes = _ops.constant_pad_nd(planes, (0, extra[1], 0, extra[0]), 0)
    ones = constant_like(np.ones((1, 1) + kernel, dtype=x._data.dtype), x)
    sums = _ops._conv_nd(planes, ones, stride, padding, (1, 1), 1)
    sums = _ops.reshape(sums, (n, channels) + size)

    divisor = _avg_pool_divisor((height, width), size, kernel, stride, padding, count_include_pad, divisor_override)
    out = _ops.true_divide(sums, constant_like(divisor.astype(x._data.dtype), x))
    return _unbatched(out, added)


def _avg_pool_divisor(input_size, output_size, kernel, stride, padding, count_include_pad, divisor_override):
    """Return the (Ho, Wo) divisors of PyTorch's avg_pool2d: windows clipped to the padded or the real input."""
    if divisor_override is not None:
        return np.full(output_size, float(divisor_override))
    lengths = []
    for i in range(2):
        start = np.arange(output_size[i]) * stride[i] - padding[i]
        end = np.minimum(start + kernel[i], input_size[i] + padding[i])
        if count_include_pad:
            lengths.append(end - start)
        else:
            lengths.append(np.minimum(end, input_size[i]) - np.maximum(start, 0))
    return np.outer(lengths[0], lengths[1]).astype(np.float64)


def adaptive_avg_pool2d(input, output_size):
    _check_tensor(input, "adaptive_avg_pool2d")
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(input.shape)}"
        )
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    if len(output_size) != 2:
        raise TypeError(f"adaptive_avg_pool2d(): output_size must be an int or a pair, got {output_size!r}")
    # None keeps that dimension's input size.
    height, width = input.shape[-2:]
    sizes = (
        height if output_size[0] is None else int(output_size[0]),
        width if output_size[1] is None else int(output_size[1]),
    )

    rows = constant_like(_averaging_matrix(height, sizes[0], input._data.dtype), input)
    cols = constant_like(_averaging_matrix(width, sizes[1], input._data.dtype).T, input)
    return _ops.matmul(_ops.matmul(rows, input), cols)


def _averaging_matrix(size, out_size, dtype):
    """Return (out_size, size): row i averages [floor(i * size / out_size), ceil((i + 1) * size / out_size))."""
    matrix = np.zeros((out_size, size), dtype=dtype)
    for i in range(out_size):
        start = (i * size) // out_size
        end = -(-((i + 1) * size) // out_size)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix
