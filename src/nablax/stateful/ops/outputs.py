"""`out=`: the `torch.*` functions that write their result into a given tensor (or tuple of
tensors), with PyTorch's rules: autograd refuses it, the result is cast to the output's
dtype where PyTorch's casting allows, and an output of another shape is resized (with
PyTorch's deprecation warning unless it was empty)."""

from __future__ import annotations

import functools
import warnings

from ..engine import is_grad_enabled
from ..tensor import Tensor
from .creation import full
from .inplace import write_result
from .reductions import return_type

_RESIZED = ("An output with one or more elements was resized since it had shape [{}], which does not match the "
            "required output shape [{}]. This behavior is deprecated, and in a future PyTorch release outputs will "
            "not be resized unless they have zero elements. You can explicitly reuse an out tensor t by resizing it, "
            "inplace, to zero elements with t.resize_(0).")


def _listed(shape) -> str:
    return ", ".join(map(str, shape))


def _resize(name: str, out: Tensor, shape: tuple) -> None:
    """Gives `out` a new storage of `shape` (PyTorch's resize of an out= tensor)."""
    if out._base is not None:
        raise RuntimeError(f"{name}(): out= is a view of shape [{_listed(out.shape)}], which nablax cannot resize to "
                           f"[{_listed(shape)}]; pass an out= tensor of that shape")
    if out.numel():
        warnings.warn(_RESIZED.format(_listed(out.shape), _listed(shape)), UserWarning, stacklevel=4)
    out.data = full(shape, 0, dtype=out.dtype)


def write_out(name: str, result, out):
    """Writes `result` (a tensor, or a tuple of them) into `out` and returns `out` (a
    `torch.return_types.<op>_out` for a result of return type `<op>`, as PyTorch's)."""
    results = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    if len(outs) != len(results) or not all(isinstance(o, Tensor) for o in outs):
        expected = "Tensor" if len(results) == 1 else f"tuple of {len(results)} Tensors"
        raise TypeError(f"{name}(): argument 'out' must be {expected}, not {type(out).__name__}")
    if is_grad_enabled() and any(t.requires_grad for t in (*results, *outs)):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, but "
                           "one of the arguments requires grad.")
    for value, target in zip(results, outs):
        if tuple(target.shape) != tuple(value.shape):
            _resize(name, target, tuple(value.shape))
        write_result(target, value)
    if not isinstance(result, tuple):
        return out
    kind = getattr(result, "_name", None)  # torch.return_types.max -> torch.return_types.max_out
    return return_type(f"{kind}_out")(outs) if kind else outs


def with_out(function, *, computes_in_out_dtype: bool = False):
    """`function` taking `out=` too; one that `computes_in_out_dtype` (sum, cumsum, ...)
    computes in the output's dtype unless given a `dtype`."""

    @functools.wraps(function)
    def apply(*args, out=None, **options):
        if out is None:
            return function(*args, **options)
        if computes_in_out_dtype and options.get("dtype") is None and isinstance(out, Tensor):
            options["dtype"] = out.dtype
        return write_out(function.__name__, function(*args, **options), out)

    return apply
