"""Backpropagation as the notes write it, on `nablax.stateful`: the forward pass records
the operations, `loss.backward()` applies the chain rule through all of them, and every
parameter's `.grad` holds dloss/dparameter.

Two of the notes' examples:
- loss = (w * x - y)**2 with x = 1, y = 2, w = 1, where dloss/dw = -2, then one update
  (under `no_grad`, so the update is not recorded) and the next forward and backward;
- a 3-2-1 network (Linear, ReLU, Linear) with `nn.MSELoss`. The notes seed it with
  `torch.manual_seed(0)`; nablax's random stream is JAX's, which gives other numbers, so
  the weights PyTorch draws are written out below and loaded with `load_state_dict`, and
  the script prints what the notes print (Predicted -0.2039, Loss 104.1186).
"""

import numpy as np

import nablax.stateful as torch
import nablax.stateful.nn as nn

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


def scalar_example():
    """One forward and backward pass, one update of w, and the next forward and backward."""
    x = torch.tensor(1.0)
    y = torch.tensor(2.0)
    w = torch.tensor(1.0, requires_grad=True)

    y_hat = w * x  # forward pass and loss
    loss = (y_hat - y) ** 2
    loss.backward()  # backward pass: dloss/dw into w.grad
    first = [loss.item(), w.grad.item()]

    with torch.no_grad():  # update weights
        w -= LEARNING_RATE * w.grad
    w.grad.zero_()

    loss = (w * x - y) ** 2  # next forward and backward
    loss.backward()
    return first + [w.item(), loss.item(), w.grad.item()]


def network_gradients():
    """The notes' network: forward, MSELoss, zero_grad and backward; returns the prediction,
    the loss and each parameter's gradient."""
    layer1 = nn.Linear(3, 2)
    relu = nn.ReLU()
    layer2 = nn.Linear(2, 1)
    layer1.load_state_dict({"weight": torch.tensor(LAYER1_WEIGHT), "bias": torch.tensor(LAYER1_BIAS)})
    layer2.load_state_dict({"weight": torch.tensor(LAYER2_WEIGHT), "bias": torch.tensor(LAYER2_BIAS)})

    x = torch.tensor([[1.0, 2.0, 3.0]])
    y_true = torch.tensor([[10.0]])

    h = layer1(x)  # linear transform
    h_relu = relu(h)  # activation
    y_pred = layer2(h_relu)  # final output
    loss_fn = nn.MSELoss()
    loss = loss_fn(y_pred, y_true)

    layer1.zero_grad()
    layer2.zero_grad()
    loss.backward()
    grads = {f"{layer_name}.{name}": parameter.grad.tolist()
             for layer_name, layer in (("layer1", layer1), ("layer2", layer2))
             for name, parameter in layer.named_parameters()}
    return y_pred.item(), loss.item(), grads


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
