"""Datasets, DataLoader batching and shuffling, default_collate, and the bundled digits."""

from __future__ import annotations

import numpy as np
import pytest

import multigrad as mg
from multigrad.utils.data import DataLoader, Dataset, Subset, TensorDataset, default_collate


def make_dataset(n=10):
    return TensorDataset(mg.arange(2 * n).float().reshape(n, 2), mg.arange(n))


class Squares(Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"x": mg.tensor([float(i)]), "y": i * i, "name": f"item{i}"}


def test_tensor_dataset_indexing():
    ds = make_dataset()
    assert len(ds) == 10
    x, y = ds[3]
    assert x.tolist() == [6.0, 7.0]
    assert y.item() == 3


def test_tensor_dataset_size_mismatch():
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(mg.zeros(3, 2), mg.zeros(4))


def test_dataset_base_requires_getitem():
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_loader_batches_in_order():
    batches = list(DataLoader(make_dataset(), batch_size=4))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert tuple(batches[0][0].shape) == (4, 2)
    assert len(DataLoader(make_dataset(), batch_size=4)) == 3


def test_loader_drop_last():
    loader = DataLoader(make_dataset(), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [b[1].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_loader_shuffle_with_seed_is_repeatable():
    first = [b[1].tolist() for b in DataLoader(make_dataset(), batch_size=3, shuffle=True, seed=7)]
    second = [b[1].tolist() for b in DataLoader(make_dataset(), batch_size=3, shuffle=True, seed=7)]
    assert first == second
    assert sorted(sum(first, [])) == list(range(10))
    assert sum(first, []) != list(range(10))


def test_loader_shuffle_changes_between_epochs():
    loader = DataLoader(make_dataset(20), batch_size=20, shuffle=True, seed=1)
    assert next(iter(loader))[1].tolist() != next(iter(loader))[1].tolist()


def test_loader_shuffle_follows_manual_seed():
    mg.manual_seed(5)
    first = next(iter(DataLoader(make_dataset(), batch_size=10, shuffle=True)))[1].tolist()
    mg.manual_seed(5)
    second = next(iter(DataLoader(make_dataset(), batch_size=10, shuffle=True)))[1].tolist()
    assert first == second


def test_loader_accepts_generators():
    numpy_rng = np.random.default_rng(3)
    order = next(iter(DataLoader(make_dataset(), batch_size=10, shuffle=True, generator=numpy_rng)))[1].tolist()
    assert order == np.random.default_rng(3).permutation(10).tolist()
    mg.manual_seed(2)
    first = next(iter(DataLoader(make_dataset(), batch_size=10, shuffle=True, generator=mg.default_generator)))
    assert sorted(first[1].tolist()) == list(range(10))


def test_loader_rejects_bad_options():
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        DataLoader(make_dataset(), batch_size=0)
    with pytest.raises(ValueError, match="either generator or seed"):
        DataLoader(make_dataset(), shuffle=True, seed=1, generator=np.random.default_rng())
    with pytest.raises(ValueError, match="only apply with shuffle=True"):
        DataLoader(make_dataset(), seed=1)


def test_loader_fast_path_equals_collate():
    ds = make_dataset()
    fast = list(DataLoader(ds, batch_size=4, shuffle=True, seed=3))
    slow = list(DataLoader(ds, batch_size=4, shuffle=True, seed=3, collate_fn=default_collate))
    slow_again = list(DataLoader(ds, batch_size=4, shuffle=True, seed=3, collate_fn=lambda b: default_collate(b)))
    for a, b in zip(fast, slow_again):
        assert a[0].tolist() == b[0].tolist()
        assert a[1].tolist() == b[1].tolist()
    assert len(fast) == len(slow)


def test_loader_custom_dataset_collates_dicts():
    batch = next(iter(DataLoader(Squares(), batch_size=3)))
    assert batch["x"].tolist() == [[0.0], [1.0], [2.0]]
    assert batch["y"].tolist() == [0, 1, 4]
    assert batch["y"].dtype == mg.int64
    assert batch["name"] == ["item0", "item1", "item2"]


def test_default_collate_numbers_and_sequences():
    batch = default_collate([(1, 0.5, True), (2, 1.5, False)])
    assert isinstance(batch, list)
    assert batch[0].dtype == mg.int64
    assert batch[0].tolist() == [1, 2]
    assert batch[1].dtype == mg.float64
    assert batch[1].tolist() == [0.5, 1.5]
    assert batch[2].dtype == mg.bool
    assert batch[2].tolist() == [True, False]


def test_default_collate_numpy_arrays():
    batch = default_collate([np.zeros((2, 2), dtype=np.float32), np.ones((2, 2), dtype=np.float32)])
    assert tuple(batch.shape) == (2, 2, 2)
    assert batch.dtype == mg.float32


def test_default_collate_shape_mismatch():
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([mg.zeros(2), mg.zeros(3)])


def test_default_collate_rejects_unknown_types():
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])


def test_subset():
    sub = Subset(make_dataset(), [5, 1])
    assert len(sub) == 2
    assert sub[0][1].item() == 5


# -- digits -----------------------------------------------------------------------------

def test_load_digits_split():
    train, test = mg.datasets.load_digits()
    assert len(train) == 1442
    assert len(test) == 355
    images, labels = train.tensors
    assert tuple(images.shape) == (1442, 1, 8, 8)
    assert images.dtype == mg.float32
    assert labels.dtype == mg.int64
    assert 0.0 <= images.numpy().min()
    assert images.numpy().max() == 1.0
    assert sorted(set(labels.tolist())) == list(range(10))


def test_load_digits_is_stratified_and_fixed():
    train, test = mg.datasets.load_digits()
    counts = np.bincount(test.tensors[1].numpy(), minlength=10)
    assert counts.min() >= 34
    assert counts.max() <= 36
    again_train, _ = mg.datasets.load_digits()
    assert again_train.tensors[1].tolist() == train.tensors[1].tolist()
    # The first image of the file is a 0; its top row is fixed by the data file.
    assert train.tensors[1][0].item() == 0
    assert (train.tensors[0][0, 0, 0] * 16).tolist() == [0, 0, 5, 13, 9, 1, 0, 0]


def test_load_digits_dtype():
    train, _ = mg.datasets.load_digits(dtype=mg.float64)
    assert train.tensors[0].dtype == mg.float64
    with pytest.raises(TypeError, match="floating-point dtype"):
        mg.datasets.load_digits(dtype=mg.int64)
