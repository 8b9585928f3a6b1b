"""Neural-network kernels built from the backend's own kernels: softmax, convolution, pooling, padding, embedding.

Convolutions run as im2col: ``as_strided`` gives a window view (N, C, Ho, Wo,
kh, kw) of the padded input, a copy makes it a (N*Ho*Wo, C*kh*kw) matrix, and
one matmul per group contracts it with the weight. 1-d convolutions run as
2-d ones with a height of 1.
"""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from multigrad.backend import nll_targets, pool_output_size

from . import views
from .array import CLArray, contiguous_strides

if TYPE_CHECKING:
    from .backend import OpenCLBackend

__all__ = ["NnKernels"]

_INT64 = np.dtype(np.int64)


def _reshape(backend: "OpenCLBackend", x: CLArray, shape: Sequence[int]) -> CLArray:
    return backend.reshape(x, tuple(shape))


def _out_size(size, kernel, stride, padding, dilation) -> tuple[int, int]:
    return tuple((size[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(2))


def _as_2d(stride, padding, dilation):
    if len(stride) == 2:
        return tuple(stride), tuple(padding), tuple(dilation)
    return (1,) + tuple(stride), (0,) + tuple(padding), (1,) + tuple(dilation)


def _with_height(x: CLArray) -> CLArray:
    """Return an (N, C, W) array viewed as (N, C, 1, W)."""
    return views.unsqueeze(x, 2)


class NnKernels:
    """Mixin of OpenCLBackend with neural-network kernels."""

    # -- softmax family ------------------------------------------------------

    def softmax(self: "OpenCLBackend", x: CLArray, dim: int) -> CLArray:
        """Return ``exp(x) / sum(exp(x))`` along ``dim``, shifted by the maximum so exp never overflows."""
        if x.ndim == 0:
            return self.full((), 1, x.dtype)
        if x.size == 0:
            return self.clone(x)
        shifted = self.exp(self.sub(x, self.amax(x, (dim,), True)))
        return self.true_divide(shifted, self.sum(shifted, (dim,), True))

    def log_softmax(self: "OpenCLBackend", x: CLArray, dim: int) -> CLArray:
        """Return ``x - log(sum(exp(x)))`` along ``dim``, shifted by the maximum."""
        if x.ndim == 0:
            return self.full((), 0, x.dtype)
        if x.size == 0:
            return self.clone(x)
        shifted = self.sub(x, self.amax(x, (dim,), True))
        return self.sub(shifted, self.log(self.sum(self.exp(shifted), (dim,), True)))

    # -- negative log-likelihood ---------------------------------------------------

    def _nll_targets(self: "OpenCLBackend", target: CLArray, weight: CLArray | None, ignore_index: int, classes: int,
                     dtype: np.dtype) -> tuple[CLArray, CLArray | None, CLArray | None]:
        """Return each target with ignored ones replaced by 0, its weight and the mask of kept targets.

        The weight is None when every target counts once (no class weight, none
        ignored), and the mask is None when no target is ignored. The targets
        are checked on the host, which reads ``target`` once.
        """
        safe, kept = nll_targets(self.to_numpy(target), ignore_index, classes)
        safe_device = self.from_numpy(safe)
        kept_device = None if kept is None else self.from_numpy(kept)
        if weight is None:
            return safe_device, None if kept is None else self.cast(kept_device, dtype), kept_device
        picked = self.index_select(self.cast(weight, dtype), 0, _reshape(self, safe_device, (-1,)))
        target_weight = _reshape(self, picked, safe.shape)
        if kept_device is not None:
            target_weight = self.where(kept_device, target_weight, 0)
        return safe_device, target_weight, kept_device

    def nll_loss(self: "OpenCLBackend", x: CLArray, target: CLArray, weight: CLArray | None, reduction: str,
                 ignore_index: int) -> CLArray:
        """Return ``-weight[t] * x[n, t]`` for each target ``t``, summed, averaged by weight or per position."""
        class_dim = 0 if x.ndim == 1 else 1
        safe, target_weight, kept = self._nll_targets(target, weight, ignore_index, x.shape[class_dim], x.dtype)
        picked = _reshape(self, self.gather(x, class_dim, views.unsqueeze(safe, class_dim)), safe.shape)
        # Without weights every target counts once, which saves three kernel launches.
        losses = self.neg(picked if target_weight is None else self.mul(picked, target_weight))
        if kept is not None:
            # An ignored position reads class 0 in place of its target, which may be inf or nan.
            losses = self.where(kept, losses, 0)
        if reduction == "none":
            return losses
        total = self.sum(losses, (), False)
        if reduction == "sum":
            return total
        if target_weight is None:
            return self.true_divide(total, safe.size)
        return self.true_divide(total, self.sum(target_weight, (), False))

    def nll_loss_backward(self: "OpenCLBackend", grad_output: CLArray, x: CLArray, target: CLArray,
                          weight: CLArray | None, reduction: str, ignore_index: int) -> CLArray:
        """Return zeros shaped like ``x`` with ``-weight[t] * grad_output`` (over the weight sum for 'mean') at each target."""
        shape = x.shape
        class_dim = 0 if len(shape) == 1 else 1
        dtype = grad_output.dtype
        safe, target_weight, kept = self._nll_targets(target, weight, ignore_index, shape[class_dim], dtype)
        if target_weight is None:
            scale = self.neg(grad_output)
            if reduction == "mean":
                scale = self.true_divide(scale, safe.size)
            scale = views.expand(scale, safe.shape) if scale.shape != safe.shape else scale
        else:
            scale = self.neg(self.mul(target_weight, grad_output))
            if reduction == "mean":
                scale = self.true_divide(scale, self.sum(target_weight, (), False))
            if kept is not None:
                # Ignored positions get no gradient, even where 'mean' divided by a weight sum of 0.
                scale = self.where(kept, scale, 0)
        zeros = self.full(tuple(shape), 0, dtype)
        return self.scatter(zeros, class_dim, views.unsqueeze(safe, class_dim), views.unsqueeze(scale, class_dim))

    # -- padding ---------------------------------------------------------------

    def constant_pad_nd(self: "OpenCLBackend", x: CLArray, pad: Sequence[int], value: Any) -> CLArray:
        """Return ``x`` padded with ``value``; ``pad`` lists (before, after) pairs from the last dim backwards.

        Negative widths crop.
        """
        crops = [slice(None)] * x.ndim
        widths = [(0, 0)] * x.ndim
        for i in range(len(pad) // 2):
            dim = x.ndim - 1 - i
            before, after = pad[2 * i], pad[2 * i + 1]
            crops[dim] = slice(max(-before, 0), x.shape[dim] - max(-after, 0))
            widths[dim] = (max(before, 0), max(after, 0))
        cropped = views.getitem(x, tuple(crops))
        shape = tuple(s + b + a for s, (b, a) in zip(cropped.shape, widths))
        out = self.full(shape, value, x.dtype)
        inner = tuple(slice(b, b + s) for s, (b, _) in zip(cropped.shape, widths))
        self.assign(views.getitem(out, inner), cropped)
        return out

    # -- convolution --------------------------------------------------------------

    def _columns(self: "OpenCLBackend", x: CLArray, kernel, stride, padding, dilation, out_size,
                 channels: slice) -> CLArray:
        """Return the im2col matrix (N*Ho*Wo, Cg*kh*kw) of the channels ``channels`` of a 4-d input."""
        if any(padding):
            x = self.constant_pad_nd(x, (padding[1], padding[1], padding[0], padding[0]), 0)
        else:
            x = self.contiguous(x)
        x = views.getitem(x, (slice(None), channels))
        n, c = x.shape[:2]
        s_n, s_c, s_h, s_w = x.strides
        windows = x.with_layout(
            (n, out_size[0], out_size[1], c, kernel[0], kernel[1]),
            (s_n, s_h * stride[0], s_w * stride[1], s_c, s_h * dilation[0], s_w * dilation[1]),
            x.offset,
        )
        columns = self.clone(windows)
        return _reshape(self, columns, (n * out_size[0] * out_size[1], c * kernel[0] * kernel[1]))

    def conv_nd(self: "OpenCLBackend", x: CLArray, weight: CLArray, stride, padding, dilation, groups: int) -> CLArray:
        """Return the 1-d or 2-d cross-correlation of ``x`` (N, C, [H,] W) with ``weight`` (O, C/groups, [kh,] kw)."""
        one_d = len(stride) == 1
        stride, padding, dilation = _as_2d(stride, padding, dilation)
        if one_d:
            x, weight = _with_height(x), _with_height(weight)
        kernel = weight.shape[2:]
        out_size = _out_size(x.shape[2:], kernel, stride, padding, dilation)
        n = x.shape[0]
        in_group, out_group = x.shape[1] // groups, weight.shape[0] // groups
        out = self.empty((n, weight.shape[0]) + out_size, x.dtype)
        for g in range(groups):
            columns = self._columns(x, kernel, stride, padding, dilation, out_size,
                                    slice(g * in_group, (g + 1) * in_group))
            w = _reshape(self, views.getitem(weight, (slice(g * out_group, (g + 1) * out_group),)),
                         (out_group, in_group * kernel[0] * kernel[1]))
            product = self.matmul(columns, views.transpose(w, 0, 1))  # (N*Ho*Wo, Og)
            product = views.permute(_reshape(self, product, (n,) + out_size + (out_group,)), (0, 3, 1, 2))
            self.assign(views.getitem(out, (slice(None), slice(g * out_group, (g + 1) * out_group))), product)
        return views.squeeze(out, (2,)) if one_d else out

    def conv_nd_backward_weight(self: "OpenCLBackend", grad_output: CLArray, x: CLArray, weight_shape,
                                stride, padding, dilation, groups: int) -> CLArray:
        """Return the gradient of ``conv_nd`` with respect to its weight."""
        one_d = len(stride) == 1
        stride, padding, dilation = _as_2d(stride, padding, dilation)
        weight_shape = tuple(weight_shape)
        kernel = ((1,) + weight_shape[2:]) if one_d else weight_shape[2:]
        if one_d:
            x, grad_output = _with_height(x), _with_height(grad_output)
        n, out_size = grad_output.shape[0], grad_output.shape[2:]
        in_group, out_group = x.shape[1] // groups, grad_output.shape[1] // groups
        out = self.empty((weight_shape[0], in_group * kernel[0] * kernel[1]), grad_output.dtype)
        for g in range(groups):
            columns = self._columns(x, kernel, stride, padding, dilation, out_size,
                                    slice(g * in_group, (g + 1) * in_group))
            go = views.permute(views.getitem(grad_output, (slice(None), slice(g * out_group, (g + 1) * out_group))),
                               (0, 2, 3, 1))
            go = _reshape(self, go, (n * out_size[0] * out_size[1], out_group))
            self.assign(views.getitem(out, (slice(g * out_group, (g + 1) * out_group),)),
                        self.matmul(views.transpose(go, 0, 1), columns))
        return out.with_layout(weight_shape, contiguous_strides(weight_shape), out.offset)

    def conv_nd_backward_input(self: "OpenCLBackend", grad_output: CLArray, weight: CLArray, input_shape,
                               stride, padding, dilation, groups: int) -> CLArray:
        """Return the gradient of ``conv_nd`` with respect to its input: column gradients added back per offset."""
        one_d = len(stride) == 1
        stride, padding, dilation = _as_2d(stride, padding, dilation)
        input_shape = tuple(input_shape)
        if one_d:
            grad_output, weight = _with_height(grad_output), _with_height(weight)
            input_shape = input_shape[:2] + (1,) + input_shape[2:]
        n, channels, height, width = input_shape
        kh, kw = weight.shape[2:]
        out_h, out_w = grad_output.shape[2:]
        (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
        in_group, out_group = channels // groups, grad_output.shape[1] // groups

        padded = self.full((n, channels, height + 2 * ph + sh, width + 2 * pw + sw), 0, grad_output.dtype)
        for g in range(groups):
            go = views.permute(views.getitem(grad_output, (slice(None), slice(g * out_group, (g + 1) * out_group))),
                               (0, 2, 3, 1))
            go = _reshape(self, go, (n * out_h * out_w, out_group))
            w = _reshape(self, views.getitem(weight, (slice(g * out_group, (g + 1) * out_group),)),
                         (out_group, in_group * kh * kw))
            # Column gradients (N, Ho, Wo, Cg, kh, kw): each output gradient times the weight it met.
            columns = _reshape(self, self.matmul(go, w), (n, out_h, out_w, in_group, kh, kw))
            for i in range(kh):
                for j in range(kw):
                    target = views.getitem(padded, (
                        slice(None), slice(g * in_group, (g + 1) * in_group),
                        slice(i * dh, i * dh + sh * (out_h - 1) + 1, sh),
                        slice(j * dw, j * dw + sw * (out_w - 1) + 1, sw)))
                    part = views.permute(views.getitem(columns, (Ellipsis, i, j)), (0, 3, 1, 2))
                    self.assign(target, self.add(target, part))
        out = self.clone(views.getitem(padded, (slice(None), slice(None), slice(ph, ph + height),
                                                slice(pw, pw + width))))
        return views.squeeze(out, (2,)) if one_d else out

    # -- pooling -------------------------------------------------------------------

    def max_pool2d_indices(self: "OpenCLBackend", x: CLArray, kernel_size, stride, padding, dilation,
                           ceil_mode: bool) -> CLArray:
        """Return the flat (h * W + w) int64 index of each window's maximum, shape (N, C, Ho, Wo)."""
        height, width = x.shape[2:]
        out_h, out_w = pool_output_size((height, width), kernel_size, stride, padding, dilation, ceil_mode)
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
        low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        # Pad far enough for ceil_mode's last window.
        extra_h = max(0, (out_h - 1) * sh + dh * (kh - 1) + 1 - height - 2 * ph)
        extra_w = max(0, (out_w - 1) * sw + dw * (kw - 1) + 1 - width - 2 * pw)
        padded = self.constant_pad_nd(x, (pw, pw + extra_w, ph, ph + extra_h), low)
        n, c = x.shape[:2]
        s_n, s_c, s_h, s_w = padded.strides
        windows = padded.with_layout((n, c, out_h, out_w, kh, kw),
                                     (s_n, s_c, s_h * sh, s_w * sw, s_h * dh, s_w * dw), padded.offset)
        flat = _reshape(self, self.clone(windows), (n, c, out_h, out_w, kh * kw))
        local = self.argmax(flat, 4, False)
        a, b = self.div_rounding(local, kw, "floor"), self.remainder(local, kw)
        rows = self.add(self.mul(self.arange(0, out_h, 1, _INT64), sh), -ph)
        cols = self.add(self.mul(self.arange(0, out_w, 1, _INT64), sw), -pw)
        rows = self.add(views.unsqueeze(rows, 1), self.mul(a, dh))
        cols = self.add(cols, self.mul(b, dw))
        return self.add(self.mul(rows, width), cols)

    def pool_gather(self: "OpenCLBackend", x: CLArray, indices: CLArray) -> CLArray:
        """Return ``x``'s plane elements (N, C, H*W) at the flat ``indices``, shaped like ``indices``."""
        n, c = x.shape[:2]
        flat = _reshape(self, x, (n, c, -1))
        out = self.gather(flat, 2, _reshape(self, indices, (n, c, -1)))
        return _reshape(self, out, indices.shape)

    def pool_scatter_add(self: "OpenCLBackend", grad_output: CLArray, indices: CLArray, shape) -> CLArray:
        """Return zeros of ``shape`` with ``grad_output`` added at the flat plane ``indices``."""
        shape = tuple(shape)
        n, c = shape[:2]
        zeros = self.full((n, c, prod(shape[2:])), 0, grad_output.dtype)
        out = self.scatter_add(zeros, 2, _reshape(self, indices, (n, c, -1)), _reshape(self, grad_output, (n, c, -1)))
        return out.with_layout(shape, contiguous_strides(shape), out.offset)

    # -- embedding -------------------------------------------------------------------

    def embedding(self: "OpenCLBackend", weight: CLArray, indices: CLArray, padding_idx: int,
                  scale_grad_by_freq: bool, sparse: bool) -> CLArray:
        """Return the rows of ``weight`` at ``indices``, shape ``indices.shape + (embedding_dim,)``."""
        flat = _reshape(self, indices, (-1,))
        rows = self.index_select(weight, 0, flat)
        shape = indices.shape + weight.shape[1:]
        return rows.with_layout(shape, contiguous_strides(shape), rows.offset)

    def embedding_dense_backward(self: "OpenCLBackend", grad_output: CLArray, indices: CLArray, num_weights: int,
                                 padding_idx: int, scale_grad_by_freq: bool) -> CLArray:
        """Return the (num_weights, dim) gradient of ``embedding``: rows of ``grad_output`` added per index."""
        dim = grad_output.shape[-1]
        flat_indices = _reshape(self, indices, (-1,))
        flat_grad = _reshape(self, grad_output, (-1, dim))
        count = flat_indices.shape[0]
        if padding_idx >= 0:
            keep = self.cast(self.ne(flat_indices, padding_idx), grad_output.dtype)
            flat_grad = self.mul(flat_grad, views.unsqueeze(keep, 1))
        if scale_grad_by_freq:
            ones = self.full((count,), 1, grad_output.dtype)
            counts = self.scatter_add(self.full((num_weights,), 0, grad_output.dtype), 0, flat_indices, ones)
            frequency = self.index_select(counts, 0, flat_indices)
            flat_grad = self.true_divide(flat_grad, views.unsqueeze(frequency, 1))
        zeros = self.full((num_weights, dim), 0, grad_output.dtype)
        index = views.expand(views.unsqueeze(flat_indices, 1), (count, dim))
        return self.scatter_add(zeros, 0, index, flat_grad)


