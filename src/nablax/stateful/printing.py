"""PyTorch's tensor printing, reimplemented on NumPy.

`format_tensor` returns, character for character, what `repr(tensor)` (and
`str(tensor)`, which is the same) prints in PyTorch 2.13 for a dense tensor with
the given values and attributes, so the PyTorch-style `Tensor` can print like
the tensors in every PyTorch tutorial. `set_printoptions` mirrors
`torch.set_printoptions`.

The rules, in the order PyTorch applies them:

* Summarization: a tensor with more than `threshold` elements shows only the
  first and last `edgeitems` entries along every dimension, with `...` between.
* One formatter per tensor, measured on the *shown* elements only, decides the
  mode and a common width:
  - integers and bools print with `str` (`True`, `-3`), right-aligned;
  - floats whose nonzero finite values are all whole numbers print as `1.`;
  - floats switch to scientific notation (`1.0000e-05`) when the largest
    nonzero finite magnitude is over 1000 times the smallest, over 1e8, or the
    smallest is under 1e-4 (unless `sci_mode` forces it on or off);
  - otherwise floats print with `precision` decimals (`0.5000`).
  Zeros, infinities and NaN never take part in choosing the mode or the width.
* Vectors wrap to fit `linewidth`; nested dimensions are indented one column
  per level and separated by `ndim - 1` newlines.
* Suffixes (`device=`, `size=`, `dtype=`, `grad_fn=`/`requires_grad=`) follow
  the closing bracket, each moved to its own line when it would not fit.

    >>> import numpy as np
    >>> format_tensor(np.array([1.0, 0.5], np.float32), dtype_name="torch.float32")
    'tensor([1.0000, 0.5000])'
    >>> format_tensor(np.array([1e-5, 1.0]), dtype_name="torch.float64", requires_grad=True)
    'tensor([1.0000e-05, 1.0000e+00], dtype=torch.float64, requires_grad=True)'
    >>> format_tensor(np.array([True, False]), dtype_name="torch.bool")
    'tensor([ True, False])'
    >>> format_tensor(np.zeros((0, 3), np.int64), dtype_name="torch.int64")
    'tensor([], size=(0, 3), dtype=torch.int64)'
    >>> print(parameter_repr(format_tensor(np.array([[1.0, 2.0]], np.float32),
    ...                                    dtype_name="torch.float32", requires_grad=True)))
    Parameter containing:
    tensor([[1., 2.]], requires_grad=True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["OPTIONS", "PrintOptions", "format_tensor", "parameter_repr", "set_printoptions"]

# PyTorch's default floating dtype; nablax never changes it.
DEFAULT_DTYPE_NAME = "torch.float32"

# A non-empty tensor of one of these dtypes can be recreated from its printed
# values alone (`tensor([1, 2])` is int64, `tensor([True])` is bool), so its
# dtype is left out. An empty tensor has no values to infer from, so for it
# only the default floating dtype is left out.
IMPLIED_DTYPE_NAMES = frozenset({DEFAULT_DTYPE_NAME, "torch.complex64", "torch.int64", "torch.bool"})


@dataclass
class PrintOptions:
    """The options `torch.set_printoptions` controls, with PyTorch's defaults."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


OPTIONS = PrintOptions()

PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(
    precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None
) -> None:
    """Sets the print options, with the semantics of `torch.set_printoptions`.

    `profile` ('default', 'short' or 'full'; anything else is ignored, as in
    PyTorch) first resets four options; explicit arguments then override it.
    Like PyTorch, every call sets `sci_mode`, so a call that leaves it out turns
    automatic notation back on.

        >>> set_printoptions(precision=2)
        >>> OPTIONS.precision
        2
        >>> set_printoptions(profile="default")
        >>> OPTIONS
        PrintOptions(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)
    """
    for name, value in PROFILES.get(profile, {}).items():
        setattr(OPTIONS, name, value)
    explicit = dict(precision=precision, threshold=threshold, edgeitems=edgeitems, linewidth=linewidth)
    for name, value in explicit.items():
        if value is not None:
            setattr(OPTIONS, name, value)
    OPTIONS.sci_mode = sci_mode


def parameter_repr(tensor_text: str) -> str:
    """What `repr(torch.nn.Parameter(...))` prints, given the repr of its tensor."""
    return "Parameter containing:\n" + tensor_text


def format_tensor(
    values: np.ndarray,
    *,
    dtype_name: str,
    device: str = "cpu",
    requires_grad: bool = False,
    grad_fn_name: str | None = None,
    prefix: str = "tensor(",
) -> str:
    """What `repr(torch_tensor)` prints for a tensor with these values and attributes.

    `values` holds the tensor's values on the host (bfloat16 values may come as
    float32: every bfloat16 is exactly a float32, so they print the same);
    `dtype_name` is PyTorch's name for the dtype, such as 'torch.float16'.
    `grad_fn_name` wins over `requires_grad`, since a tensor with a `grad_fn`
    requires grad by construction and PyTorch shows only the `grad_fn`.
    """
    array = np.asarray(values)
    if array.dtype.kind == "c":
        raise TypeError("complex tensors are not supported")
    options = OPTIONS
    indent = len(prefix)  # continuation lines align under the first bracket
    suffixes = []
    if device != "cpu":
        suffixes.append(f"device='{device}'")
    if array.size == 0:
        body = "[]"
        suffixes += _empty_tensor_suffixes(array.shape, dtype_name)
    else:
        body = _tensor_body(array, _is_floating(dtype_name), indent, options)
        if not options.edgeitems:  # every entry is hidden, so the shape is the only information left
            suffixes.append(f"size={tuple(array.shape)}")
        if dtype_name not in IMPLIED_DTYPE_NAMES:
            suffixes.append(f"dtype={dtype_name}")
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _close_with_suffixes(prefix + body, suffixes, indent, options.linewidth)


def _is_floating(dtype_name: str) -> bool:
    """Whether PyTorch's dtype of this name is a floating-point one ('torch.bfloat16' included)."""
    return "float" in dtype_name or dtype_name in ("torch.half", "torch.double")


def _empty_tensor_suffixes(shape: tuple[int, ...], dtype_name: str) -> list[str]:
    """The `size=` and `dtype=` suffixes of a tensor with no elements.

    The shape is shown unless it is `(0,)`, which `[]` already says (as NumPy
    does); the dtype is shown unless it is the default floating one.
    """
    suffixes = []
    if len(shape) != 1:
        suffixes.append(f"size={tuple(shape)}")
    if dtype_name != DEFAULT_DTYPE_NAME:
        suffixes.append(f"dtype={dtype_name}")
    return suffixes


def _tensor_body(array: np.ndarray, floating: bool, indent: int, options: PrintOptions) -> str:
    """The bracketed values of a non-empty tensor, without prefix or suffixes."""
    # Python floats (doubles) hold every float16/bfloat16/float32 value exactly,
    # and PyTorch formats its elements as Python numbers too.
    array = array.astype(np.float64) if floating else array
    summarize = array.size > options.threshold
    shown = _shown_elements(array, options.edgeitems) if summarize else array.reshape(-1)
    formatter = _ElementFormatter(shown, floating, options)
    return _nested_text(array, indent, summarize, formatter, options)


def _shown_elements(array: np.ndarray, edgeitems: int) -> np.ndarray:
    """The elements a summarized tensor prints, flattened, for measuring the formatter.

    Quirks kept from PyTorch: with `edgeitems == 0`, a matrix or higher shows no
    element at all, while a vector counts all of them (its slice `[-0:]` is the
    whole vector); either way only `...` is printed, so neither affects output.
    """
    if array.ndim <= 1:
        if array.ndim == 1 and len(array) > 2 * edgeitems:
            return np.concatenate([array[:edgeitems], array[-edgeitems:]])
        return array.reshape(-1)
    if not edgeitems:
        return array[:0].reshape(-1)
    rows = list(array)
    if len(rows) > 2 * edgeitems:
        rows = rows[:edgeitems] + rows[-edgeitems:]
    return np.concatenate([_shown_elements(row, edgeitems) for row in rows])


class _ElementFormatter:
    """Formats every element of one tensor in a single mode, right-aligned to a common width."""

    def __init__(self, shown: np.ndarray, floating: bool, options: PrintOptions):
        self.floating = floating
        self.precision = options.precision
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if not floating:
            self.width = max([1, *(len(str(value)) for value in shown.tolist())])
            return
        # Zeros, infinities and NaN print the same in every mode, so only the
        # other values choose the mode and the width.
        measured = shown[np.isfinite(shown) & (shown != 0)]
        if measured.size == 0:
            return
        self.int_mode = bool(np.all(measured == np.ceil(measured)))
        self.sci_mode = self._wants_scientific(measured, options.sci_mode)
        self.width = max(len(self.text(value)) for value in measured.tolist())

    @staticmethod
    def _wants_scientific(measured: np.ndarray, forced: bool | None) -> bool:
        """Scientific notation when fixed decimals would hide digits, unless the option forces a choice."""
        if forced is not None:
            return forced
        smallest, largest = float(np.abs(measured).min()), float(np.abs(measured).max())
        return largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4

    def text(self, value) -> str:
        """One element's text, unpadded."""
        if not self.floating:
            return str(value)
        if self.sci_mode:
            return f"{value:.{self.precision}e}"
        if self.int_mode:
            # The trailing dot tells whole floats from integers; 'inf' and 'nan' need no such hint.
            text = f"{value:.0f}"
            return text if math.isinf(value) or math.isnan(value) else text + "."
        return f"{value:.{self.precision}f}"

    def format(self, value) -> str:
        """One element's text, right-aligned to the common width (never cut when longer)."""
        return self.text(value).rjust(self.width)


def _nested_text(
    array: np.ndarray, indent: int, summarize: bool, formatter: _ElementFormatter, options: PrintOptions
) -> str:
    """The text of `array`, whose opening bracket sits at column `indent`."""
    if array.ndim == 0:
        return formatter.format(array.item())
    if array.ndim == 1:
        return _vector_text(array, indent, summarize, formatter, options)
    edgeitems = options.edgeitems
    count = len(array)
    if summarize and count > 2 * edgeitems:
        rows = [*range(edgeitems), None, *range(count - edgeitems, count)]  # None marks the '...' row
    else:
        rows = range(count)
    parts = [
        "..." if row is None else _nested_text(array[row], indent + 1, summarize, formatter, options)
        for row in rows
    ]
    # One newline between the rows of a matrix, two (a blank line) between the matrices of
    # a 3-d tensor, and so on: the deeper the split, the bigger the gap.
    separator = "," + "\n" * (array.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(parts) + "]"


def _vector_text(
    vector: np.ndarray, indent: int, summarize: bool, formatter: _ElementFormatter, options: PrintOptions
) -> str:
    """A 1-d tensor's bracketed elements, wrapped to fit the line width."""
    edgeitems = options.edgeitems
    if summarize and not edgeitems:
        items = ["..."]
    elif summarize and len(vector) > 2 * edgeitems:
        # The ' ...' item counts as one element when lines are filled.
        items = _format_all(vector[:edgeitems], formatter) + [" ..."] + _format_all(vector[-edgeitems:], formatter)
    else:
        items = _format_all(vector, formatter)
    item_length = formatter.width + 2  # the separating ', '
    per_line = max(1, math.floor((options.linewidth - indent) / item_length))
    lines = [", ".join(items[start : start + per_line]) for start in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _format_all(vector: np.ndarray, formatter: _ElementFormatter) -> list[str]:
    """Every element of a vector, formatted."""
    return [formatter.format(value) for value in vector.tolist()]


def _close_with_suffixes(text: str, suffixes: list[str], indent: int, linewidth: int) -> str:
    """Appends `, suffix` for each suffix, then the closing parenthesis.

    A suffix moves to a new line, indented like the values, when it would push
    the current line past the width. PyTorch's measure counts the tensor's last
    line as two characters longer than it is, so a suffix wraps as soon as the
    line, closing parenthesis included, would *reach* `linewidth`; lines made of
    wrapped suffixes are measured exactly. Both are kept so wrapping matches.
    """
    parts = [text]
    line_length = len(text) - text.rfind("\n") + 1  # true length + 2, as PyTorch measures it
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > linewidth:
            parts.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line_length += len(suffix) + 2
    parts.append(")")
    return "".join(parts)
