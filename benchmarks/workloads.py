"""The workloads every contender trains: the data, the initial parameters and the optimizer
settings, fixed here once so that all frameworks do the same work from the same start.

Initial parameters are drawn with NumPy from PyTorch's default distributions (which nablax's
initialisers follow too) and stored under PyTorch's `state_dict` names and layouts
(`"0.weight"` is `[out, in]`); each contender converts them to its own layout. Data is
NumPy; each contender moves it to its own arrays before timing.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import pathlib
import sys
from typing import Any

import jax
import numpy as np
import optax

import nablax as nx

STEPS_PER_EPOCH = 50  # batches per epoch for the synthetic data sets
EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
GPT_BATCH_SIZE = 16
GPT_BATCHES = 10  # distinct batches the stepping contenders cycle through (each is warmed up before timing)


@dataclasses.dataclass(frozen=True)
class Workload:
    """One training loop: `kind` is "mlp" (softmax cross-entropy), "linreg" (`w * x`, MSE),
    "cnn" (the digits CNN, cross-entropy, BatchNorm and Dropout), "gpt" (the character-level
    GPT of examples/gpt.py: next-character cross-entropy, AdamW after gradient clipping) or
    "pipeline" (`nn.Linear(1, 1)` with MSE, for the PyTorch-style contenders only)."""

    key: str
    title: str
    kind: str
    batch_size: int
    learning_rate: float
    inputs: np.ndarray = dataclasses.field(repr=False)
    targets: np.ndarray = dataclasses.field(repr=False)
    initial: dict[str, np.ndarray] = dataclasses.field(repr=False)  # parameters and buffers
    sizes: tuple[int, ...] = ()  # MLP layer sizes
    momentum: float = 0.0
    config: Any = None  # the GPT's sizes (examples/gpt.py's Config)
    weight_decay: float = 0.0  # AdamW's, for the GPT
    clip_norm: float | None = None  # the gradients' largest global norm, for the GPT

    @property
    def steps_per_epoch(self) -> int:
        return len(self.inputs) // self.batch_size

    def batches(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The epoch's batches in order; stepping contenders cycle through them."""
        size = self.batch_size
        return [(self.inputs[i : i + size], self.targets[i : i + size]) for i in range(0, len(self.inputs), size)]

    def optax_optimizer(self) -> optax.GradientTransformation:
        """The workload's optimizer as optax writes it: SGD (PyTorch's `optim.SGD` with the same
        learning rate and momentum computes the same update), or for the GPT AdamW after
        clipping the gradients' global norm (`optim.AdamW` after `clip_grad_norm_`)."""
        if self.kind == "gpt":
            adamw = optax.adamw(self.learning_rate, weight_decay=self.weight_decay)
            return optax.chain(optax.clip_by_global_norm(self.clip_norm), adamw)
        return optax.sgd(self.learning_rate, momentum=self.momentum or None)

    def linear_names(self) -> list[str]:
        """The `state_dict` prefixes of an MLP's Linear layers (ReLUs sit between them)."""
        return [str(2 * index) for index in range(len(self.sizes) - 1)]

    def matmul_flops_per_step(self) -> float | None:
        """FLOPs of an MLP training step's matrix products: the forward pass, the weight
        gradients, and the input gradients of every layer but the first (no gradient flows
        into the data). None for the other kinds."""
        if self.kind != "mlp":
            return None
        products = [2.0 * self.batch_size * fan_in * fan_out for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:])]
        return 2 * sum(products) + sum(products[1:])


def torch_default_init(shapes: dict[str, tuple[int, ...]], seed: int = 0) -> dict[str, np.ndarray]:
    """Float32 parameters by PyTorch's defaults for Linear, Conv and BatchNorm layers: a
    weight of two or more dimensions and its layer's bias are U(-1/sqrt(fan_in), 1/sqrt(fan_in));
    a one-dimensional weight (a norm's scale) is ones and its bias zeros."""
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in shapes.items():
        layer, _, kind = name.rpartition(".")
        weight_shape = shapes.get(f"{layer}.weight" if layer else "weight", shape)
        if len(weight_shape) == 1:
            params[name] = np.full(shape, 1.0 if kind == "weight" else 0.0, np.float32)
        else:
            bound = 1.0 / np.sqrt(np.prod(weight_shape[1:]))
            params[name] = rng.uniform(-bound, bound, shape).astype(np.float32)
    return params


def mlp(key: str, batch_size: int, sizes: list[int]) -> Workload:
    """An MLP classifier on random inputs and labels, SGD with learning rate 0.1."""
    rng = np.random.default_rng(0)
    n = batch_size * STEPS_PER_EPOCH
    shapes = {}
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes[f"{2 * index}.weight"], shapes[f"{2 * index}.bias"] = (fan_out, fan_in), (fan_out,)
    return Workload(
        key=key, title=f"{key} MLP (batch {batch_size}, {'-'.join(map(str, sizes))})", kind="mlp",
        batch_size=batch_size, learning_rate=0.1, sizes=tuple(sizes),
        inputs=rng.standard_normal((n, sizes[0]), dtype=np.float32),
        targets=rng.integers(0, sizes[-1], n).astype(np.int32),
        initial=torch_default_init(shapes),
    )


def linear_regression() -> Workload:
    """The notes' loop: `w * X` against `Y = 2 X` with X = 1..4, MSE, SGD with learning rate
    0.01 on the full batch of four, from w = 0. The epoch repeats that batch so that fused
    contenders scan as many steps as the others take."""
    x = np.tile(np.array([1, 2, 3, 4], np.float32), STEPS_PER_EPOCH)
    return Workload(
        key="linreg", title="linear regression (the notes' loop, 4 points)", kind="linreg",
        batch_size=4, learning_rate=0.01, inputs=x, targets=2 * x, initial={"w": np.array(0.0, np.float32)},
    )


def linear_pipeline() -> Workload:
    """The notes' pipeline: `nn.Linear(1, 1)`, `nn.MSELoss`, `optim.SGD` with learning rate
    0.01 on X = 1..4 (as a column) against Y = 2 X. Written for the PyTorch-style contenders."""
    x = np.tile(np.array([[1], [2], [3], [4]], np.float32), (STEPS_PER_EPOCH, 1))
    return Workload(
        key="pipeline", title="nn.Linear(1, 1) + MSELoss + SGD (the notes' pipeline)", kind="pipeline",
        batch_size=4, learning_rate=0.01, inputs=x, targets=2 * x,
        initial=torch_default_init({"weight": (1, 1), "bias": (1,)}),
    )


@functools.cache
def load_example(script: str):
    """The module of `examples/<script>`, loaded once (the GPT and the digits CNN are defined
    there, in both faces)."""
    path = EXAMPLES / script
    spec = importlib.util.spec_from_file_location(f"examples_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def load_digits_cnn_example():
    """The module `examples/digits_cnn.py`, which defines the CNN in both faces."""
    return load_example("digits_cnn.py")


def digits_cnn() -> Workload:
    """The digits CNN of `examples/digits_cnn.py` on scikit-learn's 8x8 digits (the whole
    batches of the training split), SGD with learning rate 0.05 and momentum 0.9."""
    from nablax.demo import load_digits_split

    example = load_digits_cnn_example()
    x_train, _, y_train, _ = load_digits_split()
    batch_size = example.BATCH_SIZE
    n = len(x_train) // batch_size * batch_size  # whole batches only, the same steps for everyone
    model = example.functional_model()
    # Shapes only (nothing computed); buffers start as PyTorch's do: mean 0, variance 1, count 0.
    shapes = {name: leaf.shape for name, leaf in nx.state_dict(jax.eval_shape(lambda: model.init(0))).items()}
    buffers = {name: np.asarray(value) for name, value in nx.state_dict(model.init_state()).items()}
    return Workload(
        key="cnn", title=f"digits CNN (batch {batch_size}, conv-BN-pool x2, dropout)", kind="cnn",
        batch_size=batch_size, learning_rate=example.LEARNING_RATE, momentum=example.MOMENTUM,
        inputs=example.images(x_train[:n]), targets=y_train[:n],
        initial={**torch_default_init(shapes), **buffers},
    )


def gpt(quick: bool = False) -> Workload:
    """The GPT of examples/gpt.py at its full size (4 blocks of width 128, 4 heads, context
    64; with `quick`, the example's tiny one) on windows of Python's help pages, AdamW (the
    example's peak learning rate and weight decay, held constant) after clipping the
    gradients' global norm to 1."""
    example = load_example("gpt.py")
    text = example.load_text()
    vocabulary = example.Vocabulary(text)
    sizes = {name: (example.QUICK if quick else example.FULL)[name] for name in ("width", "heads", "depth", "context")}
    config = example.Config(len(vocabulary), **sizes)
    (inputs, targets), _ = example.split_text(text, vocabulary, config.context)
    n = GPT_BATCH_SIZE * GPT_BATCHES
    model = example.GPT.create(config)
    # Shapes only (nothing computed); values from PyTorch's Linear rule for every matrix.
    shapes = {name: leaf.shape for name, leaf in nx.state_dict(jax.eval_shape(lambda: model.init(0))).items()}
    schedule = example.Schedule()
    return Workload(
        key="gpt", title=f"GPT (batch {GPT_BATCH_SIZE}, {config.depth} blocks of width {config.width}, context {config.context})",
        kind="gpt", batch_size=GPT_BATCH_SIZE, learning_rate=example.FULL["lr"], inputs=inputs[:n], targets=targets[:n],
        initial=torch_default_init(shapes), config=config, weight_decay=schedule.weight_decay, clip_norm=schedule.clip,
    )


MLP_SIZES = {"tiny": (8, [4, 8, 8, 10]), "medium": (64, [64, 128, 128, 10]), "large": (256, [256, 512, 512, 10])}
# Sizes where an accelerator, not dispatch, sets the pace; for runs on a GPU.
GPU_MLP_SIZES = {"gpu-large": (1024, [1024, 4096, 4096, 10]), "gpu-huge": (4096, [4096, 8192, 8192, 10])}
WORKLOAD_KEYS = [*MLP_SIZES, "linreg", "cnn", "gpt"]


def make_workload(key: str, *, quick: bool = False) -> Workload:
    """The workload named `key`: one of WORKLOAD_KEYS or GPU_MLP_SIZES; `quick` shrinks the
    GPT to the example's tiny size (a smoke run's)."""
    if key in MLP_SIZES or key in GPU_MLP_SIZES:
        return mlp(key, *{**MLP_SIZES, **GPU_MLP_SIZES}[key])
    if key == "linreg":
        return linear_regression()
    if key == "cnn":
        return digits_cnn()
    if key == "gpt":
        return gpt(quick)
    if key == "pipeline":
        return linear_pipeline()
    raise ValueError(f"unknown workload {key!r}; choose from {WORKLOAD_KEYS + list(GPU_MLP_SIZES) + ['pipeline']}")
