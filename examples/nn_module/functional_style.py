"""`nn` functionally: `nx.nn.Linear(3, 1)` holds only its configuration; its parameters
are a dict `{"weight": [out, in], "bias": [out]}` that `init(key)` draws and
`apply(params, x)` uses to compute x W^T + b. A model is the same pair one level up: a
nested dict of its layers' parameters, whose flattened names (`nx.state_dict`) are the
ones `nn.Module.state_dict()` gives, and a pure function of it. Gradients come from
`jax.grad` as a dict of the same shape; nothing is stored in the model, so there is no
`zero_grad()`.

`init(key)` would draw the weights from PyTorch's distribution with JAX's random stream;
here they are fixed numbers: for the first layer the ones the notes print (rounded to 4
digits), so its output is the notes' output to within that rounding.
"""

import jax
import jax.numpy as jnp
import numpy as np

import nablax as nx

NOTES_WEIGHT, NOTES_BIAS = [[0.4852, 0.5576, -0.1539]], [-0.0402]
TWO_LAYER_NET = {"layer1.weight": [[-0.3, 0.5, -0.2]], "layer1.bias": [0.1],
                 "layer2.weight": [[-0.6]], "layer2.bias": [0.2]}

# 4 samples with 3 features each, and the single number each should map to.
x = jnp.array([[1.0, 2.0, 3.0],
               [0.5, 1.0, 1.5],
               [2.0, 0.5, 1.0],
               [1.5, 1.5, 0.5]], dtype=jnp.float32)
y_true = jnp.array([[10.0], [5.0], [7.0], [8.0]], dtype=jnp.float32)

layer1 = nx.nn.Linear(3, 1)
layer2 = nx.nn.Linear(1, 1)


def two_layer_net(params, x):
    """layer2(relu(layer1(x))): the module's forward as a function of its parameters.
    (`nx.nn.Sequential(layer1, nx.nn.ReLU(), layer2)` is the same model, its parameters
    named "0" and "2" as in `nn.Sequential`.)"""
    return layer2.apply(params["layer2"], nx.nn.relu(layer1.apply(params["layer1"], x)))


def loss_fn(params, x, y):
    return nx.losses.mse(two_layer_net(params, x), y)


def rounded(values, digits: int = 4):
    """`values` as nested Python lists of floats rounded to `digits`, for printing; adding
    0.0 turns a rounded -0.0 into 0.0."""
    return (np.round(np.asarray(values, dtype=np.float64), digits) + 0.0).tolist()


def main(verbose: bool = True) -> dict:
    """Runs the notes' layers and the model; returns outputs, loss and gradients."""
    show = print if verbose else (lambda *args: None)

    layer = nx.nn.Linear(in_features=3, out_features=1)
    layer_params = {"weight": jnp.array(NOTES_WEIGHT, jnp.float32), "bias": jnp.array(NOTES_BIAS, jnp.float32)}
    output = layer.apply(layer_params, x)
    weight, bias = layer_params["weight"], layer_params["bias"]
    show(f"Weight: {rounded(weight)} of shape {weight.shape}, Bias: {rounded(bias)} of shape {bias.shape}")
    show(f"layer(x) = {rounded(output)}")

    # load_state_dict checks every name and shape against a template drawn by init.
    template = {"layer1": layer1.init(0), "layer2": layer2.init(1)}
    params = nx.load_state_dict(template, {name: np.array(value, np.float32) for name, value in TWO_LAYER_NET.items()})
    w1, b1 = params["layer1"]["weight"], params["layer1"]["bias"]
    w2, b2 = params["layer2"]["weight"], params["layer2"]["bias"]
    stacked = layer2.apply(params["layer2"], layer1.apply(params["layer1"], x))
    merged = x @ (w2 @ w1).T + (w2 @ b1 + b2)  # one Linear with W = W2 W1 and b = W2 b1 + b2
    show(f"layer2(layer1(x)) = {rounded(stacked)}")
    show(f"one Linear(W2 W1, W2 b1 + b2)(x) = {rounded(merged)}")

    prediction = two_layer_net(params, x)
    show(f"layer2(relu(layer1(x))) = {rounded(prediction)}")
    flat = nx.state_dict(params)
    named = ", ".join(f"{name} {p.shape}" for name, p in flat.items())
    count = nx.count_parameters(params)
    show(f"parameters: {named}: {count} numbers")

    loss, grads = jax.value_and_grad(loss_fn)(params, x, y_true)
    flat_grads = nx.state_dict(grads)  # sorted by JAX (bias first): list them in the params' order
    grads = {name: flat_grads[name].tolist() for name in flat}
    show(f"loss = {loss:.4f}")
    for name, grad in grads.items():
        show(f"{name}.grad = {rounded(grad)}")
    return dict(linear_output=output.tolist(), stacked_output=stacked.tolist(), merged_output=merged.tolist(),
                prediction=prediction.tolist(), parameter_count=count, loss=loss.item(), **grads)


if __name__ == "__main__":
    main()
