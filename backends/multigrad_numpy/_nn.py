"""Neural-network kernels: softmax, convolution, pooling, padding and embedding.

Convolutions run as im2col: the receptive fields of the padded input are
copied into columns, one strided slice per kernel offset, and multiplied by
the weight matrix in one batched ``matmul`` (all groups at once). Python
loops run over the kernel's (kh, kw) offsets, never over pixels.
"""

from __future__ import annotations

import numpy as np

from multigrad.backend import nll_targets, pool_output_size

from ._util import _array


def _as_2d(x, stride, padding, dilation):
    """Return a convolution's input and parameters with 2 spatial dims; 1-d ones get a height of 1."""
    if len(stride) == 2:
        return x, tuple(stride), tuple(padding), tuple(dilation)
    return x[:, :, None, :], (1,) + tuple(stride), (0,) + tuple(padding), (1,) + tuple(dilation)


def _out_size(size, kernel, stride, padding, dilation):
    return tuple(
        (size[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(2)
    )


def _padded(x, padding, extra=(0, 0), value=0):
    """Return ``x`` with ``padding`` on both sides of H and W plus ``extra`` after them, filled with ``value``."""
    (ph, pw), (eh, ew) = padding, extra
    if not (ph or pw or eh or ew):
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + 2 * ph + eh, w + 2 * pw + ew), value, dtype=x.dtype)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def _offset_slices(kernel, stride, dilation, out_size):
    """Yield (i, j, rows, cols): the slices of a padded input that kernel offset (i, j) reads."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_size
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
            yield i, j, rows, cols


def _im2col(x, kernel, stride, padding, dilation, out_size):
    """Return the columns (N, C * kh * kw, Ho * Wo): each output pixel's receptive field, one per column.

    One strided copy per kernel offset keeps the inner loop of each copy
    contiguous along W, which is faster than copying a 6-d window view.
    """
    n, c = x.shape[:2]
    if kernel == (1, 1) and stride == (1, 1) and not any(padding):
        return x.reshape(n, c, -1)
    padded = _padded(x, padding)
    columns = np.empty((n, c, kernel[0], kernel[1]) + tuple(out_size), dtype=x.dtype)
    for i, j, rows, cols in _offset_slices(kernel, stride, dilation, out_size):
        columns[:, :, i, j] = padded[:, :, rows, cols]
    return columns.reshape(n, c * kernel[0] * kernel[1], -1)


def _target_weight(safe, kept, weight, dtype):
    """Return each target's weight: ``weight[target]``, or 1 without a weight, and 0 where not ``kept``."""
    if weight is None:
        return np.ones(safe.shape, dtype) if kept is None else kept.astype(dtype)
    target_weight = _array(weight.astype(dtype, copy=False)[safe])
    if kept is not None:
        target_weight *= kept
    return target_weight

def _max_keepdim(x, dim):
    """Return the maximum of ``x`` along ``dim``, keeping the dimension.

    NumPy reduces a short last axis of a C-ordered matrix one row at a time.
    That is about 3 times slower than reducing the first axis of its transposed
    copy (4.7 us against 1.7 us for a (64, 10) matrix of logits), so that case copies.
    """
    if dim == 1 and x.ndim == 2 and x.shape[1] <= 64 and x.flags.c_contiguous:
        return np.ascontiguousarray(x.T).max(axis=0)[:, None]
    return x.max(axis=dim, keepdims=True)


def _class_dim(ndim):
    """Return the class dimension of an (C,) or (N, C, d1, ...) input."""
    return 0 if ndim == 1 else 1


class NnKernels:
    """Mixin of NumpyBackend."""

    # -- softmax family ---------------------------------------------------------

    def softmax(self, x, dim):
        if x.ndim == 0:
            return np.ones_like(x)
        if x.size == 0:
            return x.copy()
        exp = np.exp(x - _max_keepdim(x, dim))
        exp /= exp.sum(axis=dim, keepdims=True)
        return exp

    def log_softmax(self, x, dim):
        if x.ndim == 0:
            return np.zeros_like(x)
        if x.size == 0:
            return x.copy()
        shifted = x - _max_keepdim(x, dim)
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

    # -- negative log-likelihood ------------------------------------------------------

    def nll_loss(self, x, target, weight, reduction, ignore_index):
        class_dim = _class_dim(x.ndim)
        safe, kept = nll_targets(target, ignore_index, x.shape[class_dim])
        if x.ndim == 1:
            picked = x[safe]
        elif x.ndim == 2:
            picked = x[np.arange(x.shape[0]), safe]
        else:
            picked = np.take_along_axis(x, np.expand_dims(safe, class_dim), class_dim).squeeze(class_dim)
        # A weight sum of 0 ('mean' with every target ignored) gives nan, as in PyTorch.
        with np.errstate(divide="ignore", invalid="ignore"):
            if weight is None and kept is None:
                # Every target counts once: the losses are the negated picks and the weight sum is their number.
                losses = _array(np.negative(picked))
                total_weight = x.dtype.type(losses.size)
            else:
                target_weight = _target_weight(safe, kept, weight, x.dtype)
                losses = _array(picked * -target_weight)
                if kept is not None:
                    # An ignored position reads class 0 in place of its target, which may be inf or nan.
                    losses[~kept] = 0
                total_weight = np.add.reduce(target_weight, axis=None, dtype=x.dtype)
            if reduction == "none":
                return losses
            total = np.add.reduce(losses, axis=None, dtype=x.dtype)
            if reduction == "sum":
                return _array(total)
            return _array(total / total_weight)

    def nll_loss_backward(self, grad_output, x, target, weight, reduction, ignore_index):
        shape = x.shape
        class_dim = _class_dim(len(shape))
        dtype = grad_output.dtype
        safe, kept = nll_targets(target, ignore_index, shape[class_dim])
        # A weight sum of 0 gives nan, written only where a target is kept.
        with np.errstate(divide="ignore", invalid="ignore"):
            if weight is None and kept is None:
                # Every target counts once: a 0-d scale (after 'mean' or 'sum') is written to every target.
                scale = -grad_output
                if reduction == "mean":
                    scale = scale / dtype.type(safe.size)
            else:
                target_weight = _target_weight(safe, kept, weight, dtype)
                scale = _array(target_weight * -grad_output)
                if reduction == "mean":
                    scale /= target_weight.sum(dtype=dtype)
                if kept is not None:
                    # Ignored positions get no gradient, even where 'mean' divided by a weight sum of 0.
                    scale[~kept] = 0
        out = np.zeros(shape, dtype=dtype)
        if len(shape) == 1:
            out[safe] = scale
        elif len(shape) == 2:
            out[np.arange(shape[0]), safe] = scale
        else:
            values = np.expand_dims(scale, class_dim) if scale.ndim else scale
            np.put_along_axis(out, np.expand_dims(safe, class_dim), values, class_dim)
        return out

    # -- convolution -------------------------------------------------------------

    def conv_nd(self, x, weight, stride, padding, dilation, groups):
        one_d = len(stride) == 1
        x, stride, padding, dilation = _as_2d(x, stride, padding, dilation)
        if one_d:
            weight = weight[:, :, None, :]
        kernel = tuple(weight.shape[2:])
        out_size = _out_size(x.shape[2:], kernel, stride, padding, dilation)
        columns = _im2col(x, kernel, stride, padding, dilation, out_size)

        n, out_channels = x.shape[0], weight.shape[0]
        if groups == 1:
            out = np.matmul(weight.reshape(out_channels, -1), columns)
        else:
            matrices = weight.reshape(groups, out_channels // groups, -1)
            out = np.matmul(matrices, columns.reshape(n, groups, matrices.shape[2], -1))
        out = out.reshape((n, out_channels) + out_size)
        return out[:, :, 0, :] if one_d else out

    def conv_nd_backward_weight(self, grad_output, x, weight_shape, stride, padding, dilation, groups):
        one_d = len(stride) == 1
        x, stride, padding, dilation = _as_2d(x, stride, padding, dilation)
        if one_d:
            grad_output = grad_output[:, :, None, :]
        kernel = (1,) + tuple(weight_shape[2:]) if one_d else tuple(weight_shape[2:])
        out_size = tuple(grad_output.shape[2:])
        columns = _im2col(x, kernel, stride, padding, dilation, out_size)

        # Sum over the batch of grad (Co, L) @ columns (K, L).T, per group.
        n, out_channels = grad_output.shape[:2]
        grads = grad_output.reshape(n, groups, out_channels // groups, -1)
        columns = columns.reshape(n, groups, columns.shape[1] // groups, -1)
        out = np.matmul(grads, columns.transpose(0, 1, 3, 2)).sum(axis=0)
        return out.reshape(weight_shape)

    def conv_nd_backward_input(self, grad_output, weight, input_shape, stride, padding, dilation, groups):
        one_d = len(stride) == 1
        if one_d:
            grad_output = grad_output[:, :, None, :]
            weight = weight[:, :, None, :]
            input_shape = (input_shape[0], input_shape[1], 1, input_shape[2])
            stride, padding, dilation = (1,) + tuple(stride), (0,) + tuple(padding), (1,) + tuple(dilation)
        stride, padding, dilation = tuple(stride), tuple(padding), tuple(dilation)
        n, channels, height, width = input_shape
        kernel = tuple(weight.shape[2:])
        out_size = tuple(grad_output.shape[2:])
        out_channels = weight.shape[0]
        full = tuple(k - 1 - p for k, p in zip(kernel, padding))
        if stride == (1, 1) and dilation == (1, 1) and min(full) >= 0:
            # With stride 1 the input gradient is a full correlation of the output gradient with the
            # flipped kernel, which im2col computes faster than adding columns back one offset at a time.
            flipped = weight[:, :, ::-1, ::-1].reshape((groups, out_channels // groups, channels // groups) + kernel)
            flipped = flipped.transpose(0, 2, 1, 3, 4).reshape((channels, out_channels // groups) + kernel)
            out = self.conv_nd(grad_output, flipped, (1, 1), full, (1, 1), groups)
            return out[:, :, 0, :] if one_d else out

        # Column gradients: weight.T (K, Co) @ grad (Co, L), per group, then added back where each column read.
        matrices = weight.reshape(groups, out_channels // groups, -1).transpose(0, 2, 1)
        grads = grad_output.reshape(n, groups, out_channels // groups, -1)
        columns = np.matmul(matrices, grads).reshape((n, channels) + kernel + out_size)
        (ph, pw) = padding
        padded = np.zeros((n, channels, height + 2 * ph, width + 2 * pw), dtype=grad_output.dtype)
        for i, j, rows, cols in _offset_slices(kernel, stride, dilation, out_size):
            padded[:, :, rows, cols] += columns[:, :, i, j]
        out = padded[:, :, ph:ph + height, pw:pw + width] if ph or pw else padded
        if one_d:
            out = out[:, :, 0, :]
        return np.ascontiguousarray(out)

    # -- pooling -----------------------------------------------------------------

    def max_pool2d_indices(self, x, kernel_size, stride, padding, dilation, ceil_mode):
        height, width = x.shape[2:]
        kernel, stride, padding, dilation = tuple(kernel_size), tuple(stride), tuple(padding), tuple(dilation)
        out_h, out_w = pool_output_size((height, width), kernel, stride, padding, dilation, ceil_mode)
        # Pad with -inf (the dtype's lowest value for integers), far enough for ceil_mode's last window.
        low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        extra = tuple(
            max(0, (size - 1) * s + d * (k - 1) + 1 - length - 2 * p)
            for size, s, d, k, length, p in zip((out_h, out_w), stride, dilation, kernel, (height, width), padding)
        )
        padded = _padded(x, padding, extra, low)

        # The maximum over the kernel offsets' strided slices, then the first offset that contains it
        # (found from the last offset back), as PyTorch picks the first maximum. PyTorch 2.x takes the
        # last NaN of a window instead, so NaNs are placed in a second pass.
        windows = _offset_slices(kernel, stride, dilation, (out_h, out_w))
        slices = [padded[:, :, rows, cols] for _, _, rows, cols in windows]
        maximum = slices[0]
        for candidate in slices[1:]:
            maximum = np.maximum(maximum, candidate)
        offset = np.full(maximum.shape, len(slices) - 1, dtype=np.int64)
        for k in range(len(slices) - 2, -1, -1):
            np.copyto(offset, k, where=slices[k] == maximum)
        if x.dtype.kind == "f" and np.isnan(maximum).any():
            for k, candidate in enumerate(slices):
                np.copyto(offset, k, where=np.isnan(candidate))

        a, b = np.divmod(offset, kernel[1])
        rows = np.arange(out_h).reshape(-1, 1) * stride[0] - padding[0] + a * dilation[0]
        cols = np.arange(out_w) * stride[1] - padding[1] + b * dilation[1]
        return (rows * width + cols).astype(np.int64)

    def pool_gather(self, x, indices):
        n, c = x.shape[:2]
        flat = x.reshape(n, c, -1)
        out = np.take_along_axis(flat, indices.reshape(n, c, -1), axis=2)
        return out.reshape(indices.shape)

    def pool_scatter_add(self, grad_output, indices, shape):
        n, c = shape[:2]
        plane = int(np.prod(shape[2:], dtype=np.int64))
        offsets = (np.arange(n * c, dtype=np.int64) * plane).reshape((n, c) + (1,) * (indices.ndim - 2))
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


