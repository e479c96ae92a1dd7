"""The Adam family of `torch.optim`: `Adam` (and its AMSGrad variant), `AdamW`, `Adamax`,
`NAdam` and `RAdam`, with PyTorch's defaults, argument checks and update rules.

    >>> import nablax.stateful as torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -1.0]))
    >>> optimizer = torch.optim.NAdam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> optimizer.step()
    >>> optimizer.state_dict()["state"][0]["mu_product"]
    tensor(0.4501)
"""

from __future__ import annotations

import optax

from .optimizer import Optimizer, check_betas, check_fused, check_nonnegative, weight_decayed
from .rules import scale_by_torch_amsgrad, scale_by_torch_nadam, scale_by_torch_radam


def _check_adam_family(lr, betas, eps, weight_decay) -> None:
    check_nonnegative(("learning rate", lr), ("epsilon value", eps))
    check_betas(betas)
    check_nonnegative(("weight_decay value", weight_decay))


class Adam(Optimizer):
    """Adam with PyTorch's defaults; `weight_decay` adds L2 to the gradient unless
    `decoupled_weight_decay=True` (then it is AdamW)."""

    _state_names = "Adam"
    _switch_keys = ("weight_decay", "amsgrad", "decoupled_weight_decay")
    _number_keys = ("betas", "eps", "weight_decay")

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False):
        _check_adam_family(lr, betas, eps, weight_decay)
        if not all(isinstance(beta, float) for beta in betas):
            raise ValueError("betas must be either both floats or both Tensors")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))
        check_fused(fused, foreach, differentiable)

    @staticmethod
    def _transform(switches, numbers):
        decay, amsgrad, decoupled = switches
        b1, b2, eps, weight_decay = numbers
        scale = scale_by_torch_amsgrad(b1, b2, eps) if amsgrad else optax.scale_by_adam(b1=b1, b2=b2, eps=eps)
        return weight_decayed(scale, weight_decay, decay, decoupled)


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.01), as in PyTorch."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False, foreach: bool | None = None,
                 capturable: bool = False, differentiable: bool = False, fused: bool | None = None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused, decoupled_weight_decay=True)


class Adamax(Optimizer):
    """Adamax (Adam with the infinity norm), as in PyTorch."""

    _state_names = "Adamax"
    _switch_keys = ("weight_decay",)
    _number_keys = ("betas", "eps", "weight_decay")

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 foreach: bool | None = None, *, maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False):
        _check_adam_family(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    @staticmethod
    def _transform(switches, numbers):
        b1, b2, eps, weight_decay = numbers
        return weight_decayed(optax.scale_by_adamax(b1=b1, b2=b2, eps=eps), weight_decay, switches[0])


class NAdam(Optimizer):
    """NAdam with PyTorch's momentum schedule (`momentum_decay`), as in PyTorch."""

    _state_names = "NAdam"
    _switch_keys = ("weight_decay", "decoupled_weight_decay")
    _number_keys = ("betas", "eps", "momentum_decay", "weight_decay")

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False):
        _check_adam_family(lr, betas, eps, weight_decay)
        check_nonnegative(("momentum_decay value", momentum_decay))
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    @staticmethod
    def _transform(switches, numbers):
        b1, b2, eps, momentum_decay, weight_decay = numbers
        return weight_decayed(scale_by_torch_nadam(b1, b2, eps, momentum_decay), weight_decay, *switches)


class RAdam(Optimizer):
    """RAdam (rectified Adam), as in PyTorch."""

    _state_names = "RAdam"
    _switch_keys = ("weight_decay", "decoupled_weight_decay")
    _number_keys = ("betas", "eps", "weight_decay")

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False):
        _check_adam_family(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable))

    @staticmethod
    def _transform(switches, numbers):
        b1, b2, eps, weight_decay = numbers
        return weight_decayed(scale_by_torch_radam(b1, b2, eps), weight_decay, *switches)
