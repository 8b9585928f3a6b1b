"""The one table of registry ops that the checks cannot call by their own name.

Ops are called by name in both libraries (``torch.<name>``, ``torch.Tensor.<name>``
or ``torch.nn.functional.<name>``). Private ops (names starting with ``_``) and
ops without a PyTorch namesake need an entry here: either :class:`Through`, an
expression over public API that both libraries run and that reaches the op, or
:class:`Skip` with the reason the op is not checked against PyTorch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["Equivalent", "GRADCHECK_SKIPS", "Through", "Skip", "SPECIAL_OPS"]


@dataclass(frozen=True)
class Through:
    """Check an op through public API: ``call(lib, *args, **kwargs)`` runs in multigrad and in PyTorch.

    ``lib`` is the library module (``multigrad`` or ``torch``). When
    ``check_node`` is set, multigrad's result must come from the op's own
    Node (``op.node_name``), which proves that the expression reached the op.
    """

    call: Callable
    expression: str
    check_node: bool = True


@dataclass(frozen=True)
class Equivalent:
    """Call a private op directly in multigrad, and compare with ``call(torch, *args, **kwargs)``.

    For ops with no public multigrad route that takes arbitrary inputs. Against a
    multigrad reference (another device) both sides call the op directly.
    """

    call: Callable
    expression: str
    check_node: bool = False


@dataclass(frozen=True)
class Skip:
    """Leave an op out of the registry checks, for ``reason``."""

    reason: str


def _index_backward(lib, grad, shape, index):
    # The backward of x[index] at a zero x of ``shape``; recorded so that its own gradient can be checked.
    x = lib.zeros(tuple(shape), dtype=grad.dtype, device=grad.device, requires_grad=True)
    (result,) = lib.autograd.grad(x[index], x, grad, create_graph=True)
    return result


def _public(lib, name: str):
    # multigrad and torch keep some ops only in nn.functional (torch has no public torch.gelu).
    found = getattr(lib, name, None)
    return found if found is not None else getattr(lib.nn.functional, name)


def _unsafe_view(lib, x, shape):
    # Transposing first makes the data non-contiguous, so reshape must copy and then take _unsafe_view.
    # NOTE: a 1-D or 0-d sample stays contiguous and takes _view; the node check then fails.
    return x.transpose(0, -1).reshape(shape)


def _vjp(lib, forward, shape, grad, like):
    # The backward of forward(x) at a zero x of ``shape``, recorded so that its own gradient can be checked.
    x = lib.zeros(tuple(shape), dtype=like.dtype, device=like.device, requires_grad=True)
    (result,) = lib.autograd.grad(forward(x), x, grad, create_graph=True)
    return result


def _setitem(lib, x, index, values):
    out = x.clone()
    out[index] = values
    return out


def _conv(lib, input, weight, stride, padding, dilation, groups):
    conv = getattr(lib.nn.functional, f"conv{input.ndim - 2}d")
    return conv(input, weight, None, stride, padding, dilation, groups)


def _conv_backward_input(lib, grad_output, weight, input_shape, stride, padding, dilation, groups):
    forward = lambda x: _conv(lib, x, weight, stride, padding, dilation, groups)  # noqa: E731
    return _vjp(lib, forward, input_shape, grad_output, grad_output)


def _conv_backward_weight(lib, grad_output, input, weight_shape, stride, padding, dilation, groups):
    forward = lambda w: _conv(lib, input, w, stride, padding, dilation, groups)  # noqa: E731
    return _vjp(lib, forward, weight_shape, grad_output, grad_output)


def _pool_gather(torch, input, indices):
    # Each (batch, channel) plane of input, flattened, read at indices.
    values = input.flatten(2).gather(2, indices.flatten(2))
    return values.view(indices.shape)


def _pool_scatter_add(torch, grad_output, indices, shape):
    out = torch.zeros(tuple(shape[:2]) + (shape[2] * shape[3],), dtype=grad_output.dtype)
    out = out.scatter_add(2, indices.flatten(2), grad_output.flatten(2))
    return out.view(tuple(shape))


def _embedding_backward(lib, grad_output, indices, num_weights, padding_idx, scale_grad_by_freq):
    # embedding_dense_backward marks "no padding row" with -1, nn.functional.embedding with None.
    def forward(weight):
        return lib.nn.functional.embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                                           scale_grad_by_freq=scale_grad_by_freq)

    return _vjp(lib, forward, (num_weights, grad_output.shape[-1]), grad_output, grad_output)


def _nll_loss_backward(lib, grad_output, self, target, weight, reduction, ignore_index):
    # The gradient of nll_loss at self, recorded so that its gradients for grad_output and self can be checked.
    loss = lib.nn.functional.nll_loss(self, target, weight, ignore_index=ignore_index, reduction=reduction)
    (result,) = lib.autograd.grad(loss, self, grad_output, create_graph=True)
    return result


SPECIAL_OPS: dict[str, Through | Equivalent | Skip] = {
    "_mean": Through(lambda lib, x, dim=None, keepdim=False: lib.mean(x, dim, keepdim), "mean(x, dim, keepdim)"),
    "_matmul": Through(lambda lib, a, b: lib.matmul(a, b), "matmul(a, b)"),
    "_permute": Through(lambda lib, x, dims: x.permute(dims), "x.permute(dims)"),
    "_view": Through(lambda lib, x, shape: x.view(shape), "x.view(shape)"),
    "_unsafe_view": Through(_unsafe_view, "x.transpose(0, -1).reshape(shape)"),
    "_expand": Through(lambda lib, x, size: x.expand(size), "x.expand(size)"),
    "_index_view": Through(lambda lib, x, index: x[index], "x[index]"),
    "_index_gather": Through(lambda lib, x, index: x[index], "x[index]"),
    "_index_backward": Through(_index_backward, "autograd.grad(zeros(shape)[index], grad_outputs=grad)"),
    "_to_copy": Through(lambda lib, x, dtype=None, device=None: x.to(dtype, copy=True), "x.to(dtype, copy=True)"),
    "_gelu": Through(lambda lib, x, approximate: _public(lib, "gelu")(x, approximate=approximate),
                     "gelu(x, approximate=approximate)"),
    "_clamp_scalar": Through(lambda lib, x, min, max: lib.clamp(x, min, max), "clamp(x, min, max) with numbers"),
    "_clamp_tensor": Through(lambda lib, x, min, max: lib.clamp(x, min, max), "clamp(x, min, max) with tensors"),
    "_index_put": Through(_setitem, "y = x.clone(); y[index] = values"),
    "_amax": Through(lambda lib, x, dim, keepdim: lib.amax(x, dim, keepdim), "amax(x, dim, keepdim)"),
    "_amin": Through(lambda lib, x, dim, keepdim: lib.amin(x, dim, keepdim), "amin(x, dim, keepdim)"),
    "_argmax": Through(lambda lib, x, dim, keepdim: lib.argmax(x, dim, keepdim), "argmax(x, dim, keepdim)"),
    "_argmin": Through(lambda lib, x, dim, keepdim: lib.argmin(x, dim, keepdim), "argmin(x, dim, keepdim)"),
    "_norm": Through(lambda lib, x, p, dim, keepdim: lib.norm(x, p, dim, keepdim), "norm(x, p, dim, keepdim)"),
    "_softmax": Through(lambda lib, x, dim: _public(lib, "softmax")(x, dim), "softmax(x, dim)"),
    "_log_softmax": Through(lambda lib, x, dim: _public(lib, "log_softmax")(x, dim), "log_softmax(x, dim)"),
    "_binary_cross_entropy": Through(
        lambda lib, x, target: lib.nn.functional.binary_cross_entropy(x, target, reduction="none"),
        "nn.functional.binary_cross_entropy(x, target, reduction='none')"),
    "_nll_loss": Through(
        lambda lib, x, target, weight, reduction, ignore_index: lib.nn.functional.nll_loss(
            x, target, weight, ignore_index=ignore_index, reduction=reduction),
        "nn.functional.nll_loss(x, target, weight, ignore_index=ignore_index, reduction=reduction)"),
    "_nll_loss_backward": Through(_nll_loss_backward, "autograd.grad of nn.functional.nll_loss"),
    "_conv_nd": Through(_conv, "nn.functional.conv1d or conv2d, by input.ndim"),
    "_conv_nd_backward_input": Through(_conv_backward_input, "autograd.grad of conv with respect to its input"),
    "_conv_nd_backward_weight": Through(_conv_backward_weight, "autograd.grad of conv with respect to its weight"),
    "_max_pool2d_indices": Through(
        lambda lib, x, kernel_size, stride, padding, dilation, ceil_mode: lib.nn.functional.max_pool2d(
            x, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)[1],
        "nn.functional.max_pool2d(..., return_indices=True)[1]"),
    "_pool_gather": Equivalent(_pool_gather, "input.flatten(2).gather(2, indices.flatten(2))"),
    "_pool_scatter_add": Equivalent(_pool_scatter_add, "zeros(shape).flatten(2).scatter_add(2, indices, grad_output)"),
    "_flip": Through(lambda lib, x, dim: lib.flip(x, dim), "flip(x, dim)"),
    "_roll": Through(lambda lib, x, shifts, dims: lib.roll(x, shifts, dims), "roll(x, shifts, dims)"),
    "_gather": Through(lambda lib, x, dim, index: lib.gather(x, dim, index), "gather(x, dim, index)"),
    "_scatter": Through(lambda lib, x, dim, index, src: lib.scatter(x, dim, index, src), "scatter(x, dim, index, src)"),
    "_scatter_value": Through(lambda lib, x, dim, index, value: lib.scatter(x, dim, index, value),
                              "scatter(x, dim, index, value)"),
    "_index_add": Through(lambda lib, x, dim, index, source, alpha: lib.index_add(x, dim, index, source, alpha=alpha),
                          "index_add(x, dim, index, source, alpha=alpha)"),
    "_scatter_add": Through(lambda lib, x, dim, index, src: lib.scatter_add(x, dim, index, src),
                            "scatter_add(x, dim, index, src)"),
    "_nonzero": Through(lambda lib, x: lib.nonzero(x), "nonzero(x)"),
    "_diagonal": Through(lambda lib, x, offset, dim1, dim2: lib.diagonal(x, offset, dim1, dim2),
                         "diagonal(x, offset, dim1, dim2)"),
    "_diagonal_backward": Through(
        lambda lib, grad, shape, offset, dim1, dim2: _vjp(lib, lambda x: lib.diagonal(x, offset, dim1, dim2), shape, grad, grad),
        "autograd.grad of diagonal(x, offset, dim1, dim2)"),
    "log_sigmoid": Through(lambda lib, x: lib.nn.functional.logsigmoid(x), "nn.functional.logsigmoid(x)"),
    "embedding_dense_backward": Through(_embedding_backward, "autograd.grad of nn.functional.embedding"),
    "normal_": Skip("random values come from multigrad's generator, which differs from PyTorch's"),
    "uniform_": Skip("random values come from multigrad's generator, which differs from PyTorch's"),
    "div_rounding": Through(lambda lib, a, b, mode: lib.div(a, b, rounding_mode=mode), "div(a, b, rounding_mode=mode)"),
    # torch.floor_divide has no derivative; div with rounding_mode='floor' computes the same with a zero one.
    "floor_divide": Through(lambda lib, a, b: lib.div(a, b, rounding_mode="floor"), "div(a, b, rounding_mode='floor')",
                            check_node=False),
    "_argsort": Through(lambda lib, x, dim, descending: lib.argsort(x, dim, descending), "argsort(x, dim, descending)"),
    "_remainder": Through(lambda lib, a, b: lib.remainder(a, b), "remainder(a, b)"),
    "_fmod": Through(lambda lib, a, b: lib.fmod(a, b), "fmod(a, b)"),
    "_where": Through(lambda lib, condition, x, y: lib.where(condition, x, y), "where(condition, x, y)"),
    "where_method": Through(lambda lib, x, condition, y: x.where(condition, y), "x.where(condition, y)",
                            check_node=False),
    "empty": Through(lambda lib, size, **kwargs: lib.empty(size, **kwargs).zero_(), "empty(size).zero_()",
                     check_node=False),
    "randint": Skip("random values come from multigrad's generator, which differs from PyTorch's"),
    "randperm": Skip("random values come from multigrad's generator, which differs from PyTorch's"),
    "rand_like": Skip("random values come from multigrad's generator, which differs from PyTorch's"),
    "randn_like": Skip("random values come from multigrad's generator, which differs from PyTorch's"),
    "from_numpy": Through(lambda lib, x: lib.from_numpy(x.detach().numpy().copy()), "from_numpy(x.numpy())",
                          check_node=False),
    # A dtype given positionally arrives as its name (the argument type is Any); a keyword one as a dtype.
    "to": Through(lambda lib, x, target=None, **kwargs: x.to(getattr(lib, target), **kwargs) if target else x.to(**kwargs),
                  "x.to(dtype)", check_node=False),
}

#: (op, sample index) -> why gradcheck cannot pass on that sample although the gradient matches PyTorch's.
GRADCHECK_SKIPS: dict[tuple[str, int], str] = {
    ("embedding", 1): "scale_grad_by_freq divides the gradient by each index's count, so it is not the derivative",
    ("float", 0): "a float64 input rounded to float32 makes central differences too coarse; PyTorch checks the gradient",
    ("half", 0): "a float64 input rounded to float16 makes central differences too coarse; PyTorch checks the gradient",
}
