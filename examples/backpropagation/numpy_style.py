"""Backpropagation by hand, in NumPy: the forward pass keeps every intermediate value, the
local gradient of each operation is written down, and the backward pass multiplies them
from the loss back to the weights (the chain rule). This is what the notes' single
`loss.backward()` does.

Two of the notes' examples:
- loss = (w * x - y)**2 with x = 1, y = 2, w = 1, where dloss/dw = -2, then one update;
- a 3-2-1 network (Linear, ReLU, Linear) with the mean squared error, starting from the
  weights PyTorch draws after `torch.manual_seed(0)`, written out below, so that every
  style starts from the numbers the notes print (Predicted -0.2039, Loss 104.1186).
"""

import numpy as np

LEARNING_RATE = 0.1

# What nn.Linear(3, 2) and nn.Linear(2, 1) draw in PyTorch after torch.manual_seed(0):
# PyTorch's default U(-1/sqrt(in), 1/sqrt(in)) from PyTorch's own random stream.
LAYER1_WEIGHT = [[-0.0043225177, 0.30971584, -0.47518533], [-0.4248946, -0.22236897, 0.15482073]]
LAYER1_BIAS = [-0.011439145, 0.45777494]
LAYER2_WEIGHT = [[-0.062751517, 0.18710934]]
LAYER2_BIAS = [-0.21369691]


def rounded(values, digits: int = 4):
    """`values` as nested Python lists of floats rounded to `digits`, for printing; adding
    0.0 turns a rounded -0.0 into 0.0."""
    return (np.round(np.asarray(values, dtype=np.float64), digits) + 0.0).tolist()


def scalar_step(w):
    """The loss (w * x - y)**2 at x = 1, y = 2, and its gradient by the chain rule."""
    x, y = np.float32(1.0), np.float32(2.0)
    y_hat = w * x  # forward pass, keeping the intermediates
    s = y_hat - y
    loss = s ** 2
    dloss_ds = 2 * s  # local gradients of each operation...
    ds_dyhat = np.float32(1.0)
    dyhat_dw = x
    dloss_dw = dloss_ds * ds_dyhat * dyhat_dw  # ...multiplied from the loss back to w
    return loss, dloss_dw


def scalar_example():
    """One forward and backward pass, one update of w, and the next forward and backward."""
    w = np.float32(1.0)
    loss, grad = scalar_step(w)
    w = w - LEARNING_RATE * grad
    next_loss, next_grad = scalar_step(w)
    return [loss.item(), grad.item(), w.item(), next_loss.item(), next_grad.item()]


def network_gradients():
    """Forward through Linear(3, 2), ReLU, Linear(2, 1) and MSE; then backward, layer by
    layer, from dloss/dy_pred to the gradients of every weight and bias."""
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    y_true = np.array([[10.0]], dtype=np.float32)
    w1, b1 = np.array(LAYER1_WEIGHT, np.float32), np.array(LAYER1_BIAS, np.float32)
    w2, b2 = np.array(LAYER2_WEIGHT, np.float32), np.array(LAYER2_BIAS, np.float32)

    h = x @ w1.T + b1  # nn.Linear computes x W^T + b
    h_relu = np.maximum(h, 0)
    y_pred = h_relu @ w2.T + b2
    loss = np.mean((y_pred - y_true) ** 2)

    dy_pred = 2 * (y_pred - y_true) / y_pred.size  # d mean((y_pred - y)**2) / d y_pred
    dw2, db2 = dy_pred.T @ h_relu, dy_pred.sum(axis=0)  # y_pred = h_relu W2^T + b2
    dh_relu = dy_pred @ w2
    dh = dh_relu * (h > 0)  # ReLU passes gradients only where its input was positive
    dw1, db1 = dh.T @ x, dh.sum(axis=0)
    grads = {"layer1.weight": dw1, "layer1.bias": db1, "layer2.weight": dw2, "layer2.bias": db2}
    return y_pred.item(), loss.item(), {name: grad.tolist() for name, grad in grads.items()}


def main(verbose: bool = True) -> dict:
    """Runs both examples and returns the losses, predictions and gradients."""
    loss, grad, w, next_loss, next_grad = scalar_example()
    y_pred, network_loss, grads = network_gradients()
    if verbose:
        print(f"loss = {loss:.4f}, dloss/dw = {grad:.4f}")
        print(f"after one step of {LEARNING_RATE}: w = {w:.4f}, loss = {next_loss:.4f}, dloss/dw = {next_grad:.4f}")
        print(f"Predicted: {y_pred:.4f}, Loss: {network_loss:.4f}")
        for name, value in grads.items():
            print(f"{name}.grad = {rounded(value)}")
    return dict(scalar=[loss, grad, w, next_loss, next_grad], prediction=y_pred, loss=network_loss, **grads)


if __name__ == "__main__":
    main()
