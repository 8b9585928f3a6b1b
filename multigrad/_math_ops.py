"""Hand-written forwards of elementwise ops: argument checks and dispatch to primitives."""

from __future__ import annotations

from . import _dtype
from ._tensor import Tensor

_GELU_MODES = ("none", "tanh")


def gelu(self, approximate="none"):
    """Check ``approximate`` and compute gelu."""
    from ._generated._ops import _gelu

    if approximate not in _GELU_MODES:
        raise RuntimeError(f"approximate argument must be either none or tanh, but got '{approximate}'")
    return _gelu(self, approximate)


def clamp(self, min=None, max=None):
    """Limit ``self`` to [min, max]; number bounds and tensor bounds take different primitives."""
    from ._generated._ops import _clamp_scalar, _clamp_tensor

    if not isinstance(self, Tensor):
        raise TypeError(f"clamp(): argument 'input' (position 1) must be Tensor, not {type(self).__name__}")
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_tensor(self, _as_bound(min, self), _as_bound(max, self))
    for name, bound in (("min", min), ("max", max)):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float))):
            raise TypeError(f"clamp(): argument '{name}' must be a number or a Tensor, not {type(bound).__name__}")
    # A float bound turns an integer tensor into a float result, as for other ops with a float scalar.
    if self._data.dtype.kind in "iub" and any(isinstance(b, float) for b in (min, max)):
        self = self.to(_dtype.get_default_dtype())
    return _clamp_scalar(self, min, max)


def _as_bound(bound, like: Tensor):
    """Return a tensor bound as it is and a number bound as a 0-d tensor of ``like``'s dtype."""
    if bound is None or isinstance(bound, Tensor):
        return bound
    from ._creation import tensor

    return tensor(bound, dtype=like.dtype, device=like.device)


def clamp_min(self, min):
    return clamp(self, min, None)


def clamp_max(self, max):
    return clamp(self, None, max)


def addcdiv(self, tensor1, tensor2, value=1):
    """Return self + value * tensor1 / tensor2, rejecting integer division as PyTorch does."""
    from ._generated._ops import add, true_divide

    for operand in (tensor1, tensor2):
        if isinstance(operand, Tensor) and operand._data.dtype.kind in "iub":
            raise RuntimeError(
                "Integer division with addcdiv is no longer supported, and in a future release addcdiv will perform "
                "a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as "
                "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
                "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the "
                "latter implementation: (input + value * tensor1 / tensor2), for all dtypes."
            )
    return add(self, true_divide(tensor1, tensor2), alpha=value)
