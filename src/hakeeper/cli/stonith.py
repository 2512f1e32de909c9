"""`hakeeper stonith create ID TYPE [name=value...] [op ...] [meta ...]` (pcs stonith create)."""

from __future__ import annotations

import argparse

from hakeeper.cli.common import add_output, add_store, add_wait, env_of, print_edit


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "stonith", help="fence devices", description="Create fence devices (pcs stonith)."
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = sub.add_parser(
        "create",
        help="create a fence device: ID TYPE [name=value...] "
        "[op NAME name=value...] [meta name=value...]",
    )
    q.add_argument("id")
    q.add_argument("agent", metavar="TYPE", help="a fence agent, e.g. fence_ipmilan")
    q.add_argument("options", nargs=argparse.REMAINDER)
    q.add_argument("--disabled", action="store_true")
    q.add_argument("--force", action="store_true")
    add_store(q)
    add_output(q)
    add_wait(q)
    q.set_defaults(func=run_create, group=None, before=None, after=None)


def run_create(args: argparse.Namespace) -> int:
    from hakeeper.cli.resource_edit import resource_spec
    from hakeeper.commands.resource_config import stonith_create

    spec = resource_spec(args)  # first: it takes --store out of the remainder
    return print_edit(args, stonith_create(env_of(args), spec))
