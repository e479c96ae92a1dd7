"""The lazy engine's caches stay within their bounds: the program cache when shapes keep
changing (the long run is `python -m benchmarks.soak`), and the JAX scalars kept for the
Python numbers programs take when the numbers keep changing."""

import numpy as np
import pytest

import nablax.stateful as torch
from nablax.stateful.engine import arguments, cache as program_cache


@pytest.fixture
def small_cache(monkeypatch):
    """A program cache with small bounds in place of the engine's."""
    cache = program_cache.ProgramCache(size=4, compiled_size=6, shapes_per_program=3, released_before_clearing=8)
    monkeypatch.setattr(program_cache, "PROGRAMS", cache)
    return cache


def assert_within_bounds(cache: program_cache.ProgramCache) -> None:
    held = [program_cache._executables_held(entry.program) for entry in cache.entries.values()]
    assert len(cache) <= cache.size
    assert all(count <= cache.shapes_per_program for count in held)
    assert cache.compiled == sum(held) <= cache.compiled_size  # the count is what JAX holds


def test_the_program_cache_stays_bounded_under_changing_shapes(small_cache):
    rng = np.random.default_rng(0)
    weight = torch.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    for step in range(120):
        batch = int(rng.integers(1, 200))
        inputs = torch.tensor(rng.standard_normal((batch, 3)).astype(np.float32))
        if step % 3 == 0:  # a few programs: forward only, forward and backward, a reduction of another rank
            (inputs @ weight).tanh().sum().item()
        elif step % 3 == 1:
            (inputs @ weight).relu().mean().backward()
        else:
            inputs.sum(0).max().item()
        assert_within_bounds(small_cache)
    assert small_cache.clears > 0
    assert np.isfinite(weight.grad.numpy()).all()


def test_a_steady_loop_builds_its_programs_once(small_cache):
    weight = torch.ones(3, 2, requires_grad=True)
    inputs = torch.ones(5, 3)
    for _ in range(20):
        (inputs @ weight).sum().backward()
        with torch.no_grad():
            weight -= 0.1 * weight.grad
        weight.grad.zero_()
    built = small_cache.compiles
    for _ in range(20):
        (inputs @ weight).sum().backward()
        with torch.no_grad():
            weight -= 0.1 * weight.grad
        weight.grad.zero_()
    assert small_cache.compiles == built and small_cache.clears == 0
    assert_within_bounds(small_cache)


def test_the_scalars_kept_for_python_numbers_stay_bounded():
    weight = torch.ones(3)
    for step in range(3 * arguments.DEVICE_SCALARS_HELD):  # a counter: a new number every step
        assert (weight * step).sum().item() == 3 * step
        assert len(arguments.DEVICE_SCALARS) <= arguments.DEVICE_SCALARS_HELD
