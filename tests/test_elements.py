"""Single elements read and written in loops: no program per index, the host fast paths give
what the general path gives, and PyTorch's answers and errors hold."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nablax.stateful as nxt
from nablax.stateful.engine import cache, host
from nablax.stateful.ops import elements

from conftest import to_numpy


def programs_built() -> int:
    return cache.PROGRAMS.compiles


def test_reading_every_element_builds_no_program_per_index():
    s = nxt.arange(1000.0) * 0.5
    before = programs_built()
    total = sum(s[i].item() for i in range(1000))
    assert total == sum(i * 0.5 for i in range(1000))
    assert programs_built() - before == 0  # arange and a product: computed on the host


def test_counting_bigrams_writes_on_the_host():
    rng = random.Random(0)
    pairs = [(rng.randrange(27), rng.randrange(27)) for _ in range(1000)]
    counts = nxt.zeros((27, 27), dtype=nxt.int32)
    before, writes = programs_built(), elements.WRITES[0]
    for i, j in pairs:
        counts[i, j] += 1
    assert elements.WRITES[0] - writes == 1000
    assert programs_built() == before
    expected = np.zeros((27, 27), np.int32)
    for i, j in pairs:
        expected[i, j] += 1
    np.testing.assert_array_equal(counts.numpy(), expected)
    assert counts.dtype is nxt.int32 and counts[3, 4].item() == expected[3, 4]


def test_a_loop_over_rows_runs_one_program_for_every_row(torch):
    weights = nxt.randn(27, 5)
    weights.numpy()  # drawn before the loop (else its first iteration draws it: a program of its own)
    out = []
    before = programs_built()
    for row in range(27):
        out.append((weights[row] * 2).exp().sum().item())  # exp: no host twin, a program
    assert programs_built() - before == 1
    np.testing.assert_allclose(out, np.exp(2 * weights.numpy()).sum(axis=1), rtol=1e-6)


def test_minibatches_by_slices_share_their_program():
    data = nxt.arange(640.0).reshape(64, 10)
    before = programs_built()
    sums = [data[start:start + 8].tanh().sum().item() for start in range(0, 64, 8)]
    assert programs_built() - before <= 2  # the first batch (start 0) and the others
    np.testing.assert_allclose(sums, [np.tanh(np.arange(640.0).reshape(64, 10)[s:s + 8]).sum() for s in range(0, 64, 8)],
                               rtol=1e-6)


IN_PLACE = ["add_", "sub_", "mul_"]
NUMBERS = st.one_of(st.integers(-5, 5), st.floats(-4, 4, allow_nan=False, width=32), st.booleans())


@given(name=st.sampled_from(IN_PLACE), number=NUMBERS, dtype=st.sampled_from(["int32", "int64", "float32", "float64",
                                                                              "uint8", "int8"]))
def test_an_element_written_on_the_host_matches_the_general_path(name, number, dtype):
    start = np.arange(6).reshape(2, 3) - 2
    fast, general = nxt.tensor(start, dtype=getattr(nxt, dtype)), nxt.tensor(start, dtype=getattr(nxt, dtype))
    general.numpy()  # (shared with NumPy first, as the fast path leaves it)
    outcomes = []
    for tensor, use_fast in ((fast, True), (general, False)):
        writes = elements.WRITES[0]
        try:
            if use_fast:
                getattr(tensor[1, 2], name)(number)
            else:
                view = tensor[1:2, 2:3]  # a slice: not an element, the general path
                getattr(view, name)(number)
            outcomes.append(("ok", tensor.numpy().copy()))
        except RuntimeError as error:
            outcomes.append(("error", str(error)))
        used = elements.WRITES[0] > writes
        assert used == (use_fast and outcomes[-1][0] == "ok" and type(number) is not bool)
    assert outcomes[0][0] == outcomes[1][0]
    if outcomes[0][0] == "ok":
        np.testing.assert_array_equal(outcomes[0][1], outcomes[1][1])
    else:
        assert outcomes[0][1] == outcomes[1][1]


def test_element_writes_follow_pytorchs_rules(torch):
    for T in (torch, nxt):
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Int"):
            counts = T.zeros(3, 3, dtype=T.int32)
            counts[0, 0] += 0.5
        leaf = T.zeros(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            leaf[0] += 1
        flags = T.zeros(2, dtype=T.bool)
        flags[0] += True  # bool tensors take the general path: the same answer
        assert flags.tolist() == [True, False]


def test_an_element_write_shows_in_every_view_and_in_numpy():
    base = nxt.zeros(3, 4)
    row = base[1]
    shared = base.numpy()
    base[1, 2] += 5
    assert row[2].item() == 5.0 and shared[1, 2] == 5.0
    row[3] *= 2  # through a view of a view
    base[1, 3] += 1
    row[3] *= 2
    assert base[1, 3].item() == 2.0 and to_numpy(row).tolist() == [0.0, 0.0, 5.0, 2.0]


def test_writing_an_element_onto_itself_is_skipped_but_other_writes_are_not(torch):
    for T in (torch, nxt):
        x = T.arange(6.0).reshape(2, 3)
        x[0, 1] = x[0, 1]
        x[1, 2] = x[0, 1]  # another element: a real write
        assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 1.0]]


def test_host_evaluation_leaves_ops_without_a_numpy_twin_to_programs():
    before = host.EVALUATIONS[0]
    x = nxt.arange(4.0) + 1
    assert x.tolist() == [1.0, 2.0, 3.0, 4.0] and host.EVALUATIONS[0] == before + 1
    evaluations, runs = host.EVALUATIONS[0], programs_built() + cache.PROGRAMS.hits
    assert abs(x.exp()[0].item() - np.e) < 1e-6  # exp: a program (built here, or by an earlier test)
    assert host.EVALUATIONS[0] == evaluations and programs_built() + cache.PROGRAMS.hits == runs + 1


def test_an_update_by_a_tensor_never_asks_for_the_host_path(monkeypatch):
    asked = []
    real_update = elements.update
    monkeypatch.setattr(elements, "update", lambda *args: asked.append(args) or real_update(*args))
    w = nxt.tensor(1.0, requires_grad=True)
    w.grad = nxt.tensor(0.5)
    with nxt.no_grad():
        w.sub_(0.1 * w.grad)  # a training loop's update: a tensor operand
    assert asked == []
    counts = nxt.zeros(3)
    counts[1] += 1  # a number: the host path is asked, and takes it
    assert len(asked) == 1 and counts.tolist() == [0.0, 1.0, 0.0]
    assert w.item() == pytest.approx(0.95)
