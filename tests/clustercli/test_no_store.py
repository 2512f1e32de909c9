"""A mistyped store path: every command but `cluster setup`/`cib import` says there is no
store there, exits non-zero, and leaves no file behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakeeper.cli.main import main

COMMANDS = [
    ["status"],
    ["status", "-o", "json"],
    ["cib", "export"],
    ["property", "list"],
    ["constraint", "list"],
    ["resource", "show"],
    ["cluster", "status"],
    ["resource", "disable", "d1"],
    ["property", "set", "stonith-enabled=false"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_no_store_no_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    path = tmp_path / "typo.db"
    capsys.readouterr()
    code = main([*argv, "--store", f"sqlite://{path}"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"no store at {path}" in err and "hakeeper cluster setup" in err
    assert "Traceback" not in err
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_setup_and_import_create_the_store(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = f"sqlite://{tmp_path / 'a.db'}"
    assert main(["cluster", "setup", "demo", "ctl1", "--store", first]) == 0
    assert main(["cib", "export", str(tmp_path / "cib.xml"), "--store", first]) == 0
    second = tmp_path / "b.db"
    assert main(["cib", "import", str(tmp_path / "cib.xml"), "--store", f"sqlite://{second}"]) == 0
    assert second.exists()
    assert main(["status", "--store", f"sqlite://{second}"]) == 0
