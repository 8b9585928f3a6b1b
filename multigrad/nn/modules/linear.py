"""Affine layers: ``Identity`` and ``Linear``."""

from __future__ import annotations

import math

from ..._creation import empty
from ..._tensor import Tensor
from .. import init
from ..parameter import Parameter
from .. import functional as F
from .module import Module


class Identity(Module):
    """Return the input unchanged; a placeholder layer that accepts and ignores any arguments."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """Apply ``y = x @ weight.T + bias``.

    ``weight`` has shape (out_features, in_features) and is initialised by
    ``kaiming_uniform_(a=sqrt(5))``, which is U(-1/sqrt(in_features),
    1/sqrt(in_features)); ``bias`` is drawn from that same range.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw new initial weights with PyTorch's default scheme."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
