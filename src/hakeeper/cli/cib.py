"""`hakeeper cib export|import`: the stored configuration as Pacemaker CIB XML, out and in."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hakeeper.cli.common import add_output, add_store, add_wait, env_of, print_edit
from hakeeper.reports import CommandError, Report, codes


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "cib",
        help="the configuration as Pacemaker CIB XML",
        description="Export the stored configuration as a Pacemaker "
        "CIB, or replace it with one (cibadmin --query / "
        "--replace).",
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = sub.add_parser("export", help="write the CIB to FILE (or stdout)")
    q.add_argument("file", nargs="?", help="where to write (default: stdout)")
    add_store(q)
    q.set_defaults(func=run_export)
    q = sub.add_parser("import", help="replace the configuration with FILE's (- for stdin)")
    q.add_argument("file")
    q.add_argument(
        "--revision",
        type=int,
        metavar="N",
        help="only if the stored configuration is still at revision N "
        "(from `cib export`'s message): a conflict otherwise",
    )
    add_store(q)
    add_output(q)
    add_wait(q)
    q.set_defaults(func=run_import)


def run_export(args: argparse.Namespace) -> int:
    from hakeeper.commands.cib_io import cib_export, cib_text

    stored = cib_export(env_of(args))
    text = cib_text(stored)
    if args.file:
        try:
            Path(args.file).write_text(text)
        except OSError as err:
            raise CommandError(
                Report.error(
                    codes.FILE_WRITE_FAILED,
                    f"cannot write {args.file}: {err.strerror}",
                    where=args.file,
                    hint="choose a writable path",
                )
            ) from None
    else:
        sys.stdout.write(text)
    print(f"configuration revision {stored.revision}", file=sys.stderr)
    return 0


def run_import(args: argparse.Namespace) -> int:
    from hakeeper.commands.cib_io import cib_import

    if args.file == "-":
        text, source = sys.stdin.read(), "<stdin>"
    else:
        try:
            text, source = Path(args.file).read_text(), args.file
        except OSError as err:
            raise CommandError(
                Report.error(
                    codes.FILE_NOT_FOUND,
                    f"cannot read {args.file}: {err.strerror}",
                    where=args.file,
                    hint="give the path of a CIB XML file",
                )
            ) from None
    return print_edit(args, cib_import(env_of(args), text, source, expected_revision=args.revision))
