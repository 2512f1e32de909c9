"""`hakeeper property set|unset|list` (pcs property ...): cluster options in
cib-bootstrap-options."""

from __future__ import annotations

import argparse
import json
import sys

from hakeeper.cli.common import add_output, add_store, add_wait, env_of, pairs, print_edit


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "property",
        help="cluster properties (stonith-enabled, ...)",
        description="Set and list cluster properties (pcs property).",
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = sub.add_parser("set", help="set NAME=VALUE... (an empty value removes it)")
    q.add_argument("values", nargs="+", metavar="NAME=VALUE")
    q.add_argument("--force", action="store_true", help="allow a name Pacemaker does not know")
    add_store(q)
    add_output(q)
    add_wait(q)
    q.set_defaults(func=run_set)
    q = sub.add_parser("unset", help="remove properties (back to their defaults)")
    q.add_argument("names", nargs="+", metavar="NAME")
    add_store(q)
    add_output(q)
    add_wait(q)
    q.set_defaults(func=run_unset)
    q = sub.add_parser("list", aliases=["config"], help="the properties that are set")
    add_store(q)
    add_output(q)
    q.set_defaults(func=run_list)


def run_set(args: argparse.Namespace) -> int:
    from hakeeper.commands.cluster_options import property_set

    values = {k: (v or None) for k, v in pairs(args.values, "property set")}
    return print_edit(args, property_set(env_of(args), values, force=args.force))


def run_unset(args: argparse.Namespace) -> int:
    from hakeeper.commands.cluster_options import property_unset

    return print_edit(args, property_unset(env_of(args), args.names))


def run_list(args: argparse.Namespace) -> int:
    from hakeeper.commands.cluster_options import property_list

    values = property_list(env_of(args))
    if args.output == "json":
        json.dump({"schema": "hakeeper.properties/1", "properties": values}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print("Cluster Properties:")
    for name, value in values.items():
        print(f" {name}: {value}")
    return 0
