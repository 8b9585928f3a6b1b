"""The NumPy backend class, assembled from kernel mixins grouped by concept.

Each ``_<concept>.py`` module contains the kernels of one group of ops in
ops.yaml, one method per ``kernel:`` name.
"""

from __future__ import annotations

import warnings

import numpy as np

from multigrad.backend import Backend

from ._allocator import tune_malloc
from ._elementwise import ElementwiseKernels
from ._linalg import LinalgKernels
from ._nn import NnKernels
from ._reductions import ReductionKernels
from ._shape import ShapeKernels
from ._util import _asarray, ndarray


# NumPy warns about overflow, invalid values and division by zero inside ufuncs; PyTorch computes the
# same inf and nan silently. The filter matches only warnings raised in this backend's kernels, so the
# user's own NumPy code keeps its warnings. Anomaly mode is the tool for finding NaN in backward.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"multigrad_numpy(\.|$)")


class NumpyBackend(ElementwiseKernels, ReductionKernels, LinalgKernels, ShapeKernels, NnKernels, Backend):
    """Runs every kernel with NumPy on the host CPU."""

    type_name = "numpy"
    install_hint = "the NumPy backend ships with multigrad"

    def __init__(self, index: int = 0) -> None:
        super().__init__(index)
        tune_malloc()

    def from_numpy(self, array):
        return np.array(array, copy=True) if array.__class__ is ndarray else _asarray(array)

    def to_numpy(self, array):
        return array

    def full(self, shape, value, dtype):
        return np.full(shape, value, dtype=dtype)

    def assign(self, dst, src):
        dst[...] = src  # casts as copyto(casting="unsafe") does, without its Python-level dispatch

    def cast(self, x, dtype):
        return x.astype(dtype)

    def clone(self, x):
        return x.copy()

    def shares_memory(self, a, b):
        return np.may_share_memory(a, b)

    def is_contiguous(self, x):
        return x.flags.c_contiguous

    def element_strides(self, x):
        if x.size == 0 and not any(x.strides):
            # NumPy 2 gives a new empty array zero strides; PyTorch gives it C-order ones.
            strides, step = [], 1
            for size in reversed(x.shape):
                strides.append(step)
                step *= max(size, 1)
            return tuple(reversed(strides))
        return tuple(s // x.itemsize for s in x.strides)

    def can_view(self, x, shape):
        try:
            np.reshape(x, shape, copy=False)
        except ValueError:
            return False
        return True
