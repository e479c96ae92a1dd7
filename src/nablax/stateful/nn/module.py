"""`nn.Module`: a container of parameters, buffers and submodules, with PyTorch's API."""

from __future__ import annotations

import collections
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from ...state_dict import state_dict as flatten_names
from .. import dtypes
from ..autograd.backward import zero_grads
from ..engine import no_grad
from ..func import to_functional
from ..ops.creation import tensor as make_tensor
from ..tensor import Tensor
from .._summary import module_summary
from .parameter import Parameter


class _IncompatibleKeys(NamedTuple):
    missing_keys: list
    unexpected_keys: list

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"


def _typename(value: Any) -> str:
    """`torch.typename`, which PyTorch's messages use: `torch.FloatTensor` for a tensor, the
    qualified class name otherwise (bare for builtins: `int`)."""
    if isinstance(value, Tensor):
        return value.type()
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    return lines[0] if len(lines) == 1 else lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """Base of every layer and model. Subclass it, create layers in `__init__` (after
    `super().__init__()`), and compute the output in `forward`.

        >>> import nablax.stateful as torch
        >>> class Regression(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.lin = torch.nn.Linear(1, 1)
        ...     def forward(self, x):
        ...         return self.lin(x)
        >>> [name for name, _ in Regression().named_parameters()]
        ['lin.weight', 'lin.bias']
    """

    training: bool

    def __init__(self, *args, **kwargs):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- attributes ---------------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep=params)
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' (torch.nn.Module or None expected)")
            self._modules[name] = None
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(torch.nn.Buffer, torch.Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: dict) -> None:
        """Drops `name` from the instance and from every table but `keep`, the one about to
        hold it: there a replaced entry keeps its place, so names keep PyTorch's order."""
        self.__dict__.pop(name, None)
        for table in (self._parameters, self._buffers, self._modules):
            if table is not keep:
                table.pop(name, None)
        if keep is not self._buffers:
            self._non_persistent_buffers.discard(name)

    def __getattr__(self, name: str) -> Any:
        for table in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' (torch.nn.Parameter or None required)")
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        module = self
        for part in filter(None, target.split(".")):
            if part not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no attribute `{part}`")
            module = module._modules[part]
        return module

    # -- walking the tree -----------------------------------------------------------------------

    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        memo = set() if memo is None else memo
        if remove_duplicate and id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def __nablax_summary__(self, *inputs) -> Any:
        """`nablax.summary(module, x)`: each layer's output shape and parameter count."""
        return module_summary(self, *inputs)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, table: str, prefix: str, recurse: bool, remove_duplicate: bool = True):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # -- modes and gradients -------------------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clears the `.grad` of every parameter (sets it to None, as PyTorch does by default)."""
        zero_grads(self.parameters(), set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

    def apply(self, fn) -> Module:
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- devices and dtypes -------------------------------------------------------------------------

    def _convert(self, convert) -> Module:
        for module in self.modules():
            for table in (module._parameters, module._buffers):
                for name, value in table.items():
                    if value is not None:
                        converted = convert(value)
                        if converted is not value:
                            value.data = converted
                            if value.grad is not None:
                                value.grad = convert(value.grad)
        return self

    def to(self, *args, **kwargs) -> Module:
        def convert(tensor):
            moved = tensor.to(*args, **kwargs)
            if moved.dtype is not tensor.dtype and not tensor.dtype.is_floating_point:
                return tensor.to(device=moved.device)  # dtype changes apply to floating tensors only
            return moved

        return self._convert(convert)

    def cuda(self, device=None) -> Module:
        return self._convert(lambda tensor: tensor.cuda(device))

    def cpu(self) -> Module:
        return self._convert(lambda tensor: tensor.cpu())

    def _floating(self, dtype) -> Module:
        return self._convert(lambda tensor: tensor.to(dtype) if tensor.dtype.is_floating_point else tensor)

    def float(self) -> Module:
        return self._floating(dtypes.float32)

    def double(self) -> Module:
        return self._floating(dtypes.float64)

    def half(self) -> Module:
        return self._floating(dtypes.float16)

    # -- state -------------------------------------------------------------------------------------

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """Parameters and persistent buffers by dotted name, as detached tensors."""
        destination = collections.OrderedDict() if destination is None else destination
        for module_prefix, module in self.named_modules(prefix=prefix.rstrip(".")):
            for table, skip in ((module._parameters, ()), (module._buffers, module._non_persistent_buffers)):
                for name, value in table.items():
                    if value is not None and name not in skip:
                        key = f"{module_prefix}.{name}" if module_prefix else name
                        destination[key] = value if keep_vars else value.detach()
        return destination

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> _IncompatibleKeys:
        """Copies values into the parameters and buffers of the same names. Takes a PyTorch
        or nablax state dict, or a functional params pytree (nested dicts of arrays)."""
        if any(isinstance(v, Mapping) for v in state_dict.values()):
            state_dict = flatten_names(state_dict)
        own = self.state_dict(keep_vars=True)
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        errors = _loading_errors(own, state_dict)
        if strict:
            quoted = lambda names: ", ".join(f'"{name}"' for name in names)
            if unexpected:
                errors.insert(0, f"Unexpected key(s) in state_dict: {quoted(unexpected)}. ")
            if missing:
                errors.insert(0, f"Missing key(s) in state_dict: {quoted(missing)}. ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        with no_grad():
            for name, target in own.items():
                if name in state_dict:
                    value = state_dict[name]
                    source = value if isinstance(value, Tensor) else make_tensor(np.asarray(_host_array(value)), dtype=target.dtype)
                    target.copy_(source)
        return _IncompatibleKeys(missing, unexpected)

    # -- the functional twin -----------------------------------------------------------------------

    def to_functional(self):
        """`(apply_fn, params)`: a pure function `apply_fn(params, *args)` computing this
        module's forward pass with JAX arrays, and its parameters as a nested dict of JAX
        arrays with PyTorch's names (`{"lin": {"weight": ...}}`)."""
        return to_functional(self)

    # -- printing -------------------------------------------------------------------------------------

    def extra_repr(self) -> str:
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(module), 2))
        if not lines:
            return f"{self._get_name()}()"
        if len(lines) == 1 and not self._modules:
            return f"{self._get_name()}({lines[0]})"
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"


def _loading_errors(own: dict, state_dict: Mapping[str, Any]) -> list[str]:
    """PyTorch's complaints about values that are not tensors or have the wrong shape."""
    errors = []
    for name, target in own.items():
        if name not in state_dict:
            continue
        if not hasattr(state_dict[name], "shape"):  # a list or a number: torch refuses them too
            errors.append(f'While copying the parameter named "{name}", expected torch.Tensor or Tensor-like object '
                          f"from checkpoint but received {type(state_dict[name])}")
            continue
        shape = tuple(np.shape(state_dict[name]))
        if shape != tuple(target.shape):
            errors.append(f"size mismatch for {name}: copying a param with shape torch.Size([{', '.join(map(str, shape))}]) "
                          f"from checkpoint, the shape in current model is {target.shape!r}.")
    return errors


def _host_array(value):
    if hasattr(value, "detach"):  # a torch.Tensor from PyTorch itself
        return value.detach().cpu().numpy()
    return value
