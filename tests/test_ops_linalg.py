"""Matrix products, einsum, diagonals and triangles against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import multigrad as mg
from torch_oracle import compare, random_array


def test_mm_bmm_dot_outer(torch):
    compare(torch, lambda a, b: a.mm(b), random_array((3, 4), seed=1), random_array((4, 5), seed=2))
    compare(torch, lambda a, b: mg.mm(a, b), random_array((0, 4)), random_array((4, 2)), torch_fn=torch.mm)
    compare(torch, lambda a, b: a.bmm(b), random_array((2, 3, 4), seed=1), random_array((2, 4, 5), seed=2))
    compare(torch, lambda a, b: a.dot(b), random_array((4,), seed=1), random_array((4,), seed=2))
    compare(torch, lambda a, b: mg.outer(a, b), random_array((3,), seed=1), random_array((4,), seed=2), torch_fn=torch.outer)
    compare(torch, lambda a, b: a.outer(b), random_array((0,)), random_array((2,)))


def test_product_shape_errors():
    with pytest.raises(RuntimeError, match="self must be a matrix"):
        mg.mm(mg.zeros(3), mg.zeros(3, 2))
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(3x4 and 5x2\)"):
        mg.mm(mg.zeros(3, 4), mg.zeros(5, 2))
    with pytest.raises(RuntimeError, match="batch1 must be a 3D tensor"):
        mg.bmm(mg.zeros(3, 4), mg.zeros(3, 4))
    with pytest.raises(RuntimeError, match="1D tensors expected, but got 2D and 1D tensors"):
        mg.dot(mg.zeros(2, 2), mg.zeros(2))
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        mg.dot(mg.zeros(2), mg.zeros(3))


EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,kj->ik", [(3, 4), (5, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bij,bkj->bki", [(2, 3, 4), (2, 5, 4)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,ij->", [(3, 4), (3, 4)]),
    ("ij,j->i", [(3, 4), (4,)]),
    ("ijk,ik->j", [(2, 3, 4), (2, 4)]),
    ("ab,cd->abcd", [(2, 3), (4, 1)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("ba,ca", [(3, 4), (5, 4)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("bi,bi->b", [(1, 4), (3, 4)]),
    ("ii->", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ij", [(3, 4)]),
    ("iij->j", [(3, 3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum(torch, equation, shapes):
    arrays = [random_array(s, seed=i) for i, s in enumerate(shapes)]
    compare(torch, lambda *ts: mg.einsum(equation, *ts), *arrays, torch_fn=lambda *ts: torch.einsum(equation, *ts))
    compare(torch, lambda *ts: mg.einsum(equation, list(ts)), *arrays, torch_fn=lambda *ts: torch.einsum(equation, list(ts)))


def test_einsum_errors():
    with pytest.raises(RuntimeError, match="more operands were provided"):
        mg.einsum("ij->i", mg.zeros(2, 2), mg.zeros(2))
    with pytest.raises(RuntimeError, match="does not match the number of dimensions"):
        mg.einsum("ijk->i", mg.zeros(2, 2))
    with pytest.raises(RuntimeError, match="output subscript k does not appear"):
        mg.einsum("ij->k", mg.zeros(2, 2))


@pytest.mark.parametrize("shape", [(3, 3), (3, 5), (5, 3)])
def test_trace(torch, shape):
    compare(torch, lambda t: t.trace(), random_array(shape))


def test_trace_of_3d_raises():
    with pytest.raises(RuntimeError, match="trace: expected a matrix"):
        mg.zeros(2, 2, 2).trace()


@pytest.mark.parametrize("offset, dim1, dim2", [(0, 0, 1), (1, 0, 1), (-1, 0, 1), (0, 2, 0), (2, -1, 1), (-5, 0, 1)])
def test_diagonal(torch, offset, dim1, dim2):
    compare(torch, lambda t: t.diagonal(offset, dim1, dim2), random_array((3, 4, 5)))
    compare(torch, lambda t: mg.diagonal(t, offset=offset, dim1=dim1, dim2=dim2), random_array((3, 4, 5)),
            torch_fn=lambda t: torch.diagonal(t, offset=offset, dim1=dim1, dim2=dim2))


def test_diagonal_is_a_writable_view():
    x = mg.zeros(3, 3)
    d = x.diagonal()
    d.add_(1)
    assert x.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert x._version == d._version == 1


def test_diagonal_same_dims_raises():
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical 0, 0"):
        mg.zeros(3, 3).diagonal(0, 0, 0)


@pytest.mark.parametrize("name", ["tril", "triu"])
@pytest.mark.parametrize("diagonal", [0, 1, -1, 5])
def test_tril_triu(torch, name, diagonal):
    compare(torch, lambda t: getattr(t, name)(diagonal), random_array((3, 4)))
    compare(torch, lambda t: getattr(mg, name)(t, diagonal), random_array((2, 3, 4)),
            torch_fn=lambda t: getattr(torch, name)(t, diagonal))
    compare(torch, lambda t: getattr(t * 1, name + "_")(diagonal), random_array((3, 3)))


def test_matmul_forms(torch):
    compare(torch, lambda a, b: a @ b, random_array((2, 3, 4), seed=1), random_array((4,), seed=2))
    compare(torch, lambda a, b: a @ b, random_array((4,), seed=1), random_array((2, 4, 3), seed=2))
    compare(torch, lambda a, b: a.matmul(b), random_array((2, 1, 3, 4), seed=1), random_array((5, 4, 2), seed=2))
