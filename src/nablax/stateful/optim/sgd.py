"""`torch.optim.SGD`: stochastic gradient descent with PyTorch's momentum, dampening,
Nesterov momentum, (coupled) weight decay and `maximize`.

    >>> import nablax.stateful as torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> optimizer = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     optimizer.zero_grad()
    ...     (w * w).sum().backward()
    ...     optimizer.step()
    >>> optimizer.state[w]["momentum_buffer"]
    tensor([3.4000])
"""

from __future__ import annotations

import optax

from .optimizer import Optimizer, check_fused, check_nonnegative, weight_decayed
from .rules import dampened_momentum


class SGD(Optimizer):
    """Stochastic gradient descent, as `torch.optim.SGD` computes it."""

    _state_names = "SGD"
    _switch_keys = ("weight_decay", "momentum", "dampening", "nesterov")
    _number_keys = ("momentum", "dampening", "weight_decay")

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0, weight_decay: float = 0,
                 nesterov: bool = False, *, maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None):
        check_nonnegative(("learning rate", lr), ("momentum value", momentum), ("weight_decay value", weight_decay))
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))
        check_fused(fused, foreach, differentiable)

    @staticmethod
    def _transform(switches, numbers):
        decay, uses_momentum, dampened, nesterov = switches
        momentum, dampening, weight_decay = numbers
        if not uses_momentum:
            scale = optax.identity()
        elif dampened:
            scale = dampened_momentum(momentum, dampening, nesterov)
        else:  # optax's trace is PyTorch's buffer when there is no dampening
            scale = optax.trace(decay=momentum, nesterov=nesterov)
        return weight_decayed(scale, weight_decay, decay)
