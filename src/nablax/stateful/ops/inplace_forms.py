"""In-place forms (`sin_`, `atan2_`, `clamp_min_`, `masked_fill_`, ...) of out-of-place ops:
PyTorch's checks (see inplace.py), then the out-of-place result written into the tensor."""

from __future__ import annotations

from ..tensor import Tensor
from . import arithmetic as A
from . import elementwise, pointwise, scans
from .common import named
from .inplace import check_sources, write_result


def in_place(function, name: str, *, broadcast: bool = True):
    """The in-place form `name` of `function(self, *args, **options)`: the tensors among
    `args` must not partly overlap `self` and (with `broadcast`) must broadcast to its shape."""

    def apply(self: Tensor, *args, **options):
        check_sources(self, *args, broadcast=broadcast)
        return write_result(self, function(self, *args, **options))

    return named(apply, name, f"`{function.__name__}`, in place.")


# The table functions PyTorch has no in-place form of (and `float_power_`, which refuses
# a tensor that is not float64 where this would cast).
_WITHOUT_IN_PLACE = {"positive", "signbit", "isnan", "isinf", "isposinf", "isneginf", "isfinite", "fmax", "fmin",
                     "logaddexp", "logaddexp2", "float_power", "maximum", "minimum"}

_COMPARISONS = {name: A.comparison(name) for name in ("eq", "ne", "lt", "le", "gt", "ge")}
_SCANS = {name: scans.FUNCTIONS[name] for name in ("cumsum", "cumprod")}

METHODS = {f"{name}_": in_place(function, f"{name}_")
           for name, function in {**elementwise.FUNCTIONS, **pointwise.METHODS, **_COMPARISONS, **_SCANS}.items()
           if name not in _WITHOUT_IN_PLACE}
