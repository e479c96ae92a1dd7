"""`torch.utils.data`: `Dataset`, `TensorDataset` and `DataLoader` (batching, shuffling)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .. import dtypes
from ..ops import copies, creation
from ..ops.random import randperm
from ..tensor import Tensor


class Dataset:
    """A map-style dataset: `dataset[i]` and `len(dataset)`."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __len__(self) -> int:
        raise NotImplementedError("Subclasses of Dataset should implement __len__.")


class TensorDataset(Dataset):
    """Rows of tensors that share their first dimension: `dataset[i]` is `(x[i], y[i])`."""

    def __init__(self, *tensors: Tensor):
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


def default_collate(samples):
    """Stacks a list of samples (tensors, NumPy arrays, numbers, or dicts/tuples/lists of
    them) into a batch, as PyTorch does: Python floats make float64, ints int64, and tuples
    collate to lists (named tuples stay named tuples)."""
    first = samples[0]
    if isinstance(first, Tensor):
        return copies.stack(samples)
    if isinstance(first, np.ndarray):
        return creation.tensor(np.stack(samples))
    if isinstance(first, (np.number, np.bool_)):
        return creation.tensor(np.asarray(samples))
    if isinstance(first, float):
        return creation.tensor(samples, dtype=dtypes.float64)
    if isinstance(first, int):  # bools too: they stay bool
        return creation.tensor(samples)
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(default_collate(list(group)) for group in zip(*samples)))
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(group)) for group in zip(*samples)]
    return samples


def default_convert(sample):
    """What a loader without batching (`batch_size=None`) yields for a sample: NumPy arrays
    become tensors, tuples lists, as in PyTorch."""
    if isinstance(sample, (np.ndarray, np.number, np.bool_)):
        return creation.tensor(np.asarray(sample))
    if isinstance(sample, Mapping):
        return {key: default_convert(value) for key, value in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(value) for value in sample))
    if isinstance(sample, (tuple, list)):
        return [default_convert(value) for value in sample]
    return sample


class DataLoader:
    """Iterates over a dataset in batches, reshuffled every epoch when `shuffle=True` (from
    the global random stream, or `generator`). A `sampler` (an iterable of indices) or a
    `batch_sampler` (of lists of indices) chooses the order instead. Loading happens in
    the calling process: `num_workers` and `pin_memory` are accepted and ignored."""

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool = False, sampler=None, batch_sampler=None,
                 num_workers: int = 0, collate_fn=None, pin_memory: bool = False, drop_last: bool = False,
                 timeout: float = 0, worker_init_fn=None, generator=None, **kwargs):
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last")
            batch_size = None
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.collate_fn = collate_fn or (default_collate if batch_size is not None or batch_sampler is not None
                                         else default_convert)
        self.generator = generator

    def _order(self) -> np.ndarray:
        if self.sampler is not None:
            return np.asarray(list(self.sampler), dtype=np.int64)
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return np.asarray(randperm(n, generator=self.generator)._host())

    def _index_batches(self):
        if self.batch_sampler is not None:
            yield from (np.asarray(list(batch), dtype=np.int64) for batch in self.batch_sampler)
            return
        order = self._order()
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            yield order[start : start + self.batch_size]

    def __iter__(self):
        if self.batch_size is None and self.batch_sampler is None:
            for index in self._order():
                yield self.collate_fn(self.dataset[int(index)])
            return
        for index in self._index_batches():
            if isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate:
                yield [tensor[index] for tensor in self.dataset.tensors]  # one gather per tensor
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in index])

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
