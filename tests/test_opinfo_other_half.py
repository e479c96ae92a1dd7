"""The other half of op_db's entries: test_opinfo.py runs every second entry from the first,
this file the rest, so that two of the suite's workers (a file each) share op_db's checks."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("expecttest")

from test_opinfo import cases, run_entry  # noqa: E402


@pytest.mark.parametrize(("op", "check"), list(cases(half=1)))
def test_entry(op, check):
    run_entry(op, check)
