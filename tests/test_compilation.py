"""Seeing compiles (`explain_compiles`), counting them (`compile_stats`) and keeping them
across runs (JAX's persistent compilation cache, configured by `nablax.stateful`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import nablax.stateful as torch
from nablax.stateful.engine import cache


@pytest.fixture(autouse=True)
def fresh_program_cache(monkeypatch):
    """Each test starts from an empty program cache: what it sees built must not depend on the
    programs that earlier tests in the same process (the docs' examples, say) built."""
    monkeypatch.setattr(cache, "PROGRAMS", cache.ProgramCache(64, 64, 8, 64))


def explained(loop) -> list[str]:
    lines: list[str] = []
    with torch.explain_compiles(report=lines.append):
        loop()
    return lines


def test_a_python_value_built_into_programs_is_named_with_the_users_line():
    x = torch.linspace(0, 1, 5)
    x.tolist()

    def loop():
        for degree in (2, 3):
            (x ** degree).sum().item()

    lines = explained(loop)
    assert len(lines) == 2
    assert "static argument exponent=3 (was 2)" in lines[1] and "a Python value built into the program" in lines[1]
    assert f"{__file__}:" in lines[1] and "in loop" in lines[1]


def test_a_tensor_argument_builds_one_program():
    x = torch.linspace(0, 1, 5)
    x.tolist()

    def loop():
        for degree in (2.0, 3.0, 4.0):
            (x ** torch.tensor(degree)).sum().item()

    assert len(explained(loop)) == 1


def test_new_input_shapes_are_reported():
    def loop():
        for size in (3, 4):
            torch.tensor([0.5] * size).exp().sum().item()  # data as an argument: one plan, two shapes

    lines = explained(loop)
    assert any("again for new input shapes" in line for line in lines)


def test_work_left_pending_before_a_loop_is_named():
    y = torch.linspace(0, 1, 5) * 3  # pending: the loop's first program computes it too

    def loop():
        for _ in range(2):
            y.exp().sum().item()

    lines = explained(loop)
    assert "the first program" in lines[0] or "linspace" in lines[0]


def test_a_static_argument_that_refuses_comparison_is_explained():
    # An optimizer's first step has no state; its second has a tree of it, whose structure
    # refuses to be compared with None.
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def loop():
        for _ in range(2):
            model(torch.ones(3, 2)).sum().backward()
            optimizer.step()
            model.weight.sum().item()

    lines = explained(loop)
    assert any("another static argument" in line for line in lines)


def test_compile_stats_count_programs_and_hits():
    x = torch.arange(3.0)
    x.tolist()  # known: the loop's programs do not compute it
    before = torch.compile_stats()
    for _ in range(3):
        x.exp().sum().item()
    after = torch.compile_stats()
    assert after["programs_built"] - before["programs_built"] <= 1
    assert after["cache_hits"] - before["cache_hits"] >= 2
    assert set(after) == {"programs_built", "cache_hits", "executables_compiled", "programs_optimized",
                          "host_evaluations", "programs_held"}


def _notes_loop(steps: int) -> list[float]:
    X = torch.tensor([1.0, 2.0, 3.0, 4.0])
    w = torch.tensor(0.5, requires_grad=True)
    losses = []
    for _ in range(steps):
        loss = ((w * X - 2 * X) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= 0.01 * w.grad
        w.grad.zero_()
        losses.append(loss.item())
    return losses


def test_a_program_run_often_is_compiled_again_fully_optimized(monkeypatch):
    """Programs start in the quick tier (XLA's backend optimizations off: they compile faster);
    one that has run `optimized_after` times is compiled once more, fully optimized, and gives
    the same numbers."""
    def fresh_cache(optimized_after: int) -> None:
        monkeypatch.setattr(cache, "PROGRAMS", cache.ProgramCache(64, 64, 8, 64, optimized_after=optimized_after))

    fresh_cache(0)  # fully optimized from the start
    expected = _notes_loop(12)
    fresh_cache(4)
    before = torch.compile_stats()
    losses: list[float] = []
    lines = explained(lambda: losses.extend(_notes_loop(12)))
    after = torch.compile_stats()
    assert after["programs_optimized"] - before["programs_optimized"] == 1  # the loop's steady step, once
    assert sum("optimizing a program (" in line and "at level FULL after 4 runs" in line for line in lines) == 1
    np.testing.assert_allclose(losses, expected, rtol=1e-6)


def test_a_program_that_has_run_long_enough_is_optimized_before_its_count(monkeypatch):
    """A program whose runs add up to `optimized_after_seconds` is compiled at the middle level
    then, however few its runs (here: a bound no run can stay under), and at the full level
    after `optimized_after` runs."""
    monkeypatch.setattr(cache, "PROGRAMS", cache.ProgramCache(64, 64, 8, 64, optimized_after=0))
    expected = _notes_loop(12)
    monkeypatch.setattr(cache, "PROGRAMS", cache.ProgramCache(64, 64, 8, 64, optimized_after=6,
                                                              optimized_after_seconds=1e-9))
    losses: list[float] = []
    lines = explained(lambda: losses.extend(_notes_loop(12)))
    optimized = [line for line in lines if "optimizing a program" in line]
    assert any("at level MIDDLE after 2 runs (about " in line for line in optimized)
    assert any("at level FULL after 6 runs" in line for line in optimized)
    np.testing.assert_allclose(losses, expected, rtol=1e-6)


def test_an_xla_that_refuses_an_option_of_the_quick_tier_gets_level_0_alone(monkeypatch):
    assert cache.quick_options() == cache.QUICK_COMPILER_OPTIONS  # this XLA knows them all
    assert cache.middle_options() == cache.MIDDLE_COMPILER_OPTIONS
    monkeypatch.setattr(cache, "QUICK_COMPILER_OPTIONS", {**cache.QUICK_COMPILER_OPTIONS, "xla_no_such_option": 1})
    cache.quick_options.cache_clear()
    cache.middle_options.cache_clear()
    try:
        assert cache.quick_options() == cache.BASIC_QUICK_OPTIONS
        assert cache.middle_options() is None  # XLA's defaults
    finally:
        cache.quick_options.cache_clear()
        cache.middle_options.cache_clear()


PROBE = ("import json, jax, nablax.stateful as torch; torch.arange(4.0).exp().sum().item(); "
         "print(json.dumps(jax.config.jax_compilation_cache_dir))")


def run_probe(**environment) -> str | None:
    env = {**os.environ, **environment}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    output = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def test_the_persistent_cache_keeps_compiled_programs_where_asked(tmp_path):
    directory = tmp_path / "compiled"
    assert run_probe(NABLAX_COMPILATION_CACHE=str(directory)) == str(directory)
    assert any(directory.iterdir())  # the program compiled went to disk


def test_the_persistent_cache_can_be_turned_off(tmp_path):
    assert run_probe(NABLAX_COMPILATION_CACHE="0", HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache")) is None
    assert not (tmp_path / "cache").exists()


def test_the_persistent_cache_is_on_by_default_under_the_users_cache(tmp_path):
    expected = tmp_path / "cache" / "nablax" / "jax"
    assert run_probe(NABLAX_COMPILATION_CACHE="", XDG_CACHE_HOME=str(tmp_path / "cache")) == str(expected)
