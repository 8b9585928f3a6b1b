"""Indexing against PyTorch: getitem, setitem, gather/scatter, masks, index_select, nonzero."""

from __future__ import annotations

import numpy as np
import pytest

import multigrad as mg
from torch_oracle import compare, random_array


def _index_pair(torch, value):
    """Return an index value for multigrad and for torch: lists of ints become int64 tensors."""
    if isinstance(value, np.ndarray):
        return mg.tensor(value), torch.tensor(value)
    return value, value


GETITEM = [
    "2", "-1", "1:3", "::2", "None, 1", "..., 1", "1, :, None",
    np.array([0, 2, 2]), np.array([[1, 0], [3, 3]]),
    (np.array([0, 2]), slice(None), np.array([1, 1])),
    (slice(1, 3), np.array([0, 0, 2])),
    (Ellipsis, np.array([2, 0])),
    (np.array([1, 2]), None, 0),
]


@pytest.mark.parametrize("index", GETITEM, ids=str)
def test_getitem_matches_torch(torch, index):
    values = random_array((4, 3, 5))
    if isinstance(index, str):
        compare(torch, lambda t: eval(f"t[{index}]"), values)
        return
    items = index if isinstance(index, tuple) else (index,)
    mine = tuple(mg.tensor(i) if isinstance(i, np.ndarray) else i for i in items)
    theirs = tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in items)
    compare(torch, lambda t: t[mine], values, torch_fn=lambda t: t[theirs])


def test_getitem_repeated_indices_accumulate(torch):
    index = np.array([0, 2, 2, 2])
    compare(torch, lambda t: t[mg.tensor(index)], random_array((4, 3)), torch_fn=lambda t: t[torch.tensor(index)])


def test_getitem_bool_mask(torch):
    values = random_array((3, 4))
    mask = values > 0
    compare(torch, lambda t: t[mg.tensor(mask)], values, torch_fn=lambda t: t[torch.tensor(mask)])
    row_mask = np.array([True, False, True])
    compare(torch, lambda t: t[mg.tensor(row_mask), 1:], values, torch_fn=lambda t: t[torch.tensor(row_mask), 1:])


def test_getitem_out_of_range_raises():
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        mg.zeros(3)[5]
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        mg.zeros(3)[mg.tensor([0, 3])]


SETITEM = [
    ("1", (5,)), ("1:3", (5,)), (":, 2", (4,)), ("..., 0", (4,)), ("::2, None", (1, 5)),
    ("[0, 2]", (2, 5)), ("[0, 0]", (5,)), ("mask", None), ("[1, 2], [0, 4]", (2,)),
]


@pytest.mark.parametrize("index, value_shape", SETITEM)
def test_setitem_matches_torch(torch, index, value_shape):
    base = random_array((4, 5), seed=1)
    mask = base > 0
    if index == "mask":
        value_shape = (int(mask.sum()),)

    def run(lib, tensor_mask):
        def fn(t, v):
            out = t * 1
            key = tensor_mask if index == "mask" else eval(f"np.s_[{index}]")
            if isinstance(key, tuple):
                key = tuple(lib.tensor(k) if isinstance(k, list) else k for k in key)
            elif isinstance(key, list):
                key = lib.tensor(key)
            out[key] = v
            return out
        return fn

    value = random_array(value_shape, seed=2)
    if index == "[0, 0]":
        # Repeated positions: which write wins is unspecified, so check the values only.
        compare(torch, run(mg, mg.tensor(mask)), base, value, torch_fn=run(torch, torch.tensor(mask)), grad=False)
        return
    compare(torch, run(mg, mg.tensor(mask)), base, value, torch_fn=run(torch, torch.tensor(mask)))


def test_setitem_number_and_broadcast(torch):
    def assign(t):
        out = t * 1
        out[1:, 0] = 2.5
        out[0] = out[2] * 3
        return out
    compare(torch, assign, random_array((3, 4)))


def test_setitem_shape_mismatch_changes_nothing():
    x = mg.zeros(3, 4)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x[0] = mg.ones(5)
    assert x._version == 0
    assert x.sum().item() == 0


# -- gather and scatter -----------------------------------------------------------------

def _ints(shape, high, seed=0):
    return np.random.default_rng(seed).integers(0, high, size=shape)


@pytest.mark.parametrize("dim, index_shape, high", [(0, (2, 4), 3), (1, (3, 2), 4), (1, (2, 6), 4), (-1, (1, 1), 4)])
def test_gather(torch, dim, index_shape, high):
    index = _ints(index_shape, high)
    compare(torch, lambda t, i: t.gather(dim, i), random_array((3, 4)), index)
    compare(torch, lambda t, i: mg.gather(t, dim, i), random_array((3, 4)), index,
            torch_fn=lambda t, i: torch.gather(t, dim, i))


def test_gather_errors():
    x = mg.zeros(3, 4)
    with pytest.raises(RuntimeError, match="Expected dtype int64 for index"):
        x.gather(0, mg.tensor([[0.0]]))
    with pytest.raises(RuntimeError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x.gather(0, mg.tensor([[3]]))
    with pytest.raises(RuntimeError, match="Index tensor must have the same number of dimensions as input tensor"):
        x.gather(0, mg.tensor([0]))


def test_scatter_src_and_value(torch):
    base = random_array((3, 4), seed=1)
    src = random_array((2, 4), seed=2)
    index = np.array([[0, 1, 2, 0], [1, 2, 0, 1]])  # no position written twice
    compare(torch, lambda t, i, s: t.scatter(0, i, s), base, index, src)
    compare(torch, lambda t, i: t.scatter(0, i, 1.5), base, index)
    compare(torch, lambda t, i: t.scatter(0, i, value=-2.0), base, index)
    compare(torch, lambda t, i, s: (t * 1).scatter_(0, i, s), base, index, src)


def test_scatter_add(torch):
    base = random_array((3, 4), seed=1)
    src = random_array((5, 4), seed=2)
    index = _ints((5, 4), 3)
    compare(torch, lambda t, i, s: t.scatter_add(0, i, s), base, index, src)
    compare(torch, lambda t, i, s: mg.scatter_add(t, 1, i, s), base, _ints((3, 2), 4), src[:3, :2],
            torch_fn=lambda t, i, s: torch.scatter_add(t, 1, i, s))
    compare(torch, lambda t, i, s: (t * 1).scatter_add_(0, i, s), base, index, src)


def test_scatter_dtype_mismatch_raises():
    with pytest.raises(RuntimeError, match="Expected self.dtype to be equal to src.dtype"):
        mg.zeros(3).scatter(0, mg.tensor([0]), mg.ones(1, dtype=mg.float64))


def test_index_select(torch):
    index = np.array([2, 0, 2])
    compare(torch, lambda t, i: t.index_select(0, i), random_array((4, 3)), index)
    compare(torch, lambda t, i: mg.index_select(t, 1, i), random_array((4, 3)), np.array([1]),
            torch_fn=lambda t, i: torch.index_select(t, 1, i))
    compare(torch, lambda t, i: t.index_select(-1, i), random_array((4, 3)), np.zeros(0, dtype=np.int64))


def test_index_select_matrix_index_raises():
    with pytest.raises(IndexError, match="Index is supposed to be a vector"):
        mg.zeros(3).index_select(0, mg.tensor([[0]]))


def test_index_add(torch):
    base = random_array((4, 3), seed=3)
    source = random_array((5, 3), seed=4)
    index = np.array([3, 0, 3, 1, 3])  # repeated indices accumulate
    compare(torch, lambda t, i, s: t.index_add(0, i, s), base, index, source)
    compare(torch, lambda t, i, s: mg.index_add(t, -1, i, s, alpha=-1.5), base, np.array([2, 2]), source[:4, :2],
            torch_fn=lambda t, i, s: torch.index_add(t, -1, i, s, alpha=-1.5))
    compare(torch, lambda t, i, s: (t * 1).index_add_(0, i, s, alpha=2), base, index, source)
    compare(torch, lambda t, i, s: t.index_add(0, i, s), np.array(1.5), np.array(0), np.array(2.5))
    compare(torch, lambda t, i, s: t.index_add(1, i, s), base, np.array([1], dtype=np.int32), source[:4, :1])


# (call on zeros (3, 4), PyTorch 2.13's exception type and message)
INDEX_ADD_ERRORS = [
    (lambda x: x.index_add(0, mg.tensor([[0]]), mg.ones(1, 4)), IndexError,
     "index_add_(): Index is supposed to be a vector, but got dim: 2 with type: Long and size: [1, 1]"),
    (lambda x: x.index_add(0, mg.tensor([0.0]), mg.ones(1, 4)), RuntimeError,
     "index_add_(): Expected dtype int32/int64 for index but got: Float"),
    (lambda x: x.index_add(0, mg.tensor([0]), mg.ones(1, 4, dtype=mg.float64)), RuntimeError,
     "index_add_(): self (Float) and source (Double) must have the same scalar type"),
    (lambda x: x.index_add(0, mg.tensor([0, 1]), mg.ones(1, 4)), RuntimeError,
     "index_add_(): Number of indices (2) should be equal to source.size(dim): (1), for dim: 0"),
    (lambda x: x.index_add(0, mg.tensor([0]), mg.ones(1, 5)), RuntimeError,
     "source tensor shape must match self tensor shape, excluding the specified dimension. "
     "Got self.shape = [3, 4] source.shape = [1, 5]"),
    (lambda x: x.index_add(0, mg.tensor(1), mg.tensor(2.0)), RuntimeError,
     "source tensor shape must match self tensor shape, excluding the specified dimension. "
     "Got self.shape = [3, 4] source.shape = []"),
    (lambda x: x.index_add(0, mg.tensor([5]), mg.ones(1, 4)), RuntimeError,
     "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda x: x.index_add(0, mg.tensor([-1]), mg.ones(1, 4)), RuntimeError,
     "index -1 is out of bounds for dimension 0 with size 3"),
    (lambda x: x.index_add(2, mg.tensor([0]), mg.ones(1, 4)), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
]


@pytest.mark.parametrize("call, error, message", INDEX_ADD_ERRORS)
def test_index_add_errors_change_nothing(call, error, message):
    x = mg.zeros(3, 4)
    version = x._version
    with pytest.raises(error) as raised:
        call(x)
    assert str(raised.value) == message
    assert x._version == version
    assert x.sum().item() == 0


def test_masked_fill(torch):
    values = random_array((3, 4), seed=1)
    mask = values > 0.5
    compare(torch, lambda t, m: t.masked_fill(m, 0.25), values, mask)
    compare(torch, lambda t, m: t.masked_fill(m, -1), values, mask[0])
    compare(torch, lambda t, m, v: t.masked_fill(m, v), values, mask, np.array(3.0))
    compare(torch, lambda t, m: (t * 1).masked_fill_(m, 2.0), values, mask)
    compare(torch, lambda t, m: t.masked_fill(m, 7), np.array([1, 2, 3]), np.array([True, False, True]), grad=False)


def test_masked_fill_errors():
    x = mg.zeros(3)
    with pytest.raises(RuntimeError, match="only supports boolean masks"):
        x.masked_fill(mg.tensor([1.0, 0.0, 1.0]), 1.0)
    with pytest.raises(RuntimeError, match="only supports a 0-dimensional value tensor"):
        x.masked_fill(mg.tensor([True, False, True]), mg.ones(2))


def test_masked_select(torch):
    values = random_array((3, 4), seed=1)
    compare(torch, lambda t, m: t.masked_select(m), values, values > 0)
    compare(torch, lambda t, m: mg.masked_select(t, m), values, np.array([True, False, False, True]),
            torch_fn=lambda t, m: torch.masked_select(t, m))


def test_take_along_dim(torch):
    values = random_array((3, 4), seed=1)
    compare(torch, lambda t, i: mg.take_along_dim(t, i, 1), values, _ints((3, 2), 4),
            torch_fn=lambda t, i: torch.take_along_dim(t, i, 1))
    compare(torch, lambda t, i: t.take_along_dim(i, 0), values, _ints((2, 1), 3))
    compare(torch, lambda t, i: t.take_along_dim(i), values, _ints((5,), 12))
    # argsort-like use: indices from argmax with keepdim
    compare(torch, lambda t: t.take_along_dim(t.argmax(1, keepdim=True), 1), values)


def test_nonzero(torch):
    values = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]])
    compare(torch, lambda t: t.nonzero(), values, grad=False)
    compare(torch, lambda t: mg.nonzero(t, as_tuple=True), values, torch_fn=lambda t: torch.nonzero(t, as_tuple=True), grad=False)
    compare(torch, lambda t: t.nonzero(), np.array(2.0), grad=False)
    compare(torch, lambda t: t.nonzero(as_tuple=True), np.array(2.0), grad=False)
    compare(torch, lambda t: t.nonzero(), np.zeros((2, 0)), grad=False)


def test_scatter_src_larger_than_index():
    # PyTorch lets src extend past index; the part of src that index does not reach gets zero gradient.
    base = mg.zeros(3, 2)
    src = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    out = base.scatter(0, mg.tensor([[2, 0]]), src)
    assert out.tolist() == [[0.0, 2.0], [0.0, 0.0], [1.0, 0.0]]
    out.sum().backward()
    assert src.grad.tolist() == [[1.0, 1.0], [0.0, 0.0]]


# (label, input values, keyword arguments of unique)
UNIQUE_CASES = [
    ("ints", np.array([3, 1, 2, 3, 1, 5]), {"return_inverse": True, "return_counts": True}),
    ("floats with nan", np.array([np.nan, 1.0, np.nan, 1.0]), {"return_counts": True}),
    ("rows", np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 5.0]]), {"dim": 0, "return_inverse": True, "return_counts": True}),
    ("columns", np.array([[1, 1, 0], [2, 2, 5]]), {"dim": -1, "return_inverse": True}),
    ("zero-dim", np.array(2.5), {"return_inverse": True}),
    ("bools", np.array([True, False, True]), {}),
    ("unsorted request", np.array([3, 1, 3]), {"sorted": False}),
]


@pytest.mark.parametrize("values, kwargs", [(v, k) for _, v, k in UNIQUE_CASES], ids=[label for label, _, _ in UNIQUE_CASES])
def test_unique_matches_pytorch(torch, values, kwargs):
    mine, theirs = mg.unique(mg.tensor(values), **kwargs), torch.unique(torch.tensor(values), **kwargs)
    mine = mine if isinstance(mine, tuple) else (mine,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        assert tuple(a.shape) == tuple(b.shape)
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_unique_backward_raises_as_pytorch():
    x = mg.tensor([1.0, 1.0, 2.0], requires_grad=True)
    values = x.unique()
    assert type(values.grad_fn).__name__ == "Unique2Backward0"
    with pytest.raises(NotImplementedError, match="the derivative for '_unique2' is not implemented."):
        values.sum().backward()
    rows = mg.unique(x.reshape(3, 1), dim=0)
    with pytest.raises(NotImplementedError, match="the derivative for 'unique_dim' is not implemented."):
        rows.sum().backward()


def test_unique_unselected_empty_dim_raises():
    with pytest.raises(RuntimeError, match="There are 0 sized dimensions, and they aren't selected"):
        mg.unique(mg.zeros(2, 0), dim=0)
