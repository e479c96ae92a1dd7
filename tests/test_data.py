"""Batching and shuffling: coverage, determinism, the stacked form, and errors."""

import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nablax as nx


@given(n=st.integers(1, 60), batch_size=st.integers(1, 20), drop_last=st.booleans(), seed=st.integers(0, 1000))
def test_each_example_once_per_epoch(n, batch_size, drop_last, seed):
    if drop_last and batch_size > n:
        return  # an error case, tested below
    x = np.arange(n)
    epochs = list(nx.data.batches((x, -x), batch_size, key=seed, drop_last=drop_last, epochs=2))
    per_epoch = n // batch_size if drop_last else -(-n // batch_size)
    assert len(epochs) == 2 * per_epoch
    for epoch in (epochs[:per_epoch], epochs[per_epoch:]):
        seen = np.concatenate([xb for xb, _ in epoch])
        assert len(seen) == len(set(seen.tolist()))
        assert len(seen) == (n - n % batch_size if drop_last else n)
        assert all(np.array_equal(yb, -xb) for xb, yb in epoch)  # rows stay together
        assert all(len(xb) == batch_size for xb, _ in epoch[:-1])


def test_order_is_deterministic_for_a_key_and_differs_across_keys_and_epochs():
    x = np.arange(100)
    run = lambda key: np.concatenate(list(nx.data.batches(x, 10, key=key, epochs=2)))
    np.testing.assert_array_equal(run(0), run(jax.random.key(0)))
    assert not np.array_equal(run(0), run(1))
    assert not np.array_equal(run(0)[:100], run(0)[100:])  # each epoch its own order
    np.testing.assert_array_equal(np.concatenate(list(nx.data.batches(x, 10))), x)  # no key: in order


@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), seed=st.integers(0, 100))
def test_stacked_batches_are_the_same_batches(n, batch_size, seed):
    x = np.arange(n, dtype=np.float32)
    key = nx.data.epoch_key(seed, 0)
    stacked, remainder = jax.jit(nx.data.stack_batches, static_argnums=1)({"x": x}, batch_size, key=key)
    listed = list(nx.data.batches({"x": x}, batch_size, key=seed))
    assert stacked["x"].shape == (n // batch_size, batch_size)
    for row, batch in zip(stacked["x"], listed):
        np.testing.assert_array_equal(row, batch["x"])
    if n % batch_size:
        np.testing.assert_array_equal(remainder["x"], listed[-1]["x"])
    else:
        assert remainder is None


def test_errors():
    with pytest.raises(ValueError, match=r"same length along axis 0, got data\[0\]: 5, data\[1\]: 4"):
        nx.data.batches((np.zeros(5), np.zeros(4)), 2)
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        nx.data.batches(np.zeros(5), 0)
    with pytest.raises(ValueError, match="leaves no batch from 5 examples"):
        nx.data.batches(np.zeros(5), 8, drop_last=True)
    with pytest.raises(ValueError, match="is a scalar"):
        nx.data.num_examples({"x": np.zeros(3), "w": 1.0})
