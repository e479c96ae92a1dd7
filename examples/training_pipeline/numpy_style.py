"""The notes' training pipeline in plain NumPy, every piece written by hand: the model is
a weight and a bias with a forward function, the loss is the mean squared error, its
gradients are derived on paper, and the update is w -= lr * dw. This is what the stateful
style's `nn.Linear`, `nn.MSELoss`, `backward()` and `optim.SGD` do for us.

`Linear(1, 1)` learns f(x) = 2x from X = [[1], [2], [3], [4]] with lr 0.01 for 100 epochs.
"""

import numpy as np

X = np.array([[1], [2], [3], [4]], dtype=np.float32)
Y = np.array([[2], [4], [6], [8]], dtype=np.float32)
X_test = np.array([5], dtype=np.float32)

# The starting weight and bias, the same in every style (PyTorch would draw them from
# U(-1, 1) for Linear(1, 1)).
INITIAL_WEIGHT = [[-0.3]]
INITIAL_BIAS = [0.8]


def forward(weight, bias, x):
    """A linear layer as nn.Linear computes it: x W^T + b, W of shape [out, in]."""
    return x @ weight.T + bias


def mse(y_pred, y):
    return np.mean((y_pred - y) ** 2)


def gradients(x, y, y_pred):
    """d mean((y_pred - y)**2) over n entries: dy_pred = 2 (y_pred - y) / n; through
    y_pred = x W^T + b, dW = dy_pred^T x and db sums dy_pred over the samples."""
    dy_pred = 2 * (y_pred - y) / y_pred.size
    return dy_pred.T @ x, dy_pred.sum(axis=0)


def train(n_iters: int = 100, learning_rate: float = 0.01, verbose: bool = True) -> dict:
    """Trains the model; returns the final weight and bias, every epoch's loss and the
    prediction f(5) before and after training."""
    weight = np.array(INITIAL_WEIGHT, dtype=np.float32)  # 1. the model
    bias = np.array(INITIAL_BIAS, dtype=np.float32)
    prediction_before = forward(weight, bias, X_test).item()
    if verbose:
        print(f"Prediction before training: f(5) = {prediction_before: .3f}")

    losses = []
    for epoch in range(n_iters):  # 3. the loop (2., the loss and the update, are by hand)
        y_pred = forward(weight, bias, X)  # prediction = forward pass
        losses.append(mse(y_pred, Y).item())
        d_weight, d_bias = gradients(X, Y, y_pred)
        weight = weight - learning_rate * d_weight  # what optimizer.step() does for SGD
        bias = bias - learning_rate * d_bias
        if verbose:
            print(f"epoch {epoch}, w = {weight[0][0].item():.4f}, loss = {losses[-1]:.4f}")

    prediction_after = forward(weight, bias, X_test).item()
    if verbose:
        print(f"Prediction after training: f(5) = {prediction_after: .3f}")
    return {"w": weight.item(), "b": bias.item(), "losses": losses,
            "prediction_before": prediction_before, "prediction_after": prediction_after}


if __name__ == "__main__":
    train()
