"""Differential testing of `nablax.stateful` against PyTorch: run the same function with the
`torch` module and with `nablax.stateful`, and compare what came out, or what was raised.

A case is a function of the library, `case(T)`, which builds tensors with `T.tensor(...)`
and returns anything made of tensors, Python values, tuples and lists. `check(torch, case)`
asserts that both libraries return the same thing: for tensors the values, dtype, shape,
`requires_grad` and `grad_fn` name; or that both raise the same error type with the same
message (or one containing a key phrase).
"""

import math
import re

import numpy as np
from conftest import to_numpy

import nablax.stateful as nxt

ATOL = {"torch.float16": 2e-3, "torch.bfloat16": 2e-2}  # float32 and float64: 1e-5


def outcome(fn, *args):
    """What calling `fn(*args)` did: ("ok", result) or (exception type name, message)."""
    try:
        return "ok", fn(*args)
    except Exception as error:  # noqa: BLE001 - the point is to compare any error
        return type(error).__name__, str(error)


def grad_fn_name(tensor):
    return None if tensor.grad_fn is None else type(tensor.grad_fn).__name__


def assert_same(ours, theirs, where="result"):
    """`ours` (from nablax) is what `theirs` (from PyTorch) is, recursively."""
    kind = type(theirs).__name__
    if hasattr(theirs, "grad_fn") and hasattr(theirs, "dtype"):  # a torch tensor
        assert isinstance(ours, nxt.Tensor), f"{where}: expected a tensor, got {ours!r}"
        assert tuple(ours.shape) == tuple(theirs.shape), f"{where}: shape {ours.shape} != {theirs.shape}"
        assert str(ours.dtype) == str(theirs.dtype), f"{where}: dtype {ours.dtype} != {theirs.dtype}"
        assert ours.requires_grad == theirs.requires_grad, f"{where}: requires_grad differs"
        assert grad_fn_name(ours) == grad_fn_name(theirs), f"{where}: grad_fn {grad_fn_name(ours)} != {grad_fn_name(theirs)}"
        expected = to_numpy(theirs.float() if str(theirs.dtype) == "torch.bfloat16" else theirs)
        got = np.asarray(ours.detach()._host())
        if expected.dtype.kind == "f":
            atol = ATOL.get(str(theirs.dtype), 1e-5)
            np.testing.assert_allclose(got, expected, atol=atol, rtol=atol, equal_nan=True, err_msg=where)
        else:
            np.testing.assert_array_equal(got, expected, err_msg=where)
    elif kind in ("max", "min") or type(theirs).__module__ == "torch.return_types":
        assert type(ours).__name__ == kind and repr(type(ours)).startswith("<class 'torch.return_types."), where
        assert_same(tuple(ours), tuple(theirs), where)
    elif kind == "Size":
        assert repr(ours) == repr(theirs), f"{where}: {ours!r} != {theirs!r}"
    elif isinstance(theirs, (tuple, list)):
        assert type(ours).__name__ == kind and len(ours) == len(theirs), f"{where}: {ours!r} != {theirs!r}"
        for index, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{where}[{index}]")
    elif isinstance(theirs, float):
        assert isinstance(ours, float), f"{where}: {ours!r} is not a float"
        assert (math.isnan(ours) and math.isnan(theirs)) or math.isclose(ours, theirs, rel_tol=1e-6, abs_tol=1e-6), where
    elif kind in ("dtype", "device"):
        assert str(ours) == str(theirs) and repr(ours) == repr(theirs), f"{where}: {ours!r} != {theirs!r}"
    else:
        assert type(ours) is type(theirs) and ours == theirs, f"{where}: {ours!r} != {theirs!r}"


def same_message(ours: str, theirs: str, phrase) -> bool:
    if phrase is None:
        return ours == theirs
    return phrase in ours and phrase in theirs


def check(torch, case, *args, phrase=None):
    """Runs `case(T, *args)` with PyTorch and with nablax and asserts the same outcome.

    On an error, the types must be equal, and the messages too, or (with `phrase`) both
    contain the phrase. Returns both results (PyTorch's first) when there was no error."""
    expected, got = outcome(case, torch, *args), outcome(case, nxt, *args)
    if expected[0] != "ok":
        assert got[0] == expected[0], f"PyTorch raised {expected}, nablax gave {got}"
        assert same_message(got[1], expected[1], phrase), f"messages differ:\n torch:  {expected[1]}\n nablax: {got[1]}"
        return None
    assert got[0] == "ok", f"nablax raised {got}, PyTorch returned {expected[1]!r}"
    assert_same(got[1], expected[1])
    return expected[1], got[1]


def check_raises(torch, case, *args, phrase=None):
    """`check` for a case PyTorch is known to reject."""
    assert outcome(case, torch, *args)[0] != "ok", "PyTorch raised nothing"
    check(torch, case, *args, phrase=phrase)


def same_repr(ours: str, theirs: str) -> bool:
    """Reprs are equal up to memory addresses."""
    address = re.compile(r"0x[0-9a-f]+")
    return address.sub("0x", ours) == address.sub("0x", theirs)


def gradients(T, fn, *arrays, seed=0):
    """`fn(T, *leaves)` on leaves made from the float arrays, and the gradients of
    `(out * cotangent).sum()` with respect to them (a seeded random cotangent)."""
    leaves = [T.tensor(np.array(a), requires_grad=True) for a in arrays]
    out = fn(T, *leaves)
    cotangent = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    (out * T.tensor(cotangent, dtype=out.dtype)).sum().backward()
    return out, [leaf.grad for leaf in leaves]


def _tensor_leaves(value) -> list:
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _tensor_leaves(item)]
    return [] if value is None else [value]


def _tensors(T, value, requires_grad: bool):
    """NumPy arrays (in nested tuples) as tensors, floating ones requiring grad when asked;
    anything else (None, flags) as it is."""
    if isinstance(value, tuple):
        return tuple(_tensors(T, item, requires_grad) for item in value)
    if not isinstance(value, np.ndarray):
        return value
    return T.tensor(value.copy(), requires_grad=requires_grad and value.dtype.kind == "f")


def module_gradients(T, module, args, kwargs=None, call=None, seed=0):
    """`call(module, *args, **kwargs)` (by default `module(*args, **kwargs)`), the floating
    arrays of `args` (nested tuples too, such as an LSTM's `(h_0, c_0)`) as tensors that
    require grad and those of `kwargs` (masks) as constants, and the gradients of
    `sum(output * cotangent)` over every output that requires grad: returns the outputs, the
    inputs' gradients and the parameters' `(name, gradient)`."""
    inputs = [_tensors(T, arg, True) for arg in args]
    kwargs = {name: _tensors(T, value, False) for name, value in (kwargs or {}).items()}
    out = call(module, *inputs, **kwargs) if call else module(*inputs, **kwargs)
    rng = np.random.default_rng(seed)
    outputs = [o for o in _tensor_leaves(out) if o.requires_grad]
    sum((o * T.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype)).sum() for o in outputs).backward()
    leaves = [t for t in _tensor_leaves(inputs) if t.requires_grad]
    return out, [t.grad for t in leaves], [(name, p.grad) for name, p in module.named_parameters()]


def torch_twins(torch, make):
    """`make(torch)` and `make(nablax.stateful)` with the same repr and state dict layout,
    ours holding PyTorch's weights: (theirs, ours)."""
    theirs, ours = make(torch), make(nxt)
    assert same_repr(repr(ours), repr(theirs)), f"reprs differ:\n{ours!r}\n{theirs!r}"
    assert [(n, tuple(v.shape), str(v.dtype)) for n, v in ours.state_dict().items()] == [
        (n, tuple(v.shape), str(v.dtype)) for n, v in theirs.state_dict().items()]
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours
