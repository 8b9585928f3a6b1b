"""Helpers that the timed cases share."""

from __future__ import annotations

from typing import Any, Callable

from benchmarks.libraries import gradient_norm
from benchmarks.timing import TimingPlan, summarize, time_calls

# A step runs one timed iteration and returns the loss in the library's own type.
# The gradient reader returns the gradients of the latest step as NumPy arrays.
Step = Callable[[], Any]
GradientReader = Callable[[], list]


def loss_value(loss: Any) -> float:
    """Convert a loss (tensor, NumPy scalar or float) to a Python float."""
    return float(loss.item()) if hasattr(loss, "item") else float(loss)


def check_and_time(step: Step, read_gradients: GradientReader, plan: TimingPlan) -> dict[str, Any]:
    """Run the step once for the correctness check, then time it.

    The check reads the loss and gradient norm of the first step, which runs
    before any parameter update, so every library starts from the same parameters.
    """
    loss = step()
    check = {"loss": loss_value(loss), "grad_norm": gradient_norm(read_gradients())}
    return {"metrics": {"step": summarize(time_calls(step, plan))}, "check": check}
