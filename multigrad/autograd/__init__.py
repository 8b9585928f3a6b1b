"""``multigrad.autograd``: backward, grad and the grad-mode switches."""

from __future__ import annotations

from .._engine import backward, grad
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .._grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .._node import Node
from . import functional, graph
from .anomaly_mode import detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly
from .function import Function, FunctionCtx, once_differentiable

__all__ = ["backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "Node",
           "GradcheckError", "gradcheck", "gradgradcheck", "Function", "FunctionCtx", "once_differentiable",
           "functional", "graph", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]
