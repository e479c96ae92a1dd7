"""Draws whose distributions are tensors: `normal` (all its overloads), `bernoulli`,
`multinomial`, and the in-place fills `normal_`, `uniform_` and `bernoulli_`, each with an
optional `generator=`. PyTorch checks probabilities and standard deviations before it
draws, so these read those values (running whatever computes them) to raise its errors.
PyTorch's derivative of a draw with respect to its parameters is zero; so is JAX's here
(the draw is cut from the graph)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from ..engine import Op
from ..grad_fn import NOT_DIFFERENTIABLE
from ..recording import record
from ..tensor import Tensor
from .common import SCALARS, broadcast_shapes, cast, not_implemented
from .creation import finish, size_argument
from .inplace import check_sources, write_result
from .random import key_of, next_draw, rand, randn

# -- normal ---------------------------------------------------------------------------------------


def _normal_fn(seed, counter, mean, std, *, shape, dtype):
    draw = jax.random.normal(key_of(seed, counter), shape, dtype) * cast(std, dtype) + cast(mean, dtype)
    return jax.lax.stop_gradient(draw)


_NORMAL = Op("normal", _normal_fn)

_NORMAL_FORMS = (
    "normal() received an invalid combination of arguments - got ({}), but expected one of:\n"
    " * (Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, float std, tuple of ints size, *, torch.Generator generator = None, Tensor out = None, "
    "torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, "
    "bool requires_grad = False)\n")


def _check_std(std) -> None:
    """PyTorch's refusal of a negative standard deviation (read from a tensor's values)."""
    if isinstance(std, Tensor):
        if std.numel() and bool(np.any(std._host() < 0)):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")


def _floating_parameter(parameter: Tensor) -> dt.dtype:
    if not (parameter.dtype.is_floating_point or parameter.dtype.is_complex):
        raise not_implemented("normal_kernel_cpu", parameter.dtype)
    return parameter.dtype


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False, layout=None):
    """Normal draws: of a mean and a std that are tensors or numbers (broadcast together),
    or of two numbers and a `size`."""
    mean_tensor, std_tensor = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not (mean_tensor or std_tensor):
        if size is None or not isinstance(mean, SCALARS) or not isinstance(std, SCALARS):
            given = [type(v).__name__ for v in (mean, std)] + ([] if size is None else [type(size).__name__])
            raise TypeError(_NORMAL_FORMS.format(", ".join(given)))
        _check_std(std)
        result = dt.as_dtype(dtype) if dtype is not None else dt.get_default_dtype()
        tensor = _record_normal(float(mean), float(std), size_argument((size,)), result, generator, None)
        return finish(tensor, device, requires_grad, layout)
    result = _floating_parameter(mean if mean_tensor else std)
    if mean_tensor and std_tensor:
        shape, grad_name = broadcast_shapes(mean.shape, std.shape), "NormalBackward3"
    else:
        shape, grad_name = (mean.shape, "NormalBackward1") if mean_tensor else (std.shape, "NormalBackward2")
    _check_std(std)
    return _record_normal(mean, std, shape, result, generator, grad_name)


def _record_normal(mean, std, shape, dtype: dt.dtype, generator, grad_name):
    seed, counter = next_draw(generator)
    return record(_NORMAL, (seed, counter, mean, std), shape, dtype.numpy, grad_name,
                  (("shape", shape), ("dtype", dtype.numpy)))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None):
    _check_std(std)
    return write_result(self, randn(*self.shape, dtype=self.dtype, generator=generator) * std + mean)


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator=None):
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    return write_result(self, rand(*self.shape, dtype=self.dtype, generator=generator) * (b - a) + a)


# -- bernoulli ------------------------------------------------------------------------------------


def _bernoulli_fn(seed, counter, probability, *shaped_as, shape, dtype):
    """Draws of `probability`; `shaped_as` (the input, whose values a number `p` ignores) is
    an operand only so that the result is in the graph where PyTorch's is."""
    uniform = jax.random.uniform(key_of(seed, counter), shape, getattr(probability, "dtype", jnp.float64))
    return jax.lax.stop_gradient((uniform < probability).astype(dtype))


_BERNOULLI = Op("bernoulli", _bernoulli_fn)
_P_IN_RANGE = ("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message be improved?  "
               "If so, please report an enhancement request to PyTorch.)")


def _probabilities(p: Tensor) -> Tensor:
    """`p` checked as PyTorch's bernoulli checks a tensor of probabilities."""
    if not p.dtype.is_floating_point:
        raise not_implemented("bernoulli_tensor_cpu_p_", p.dtype)
    values = p._host()
    if values.size and not bool(np.all((values >= 0) & (values <= 1))):
        raise RuntimeError(_P_IN_RANGE)
    return p


def _probability(p) -> float:
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    return float(p)


def _record_bernoulli(probability, shape, dtype, generator, grad_name, shaped_as=()):
    seed, counter = next_draw(generator)
    return record(_BERNOULLI, (seed, counter, probability, *shaped_as), shape, dtype.numpy, grad_name,
                  (("shape", tuple(shape)), ("dtype", dtype.numpy)))


def bernoulli(input: Tensor, p=None, *, generator=None):
    """1 with probability `input` (elementwise), or with probability `p` everywhere in a
    tensor shaped as `input`; of `input`'s dtype."""
    if p is None:
        return _record_bernoulli(_probabilities(input), input.shape, input.dtype, generator, "BernoulliBackward0")
    # PyTorch's node for a number `p` has no derivative: a backward pass through it raises.
    return _record_bernoulli(_probability(p), input.shape, input.dtype, generator, NOT_DIFFERENTIABLE, (input,))


def bernoulli_(self: Tensor, p=0.5, *, generator=None):
    """Fills `self` with draws of probability `p` (a number, or a tensor broadcast to `self`)."""
    if isinstance(p, Tensor):
        check_sources(self, p, broadcast=False)
        p.expand(self.shape)  # PyTorch's error where `p` does not broadcast to `self`
        probability = _probabilities(p)
    else:
        probability = _probability(p)
    return write_result(self, _record_bernoulli(probability, self.shape, self.dtype, generator, None))


# -- multinomial ----------------------------------------------------------------------------------


def _multinomial_fn(seed, counter, probabilities, *, samples, replacement):
    key = key_of(seed, counter)
    logits = jnp.log(probabilities)
    if replacement:
        return jax.random.categorical(key, logits[..., None, :], shape=(*logits.shape[:-1], samples)).astype(jnp.int64)
    # Without replacement: the `samples` largest of the logits plus Gumbel noise (Gumbel top-k).
    noisy = logits + jax.random.gumbel(key, logits.shape, logits.dtype)
    return jax.lax.top_k(noisy, samples)[1].astype(jnp.int64)


_MULTINOMIAL = Op("multinomial", _multinomial_fn)


def _check_distribution(input: Tensor, num_samples: int, replacement: bool) -> None:
    """PyTorch's checks of `multinomial`'s arguments, in its order (values last)."""
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {input.dtype.scalar_name}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > input.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    values = input._host()
    if not bool(np.all(np.isfinite(values) & (values >= 0))):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if bool(np.any(values.sum(axis=-1) <= 0)):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None):
    """`num_samples` category indices per row of (unnormalised) probabilities `input`."""
    _check_distribution(input, num_samples, replacement)
    seed, counter = next_draw(generator)
    shape = (*input.shape[:-1], int(num_samples))
    return record(_MULTINOMIAL, (seed, counter, input), shape, np.dtype(np.int64), None,
                  (("samples", int(num_samples)), ("replacement", bool(replacement))), differentiable=False)


FUNCTIONS = {"normal": normal, "bernoulli": bernoulli, "multinomial": multinomial}
METHODS = {"bernoulli": bernoulli, "multinomial": multinomial, "normal_": normal_, "uniform_": uniform_,
           "bernoulli_": bernoulli_}
