"""``DataLoader``: batches from a dataset, optionally shuffled, and ``default_collate``."""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ... import _dtype
from ..._tensor import Tensor
from .dataset import Dataset, TensorDataset


def default_collate(batch: Sequence[Any]) -> Any:
    """Merge a list of examples into one batch, as ``torch.utils.data.default_collate`` does.

    Tensors are stacked along a new dim 0, and NumPy arrays become stacked
    tensors. Python ints, floats and bools become int64, float64 and bool
    tensors, and strings stay a list. Tuples and lists are collated per
    position (returning a list), and dicts per key.
    """
    if len(batch) == 0:
        raise ValueError("default_collate: the batch is empty")
    first = batch[0]
    if isinstance(first, Tensor):
        return _stack(batch)
    if isinstance(first, np.ndarray):
        from ..._creation import tensor

        return tensor(np.stack(batch))
    if isinstance(first, bool):
        from ..._creation import tensor

        return tensor(list(batch), dtype=_dtype.bool_)
    if isinstance(first, numbers.Integral):
        from ..._creation import tensor

        return tensor([int(v) for v in batch], dtype=_dtype.int64)
    if isinstance(first, numbers.Real):
        from ..._creation import tensor

        return tensor([float(v) for v in batch], dtype=_dtype.float64)
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, dict):
        return {key: default_collate([example[key] for example in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        size = len(first)
        if any(len(example) != size for example in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError(
        f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {type(first).__name__}"
    )


def _stack(tensors: Sequence[Tensor]) -> Tensor:
    shape = tensors[0].shape
    for t in tensors:
        if t.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} and {list(t.shape)}")
    import multigrad

    stack = getattr(multigrad, "stack", None)
    if stack is not None:
        return stack(list(tensors))
    # NOTE: without a registry `stack` op, examples are joined through NumPy, outside autograd.
    from ..._creation import tensor

    return tensor(np.stack([t.detach().cpu().numpy() for t in tensors]), device=tensors[0].device)


class DataLoader:
    """Iterate over a dataset in batches.

    Args:
        dataset: a map-style dataset (``__getitem__`` and ``__len__``).
        batch_size: examples per batch (default 1).
        shuffle: draw a new random order every epoch (default False).
        drop_last: skip a last batch smaller than ``batch_size``.
        collate_fn: turns a list of examples into a batch (default :func:`default_collate`).
        generator: a ``multigrad`` generator (such as ``multigrad.default_generator``)
            or a ``numpy.random.Generator`` for the shuffle order.
        seed: seed of a private generator for the shuffle order; the order
            of epoch k is then the same in every run. By default the global
            generator (``multigrad.manual_seed``) is used.

    A :class:`TensorDataset` with the default collate is batched by indexing
    its tensors once per batch, which gives the same batches as collating
    the examples one by one.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 collate_fn: Callable[[list], Any] | None = None, generator=None, seed: int | None = None,
                 num_workers: int = 0, pin_memory: bool = False) -> None:
        if num_workers != 0:
            raise NotImplementedError(
                f"DataLoader loads in the main process only; got num_workers={num_workers}, pass num_workers=0"
            )
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: pass either generator or seed, not both")
        if (generator is not None or seed is not None) and not shuffle:
            raise ValueError("DataLoader: generator and seed only apply with shuffle=True")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn or default_collate
        self.generator = generator
        self.seed = seed
        self._seed_rng = np.random.default_rng(seed) if seed is not None else None

    def _rng(self) -> np.random.Generator:
        if self._seed_rng is not None:
            return self._seed_rng
        if isinstance(self.generator, np.random.Generator):
            return self.generator
        if self.generator is not None:
            return self.generator.rng
        from ..._creation import default_generator

        return default_generator.rng

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = self._rng().permutation(n) if self.shuffle else np.arange(n)
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate
        for start in range(0, n, self.batch_size):
            indices = order[start:start + self.batch_size]
            if self.drop_last and len(indices) < self.batch_size:
                return
            if fast:
                yield self._tensor_batch(indices)
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in indices])

    def _tensor_batch(self, indices: np.ndarray) -> list[Tensor]:
        from ..._creation import tensor

        out = []
        for t in self.dataset.tensors:
            index = tensor(indices.astype(np.int64), device=t.device)
            out.append(t[index])
        return out
