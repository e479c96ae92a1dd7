"""`nablax.stateful.utils.data` against `torch.utils.data`: datasets (`TensorDataset`,
`Subset`, `ConcatDataset`, `random_split`), batching, shuffling and collation (shuffled
orders and splits differ from PyTorch's by design: only their properties are compared)."""

import collections
import warnings

import numpy as np
import pytest
from conftest import to_numpy

import nablax.stateful as nxt
from nablax.stateful.utils import data

N = 10


def tensors(T):
    return T.arange(2 * N).float().reshape(N, 2), T.arange(N) * 10


def batches_as_lists(loader):
    return [[to_numpy(part).tolist() for part in batch] for batch in loader]


def test_tensor_dataset_indexing_and_len_match_torch(torch):
    theirs, ours = torch.utils.data.TensorDataset(*tensors(torch)), data.TensorDataset(*tensors(nxt))
    assert len(ours) == len(theirs) == N
    for index in (0, 3, -1, slice(2, 5), [1, 7]):
        expected, got = theirs[index], ours[index]
        assert isinstance(got, tuple) and len(got) == 2
        for part, their_part in zip(got, expected):
            assert to_numpy(part).tolist() == to_numpy(their_part).tolist()
            assert str(part.dtype) == str(their_part.dtype)
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        data.TensorDataset(nxt.ones(3), nxt.ones(4))


@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True), (5, True), (12, False)])
def test_unshuffled_batches_and_len_match_torch(torch, batch_size, drop_last):
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*tensors(torch)), batch_size=batch_size,
                                         drop_last=drop_last)
    ours = data.DataLoader(data.TensorDataset(*tensors(nxt)), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert batches_as_lists(ours) == batches_as_lists(theirs)
    assert batches_as_lists(ours) == batches_as_lists(ours)  # a loader iterates again, epoch after epoch
    first = next(iter(ours))
    assert isinstance(first, list) and [str(t.dtype) for t in first] == ["torch.float32", "torch.int64"]


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (4, True)])
def test_shuffled_epochs_see_every_example_once_in_new_orders(batch_size, drop_last):
    nxt.manual_seed(0)
    x, y = tensors(nxt)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=batch_size, shuffle=True, drop_last=drop_last)
    orders = []
    for _ in range(3):
        batches = list(loader)
        assert len(batches) == len(loader) == (N // batch_size if drop_last else -(-N // batch_size))
        assert all(len(yb) == batch_size for _, yb in batches[:-1]) and len(batches[-1][1]) <= batch_size
        seen = np.concatenate([to_numpy(yb) for _, yb in batches])
        for xb, yb in batches:  # rows stay paired
            np.testing.assert_array_equal(to_numpy(xb)[:, 0], to_numpy(yb) // 5)
        assert len(set(seen.tolist())) == len(seen) == (N - N % batch_size if drop_last else N)
        orders.append(seen.tolist())
    assert orders[0] != orders[1] and orders[1] != orders[2]  # reshuffled every epoch
    assert sorted(orders[0]) != orders[0]


def test_manual_seed_and_generators_make_shuffling_reproducible():
    dataset = data.TensorDataset(*tensors(nxt))

    def two_epochs(**options):
        loader = data.DataLoader(dataset, batch_size=4, shuffle=True, **options)
        return batches_as_lists(loader) + batches_as_lists(loader)

    nxt.manual_seed(7)
    first = two_epochs()
    nxt.manual_seed(7)
    assert two_epochs() == first
    nxt.manual_seed(8)
    assert two_epochs() != first
    with_generator = two_epochs(generator=nxt.Generator().manual_seed(3))
    assert two_epochs(generator=nxt.Generator().manual_seed(3)) == with_generator


def test_custom_dataset_with_default_collate_matches_torch(torch):
    Point = collections.namedtuple("Point", "x y")

    def dataset(T):
        class Samples(T.utils.data.Dataset):
            def __len__(self):
                return 5

            def __getitem__(self, i):
                return {
                    "features": T.tensor([float(i), 2.0 * i]),
                    "label": i,
                    "weight": 0.5 * i,
                    "flag": i % 2 == 0,
                    "pair": (T.tensor(i), np.full(2, i, np.float32)),
                    "point": Point(i, np.float32(i)),
                }

        return Samples()

    theirs = list(torch.utils.data.DataLoader(dataset(torch), batch_size=2))
    ours = list(data.DataLoader(dataset(nxt), batch_size=2))
    assert len(ours) == len(theirs) == 3
    for got, expected in zip(ours, theirs):
        assert list(got) == list(expected)
        assert type(got["pair"]) is type(expected["pair"]) is list  # tuples collate to lists
        assert type(got["point"]) is Point
        for key, their_value in expected.items():
            parts = zip(got[key], their_value) if isinstance(their_value, (list, tuple)) else [(got[key], their_value)]
            for part, their_part in parts:
                assert repr(part) == repr(their_part), key  # values, dtypes (float64 for Python floats) and all


def test_loader_options_and_errors_match_torch(torch):
    def both(build):
        results = []
        for T, module in ((torch, torch.utils.data), (nxt, data)):
            try:
                results.append(("ok", build(T, module, module.TensorDataset(*tensors(T)))))
            except Exception as error:  # noqa: BLE001 - compared across frameworks
                results.append((type(error).__name__, str(error)))
        return results

    for build in [
        lambda T, d, ds: d.DataLoader(ds, batch_size=0),
        lambda T, d, ds: d.DataLoader(ds, batch_size=2, shuffle=True, sampler=[0, 1]),
        lambda T, d, ds: d.DataLoader(ds, batch_sampler=[[0, 1]], batch_size=2),
        lambda T, d, ds: d.DataLoader(ds, batch_size=None, drop_last=True),
    ]:
        theirs, ours = both(build)
        assert theirs[0] != "ok" and ours == theirs

    for build in [
        lambda T, d, ds: batches_as_lists(d.DataLoader(ds, batch_size=3, sampler=[9, 0, 4, 4, 1])),
        lambda T, d, ds: batches_as_lists(d.DataLoader(ds, batch_sampler=[[3, 2], [7], [0, 1, 2]])),
        lambda T, d, ds: len(d.DataLoader(ds, batch_size=2, sampler=range(5), drop_last=True)),
        lambda T, d, ds: [repr(s) for s in d.DataLoader(ds, batch_size=None)][:2],
        lambda T, d, ds: [repr(b) for b in d.DataLoader([1.5, 2.5, 3.5], batch_size=2)],
        lambda T, d, ds: [repr(b) for b in d.DataLoader([(1, 2), (3, 4), (5, 6)], batch_size=2)],
        lambda T, d, ds: [repr(b) for b in d.DataLoader(list(range(5)), batch_size=2, collate_fn=lambda s: sum(s))],
    ]:
        theirs, ours = both(build)
        assert theirs[0] == "ok" and ours == theirs


# -- random_split, Subset, ConcatDataset ------------------------------------------------------------


def outcome_of(build):
    """('ok', result) or (error type, message), for comparing the frameworks."""
    try:
        return "ok", build()
    except Exception as error:  # noqa: BLE001 - compared across frameworks
        return type(error).__name__, str(error)


@pytest.mark.parametrize("lengths", [[7, 3], [0.7, 0.3], [0.5, 0.25, 0.25], [0.34, 0.33, 0.33], [1.0, 0.0], [10]],
                         ids=["counts", "fractions", "three", "remainders", "empty-split", "whole"])
def test_random_split_gives_torchs_sizes_of_disjoint_subsets_fixed_by_the_generator(torch, lengths):
    def split(T, module, seed):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            parts = module.random_split(module.TensorDataset(*tensors(T)), lengths, generator=T.Generator().manual_seed(seed))
        return parts, [str(w.message) for w in caught]

    (theirs, their_warnings), (ours, our_warnings) = split(torch, torch.utils.data, 0), split(nxt, data, 0)
    assert our_warnings == their_warnings
    assert [len(part) for part in ours] == [len(part) for part in theirs]
    assert all(type(part) is data.Subset for part in ours)
    indices = [index for part in ours for index in part.indices]
    assert sorted(indices) == list(range(N))  # disjoint, and together the whole dataset
    assert [part.indices for part in split(nxt, data, 0)[0]] == [part.indices for part in ours]  # same seed, same split
    if len(lengths) > 1 and min(lengths) > 0:
        assert [part.indices for part in split(nxt, data, 1)[0]] != [part.indices for part in ours]
    for part in ours:  # a subset's items are the dataset's items at its indices
        for position, index in enumerate(part.indices):
            assert part[position][1].item() == 10 * index


def test_random_split_uses_the_global_stream_without_a_generator():
    dataset = data.TensorDataset(*tensors(nxt))
    nxt.manual_seed(3)
    first = [part.indices for part in data.random_split(dataset, [5, 5])]
    nxt.manual_seed(3)
    assert [part.indices for part in data.random_split(dataset, [5, 5])] == first


@pytest.mark.parametrize("lengths", [[3, 3], [0.5, 0.6], [1.5, -0.5], [11]], ids=["short", "over-one", "negative", "long"])
def test_random_split_errors_match_torch(torch, lengths):
    def split(T, module):
        return outcome_of(lambda: module.random_split(module.TensorDataset(*tensors(T)), lengths))[0:2]

    theirs, ours = split(torch, torch.utils.data), split(nxt, data)
    assert theirs[0] != "ok" and ours == theirs


def test_subsets_and_concatenations_index_and_load_like_torchs(torch):
    def build(T, module):
        dataset = module.TensorDataset(*tensors(T))
        subset = module.Subset(dataset, [9, 2, 4, 4, 0])
        both = module.ConcatDataset([subset, dataset])
        added = subset + dataset
        items = [subset[1], subset[[0, 3]], subset.__getitems__([1, 2]), both[4], both[5], both[-1], added[-15]]
        return ([len(subset), len(both), len(added), both.cumulative_sizes, type(added).__name__],
                [[repr(part) for part in item] if isinstance(item, (tuple, list)) else repr(item) for item in items],
                [[repr(part) for part in batch] for batch in module.DataLoader(subset, batch_size=2)],
                [[repr(part) for part in batch] for batch in module.DataLoader(both, batch_size=6)])

    assert build(nxt, data) == build(torch, torch.utils.data)
    for build_error in (lambda m, ds: m.ConcatDataset([]), lambda m, ds: m.ConcatDataset([ds])[-11]):
        theirs = outcome_of(lambda: build_error(torch.utils.data, torch.utils.data.TensorDataset(*tensors(torch))))
        assert theirs[0] != "ok"
        assert outcome_of(lambda: build_error(data, data.TensorDataset(*tensors(nxt)))) == theirs


def test_a_subset_class_overriding_getitem_alone_is_refused_like_torchs(torch):
    def build(module):
        class Doubled(module.Subset):
            def __getitem__(self, index):
                return 2 * super().__getitem__(index)

        return outcome_of(lambda: Doubled([1, 2, 3], [0]))

    assert build(data) == build(torch.utils.data) != "ok"


# -- default collation: the types of batches ----------------------------------------------------------

Named = collections.namedtuple("Named", "a b")


def describe(value):
    """A batch as nested (type name, contents), with tensors as their reprs."""
    if hasattr(value, "grad_fn"):
        return repr(value)
    if isinstance(value, dict):
        return type(value).__name__, [(key, describe(item)) for key, item in value.items()]
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [describe(item) for item in value]
    return type(value).__name__, repr(value)


SAMPLES = {
    "dict": lambda T, i: {"x": T.tensor([i, i + 0.5]), "y": i},
    "ordered-dict": lambda T, i: collections.OrderedDict(b=float(i), a=np.int16(i)),
    "default-dict": lambda T, i: collections.defaultdict(list, {"k": [i, i + 1]}),
    "tuple": lambda T, i: (T.tensor(i), np.float32(i), i % 2 == 0),
    "named-tuple": lambda T, i: Named(np.arange(2) * i, "label"),
    "list": lambda T, i: [i, [float(i), 2.0]],
    "strings": lambda T, i: ("text", b"bytes"),
    "numpy-scalars": lambda T, i: (np.bool_(i % 2), np.float64(i)),
}


@pytest.mark.parametrize("kind", list(SAMPLES))
def test_default_collation_gives_torchs_batch_types(torch, kind):
    def batches(T, module, batch_size):
        return [describe(batch) for batch in module.DataLoader([SAMPLES[kind](T, i) for i in range(3)],
                                                               batch_size=batch_size)]

    for batch_size in (2, None):  # batched (default_collate), and one by one (default_convert)
        assert batches(nxt, data, batch_size) == batches(torch, torch.utils.data, batch_size)


@pytest.mark.parametrize("samples", [[object(), object()], [np.array(["a"]), np.array(["b"])], [[1, 2], [3]]],
                         ids=["objects", "string-arrays", "ragged"])
def test_default_collation_errors_match_torch(torch, samples):
    theirs = outcome_of(lambda: torch.utils.data.default_collate(samples))
    assert theirs[0] != "ok"
    assert outcome_of(lambda: data.default_collate(samples)) == theirs


class _Images:
    """A dataset of uint8 images, transformed as torchvision's ToTensor and Normalize do."""

    def __init__(self, T):
        self.T = T
        self.images = np.random.default_rng(0).integers(0, 256, (10, 4, 4, 1), dtype=np.uint8)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        T = self.T
        image = T.tensor(self.images[index].transpose((2, 0, 1)), dtype=T.float32) / 255
        return (image - T.tensor([0.1307]).view(-1, 1, 1)) / T.tensor([0.3081]).view(-1, 1, 1), index % 3


def test_samples_transformed_by_the_dataset_are_batched_on_the_host(torch):
    # Each sample's transforms run as NumPy ops and the batch is stacked there: the loop that
    # consumes the batches gets them as data, and loading builds no program.
    loader = data.DataLoader(_Images(nxt), batch_size=4)
    before = nxt.compile_stats()
    batches = list(loader)
    after = nxt.compile_stats()
    assert after["programs_built"] == before["programs_built"]
    assert after["host_evaluations"] > before["host_evaluations"]
    expected = list(torch.utils.data.DataLoader(_Images(torch), batch_size=4))
    for (images, labels), (their_images, their_labels) in zip(batches, expected, strict=True):
        np.testing.assert_array_equal(to_numpy(images), their_images.numpy())
        assert to_numpy(labels).tolist() == their_labels.tolist()


def test_samples_that_require_grad_are_batched_by_the_stack_op():
    samples = [nxt.ones(2, requires_grad=True) * 2 for _ in range(3)]
    batch = data.default_collate(samples)
    assert batch.grad_fn is not None and type(batch.grad_fn).__name__ == "StackBackward0"
    batch.sum().backward()
