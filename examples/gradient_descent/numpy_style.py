"""Linear regression by gradient descent in NumPy, with the gradient written by hand.

The notes' example: f(x) = w * x on X = [1, 2, 3, 4], Y = 2X, starting from w = 0 with
learning rate 0.01 and the mean squared error as loss. w approaches 2.
"""

import numpy as np

X = np.array([1, 2, 3, 4], dtype=np.float32)
Y = np.array([2, 4, 6, 8], dtype=np.float32)
LEARNING_RATE = np.float32(0.01)


def forward(w, x):
    return w * x


def loss(y, y_predicted):
    return ((y_predicted - y) ** 2).mean()


def gradient(x, y, y_predicted):
    # J = mean((w*x - y)**2), so dJ/dw = mean(2*x*(w*x - y)). The notes write
    # np.dot(2*x, y_predicted - y).mean(): the dot product already sums, so the .mean() of
    # its scalar changes nothing and that gradient is N = 4 times this one.
    return np.mean(2 * x * (y_predicted - y))


def train(n_iters: int = 20, verbose: bool = True) -> dict:
    """Runs `n_iters` steps of gradient descent from w = 0 and returns the final w and the
    loss of every step (computed before that step's update)."""
    w = np.float32(0.0)
    losses = []
    if verbose:
        print(f"Prediction before training: f(5) = {forward(w, 5):.3f}")
    for epoch in range(n_iters):
        y_pred = forward(w, X)  # prediction: forward pass
        l = loss(Y, y_pred)
        dw = gradient(X, Y, y_pred)
        w = w - LEARNING_RATE * dw  # update the weight
        losses.append(float(l))
        if verbose:
            print(f"epoch {epoch}, w = {w:.3f}, loss = {l:.4f}")
    if verbose:
        print(f"Prediction after training: f(5) = {forward(w, 5):.3f}")
    return {"w": float(w), "losses": losses}


if __name__ == "__main__":
    train()
