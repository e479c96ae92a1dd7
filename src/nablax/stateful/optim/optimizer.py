"""`torch.optim.Optimizer` over optax: parameter groups, `zero_grad`, state dicts laid out
as PyTorch's, and a `step()` that records a single update op over all parameters, run by
JAX in the same compiled program as the next forward and backward pass.

Each optimizer composes optax transforms to compute exactly PyTorch's update rule. The
learning rate and every other number of a group (betas, momentum, weight decay, ...) are
arguments of the compiled update, not constants in it, so a scheduler that changes them
each step never recompiles; only the options that change the program's shape (momentum
on or off, `amsgrad`, `nesterov`, ...) are part of it.

    >>> import nablax.stateful as torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    >>> optimizer = torch.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> optimizer.step()
    >>> w
    Parameter containing:
    tensor([0.9000, 1.9000], requires_grad=True)
    >>> sorted(optimizer.state[w])
    ['exp_avg', 'exp_avg_sq', 'step']
"""

from __future__ import annotations

import collections
import copy
import functools
import warnings
import weakref
from typing import NamedTuple

import jax
import numpy as np
import optax

from .. import dtypes, engine
from ..autograd.backward import zero_grads
from ..engine import Op, enable_grad, no_grad
from ..ops.creation import as_tensor
from ..recording import output, record_expr
from ..tensor import Tensor
from .layout import STEP_DTYPE, named_state

required = object()  # a default that each parameter group must give (PyTorch's `required`)


class Rule(NamedTuple):
    """How an optimizer updates one group: its class and the options that shape the program.
    Called with the group's numbers (traced), it builds the group's transform."""

    optimizer: type
    switches: tuple

    def __call__(self, numbers) -> optax.GradientTransformation:
        return named_state(self.optimizer._transform(self.switches, numbers), self.optimizer._state_names)


@functools.lru_cache(maxsize=1024)
def _state_structure(rule: Rule, number_count: int, shape, dtype):
    """The treedef, PyTorch names and leaf shapes/dtypes of `rule`'s state for one parameter
    after a step (the state a step takes, once there is one)."""

    def stepped(param, *numbers):
        transform = rule(numbers)
        return transform.update(param, transform.init(param), param)[1]

    numbers = [jax.ShapeDtypeStruct((), float, weak_type=True)] * number_count  # as Python numbers are
    state = jax.eval_shape(stepped, jax.ShapeDtypeStruct(shape, dtype), *numbers)
    leaves, treedef = jax.tree_util.tree_flatten(state)
    return treedef, state.names, tuple((leaf.shape, leaf.dtype) for leaf in leaves)


def _update_fn(*flat, layout, transforms, maximize):
    """One update over every parameter: flat = params, grads, each group's numbers (its lr
    first), then the state leaves of the parameters that have state. `transforms` holds each
    group's rule and, for each of its numbers, whether it was passed (else it is a zero
    that switches its part of the rule off; see `Optimizer._numbers`). Returns new params
    then new states."""
    count = len(layout)
    params, grads = flat[:count], flat[count : 2 * count]
    cursor, numbers = 2 * count, []
    for _, passed in transforms:
        given = iter(flat[cursor : cursor + sum(passed)])
        cursor += sum(passed)
        numbers.append([next(given) if is_passed else 0.0 for is_passed in passed])
    rest = list(flat[cursor:])
    new_params, new_states = [], []
    for (group, treedef, leaf_count), param, grad in zip(layout, params, grads):
        lr, *group_numbers = numbers[group]
        transform = transforms[group][0](group_numbers)
        grad = -grad if maximize[group] else grad
        if treedef is None:
            state = transform.init(param)
        else:
            state = jax.tree_util.tree_unflatten(treedef, rest[:leaf_count])
            del rest[:leaf_count]
        direction, state = transform.update(grad.astype(param.dtype), state, param)
        new_params.append(param - (lr * direction).astype(param.dtype))
        new_states.extend(jax.tree_util.tree_leaves(state))
    return (*new_params, *new_states)


UPDATE = Op("optimizer_step", _update_fn)


def record_update(optimizer, params, values, grads, layout, states, state_specs, transforms, numbers, maximize):
    """Records the update op: writes each parameter's new value, and returns the exprs of
    each parameter's new state leaves, whose (shape, dtype)s `state_specs` lists."""
    operands = values + grads + numbers + states
    shapes = [value.shape for value in values] + [spec[0] for specs in state_specs for spec in specs]
    static = (("layout", tuple(layout)), ("transforms", tuple(transforms)), ("maximize", tuple(maximize)))
    with no_grad():
        update, device = record_expr(UPDATE, operands, tuple(shapes), None, None, static)
        # The program that first needs the new parameters (the next backward, usually)
        # computes this update. An owner makes it keep the result: the new state is read
        # only by the step after, and without it each step would recompute (and
        # recompile) the whole chain of updates before it.
        update.owner = weakref.ref(optimizer)
        outputs = [output(update, i, shape, None, False, None) for i, shape in enumerate(shapes)]
        for param, value, new_value in zip(params, values, outputs):
            new_value.dtype = value.dtype
            param._write(new_value)
        cursor, new_states = len(params), []
        for specs in state_specs:
            held = []
            for shape, dtype in specs:
                outputs[cursor].dtype = dtype
                held.append(outputs[cursor])
                cursor += 1
            new_states.append(held)
    return new_states, device


class Optimizer:
    """Base of the optimizers: parameter groups, `zero_grad`, `step`, state dicts.

    A subclass gives `_state_names` (its row in `layout.STATE_NAMES`), the group keys whose
    truth shapes the update program (`_switch_keys`: momentum on or off, `amsgrad`, ...) and
    those it reads as numbers each step besides the lr (`_number_keys`; `betas` gives two),
    and `_transform(switches, numbers)`: the optax transform of PyTorch's rule without the lr.
    """

    _state_names: str
    _switch_keys: tuple = ()
    _number_keys: tuple = ()

    def __init__(self, params, defaults: dict):
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                f"{params.type()}"
            )
        self.defaults = defaults
        self.state: dict = collections.defaultdict(dict)
        self.param_groups: list[dict] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Adds a group of parameters, with options of its own, to `param_groups`."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        _take_params(param_group)
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        if len({id(p) for p in param_group["params"]}) != len(param_group["params"]):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will cause an "
                          "error; see github.com/pytorch/pytorch/issues/40967 for more information", stacklevel=3)
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                kind = "with names" if "param_names" in param_group else "without names"
                raise ValueError(f"all optimizer param groups should be with/without names. cannot add param group {kind} "
                                 "to the optimizer")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clears every parameter's `.grad` (to None by default, as in PyTorch)."""
        zero_grads((param for group in self.param_groups for param in group["params"]), set_to_none)

    def _held_state(self, param, names: tuple, specs: tuple):
        """`param`'s state tensors under `names` and their exprs, or None to start afresh (no
        state yet, or state of another shape: a group option changed, as when momentum is
        turned on)."""
        state = self.state.get(param)
        if not state:
            return None
        tensors, exprs = [], []
        for name, spec in zip(names, specs):
            tensor = state.get(name)
            if not isinstance(tensor, Tensor):
                return None
            expr = engine.strip(tensor._current_expr())
            if (expr.shape, expr.dtype) != spec:
                return None
            tensors.append(tensor)
            exprs.append(expr)
        return tensors, exprs

    def _keep_state(self, param, names: tuple, held, exprs: list, device) -> None:
        """Makes `exprs` the values of `param`'s state: written into the `held` tensors (as
        PyTorch updates its state in place), or into new ones where the state starts."""
        if held is not None:
            for tensor, expr in zip(held, exprs):
                tensor._write(expr)
        else:
            state = self.state[param]
            for name, expr in zip(names, exprs):
                state[name] = Tensor._from_expr(expr, device)

    def step(self, closure=None):
        """Updates every parameter that has a gradient, in one recorded op."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        params, values, grads, layout, states, state_owners, transforms, numbers, maximize = [], [], [], [], [], [], [], [], []
        for group_index, group in enumerate(self.param_groups):
            rule = Rule(type(self), self._switches(group))
            group_numbers = (float(group["lr"]), *self._numbers(group))
            transforms.append((rule, tuple([number is not None for number in group_numbers])))
            numbers.extend([number for number in group_numbers if number is not None])
            maximize.append(bool(group.get("maximize", False)))
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                value = engine.strip(param._current_expr())
                treedef, names, leaf_specs = _state_structure(rule, len(group_numbers) - 1, value.shape, value.dtype)
                held = self._held_state(param, names, leaf_specs) if names else None  # (plain SGD keeps no state)
                if held is not None:
                    states.extend(held[1])
                layout.append((group_index, None if held is None else treedef, len(leaf_specs)))
                params.append(param)
                values.append(value)
                grads.append(engine.strip(grad._current_expr()))
                state_owners.append((param, names, leaf_specs, None if held is None else held[0]))
        if not params:
            return loss
        state_specs = [specs for _, _, specs, _ in state_owners]
        new_states, device = record_update(self, params, values, grads, layout, states, state_specs, transforms, numbers,
                                           maximize)
        for (param, names, _, held), exprs in zip(state_owners, new_states):
            if names:
                self._keep_state(param, names, held, exprs, device)
        return loss

    def state_dict(self) -> dict:
        """`{"state": {index: {...}}, "param_groups": [...]}` with parameters numbered, as in
        PyTorch; each state holds PyTorch's entries (`step`, `exp_avg`, ...)."""
        index_of, groups = {}, []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            start = len(index_of)
            for offset, param in enumerate(group["params"]):
                index_of.setdefault(id(param), start + offset)
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index_of[id(p)]: s for p, s in self.state.items() if id(p) in index_of}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Loads a state dict of this optimizer's, or of PyTorch's same optimizer (with its
        tensors turned into nablax tensors or NumPy arrays). State tensors are copied and cast
        to their parameter's dtype (`step` to float32), as PyTorch casts them."""
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(self.param_groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group")
        id_map = {saved: param for s, g in zip(saved_groups, self.param_groups) for saved, param in zip(s["params"], g["params"])}
        self.state = collections.defaultdict(dict)
        for key, entry in state_dict["state"].items():
            if "optax" in entry:  # (no silent fresh start from a checkpoint of that layout)
                raise ValueError("this optimizer state was saved in nablax's earlier layout (optax's leaves under "
                                 "'optax'), which PyTorch's layout replaced; load the model's weights and start the "
                                 "optimizer afresh")
            param = id_map.get(key)
            if param is None:
                self.state[key] = entry
            else:
                self.state[param] = {name: _cast_state(param, name, value) for name, value in entry.items()}
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.param_groups[:] = saved_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for index, group in enumerate(self.param_groups):
            lines.extend([""] if index else [])  # PyTorch separates the groups by a blank line
            lines.append(f"Parameter Group {index}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"

    def _switches(self, group: dict) -> tuple:
        return tuple([bool(group[key]) for key in self._switch_keys])

    def _numbers(self, group: dict) -> tuple:
        """The group's numbers for the update program, in `_number_keys` order. A number that
        is also a switch and is zero (SGD's momentum, dampening and weight decay, as a plain
        SGD has them) is None: the rule leaves its part out, so it is no program argument."""
        numbers = []
        for key in self._number_keys:
            value = group[key]
            if isinstance(value, (tuple, list)):
                numbers.extend(map(float, value))
            else:
                numbers.append(None if key in self._switch_keys and not value else float(value))
        return tuple(numbers)

    @staticmethod
    def _transform(switches: tuple, numbers) -> optax.GradientTransformation:
        raise NotImplementedError


def _take_params(param_group: dict) -> None:
    """Sets the group's `params` to a list of leaf tensors (and `param_names`, where they came
    from `named_parameters()`), with PyTorch's errors for anything else."""
    params = param_group["params"]
    if isinstance(params, set):
        raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                        "tensors in sets will change between runs. Please use a list instead.")
    params = [params] if isinstance(params, Tensor) else list(params)
    names = [param[0] for param in params if isinstance(param, tuple)]
    param_group["params"] = [param[1] if isinstance(param, tuple) else param for param in params]
    if names:
        if len(names) != len(params):
            raise ValueError("all optimizer params should be with/without names. Some param names are missing")
        param_group["param_names"] = names
    for param in param_group["params"]:
        if not isinstance(param, Tensor):
            raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(param).__name__}")
        if not param.is_leaf:
            raise ValueError("can't optimize a non-leaf Tensor")


def _cast_state(param, name: str, value):
    """A copy of a loaded state entry: tensors (or arrays) in the parameter's dtype, `step`
    as PyTorch's float32 0-d tensor."""
    if isinstance(value, np.ndarray) or (name == "step" and isinstance(value, (int, float))):
        value = as_tensor(np.asarray(value))
    if not isinstance(value, Tensor):
        return value
    value = value.detach()
    if name == "step":
        return value.to(dtype=dtypes.from_numpy(np.dtype(STEP_DTYPE))).clone()
    return value.to(dtype=param.dtype).clone() if param.is_floating_point() else value.clone()


def check_nonnegative(*checks) -> None:
    """PyTorch's `Invalid {what}: {value}` for each `(what, value)` that is not >= 0."""
    for what, value in checks:
        if not 0.0 <= value:
            raise ValueError(f"Invalid {what}: {value}")


def check_betas(betas) -> None:
    for index, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {index}: {beta}")


def check_fused(fused, foreach, differentiable) -> None:
    if fused and differentiable:
        raise RuntimeError("`fused` does not support `differentiable`")
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def weight_decayed(scale: optax.GradientTransformation, weight_decay, decay: bool, decoupled: bool = False):
    """`scale` with PyTorch's weight decay: added to the gradient before it (L2), or to the
    update after it (decoupled: PyTorch's `param *= 1 - lr * weight_decay`)."""
    if not decay:
        return scale
    decayed = optax.add_decayed_weights(weight_decay)
    return optax.chain(scale, decayed) if decoupled else optax.chain(decayed, scale)

