"""The notes' training pipeline, functionally: design the model, pick loss and optimizer,
then loop. `nn.Linear(1, 1)` learns f(x) = 2x from X = [[1], [2], [3], [4]] with the mean
squared error and SGD (lr 0.01) for 100 epochs.

Where the stateful loop calls `loss.backward()`, `optimizer.step()` and
`optimizer.zero_grad()`, the functional one calls a single compiled `step(state, batch)`
that returns the new state: nothing accumulates, so there is nothing to zero.
"""

import jax.numpy as jnp
import optax

import nablax as nx

X = jnp.array([[1], [2], [3], [4]], dtype=jnp.float32)
Y = jnp.array([[2], [4], [6], [8]], dtype=jnp.float32)
X_test = jnp.array([5], dtype=jnp.float32)

# The starting weight and bias, the same in every style. `model.init(key)` would draw them
# from U(-1, 1), PyTorch's default for Linear(1, 1), but from JAX's random stream, which
# gives other numbers than PyTorch's; fixed numbers make the styles comparable.
INITIAL_WEIGHT = [[-0.3]]
INITIAL_BIAS = [0.8]


def train(n_iters: int = 100, learning_rate: float = 0.01, verbose: bool = True) -> dict:
    """Trains the model; returns the final weight and bias, every epoch's loss and the
    prediction f(5) before and after training."""
    n_samples, n_features = X.shape
    model = nx.nn.Linear(n_features, n_features)  # 1. the model: input, output, forward pass
    params = {"weight": jnp.array(INITIAL_WEIGHT, jnp.float32), "bias": jnp.array(INITIAL_BIAS, jnp.float32)}
    prediction_before = model.apply(params, X_test).item()
    if verbose:
        print(f"Prediction before training: f(5) = {prediction_before: .3f}")

    loss_fn = nx.supervised_loss(model, nx.losses.mse)  # 2. loss and optimizer
    optimizer = optax.sgd(learning_rate)
    step = nx.make_train_step(loss_fn, optimizer)
    state = nx.TrainState.create(params, optimizer)

    losses = []
    for epoch in range(n_iters):  # 3. the loop: forward, gradients, update in one step
        state, metrics = step(state, (X, Y))
        losses.append(metrics["loss"].item())
        w = state.params["weight"]
        if verbose:
            print(f"epoch {epoch}, w = {w[0][0].item():.4f}, loss = {losses[-1]:.4f}")

    prediction_after = model.apply(state.params, X_test).item()
    if verbose:
        print(f"Prediction after training: f(5) = {prediction_after: .3f}")
    return {"w": state.params["weight"].item(), "b": state.params["bias"].item(), "losses": losses,
            "prediction_before": prediction_before, "prediction_after": prediction_after}


if __name__ == "__main__":
    train()
