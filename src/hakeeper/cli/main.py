"""The `hakeeper` entry point: one sub-command per module, errors as reports, exit codes.

Exit codes: 0 ok; 1 the command ran and found problems (e.g. `check` critical);
2 bad input or a failed command (a message says what, where, and what to do).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from hakeeper import __version__
from hakeeper.reports import CommandError

# Each module has `register(subparsers)`, which adds its parser and sets `func`.
SUBCOMMAND_MODULES = [
    "hakeeper.cli.simulate",
    "hakeeper.cli.check",
    "hakeeper.cli.resource",
    "hakeeper.cli.report",
    "hakeeper.cli.node",
    # the cluster's configuration and state (pcs's verbs): docs/cli.md
    "hakeeper.cli.cluster",
    "hakeeper.cli.status",
    "hakeeper.cli.constraint",
    "hakeeper.cli.property",
    "hakeeper.cli.stonith",
    "hakeeper.cli.bundle",
    "hakeeper.cli.cib",
    "hakeeper.cli.lab",
]


class _Registrar(Protocol):
    def register(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None: ...


class _Handler(Protocol):
    def __call__(self, args: argparse.Namespace) -> int: ...


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `command`, only that sub-command's parser if it can.

    Importing a sub-command module imports everything its command runs, so start-up only
    imports the one module named like the command (hakeeper.cli.COMMAND) when it registers
    that command; anything else (help, typos, other names) gets every sub-command.
    """
    modules = SUBCOMMAND_MODULES
    if command is not None:
        modules = [m for m in SUBCOMMAND_MODULES if m.rpartition(".")[2] == command]
    parser, subparsers = _root_parser()
    for name in modules:
        cast(_Registrar, importlib.import_module(name)).register(subparsers)
    if command is not None and (not modules or command not in subparsers.choices):
        return build_parser()
    return parser


def _root_parser() -> tuple[
    argparse.ArgumentParser, argparse._SubParsersAction[argparse.ArgumentParser]
]:
    parser = argparse.ArgumentParser(
        prog="hakeeper",
        description="Keep a cloud's control plane highly available (Pacemaker-compatible).",
    )
    parser.add_argument("--version", action="version", version=f"hakeeper {__version__}")
    return parser, parser.add_subparsers(dest="command", metavar="COMMAND")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # The sub-command comes first unless a top-level option (-h, --version) does.
    parser = build_parser(argv[0] if argv and not argv[0].startswith("-") else None)
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return cast(_Handler, func)(args)
    except CommandError as err:
        for report in err.reports:
            print(f"hakeeper {args.command}: {report.render()}", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("hakeeper: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
