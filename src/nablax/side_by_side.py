"""One MLP on the digits, trained three ways from the same initial parameters on the same
batches, so that the styles can be compared number for number and microsecond for microsecond:

- `train_stateful`: `nablax.stateful` op by op, the loop of the notes (`zero_grad`,
  forward, loss, `backward`, `step`) that PyTorch users write;
- `train_jitted`: the functional face with one jitted training step per batch;
- `train_fused`: the functional face with `nablax.fit`, each epoch one compiled `lax.scan`.

Every style visits the batches in the order `fit` does (`nx.data.epoch_order` with
`nx.data.epoch_key(key, epoch)`), so per-step losses agree to float32 rounding. The data are
moved to the device before the clock starts, as a data loader would have them ready.

    >>> import numpy as np
    >>> from nablax import side_by_side
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((40, 64), dtype=np.float32); y = rng.integers(0, 10, 40).astype(np.int32)
    >>> results = side_by_side.compare((x, y), (x, y), epochs=2, batch_size=16)
    >>> [result.style for result in results]
    ['stateful', 'jitted', 'fused']
    >>> side_by_side.largest_loss_gap(results) < 1e-5
    True
"""

from __future__ import annotations

import dataclasses
import io
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from . import data as nx_data
from ._atomic import write_atomically
from . import losses, metrics, nn
from .fit import fit
from .history import steady_seconds_per_step
from .train import TrainState, make_train_step, supervised_loss


@dataclasses.dataclass
class StyleResult:
    """What one style did: every step's loss, the test accuracy and the time per step."""

    style: str
    description: str
    losses: np.ndarray
    test_accuracy: float
    seconds_per_step: float
    first_epoch_seconds: float


def make_model(hidden: int = 128) -> nn.Sequential:
    """The functional MLP 64-hidden-10; `nablax.stateful.nn` builds its twin with the same names."""
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def epoch_batches(x: np.ndarray, y: np.ndarray, batch_size: int, key, epoch: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The batches of epoch `epoch` in the order `nablax.fit` visits them (remainder last)."""
    order = np.asarray(nx_data.epoch_order(len(x), nx_data.epoch_key(key, epoch)))
    return [(x[order[i:i + batch_size]], y[order[i:i + batch_size]]) for i in range(0, len(x), batch_size)]


def train_stateful(params, train, test, *, epochs: int, batch_size: int, lr: float, key) -> StyleResult:
    """The notes' loop on `nablax.stateful`, starting from the functional `params`."""
    # Imported here, not above: importing the stateful face turns on 64-bit types for the
    # whole process, which a script using the functional styles alone need not pay for.
    import nablax.stateful as torch

    (x_train, y_train), (x_test, y_test) = train, test
    hidden = params["0"]["weight"].shape[0]
    model = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))
    model.load_state_dict(params)  # the functional params pytree, names as in the state_dict
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    criterion = torch.nn.CrossEntropyLoss()
    epochs_of_batches = [
        [(torch.from_numpy(xb), torch.from_numpy(yb.astype(np.int64))) for xb, yb in epoch_batches(x_train, y_train, batch_size, key, epoch)]
        for epoch in range(epochs)
    ]
    step_losses, epoch_seconds = [], []
    for batches in epochs_of_batches:
        start = time.perf_counter()
        for inputs, labels in batches:
            optimizer.zero_grad()
            loss = criterion(model(inputs), labels)
            loss.backward()
            optimizer.step()
            step_losses.append(loss.item())
        epoch_seconds.append(time.perf_counter() - start)
    with torch.no_grad():
        predicted = model(torch.from_numpy(x_test)).argmax(dim=1).numpy()
    return StyleResult(
        "stateful", "nablax.stateful, op by op (the notes' loop)", np.asarray(step_losses, np.float32),
        float(np.mean(predicted == y_test)), steady_seconds_per_step(epoch_seconds, len(epochs_of_batches[0])),
        epoch_seconds[0],
    )


def _test_accuracy(model: nn.Sequential, params, x_test, y_test) -> float:
    return float(metrics.accuracy(model.apply(params, jnp.asarray(x_test)), jnp.asarray(y_test)))


def train_jitted(params, train, test, *, epochs: int, batch_size: int, lr: float, key) -> StyleResult:
    """The functional face with one jitted step per batch (`nx.make_train_step`)."""
    (x_train, y_train), (x_test, y_test) = train, test
    model = make_model(params["0"]["weight"].shape[0])
    optimizer = optax.sgd(lr)
    step = make_train_step(supervised_loss(model, losses.cross_entropy), optimizer)
    state = TrainState.create(jax.tree_util.tree_map(jnp.copy, params), optimizer)
    epochs_of_batches = [jax.device_put(epoch_batches(x_train, y_train, batch_size, key, epoch)) for epoch in range(epochs)]
    step_losses, epoch_seconds = [], []
    for batches in epochs_of_batches:
        start = time.perf_counter()
        for batch in batches:
            state, step_metrics = step(state, batch)
            step_losses.append(step_metrics["loss"])  # stays on the device: no wait per step
        jax.block_until_ready(state)
        epoch_seconds.append(time.perf_counter() - start)
    return StyleResult(
        "jitted", "functional, one jitted step per batch", np.asarray(jnp.stack(step_losses), np.float32),
        _test_accuracy(model, state.params, x_test, y_test),
        steady_seconds_per_step(epoch_seconds, len(epochs_of_batches[0])), epoch_seconds[0],
    )


def train_fused(params, train, test, *, epochs: int, batch_size: int, lr: float, key) -> StyleResult:
    """The functional face with `nx.fit`: each epoch one compiled `lax.scan` over the batches."""
    (x_train, y_train), (x_test, y_test) = train, test
    model = make_model(params["0"]["weight"].shape[0])
    state, history = fit(
        supervised_loss(model, losses.cross_entropy), optax.sgd(lr), params, (x_train, y_train),
        epochs=epochs, batch_size=batch_size, key=key, fused=True, progress=False,
    )
    return StyleResult(
        "fused", "functional, nx.fit: each epoch one lax.scan", np.asarray(history.steps["loss"], np.float32),
        _test_accuracy(model, state.params, x_test, y_test), history.seconds_per_step(), history.epoch_seconds[0],
    )


STYLES = {"stateful": train_stateful, "jitted": train_jitted, "fused": train_fused}


def compare(train, test, *, hidden: int = 128, epochs: int = 20, batch_size: int = 32, lr: float = 0.2, seed: int = 0,
            styles=tuple(STYLES)) -> list[StyleResult]:
    """Trains `make_model(hidden)` from `init(seed)` in each of `styles` on `train` =
    (images, labels) and scores it on `test`; returns one `StyleResult` per style."""
    params = make_model(hidden).init(seed)
    return [STYLES[style](params, train, test, epochs=epochs, batch_size=batch_size, lr=lr, key=seed) for style in styles]


def largest_loss_gap(results: list[StyleResult]) -> float:
    """The largest difference between the styles' losses at the same step."""
    stacked = np.stack([result.losses for result in results])
    return float(np.max(stacked.max(axis=0) - stacked.min(axis=0)))


def table(results: list[StyleResult]) -> str:
    """The styles side by side: accuracy, loss, time per step and its ratio to the fastest."""
    fastest = min(result.seconds_per_step for result in results)
    header = ("style", "test accuracy", "last loss", "time per step", "vs fastest", "first epoch")
    rows = [
        (result.description, f"{result.test_accuracy:.2%}", f"{result.losses[-1]:.4f}",
         f"{result.seconds_per_step * 1e6:.1f} us", f"{result.seconds_per_step / fastest:.2f}x",
         f"{result.first_epoch_seconds:.2f} s")
        for result in results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(  # noqa: E731 - text left, numbers right
        cell.ljust(width) if i == 0 else cell.rjust(width) for i, (cell, width) in enumerate(zip(cells, widths))
    ) + " |"
    rule = "|" + "|".join("-" * (width + 2) if i == 0 else "-" * (width + 1) + ":" for i, width in enumerate(widths)) + "|"
    return "\n".join([line(header), rule, *map(line, rows)])


def plot_losses(results: list[StyleResult], path: str | pathlib.Path, steps_per_epoch: int | None = None) -> pathlib.Path:
    """Writes the styles' per-step loss curves to `path` (PNG) with matplotlib, one line per
    style drawn over the others (they coincide), and the per-epoch mean as a thicker line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure, axis = plt.subplots(figsize=(8, 4.5), dpi=120)
    for result, style in zip(results, ("-", "--", ":")):
        axis.plot(np.arange(1, len(result.losses) + 1), result.losses, style, linewidth=1.2, alpha=0.8, label=result.description)
    if steps_per_epoch:
        losses_by_epoch = results[0].losses[: len(results[0].losses) // steps_per_epoch * steps_per_epoch]
        means = losses_by_epoch.reshape(-1, steps_per_epoch).mean(axis=1)
        axis.plot((np.arange(len(means)) + 0.5) * steps_per_epoch, means, "k-", linewidth=2.2, label="epoch mean")
    axis.set_yscale("log")
    axis.set_xlabel("training step")
    axis.set_ylabel("cross-entropy loss (log scale)")
    axis.set_title("The same MLP on the digits, three styles: the curves coincide")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend()
    figure.tight_layout()
    picture = io.BytesIO()
    figure.savefig(picture, format="png")
    plt.close(figure)
    return write_atomically(path, picture.getvalue())  # an interrupted save never leaves half a picture
