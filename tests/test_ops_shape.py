"""Shape and movement ops against PyTorch: values, gradients, and which results are views."""

from __future__ import annotations

import numpy as np
import pytest

import multigrad as mg
from torch_oracle import compare, random_array


def test_squeeze_forms(torch):
    values = random_array((3, 1, 4, 1))
    for args in [(), (1,), (-1,), ((1, 3),), (0,)]:
        compare(torch, lambda t: t.squeeze(*args), values)
    compare(torch, lambda t: mg.squeeze(t), values, torch_fn=torch.squeeze)
    compare(torch, lambda t: t.squeeze(), np.array(1.5))
    compare(torch, lambda t: t.squeeze(0), np.array(1.5))


def test_unsqueeze(torch):
    for dim in (0, 1, 2, -1, -3):
        compare(torch, lambda t: t.unsqueeze(dim), random_array((3, 4)))
    compare(torch, lambda t: t.unsqueeze(0), np.array(1.5))


def test_unsqueeze_out_of_range_raises():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-3, 2\], but got 3\)"):
        mg.zeros(2, 3).unsqueeze(3)


def test_flatten_unflatten(torch):
    values = random_array((2, 3, 4))
    compare(torch, lambda t: t.flatten(1), values)
    compare(torch, lambda t: t.unflatten(2, (2, 2)), values)
    compare(torch, lambda t: mg.unflatten(t, -1, (-1, 2)), values, torch_fn=lambda t: torch.unflatten(t, -1, (-1, 2)))


def test_expand_as_and_broadcast_to(torch):
    values = random_array((3, 1))
    compare(torch, lambda t, o: t.expand_as(o), values, random_array((2, 3, 4)))
    compare(torch, lambda t: t.broadcast_to((2, 3, 4)), values)
    compare(torch, lambda t: mg.broadcast_to(t, (3, -1)), values, torch_fn=lambda t: torch.broadcast_to(t, (3, -1)))


@pytest.mark.parametrize("repeats", [(2, 1), (1, 3), (2, 2, 2), (0, 1)])
def test_repeat(torch, repeats):
    compare(torch, lambda t: t.repeat(*repeats), random_array((2, 3)))


def test_repeat_with_too_few_dims_raises():
    with pytest.raises(RuntimeError, match="Number of dimensions of repeat dims can not be smaller"):
        mg.zeros(2, 3).repeat(2)


@pytest.mark.parametrize("dims", [(2,), (2, 1), (2, 1, 3)])
def test_tile(torch, dims):
    compare(torch, lambda t: t.tile(dims), random_array((2, 3)))
    compare(torch, lambda t: mg.tile(t, dims), random_array((3,)), torch_fn=lambda t: torch.tile(t, dims))


@pytest.mark.parametrize("dims", [(0,), (1,), (0, 1), (-1,)])
def test_flip(torch, dims):
    compare(torch, lambda t: t.flip(dims), random_array((3, 4)))
    compare(torch, lambda t: mg.flip(t, dims), random_array((2, 3)), torch_fn=lambda t: torch.flip(t, dims))


@pytest.mark.parametrize("shifts, dims", [(1, 0), (-2, 1), ((1, 2), (0, 1)), (5, None), (7, -1)])
def test_roll(torch, shifts, dims):
    compare(torch, lambda t: t.roll(shifts, dims), random_array((3, 4)))


def test_roll_mismatched_shifts_raises():
    with pytest.raises(RuntimeError, match="shifts and dimensions must align"):
        mg.zeros(3, 4).roll((1, 2), 0)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(torch, dim):
    shapes = {0: [(2, 3), (1, 3), (4, 3)], 1: [(2, 1), (2, 3), (2, 2)], -1: [(2, 1), (2, 3), (2, 2)]}[dim]
    arrays = [random_array(s, seed=i) for i, s in enumerate(shapes)]
    compare(torch, lambda ts: mg.cat(ts, dim), arrays, torch_fn=lambda ts: torch.cat(ts, dim))


def test_cat_promotes_and_casts_gradients(torch):
    a = mg.tensor([1.0, 2.0], dtype=mg.float32, requires_grad=True)
    b = mg.tensor([3.0], dtype=mg.float64, requires_grad=True)
    out = mg.cat([a, b])
    assert out.dtype == mg.float64
    out.sum().backward()
    assert a.grad.dtype == mg.float32
    assert a.grad.tolist() == [1.0, 1.0]
    assert b.grad.dtype == mg.float64


def test_cat_skips_legacy_empty(torch):
    compare(torch, lambda a, b: mg.cat([a, b], 1), random_array((0,)), random_array((2, 3)),
            torch_fn=lambda a, b: torch.cat([a, b], 1))


def test_cat_errors():
    with pytest.raises(RuntimeError, match="expected a non-empty list of Tensors"):
        mg.cat([])
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 0. Expected size 3 but got size 2 for tensor number 1 in the list."):
        mg.cat([mg.zeros(2, 3), mg.zeros(2, 2)])
    with pytest.raises(RuntimeError, match="zero-dimensional tensor \\(at position 0\\) cannot be concatenated"):
        mg.cat([mg.tensor(1.0)])
    with pytest.raises(IndexError, match="Dimension out of range"):
        mg.cat([mg.zeros(2, 3)], 2)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(torch, dim):
    arrays = [random_array((2, 3), seed=i) for i in range(3)]
    compare(torch, lambda ts: mg.stack(ts, dim), arrays, torch_fn=lambda ts: torch.stack(ts, dim))
    compare(torch, lambda ts: mg.stack(ts), [np.array(1.0), np.array(2.0)], torch_fn=torch.stack)


def test_stack_unequal_shapes_raises():
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[2, 3\] at entry 0 and \[2, 4\] at entry 1"):
        mg.stack([mg.zeros(2, 3), mg.zeros(2, 4)])


@pytest.mark.parametrize("arg, dim", [(2, 0), ([1, 4], 0), (4, 1), ([0, 6, 0], 1), (10, 0)])
def test_split(torch, arg, dim):
    compare(torch, lambda t: t.split(arg, dim), random_array((5, 6)))
    compare(torch, lambda t: mg.split(t, arg, dim), random_array((5, 6)), torch_fn=lambda t: torch.split(t, arg, dim))


def test_split_wrong_sizes_raises():
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum exactly to 5"):
        mg.zeros(5).split([1, 2])


@pytest.mark.parametrize("chunks, dim", [(2, 0), (3, 1), (4, 1), (7, 0), (1, 0)])
def test_chunk(torch, chunks, dim):
    compare(torch, lambda t: t.chunk(chunks, dim), random_array((5, 6)))


def test_unbind(torch):
    compare(torch, lambda t: t.unbind(), random_array((3, 4)))
    compare(torch, lambda t: mg.unbind(t, 1), random_array((3, 4)), torch_fn=lambda t: torch.unbind(t, 1))


def test_narrow_and_select(torch):
    values = random_array((5, 3))
    compare(torch, lambda t: t.narrow(0, 1, 3), values)
    compare(torch, lambda t: t.narrow(-1, -2, 2), values)
    compare(torch, lambda t: t.select(0, 2), values)
    compare(torch, lambda t: mg.select(t, 1, -1), values, torch_fn=lambda t: torch.select(t, 1, -1))


def test_narrow_and_select_errors():
    x = mg.zeros(5, 3)
    with pytest.raises(RuntimeError, match=r"start \(4\) \+ length \(2\) exceeds dimension size \(5\)"):
        x.narrow(0, 4, 2)
    with pytest.raises(IndexError, match=r"select\(\): index 5 out of range for tensor of size \[5, 3\] at dimension 0"):
        x.select(0, 5)


@pytest.mark.parametrize("source, destination", [(0, 2), (-1, 0), ((0, 1), (2, 0)), ((0,), (1,))])
def test_movedim(torch, source, destination):
    compare(torch, lambda t: t.movedim(source, destination), random_array((2, 3, 4)))
    compare(torch, lambda t: mg.moveaxis(t, source, destination), random_array((2, 3, 4)),
            torch_fn=lambda t: torch.moveaxis(t, source, destination))


# -- views share memory and version counter ---------------------------------------------

VIEWS = {
    "squeeze": lambda t: t.squeeze(1),
    "unsqueeze": lambda t: t.unsqueeze(0),
    "narrow": lambda t: t.narrow(0, 1, 2),
    "select": lambda t: t.select(1, 0),
    "split": lambda t: t.split(2)[1],
    "chunk": lambda t: t.chunk(2)[0],
    "unbind": lambda t: t.unbind()[2],
    "diagonal": lambda t: t.diagonal(),
    "movedim": lambda t: t.movedim(0, -1),
    "expand_as": lambda t: t.expand_as(mg.zeros(2, 4, 1, 3)),
    "broadcast_to": lambda t: t.broadcast_to((2, 4, 1, 3)),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_shares_memory(name):
    base = mg.arange(12.0).reshape(4, 1, 3).clone()
    view = VIEWS[name](base)
    assert view._base is base
    before = view.tolist()
    base.add_(100)
    assert view._version == base._version
    assert np.allclose(np.array(view.tolist()), np.array(before) + 100)


@pytest.mark.parametrize("name", ["flip", "roll", "repeat", "tile"])
def test_copies_do_not_alias(name):
    base = mg.arange(6.0).reshape(2, 3)
    out = {"flip": lambda: base.flip(0), "roll": lambda: base.roll(1, 1),
           "repeat": lambda: base.repeat(1, 1), "tile": lambda: base.tile((1,))}[name]()
    before = out.tolist()
    base.add_(1)
    assert out.tolist() == before


# (label, view applied to a contiguous (2, 3, 4) tensor): each keeps its base's memory, as in PyTorch.
STRIDE_VIEWS = [
    ("contiguous", lambda t: t),
    ("transpose", lambda t: t.transpose(0, 2)),
    ("permute", lambda t: t.permute(1, 2, 0)),
    ("step slice", lambda t: t[:, ::2]),
    ("expand", lambda t: t[0].expand(5, 3, 4)),
    ("select", lambda t: t[1]),
    ("unsqueeze", lambda t: t.unsqueeze(1)),
]


@pytest.mark.parametrize("make_view", [view for _, view in STRIDE_VIEWS], ids=[label for label, _ in STRIDE_VIEWS])
def test_stride_of_views(torch, make_view):
    values = random_array((2, 3, 4))
    mine, theirs = make_view(mg.tensor(values)), make_view(torch.tensor(values))
    assert mine.stride() == theirs.stride()
    for dim in range(-mine.ndim, mine.ndim):
        assert mine.stride(dim) == theirs.stride(dim)


def test_stride_of_zero_dim_tensor():
    assert mg.tensor(1.5).stride() == ()
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        mg.tensor(1.5).stride(0)


def test_stride_dim_out_of_range():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-1, 0\], but got 3\)"):
        mg.zeros(2).stride(3)


def test_stride_of_empty_tensors(torch):
    for shape in [(0, 3), (2, 0, 3), (0,)]:
        assert mg.zeros(shape).stride() == torch.zeros(shape).stride()
    assert mg.zeros(3, 4)[:0].stride() == torch.zeros(3, 4)[:0].stride()
