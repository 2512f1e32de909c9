"""The entry point: help, version, unknown commands."""

from __future__ import annotations

import pytest

from hakeeper.cli.main import main


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: hakeeper" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert "hakeeper" in capsys.readouterr().out
