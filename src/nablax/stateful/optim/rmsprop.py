"""The optimizers of `torch.optim` that scale by accumulated squares of gradients:
`RMSprop`, `Adadelta` and `Adagrad`, with PyTorch's defaults, checks and update rules.

    >>> import nablax.stateful as torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> optimizer = torch.optim.Adagrad([w], lr=0.5)
    >>> optimizer.state[w]  # PyTorch's Adagrad makes its state at once
    {'step': tensor(0.), 'sum': tensor([0., 0.])}
    >>> (w * w).sum().backward()
    >>> optimizer.step()
    >>> w
    Parameter containing:
    tensor([ 0.5000, -1.5000], requires_grad=True)
"""

from __future__ import annotations

import optax

from ..engine import no_grad
from ..ops.creation import full_like, tensor
from .optimizer import Optimizer, check_fused, check_nonnegative, weight_decayed
from .rules import scale_by_torch_adagrad


class RMSprop(Optimizer):
    """RMSprop with PyTorch's defaults (alpha 0.99, eps outside the square root), centred
    and momentum variants."""

    _state_names = "RMSprop"
    _switch_keys = ("weight_decay", "centered", "momentum")
    _number_keys = ("alpha", "eps", "momentum", "weight_decay")

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False):
        check_nonnegative(("learning rate", lr), ("epsilon value", eps), ("momentum value", momentum),
                          ("weight_decay value", weight_decay), ("alpha value", alpha))
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    @staticmethod
    def _transform(switches, numbers):
        decay, centered, uses_momentum = switches
        alpha, eps, momentum, weight_decay = numbers
        scale = (optax.scale_by_stddev if centered else optax.scale_by_rms)(decay=alpha, eps=eps, eps_in_sqrt=False)
        if uses_momentum:
            scale = optax.chain(scale, optax.trace(decay=momentum))
        return weight_decayed(scale, weight_decay, decay)


class Adadelta(Optimizer):
    """Adadelta with PyTorch's defaults (lr 1.0, rho 0.9, eps 1e-6)."""

    _state_names = "Adadelta"
    _switch_keys = ("weight_decay",)
    _number_keys = ("rho", "eps", "weight_decay")

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach: bool | None = None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False):
        check_nonnegative(("learning rate", lr))
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_nonnegative(("epsilon value", eps), ("weight_decay value", weight_decay))
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    @staticmethod
    def _transform(switches, numbers):
        rho, eps, weight_decay = numbers
        return weight_decayed(optax.scale_by_adadelta(rho=rho, eps=eps), weight_decay, switches[0])


class Adagrad(Optimizer):
    """Adagrad with PyTorch's defaults, `lr_decay` and `initial_accumulator_value`; as in
    PyTorch, its state exists from the start."""

    _state_names = "Adagrad"
    _switch_keys = ("weight_decay",)
    _number_keys = ("lr_decay", "eps", "initial_accumulator_value", "weight_decay")

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None):
        check_nonnegative(("learning rate", lr), ("lr_decay value", lr_decay), ("weight_decay value", weight_decay),
                          ("initial_accumulator_value value", initial_accumulator_value), ("epsilon value", eps))
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        check_fused(fused, foreach, differentiable)
        with no_grad():
            for group in self.param_groups:
                for param in group["params"]:
                    self.state[param] = {"step": tensor(0.0),
                                         "sum": full_like(param, group["initial_accumulator_value"])}

    @staticmethod
    def _transform(switches, numbers):
        lr_decay, eps, initial_accumulator_value, weight_decay = numbers
        return weight_decayed(scale_by_torch_adagrad(lr_decay, eps, initial_accumulator_value), weight_decay, switches[0])
