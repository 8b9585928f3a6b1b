"""Matrix multiplication: 2-D and batched, with register-blocked tiles."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import templates
from .array import CLArray, broadcast_shapes, coalesce, contiguous_strides

if TYPE_CHECKING:
    from .backend import OpenCLBackend

__all__ = ["MatmulKernels"]

#: Rows of C per work-item; each row keeps one vector accumulator in registers.
_TILE_ROWS = 8


def _tile_width(dtype: np.dtype) -> int:
    # One 512-bit vector of C columns per row (16 float32, 8 float64).
    return max(4, min(16, 64 // dtype.itemsize))


class MatmulKernels:
    """Mixin of OpenCLBackend with the matmul kernel."""

    def matmul(self: "OpenCLBackend", a: CLArray, b: CLArray) -> CLArray:
        """Return ``a @ b`` with NumPy's rules: 1-D operands and broadcast batch dims.

        Non-contiguous operands (a transposed matrix, say) are copied to
        contiguous ones first, so the kernel always reads rows.
        """
        a, b = self.check_array("matmul", a), self.check_array("matmul", b)
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes {a.shape} and {b.shape}")
        if a.dtype != b.dtype:
            raise TypeError(
                f"matmul: expected both operands to have the same dtype, got {a.dtype} and {b.dtype}; "
                f"cast one of them first")
        if a.dtype == np.bool_:
            product = self.matmul(self.cast(a, np.int32), self.cast(b, np.int32))
            return self.cast(product, np.bool_)
        self.check_dtype("matmul", a.dtype)

        drop_rows, drop_cols = a.ndim == 1, b.ndim == 1
        if drop_rows:
            a = a.with_layout((1,) + a.shape, (0,) + a.strides, a.offset)
        if drop_cols:
            b = b.with_layout(b.shape + (1,), b.strides + (0,), b.offset)
        (m, k), (k2, n) = a.shape[-2:], b.shape[-2:]
        if k != k2:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({m}x{k} and {k2}x{n}) "
                f"(matmul of shapes {a.shape} and {b.shape})")
        batch = broadcast_shapes("matmul", a.shape[:-2], b.shape[:-2])
        out = self.empty(batch + (m, n), a.dtype)
        if out.size and k == 0:
            self.assign(out, 0)
        elif out.size:
            self._launch_matmul(self.contiguous(a), self.contiguous(b), out, batch, m, n, k)

        shape = out.shape
        if drop_rows:
            shape = shape[:-2] + shape[-1:]
        if drop_cols:
            shape = shape[:-1]
        return out.with_layout(shape, contiguous_strides(shape), out.offset)

    def _launch_matmul(self: "OpenCLBackend", a: CLArray, b: CLArray, out: CLArray,
                       batch: tuple[int, ...], m: int, n: int, k: int) -> None:
        def batch_strides(x: CLArray) -> list[int]:
            lead = len(batch) - (x.ndim - 2)
            strides = [0] * lead
            for size, stride in zip(x.shape[:-2], x.strides[:-2]):
                strides.append(0 if size == 1 else stride)
            return strides

        sizes, strides = coalesce(batch, [out.strides[:-2], batch_strides(a), batch_strides(b)])
        width = _tile_width(a.dtype)
        key = ("matmul", a.dtype, len(sizes))
        kernel = self.kernel(key, "matmul", lambda: templates.matmul(a.dtype, _TILE_ROWS, width, len(sizes)))
        args = [out.buffer, np.int64(out.offset), a.buffer, np.int64(a.offset), b.buffer, np.int64(b.offset),
                np.int64(m), np.int64(n), np.int64(k)]
        args += [np.int64(v) for v in sizes]
        args += [np.int64(v) for operand in strides for v in operand]
        batch_count = 1
        for size in sizes:
            batch_count *= size
        global_size = (-(-n // width), -(-m // _TILE_ROWS), batch_count)
        self.launch("matmul", kernel, global_size, (1, 1, 1), args)
