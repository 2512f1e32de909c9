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

# One sub-command per module hakeeper.cli.NAME, whose `register(subparsers)` adds its
# parser and sets `func`; its one-line help is kept here too, so `hakeeper --help` lists
# every command without importing any (tests/test_cli.py checks the two agree).
SUBCOMMANDS: dict[str, str] = {
    "simulate": "compute what the cluster would do, from a CIB file",
    "check": "check the control plane: cluster, containers, galera, rabbitmq, ...",
    "resource": "create, change, move and debug resources (pcs resource ...)",
    "report": "collect CIB, status, probe outputs, container logs into one archive",
    "node": "the node daemon",
    # the cluster's configuration and state (pcs's verbs): docs/cli.md
    "cluster": "set up the cluster; start and stop this host's node daemons",
    "status": "show the cluster's nodes and resources (pcs status)",
    "constraint": "location, colocation and order constraints",
    "property": "cluster properties (stonith-enabled, ...)",
    "stonith": "fence devices",
    "bundle": "container bundles (pcs resource bundle)",
    "cib": "the configuration as Pacemaker CIB XML",
    "lab": "a 3-controller cluster in network namespaces on this machine",
}
SUBCOMMAND_MODULES = [f"hakeeper.cli.{name}" for name in SUBCOMMANDS]


class _Registrar(Protocol):
    def register(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None: ...


class _Handler(Protocol):
    def __call__(self, args: argparse.Namespace) -> int: ...


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line with `command`'s full parser; every other command is only listed.

    Importing a sub-command module imports everything its command runs (the store clients,
    the scheduler, lxml...): start-up imports only the module of the command being run, and
    `hakeeper --help` or a typo none at all.
    """
    parser, subparsers = _root_parser()
    for name, text in SUBCOMMANDS.items():
        if name == command:
            cast(_Registrar, importlib.import_module(f"hakeeper.cli.{name}")).register(subparsers)
        else:
            subparsers.add_parser(name, help=text, add_help=False)
    return parser


def full_parser() -> argparse.ArgumentParser:
    """Every sub-command's full parser (for documentation and tests)."""
    parser, subparsers = _root_parser()
    for name in SUBCOMMAND_MODULES:
        cast(_Registrar, importlib.import_module(name)).register(subparsers)
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
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    parser = build_parser(command)
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
