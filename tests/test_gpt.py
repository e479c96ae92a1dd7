"""The GPT example (examples/gpt.py): it learns, its stateful and PyTorch twins compute the
same losses from the same parameters, and it trains in bfloat16 and float16.

One float32 run of the example's quick settings (`fit`, a few hundred steps) serves most
tests: its step losses are what the twins must reproduce, and its held-out accuracy is what
the half-precision runs are measured against."""

import importlib.util
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nablax as nx

SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "examples" / "gpt.py"
TWIN_STEPS = 50


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("gpt_example", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


class Setup:
    """The quick settings of the example: text, vocabulary, model, data, schedule and initial parameters."""

    def __init__(self, example):
        quick = example.QUICK
        self.text = example.load_text(quick["chars"])
        self.vocabulary = example.Vocabulary(self.text)
        self.config = example.Config(len(self.vocabulary), quick["width"], quick["heads"], quick["depth"], quick["context"])
        self.model = example.GPT.create(self.config)
        self.train_data, self.held_out = example.split_text(self.text, self.vocabulary, self.config.context)
        self.batch_size, self.epochs = quick["batch_size"], quick["epochs"]
        steps = self.epochs * example.steps_per_epoch(self.train_data, self.batch_size)
        self.schedule = example.Schedule(peak_lr=quick["lr"], total_steps=steps, warmup_steps=steps // 10)
        self.params = self.model.init(0)
        self.example = example

    def train(self, precision=None, epochs=None):
        return self.example.train(self.model, self.params, self.train_data, epochs=epochs or self.epochs,
                                  batch_size=self.batch_size, schedule=self.schedule, precision=precision, show=False)

    def held_out_accuracy(self, params) -> float:
        """Next-character accuracy on the held-out text, computed in float32 for every run."""
        return nx.evaluate(self.eval_step, params, self.held_out)["accuracy"]

    @property
    def eval_step(self):
        if not hasattr(self, "_eval_step"):
            self._eval_step = nx.make_eval_step(self.example.next_token_loss(self.model))
        return self._eval_step


@pytest.fixture(scope="module")
def setup(example):
    return Setup(example)


@pytest.fixture(scope="module")
def float32_run(setup):
    return setup.train()


def test_the_example_learns_the_text(setup, float32_run):
    state, history = float32_run
    losses = history["loss"]
    assert losses[-1] < losses[0] - 0.3 and losses[-1] < np.log(len(setup.vocabulary)) - 1.5, losses
    assert history.steps["lr"][0] == 0.0 and max(history.steps["lr"]) == pytest.approx(setup.schedule.peak_lr)
    assert min(history["tokens_per_s"]) > 0
    # Well beyond always guessing the commonest character (a space: 16% of the held-out text).
    assert setup.held_out_accuracy(state.params) > 0.25


def test_the_head_is_the_token_embedding(setup):
    names = list(nx.state_dict(setup.params))
    assert names[:2] == ["wte.weight", "wpe.weight"] and not any(name.startswith("head") for name in names)
    assert "blocks.0.attn.in_proj_weight" in names and "blocks.0.mlp.2.weight" in names
    assert float(jnp.std(setup.params["wte"]["weight"])) == pytest.approx(0.02, rel=0.1)


def test_the_stateful_twin_matches_the_functional_losses_over_50_steps(example, setup, float32_run):
    _, history = float32_run
    batches = example.first_batches(setup.train_data, setup.batch_size, TWIN_STEPS)
    losses = example.stateful_losses(setup.config, setup.params, batches, setup.schedule)
    np.testing.assert_allclose(losses, history.steps["loss"][:TWIN_STEPS], rtol=0, atol=1e-4)


def test_the_same_code_under_pytorch_gives_the_same_losses(example, setup, float32_run, torch):
    _, history = float32_run
    twin = example.torch_model(torch, setup.config)
    assert list(twin.state_dict()) == list(nx.state_dict(setup.params))
    twin.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in nx.state_dict(setup.params).items()})
    batches = example.first_batches(setup.train_data, setup.batch_size, TWIN_STEPS)
    losses = example.train_torch(torch, twin, batches, setup.schedule)
    np.testing.assert_allclose(losses, history.steps["loss"][:TWIN_STEPS], rtol=0, atol=1e-4)


def test_bfloat16_accuracy_is_within_one_point_of_float32(setup, float32_run):
    """The criterion: next-character accuracy on the held-out text after the same training in
    bfloat16 compute (float32 parameters and optimizer) is within one percentage point of the
    float32 run's."""
    state, history = setup.train("bfloat16")
    assert {leaf.dtype for leaf in jax.tree_util.tree_leaves(state.params)} == {jnp.dtype(jnp.float32)}
    float32_accuracy = setup.held_out_accuracy(float32_run[0].params)
    assert abs(setup.held_out_accuracy(state.params) - float32_accuracy) <= 0.01
    assert history["loss"][-1] == pytest.approx(float32_run[1]["loss"][-1], abs=0.05)


def test_float16_with_loss_scaling_trains_without_non_finite_updates(setup, float32_run):
    """One epoch in float16 with dynamic loss scaling: no step skipped for non-finite
    gradients, finite parameters, and the float32 run's losses."""
    state, history = setup.train("float16", epochs=1)
    scales = history.steps["loss_scale"]
    skipped = int(np.sum(np.diff(scales) < 0))  # a step with non-finite gradients halves the scale
    assert skipped == 0 and scales[0] == 2.0**15, f"{skipped} steps had non-finite gradients"
    assert all(bool(jnp.isfinite(leaf).all()) for leaf in jax.tree_util.tree_leaves(state.params))
    steps = len(history.steps["loss"])
    np.testing.assert_allclose(history.steps["loss"], float32_run[1].steps["loss"][:steps], atol=0.05)


def test_sampling_is_one_program_keyed_by_the_prng_key(example, setup, float32_run):
    params = float32_run[0].params
    draw = lambda seed, prompt="The ": example.samples(setup.model, params, setup.vocabulary, count=2, length=40,
                                                       prompt=prompt, seed=seed)
    first = draw(0)
    assert first == draw(0) and first != draw(1) and first[0] != first[1]
    assert all(text.startswith("The ") and len(text) == 44 and set(text) <= set(setup.vocabulary.chars) for text in first)
    # Longer than the context: each token sees the last `context` tokens.
    long = example.samples(setup.model, params, setup.vocabulary, count=1, length=2 * setup.config.context)
    assert len(long[0]) == 1 + 2 * setup.config.context


def test_the_loss_curve_is_drawn(example, setup, float32_run, tmp_path):
    pytest.importorskip("matplotlib")
    _, history = float32_run
    path = example.plot_losses(history, tmp_path / "loss.png", example.steps_per_epoch(setup.train_data, setup.batch_size))
    assert path.read_bytes()[:4] == b"\x89PNG"
