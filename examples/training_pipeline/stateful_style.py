"""The notes' training pipeline in PyTorch's style, on `nablax.stateful`:

1. design the model (input size, output size, forward pass) as an `nn.Module`;
2. construct the loss (`nn.MSELoss`) and the optimizer (`torch.optim.SGD`);
3. the training loop: forward pass, `l.backward()` for the gradients, `optimizer.step()`
   to update the weights, `optimizer.zero_grad()` to clear the gradients.

`nn.Linear(1, 1)` learns f(x) = 2x from X = [[1], [2], [3], [4]] with lr 0.01 for 100
epochs.
"""

import nablax.stateful as torch
import nablax.stateful.nn as nn

X = torch.tensor([[1], [2], [3], [4]], dtype=torch.float32)
Y = torch.tensor([[2], [4], [6], [8]], dtype=torch.float32)
X_test = torch.tensor([5], dtype=torch.float32)

# The starting weight and bias, the same in every style. nn.Linear(1, 1) draws them from
# U(-1, 1), as PyTorch does, but from JAX's random stream, which gives other numbers than
# PyTorch's; fixed numbers, loaded with load_state_dict, make the styles comparable.
INITIAL_WEIGHT = [[-0.3]]
INITIAL_BIAS = [0.8]


class LinearRegression(nn.Module):
    def __init__(self, input_dim, output_dim) -> None:
        super().__init__()
        self.lin = nn.Linear(input_dim, output_dim)

    def forward(self, x):
        return self.lin(x)


def train(n_iters: int = 100, learning_rate: float = 0.01, verbose: bool = True) -> dict:
    """Trains the model; returns the final weight and bias, every epoch's loss and the
    prediction f(5) before and after training."""
    n_samples, n_features = X.shape
    model = LinearRegression(input_dim=n_features, output_dim=n_features)  # 1. the model
    model.load_state_dict({"lin.weight": torch.tensor(INITIAL_WEIGHT), "lin.bias": torch.tensor(INITIAL_BIAS)})
    prediction_before = model(X_test).item()
    if verbose:
        print(f"Prediction before training: f(5) = {prediction_before: .3f}")

    loss = nn.MSELoss()  # 2. loss and optimizer
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

    losses = []
    for epoch in range(n_iters):  # 3. the loop
        y_pred = model(X)  # prediction = forward pass
        l = loss(Y, y_pred)
        l.backward()  # gradients
        optimizer.step()  # update the weights
        optimizer.zero_grad()  # clear the gradients for the next epoch
        losses.append(l.item())
        [w, b] = model.parameters()
        if verbose:
            print(f"epoch {epoch}, w = {w[0][0].item():.4f}, loss = {losses[-1]:.4f}")

    prediction_after = model(X_test).item()
    if verbose:
        print(f"Prediction after training: f(5) = {prediction_after: .3f}")
    return {"w": model.lin.weight.item(), "b": model.lin.bias.item(), "losses": losses,
            "prediction_before": prediction_before, "prediction_after": prediction_after}


if __name__ == "__main__":
    train()
