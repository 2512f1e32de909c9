"""`hakeeper node run` refuses bad flags with a clear message and exit 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--store", "foo://x"], "the scheme must be one of"),
        (
            ["--store", "sqlite:///{tmp}/s.db", "--ttl", "1", "--fence-after", "2"],
            "must be above 0 and below the lease's ttl",
        ),
    ],
)
def test_bad_flags(tmp_path: Path, flags: list[str], says: str) -> None:
    argv = [f.replace("{tmp}", str(tmp_path)) for f in flags]
    done = subprocess.run(
        [sys.executable, "-m", "hakeeper.cli.main", "node", "run", "--name", "n1", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert says in done.stderr and "Traceback" not in done.stderr
