"""`torch.optim` over optax: each optimizer holds one optax transform per parameter group
and its state, and `step()` records a single update op over all parameters, run by JAX
in the same compiled program as the next forward and backward pass.

The transforms are optax's, composed to compute exactly PyTorch's update rules; the
learning rate stays outside them, so `param_groups[0]["lr"] = x` takes effect at once
without recompiling.
"""

from __future__ import annotations

import collections
import functools
import warnings
import weakref
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from . import engine
from .autograd.backward import zero_grads
from .engine import Op, enable_grad, no_grad
from .recording import record_expr
from .tensor import Tensor

_REQUIRED = object()


class _DampenedMomentumState(NamedTuple):
    buffer: Any
    started: Any


def dampened_momentum(momentum: float, dampening: float, nesterov: bool = False) -> optax.GradientTransformation:
    """PyTorch's SGD momentum with dampening, an optax transform: the first step's buffer is
    the gradient itself, later ones `momentum * buffer + (1 - dampening) * gradient`."""

    def init(params):
        return _DampenedMomentumState(jax.tree_util.tree_map(jnp.zeros_like, params), jnp.zeros((), jnp.bool_))

    def update(updates, state, params=None):
        buffer = jax.tree_util.tree_map(
            lambda g, b: jnp.where(state.started, momentum * b + (1 - dampening) * g, g), updates, state.buffer)
        direction = jax.tree_util.tree_map(lambda g, b: g + momentum * b, updates, buffer) if nesterov else buffer
        return direction, _DampenedMomentumState(buffer, jnp.ones((), jnp.bool_))

    return optax.GradientTransformation(init, update)


@functools.lru_cache(maxsize=1024)
def _cached_structure(transform, shape, dtype):
    """The treedef and leaf shapes/dtypes of `transform`'s state for one parameter."""
    state = jax.eval_shape(transform.init, jax.ShapeDtypeStruct(shape, dtype))
    leaves, treedef = jax.tree_util.tree_flatten(state)
    return treedef, tuple((leaf.shape, leaf.dtype) for leaf in leaves)


def _update_fn(*flat, layout, transforms, maximize):
    """One update over every parameter: flat = params, grads, one lr per group, then the
    state leaves of the parameters that have state. Returns new params then new states."""
    count = len(layout)
    params, grads = flat[:count], flat[count : 2 * count]
    lrs = flat[2 * count : 2 * count + len(transforms)]
    rest = list(flat[2 * count + len(transforms) :])
    new_params, new_states = [], []
    for (group, treedef, leaf_count), param, grad in zip(layout, params, grads):
        transform = transforms[group]
        grad = -grad if maximize else grad
        if treedef is None:
            state = transform.init(param)
        else:
            state = jax.tree_util.tree_unflatten(treedef, rest[:leaf_count])
            del rest[:leaf_count]
        direction, state = transform.update(grad.astype(param.dtype), state, param)
        new_params.append(param - (lrs[group] * direction).astype(param.dtype))
        new_states.extend(jax.tree_util.tree_leaves(state))
    return (*new_params, *new_states)


UPDATE = Op("optimizer_step", _update_fn)


class Optimizer:
    """Base of the optimizers: parameter groups, `zero_grad`, `step`, state dicts."""

    def __init__(self, params, defaults: dict):
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                f"{params.type()}"
            )
        self.defaults = defaults
        self.param_groups: list[dict] = []
        self.state: dict = collections.defaultdict(dict)
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)
        self._transforms: dict = {}

    def add_param_group(self, group: dict) -> None:
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for param in group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(param).__name__}")
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        if len({id(p) for p in group["params"]}) != len(group["params"]):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will cause an "
                          "error; see github.com/pytorch/pytorch/issues/40967 for more information", stacklevel=3)
        for name, default in self.defaults.items():
            if default is _REQUIRED and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clears every parameter's `.grad` (to None by default, as in PyTorch)."""
        zero_grads((param for group in self.param_groups for param in group["params"]), set_to_none)

    def _transform(self, group: dict) -> optax.GradientTransformation:
        """The group's transform, rebuilt only when its hyperparameters change."""
        # Every option but the learning rate, which stays outside the transform (cheap: each step asks).
        options = tuple([group.get(name) for name in self.defaults if name != "lr"])
        transform = self._transforms.get(options)
        if transform is None:
            transform = self._transforms[options] = self._make_transform(group)
        return transform

    def _make_transform(self, group: dict) -> optax.GradientTransformation:
        raise NotImplementedError

    def step(self, closure=None):
        """Updates every parameter that has a gradient, in one recorded op."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        params, values, grads, layout, states, state_owners, transforms, lrs = [], [], [], [], [], [], [], []
        for group_index, group in enumerate(self.param_groups):
            transform = self._transform(group)
            transforms.append(transform)
            lrs.append(float(group["lr"]))
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                value = engine.strip(param._current_expr())
                treedef, leaf_specs = _cached_structure(transform, value.shape, value.dtype)
                held = self.state[param].get("optax")
                if held is not None:
                    held_exprs = [engine.strip(t._current_expr()) for t in held]
                    if [(e.shape, e.dtype) for e in held_exprs] != list(leaf_specs):
                        # A hyperparameter change gave the group a transform whose state looks different
                        # (momentum turned on, say): it starts afresh, as PyTorch starts a new buffer.
                        held = None
                    else:
                        states.extend(held_exprs)
                layout.append((group_index, None if held is None else treedef, len(leaf_specs)))
                params.append(param)
                values.append(value)
                grads.append(engine.strip(grad._current_expr()))
                state_owners.append((param, leaf_specs))
        if not params:
            return loss
        operands = values + grads + lrs + states
        shapes = [value.shape for value in values] + [spec[0] for _, specs in state_owners for spec in specs]
        static = (("layout", tuple(layout)), ("transforms", tuple(transforms)), ("maximize", bool(self.defaults.get("maximize", False))))
        with no_grad():
            update, device = record_expr(UPDATE, operands, tuple(shapes), None, None, static)
            # The program that first needs the new parameters (the next backward, usually)
            # computes this update. An owner makes it keep the result: the new state is read
            # only by the step after, and without it each step would recompute (and
            # recompile) the whole chain of updates before it.
            update.owner = weakref.ref(self)
            outputs = [engine.Expr(engine.SELECT, (("index", i),), (update,), (False,), shape, None, False) for i, shape in enumerate(shapes)]
            for param, value, new_value in zip(params, values, outputs):
                new_value.dtype = value.dtype
                param._write(new_value)
            cursor = len(params)
            for param, specs in state_owners:
                held = []
                for shape, dtype in specs:
                    outputs[cursor].dtype = dtype
                    held.append(Tensor._from_expr(outputs[cursor], device))
                    cursor += 1
                self.state[param]["optax"] = held
        return loss

    def state_dict(self) -> dict:
        """`{"state": {index: {...}}, "param_groups": [...]}` with parameters numbered, as in PyTorch."""
        index_of, groups = {}, []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index_of.setdefault(id(p), len(index_of)) for p in group["params"]]
            groups.append(packed)
        state = {index_of[id(p)]: {k: (list(v) if k == "optax" else v) for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index_of}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        params = [p for g in self.param_groups for p in g["params"]]
        for group, saved in zip(self.param_groups, groups):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group")
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = collections.defaultdict(dict)
        for index, entry in state_dict["state"].items():
            self.state[params[int(index)]] = dict(entry)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for index, group in enumerate(self.param_groups):
            lines.extend([""] if index else [])  # PyTorch separates the groups by a blank line
            lines.append(f"Parameter Group {index}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"


def _check(name: str, value: float, low: float = 0.0) -> None:
    if not value >= low:
        raise ValueError(f"Invalid {name}: {value}")


class SGD(Optimizer):
    """Stochastic gradient descent with PyTorch's momentum, dampening, Nesterov and
    (coupled) weight decay."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0, weight_decay: float = 0,
                 nesterov: bool = False, *, maximize: bool = False):
        _check("learning rate", lr)
        _check("momentum value", momentum)
        _check("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def _make_transform(self, group):
        steps = []
        if group["weight_decay"]:
            steps.append(optax.add_decayed_weights(group["weight_decay"]))
        if group["momentum"]:
            if group["dampening"]:
                steps.append(dampened_momentum(group["momentum"], group["dampening"], group["nesterov"]))
            else:  # optax's trace is PyTorch's buffer when there is no dampening
                steps.append(optax.trace(decay=group["momentum"], nesterov=group["nesterov"]))
        return optax.chain(*steps) if steps else optax.identity()


class Adam(Optimizer):
    """Adam with PyTorch's defaults; `weight_decay` adds L2 to the gradient, as in PyTorch."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, maximize: bool = False):
        _check("learning rate", lr)
        _check("epsilon value", eps)
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if amsgrad:
            raise NotImplementedError("amsgrad=True is not supported by nablax.stateful.optim.Adam")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _make_transform(self, group):
        adam = optax.scale_by_adam(b1=group["betas"][0], b2=group["betas"][1], eps=group["eps"])
        if group["weight_decay"]:
            return optax.chain(optax.add_decayed_weights(group["weight_decay"]), adam)
        return adam


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.01), as in PyTorch."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)

    def _make_transform(self, group):
        adam = optax.scale_by_adam(b1=group["betas"][0], b2=group["betas"][1], eps=group["eps"])
        return optax.chain(adam, optax.add_decayed_weights(group["weight_decay"]))


class RMSprop(Optimizer):
    """RMSprop with PyTorch's defaults (alpha 0.99, eps outside the square root), centred
    and momentum variants."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, *, maximize: bool = False):
        _check("learning rate", lr)
        _check("epsilon value", eps)
        _check("momentum value", momentum)
        _check("weight_decay value", weight_decay)
        _check("alpha value", alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def _make_transform(self, group):
        steps = [optax.add_decayed_weights(group["weight_decay"])] if group["weight_decay"] else []
        scale = optax.scale_by_stddev if group["centered"] else optax.scale_by_rms
        steps.append(scale(decay=group["alpha"], eps=group["eps"], eps_in_sqrt=False))
        if group["momentum"]:
            steps.append(optax.trace(decay=group["momentum"]))
        return optax.chain(*steps)
