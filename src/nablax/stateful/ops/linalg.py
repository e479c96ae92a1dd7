"""Norms and products of vectors and matrices: `vector_norm`, `matrix_norm` and
`linalg.norm` (the `torch.linalg` module), `torch.norm`, `renorm`, `mv`, `outer`, `trace` and
`einsum`, with PyTorch's checks and the backward-node names its implementations end in."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from .. import dtypes as dt
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from ..views import wrap_dim
from . import arithmetic as A
from . import matmul as M
from .common import numpy_keywords
from .elementwise import abs_value

INF = math.inf


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def _p_norm(x, p, dims):
    return jnp.sum(jnp.abs(x) ** p, axis=dims, keepdims=True) ** (1 / p)


@_p_norm.defjvp
def _p_norm_jvp(p, dims, primals, tangents):
    """PyTorch's derivative: sign(x) |x|^(p-1) / norm^(p-1), zero where the norm is zero."""
    (x,), (dx,) = primals, tangents
    norm = _p_norm(x, p, dims)
    scale = jnp.sign(x) * jnp.abs(x) ** (p - 1) / norm ** (p - 1)
    scale = jnp.where(norm == 0, jnp.zeros_like(scale), scale)
    return norm, jnp.sum(scale * dx, axis=dims, keepdims=True)


def _vector_norm_fn(x, *, ord, dims, keepdim, dtype):
    x = x.astype(dtype)
    dims = tuple(range(x.ndim)) if dims is None else dims
    if ord == INF or ord == -INF:
        reduce = jnp.max if ord == INF else jnp.min
        norm = reduce(abs_value(x), axis=dims, keepdims=True)
    elif ord == 0:
        norm = jnp.sum(x != 0, axis=dims, keepdims=True).astype(dtype)
    else:
        norm = _p_norm(x, ord, dims)
    return norm if keepdim else jnp.squeeze(norm, dims)


_VECTOR_NORM = Op("linalg_vector_norm", _vector_norm_fn)


def _floating(input: Tensor, name: str, dtype) -> dt.dtype:
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {input.dtype.scalar_name}")
    return dt.as_dtype(dtype) if dtype is not None else input.dtype


def _norm_dims(input: Tensor, dim) -> tuple | None:
    if dim is None:
        return None
    dims = tuple(wrap_dim(d, input.ndim) for d in (dim if isinstance(dim, (tuple, list)) else (dim,)))
    for d in dims:
        if dims.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return dims if input.ndim else ()


def _kept(shape: tuple, dims, keepdim: bool) -> tuple:
    dims = range(len(shape)) if dims is None else dims
    return tuple(1 if d in dims else s for d, s in enumerate(shape)) if keepdim else \
        tuple(s for d, s in enumerate(shape) if d not in dims)


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The `ord`-norm of the elements over `dim` (all dims by default)."""
    if isinstance(ord, str):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not {type(ord).__name__}")
    result = _floating(x, "linalg.vector_norm", dtype)
    dims = _norm_dims(x, dim)
    if ord in (INF, -INF) and x.numel() == 0:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {'inf' if ord == INF else '-inf'} norm on an empty "
                           "tensor because the operation does not have an identity")
    return record(_VECTOR_NORM, (x,), _kept(x.shape, dims, keepdim), result.numpy, "LinalgVectorNormBackward0",
                  (("ord", float(ord)), ("dims", dims), ("keepdim", bool(keepdim)), ("dtype", result.numpy)))


def _extreme(values, axis, largest: bool, **keepdims):
    """The largest (0 of none: a norm's least value) or smallest along `axis`. (The 0 is
    only for no values: as an initial value it would take a share of the gradient of ties.)"""
    if not largest:
        return jnp.min(values, axis, **keepdims)
    return jnp.max(values, axis, **keepdims) if values.shape[axis] else jnp.max(values, axis, initial=0.0, **keepdims)


def _matrix_norm_fn(x, *, ord, dims, keepdim, dtype):
    x = x.astype(dtype)
    if ord in ("nuc", 2.0, -2.0):  # from the singular values of the matrices over `dims`
        singular = jnp.linalg.svd(jnp.moveaxis(x, dims, (-2, -1)), compute_uv=False)
        norm = jnp.sum(singular, -1) if ord == "nuc" else _extreme(singular, -1, ord > 0)
        return jnp.expand_dims(norm, sorted(dims)) if keepdim else norm
    summed, across = _sum_then_extreme(ord, dims)
    norm = _extreme(jnp.sum(abs_value(x), summed, keepdims=True), across, ord > 0, keepdims=True)
    return norm if keepdim else jnp.squeeze(norm, dims)


def _sum_then_extreme(ord, dims: tuple) -> tuple:
    """The dim summed over and the dim the extreme is taken along: the largest column sum
    for ±1, the largest row sum for ±inf."""
    return dims if abs(ord) == 1 else dims[::-1]


def _check_extreme_of_nothing(A: Tensor, ord, dims: tuple, keepdim: bool) -> None:
    """PyTorch's error for the smallest of no values (the largest of none is 0), which
    names the dim of the intermediate result it reduces."""
    if ord == "nuc" or ord > 0:
        return
    if abs(ord) == 2:  # the singular values, last
        empty, position = min(A.shape[d] for d in dims) == 0, -1
    else:
        summed, across = _sum_then_extreme(ord, dims)
        empty, position = A.shape[across] == 0, across - (summed < across and not keepdim)
    if empty:
        raise IndexError(f"amin(): Expected reduction dim {position} to have non-zero size.")


_MATRIX_NORM = Op("linalg_matrix_norm", _matrix_norm_fn)
_MATRIX_NORM_NODES = {"nuc": "SumBackward1", 2.0: "AmaxBackward0", -2.0: "AminBackward0", 1.0: "AmaxBackward0",
                      -1.0: "AminBackward0", INF: "AmaxBackward0", -INF: "AminBackward0"}


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: N803
    """The `ord`-norm ('fro', 'nuc', ±1, ±2, ±inf) of the matrices over the two dims `dim`."""
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}")
    dims = tuple(wrap_dim(d, A.ndim) for d in dims)
    if dims[0] == dims[1]:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dims[0]}, {dims[1]})")
    if ord == "fro":
        return vector_norm(A, 2, dims, keepdim, dtype=dtype)
    if ord not in _MATRIX_NORM_NODES:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    result = _floating(A, "linalg.matrix_norm", dtype)
    ord = ord if ord == "nuc" else float(ord)
    _check_extreme_of_nothing(A, ord, dims, keepdim)
    return record(_MATRIX_NORM, (A,), _kept(A.shape, dims, keepdim), result.numpy, _MATRIX_NORM_NODES[ord],
                  (("ord", ord), ("dims", dims), ("keepdim", bool(keepdim)), ("dtype", result.numpy)))


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: N803
    """`torch.linalg.norm`: a vector norm over one dim (or all, when neither `ord` nor `dim`
    is given), a matrix norm over two (a matrix's by default, when `ord` is given)."""
    dims = None if dim is None else (tuple(dim) if isinstance(dim, (tuple, list)) else (dim,))
    if dims is None and ord is not None:
        if A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D.")
        dims = tuple(range(A.ndim))
    if isinstance(ord, str) or (dims is not None and len(dims) == 2):
        return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)


@numpy_keywords
def torch_norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """`torch.norm` (and `Tensor.norm`): 'fro' and numbers are vector norms over `dim`, 'nuc'
    a matrix norm."""
    dims = None if dim is None else (tuple(dim) if isinstance(dim, (tuple, list)) else (dim,))
    if p == "nuc":
        return matrix_norm(input, "nuc", tuple(range(input.ndim)) if dims is None else dims, keepdim, dtype=dtype)
    return vector_norm(input, 2 if p == "fro" or p is None else p, dims, keepdim, dtype=dtype)


def _renorm_fn(x, *, p, dim, maxnorm):
    dims = tuple(i for i in range(x.ndim) if i != dim)
    norm = _vector_norm_fn(x, ord=p, dims=dims, keepdim=True, dtype=x.dtype)
    return x * jnp.where(norm > maxnorm, maxnorm / (norm + 1e-7), jnp.ones_like(norm))


_RENORM = Op("renorm", _renorm_fn)


def renorm(input: Tensor, p, dim: int, maxnorm) -> Tensor:
    """Each slice of `input` along `dim` whose `p`-norm exceeds `maxnorm`, scaled to that norm."""
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    _floating(input, "renorm", None)
    return record(_RENORM, (input,), input.shape, input.dtype.numpy, "RenormBackward0",
                  (("p", float(p)), ("dim", wrap_dim(dim, input.ndim)), ("maxnorm", float(maxnorm))))


def mv(input: Tensor, vec: Tensor) -> Tensor:
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    if input.dtype is not vec.dtype:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {vec.dtype.scalar_name}, "
                           f"{input.dtype.scalar_name}, and {vec.dtype.scalar_name}")
    return M.matmul(input, vec)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """`input[i] * vec2[j]` at [i, j], as PyTorch computes it (a `MulBackward0`)."""
    for tensor, name in ((input, "self"), (vec2, "vec2")):
        if tensor.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {tensor.ndim}-D")
    return A.mul(input.reshape(-1, 1), vec2)


_TRACE = Op("trace", lambda x, *, dtype: jnp.trace(x).astype(dtype))


def trace(input: Tensor) -> Tensor:
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    result = input.dtype if (input.dtype.is_floating_point or input.dtype.is_complex) else dt.int64
    return record(_TRACE, (input,), (), result.numpy, "TraceBackward0", (("dtype", result.numpy),))


_EINSUM = Op("einsum", lambda *operands, equation: jnp.einsum(equation, *operands))


def _einsum_node(inputs: list, output: str) -> str:
    """The node PyTorch's einsum ends in (its `grad_fn` name) for contiguous operands: of
    one operand, a sum or a permutation; of more, a product: a `bmm` viewed back where
    indices are contracted, else a multiplication."""
    summed = set("".join(inputs)) - set(output)
    if len(inputs) == 1:
        return "SumBackward1" if summed else "PermuteBackward0"
    contracted = any(sum(index in operand for operand in inputs) > 1 for index in summed)
    return "ViewBackward0" if contracted else "MulBackward0"


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation of `operands` (given one by one or as a list) by `equation`."""
    if len(operands) == 1 and isinstance(operands[0], (tuple, list)):
        operands = tuple(operands[0])
    for operand in operands[1:]:
        if operand.dtype is not operands[0].dtype:
            raise RuntimeError(f"expected scalar type {operands[0].dtype.scalar_name} but found {operand.dtype.scalar_name}")
    equation = equation.replace(" ", "")
    shape = jax.eval_shape(lambda *xs: jnp.einsum(equation, *xs),
                           *(jax.ShapeDtypeStruct(o.shape, o.dtype.numpy) for o in operands)).shape
    inputs, _, output = equation.replace("...", ".").partition("->")
    inputs = inputs.split(",")
    if not _:  # implicit output: the indices that appear once, in alphabetical order
        output = "".join(sorted(c for c in set("".join(inputs)) if "".join(inputs).count(c) == 1 and c != "."))
    return record(_EINSUM, operands, shape, operands[0].dtype.numpy, _einsum_node(inputs, output),
                  (("equation", equation),))


FUNCTIONS = {"norm": torch_norm, "renorm": renorm, "mv": mv, "outer": outer, "ger": outer, "trace": trace, "einsum": einsum}
METHODS = {"norm": torch_norm, "renorm": renorm, "mv": mv, "outer": outer, "ger": outer, "trace": trace}
LINALG = {"norm": norm, "vector_norm": vector_norm, "matrix_norm": matrix_norm}
