"""`torch.nn` as the notes use it, on `nablax.stateful`: an `nn.Linear` layer holds a
weight of shape [out_features, in_features] and a bias, both `requires_grad=True`, and
computes x W^T + b; two linear layers in a row are still one linear map, so a ReLU goes
between them; an `nn.Module` subclass names its layers, and its `state_dict()` and
`parameters()` collect theirs for the loss, `zero_grad()`, `backward()` and an optimizer.

nn.Linear draws its initial weights at random (U(-1/sqrt(in), 1/sqrt(in)), as PyTorch, but
from JAX's random stream); here they are set to fixed numbers with `load_state_dict`: for
the first layer the ones the notes print (rounded to 4 digits), so its output is the
notes' output to within that rounding.
"""

import numpy as np

import nablax.stateful as torch
import nablax.stateful.nn as nn

# The notes' printed Linear(3, 1) and fixed numbers for the two-layer network.
NOTES_WEIGHT, NOTES_BIAS = [[0.4852, 0.5576, -0.1539]], [-0.0402]
TWO_LAYER_NET = {"layer1.weight": [[-0.3, 0.5, -0.2]], "layer1.bias": [0.1],
                 "layer2.weight": [[-0.6]], "layer2.bias": [0.2]}

# 4 samples with 3 features each, and the single number each should map to.
x = torch.tensor([[1.0, 2.0, 3.0],
                  [0.5, 1.0, 1.5],
                  [2.0, 0.5, 1.0],
                  [1.5, 1.5, 0.5]])
y_true = torch.tensor([[10.0], [5.0], [7.0], [8.0]])


class TwoLayerNet(nn.Module):
    """Linear(3, 1), ReLU, Linear(1, 1): attributes that are modules become submodules, and
    their parameters are this module's, named after the attributes."""

    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(3, 1)
        self.relu = nn.ReLU()
        self.layer2 = nn.Linear(1, 1)

    def forward(self, x):
        return self.layer2(self.relu(self.layer1(x)))


def rounded(values, digits: int = 4):
    """`values` as nested Python lists of floats rounded to `digits`, for printing; adding
    0.0 turns a rounded -0.0 into 0.0."""
    return (np.round(np.asarray(values, dtype=np.float64), digits) + 0.0).tolist()


def main(verbose: bool = True) -> dict:
    """Runs the notes' layers and the module; returns outputs, loss and gradients."""
    show = print if verbose else (lambda *args: None)

    layer = nn.Linear(in_features=3, out_features=1)
    layer.load_state_dict({"weight": torch.tensor(NOTES_WEIGHT), "bias": torch.tensor(NOTES_BIAS)})
    output = layer(x)
    show(f"Weight: {rounded(layer.weight.tolist())} of shape {tuple(layer.weight.shape)}, "
         f"Bias: {rounded(layer.bias.tolist())} of shape {tuple(layer.bias.shape)}")
    show(f"layer(x) = {rounded(output.tolist())}")

    model = TwoLayerNet()
    model.load_state_dict({name: torch.tensor(value) for name, value in TWO_LAYER_NET.items()})
    layer1, layer2 = model.layer1, model.layer2
    stacked = layer2(layer1(x))
    with torch.no_grad():  # one Linear with W = W2 W1 and b = W2 b1 + b2 computes the same
        merged = nn.functional.linear(x, layer2.weight @ layer1.weight, layer2.weight @ layer1.bias + layer2.bias)
    show(f"layer2(layer1(x)) = {rounded(stacked.tolist())}")
    show(f"one Linear(W2 W1, W2 b1 + b2)(x) = {rounded(merged.tolist())}")

    prediction = model(x)  # layer2(relu(layer1(x)))
    show(f"layer2(relu(layer1(x))) = {rounded(prediction.tolist())}")
    named = ", ".join(f"{name} {tuple(p.shape)}" for name, p in model.state_dict().items())
    count = sum(p.numel() for p in model.parameters())
    show(f"parameters: {named}: {count} numbers")

    loss = nn.MSELoss()(prediction, y_true)
    model.zero_grad()
    loss.backward()  # fills .grad of every parameter the module holds
    grads = {name: p.grad.tolist() for name, p in model.named_parameters()}
    show(f"loss = {loss.item():.4f}")
    for name, grad in grads.items():
        show(f"{name}.grad = {rounded(grad)}")
    return dict(linear_output=output.tolist(), stacked_output=stacked.tolist(), merged_output=merged.tolist(),
                prediction=prediction.tolist(), parameter_count=count, loss=loss.item(), **grads)


if __name__ == "__main__":
    main()
