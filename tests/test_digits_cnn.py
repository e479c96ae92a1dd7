"""The digits CNN example: the same network trains in both faces."""

import importlib.util
import pathlib

import pytest

from nablax.demo import load_digits_split

SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "examples" / "digits_cnn.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("digits_cnn", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_functional_cnn_reaches_97_percent(example):
    assert example.train_functional(load_digits_split(), epochs=15) >= 0.97


def test_stateful_cnn_learns_on_a_short_schedule(example):
    # Two epochs (the full fifteen reach ~99%, see the example): well above chance already.
    assert example.train_stateful(load_digits_split(), epochs=2) >= 0.85


def test_both_faces_build_the_same_architecture(example):
    import nablax as nx

    functional, stateful = example.functional_model(), example.stateful_model()
    assert list(nx.state_dict(functional.init(0), functional.init_state())) == list(stateful.state_dict())
    assert repr(functional) == repr(stateful)
