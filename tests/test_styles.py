"""Each topic of the notes, written three ways (numpy, stateful, functional), computes the
same numbers in every style: values, gradients, per-step losses and final parameters agree
to 1e-5."""

import importlib.util
import pathlib

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
STYLES = ("numpy", "stateful", "functional")
# topic -> the function each style's script exposes; it returns its numbers as a dict.
TOPICS = {
    "tensors": "main",
    "autograd": "main",
    "backpropagation": "main",
    "gradient_descent": "train",
    "training_pipeline": "train",
    "nn_module": "main",
    "epochs_and_minibatches": "train",
}

# Where the styles differ on purpose: a JAX array is immutable, so a NumPy array taken from
# it never sees later changes, while torch's `.numpy()` (and a NumPy view) shares memory.
BY_DESIGN = {("tensors", "functional"): {"shares_memory": False}}


def run_style(topic: str, style: str) -> dict:
    path = EXAMPLES / topic / f"{style}_style.py"
    spec = importlib.util.spec_from_file_location(f"{topic}_{style}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, TOPICS[topic])(verbose=False)


def assert_same_numbers(got, expected, where: str = "") -> None:
    """Walks two results in step: dicts by key, lists by position, numbers to 1e-5."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and list(got) == list(expected), where
        for key in expected:
            assert_same_numbers(got[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, (str, bool)) or expected is None:
        assert got == expected, where
    else:
        np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(expected, np.float64),
                                   rtol=1e-5, atol=1e-5, err_msg=where)
        assert np.shape(got) == np.shape(expected), where


@pytest.fixture(scope="module", params=list(TOPICS))
def results(request):
    return request.param, {style: run_style(request.param, style) for style in STYLES}


def test_every_topic_has_all_three_styles():
    written = {(p.parent.name, p.stem.removesuffix("_style")) for p in EXAMPLES.glob("*/*_style.py")}
    assert written == {(topic, style) for topic in TOPICS for style in STYLES}


@pytest.mark.parametrize("style", ["stateful", "functional"])
def test_style_computes_the_numpy_numbers(results, style):
    topic, by_style = results
    assert by_style[style], f"{topic}: nothing returned"
    got, expected = dict(by_style[style]), dict(by_style["numpy"])
    for key, value in BY_DESIGN.get((topic, style), {}).items():
        assert got.pop(key) == value and expected.pop(key) != value, f"{topic}.{key}"
    assert_same_numbers(got, expected, topic)


def test_the_scripts_print_the_same_lines(results, capsys):
    """Printed output (rounded for reading) is identical line for line across the styles."""
    topic, _ = results
    printed = {}
    for style in STYLES:
        path = EXAMPLES / topic / f"{style}_style.py"
        spec = importlib.util.spec_from_file_location(f"{topic}_{style}_printed", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        getattr(module, TOPICS[topic])()
        printed[style] = capsys.readouterr().out.splitlines()
    assert printed["numpy"], f"{topic} printed nothing"
    assert printed["stateful"] == printed["numpy"]
    assert printed["functional"] == printed["numpy"]


@pytest.mark.parametrize("style", STYLES)
def test_the_long_runs_learn_what_the_notes_say(style):
    """100 steps of gradient descent find w = 2 in y = 2x; the pipeline's f(5) moves toward 10."""
    module_path = EXAMPLES / "gradient_descent" / f"{style}_style.py"
    spec = importlib.util.spec_from_file_location(f"gd_{style}", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.train(100, verbose=False)["w"] == pytest.approx(2.0, abs=1e-3)
    pipeline = run_style("training_pipeline", style)
    assert abs(pipeline["prediction_after"] - 10) < abs(pipeline["prediction_before"] - 10)
