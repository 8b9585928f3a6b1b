"""Forwards of the nn functional losses, built from registry ops.

Every loss takes PyTorch's ``reduction`` ('mean', 'sum' or 'none') and the
deprecated ``size_average``/``reduce`` pair, and raises PyTorch's errors.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import _dtype
from ._composites import _check_tensor
from ._generated import _ops
from ._nn_ops import constant_like, numpy_of

REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average, reduce, reduction):
    """Return ``reduction``, or the one that the deprecated ``size_average``/``reduce`` pair selects."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        result = "none"
    elif size_average:
        result = "mean"
    else:
        result = "sum"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{result}' instead.", stacklevel=4
    )
    return result


def check_reduction(reduction):
    """Return a valid reduction name, or raise PyTorch's ValueError."""
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.", stacklevel=4)
        return "mean"
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def apply_reduction(loss, reduction):
    if reduction == "mean":
        return _ops.mean(loss)
    if reduction == "sum":
        return _ops.sum(loss)
    return loss


def _warn_size_mismatch(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            stacklevel=4,
        )


def _weighted_reduction(loss, weight, input, reduction, mean_by_weight):
    """Multiply by a per-element ``weight`` and reduce; 'mean' divides by sum(weight) when ``mean_by_weight``."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = _ops.mul(loss, weight)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return _ops.sum(loss)
    if reduction == "mean":
        return _ops.true_divide(_ops.sum(loss), _ops.sum(weight)) if mean_by_weight else _ops.mean(loss)
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def _pointwise_loss(name, input, target, reduction, weight, elementwise, mean_by_weight=True):
    _check_tensor(input, name)
    _check_tensor(target, name)
    _warn_size_mismatch(input, target)
    if weight is not None:
        return _weighted_reduction(elementwise(input, target), weight, input, reduction, mean_by_weight)
    reduction = check_reduction(reduction)
    return apply_reduction(elementwise(input, target), reduction)


# -- regression losses ----------------------------------------------------------------------


def _squared_error(input, target):
    difference = _ops.sub(input, target)
    return _ops.mul(difference, difference)


def _absolute_error(input, target):
    return _ops.abs(_ops.sub(input, target))


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _pointwise_loss("mse_loss", input, target, reduction, weight, _squared_error)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _pointwise_loss("l1_loss", input, target, reduction, weight, _absolute_error)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return _pointwise_loss("smooth_l1_loss", input, target, reduction, None, _absolute_error)

    def elementwise(input, target):
        difference = _ops.sub(input, target)
        distance = _ops.abs(difference)
        quadratic = _ops.mul(_ops.mul(difference, difference), 0.5 / beta)
        return _ops.where(distance < beta, quadratic, _ops.sub(distance, 0.5 * beta))

    return _pointwise_loss("smooth_l1_loss", input, target, reduction, None, elementwise)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")

    def elementwise(input, target):
        difference = _ops.sub(input, target)
        distance = _ops.abs(difference)
        quadratic = _ops.mul(_ops.mul(difference, difference), 0.5)
        return _ops.where(distance < delta, quadratic, _ops.mul(_ops.sub(distance, 0.5 * delta), delta))

    return _pointwise_loss("huber_loss", input, target, reduction, weight, elementwise, mean_by_weight=False)


# -- classification losses ------------------------------------------------------------------


def _check_class_target(input, target, weight):
    """Check shapes and dtypes of a class-index loss, with PyTorch's messages.

    Return the number of classes and the target, a 1-element target of a 1-d
    input viewed as 0-d as PyTorch does.
    """
    # Shapes come from the arrays: this runs on every loss call, and the Tensor properties cost a call each.
    input_shape, target_shape = input._data.shape, target._data.shape
    if not input_shape:
        raise ValueError(f"Expected 1 or more dimensions (got {len(input_shape)})")
    if target._data.dtype not in _CLASS_TARGET_DTYPES:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_LEGACY_NAMES.get(target.dtype, target.dtype)}")
    if len(input_shape) == 1:
        if len(target_shape) > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if len(target_shape) == 1:
            if target_shape[0] != 1:
                raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target_shape[0]}")
            target = _ops.reshape(target, ())
        classes = input_shape[0]
    else:
        target_batch = target_shape[0] if target_shape else 0
        if target_batch != input_shape[0]:
            raise ValueError(
                f"Expected input batch_size ({input_shape[0]}) to match target batch_size ({target_batch})."
            )
        if len(input_shape) == 2 and len(target_shape) > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        expected = (input_shape[0],) + input_shape[2:]
        if target_shape != expected:
            raise RuntimeError(f"Expected target size {list(expected)}, got {list(target_shape)}")
        if len(input_shape) > 2 and target._data.dtype != np.int64:
            raise RuntimeError("expected scalar type Long but found Byte")
        classes = input_shape[1]
    if weight is not None and weight._data.shape != (classes,):
        raise RuntimeError(
            f"weight tensor should be defined either for all {classes} classes or no classes but got weight "
            f"tensor of shape: {list(weight.shape)}"
        )
    return classes, target


_CLASS_TARGET_DTYPES = (np.dtype(np.int64), np.dtype(np.uint8))
_LEGACY_NAMES = {_dtype.float32: "Float", _dtype.float64: "Double", _dtype.float16: "Half", _dtype.int32: "Int",
                 _dtype.int16: "Short", _dtype.int8: "Char", _dtype.bool_: "Bool"}


def _nll_terms(input, target, weight, ignore_index):
    """Return the unreduced loss and each target's weight (0 where ignored), both shaped like target.

    The picked log-probability is a masked sum over the class dim, so its
    gradient is a where, and ignored or out-of-range targets never index.
    """
    classes, target = _check_class_target(input, target, weight)
    class_dim = 0 if input.ndim == 1 else 1
    targets = numpy_of(target).astype(np.int64)
    valid = targets != ignore_index
    bad = valid & ((targets < 0) | (targets >= classes))
    if bad.any():
        raise IndexError(f"Target {int(targets[bad][0])} is out of bounds.")
    safe = np.where(valid, targets, 0)

    # mask[n, c, ...] is True where c is the (kept) target of position n, ...
    class_shape = [1] * input.ndim
    class_shape[class_dim] = classes
    mask = np.expand_dims(safe, class_dim) == np.arange(classes).reshape(class_shape)
    mask &= np.expand_dims(valid, class_dim)
    picked = _ops.sum(_ops.where(constant_like(mask, input), input, 0.0), class_dim)

    if weight is None:
        target_weight = constant_like(valid.astype(input._data.dtype), input)
    else:
        kept = constant_like(valid.astype(weight._data.dtype), weight)
        target_weight = _ops.mul(weight[constant_like(safe, weight)], kept)
    return _ops.neg(_ops.mul(picked, target_weight)), target_weight


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    _check_tensor(input, "nll_loss")
    _check_tensor(target, "nll_loss")
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction))
    if _fusable(input, weight):
        return _fused_nll(input, target, weight, ignore_index, reduction)
    losses, target_weight = _nll_terms(input, target, weight, ignore_index)
    return _reduce_nll(losses, target_weight, reduction)


def _fusable(input, weight):
    """Return whether the _nll_loss kernel computes the loss: it has no gradient for a class weight."""
    return input._data.dtype.kind == "f" and (weight is None or not weight._requires_grad)


def _fused_nll(input, target, weight, ignore_index, reduction):
    _, target = _check_class_target(input, target, weight)
    if weight is not None and weight._data.dtype != input._data.dtype:
        # NOTE: PyTorch raises "expected scalar type Float but found Double" for a float64 weight of a
        # float32 input. Here the weight is cast to the input's dtype instead.
        weight = weight.to(input.dtype)
    return _ops._nll_loss(input, target, weight, reduction, ignore_index)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    _check_tensor(input, "cross_entropy")
    _check_tensor(target, "cross_entropy")
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction))
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    input_shape = input._data.shape
    if not input_shape:
        raise ValueError(f"Expected 1 or more dimensions (got {len(input_shape)})")
    class_dim = 0 if len(input_shape) == 1 else 1
    classes = input_shape[class_dim]
    log_probs = _ops._log_softmax(input, class_dim)  # input is checked and class_dim normalized

    if target._data.dtype.kind == "f" and target._data.shape == input_shape:
        return _cross_entropy_probabilities(log_probs, target, weight, _class_shape(input_shape, class_dim),
                                            ignore_index, reduction, label_smoothing, classes, class_dim)

    if label_smoothing == 0 and _fusable(log_probs, weight):
        return _fused_nll(log_probs, target, weight, ignore_index, reduction)
    weight_shape = _class_shape(input_shape, class_dim)
    losses, target_weight = _nll_terms(log_probs, target, weight, ignore_index)
    nll = _reduce_nll(losses, target_weight, reduction)
    if label_smoothing == 0:
        return nll

    # Smoothing spreads label_smoothing of the target mass evenly over the classes.
    weighted = log_probs if weight is None else _ops.mul(log_probs, _ops.reshape(weight, weight_shape))
    smooth = _ops.neg(_ops.sum(weighted, class_dim))
    ignored = constant_like(numpy_of(target) == ignore_index, input)
    smooth = _ops.where(ignored, 0.0, smooth)
    if reduction == "mean":
        smooth = _ops.true_divide(_ops.sum(smooth), _ops.sum(target_weight))
    elif reduction == "sum":
        smooth = _ops.sum(smooth)
    return _ops.add(_ops.mul(nll, 1 - label_smoothing), _ops.mul(smooth, label_smoothing / classes))


def _class_shape(input_shape, class_dim):
    """Return the shape that broadcasts a class weight against the input: 1 but in the class dim."""
    shape = [1] * len(input_shape)
    shape[class_dim] = input_shape[class_dim]
    return shape


def _reduce_nll(losses, target_weight, reduction):
    if reduction == "none":
        return losses
    if reduction == "sum":
        return _ops.sum(losses)
    return _ops.true_divide(_ops.sum(losses), _ops.sum(target_weight))


def _cross_entropy_probabilities(log_probs, target, weight, weight_shape, ignore_index, reduction, label_smoothing,
                                 classes, class_dim):
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    if label_smoothing > 0:
        target = _ops.add(_ops.mul(target, 1 - label_smoothing), label_smoothing / classes)
    products = _ops.mul(log_probs, target)
    if weight is not None:
        products = _ops.mul(products, _ops.reshape(weight, weight_shape))
    losses = _ops.neg(_ops.sum(products, class_dim))
    if reduction == "mean":
        # PyTorch divides by the number of samples (every position but the class dim).
        return _ops.true_divide(_ops.sum(losses), log_probs.numel() / classes)
    return apply_reduction(losses, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    _check_tensor(input, "binary_cross_entropy")
    _check_tensor(target, "binary_cross_entropy")
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction))
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}) is "
            "deprecated. Please ensure they have the same size."
        )
    values = numpy_of(input)
    if values.size and not ((values >= 0) & (values <= 1)).all():
        raise RuntimeError("all elements of input should be between 0 and 1")
    loss = _ops._binary_cross_entropy(input, target)
    if weight is not None:
        loss = _ops.mul(loss, weight)
    return apply_reduction(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    _check_tensor(input, "binary_cross_entropy_with_logits")
    _check_tensor(target, "binary_cross_entropy_with_logits")
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction))
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")

    # log(1 - sigmoid(x)) = log_sigmoid(-x); both stay finite for any logit.
    positive = _ops.mul(target, _ops.log_sigmoid(input))
    if pos_weight is not None:
        positive = _ops.mul(positive, pos_weight)
    negative = _ops.mul(_ops.sub(1, target), _ops.log_sigmoid(_ops.neg(input)))
    loss = _ops.neg(_ops.add(positive, negative))
    if weight is not None:
        loss = _ops.mul(loss, weight)
    return apply_reduction(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    _check_tensor(input, "kl_div")
    _check_tensor(target, "kl_div")
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            stacklevel=3,
        )
    if reduction != "batchmean":
        reduction = check_reduction(reduction)

    if log_target:
        loss = _ops.mul(_ops.exp(target), _ops.sub(target, input))
    else:
        # target * log(target) is taken as 0 where target is 0, as xlogy does.
        zero = target == 0
        entropy = _ops.mul(target, _ops.log(_ops.where(zero, 1.0, target)))
        loss = _ops.sub(_ops.where(zero, 0.0, entropy), _ops.mul(target, input))

    if reduction == "batchmean":
        total = _ops.sum(loss)
        return _ops.true_divide(total, input.shape[0]) if input.ndim != 0 else total
    return apply_reduction(loss, reduction)
