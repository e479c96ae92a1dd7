"""Epochs and mini-batches, functionally: `nx.fit` runs the epochs, and each epoch is one
compiled program, a `lax.scan` of the training step over the stacked mini-batches. The
five lines of the stateful loop become one pure step, `state -> state`, that the scan
repeats; the losses of every step come back in `history.steps["loss"]`.

`nx.nn.Linear(3, 2)` fits 4 samples with 2 targets each, in batches of 2, with SGD (lr
0.01) for 10 epochs: 20 steps.
"""

import jax.numpy as jnp
import numpy as np
import optax

import nablax as nx

x = jnp.array([[1.0, 2.0, 3.0],
               [0.5, 1.0, 1.5],
               [2.0, 0.5, 1.0],
               [1.5, 1.5, 0.5]], dtype=jnp.float32)
y_true = jnp.array([[10.0, 1.0],
                    [5.0, 0.5],
                    [7.0, 2.0],
                    [8.0, 1.5]], dtype=jnp.float32)

# Initialize weights: once, before the first epoch. `model.init(key)` would draw them from
# PyTorch's distribution with JAX's stream; fixed numbers make the styles agree.
INITIAL_WEIGHT = [[0.2, -0.1, 0.4], [-0.3, 0.5, 0.1]]
INITIAL_BIAS = [0.05, -0.2]


def rounded(values, digits: int = 4):
    """`values` as nested Python lists of floats rounded to `digits`, for printing; adding
    0.0 turns a rounded -0.0 into 0.0."""
    return (np.round(np.asarray(values, dtype=np.float64), digits) + 0.0).tolist()


def train(num_epochs: int = 10, batch_size: int = 2, learning_rate: float = 0.01, verbose: bool = True) -> dict:
    """Trains for `num_epochs` epochs; returns every step's loss and the final parameters."""
    model = nx.nn.Linear(3, 2)
    params = {"weight": jnp.array(INITIAL_WEIGHT, jnp.float32), "bias": jnp.array(INITIAL_BIAS, jnp.float32)}
    loss_fn = nx.supervised_loss(model, nx.losses.mse)
    # shuffle=False keeps the order fixed so every style sees the same batches; with
    # shuffle=True, fit reorders every epoch from `key`, inside the compiled epoch.
    state, history = nx.fit(loss_fn, optax.sgd(learning_rate), params, (x, y_true), epochs=num_epochs,
                            batch_size=batch_size, shuffle=False, progress=False)

    losses = history.steps["loss"].tolist()
    steps_per_epoch = history.steps_per_epoch
    if verbose:
        for epoch in range(num_epochs):  # the last batch's loss of each epoch, as the notes print
            print(f"Epoch {epoch+1}, Loss: {losses[(epoch + 1) * steps_per_epoch - 1]:.4f}")

    weight, bias = state.params["weight"].tolist(), state.params["bias"].tolist()
    if verbose:
        print(f"{len(losses)} steps; weight = {rounded(weight)}, bias = {rounded(bias)}")
    return {"losses": losses, "weight": weight, "bias": bias}


if __name__ == "__main__":
    train()
