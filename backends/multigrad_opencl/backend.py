"""OpenCLBackend: device discovery, memory, kernel cache and launches.

The kernels themselves are methods of the mixins in ``_memory``,
``_elementwise``, ``_reductions``, ``_matmul``, ``_indexing``, ``_shape`` and ``_nn``.
"""

from __future__ import annotations

import logging
from math import prod
from typing import Any, Callable, ClassVar, Sequence

import numpy as np

from multigrad.backend import Backend, BackendUnavailableError

from ._cl import C_TYPES, IMPORT_ERROR, INSTALL_HINT, OpenCLError, cl, wrap_cl_error
from ._elementwise import ElementwiseKernels
from ._indexing import IndexingKernels
from ._matmul import MatmulKernels
from ._memory import MemoryKernels
from ._nn import NnKernels
from ._reductions import ReductionKernels
from ._shape import ShapeKernels
from .array import CLArray, contiguous_strides

__all__ = ["OpenCLBackend"]

logger = logging.getLogger("multigrad.opencl")

#: Upper bound on work-group size for strided kernels; the device limit applies when lower.
_WORK_GROUP_LIMIT = 256


def _pow2_ceil(n: int) -> int:
    return 1 << max(n - 1, 0).bit_length()


class OpenCLBackend(MemoryKernels, ElementwiseKernels, ReductionKernels, MatmulKernels, IndexingKernels, ShapeKernels,
                    NnKernels, Backend):
    """An OpenCL device, ``"opencl:N"``, running multigrad's own kernels.

    Devices are numbered across all platforms in the order pyopencl lists them.
    Kernels are compiled on first use for each (formula or op, dtypes, rank) and cached as
    ``cl.Kernel`` objects for the life of the backend. All work goes through one
    in-order command queue, so results are ready for the next kernel without
    explicit events; ``to_numpy`` and index checks wait for the queue.
    """

    type_name: ClassVar[str] = "opencl"
    install_hint: ClassVar[str] = INSTALL_HINT

    _devices_cache: ClassVar[list[Any] | None] = None
    _devices_error: ClassVar[str | None] = None

    def __init__(self, index: int = 0) -> None:
        super().__init__(index)
        available, reason = self.availability()
        if not available:
            raise BackendUnavailableError(f"device 'opencl:{index}' is unavailable: {reason}")
        devices = self._devices()
        if not 0 <= index < len(devices):
            raise BackendUnavailableError(
                f"device 'opencl:{index}' does not exist: this machine has {len(devices)} OpenCL "
                f"device(s), opencl:0 to opencl:{len(devices) - 1}"
            )
        self.device = devices[index]
        self.device_name = f"opencl:{index}"
        try:
            self.context = cl.Context([self.device])
            self.queue = cl.CommandQueue(self.context)
            self._pool = cl.tools.MemoryPool(cl.tools.ImmediateAllocator(self.queue))
            self._error_flag = cl.Buffer(self.context, cl.mem_flags.READ_WRITE, 4)
        except cl.Error as exc:
            raise wrap_cl_error("init", self.device_name, exc) from exc
        self.has_fp64 = "cl_khr_fp64" in self.device.extensions
        self._work_group_limit = min(_WORK_GROUP_LIMIT, self.device.max_work_group_size)
        self._kernels: dict[tuple, Any] = {}
        self._typed_kernels: set[int] = set()

    # -- discovery -----------------------------------------------------

    @classmethod
    def _devices(cls) -> list[Any]:
        if cls._devices_cache is None:
            cls._devices_cache, cls._devices_error = [], None
            if cl is None:
                cls._devices_error = IMPORT_ERROR
            else:
                try:
                    for platform in cl.get_platforms():
                        cls._devices_cache.extend(platform.get_devices())
                except cl.Error as exc:
                    cls._devices_error = f"no OpenCL platform was found ({exc})"
        return cls._devices_cache

    @classmethod
    def availability(cls) -> tuple[bool, str | None]:
        """Return ``(True, None)`` when pyopencl imports and some platform has a device, else the fix."""
        devices = cls._devices()
        if devices:
            return True, None
        reason = cls._devices_error or "OpenCL platforms were found, but none has a device"
        return False, f"{reason}; {INSTALL_HINT}"

    @classmethod
    def device_count(cls) -> int:
        """Return the number of OpenCL devices over all platforms."""
        return len(cls._devices())

    @classmethod
    def device_names(cls) -> list[str]:
        """Return ``"opencl:N (<device> on <platform>)"`` for each device."""
        return [f"opencl:{i} ({d.name.strip()} on {d.platform.name.strip()})" for i, d in enumerate(cls._devices())]

    def supports_dtype(self, dtype: np.dtype) -> bool:
        """Return whether kernels run for ``dtype``: bool, (u)int8-64, float32, and float64 with cl_khr_fp64."""
        dtype = np.dtype(dtype)
        return dtype in C_TYPES and (dtype != np.float64 or self.has_fp64)

    def check_dtype(self, op: str, *dtypes: np.dtype) -> None:
        """Raise TypeError naming the op, the dtype and the device when a dtype is unsupported."""
        for dtype in dtypes:
            if self.supports_dtype(dtype):
                continue
            if np.dtype(dtype) == np.float64:
                fix = "the device lacks the cl_khr_fp64 extension; use float32, or a device that has it"
            else:
                fix = "the OpenCL backend supports bool, int8 to int64, uint8 to uint64, float32 and float64"
            raise TypeError(
                f"{op}: dtype {np.dtype(dtype)} is not supported on {self.device_name} "
                f"({self.device.name.strip()}): {fix}"
            )

    # -- memory ----------------------------------------------------------

    def empty(self, shape: Sequence[int], dtype: np.dtype) -> CLArray:
        """Return a new contiguous array with uninitialized contents."""
        shape = tuple(int(s) for s in shape)
        dtype = np.dtype(dtype)
        self.check_dtype("empty", dtype)
        nbytes = max(prod(shape), 1) * dtype.itemsize
        try:
            buffer = self._pool.allocate(nbytes)
        except cl.Error as exc:
            raise wrap_cl_error(f"allocate {nbytes} bytes", self.device_name, exc) from exc
        return CLArray(buffer, shape, contiguous_strides(shape), 0, dtype, self, nbytes)

    def check_array(self, op: str, value: Any) -> CLArray:
        """Return ``value`` when it is an array of this device, else raise naming both devices."""
        if not isinstance(value, CLArray):
            raise TypeError(f"{op}: expected an OpenCL array, got {type(value).__name__}")
        if value.backend is not self:
            raise ValueError(
                f"{op}: expected all arrays on one device, but found {value.backend.device_name} "
                f"and {self.device_name}"
            )
        return value

    # -- kernels ---------------------------------------------------------

    def kernel(self, key: tuple, op: str, build_source: Callable[[], str]) -> Any:
        """Return the cached ``cl.Kernel`` for ``key``, compiling ``build_source()`` the first time."""
        kernel = self._kernels.get(key)
        if kernel is not None:
            return kernel
        source = build_source()
        try:
            program = cl.Program(self.context, source).build()
        except cl.Error as exc:
            error = wrap_cl_error(op, self.device_name, exc)
            raise OpenCLError(f"{error}\nkernel source:\n{source}") from exc
        kernel = cl.Kernel(program, "k")
        self._kernels[key] = kernel
        logger.debug("compiled kernel %s for op '%s' on %s", key, op, self.device_name)
        return kernel

    def launch(self, op: str, kernel: Any, global_size: tuple[int, ...],
               local_size: tuple[int, ...] | None, args: Sequence[Any]) -> None:
        """Enqueue ``kernel`` with ``args``; OpenCL errors become OpenCLError naming the op."""
        if id(kernel) not in self._typed_kernels:
            # Declared scalar types let pyopencl pack arguments with struct: 0.6 us instead of 25 us
            # per set_args with pyopencl 2026.1 and PoCL. Every launch of one kernel passes the same kinds.
            # Calling the kernel then sets the arguments and enqueues it in one generated function.
            kernel.set_scalar_arg_dtypes([arg.dtype if isinstance(arg, np.generic) else None for arg in args])
            self._typed_kernels.add(id(kernel))
        try:
            kernel(self.queue, global_size, local_size, *args)
        except cl.Error as exc:
            raise wrap_cl_error(op, self.device_name, exc) from exc

    def ndrange(self, sizes: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Return padded global and local sizes for a kernel indexed by ``templates.strided_index``."""
        rank = len(sizes)
        dims = [sizes[-1] if rank >= 1 else 1, sizes[-2] if rank >= 2 else 1, prod(sizes[:-2]) if rank >= 3 else 1]
        local, budget = [], self._work_group_limit
        for n in dims:
            size = min(_pow2_ceil(n), budget)
            local.append(size)
            budget //= size
        global_size = tuple(-(-n // size) * size for n, size in zip(dims, local))
        return global_size, tuple(local)

    def flat_range(self, n: int) -> tuple[tuple[int], tuple[int]]:
        """Return padded global and local sizes for ``n`` work-items in one dim."""
        size = min(_pow2_ceil(n), self._work_group_limit)
        return (-(-n // size) * size,), (size,)

    def read_error_flag(self) -> bool:
        """Return whether the last indexing kernel flagged an out-of-range index, and clear the flag."""
        flag = np.zeros(1, np.int32)
        cl.enqueue_copy(self.queue, flag, self._error_flag)
        if flag[0]:
            cl.enqueue_copy(self.queue, self._error_flag, np.zeros(1, np.int32))
        return bool(flag[0])

    def clear_error_flag(self) -> None:
        """Zero the flag that indexing kernels set on an out-of-range index."""
        cl.enqueue_copy(self.queue, self._error_flag, np.zeros(1, np.int32))

    def synchronize(self) -> None:
        """Wait until every enqueued kernel and copy has finished."""
        self.queue.finish()
