"""Neural-network kernels: softmax, convolution, pooling, padding and embedding.

Convolutions run as im2col: a strided window view of the padded input is
contracted with the weight by one ``tensordot`` per group, so no Python loop
visits pixels. Only the input-gradient kernel loops, over the kernel's
(kh, kw) offsets, to add the column gradients back onto the input.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._util import _array, ndarray  # noqa: F401


def _as_2d(x, stride, padding, dilation):
    """Return a convolution's arrays and parameters with 2 spatial dims; 1-d ones get a height of 1."""
    if len(stride) == 2:
        return x, stride, padding, dilation
    return x[:, :, None, :], (1,) + tuple(stride), (0,) + tuple(padding), (1,) + tuple(dilation)


def _windows(padded, kernel, stride, dilation, out_size):
    """Return a read-only view (N, C, Ho, Wo, kh, kw) of the sliding windows of a padded input."""
    n, c = padded.shape[:2]
    s_n, s_c, s_h, s_w = padded.strides
    shape = (n, c, out_size[0], out_size[1], kernel[0], kernel[1])
    strides = (s_n, s_c, s_h * stride[0], s_w * stride[1], s_h * dilation[0], s_w * dilation[1])
    return as_strided(padded, shape, strides, writeable=False)


def _out_size(size, kernel, stride, padding, dilation):
    return tuple(
        (size[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(2)
    )


def _pad_2d(x, padding, value=0):
    if not any(padding):
        return x
    ph, pw = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


class NnKernels:
    """Mixin of NumpyBackend."""

    # -- softmax family ---------------------------------------------------------

    def softmax(self, x, dim):
        if x.ndim == 0:
            return np.ones_like(x)
        if x.size == 0:
            return x.copy()
        exp = np.exp(x - x.max(axis=dim, keepdims=True))
        exp /= exp.sum(axis=dim, keepdims=True)
        return exp

    def log_softmax(self, x, dim):
        if x.ndim == 0:
            return np.zeros_like(x)
        if x.size == 0:
            return x.copy()
        shifted = x - x.max(axis=dim, keepdims=True)
        shifted -= np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        return shifted

    def log_sigmoid(self, x):
        # -softplus(-x), written so that exp never overflows.
        return _array(-(np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))))

    def binary_cross_entropy(self, x, target):
        # PyTorch clamps each log at -100, so inputs of exactly 0 or 1 give a finite loss.
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        return _array(-(target * log_x + (1 - target) * log_1mx)).astype(x.dtype, copy=False)

    # -- convolution -------------------------------------------------------------

    def conv_nd(self, x, weight, stride, padding, dilation, groups):
        one_d = len(stride) == 1
        x, stride, padding, dilation = _as_2d(x, stride, padding, dilation)
        if one_d:
            weight = weight[:, :, None, :]
        kernel = weight.shape[2:]
        out_size = _out_size(x.shape[2:], kernel, stride, padding, dilation)
        windows = _windows(_pad_2d(x, padding), kernel, stride, dilation, out_size)

        in_group, out_group = x.shape[1] // groups, weight.shape[0] // groups
        parts = [
            np.tensordot(
                windows[:, g * in_group:(g + 1) * in_group],
                weight[g * out_group:(g + 1) * out_group],
                axes=([1, 4, 5], [1, 2, 3]),
            )
            for g in range(groups)
        ]
        out = parts[0] if groups == 1 else np.concatenate(parts, axis=3)
        out = out.transpose(0, 3, 1, 2)
        return out[:, :, 0, :] if one_d else out

    def conv_nd_backward_weight(self, grad_output, x, weight_shape, stride, padding, dilation, groups):
        one_d = len(stride) == 1
        x, stride, padding, dilation = _as_2d(x, stride, padding, dilation)
        if one_d:
            grad_output = grad_output[:, :, None, :]
        kernel = (1,) + tuple(weight_shape[2:]) if one_d else tuple(weight_shape[2:])
        windows = _windows(_pad_2d(x, padding), kernel, stride, dilation, grad_output.shape[2:])

        in_group, out_group = x.shape[1] // groups, grad_output.shape[1] // groups
        parts = [
            np.tensordot(
                grad_output[:, g * out_group:(g + 1) * out_group],
                windows[:, g * in_group:(g + 1) * in_group],
                axes=([0, 2, 3], [0, 2, 3]),
            )
            for g in range(groups)
        ]
        out = parts[0] if groups == 1 else np.concatenate(parts, axis=0)
        return np.ascontiguousarray(out.reshape(weight_shape))

    def conv_nd_backward_input(self, grad_output, weight, input_shape, stride, padding, dilation, groups):
        one_d = len(stride) == 1
        if one_d:
            grad_output = grad_output[:, :, None, :]
            weight = weight[:, :, None, :]
            input_shape = (input_shape[0], input_shape[1], 1, input_shape[2])
            stride, padding, dilation = (1,) + tuple(stride), (0,) + tuple(padding), (1,) + tuple(dilation)
        n, channels, height, width = input_shape
        kh, kw = weight.shape[2:]
        out_h, out_w = grad_output.shape[2:]
        (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation

        in_group, out_group = channels // groups, grad_output.shape[1] // groups
        # Column gradients (N, C, Ho, Wo, kh, kw): each output gradient times the weight it met.
        parts = [
            np.tensordot(
                grad_output[:, g * out_group:(g + 1) * out_group],
                weight[g * out_group:(g + 1) * out_group],
                axes=([1], [0]),
            )
            for g in range(groups)
        ]
        columns = parts[0] if groups == 1 else np.concatenate(parts, axis=3)
        columns = columns.transpose(0, 3, 1, 2, 4, 5)

        padded = np.zeros((n, channels, height + 2 * ph + sh, width + 2 * pw + sw), dtype=grad_output.dtype)
        for i in range(kh):
            for j in range(kw):
                rows = slice(i * dh, i * dh + sh * (out_h - 1) + 1, sh)
                cols = slice(j * dw, j * dw + sw * (out_w - 1) + 1, sw)
                padded[:, :, rows, cols] += columns[..., i, j]
        out = padded[:, :, ph:ph + height, pw:pw + width]
        return np.ascontiguousarray(out[:, :, 0, :] if one_d else out)

    # -- pooling -----------------------------------------------------------------

    def max_pool2d_indices(self, x, kernel_size, stride, padding, dilation, ceil_mode):
        height, width = x.shape[2:]
        out_h, out_w = pool_output_size((height, width), kernel_size, stride, padding, dilation, ceil_mode)
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
        # Pad with -inf (the dtype's lowest value for integers) far enough for ceil_mode's last window.
        low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        extra_h = max(0, (out_h - 1) * sh + dh * (kh - 1) + 1 - height - 2 * ph)
        extra_w = max(0, (out_w - 1) * sw + dw * (kw - 1) + 1 - width - 2 * pw)
        padded = np.pad(x, ((0, 0), (0, 0), (ph, ph + extra_h), (pw, pw + extra_w)), constant_values=low)
        windows = _windows(padded, (kh, kw), (sh, sw), (dh, dw), (out_h, out_w))

        flat = windows.reshape(windows.shape[:4] + (kh * kw,))
        local = flat.argmax(axis=-1)
        a, b = np.divmod(local, kw)
        rows = np.arange(out_h).reshape(-1, 1) * sh - ph + a * dh
        cols = np.arange(out_w) * sw - pw + b * dw
        return (rows * width + cols).astype(np.int64)

    def pool_gather(self, x, indices):
        n, c = x.shape[:2]
        flat = x.reshape(n, c, -1)
        out = np.take_along_axis(flat, indices.reshape(n, c, -1), axis=2)
        return out.reshape(indices.shape)

    def pool_scatter_add(self, grad_output, indices, shape):
        n, c = shape[:2]
        plane = int(np.prod(shape[2:], dtype=np.int64))
        offsets = (np.arange(n * c, dtype=np.int64) * plane).reshape(n, c, *([1] * (indices.ndim - 2)))
        flat = np.bincount((indices + offsets).ravel(), weights=grad_output.ravel(), minlength=n * c * plane)
        return flat.astype(grad_output.dtype, copy=False).reshape(shape)

    # -- padding and embedding ---------------------------------------------------------

    def constant_pad_nd(self, x, pad, value):
        # pad lists (before, after) pairs from the last dimension backwards; negative values crop.
        crops = [slice(None)] * x.ndim
        widths = [(0, 0)] * x.ndim
        for i in range(len(pad) // 2):
            dim = x.ndim - 1 - i
            before, after = pad[2 * i], pad[2 * i + 1]
            crops[dim] = slice(max(-before, 0), x.shape[dim] - max(-after, 0))
            widths[dim] = (max(before, 0), max(after, 0))
        cropped = x[tuple(crops)]
        if not any(w != (0, 0) for w in widths):
            return cropped.copy()
        return np.pad(cropped, widths, constant_values=value)

    def embedding(self, weight, indices, padding_idx, scale_grad_by_freq, sparse):
        return weight[indices]

    def embedding_dense_backward(self, grad_output, indices, num_weights, padding_idx, scale_grad_by_freq):
        dim = grad_output.shape[-1]
        flat_indices = indices.ravel()
        flat_grad = grad_output.reshape(-1, dim)
        keep = flat_indices != padding_idx if padding_idx >= 0 else None
        if keep is not None:
            flat_indices, flat_grad = flat_indices[keep], flat_grad[keep]
        if scale_grad_by_freq:
            counts = np.bincount(flat_indices, minlength=num_weights)
            flat_grad = flat_grad / counts[flat_indices, None].astype(flat_grad.dtype)
        out = np.zeros((num_weights, dim), dtype=grad_output.dtype)
        np.add.at(out, flat_indices, flat_grad)
        return out


def pool_output_size(size, kernel_size, stride, padding, dilation, ceil_mode):
    """Return the pooled (height, width) with PyTorch's rule: with ceil_mode, a last window must start inside."""
    out = []
    for i in range(2):
        span = size[i] + 2 * padding[i] - dilation[i] * (kernel_size[i] - 1) - 1
        length = (-(-span // stride[i]) if ceil_mode else span // stride[i]) + 1
        if ceil_mode and (length - 1) * stride[i] >= size[i] + padding[i]:
            length -= 1
        out.append(length)
    return tuple(out)
