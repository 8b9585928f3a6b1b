"""Every tolerance of the registry checks, in one place.

Forward values and gradients pass when ``|actual - expected| <= atol + rtol * |expected|``
elementwise. The float32 and float64 values follow ``torch.testing.assert_close``'s
defaults (PyTorch 2.x), with float32's rtol raised to 1e-5 because reductions and
matmuls sum in another order than PyTorch does. Bool and integer results must
match exactly.
"""

from __future__ import annotations

#: dtype name -> tolerances for comparing forward values and gradients with the reference.
TOLERANCES: dict[str, dict[str, float]] = {
    "float16": {"rtol": 1e-3, "atol": 1e-3},
    "float32": {"rtol": 1e-5, "atol": 1e-5},
    "float64": {"rtol": 1e-7, "atol": 1e-7},
}

#: Arguments of gradcheck and gradgradcheck, which always run in float64.
GRADCHECK: dict[str, float] = {"eps": 1e-6, "atol": 1e-5, "rtol": 1e-3}

#: The dtypes the registry suite runs every sample in.
DTYPES: tuple[str, ...] = ("float32", "float64")


def tolerance(dtype_name: str) -> dict[str, float]:
    """Return ``{"rtol", "atol"}`` for results of ``dtype_name``; zero for bool and integer dtypes."""
    return TOLERANCES.get(dtype_name, {"rtol": 0.0, "atol": 0.0})
