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
]


class _Registrar(Protocol):
    def register(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        ...


class _Handler(Protocol):
    def __call__(self, args: argparse.Namespace) -> int: ...


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hakeeper",
        description="Keep a cloud's control plane highly available (Pacemaker-compatible).",
    )
    parser.add_argument("--version", action="version", version=f"hakeeper {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        cast(_Registrar, importlib.import_module(name)).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
