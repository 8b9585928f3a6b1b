"""Tensor printing in PyTorch's format: ``tensor([[2., 2.], ...], grad_fn=<MulBackward0>)``."""

from __future__ import annotations

import math

import numpy as np

from . import _dtype

PRECISION = 4
THRESHOLD = 1000  # elements above which the middle of each dimension is elided
EDGE_ITEMS = 3
LINE_WIDTH = 80


class _Formatter:
    """Formats every element of one tensor to a common width."""

    def __init__(self, values: np.ndarray) -> None:
        self.kind = values.dtype.kind
        self.sci = False
        self.int_mode = True
        self.width = 1
        if self.kind == "b":
            self.width = max((len(str(bool(v))) for v in values.flat), default=1)
            return
        if self.kind in "iu":
            self.width = max((len(str(int(v))) for v in values.flat), default=1)
            return

        finite = values[np.isfinite(values)].astype(np.float64)
        abs_nonzero = np.abs(finite[finite != 0])
        self.int_mode = bool(np.all(finite == np.ceil(finite))) if finite.size else True
        if finite.size and abs_nonzero.size:
            max_abs, min_abs = float(abs_nonzero.max()), float(abs_nonzero.min())
            if max_abs / min_abs > 1000.0 or max_abs > 1e8 or (not self.int_mode and min_abs < 1e-4):
                self.sci = True
        # nan and inf are padded to the width of the finite values but never widen it.
        self.width = max((len(self._format(float(v))) for v in finite.flat), default=1)

    def _format(self, value: float) -> str:
        if self.kind == "b":
            return str(bool(value))
        if self.kind in "iu":
            return str(int(value))
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if self.sci:
            return f"{value:.{PRECISION}e}"
        if self.int_mode:
            return f"{value:.0f}."
        return f"{value:.{PRECISION}f}"

    def format(self, value) -> str:
        return self._format(value).rjust(self.width)


def _summarized_values(array: np.ndarray) -> np.ndarray:
    """Return the elements that will be printed, for the common width."""
    if array.ndim == 0 or array.size <= THRESHOLD:
        return array
    parts = []
    for index in np.ndindex(*[min(s, 2 * EDGE_ITEMS) for s in array.shape]):
        real = tuple(i if i < EDGE_ITEMS else s - (2 * EDGE_ITEMS - i) for i, s in zip(index, array.shape))
        parts.append(array[real])
    return np.array(parts)


def _format_array(array: np.ndarray, formatter: _Formatter, indent: int, summarize: bool) -> str:
    """Format ``array`` as nested brackets; ``indent`` is the column of its opening bracket."""
    if array.ndim == 0:
        return formatter.format(array.item())
    if array.ndim == 1:
        items = [" ..." if v is None else formatter.format(v) for v in _edge_items(array, summarize)]
        per_line = max(1, (LINE_WIDTH - indent) // (formatter.width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    separator = "," + "\n" * (array.ndim - 1) + " " * (indent + 1)
    rows = ["..." if row is None else _format_array(row, formatter, indent + 1, summarize)
            for row in _edge_items(array, summarize)]
    return "[" + separator.join(rows) + "]"


def _edge_items(array: np.ndarray, summarize: bool) -> list:
    """Return the rows (or elements) to print along the first dimension; None marks the elision."""
    n = array.shape[0]
    if not summarize or n <= 2 * EDGE_ITEMS:
        return list(array)
    return list(array[:EDGE_ITEMS]) + [None] + list(array[n - EDGE_ITEMS:])


def tensor_repr(t) -> str:
    """Return ``t`` printed as PyTorch prints tensors."""
    prefix = "tensor("
    array = t._backend.to_numpy(t._data)
    dtype = t.dtype
    suffixes = []

    if array.size == 0:
        body = "[]"
        if array.shape != (0,):
            suffixes.append(f"size={tuple(array.shape)}")
    else:
        summarize = array.size > THRESHOLD
        formatter = _Formatter(_summarized_values(array))
        body = _format_array(array, formatter, len(prefix), summarize)

    default_dtypes = (_dtype.get_default_dtype(), _dtype.int64, _dtype.bool_)
    if dtype not in default_dtypes or (array.size == 0 and dtype is not _dtype.get_default_dtype()):
        suffixes.append(f"dtype={dtype!r}")
    dev = t.device
    if dev.type != "numpy":
        suffixes.insert(0, f"device='{dev}'")
    if t._grad_fn is not None:
        suffixes.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return prefix + ", ".join([body] + suffixes) + ")"
