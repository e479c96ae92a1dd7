"""PyTorch's operator test database (`op_db`) run against `nablax.stateful`.

Each `op_db` entry (an `OpInfo`) names a PyTorch operator and generates sample inputs for it.
This module finds the matching callable in `nablax.stateful` through its public API only
(attributes of the module and of `nn.functional`, `linalg`, `special`, `fft` when present,
and `Tensor` methods), so an op that lands there is picked up without touching this file.
It converts every sample to nablax tensors, runs both, and compares:

- forward: the dtype and shape of every output tensor, and its values (float32 within the
  entry's own float32 tolerance, integers and booleans exactly);
- backward (float32, entries that support autograd): the gradient of
  `sum(output * cotangent)`, with a fixed random cotangent, w.r.t. every input PyTorch's
  sample marks `requires_grad`.

A nablax op that raises, or returns another dtype, shape or value, fails that sample; an op
nablax does not have is unresolved. Used by tests/test_opinfo.py and tests/opinfo_coverage.py.
"""

from __future__ import annotations

import itertools
import traceback
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch.testing._internal.common_device_type import precisionOverride, toleranceOverride
from torch.testing._internal.common_methods_invocations import op_db
from torch.testing._internal.opinfo.core import DecorateInfo

import nablax.stateful as nb

OP_DB = op_db
CHECKED_DTYPES = (torch.float32, torch.int64, torch.bool)
# The least float32 tolerances (rtol, atol); an entry's own overrides may widen them. Forward:
# torch.testing.assert_close's float32 rtol, with atol 1e-4 rather than 1e-5, because XLA sums
# in another order than PyTorch and a result that cancels large partial sums (a convolution
# of values up to 9) carries their absolute rounding error. Gradients sum many more products.
FORWARD_TOLERANCE = (1.3e-6, 1e-4)
GRADIENT_TOLERANCE = (1e-4, 1e-4)

# Entries whose OpInfo calls PyTorch in another form than `torch.<name>(input, *args)`: entry
# -> (the nablax functions it needs, "Tensor.<name>" for a method; how to call them alike).
SPECIAL_CALLS = {
    "where": (("where",), lambda where: lambda x, condition, other, **kw: where(condition, x, other, **kw)),
    "einsum": (("einsum",), lambda einsum: lambda tensors, equation: einsum(equation, tensors)),
    "polygamma": (("polygamma",), lambda polygamma: lambda x, n, **kw: polygamma(n, x, **kw)),
    "special.polygamma": (("special.polygamma",), lambda polygamma: lambda x, n, **kw: polygamma(n, x, **kw)),
    "nn.functional.embedding": (("nn.functional.embedding",), lambda embedding: lambda weight, idx, **kw: embedding(idx, weight, **kw)),
    "nn.functional.embedding_bag": (
        ("nn.functional.embedding_bag",), lambda embedding_bag: lambda weight, idx, **kw: embedding_bag(idx, weight, **kw)),
    # Its samples pass a torch.nn.PairwiseDistance module: nablax's module with the same options.
    "nn.functional.triplet_margin_with_distance_loss": (
        ("nn.functional.triplet_margin_with_distance_loss", "nn.PairwiseDistance"),
        lambda loss, pairwise_distance: lambda anchor, positive, negative, distance_function=None, **kw: loss(
            anchor, positive, negative, **kw, distance_function=None if distance_function is None else
            pairwise_distance(distance_function.norm, distance_function.eps, distance_function.keepdim))),
    "linalg.lstsq.grad_oriented": (("linalg.lstsq",), lambda lstsq: lambda a, b, driver: lstsq(a, b, driver=driver)[:2]),
    "linalg.pinv.singular": (("linalg.pinv", "Tensor.__matmul__"), lambda pinv, matmul: lambda a, b: pinv(matmul(a, b.mT))),
    # In-place ops that PyTorch's entries apply to a clone of the sample.
    "resize_": (("Tensor.clone", "Tensor.resize_"), lambda clone, resize_: lambda x, shape: resize_(clone(x), shape)),
    "resize_as_": (("Tensor.clone", "Tensor.resize_as_"), lambda clone, resize_as_: lambda x, other: resize_as_(clone(x), other)),
    "zero_": (("Tensor.clone", "Tensor.zero_"), lambda clone, zero_: lambda x: zero_(clone(x))),
    # The random in-place samplers, called on the sample itself as PyTorch's entries do.
    "cauchy": (("Tensor.cauchy_",), lambda sampler: sampler),
    "exponential": (("Tensor.exponential_",), lambda sampler: sampler),
    "geometric": (("Tensor.geometric_",), lambda sampler: sampler),
    "log_normal": (("Tensor.log_normal_",), lambda sampler: sampler),
    "uniform": (("Tensor.uniform_",), lambda sampler: sampler),
    "normal.in_place": (("Tensor.normal_",), lambda sampler: sampler),
    "normal.number_mean": (("normal",), lambda normal: lambda std, mean, *args, **kw: normal(mean, std, *args, **kw)),
    # PyTorch's rand_like entry calls torch.randn_like; random ops compare dtypes and shapes
    # only, which the two share, so the entry checks nablax's rand_like as its name says.
    "rand_like": (("rand_like",), lambda rand_like: rand_like),
    "svd_lowrank": (("svd_lowrank", "Tensor.__matmul__"), lambda svd_lowrank, matmul: lambda a, b, **kw: svd_lowrank(matmul(a, b.mT), **kw)),
    "pca_lowrank": (("pca_lowrank", "Tensor.__matmul__"), lambda pca_lowrank, matmul: lambda a, b, **kw: pca_lowrank(matmul(a, b.mT), **kw)),
}

# Entries that PyTorch's own suites do not run on the CPU, or that need what nablax.stateful
# does not model: entry id or name -> reason. Checked before resolution.
SKIPPED = {
    "jiterator_unary": "CUDA-only (jiterator)",
    "jiterator_binary": "CUDA-only (jiterator)",
    "jiterator_4inputs_with_extra_args": "CUDA-only (jiterator)",
    "jiterator_binary_return_by_ref": "CUDA-only (jiterator)",
    "jiterator_2inputs_2outputs": "CUDA-only (jiterator)",
    "to_sparse": "needs sparse tensors",
    "slice": "an ATen overload (aten.slice.Tensor), not a torch function",
    "max_pool2d_with_indices_backward": "an ATen backward kernel, not a torch function",
    "native_dropout_backward": "an ATen backward kernel, not a torch function",
}

# Random ops: their values differ from PyTorch's by design (threefry, not Mersenne Twister),
# so only dtypes and shapes are compared, but for the samples where the result does not
# depend on the random stream (a predicate of the sample), whose values are compared too.
def _dropout_is_deterministic(sample):
    return sample.kwargs.get("training", True) is False or sample.kwargs.get("p", 0.5) == 0


RANDOM = {
    name: (lambda sample: False) for name in (
        "bernoulli", "multinomial", "normal", "normal.in_place", "normal.number_mean", "uniform", "cauchy",
        "exponential", "geometric", "log_normal", "randn", "randn_like", "rand_like", "randint", "randint_like",
        "nn.functional.rrelu", "nn.functional.fractional_max_pool2d", "nn.functional.fractional_max_pool3d",
        "svd_lowrank", "pca_lowrank",
        # Uninitialised memory: the values are whatever the allocator held.
        "empty", "empty_like", "new_empty", "new_empty_strided", "empty_strided", "empty_permuted",
    )
} | {
    name: _dropout_is_deterministic for name in (
        "nn.functional.dropout", "nn.functional.dropout2d", "nn.functional.dropout3d",
        "nn.functional.alpha_dropout", "nn.functional.feature_alpha_dropout.with_train",
    )
}


def entry_id(op) -> str:
    """The entry's name, and its variant after a dot: `max.reduction_with_dim`."""
    return f"{op.name}.{op.variant_test_name}" if op.variant_test_name else op.name


def is_public(op) -> bool:
    """A public entry: no part of its name is private (`_foo`, `__radd__`), and PyTorch runs it
    on the CPU. 676 of op_db's 702 entries in PyTorch 2.13."""
    return not any(part.startswith("_") for part in op.name.split(".")) and bool(op.supported_dtypes("cpu"))


def checked_dtypes(op) -> list:
    """The dtypes of CHECKED_DTYPES that the entry supports on the CPU."""
    supported = op.supported_dtypes("cpu")
    return [dtype for dtype in CHECKED_DTYPES if dtype in supported]


def checks(op) -> list[str]:
    """The checks run for an entry: `forward-<dtype>` per checked dtype, `backward-float32`."""
    names = [f"forward-{str(dtype).removeprefix('torch.')}" for dtype in checked_dtypes(op)]
    if op.supports_autograd and torch.float32 in op.supported_backward_dtypes("cpu"):
        names.append("backward-float32")
    return names


def skip_reason(op) -> str | None:
    """Why an entry is not run at all (before looking for it in nablax), or None."""
    if any(part.startswith("_") and not part.startswith("__") for part in op.name.split(".")):
        return "private ATen entry, not public PyTorch API"
    if not op.supported_dtypes("cpu"):
        return "PyTorch has no CPU kernel for it"
    for key in (entry_id(op), op.name):
        if key in SKIPPED:
            return SKIPPED[key]
    if not checked_dtypes(op):
        return "complex inputs" if all(d.is_complex for d in op.supported_dtypes("cpu")) else "no float32/int64/bool dtype"
    return None


# ---------------------------------------------------------------------------------------------
# Resolution


def _public_attribute(owner, name):
    """`owner.name` when it is a public callable (not a submodule, a dtype or a helper import)."""
    if name.startswith("_") and not name.startswith("__"):
        return None
    value = getattr(owner, name, None)
    if value is None or isinstance(value, (type(np), nb.dtype)) or not callable(value):
        return None
    return value


def lookup(qualified_name: str):
    """The nablax.stateful function at a dotted name (`nn.functional.relu`); KeyError if absent."""
    namespace, _, name = qualified_name.rpartition(".")
    owner = nb
    for part in namespace.split(".") if namespace else ():
        owner = getattr(owner, part, None)
        if owner is None:
            raise KeyError(qualified_name)
    function = _public_attribute(owner, name)
    if function is None:
        raise KeyError(qualified_name)
    return function


def method(name: str):
    """A call of the `Tensor` method `name` on its first argument; KeyError if nablax has none."""
    if _public_attribute(nb.Tensor, name) is None:
        raise KeyError(name)
    return lambda x, *args, **kwargs: getattr(x, name)(*args, **kwargs)


def _function_or_method(name: str):
    """`lookup(name)`, or `method(...)` for a name written `Tensor.<method>`."""
    return method(name.removeprefix("Tensor.")) if name.startswith("Tensor.") else lookup(name)


def _attribute(name: str):
    """A read of the `Tensor` attribute `name` (`x.T`, `x.mT`); KeyError if nablax has none."""
    if not hasattr(nb.Tensor, name):
        raise KeyError(name)
    return lambda x: getattr(x, name)


def torch_object(qualified_name: str):
    owner = torch
    for part in qualified_name.split("."):
        owner = getattr(owner, part, None)
    return owner


def call_form(op) -> str:
    """How the entry's `op` calls PyTorch, which says where to find it in nablax:

    - "special": a row of SPECIAL_CALLS (arguments reordered, a clone first, ...);
    - "function": `torch.<name>(...)` itself, or a lambda that calls it with the same
      arguments under a fixed seed (`wrapper_set_seed`, PyTorch's random entries);
    - "method": a `Tensor` method (`x.view(shape)`, `__radd__`, `x.bool()`);
    - "attribute": a `Tensor` attribute (`x.T`, `x.mH`);
    - "other": none of these.
    """
    if entry_id(op) in SPECIAL_CALLS or op.name in SPECIAL_CALLS:
        return "special"
    in_torch = torch_object(op.name)
    if callable(in_torch) and not isinstance(in_torch, torch.dtype):
        return "function"
    if "." not in op.name and callable(getattr(torch.Tensor, op.name, None)):
        return "method"
    if "." not in op.name and hasattr(torch.Tensor, op.name):
        return "attribute"
    return "other"


def resolve(op):
    """The nablax callable that does what the entry's `op` does, or None when nablax lacks it.

    A `torch.<name>` function maps to the same dotted name in nablax.stateful, a `Tensor`
    method or attribute (`view`, `new_zeros`, `__radd__`, `T`) to nablax's `Tensor` method or
    attribute, and SPECIAL_CALLS covers the entries that call PyTorch in another form.
    """
    form = call_form(op)
    try:
        if form == "special":
            needed, adapt = SPECIAL_CALLS[entry_id(op) if entry_id(op) in SPECIAL_CALLS else op.name]
            return adapt(*(_function_or_method(name) for name in needed))
        if form == "function":
            return lookup(op.name)
        if form == "method":
            return method(op.name)
        if form == "attribute":
            return _attribute(op.name)
    except KeyError:
        return None
    return None


# ---------------------------------------------------------------------------------------------
# Conversion of PyTorch's samples to nablax


class ConversionError(Exception):
    """A sample holds something nablax.stateful has no counterpart for (a dtype, a layout)."""


def _nablax_named(value):
    """nablax.stateful's object of the same name as a torch dtype, layout or memory format."""
    name = str(value).removeprefix("torch.")
    converted = getattr(nb, name, None)
    if converted is None:
        raise ConversionError(f"nablax.stateful has no {value}")
    return converted


def _tensor_to_nablax(tensor: torch.Tensor):
    dtype = _nablax_named(tensor.dtype)
    plain = tensor.detach().resolve_conj().resolve_neg()
    if plain.dtype == torch.bfloat16:  # NumPy has no bfloat16: go through float32, exactly
        plain = plain.float()
    return nb.tensor(plain.numpy(), dtype=dtype, requires_grad=tensor.requires_grad)


def to_nablax(value, converted: dict | None = None):
    """A sample's value with tensors, dtypes and sizes made nablax.stateful's, nesting kept.

    A tensor that appears twice in the sample becomes one nablax tensor (`converted` maps the
    ids of those already converted), so that gradients through both uses add up as in PyTorch.
    """
    converted = {} if converted is None else converted
    if isinstance(value, torch.Tensor):
        if id(value) not in converted:
            converted[id(value)] = _tensor_to_nablax(value)
        return converted[id(value)]
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, (torch.dtype, torch.layout, torch.memory_format)):
        return _nablax_named(value)
    if isinstance(value, torch.device):
        return nb.device(str(value))
    if isinstance(value, torch.Generator):
        raise ConversionError("a torch.Generator argument")
    if isinstance(value, (list, tuple)):
        items = [to_nablax(item, converted) for item in value]
        return type(value)(items) if type(value) in (list, tuple) else tuple(items)
    if isinstance(value, dict):
        return {key: to_nablax(item, converted) for key, item in value.items()}
    return value


def leaves(value) -> list:
    """The tensors in a nested value, depth first (torch's or nablax's)."""
    if isinstance(value, (torch.Tensor, nb.Tensor)):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    return [leaf for item in items for leaf in leaves(item)]


def distinct(tensors: list) -> list:
    """`tensors` without repeats of one object, in first-seen order."""
    return list({id(tensor): tensor for tensor in tensors}.values())


# ---------------------------------------------------------------------------------------------
# Comparison


def tolerance(op, least: tuple[float, float] = FORWARD_TOLERANCE) -> tuple[float, float]:
    """(rtol, atol) for float32: `least`, widened by the entry's own float32 overrides."""
    rtol, atol = least
    for info in op.decorators:
        if not isinstance(info, DecorateInfo) or info.device_type not in (None, "cpu") or not info.active_if:
            continue
        for decorator in info.decorators:
            if isinstance(decorator, toleranceOverride) and torch.float32 in decorator.d:
                rtol = max(rtol, decorator.d[torch.float32].rtol)
                atol = max(atol, decorator.d[torch.float32].atol)
            elif isinstance(decorator, precisionOverride) and torch.float32 in decorator.d:
                atol = max(atol, decorator.d[torch.float32])
    return rtol, atol


def _tensor_values(actual, expected: torch.Tensor):
    """Both tensors' values as torch tensors of one wide dtype, for assert_close."""
    wide = torch.complex128 if expected.is_complex() else torch.float64 if expected.is_floating_point() else torch.int64
    if expected.dtype == torch.bool:
        wide = torch.bool
    values = np.asarray(actual.detach().numpy())
    if values.dtype.name == "bfloat16":
        values = values.astype(np.float32)
    return torch.from_numpy(np.array(values)).to(wide), expected.detach().resolve_conj().resolve_neg().to(wide)


def compare_tensor(actual, expected: torch.Tensor, tol, values: bool = True, where: str = "output"):
    """Raise AssertionError unless `actual` is a nablax tensor like `expected`."""
    if not isinstance(actual, nb.Tensor):
        raise AssertionError(f"{where}: expected a tensor, got {type(actual).__name__}")
    if str(actual.dtype) != str(expected.dtype):
        raise AssertionError(f"{where}: dtype {actual.dtype}, PyTorch gives {expected.dtype}")
    if tuple(actual.shape) != tuple(expected.shape):
        raise AssertionError(f"{where}: shape {tuple(actual.shape)}, PyTorch gives {tuple(expected.shape)}")
    if values:
        got, want = _tensor_values(actual, expected)
        rtol, atol = tol if want.is_floating_point() or want.is_complex() else (0, 0)
        torch.testing.assert_close(got, want, rtol=rtol, atol=atol, equal_nan=True, msg=lambda m: f"{where}: {m}")


def compare(actual, expected, tol, values: bool = True, where: str = "output"):
    """Raise AssertionError unless nablax's result `actual` matches PyTorch's `expected`."""
    if isinstance(expected, torch.Tensor):
        return compare_tensor(actual, expected, tol, values, where)
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            raise AssertionError(f"{where}: expected a sequence of {len(expected)}, got {actual!r:.200}")
        for index, (got, want) in enumerate(zip(actual, expected)):
            compare(got, want, tol, values, f"{where}[{index}]")
        return None
    if isinstance(expected, (bool, int, float)):
        if type(actual) is not type(expected):
            raise AssertionError(f"{where}: expected a Python {type(expected).__name__}, got {type(actual).__name__}")
        if values:
            torch.testing.assert_close(actual, expected, rtol=tol[0], atol=tol[1], equal_nan=True)
        return None
    if actual != expected:
        raise AssertionError(f"{where}: {actual!r:.200} != PyTorch's {expected!r:.200}")
    return None


# ---------------------------------------------------------------------------------------------
# Running samples


@dataclass
class SampleOutcome:
    """One sample's result: `error` is None when it passed."""

    index: int
    error: str | None
    values_compared: bool = True


def _describe(error: BaseException) -> str:
    """An exception in one line, with where it was raised (outside this module)."""
    if isinstance(error, AssertionError):
        return str(error).strip()
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename != __file__]
    where = f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {str(error).strip()[:300]}{where}"


def _torch_result(op, sample):
    """PyTorch's result for a sample, quiet: its warnings (about padding copies and such) are
    PyTorch's advice to its own users, not findings about nablax."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return op.op(sample.input, *sample.args, **sample.kwargs)


def _call(function, sample_input, args, kwargs):
    return function(sample_input, *args, **kwargs)


def run_forward(op, call, sample) -> bool:
    """Compare one sample's forward outputs; True when values were compared (not random)."""
    inputs = to_nablax((sample.input, sample.args, sample.kwargs))
    expected = _torch_result(op, sample)
    deterministic = RANDOM.get(entry_id(op), RANDOM.get(op.name, lambda s: True))(sample)
    actual = _call(call, *inputs)
    compare(actual, expected, tolerance(op), values=deterministic)
    return deterministic


def _cotangents(outputs) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(out.shape, generator=generator, dtype=out.dtype) for out in outputs]


def _differentiable(value) -> list[torch.Tensor]:
    return distinct([leaf for leaf in leaves(value) if leaf.is_floating_point() and leaf.requires_grad])


def run_backward(op, call, sample) -> bool:
    """Compare the gradients of sum(output * cotangent) w.r.t. the inputs that require grad."""
    inputs = to_nablax((sample.input, sample.args, sample.kwargs))
    torch_leaves = _differentiable((sample.input, sample.args, sample.kwargs))
    nablax_leaves = distinct([leaf for leaf in leaves(inputs) if leaf.requires_grad])
    deterministic = RANDOM.get(entry_id(op), RANDOM.get(op.name, lambda s: True))(sample)
    expected = sample.output_process_fn_grad(_torch_result(op, sample))
    outputs = [leaf for leaf in leaves(expected) if leaf.requires_grad]
    if not outputs or not torch_leaves:
        return deterministic
    cotangents = _cotangents(outputs)
    loss = sum((out * cot).sum() for out, cot in zip(outputs, cotangents))
    grads = torch.autograd.grad(loss, torch_leaves, allow_unused=True)

    actual = sample.output_process_fn_grad(_call(call, *inputs))
    if len(leaves(actual)) != len(leaves(expected)):
        raise AssertionError(f"{len(leaves(actual))} output tensors, PyTorch gives {len(leaves(expected))}")
    actual_outputs = [leaf for leaf, want in zip(leaves(actual), leaves(expected)) if want.requires_grad]
    for index, out in enumerate(actual_outputs):
        if not out.requires_grad:
            raise AssertionError(f"output {index} does not require grad (PyTorch's does)")
    nablax_loss = sum((out * _tensor_to_nablax(cot)).sum() for out, cot in zip(actual_outputs, cotangents))
    nablax_loss.backward()
    for index, (leaf, want) in enumerate(zip(nablax_leaves, grads)):
        if want is None:
            want = torch.zeros_like(torch_leaves[index])
        got = leaf.grad if leaf.grad is not None else nb.zeros_like(leaf)
        compare(got, want, tolerance(op, GRADIENT_TOLERANCE), values=deterministic, where=f"grad of input {index}")
    return deterministic


def samples(op, dtype, requires_grad: bool, limit: int | None):
    """The entry's first `limit` samples (all when None), each with its index."""
    generated = op.sample_inputs("cpu", dtype, requires_grad=requires_grad)
    return enumerate(itertools.islice(generated, limit))


def run_check(op, call, check: str, limit: int | None, until_failure: bool = False) -> list[SampleOutcome]:
    """Run one check (`forward-float32`, `backward-float32`, ...) over the entry's first `limit`
    samples (all when None), or, with `until_failure`, up to the first that fails."""
    direction, dtype_name = check.split("-")
    dtype = getattr(torch, dtype_name)
    runner = run_forward if direction == "forward" else run_backward
    outcomes = []
    for index, sample in samples(op, dtype, direction == "backward", limit):
        try:
            compared = runner(op, call, sample)
            outcomes.append(SampleOutcome(index, None, compared))
        except Exception as error:  # noqa: BLE001 - any failure of nablax fails the sample
            outcomes.append(SampleOutcome(index, _describe(error)))
            if until_failure:
                break
    return outcomes


def summarize_failures(outcomes: list[SampleOutcome], shown: int = 3) -> str:
    """The failing samples' messages, a few of them, for a test failure or the coverage page."""
    failures = [outcome for outcome in outcomes if outcome.error]
    lines = [f"sample {outcome.index}: {outcome.error}" for outcome in failures[:shown]]
    if len(failures) > shown:
        lines.append(f"... and {len(failures) - shown} more of {len(outcomes)} samples")
    return "\n".join(lines)

