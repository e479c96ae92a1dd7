"""Linear regression by gradient descent, functionally: `jax.grad` finds the gradient,
`optax.sgd` applies it, and `jax.jit` compiles the whole step.

The notes' example: f(x) = w * x on X = [1, 2, 3, 4], Y = 2X, starting from w = 0 with
learning rate 0.01 and the mean squared error as loss. w approaches 2.
"""

import jax
import jax.numpy as jnp
import optax

import nablax as nx

X = jnp.array([1, 2, 3, 4], dtype=jnp.float32)
Y = jnp.array([2, 4, 6, 8], dtype=jnp.float32)
LEARNING_RATE = 0.01


def forward(w, x):
    return w * x


def loss(w, x, y):
    return nx.losses.mse(forward(w, x), y)


optimizer = optax.sgd(LEARNING_RATE)


@jax.jit
def step(w, opt_state):
    """One update: the loss at `w` and its gradient, then SGD. Pure: new values out."""
    l, dw = jax.value_and_grad(loss)(w, X, Y)
    updates, opt_state = optimizer.update(dw, opt_state)
    return optax.apply_updates(w, updates), opt_state, l


def train(n_iters: int = 20, verbose: bool = True) -> dict:
    """Runs `n_iters` steps of gradient descent from w = 0 and returns the final w and the
    loss of every step (computed before that step's update)."""
    w = jnp.float32(0.0)
    opt_state = optimizer.init(w)
    losses = []
    if verbose:
        print(f"Prediction before training: f(5) = {forward(w, 5):.3f}")
    for epoch in range(n_iters):
        w, opt_state, l = step(w, opt_state)
        losses.append(float(l))
        if verbose:
            print(f"epoch {epoch}, w = {w:.3f}, loss = {l:.4f}")
    if verbose:
        print(f"Prediction after training: f(5) = {forward(w, 5):.3f}")
    return {"w": float(w), "losses": losses}


if __name__ == "__main__":
    train()
