"""`torch.utils.data`: `Dataset`, `TensorDataset` and `DataLoader` (batching, shuffling)."""

from __future__ import annotations

import math

import numpy as np

from ..core import TensorCore


class Dataset:
    """A map-style dataset: `dataset[i]` and `len(dataset)`."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __len__(self) -> int:
        raise NotImplementedError("Subclasses of Dataset should implement __len__.")


class TensorDataset(Dataset):
    """Rows of tensors that share their first dimension: `dataset[i]` is `(x[i], y[i])`."""

    def __init__(self, *tensors: TensorCore):
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


def default_collate(samples):
    """Stacks a list of samples (tensors, numbers, or tuples/dicts of them) into a batch."""
    from .. import creation, shape_ops

    first = samples[0]
    if isinstance(first, TensorCore):
        return shape_ops.stack(samples)
    if isinstance(first, (int, float, bool, np.number)):
        return creation.tensor(samples)
    if isinstance(first, np.ndarray):
        return creation.tensor(np.stack(samples))
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        return type(first)(default_collate(list(group)) for group in zip(*samples)) if isinstance(first, tuple) else [
            default_collate(list(group)) for group in zip(*samples)]
    return samples


class DataLoader:
    """Iterates over a dataset in batches, reshuffled every epoch when `shuffle=True` (from
    the global random stream, or `generator`)."""

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool = False, sampler=None, batch_sampler=None,
                 num_workers: int = 0, collate_fn=None, pin_memory: bool = False, drop_last: bool = False,
                 timeout: float = 0, worker_init_fn=None, generator=None, **kwargs):
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        self.collate_fn = collate_fn or default_collate
        self.generator = generator

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        from ..random import randperm

        return np.asarray(randperm(n, generator=self.generator)._host())

    def __iter__(self):
        order = self._order()
        if self.batch_size is None:
            for index in order:
                yield self.dataset[int(index)]
            return
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            index = order[start : start + self.batch_size]
            if isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate:
                yield [tensor[index] for tensor in self.dataset.tensors]  # one gather per tensor
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in index])

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
