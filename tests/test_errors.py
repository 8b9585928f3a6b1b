"""Invalid calls raise PyTorch's exception type and message, and change nothing.

Each case builds its inputs with ``lib`` (multigrad or torch) and makes one
invalid call. multigrad must raise the same exception type with a message
that contains PyTorch's (it may add a hint after it), and leave the values
and ``_version`` of every input as they were. The same table runs against
PyTorch, so a wrong expected message fails there too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import multigrad as mg


def ones(lib, *shape, dtype=None, requires_grad=False):
    """Return a tensor of ``shape`` with distinct values, so a partial write would show."""
    values = np.arange(1, int(np.prod(shape)) + 1, dtype=np.float64).reshape(shape)
    t = lib.tensor(values.tolist() if shape else float(values), dtype=dtype if dtype is not None else lib.float32)
    return t.requires_grad_(requires_grad)


@dataclass(frozen=True)
class ErrorCase:
    """One invalid call: ``inputs(lib)`` builds the tensors and ``call(lib, *tensors)`` must raise."""

    id: str
    inputs: Callable
    call: Callable
    error: type
    message: str
    needs: str | None = None  # a multigrad attribute path the case needs, such as "nn.functional.mse_loss"


BROADCAST = "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"

CASES = [
    # Broadcasting.
    ErrorCase("add_broadcast", lambda lib: (ones(lib, 2, 3), ones(lib, 2, 4)), lambda lib, a, b: lib.add(a, b), RuntimeError, BROADCAST),
    ErrorCase("mul_operator_broadcast", lambda lib: (ones(lib, 2, 3), ones(lib, 4)), lambda lib, a, b: a * b, RuntimeError, BROADCAST),
    ErrorCase("add_inplace_broadcast", lambda lib: (ones(lib, 2, 3), ones(lib, 2, 4)), lambda lib, a, b: a.add_(b), RuntimeError, BROADCAST),
    ErrorCase("add_inplace_grows_self", lambda lib: (ones(lib, 3), ones(lib, 2, 3)), lambda lib, a, b: a.add_(b),
              RuntimeError, "output with shape [3] doesn't match the broadcast shape [2, 3]"),
    ErrorCase("where_broadcast", lambda lib: (ones(lib, 2, 3) > 2, ones(lib, 2, 3), ones(lib, 4)),
              lambda lib, c, a, b: lib.where(c, a, b), RuntimeError, BROADCAST),
    ErrorCase("requires_grad_broadcast", lambda lib: (ones(lib, 2, 3, requires_grad=True), ones(lib, 2, 4, requires_grad=True)),
              lambda lib, a, b: a - b, RuntimeError, BROADCAST),

    # Matrix products.
    ErrorCase("matmul_2d_2d", lambda lib: (ones(lib, 3, 4), ones(lib, 5, 6)), lambda lib, a, b: a @ b,
              RuntimeError, "mat1 and mat2 shapes cannot be multiplied (3x4 and 5x6)"),
    ErrorCase("matmul_1d_2d", lambda lib: (ones(lib, 4), ones(lib, 5, 6)), lambda lib, a, b: lib.matmul(a, b),
              RuntimeError, "mat1 and mat2 shapes cannot be multiplied (1x4 and 5x6)"),
    ErrorCase("matmul_2d_1d", lambda lib: (ones(lib, 3, 4), ones(lib, 5)), lambda lib, a, b: lib.matmul(a, b),
              RuntimeError, "size mismatch, got input (3), mat (3x4), vec (5)"),
    ErrorCase("matmul_1d_1d", lambda lib: (ones(lib, 3), ones(lib, 4)), lambda lib, a, b: lib.matmul(a, b),
              RuntimeError, "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of elements, but got 3 and 4 elements respectively"),
    ErrorCase("matmul_batched", lambda lib: (ones(lib, 2, 3, 4), ones(lib, 2, 5, 6)), lambda lib, a, b: lib.matmul(a, b),
              RuntimeError, "Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: [2, 5]."),
    ErrorCase("matmul_batched_2d", lambda lib: (ones(lib, 2, 3, 4), ones(lib, 5, 6)), lambda lib, a, b: lib.matmul(a, b),
              RuntimeError, "mat1 and mat2 shapes cannot be multiplied (6x4 and 5x6)"),
    ErrorCase("matmul_batch_broadcast", lambda lib: (ones(lib, 2, 3, 4), ones(lib, 3, 4, 6)), lambda lib, a, b: lib.matmul(a, b),
              RuntimeError, "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"),
    ErrorCase("matmul_0d", lambda lib: (ones(lib), ones(lib, 3)), lambda lib, a, b: lib.matmul(a, b),
              RuntimeError, "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),

    # Dimensions.
    ErrorCase("sum_dim_too_large", lambda lib: (ones(lib, 2, 3),), lambda lib, a: lib.sum(a, 2),
              IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ErrorCase("sum_dim_too_negative", lambda lib: (ones(lib, 2, 3),), lambda lib, a: a.sum(-3),
              IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got -3)"),
    ErrorCase("sum_dim_of_scalar", lambda lib: (ones(lib),), lambda lib, a: a.sum(1),
              IndexError, "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
    ErrorCase("mean_dim_list", lambda lib: (ones(lib, 2, 3),), lambda lib, a: a.mean((0, 5)),
              IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 5)"),
    ErrorCase("transpose_dim", lambda lib: (ones(lib, 2, 3),), lambda lib, a: a.transpose(0, 2),
              IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ErrorCase("permute_duplicate_dims", lambda lib: (ones(lib, 2, 3),), lambda lib, a: a.permute(0, 0),
              RuntimeError, "permute(): duplicate dims are not allowed."),

    # Indexing.
    ErrorCase("getitem_int", lambda lib: (ones(lib, 4, 5),), lambda lib, a: a[4],
              IndexError, "index 4 is out of bounds for dimension 0 with size 4"),
    ErrorCase("getitem_negative", lambda lib: (ones(lib, 4, 5),), lambda lib, a: a[:, -6],
              IndexError, "index -6 is out of bounds for dimension 1 with size 5"),
    ErrorCase("getitem_tensor", lambda lib: (ones(lib, 4, 5), lib.tensor([0, 7])), lambda lib, a, i: a[i],
              IndexError, "index 7 is out of bounds for dimension 0 with size 4"),
    ErrorCase("setitem_int", lambda lib: (ones(lib, 4, 5),), lambda lib, a: a.__setitem__(4, 1.0),
              IndexError, "index 4 is out of bounds for dimension 0 with size 4"),

    # Dtypes.
    ErrorCase("mean_of_int", lambda lib: (ones(lib, 3, dtype=lib.int64),), lambda lib, a: a.mean(),
              RuntimeError, "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Long"),
    ErrorCase("mean_of_bool", lambda lib: (ones(lib, 3) > 1,), lambda lib, a: lib.mean(a),
              RuntimeError, "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Bool"),
    ErrorCase("requires_grad_on_int", lambda lib: (ones(lib, 3, dtype=lib.int64),), lambda lib, a: a.requires_grad_(),
              RuntimeError, "only Tensors of floating point dtype can require gradients"),

    # Shapes.
    ErrorCase("view_wrong_size", lambda lib: (ones(lib, 2, 3),), lambda lib, a: a.view(4),
              RuntimeError, "shape '[4]' is invalid for input of size 6"),
    ErrorCase("reshape_wrong_size", lambda lib: (ones(lib, 2, 3),), lambda lib, a: lib.reshape(a, (4,)),
              RuntimeError, "shape '[4]' is invalid for input of size 6"),
    ErrorCase("expand_wrong_size", lambda lib: (ones(lib, 2, 3),), lambda lib, a: a.expand(4, 3),
              RuntimeError, "The expanded size of the tensor (4) must match the existing size (2) at non-singleton dimension 0.  Target sizes: [4, 3].  Tensor sizes: [2, 3]"),

    # Loss reductions (multigrad.nn.functional).
    ErrorCase("mse_loss_reduction", lambda lib: (ones(lib, 3), ones(lib, 3)),
              lambda lib, a, b: lib.nn.functional.mse_loss(a, b, reduction="bad"),
              ValueError, "bad is not a valid value for reduction", needs="nn.functional.mse_loss"),
    ErrorCase("l1_loss_reduction", lambda lib: (ones(lib, 3), ones(lib, 3)),
              lambda lib, a, b: lib.nn.functional.l1_loss(a, b, reduction="bad"),
              ValueError, "bad is not a valid value for reduction", needs="nn.functional.l1_loss"),
    ErrorCase("cross_entropy_reduction", lambda lib: (ones(lib, 2, 3), lib.tensor([0, 1])),
              lambda lib, a, b: lib.nn.functional.cross_entropy(a, b, reduction="bad"),
              ValueError, "bad is not a valid value for reduction", needs="nn.functional.cross_entropy"),
]


def _has(module, path: str) -> bool:
    for part in path.split("."):
        if not hasattr(module, part):
            return False
        module = getattr(module, part)
    return True


def _params():
    params = []
    for case in CASES:
        marks = []
        if case.needs and not _has(mg, case.needs):
            marks.append(pytest.mark.xfail(reason=f"multigrad.{case.needs} is not implemented yet", strict=False))
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def _snapshot(tensors) -> list:
    return [(t.detach().numpy().copy(), t._version, t.grad_fn, t.requires_grad) for t in tensors]


@pytest.mark.parametrize("case", _params())
def test_error_message(case):
    inputs = case.inputs(mg)
    before = _snapshot(inputs)

    with pytest.raises(case.error, match=re.escape(case.message)):
        case.call(mg, *inputs)

    for i, (t, (values, version, grad_fn, requires_grad)) in enumerate(zip(inputs, before)):
        np.testing.assert_array_equal(t.detach().numpy(), values, err_msg=f"input {i} changed")
        assert t._version == version, f"input {i}: _version {t._version}, was {version}"
        assert t.grad_fn is grad_fn, f"input {i}: grad_fn changed"
        assert t.requires_grad == requires_grad, f"input {i}: requires_grad changed"


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_torch_gives_same_error(case, torch):
    inputs = case.inputs(torch)

    with pytest.raises(case.error, match=re.escape(case.message)):
        case.call(torch, *inputs)


def test_error_leaves_graph_usable():
    # A failed op on tensors that require grad must not break backward through what came before.
    a = ones(mg, 2, 3, requires_grad=True)
    b = a * 2
    with pytest.raises(RuntimeError, match=re.escape(BROADCAST)):
        b + ones(mg, 2, 4)

    b.sum().backward()

    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 3), 2.0))
