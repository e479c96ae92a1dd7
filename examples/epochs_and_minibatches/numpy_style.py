"""Epochs and mini-batches in plain NumPy: an epoch is one pass over all of the data, cut
into mini-batches by slicing; each batch gets a forward pass, the loss, its gradients
(derived by hand, so there is nothing to zero) and an SGD update.

A linear layer with 3 inputs and 2 outputs fits 4 samples with 2 targets each, in batches
of 2, with lr 0.01 for 10 epochs: 20 steps.
"""

import numpy as np

x = np.array([[1.0, 2.0, 3.0],
              [0.5, 1.0, 1.5],
              [2.0, 0.5, 1.0],
              [1.5, 1.5, 0.5]], dtype=np.float32)
y_true = np.array([[10.0, 1.0],
                   [5.0, 0.5],
                   [7.0, 2.0],
                   [8.0, 1.5]], dtype=np.float32)

# Initialize weights: once, before the first epoch (PyTorch would draw them from
# U(-1/sqrt(3), 1/sqrt(3)); these fixed numbers are the same in every style).
INITIAL_WEIGHT = [[0.2, -0.1, 0.4], [-0.3, 0.5, 0.1]]
INITIAL_BIAS = [0.05, -0.2]


def rounded(values, digits: int = 4):
    """`values` as nested Python lists of floats rounded to `digits`, for printing; adding
    0.0 turns a rounded -0.0 into 0.0."""
    return (np.round(np.asarray(values, dtype=np.float64), digits) + 0.0).tolist()


def mini_batches(n: int, batch_size: int):
    """The index ranges of one epoch's batches, in order (the last one may be shorter)."""
    return [slice(start, start + batch_size) for start in range(0, n, batch_size)]


def train(num_epochs: int = 10, batch_size: int = 2, learning_rate: float = 0.01, verbose: bool = True) -> dict:
    """Trains for `num_epochs` epochs; returns every step's loss and the final parameters."""
    weight = np.array(INITIAL_WEIGHT, np.float32)
    bias = np.array(INITIAL_BIAS, np.float32)

    losses = []
    for epoch in range(num_epochs):
        for batch in mini_batches(len(x), batch_size):
            batch_x, batch_y = x[batch], y_true[batch]
            y_pred = batch_x @ weight.T + bias  # 1. forward pass
            loss = np.mean((y_pred - batch_y) ** 2)  # 2. compute loss
            d_pred = 2 * (y_pred - batch_y) / y_pred.size  # 3-4. this batch's gradients, fresh
            weight = weight - learning_rate * (d_pred.T @ batch_x)  # 5. update weights
            bias = bias - learning_rate * d_pred.sum(axis=0)
            losses.append(loss.item())
        if verbose:
            print(f"Epoch {epoch+1}, Loss: {loss.item():.4f}")

    if verbose:
        print(f"{len(losses)} steps; weight = {rounded(weight)}, bias = {rounded(bias)}")
    return {"losses": losses, "weight": weight.tolist(), "bias": bias.tolist()}


if __name__ == "__main__":
    train()
