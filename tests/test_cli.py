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


def _registered_help() -> dict[str, str | None]:
    import argparse

    from hakeeper.cli.main import full_parser

    parser = full_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {choice.dest: choice.help for choice in sub._choices_actions}


def test_the_listed_commands_are_the_registered_ones_with_their_help() -> None:
    from hakeeper.cli.main import SUBCOMMANDS

    assert _registered_help() == SUBCOMMANDS


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    from hakeeper.cli.main import SUBCOMMANDS

    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps long lines
    for name, text in SUBCOMMANDS.items():
        assert name in out and text in out


def test_unknown_command_is_refused_with_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["stauts"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'stauts'" in err and "status" in err


def _modules_after(*argv: str) -> set[str]:
    """The hakeeper and third-party modules a fresh interpreter has loaded after `argv`."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from hakeeper.cli.main import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "json.dump(sorted(sys.modules), sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(out.stderr.strip().splitlines()[-1]))


def test_help_imports_no_sub_command() -> None:
    loaded = _modules_after("--help")
    assert not [m for m in loaded if m.startswith("hakeeper.cli.") and m != "hakeeper.cli.main"]
    assert not {"lxml", "aetcd", "grpc", "hakeeper.scheduler"} & loaded


def test_a_command_imports_only_its_own_module_and_not_the_scheduler() -> None:
    # `check --from` reads files: no store client, no scheduler, no agents
    loaded = _modules_after("check", "--from", "/nonexistent")
    assert {m for m in loaded if m.startswith("hakeeper.cli.")} == {
        "hakeeper.cli.main",
        "hakeeper.cli.check",
    }
    assert not {"aetcd", "grpc", "hakeeper.scheduler", "hakeeper.agents"} & loaded
