"""Linear regression by gradient descent as the notes write it with PyTorch, on
`nablax.stateful`: autograd finds the gradient (`l.backward()` fills `w.grad`), the update
runs under `torch.no_grad()` so that it is not recorded, and `w.grad.zero_()` clears the
gradient, which would otherwise accumulate over the iterations.

The notes' example: f(x) = w * x on X = [1, 2, 3, 4], Y = 2X, starting from w = 0 with
learning rate 0.01 and the mean squared error as loss. w approaches 2.
"""

import nablax.stateful as torch

X = torch.tensor([1, 2, 3, 4], dtype=torch.float32)
Y = torch.tensor([2, 4, 6, 8], dtype=torch.float32)
LEARNING_RATE = 0.01


def forward(w, x):
    return w * x


def loss(y, y_predicted):
    return ((y_predicted - y) ** 2).mean()


def train(n_iters: int = 20, verbose: bool = True) -> dict:
    """Runs `n_iters` steps of gradient descent from w = 0 and returns the final w and the
    loss of every step (computed before that step's update)."""
    w = torch.tensor(0.0, dtype=torch.float32, requires_grad=True)
    losses = []
    if verbose:
        print(f"Prediction before training: f(5) = {forward(w, 5).item():.3f}")
    for epoch in range(n_iters):
        y_pred = forward(w, X)  # prediction: forward pass
        l = loss(Y, y_pred)
        l.backward()  # gradients: dl/dw into w.grad
        with torch.no_grad():  # update the weight outside the graph
            w -= LEARNING_RATE * w.grad
        w.grad.zero_()  # backward() adds into .grad: clear it for the next iteration
        losses.append(l.item())
        if verbose:
            print(f"epoch {epoch}, w = {w.item():.3f}, loss = {l.item():.4f}")
    if verbose:
        print(f"Prediction after training: f(5) = {forward(w, 5).item():.3f}")
    return {"w": w.item(), "losses": losses}


if __name__ == "__main__":
    train()
