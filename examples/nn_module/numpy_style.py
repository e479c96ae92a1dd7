"""What `torch.nn` does, written in NumPy: a `Linear` layer is an object that holds a
weight of shape [out_features, in_features] and a bias and computes x W^T + b; a module
is an object that holds layers, names their parameters after its attributes
(`layer1.weight`) and runs them in `forward`. Without autograd each layer also writes its
own `backward`, which takes the gradient of its output and returns that of its input,
keeping the gradients of its parameters in `.grads`: the chain rule, one layer at a time.

The first layer takes the weights the notes print (rounded to 4 digits); the two-layer
network fixed numbers, the same as in the stateful and functional twins.
"""

import numpy as np

NOTES_WEIGHT, NOTES_BIAS = [[0.4852, 0.5576, -0.1539]], [-0.0402]
TWO_LAYER_NET = {"layer1.weight": [[-0.3, 0.5, -0.2]], "layer1.bias": [0.1],
                 "layer2.weight": [[-0.6]], "layer2.bias": [0.2]}

# 4 samples with 3 features each, and the single number each should map to.
x = np.array([[1.0, 2.0, 3.0],
              [0.5, 1.0, 1.5],
              [2.0, 0.5, 1.0],
              [1.5, 1.5, 0.5]], dtype=np.float32)
y_true = np.array([[10.0], [5.0], [7.0], [8.0]], dtype=np.float32)


class Linear:
    """y = x W^T + b, with W of shape [out_features, in_features] as in nn.Linear."""

    def __init__(self, weight, bias):
        self.params = {"weight": np.array(weight, np.float32), "bias": np.array(bias, np.float32)}
        self.grads = {}

    def __call__(self, x):
        self.x = x  # kept for the backward pass
        return x @ self.params["weight"].T + self.params["bias"]

    def backward(self, grad_output):
        self.grads = {"weight": grad_output.T @ self.x, "bias": grad_output.sum(axis=0)}
        return grad_output @ self.params["weight"]


class ReLU:
    """max(x, 0); gradients pass only where the input was positive."""

    def __call__(self, x):
        self.positive = x > 0
        return np.maximum(x, 0)

    def backward(self, grad_output):
        return grad_output * self.positive


class TwoLayerNet:
    """Linear(3, 1), ReLU, Linear(1, 1), with PyTorch's parameter names."""

    def __init__(self, state_dict):
        self.layer1 = Linear(state_dict["layer1.weight"], state_dict["layer1.bias"])
        self.relu = ReLU()
        self.layer2 = Linear(state_dict["layer2.weight"], state_dict["layer2.bias"])

    def __call__(self, x):
        return self.layer2(self.relu(self.layer1(x)))

    def backward(self, grad_output):
        self.layer1.backward(self.relu.backward(self.layer2.backward(grad_output)))

    def named(self, table: str) -> dict:
        """`{"layer1.weight": ...}` from each layer's `params` or `grads`."""
        return {f"{layer_name}.{name}": value for layer_name in ("layer1", "layer2")
                for name, value in getattr(getattr(self, layer_name), table).items()}


def rounded(values, digits: int = 4):
    """`values` as nested Python lists of floats rounded to `digits`, for printing; adding
    0.0 turns a rounded -0.0 into 0.0."""
    return (np.round(np.asarray(values, dtype=np.float64), digits) + 0.0).tolist()


def main(verbose: bool = True) -> dict:
    """Runs the notes' layers and the module; returns outputs, loss and gradients."""
    show = print if verbose else (lambda *args: None)

    layer = Linear(NOTES_WEIGHT, NOTES_BIAS)
    output = layer(x)
    weight, bias = layer.params["weight"], layer.params["bias"]
    show(f"Weight: {rounded(weight)} of shape {weight.shape}, Bias: {rounded(bias)} of shape {bias.shape}")
    show(f"layer(x) = {rounded(output)}")

    model = TwoLayerNet(TWO_LAYER_NET)
    layer1, layer2 = model.layer1, model.layer2
    stacked = layer2(layer1(x))
    w1, b1 = layer1.params["weight"], layer1.params["bias"]
    w2, b2 = layer2.params["weight"], layer2.params["bias"]
    merged = x @ (w2 @ w1).T + (w2 @ b1 + b2)  # one Linear with W = W2 W1 and b = W2 b1 + b2
    show(f"layer2(layer1(x)) = {rounded(stacked)}")
    show(f"one Linear(W2 W1, W2 b1 + b2)(x) = {rounded(merged)}")

    prediction = model(x)  # layer2(relu(layer1(x)))
    show(f"layer2(relu(layer1(x))) = {rounded(prediction)}")
    params = model.named("params")
    named = ", ".join(f"{name} {p.shape}" for name, p in params.items())
    count = sum(p.size for p in params.values())
    show(f"parameters: {named}: {count} numbers")

    loss = np.mean((prediction - y_true) ** 2)
    model.backward(2 * (prediction - y_true) / prediction.size)  # d loss / d prediction, then the layers
    grads = {name: grad.tolist() for name, grad in model.named("grads").items()}
    show(f"loss = {loss:.4f}")
    for name, grad in grads.items():
        show(f"{name}.grad = {rounded(grad)}")
    return dict(linear_output=output.tolist(), stacked_output=stacked.tolist(), merged_output=merged.tolist(),
                prediction=prediction.tolist(), parameter_count=count, loss=loss.item(), **grads)


if __name__ == "__main__":
    main()
