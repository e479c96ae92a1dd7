"""docs/errors.md is the table of errors a user can meet; every row's code raises the error
named there, with the message shown, and leaves nothing half done."""

import pathlib
import re

import pytest

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "errors.md"
PRELUDE = "import numpy as np, jax, jax.numpy as jnp, optax\nimport nablax as nx\nimport nablax.stateful as torch\n"
ROW = re.compile(r"^\| `(?P<code>[^`]+)` \| `(?P<error>\w+)` \| `(?P<message>[^`]+)` \| (?P<fix>[^|]+) \|$")


def rows():
    table_lines = [line for line in DOC.read_text().splitlines() if line.startswith("| `")]
    parsed = [ROW.match(line) for line in table_lines]
    assert all(parsed), [line for line, match in zip(table_lines, parsed) if not match]
    return [match.groupdict() for match in parsed]


ROWS = rows()


def test_the_table_is_long_and_every_row_has_a_fix():
    assert len(ROWS) >= 50
    assert all(len(row["fix"].strip()) > 10 for row in ROWS)
    assert len({row["code"] for row in ROWS}) == len(ROWS)


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
@pytest.mark.parametrize("row", ROWS, ids=[row["code"][:60] for row in ROWS])
def test_the_code_raises_the_documented_error(row, tmp_path):
    namespace = {"path": tmp_path / "file.safetensors"}
    exec(PRELUDE, namespace)
    with pytest.raises(Exception) as caught:
        exec(row["code"], namespace)
    assert type(caught.value).__name__ == row["error"]
    assert row["message"] in " ".join(str(caught.value).split()), str(caught.value)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "file.safetensors"]
    assert not leftovers, "a failed call left temporary files behind"
