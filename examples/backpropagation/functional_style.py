"""Backpropagation, functionally: write the forward pass as a function of the parameters,
and `jax.grad` returns the function computing dloss/dparameters by the chain rule (reverse
mode, as `loss.backward()`). Parameters are a pytree (nested dicts of arrays), and the
gradients come back as a pytree of the same shape.

Two of the notes' examples:
- loss = (w * x - y)**2 with x = 1, y = 2, w = 1, where dloss/dw = -2, then one update
  (a new w, computed from the old one) and the next forward and backward;
- a 3-2-1 network (`nx.nn.Linear`, ReLU, `nx.nn.Linear`) with `nx.losses.mse`, starting
  from the weights PyTorch draws after `torch.manual_seed(0)`, written out below so that
  every style starts from the numbers the notes print (Predicted -0.2039, Loss 104.1186).
"""

import jax
import jax.numpy as jnp
import numpy as np

import nablax as nx

LEARNING_RATE = 0.1

# What nn.Linear(3, 2) and nn.Linear(2, 1) draw in PyTorch after torch.manual_seed(0):
# PyTorch's default U(-1/sqrt(in), 1/sqrt(in)) from PyTorch's own random stream.
# `nx.nn.Linear(3, 2).init(key)` draws from the same distribution with JAX's stream.
LAYER1_WEIGHT = [[-0.0043225177, 0.30971584, -0.47518533], [-0.4248946, -0.22236897, 0.15482073]]
LAYER1_BIAS = [-0.011439145, 0.45777494]
LAYER2_WEIGHT = [[-0.062751517, 0.18710934]]
LAYER2_BIAS = [-0.21369691]

layer1 = nx.nn.Linear(3, 2)
layer2 = nx.nn.Linear(2, 1)


def rounded(values, digits: int = 4):
    """`values` as nested Python lists of floats rounded to `digits`, for printing; adding
    0.0 turns a rounded -0.0 into 0.0."""
    return (np.round(np.asarray(values, dtype=np.float64), digits) + 0.0).tolist()


def scalar_loss(w, x, y):
    y_hat = w * x
    return (y_hat - y) ** 2


def scalar_example():
    """One forward and backward pass, one update of w, and the next forward and backward."""
    x, y, w = jnp.float32(1.0), jnp.float32(2.0), jnp.float32(1.0)
    loss, grad = jax.value_and_grad(scalar_loss)(w, x, y)
    w = w - LEARNING_RATE * grad  # the update is a new value: nothing to exclude from a graph
    next_loss, next_grad = jax.value_and_grad(scalar_loss)(w, x, y)
    return [loss.item(), grad.item(), w.item(), next_loss.item(), next_grad.item()]


def predict(params, x):
    """x -> layer1 -> ReLU -> layer2, every arrow a function JAX can differentiate."""
    h = layer1.apply(params["layer1"], x)
    return layer2.apply(params["layer2"], nx.nn.relu(h))


def network_loss(params, x, y_true):
    y_pred = predict(params, x)
    return nx.losses.mse(y_pred, y_true), y_pred


def network_gradients():
    """The notes' network: the loss, the prediction and every parameter's gradient."""
    params = {
        "layer1": {"weight": jnp.array(LAYER1_WEIGHT, jnp.float32), "bias": jnp.array(LAYER1_BIAS, jnp.float32)},
        "layer2": {"weight": jnp.array(LAYER2_WEIGHT, jnp.float32), "bias": jnp.array(LAYER2_BIAS, jnp.float32)},
    }
    x = jnp.array([[1.0, 2.0, 3.0]], dtype=jnp.float32)
    y_true = jnp.array([[10.0]], dtype=jnp.float32)
    (loss, y_pred), grads = jax.value_and_grad(network_loss, has_aux=True)(params, x, y_true)
    # nx.state_dict names the gradients as PyTorch names the parameters: "layer1.weight", ...
    # JAX returns dicts with sorted keys (bias before weight); list them in the params' order.
    grads = nx.state_dict(grads)
    return y_pred.item(), loss.item(), {name: grads[name].tolist() for name in nx.state_dict(params)}


def main(verbose: bool = True) -> dict:
    """Runs both examples and returns the losses, predictions and gradients."""
    loss, grad, w, next_loss, next_grad = scalar_example()
    y_pred, network_loss_value, grads = network_gradients()
    if verbose:
        print(f"loss = {loss:.4f}, dloss/dw = {grad:.4f}")
        print(f"after one step of {LEARNING_RATE}: w = {w:.4f}, loss = {next_loss:.4f}, dloss/dw = {next_grad:.4f}")
        print(f"Predicted: {y_pred:.4f}, Loss: {network_loss_value:.4f}")
        for name, value in grads.items():
            print(f"{name}.grad = {rounded(value)}")
    return dict(scalar=[loss, grad, w, next_loss, next_grad], prediction=y_pred, loss=network_loss_value, **grads)


if __name__ == "__main__":
    main()
