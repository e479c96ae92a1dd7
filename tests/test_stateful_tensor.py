"""`nablax.stateful` tensors against PyTorch's: creation, dtypes, metadata, printing,
conversions, NumPy sharing and devices. See torch_diff.py for how cases are compared."""

import warnings

import numpy as np
import pytest
from torch_diff import check, check_raises, outcome

import nablax.stateful as nxt

# -- creation ---------------------------------------------------------------------------------------

DATA = {
    "ints": [1, 2, 3],
    "floats": [1.0, 2.5, -3.0],
    "mixed": [[1, 2.5], [3, 4]],
    "bools": [True, False, True],
    "bool_and_int": [1, True],
    "int_scalar": 3,
    "float_scalar": 3.5,
    "bool_scalar": True,
    "big_int": 2**40,
    "nested_3d": [[[1.0], [2.0]], [[3.0], [4.0]]],
    "empty": [],
    "empty_rows": [[], []],
    "tuple": (1.0, 2.0),
    "numpy_float64": np.array([1.0, 2.0]),
    "numpy_float32": np.array([1.0, 2.0], np.float32),
    "numpy_int32": np.array([[1, 2]], np.int32),
    "numpy_bool": np.array([True, False]),
    "numpy_scalar_float32": np.float32(2.5),
    "numpy_scalar_int32": np.int32(7),
    "list_with_numpy_float": [np.float64(1.5), 2],
    "special_floats": [float("nan"), float("inf"), -0.0],
}


@pytest.mark.parametrize("name", list(DATA))
def test_tensor_infers_dtype_and_shape_like_torch(torch, name):
    check(torch, lambda T: T.tensor(DATA[name]))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float", "float64", "double", "int8", "int32", "int64",
                                   "long", "bool", "uint8", "int16", "half", "int", "short"])
def test_dtype_aliases_and_explicit_dtypes(torch, dtype):
    check(torch, lambda T: (getattr(T, dtype), T.tensor([[0, 1], [2, 3]], dtype=getattr(T, dtype))))


@pytest.mark.parametrize("data", [[1, "a"], "abc", None, object(), [[1, 2], [3, 4, 5]], [[1, 2], 3]],
                         ids=["str_in_list", "str", "none", "object", "ragged", "not_a_sequence"])
def test_tensor_errors_match_torch(torch, data):
    check_raises(torch, lambda T: T.tensor(data))


def test_copy_constructing_from_a_tensor_warns_like_torch(torch):
    for T in (torch, nxt):
        with pytest.warns(UserWarning, match="To copy construct from a tensor"):
            T.tensor(T.tensor([1.0, 2.0]))


LEGACY = {
    "Tensor_list": lambda T: T.Tensor([1, 2]),
    "Tensor_nested": lambda T: T.Tensor([[1, 2], [3, 4]]),
    "Tensor_sizes": lambda T: T.Tensor(2, 3).shape,
    "Tensor_size_object": lambda T: T.Tensor(T.Size([2, 3])).shape,
    "Tensor_empty": lambda T: T.Tensor().shape,
    "Tensor_dtype": lambda T: T.Tensor(2, 3).dtype,
    "LongTensor_n": lambda T: (T.LongTensor(3).shape, T.LongTensor(3).dtype),
    "LongTensor_list": lambda T: T.LongTensor([1.7, 2]),
    "FloatTensor": lambda T: T.FloatTensor([1]),
    "DoubleTensor": lambda T: T.DoubleTensor([1]),
    "IntTensor": lambda T: T.IntTensor([1]),
    "BoolTensor": lambda T: T.BoolTensor([1, 0]),
    "Tensor_does_not_require_grad": lambda T: T.Tensor([1, 2]).requires_grad,
}


@pytest.mark.parametrize("name", list(LEGACY))
def test_legacy_constructors(torch, name):
    check(torch, LEGACY[name])


FACTORIES = {
    "zeros": lambda T: T.zeros(2, 3),
    "zeros_tuple_int32": lambda T: T.zeros((2, 3), dtype=T.int32),
    "zeros_0d": lambda T: T.zeros(()),
    "zeros_empty": lambda T: T.zeros(0),
    "zeros_size": lambda T: T.zeros(T.Size([1, 2])),
    "ones_float64": lambda T: T.ones(2, dtype=T.float64),
    "ones_list": lambda T: T.ones([]),
    "ones_bool": lambda T: T.ones(3, dtype=T.bool),
    "full_int": lambda T: T.full((2, 2), 7),
    "full_float": lambda T: T.full((2, 2), 7.0),
    "full_bool": lambda T: T.full((2,), True),
    "full_0d": lambda T: T.full((), 4.0),
    "full_float16": lambda T: T.full((2,), 3, dtype=T.float16),
    "empty_shape": lambda T: (T.empty(2, 3).shape, T.empty(2, 3).dtype, T.empty(4, dtype=T.int64).dtype),
    "arange": lambda T: T.arange(5),
    "arange_float_end": lambda T: T.arange(5.0),
    "arange_step": lambda T: T.arange(0, 10, 3),
    "arange_negative_step": lambda T: T.arange(10, 0, -3),
    "arange_float_step": lambda T: T.arange(0.0, 1.0, 0.25),
    "arange_tenths": lambda T: T.arange(0, 1, 0.1),
    "arange_mixed": lambda T: T.arange(1, 2.5, 0.5),
    "arange_dtype": lambda T: T.arange(3, dtype=T.float32),
    "arange_negative_start": lambda T: T.arange(-1.5, 1.5),
    "linspace": lambda T: T.linspace(0, 1, 5),
    "linspace_symmetric": lambda T: T.linspace(-3, 3, 7),
    "linspace_one": lambda T: T.linspace(0, 1, 1),
    "linspace_none": lambda T: T.linspace(0, 1, 0),
    "linspace_float64": lambda T: T.linspace(0, 10, 4, dtype=T.float64),
    "linspace_int64": lambda T: T.linspace(1, 5, 5, dtype=T.int64),
    "eye": lambda T: T.eye(3),
    "eye_rectangular": lambda T: (T.eye(2, 3), T.eye(2, 1)),
    "eye_int": lambda T: T.eye(2, dtype=T.int64),
    "zeros_like": lambda T: T.zeros_like(T.tensor([1, 2])),
    "ones_like_dtype": lambda T: T.ones_like(T.tensor([1.0, 2]), dtype=T.float64),
    "ones_like_grad": lambda T: T.ones_like(T.tensor([1.0, 2]), requires_grad=True),
    "full_like_truncates": lambda T: T.full_like(T.tensor([1, 2]), 2.7),
    "full_like_float": lambda T: T.full_like(T.tensor([1.0, 2]), 7),
    "zeros_like_int32": lambda T: T.zeros_like(T.tensor([1.5]), dtype=T.int32),
    "empty_like": lambda T: (T.empty_like(T.zeros(2, 3, dtype=T.float64)).shape, T.empty_like(T.zeros(2, dtype=T.float64)).dtype),
    "zeros_requires_grad": lambda T: T.zeros(2, requires_grad=True),
}


@pytest.mark.parametrize("name", list(FACTORIES))
def test_factories_match_torch(torch, name):
    check(torch, FACTORIES[name])


FACTORY_ERRORS = {
    "zeros_negative": lambda T: T.zeros(2, -1),
    "ones_negative": lambda T: T.ones(-1),
    "empty_negative": lambda T: T.empty(2, -3),
    "full_negative": lambda T: T.full((-1,), 2.0),
    "rand_negative": lambda T: T.rand(-1),
    "arange_zero_step": lambda T: T.arange(0, 10, 0),
    "arange_wrong_sign": lambda T: T.arange(0, 10, -1),
    "int_requires_grad": lambda T: T.tensor([1, 2], requires_grad=True),
    "zeros_long_requires_grad": lambda T: T.zeros(2, dtype=T.long, requires_grad=True),
    "arange_requires_grad": lambda T: T.arange(3, requires_grad=True),
}


@pytest.mark.parametrize("name", list(FACTORY_ERRORS))
def test_factory_errors_match_torch(torch, name):
    check_raises(torch, FACTORY_ERRORS[name])


RANDOM = {
    "rand": lambda T: (T.rand(2, 3).shape, T.rand(2, 3).dtype, T.rand((2, 3)).shape),
    "randn": lambda T: (T.randn(4).shape, T.randn(2, 3, dtype=T.float64).dtype),
    "rand_range": lambda T: (bool(T.rand(100).min() >= 0), bool(T.rand(100).max() < 1)),
    "randn_requires_grad": lambda T: (T.randn(2, 2, requires_grad=True).requires_grad, T.randn(2, requires_grad=True).is_leaf),
    "randint": lambda T: (T.randint(0, 10, (3, 2)).shape, T.randint(0, 10, (3,)).dtype, T.randint(5, (2,)).shape),
    "randint_range": lambda T: bool(((T.randint(2, 5, (50,)) >= 2) & (T.randint(2, 5, (50,)) < 5)).all()),
    "randperm": lambda T: (T.randperm(4).dtype, sorted(T.randperm(5).tolist())),
    "like": lambda T: (T.rand_like(T.zeros(2, 3)).shape, T.randn_like(T.zeros(2, dtype=T.float64)).dtype),
}


@pytest.mark.parametrize("name", list(RANDOM))
def test_random_factories_have_torchs_shapes_dtypes_and_ranges(torch, name):
    check(torch, RANDOM[name])


def test_manual_seed_makes_draws_reproducible():
    nxt.manual_seed(3)
    first = nxt.randn(5).tolist()
    nxt.manual_seed(3)
    assert nxt.randn(5).tolist() == first
    assert nxt.randn(5).tolist() != first


# -- metadata ----------------------------------------------------------------------------------------

METADATA = {
    "size": lambda T: (T.tensor([1, 2, 3]).size(), T.tensor([1, 2, 3]).size(0), T.tensor([[1, 2, 3]]).size(-1)),
    "size_repr": lambda T: (repr(T.Size([2, 3])), repr(T.Size([])), str(T.zeros(2, 3).shape), repr(T.tensor(1.0).shape)),
    "size_is_tuple": lambda T: (isinstance(T.zeros(2).shape, tuple), T.zeros(2, 3).shape == (2, 3),
                                T.Size([2, 3]) == T.zeros(2, 3).shape, T.zeros(2, 3).shape.numel(), T.zeros(2, 3).shape[0]),
    "ndim_numel": lambda T: (T.tensor([[1, 2], [3, 4]]).ndim, T.tensor([[1, 2], [3, 4]]).dim(), T.tensor(1.0).ndim,
                             T.tensor([[1, 2], [3, 4]]).numel(), T.zeros(2, 0).numel(), T.numel(T.zeros(2, 3))),
    "dtype": lambda T: (T.zeros(1, 2).dtype, str(T.zeros(2).dtype), T.float32 == T.float, T.float is T.float32,
                        T.double, T.long, T.int, T.half, T.tensor([1, 2], dtype=T.long).dtype),
    "dtype_flags": lambda T: (T.float32.is_floating_point, T.int64.is_floating_point, T.zeros(2).is_floating_point(),
                              T.zeros(2, dtype=T.long).is_floating_point(), T.zeros(2).element_size()),
    "type_names": lambda T: (T.zeros(2).type(), T.zeros(2, dtype=T.int8).type(), T.tensor([1, 2]).type(), str(type(T.zeros(1)))),
    "device": lambda T: (T.tensor([1.0]).device, str(T.tensor([1.0]).device), T.tensor([1, 2], device="cpu").device,
                         T.zeros(1).is_cuda),
    "is_leaf": lambda T: (T.tensor([1.0], requires_grad=True).is_leaf, (T.tensor([1.0], requires_grad=True) * 2).is_leaf,
                          T.tensor([1.0]).is_leaf, (T.tensor([1.0]) * 2).is_leaf),
    "requires_grad": lambda T: (T.tensor([1.0]).requires_grad, T.tensor([1.0], requires_grad=True).requires_grad),
    "item": lambda T: (T.tensor([2.5]).item(), T.tensor(2.5).item(), T.tensor([[5]]).item(), type(T.tensor(3).item()),
                       type(T.tensor(True).item()), T.tensor(3.7, dtype=T.float16).item()),
    "tolist": lambda T: (T.tensor([[1, 2], [3, 4]]).tolist(), T.tensor([1.5, 2]).tolist(), T.tensor(2).tolist(),
                         T.tensor([True]).tolist()),
    "len": lambda T: (len(T.zeros(4, 2)), len(T.tensor([1, 2, 3]))),
    "iteration": lambda T: (list(T.tensor([1, 2])), [row.tolist() for row in T.tensor([[1, 2], [3, 4]])]),
    "python_numbers": lambda T: (int(T.tensor(3.7)), float(T.tensor(2)), bool(T.tensor(0.0)), [10, 20, 30][T.tensor(1)]),
    "strides": lambda T: (T.tensor([[1.0, 2], [3, 4]]).stride(), T.tensor([[1.0, 2], [3, 4]]).t().stride(),
                          T.tensor([[1.0, 2], [3, 4]]).t().is_contiguous(), T.tensor([[1.0, 2]]).T.contiguous().is_contiguous()),
    "is_tensor": lambda T: (T.is_tensor(T.tensor(1)), T.is_tensor(1)),
}


@pytest.mark.parametrize("name", list(METADATA))
def test_metadata_matches_torch(torch, name):
    check(torch, METADATA[name])


METADATA_ERRORS = {
    "item_of_many": lambda T: T.tensor([1, 2]).item(),
    "len_of_0d": lambda T: len(T.tensor(1.0)),
    "iter_of_0d": lambda T: [x for x in T.tensor(1.0)],
    "bool_of_many": lambda T: bool(T.tensor([1, 2])),
    "int_of_many": lambda T: int(T.tensor([1, 2])),
    "float_index": lambda T: [10, 20][T.tensor(1.0)],
    "size_out_of_range": lambda T: T.zeros(2, 3).size(2),
}


@pytest.mark.parametrize("name", list(METADATA_ERRORS))
def test_metadata_errors_match_torch(torch, name):
    check_raises(torch, METADATA_ERRORS[name])


# -- __format__ ------------------------------------------------------------------------------------

FORMATS = {
    "fixed": lambda T: f"{T.tensor(3.14159):.3f}",
    "plain_0d": lambda T: f"{T.tensor(3.14159)}",
    "plain_int": lambda T: f"{T.tensor(3)}",
    "plain_bool": lambda T: f"{T.tensor(True)}",
    "padded_int": lambda T: f"{T.tensor(7):04d}",
    "aligned": lambda T: "{:>10}".format(T.tensor(2.5)),
    "scientific": lambda T: "{:e}".format(T.tensor(1234.5, dtype=T.float64)),
    "requires_grad": lambda T: f"{T.tensor(1.5, requires_grad=True):.1f}",
    "elements": lambda T: [f"{v:.2f}" for v in T.tensor([1.234, 5.678])],
    "plain_vector": lambda T: f"{T.tensor([1.5, 2])}",
    "empty_spec_vector": lambda T: format(T.tensor([1.0, 2.0]), ""),
}


@pytest.mark.parametrize("name", list(FORMATS))
def test_format_matches_torch(torch, name):
    check(torch, FORMATS[name])


@pytest.mark.parametrize("make", [lambda T: T.tensor([1.5, 2]), lambda T: T.tensor([[1.0]])], ids=["vector", "matrix"])
def test_format_spec_on_a_tensor_with_dims_raises_torchs_type_error(torch, make):
    check_raises(torch, lambda T: f"{make(T):.2f}")


# -- printing ----------------------------------------------------------------------------------------

REPRS = {
    "ints": lambda T: T.tensor([1, 2, 3]),
    "floats": lambda T: T.tensor([[1.0, 2.5], [3.0, 4.0]]),
    "whole_floats": lambda T: T.arange(10.0).view(2, 5),
    "tiny": lambda T: T.tensor(1e-6),
    "wide_range": lambda T: T.tensor([1e10, 1.0]),
    "specials": lambda T: T.tensor([float("nan"), float("inf"), -0.0]),
    "bools": lambda T: T.tensor([[True], [False]]),
    "empty": lambda T: T.tensor([]),
    "empty_2d": lambda T: T.zeros(0, 3),
    "empty_int": lambda T: T.zeros(0, dtype=T.int64),
    "0d": lambda T: T.tensor(-0.0),
    "int32": lambda T: T.tensor([1, 2], dtype=T.int32),
    "int8": lambda T: T.tensor([1, 2], dtype=T.int8),
    "uint8": lambda T: T.tensor([1, 2], dtype=T.uint8),
    "float64": lambda T: T.tensor([1, 2], dtype=T.float64),
    "float16": lambda T: T.tensor([0.1, 0.2], dtype=T.float16),
    "float16_0d": lambda T: T.tensor(1.0, dtype=T.float16),
    "requires_grad": lambda T: T.tensor([1.0, 2.0], requires_grad=True),
    "requires_grad_float64": lambda T: T.tensor([1.0, 2.0], dtype=T.float64, requires_grad=True),
    "grad_fn_mul": lambda T: T.tensor([1.0, 2.0], requires_grad=True) * 2,
    "grad_fn_sum": lambda T: T.tensor([1.0, 2.0], requires_grad=True).sum(),
    "grad_fn_float64": lambda T: T.tensor([1.0, 2.0], dtype=T.float64, requires_grad=True) + 1,
    "grad_fn_to_float64": lambda T: T.tensor([1.0, 2.0], requires_grad=True).double(),
    "grad_fn_select": lambda T: T.arange(9.0).view(3, 3).requires_grad_()[0],
    "grad_fn_scientific": lambda T: T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True).sum(0) * 1e-6,
    "grad_fn_wide": lambda T: T.tensor([[1e5, 2.0], [3.0, 4.0]], requires_grad=True) * 2,
    "leaf_matrix": lambda T: T.arange(40.0).view(4, 10).requires_grad_(),
    "summarized": lambda T: T.arange(2000.0).view(20, 100) / 7,
    "int_plus_one": lambda T: T.tensor([1, 2], dtype=T.int32) + 1,
    "int32_sum": lambda T: T.tensor([1, 2], dtype=T.int32).sum(),
    "half_from_float": lambda T: T.tensor([1.5, 2]).half(),
    "max_with_dim": lambda T: T.tensor([[1.0, 5, 3], [4, 2, 6]]).max(1),
    "min_keepdim": lambda T: T.tensor([[1.0, 5, 3], [4, 2, 6]]).min(0, keepdim=True),
    "max_grad": lambda T: T.tensor([[1.0, 5, 3], [4, 2, 6]], requires_grad=True).max(1),
    "no_grad_result": lambda T: T.tensor([1.0], requires_grad=True).detach() * 2,
}


@pytest.mark.parametrize("name", list(REPRS))
def test_repr_and_str_equal_torchs(torch, name):
    ours, theirs = REPRS[name](nxt), REPRS[name](torch)
    assert repr(ours) == repr(theirs)
    assert str(ours) == str(theirs)


# -- conversions --------------------------------------------------------------------------------------

CONVERSIONS = {
    "to_int64": lambda T: T.tensor([1.5, 2.7]).to(T.int64),
    "long_truncates": lambda T: T.tensor([1.5, -2.7]).long(),
    "int": lambda T: T.tensor([1.5, -2.7]).int(),
    "bool": lambda T: T.tensor([1.5, 0]).bool(),
    "half": lambda T: T.tensor([1.5, 2.5]).to(T.float16),
    "float": lambda T: T.tensor([1, 2]).float(),
    "double": lambda T: T.tensor([1, 2]).double(),
    "chain": lambda T: T.tensor([1.0, 2.0]).to(T.float64).to(T.int32).to(T.bool),
    "to_cpu": lambda T: T.tensor([1, 2]).to("cpu"),
    "to_device_and_dtype": lambda T: T.tensor([1, 2]).to(device="cpu", dtype=T.float32),
    "to_positional": lambda T: T.tensor([1.0, 2.0]).to("cpu", T.float64),
    "to_other": lambda T: (T.tensor([1.0, 2.0]).to(T.tensor([1])), T.tensor([1, 2]).to(T.zeros(1, dtype=T.float64))),
    "to_python_type": lambda T: (T.tensor([1.5]).to(int), T.tensor([1]).to(float)),
    "type_dtype": lambda T: (T.tensor([1.5, 2.5]).type(T.float64), T.tensor([1, 2]).type(T.float16)),
    "cpu": lambda T: T.tensor(5).cpu(),
    "grad_kept_by_float_cast": lambda T: T.tensor([1.0, 2.0], requires_grad=True).to(T.float64),
    "grad_dropped_by_int_cast": lambda T: T.tensor([1.0, 2.0], requires_grad=True).long(),
    "grad_kept_by_half": lambda T: T.tensor([1.0, 2.0], requires_grad=True).half(),
    "same_dtype_is_self": lambda T: (lambda t: (t.float() is t, t.to(T.float32) is t, t.to("cpu") is t))(T.tensor([1.0])),
}


@pytest.mark.parametrize("name", list(CONVERSIONS))
def test_conversions_match_torch(torch, name):
    check(torch, CONVERSIONS[name])


def test_casting_gradient_flows_back_in_the_source_dtype(torch):
    def case(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        (x.double() * T.tensor([3.0, 4.0], dtype=T.float64)).sum().backward()
        return x.grad

    check(torch, case)


# -- NumPy sharing -------------------------------------------------------------------------------------

SHARING = {
    "numpy_dtype": lambda T: str(T.tensor([1.0, 2.0]).numpy().dtype),
    "inplace_visible_in_array": lambda T: (lambda t: (t.numpy(), t.add_(1))[0])(T.tensor([1.0, 2.0])).tolist(),
    "iadd_visible_in_array": lambda T: _after(T.tensor([1.0, 2.0]), lambda t: t.__iadd__(1)),
    "setitem_visible_in_array": lambda T: _after(T.tensor([1.0, 2.0]), lambda t: t.__setitem__(0, 5)),
    "view_inplace_visible_in_array": lambda T: _after(T.arange(6.0).view(2, 3), lambda t: t[:, 1].mul_(10)),
    "array_change_visible_in_tensor": lambda T: _array_then(T.tensor([1.0, 2.0]), lambda a: a.__setitem__(1, 9)),
    "array_change_visible_in_views": lambda T: _array_then(T.arange(6.0).view(2, 3), lambda a: a.__setitem__((0, 0), 100),
                                                           lambda t: (t, t.T, t[1], t.sum())),
    "array_change_after_pending_op": lambda T: _array_then(T.arange(6.0).view(2, 3), lambda a: a.__setitem__((0, 0), 100),
                                                           lambda t: (t * 2, t)),
    "view_array_sees_later_writes": lambda T: _view_array(T),
    "from_numpy_sees_array": lambda T: _from_numpy_then(T, lambda a: a.__setitem__(0, 7)),
    "from_numpy_inplace_visible": lambda T: _from_numpy_then(T, lambda a: None, lambda t: t.mul_(3)),
    "from_numpy_view_inplace": lambda T: _from_numpy_then(T, lambda a: None, lambda t: t[:, 0].mul_(3), shape=(2, 3)),
    "from_numpy_setitem": lambda T: _from_numpy_then(T, lambda a: None, lambda t: (t.__iadd__(1), t.__setitem__((0, 0), 50)),
                                                     shape=(2, 3)),
    "from_numpy_view_of_array": lambda T: _from_numpy_then(T, lambda a: a.__setitem__((1, 1), -5), shape=(2, 3),
                                                           read=lambda t: (t, t[1], t[1].sum())),
    "from_numpy_int": lambda T: T.from_numpy(np.array([1, 2])),
    "from_numpy_float32": lambda T: (lambda t: (t + 1, t.dtype))(T.from_numpy(np.array([1.0, 2.0], np.float32))),
    "from_numpy_transposed": lambda T: (lambda t: (t, t.stride(), t.is_contiguous()))(T.from_numpy(np.arange(6.0).reshape(2, 3).T)),
    "as_tensor_shares": lambda T: _shares(T, lambda a: T.as_tensor(a)),
    "tensor_copies": lambda T: _shares(T, lambda a: T.tensor(a)),
}


def _after(tensor, change):
    """The array of `tensor.numpy()` after `change(tensor)`, as a list."""
    array = tensor.numpy()
    change(tensor)
    return array.tolist()


def _array_then(tensor, change, read=lambda t: t):
    array = tensor.numpy()
    change(array)
    return read(tensor)


def _view_array(T):
    t = T.arange(6.0).view(2, 3)
    column = t[:, 1].numpy()
    t.mul_(10)
    return column.tolist(), t


def _from_numpy_then(T, change_array, change_tensor=lambda t: None, shape=(2,), read=lambda t: t):
    array = np.arange(float(np.prod(shape))).reshape(shape) + 1
    tensor = T.from_numpy(array)
    change_tensor(tensor)
    change_array(array)
    return read(tensor), array.tolist()


def _shares(T, make):
    array = np.array([1.0, 2.0])
    tensor = make(array)
    array[0] = -1
    return tensor


@pytest.mark.parametrize("name", list(SHARING))
def test_numpy_sharing_matches_torch(torch, name):
    check(torch, SHARING[name])


SHARING_ERRORS = {
    "numpy_of_requires_grad": lambda T: T.tensor([1.0, 2.0], requires_grad=True).numpy(),
    "numpy_of_non_leaf": lambda T: (T.tensor([1.0, 2.0], requires_grad=True) * 2).numpy(),
    "from_numpy_of_strings": lambda T: T.from_numpy(np.array(["a"])),
    "from_numpy_of_list": lambda T: T.from_numpy([1, 2]),
}


@pytest.mark.parametrize("name", list(SHARING_ERRORS))
def test_numpy_sharing_errors_match_torch(torch, name):
    check_raises(torch, SHARING_ERRORS[name], phrase={"from_numpy_of_strings": "can't convert np.ndarray of type numpy.str_"}.get(name))


def test_tensor_keeps_its_own_copy_of_a_large_array():
    """JAX may read a host array after `jnp.asarray` returns (the transfer can be
    asynchronous), so `tensor` copies first: a change to the source right after it, while
    the values are still on their way, does not show. A large array makes that window
    wide; several tries make the race near certain to show without the copy."""
    for _ in range(10):
        source = np.zeros(16_000_000, np.float32)
        copy = nxt.tensor(source)
        source[:] = 1
        assert copy.sum().item() == 0


def test_an_index_array_is_read_when_indexing_not_later(torch):
    def index_then_change(T):
        index = np.array([2, 0])
        picked = T.arange(3.0)[index]
        index[:] = 1
        return picked.tolist()

    check(torch, index_then_change)


def test_detach_numpy_of_a_requires_grad_tensor(torch):
    check(torch, lambda T: T.tensor([1.0, 2.0], requires_grad=True).detach().numpy().tolist())


# -- devices -------------------------------------------------------------------------------------------

DEVICES = {
    "device_objects": lambda T: (T.device("cpu"), T.device("cuda:0"), T.device("cuda", 1), str(T.device("cuda", 1)),
                                 T.device("cpu").type, T.device("cuda:1").index, T.device("cpu").index),
    "device_equality": lambda T: (T.device("cpu") == T.device("cpu"), T.device("cpu") == T.device("cuda")),
    "cuda_is_available": lambda T: (T.cuda.is_available(), T.cuda.device_count()),
    "accelerator": lambda T: (T.accelerator.is_available(), T.accelerator.current_accelerator(),
                              T.accelerator.device_count(),
                              T.accelerator.current_accelerator().type if T.accelerator.is_available() else "cpu"),
    "accelerator_index": lambda T: T.accelerator.current_device_index(),
    "default_device": lambda T: (T.set_default_device("cpu"), T.get_default_device(), T.zeros(1).device,
                                 T.randn(2).device, T.set_default_device(None), T.get_default_device()),
}


@pytest.mark.parametrize("name", list(DEVICES))
def test_devices_match_torch_without_a_gpu(torch, name):
    if torch.cuda.is_available() or nxt.cuda.is_available():
        pytest.skip("compares the behaviour of a machine without a GPU")
    check(torch, DEVICES[name])


def test_device_never_equals_a_string(torch):
    check(torch, lambda T: T.device("cpu") == "cpu")


CUDA_ERRORS = {
    "cuda": lambda T: T.tensor(5).cuda(),
    "to_cuda": lambda T: T.tensor(5).to("cuda"),
    "to_cuda_0": lambda T: T.tensor([1.0]).to("cuda:0"),
    "factory_on_cuda": lambda T: T.zeros(2, device="cuda"),
}


@pytest.mark.parametrize("name", list(CUDA_ERRORS))
def test_cuda_without_a_gpu_raises_a_clear_error(torch, name):
    if torch.cuda.is_available() or nxt.cuda.is_available():
        pytest.skip("needs a machine without a GPU")
    check_raises(torch, CUDA_ERRORS[name], phrase="Torch not compiled with CUDA enabled")
    assert "JAX sees no GPU" in outcome(CUDA_ERRORS[name], nxt)[1]


@pytest.mark.parametrize("text", ["gpu", "tpu"])
def test_unknown_device_strings_raise_runtime_error(torch, text):
    check_raises(torch, lambda T: T.device(text), phrase=f"device type at start of device string: {text}")


def test_no_warnings_from_plain_creation():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nxt.tensor([1.0, 2.0]) + nxt.zeros(2)
