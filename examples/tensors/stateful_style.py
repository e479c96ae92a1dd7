"""Tensors, as the notes write them, on `nablax.stateful`: creation, dtypes, element-wise
and in-place operations (`add_`), slicing, `.item()`, `view`, `torch.cat`, and a tensor
and its `.numpy()` array sharing memory on the CPU.

Where the notes call `torch.rand`, fixed numbers stand in, so that this script prints
exactly what its NumPy and functional twins print (nablax's random stream is JAX's, not
PyTorch's, so even a shared seed would give other numbers).
"""

import numpy as np

import nablax.stateful as torch


def rounded(values, digits: int = 4):
    """`values` as nested Python lists of floats rounded to `digits`, for printing; adding
    0.0 turns a rounded -0.0 into 0.0."""
    return (np.round(np.asarray(values, dtype=np.float64), digits) + 0.0).tolist()


def main(verbose: bool = True) -> dict:
    """Runs the notes' tensor operations and returns their results as Python numbers."""
    show = print if verbose else (lambda *args: None)
    results = {}

    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    results.update(x_plus_2=x + 2, x_times_3=x * 3, x_mean=x.mean(), x_transposed=x.T)
    show(f"x = {rounded(x.tolist())}")
    show(f"x + 2 = {rounded((x + 2).tolist())}")
    show(f"x * 3 = {rounded((x * 3).tolist())}")
    show(f"x.mean() = {x.mean().item():.4f}")
    show(f"x.T = {rounded(x.T.tolist())}")

    zeros = torch.zeros(2, 3)
    ones = torch.ones(2, 5, dtype=torch.int8)
    show(f"zeros(2, 3): shape {tuple(zeros.size())}, sum {zeros.sum().item():.1f}")
    show(f"ones(2, 5) of int8: shape {tuple(ones.shape)}, {ones.element_size()} byte per element")

    y = torch.tensor([[0.5, -1.0], [2.0, 0.25]])
    results["x_times_y"] = x * y  # element-wise, not a matrix product
    show(f"x * y = {rounded((x * y).tolist())}")
    y.add_(x)  # the trailing underscore: in place, y's own memory changes
    results["y_after_adding_x"] = y.clone()
    show(f"after y += x: y = {rounded(y.tolist())}")

    m = torch.arange(15, dtype=torch.float32).view(5, 3)
    results.update(first_column=m[:, 0], first_row=m[0, :], element=m[1, 1].item())
    show(f"m[:, 0] = {rounded(m[:, 0].tolist())}")
    show(f"m[0, :] = {rounded(m[0, :].tolist())}")
    show(f"m[:, :1] has shape {tuple(m[:, :1].shape)}, m[:1, :] has shape {tuple(m[:1, :].shape)}")
    show(f"m[1, 1].item() = {m[1, 1].item():.1f}")
    changed = m.clone()  # a copy, so that m keeps its value
    changed[1, 1] = 100.0
    show(f"a copy with [1, 1] set to 100: {changed[1, 1].item():.1f}; m[1, 1] is still {m[1, 1].item():.1f}")

    grid = torch.arange(64, dtype=torch.float32).view(8, 8)
    rows_of_16 = grid.view(-1, 16)  # -1: inferred, 4
    results["rows_of_16"] = rows_of_16
    show(f"8 x 8 viewed as (-1, 16): shape {tuple(rows_of_16.size())}, [1, 0] = {rows_of_16[1, 0].item():.1f}")
    show(f"8 x 8 viewed as (32, 2): shape {tuple(grid.view(32, 2).size())}")

    stacked = torch.cat((torch.zeros(2, 5), torch.ones(3, 5)))
    show(f"concatenating 2 x 5 and 3 x 5 along axis 0: shape {tuple(stacked.shape)}")

    a = torch.ones(5)
    b = a.numpy()  # on the CPU, b is a's memory: the in-place add below shows in b too
    a.add_(1)
    results.update(a_plus_1=a, shares_memory=bool(np.array_equal(a.numpy(), b)))
    show(f"a = ones(5) plus 1 = {rounded(a.tolist())}")
    return {name: value.tolist() if isinstance(value, torch.Tensor) else value for name, value in results.items()}


if __name__ == "__main__":
    main()
