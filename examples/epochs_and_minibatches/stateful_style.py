"""Epochs and mini-batches as the notes write them, on `nablax.stateful`: a `DataLoader`
cuts the data into mini-batches, and every epoch (one pass over all of the data) runs the
same five lines per batch — forward pass, loss, `optimizer.zero_grad()`,
`loss.backward()`, `optimizer.step()` — then prints the last batch's loss.

`nn.Linear(3, 2)` fits 4 samples with 2 targets each, in batches of 2, with SGD (lr 0.01)
for 10 epochs: 20 steps.
"""

import numpy as np

import nablax.stateful as torch
import nablax.stateful.nn as nn
from nablax.stateful.utils.data import DataLoader, TensorDataset

x = torch.tensor([[1.0, 2.0, 3.0],
                  [0.5, 1.0, 1.5],
                  [2.0, 0.5, 1.0],
                  [1.5, 1.5, 0.5]])
y_true = torch.tensor([[10.0, 1.0],
                       [5.0, 0.5],
                       [7.0, 2.0],
                       [8.0, 1.5]])

# Initialize weights: random once, before the first epoch. nn.Linear(3, 2) draws them from
# U(-1/sqrt(3), 1/sqrt(3)) as PyTorch does, but from JAX's stream (other numbers than
# PyTorch's); fixed numbers from that range, loaded below, make the styles agree.
INITIAL_WEIGHT = [[0.2, -0.1, 0.4], [-0.3, 0.5, 0.1]]
INITIAL_BIAS = [0.05, -0.2]


def rounded(values, digits: int = 4):
    """`values` as nested Python lists of floats rounded to `digits`, for printing; adding
    0.0 turns a rounded -0.0 into 0.0."""
    return (np.round(np.asarray(values, dtype=np.float64), digits) + 0.0).tolist()


def train(num_epochs: int = 10, batch_size: int = 2, learning_rate: float = 0.01, verbose: bool = True) -> dict:
    """Trains for `num_epochs` epochs; returns every step's loss and the final parameters."""
    model = nn.Linear(3, 2)
    model.load_state_dict({"weight": torch.tensor(INITIAL_WEIGHT), "bias": torch.tensor(INITIAL_BIAS)})
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    # shuffle=True would reorder the samples every epoch from nablax's random stream; the
    # other styles could not see the same batches, so the order stays fixed here.
    dataloader = DataLoader(TensorDataset(x, y_true), batch_size=batch_size)

    losses = []
    for epoch in range(num_epochs):
        for batch_x, batch_y in dataloader:
            y_pred = model(batch_x)  # 1. forward pass
            loss = criterion(y_pred, batch_y)  # 2. compute loss
            optimizer.zero_grad()  # 3. clear old gradients
            loss.backward()  # 4. backpropagation
            optimizer.step()  # 5. update weights
            losses.append(loss.item())
        if verbose:
            print(f"Epoch {epoch+1}, Loss: {loss.item():.4f}")

    weight, bias = model.weight.tolist(), model.bias.tolist()
    if verbose:
        print(f"{len(losses)} steps; weight = {rounded(weight)}, bias = {rounded(bias)}")
    return {"losses": losses, "weight": weight, "bias": bias}


if __name__ == "__main__":
    train()
