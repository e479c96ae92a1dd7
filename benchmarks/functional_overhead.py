"""What nablax's functional face costs over hand-written JAX + optax, per training step.

    python -m benchmarks.functional_overhead

For MLP classifiers at three sizes (softmax cross-entropy, SGD lr 0.1) it times, in one
process and in alternating rounds:
- hand-written: a `jax.jit` step over a params dict with `optax.sgd`, buffers donated;
- nablax step: `nx.make_train_step(nx.supervised_loss(model, cross_entropy), optax.sgd)`;
- nablax fit: `nx.fit` with each epoch fused into one `lax.scan` (time per step).
and prints each time and the ratio to hand-written JAX. Target: nablax step / hand-written <= 1.05.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

import nablax as nx

from .timing import interleaved_medians, markdown_table

SIZES = {  # name: (batch, layer sizes)
    "tiny": (8, [4, 8, 8, 10]),
    "medium": (64, [64, 128, 128, 10]),
    "large": (256, [256, 512, 512, 10]),
}
STEPS_PER_EPOCH = 50


def hand_written_step(optimizer):
    def loss(params, x, y):
        h = x
        for index in range(len(params)):
            layer = params[str(index)]
            h = h @ layer["w"].T + layer["b"]
            if index < len(params) - 1:
                h = jax.nn.relu(h)
        return optax.softmax_cross_entropy_with_integer_labels(h, y).mean()

    @jax.jit
    def step(params, opt_state, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    return jax.jit(step, donate_argnums=(0, 1))


def measure(name: str, batch: int, sizes: list[int]) -> list[str]:
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((batch, sizes[0]), dtype=np.float32))
    y = jnp.asarray(rng.integers(0, sizes[-1], batch, dtype=np.int32))
    optimizer = optax.sgd(0.1)
    model = nx.nn.MLP(sizes)
    params = model.init(0)

    raw = {"hand": ({str(i): {"w": p["weight"], "b": p["bias"]} for i, p in enumerate(params.values())},)}
    raw["hand"] = (jax.tree_util.tree_map(jnp.copy, raw["hand"][0]), optimizer.init(raw["hand"][0]))
    hand_step = hand_written_step(optimizer)

    def run_hand(calls: int) -> None:
        p, s = raw["hand"]
        for _ in range(calls):
            p, s, loss = hand_step(p, s, x, y)
        loss.block_until_ready()
        raw["hand"] = (p, s)

    loss_fn = nx.supervised_loss(model, nx.losses.cross_entropy)
    nx_step = nx.make_train_step(loss_fn, optimizer)
    states = {"nablax": nx.TrainState.create(params, optimizer)}

    def run_nablax(calls: int) -> None:
        state = states["nablax"]
        for _ in range(calls):
            state, metrics = nx_step(state, (x, y))
        metrics["loss"].block_until_ready()
        states["nablax"] = state

    data_x = jnp.tile(x, (STEPS_PER_EPOCH, 1))
    data_y = jnp.tile(y, STEPS_PER_EPOCH)

    def run_fit(calls: int) -> None:
        epochs = max(calls // STEPS_PER_EPOCH, 1)
        nx.fit(loss_fn, optimizer, params, (data_x, data_y), epochs=epochs, batch_size=batch, key=0,
               fused=True, progress=False)

    calls = {"tiny": 2000, "medium": 1000, "large": 200}[name]
    times = interleaved_medians({"hand": run_hand, "nablax": run_nablax}, calls=calls)
    fit_time = interleaved_medians({"fit": run_fit}, calls=calls, rounds=3)["fit"]
    us = lambda seconds: f"{seconds * 1e6:.1f}"
    return [name, us(times["hand"]), us(times["nablax"]), f"{times['nablax'] / times['hand']:.3f}",
            us(fit_time), f"{fit_time / times['hand']:.3f}"]


def main() -> None:
    rows = [measure(name, batch, sizes) for name, (batch, sizes) in SIZES.items()]
    header = ["MLP", "hand-written JAX (us/step)", "nablax step (us/step)", "nablax step / hand",
              "nablax fit, fused (us/step)", "fit / hand"]
    print(f"device: {jax.devices()[0].device_kind}, jax {jax.__version__}")
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
