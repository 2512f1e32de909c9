"""`hakeeper stonith create ID TYPE [name=value...] [op ...] [meta ...]` (pcs stonith create)
and `hakeeper stonith history [show|cleanup] [NODE]` (pcs stonith history)."""

from __future__ import annotations

import argparse
import json
import sys

from hakeeper.cli.common import add_output, add_store, add_wait, env_of, print_edit


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "stonith",
        help="fence devices",
        description="Create fence devices; show or clean up the fencing history (pcs stonith).",
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
    h = sub.add_parser(
        "history",
        help="the fencing history: show (the default) or cleanup [NODE]",
        description="Which nodes the cluster fenced, by which node's device, for which "
        "controller, and how it ended, newest first (pcs stonith history). `check` reports "
        "a fenced node until its history is cleaned up.",
    )
    h.add_argument("verb", nargs="?", choices=("show", "cleanup"), default="show")
    h.add_argument("node", nargs="?", help="only this node's history (default: every node's)")
    add_store(h)
    add_output(h)
    h.set_defaults(func=run_history)


def run_create(args: argparse.Namespace) -> int:
    from hakeeper.cli.resource_edit import resource_spec
    from hakeeper.commands.resource_config import stonith_create

    spec = resource_spec(args)  # first: it takes --store out of the remainder
    return print_edit(args, stonith_create(env_of(args), spec))


def run_history(args: argparse.Namespace) -> int:
    from hakeeper.cli.status_output import fence_line, fencing_json
    from hakeeper.commands.fencing import history_cleanup, history_show

    env = env_of(args)
    if args.verb == "cleanup":
        cleared = history_cleanup(env, args.node)
        if args.output == "json":
            json.dump(
                {"schema": "hakeeper.fencing-cleanup/1", "cleared": list(cleared)}, sys.stdout
            )
            sys.stdout.write("\n")
        elif cleared:
            print(f"cleaned up the fencing history of {', '.join(cleared)}")
        else:
            print(f"no fencing history{' of ' + args.node if args.node else ''} to clean up")
        return 0
    records = history_show(env, args.node)
    if args.output == "json":
        json.dump({"schema": "hakeeper.fencing/1", "events": fencing_json(records)}, sys.stdout)
        sys.stdout.write("\n")
    elif records:
        print("\n".join(fence_line(r) for r in records))
    else:
        print(f"no fencing history{' of ' + args.node if args.node else ''}")
    return 0
