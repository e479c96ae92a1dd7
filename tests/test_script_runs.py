"""The rules by which tests/test_notes.py and tests/test_learners.py compare nablax's output
with PyTorch's, and the runner that produces both, on made-up lines and scripts."""

from __future__ import annotations

import re

import script_runner
from script_runs import (
    collect_runs,
    compare_lines,
    count_tolerated_tokens,
    format_of,
    run_in_every_mode,
    shape_of,
    start_runner,
)


def test_format_ignores_values_signs_and_padding():
    assert format_of("tensor([[ 0.1989, -0.3315]])") == format_of("tensor([[-1.4019,  0.6886]])")
    assert format_of("tensor([1.2345e-01, 2.0000e+03])") == format_of("tensor([0.5, 0.25])")
    assert format_of("tensor([0.5], requires_grad=True)") != format_of("tensor([0.5])")
    assert format_of("torch.Size([2, 3])") != format_of("torch.Size([2, 3, 4])")


def test_shape_ignores_words_too():
    assert shape_of("mora.") == shape_of("kaylinnah.")
    assert shape_of("train 2.25") == shape_of("val 2.5")
    assert shape_of("mora.") != shape_of("mora")
    assert shape_of("['emma', 'ava']") != shape_of("['emma']")


def test_only_full_precision_numbers_get_a_tolerance():
    assert count_tolerated_tokens("loss = 21.674999237060547", "loss = 21.67500114440918") == 1
    assert count_tolerated_tokens("loss = 30.0", "loss = 30.000001907348633") == 1
    assert count_tolerated_tokens("loss = 8.988365607365267e-13", "loss = 9.592326932761353e-13") == 1
    assert count_tolerated_tokens("loss = 3.5343608033144847e-05", "loss = 3.5342833143658936e-05") == 1
    assert count_tolerated_tokens("tensor(2.5000)", "tensor(2.5001)") is None
    assert count_tolerated_tokens("tensor([3., 3.])", "tensor([3., 4.])") is None
    assert count_tolerated_tokens("w = 1.9412301778793335", "w = 1.9413301778793335") is None
    assert count_tolerated_tokens("w = 1.9412301778793335", "v = 1.9412301778793335") is None


def test_random_lines_are_compared_by_format_and_the_rest_exactly():
    comparison = compare_lines(
        ["tensor([ 0.5, -0.2])", "tensor(2.)", "<AddBackward0 object at 0x7f00>"],
        [["tensor([-0.1,  0.3])", "tensor(2.)", "<AddBackward0 object at 0x7f99>"]],
        ["tensor([0.7, 0.8])", "tensor(3.)", "<AddBackward0 object at 0x5500>"],
    )
    assert len(comparison.mismatches) == 1 and "line 2 (exact)" in comparison.mismatches[0]


def test_a_line_is_deterministic_only_when_every_seed_prints_it_alike():
    comparison = compare_lines(["loss 0.000102"], [["loss 0.000102"], ["loss 0.000101"]], ["loss 0.000099"])
    assert comparison.mismatches == []
    comparison = compare_lines(["loss 0.000102"], [["loss 0.000102"], ["loss 0.000102"]], ["loss 0.000099"])
    assert "line 1 (exact)" in comparison.mismatches[0]
    comparison = compare_lines(["loss 0.000102"], [["loss 0.000102"], ["loss 0.000102"]], ["loss 0.000099"],
                               random_lines=re.compile("loss"))
    assert comparison.mismatches == []


def test_random_text_is_compared_by_shape():
    comparison = compare_lines(["mora.", "step 1: emma"], [["kay.", "step 1: ava"]], ["anna.", "step 1 emma"])
    assert len(comparison.mismatches) == 1 and "line 2 (shape)" in comparison.mismatches[0]


def test_runner_shifts_seeds_and_isolates_scripts(torch, tmp_path):
    """Under the shifted modes, both the global seed and a generator's seed move; each script
    imports the modules beside it and writes into a directory of its own."""
    (tmp_path / "helper.py").write_text("VALUE = 'from the script folder'\n")
    draws = tmp_path / "draws.py"
    draws.write_text(
        "import os, torch, helper\n"
        "print(helper.VALUE)\n"
        "print(os.listdir('.'))\n"
        "open('written.txt', 'w').write('x')\n"
        "print(torch.rand(2))\n"
        "print(torch.rand(2, generator=torch.Generator().manual_seed(7)))\n"
    )
    runs = run_in_every_mode([draws], timeout_s=120)
    assert all(mode["draws.py"].status == 0 for mode in runs.values()), runs
    plain, shifted, again = (runs[mode]["draws.py"] for mode in ("torch", *script_runner.SEED_SHIFTS))
    assert plain.lines[:2] == ["from the script folder", "[]"]
    for line in (2, 3):
        assert len({plain.lines[line], shifted.lines[line], again.lines[line]}) == 3
    assert not (tmp_path / "written.txt").exists()


def test_runner_stops_a_slow_script_and_runs_the_next(torch, tmp_path):
    hang, after = tmp_path / "hang.py", tmp_path / "after.py"
    hang.write_text("while True:\n    pass\n")
    after.write_text("print('after')\n")
    runs = collect_runs(start_runner("torch", [hang, after], script_timeout_s=2), ["hang.py", "after.py"], timeout_s=120)
    assert runs["hang.py"].status == 1 and "ran longer than 2 s" in runs["hang.py"].stderr
    assert runs["after.py"].status == 0 and runs["after.py"].lines == ["after"]
