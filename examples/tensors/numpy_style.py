"""Tensors, with NumPy's arrays: what the notes do with `torch.tensor` has an equivalent
in NumPy for almost every line — creation, dtypes, element-wise and in-place operations,
slicing, `.item()`, reshaping, concatenation — because PyTorch copied NumPy's vocabulary.

Where the notes call `torch.rand`, fixed numbers stand in, so that this script prints
exactly what its stateful and functional twins print.
"""

import numpy as np


def rounded(values, digits: int = 4):
    """`values` as nested Python lists of floats rounded to `digits`, for printing; adding
    0.0 turns a rounded -0.0 into 0.0."""
    return (np.round(np.asarray(values, dtype=np.float64), digits) + 0.0).tolist()


def main(verbose: bool = True) -> dict:
    """Runs the notes' tensor operations and returns their results as Python numbers."""
    show = print if verbose else (lambda *args: None)
    results = {}

    x = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    results.update(x_plus_2=x + 2, x_times_3=x * 3, x_mean=x.mean(), x_transposed=x.T)
    show(f"x = {rounded(x)}")
    show(f"x + 2 = {rounded(x + 2)}")
    show(f"x * 3 = {rounded(x * 3)}")
    show(f"x.mean() = {x.mean():.4f}")
    show(f"x.T = {rounded(x.T)}")

    zeros = np.zeros((2, 3), dtype=np.float32)
    ones = np.ones((2, 5), dtype=np.int8)  # torch.ones(2, 5, dtype=torch.int8)
    show(f"zeros(2, 3): shape {zeros.shape}, sum {zeros.sum():.1f}")
    show(f"ones(2, 5) of int8: shape {ones.shape}, {ones.itemsize} byte per element")

    y = np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32)
    results["x_times_y"] = x * y  # element-wise, not a matrix product
    show(f"x * y = {rounded(x * y)}")
    y += x  # in place, like y.add_(x): y's own memory changes
    results["y_after_adding_x"] = y.copy()
    show(f"after y += x: y = {rounded(y)}")

    m = np.arange(15, dtype=np.float32).reshape(5, 3)
    results.update(first_column=m[:, 0], first_row=m[0, :], element=m[1, 1].item())
    show(f"m[:, 0] = {rounded(m[:, 0])}")
    show(f"m[0, :] = {rounded(m[0, :])}")
    show(f"m[:, :1] has shape {m[:, :1].shape}, m[:1, :] has shape {m[:1, :].shape}")
    show(f"m[1, 1].item() = {m[1, 1].item():.1f}")
    changed = m.copy()  # a copy, so that m keeps its value
    changed[1, 1] = 100.0
    show(f"a copy with [1, 1] set to 100: {changed[1, 1].item():.1f}; m[1, 1] is still {m[1, 1].item():.1f}")

    grid = np.arange(64, dtype=np.float32).reshape(8, 8)
    rows_of_16 = grid.reshape(-1, 16)  # -1: NumPy infers 4; torch's view(-1, 16)
    results["rows_of_16"] = rows_of_16
    show(f"8 x 8 viewed as (-1, 16): shape {rows_of_16.shape}, [1, 0] = {rows_of_16[1, 0].item():.1f}")
    show(f"8 x 8 viewed as (32, 2): shape {grid.reshape(32, 2).shape}")

    stacked = np.concatenate((np.zeros((2, 5), np.float32), np.ones((3, 5), np.float32)))
    show(f"concatenating 2 x 5 and 3 x 5 along axis 0: shape {stacked.shape}")

    a = np.ones(5, dtype=np.float32)
    b = a.view()  # like a.numpy() in PyTorch: another array over the same memory
    a += 1
    results.update(a_plus_1=a, shares_memory=bool(np.array_equal(a, b)))
    show(f"a = ones(5) plus 1 = {rounded(a)}")
    return {name: np.asarray(value).tolist() for name, value in results.items()}


if __name__ == "__main__":
    main()
