"""`torch.special`: the special functions (error functions, gamma functions, Bessel
functions, orthogonal polynomials), and PyTorch's other names here for ops of `torch.*`.
All take `out=`.

    >>> import nablax.stateful as torch
    >>> torch.special.expit(torch.tensor([0.0]))
    tensor([0.5000])
    >>> torch.special.chebyshev_polynomial_t(torch.tensor([0.5]), 2)
    tensor([-0.5000])
"""

from .ops import bessel as _bessel
from .ops import elementwise as _elementwise
from .ops import pointwise as _pointwise
from .ops import polynomials as _polynomials
from .ops import reductions as _reductions
from .ops import special_functions as _special
from .ops.outputs import with_out as _with_out

# `torch.special.<name>` -> the op it names.
_OPS = {
    **{name.removeprefix("special_"): function for name, function in _special.FUNCTIONS.items()
       if name.startswith("special_")},
    **_bessel.FUNCTIONS, **_polynomials.FUNCTIONS,
    "expit": _elementwise.sigmoid, "logit": _elementwise.logit, "exp2": _elementwise.FUNCTIONS["exp2"],
    "expm1": _elementwise.FUNCTIONS["expm1"], "log1p": _elementwise.FUNCTIONS["log1p"],
    "erf": _elementwise.FUNCTIONS["erf"], "erfc": _elementwise.FUNCTIONS["erfc"],
    "erfinv": _elementwise.FUNCTIONS["erfinv"], "sinc": _elementwise.FUNCTIONS["sinc"],
    "round": _elementwise.round, "i0": _elementwise.FUNCTIONS["i0"], "digamma": _elementwise.FUNCTIONS["digamma"],
    "psi": _elementwise.FUNCTIONS["digamma"], "gammaln": _elementwise.FUNCTIONS["lgamma"],
    "xlogy": _pointwise.FUNCTIONS["xlogy"], "gammainc": _special.FUNCTIONS["igamma"],
    "gammaincc": _special.FUNCTIONS["igammac"], "polygamma": _special.polygamma,
    "multigammaln": _special.mvlgamma, "softmax": _reductions.softmax, "log_softmax": _reductions.log_softmax,
    "logsumexp": _reductions.logsumexp,
}
# PyTorch's special.softmax and special.log_softmax take no out=.
_WITHOUT_OUT = {"softmax", "log_softmax"}
globals().update({name: op if name in _WITHOUT_OUT else _with_out(op) for name, op in _OPS.items()})
