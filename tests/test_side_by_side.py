"""`nablax.side_by_side`: the three styles train the same MLP to the same numbers."""

import numpy as np
import pytest

from nablax import side_by_side
from nablax.demo import load_digits_split


@pytest.fixture(scope="module")
def results():
    x_train, x_test, y_train, y_test = load_digits_split()
    return side_by_side.compare((x_train, y_train), (x_test, y_test), hidden=32, epochs=3, batch_size=50)


def test_every_step_loss_agrees_across_the_styles(results):
    assert [r.style for r in results] == ["stateful", "jitted", "fused"]
    steps = -(-1437 // 50) * 3  # 29 batches per epoch, the last one a remainder of 37
    assert all(len(r.losses) == steps for r in results)
    assert side_by_side.largest_loss_gap(results) <= 1e-5
    assert results[0].losses[-1] < results[0].losses[0] / 2


def test_the_styles_reach_the_same_accuracy_and_time_their_steps(results):
    assert len({round(r.test_accuracy, 6) for r in results}) == 1 and results[0].test_accuracy > 0.8
    assert all(r.seconds_per_step > 0 and r.first_epoch_seconds > 0 for r in results)


def test_batches_follow_fits_order():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10, dtype=np.int32)
    batches = side_by_side.epoch_batches(x, y, 4, key=0, epoch=1)
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate([b[1] for b in batches])) == list(range(10))
    assert not np.array_equal(np.concatenate([b[1] for b in batches]),
                              np.concatenate([b[1] for b in side_by_side.epoch_batches(x, y, 4, key=0, epoch=0)]))


def test_table_lines_up_and_plot_writes_a_png(results, tmp_path):
    lines = side_by_side.table(results).splitlines()
    assert len(lines) == 5 and len({len(line) for line in lines}) == 1
    assert sum("1.00x" in line for line in lines[2:]) >= 1  # the fastest style is the unit
    path = side_by_side.plot_losses(results, tmp_path / "deep" / "losses.png", steps_per_epoch=29)
    assert path.read_bytes()[:4] == b"\x89PNG" and not list(path.parent.glob(".*.tmp"))
