"""`torch.utils.data`: `Dataset`, `TensorDataset`, `Subset`, `ConcatDataset`, `random_split` and
`DataLoader` (batching, shuffling, PyTorch's default collation)."""

from __future__ import annotations

import bisect
import copy
import itertools
import math
import re
import warnings
from collections.abc import Mapping, MutableMapping, MutableSequence, Sequence

import numpy as np

from .. import dtypes, engine
from ..ops import copies, creation
from ..ops.random import randperm
from ..tensor import Tensor


class Dataset:
    """A map-style dataset: `dataset[i]` and `len(dataset)`."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __len__(self) -> int:
        raise NotImplementedError("Subclasses of Dataset should implement __len__.")

    def __add__(self, other) -> ConcatDataset:
        return ConcatDataset([self, other])


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


class Subset(Dataset):
    """The items of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices
        if type(self).__getitem__ is not Subset.__getitem__ and type(self).__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{type(self).__name__} overrides __getitem__ but not __getitems__. When subclassing Subset and "
                "overriding __getitem__, you must also override __getitems__ to ensure DataLoader works correctly "
                "with your custom logic. A simple implementation:\n\ndef __getitems__(self, indices):\n    return "
                "[self.__getitem__(idx) for idx in indices]")

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list) -> list:
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """The datasets one after the other; `cumulative_sizes[i]` is where dataset i ends."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(dataset) for dataset in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index = len(self) + index
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def _split_lengths(total: int, lengths) -> list:
    """PyTorch's lengths for `random_split`: fractions summing to 1 become counts (the
    remainder handed out one by one from the first split on), with a warning for an
    empty split; counts stay as they are."""
    if not (math.isclose(sum(lengths), 1) and sum(lengths) <= 1):
        return list(lengths)
    counts = []
    for index, fraction in enumerate(lengths):
        if fraction < 0 or fraction > 1:
            raise ValueError(f"Fraction at index {index} is not between 0 and 1")
        counts.append(math.floor(total * fraction))
    for index in range(total - sum(counts)):
        counts[index % len(counts)] += 1
    for index, count in enumerate(counts):
        if count == 0:
            warnings.warn(f"Length of split at index {index} is 0. This might result in an empty dataset.",
                          UserWarning, stacklevel=3)
    return counts


def random_split(dataset, lengths, generator=None) -> list[Subset]:
    """Splits `dataset` into non-overlapping `Subset`s of the given `lengths` (counts, or
    fractions that sum to 1), in a random order drawn from `generator` (the global random
    stream by default)."""
    lengths = _split_lengths(len(dataset), lengths)
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = randperm(sum(lengths), generator=generator).tolist()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, indices[end - length : end]) for end, length in zip(ends, lengths)]


_STRING_ARRAY = re.compile(r"[SaUO]")  # the dtype kinds of NumPy arrays of strings and objects
_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _rebuilt_mapping(example: Mapping, values: dict):
    """`values` in a mapping of `example`'s type: a copy updated for a mutable one (which
    keeps an `OrderedDict` or a `defaultdict` what it is), else the type called on a dict."""
    try:
        if isinstance(example, MutableMapping):
            clone = copy.copy(example)
            clone.update(values)
            return clone
        return type(example)(values)
    except TypeError:
        return values


def _rebuilt_sequence(example, values: list):
    """`values` in a sequence of `example`'s type (a list stays a list); tuples are lists,
    named tuples stay named tuples, as in PyTorch."""
    if isinstance(example, tuple):
        return type(example)(*values) if hasattr(example, "_fields") else values
    try:
        if isinstance(example, MutableSequence):
            clone = copy.copy(example)
            clone[:] = values
            return clone
        return type(example)(values)
    except TypeError:
        return values


def _stacked(samples: list[Tensor]) -> Tensor:
    """The sample tensors stacked into a batch: on the host where each sample's value can be
    had there (a dataset's transforms of NumPy images run there as NumPy ops), else by the
    stack op. On the host, the batch reaches the model as data: a stack op would put every
    sample's transforms into the training step's program, hundreds of ops compiled again for
    each batch that differs."""
    first = samples[0]
    alike = all(isinstance(s, Tensor) and not s.requires_grad and s.dtype == first.dtype and s.shape == first.shape
                for s in samples)
    values = engine.values_on_host([s._current_expr() for s in samples]) if alike else None
    if values is None:
        return copies.stack(samples)
    return creation.tensor(np.stack(values), dtype=first.dtype)


def default_collate(samples):
    """Stacks a list of samples into a batch, as PyTorch's `default_collate` does: tensors
    and NumPy arrays are stacked, Python floats make a float64 tensor and ints an int64 one
    (bools a bool one), strings are returned as they came; dicts, named tuples and lists collate field by
    field and keep their type, while tuples collate to lists."""
    first = samples[0]
    if isinstance(first, Tensor):
        return _stacked(samples)
    if isinstance(first, np.ndarray):
        if _STRING_ARRAY.search(first.dtype.str):
            raise TypeError(_COLLATE_ERROR.format(first.dtype))
        return creation.tensor(np.stack(samples))
    if isinstance(first, (np.bool_, np.number, np.object_)):
        return creation.tensor(np.asarray(samples))
    if isinstance(first, float):
        return creation.tensor(samples, dtype=dtypes.float64)
    if isinstance(first, int):
        return creation.tensor(samples)
    if isinstance(first, (str, bytes)):
        return samples
    if isinstance(first, Mapping):
        return _rebuilt_mapping(first, {key: default_collate([s[key] for s in samples]) for key in first})
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(default_collate(group) for group in zip(*samples)))
    if isinstance(first, Sequence):
        if any(len(s) != len(first) for s in samples):
            raise RuntimeError("each element in list of batch should be of equal size")
        # Each field's samples are the tuple zip makes: strings come back as that tuple, as in PyTorch.
        return _rebuilt_sequence(first, [default_collate(group) for group in zip(*samples)])
    raise TypeError(_COLLATE_ERROR.format(type(first)))


def default_convert(sample):
    """What a loader without batching (`batch_size=None`) yields for a sample: NumPy arrays
    and scalars become tensors, tuples lists, as in PyTorch."""
    if isinstance(sample, Tensor):
        return sample
    if type(sample).__module__ == "numpy" and not isinstance(sample, np.str_):
        is_strings = isinstance(sample, np.ndarray) and _STRING_ARRAY.search(sample.dtype.str)
        return sample if is_strings else creation.tensor(np.asarray(sample))
    if isinstance(sample, Mapping):
        return _rebuilt_mapping(sample, {key: default_convert(value) for key, value in sample.items()})
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(value) for value in sample))
    if isinstance(sample, Sequence) and not isinstance(sample, (str, bytes)):
        return _rebuilt_sequence(sample, [default_convert(value) for value in sample])
    return sample


def _tensor_rows(dataset, index: np.ndarray):
    """The tensors of the `TensorDataset` behind `dataset` (through any `Subset`s) and the
    rows of them that `index` selects, or None for any other dataset."""
    while isinstance(dataset, Subset) and type(dataset).__getitem__ is Subset.__getitem__:
        index = np.asarray(dataset.indices, dtype=np.int64)[index]
        dataset = dataset.dataset
    return (dataset.tensors, index) if type(dataset) is TensorDataset else None


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
            rows = _tensor_rows(self.dataset, index) if self.collate_fn is default_collate else None
            if rows is not None:
                tensors, positions = rows
                yield [tensor[positions] for tensor in tensors]  # one gather per tensor
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in index])

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
