"""`hakeeper node standby|unstandby|maintenance|unmaintenance|attribute` (pcs node ...):
permanent node attributes in the configuration's nodes section."""

from __future__ import annotations

import argparse
import json
import sys

from hakeeper.cli.common import add_output, add_store, add_wait, env_of, pairs, print_edit


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, text in (
        ("standby", "put nodes (all with --all) in standby"),
        ("unstandby", "take nodes out of standby"),
        ("maintenance", "put nodes in maintenance mode"),
        ("unmaintenance", "take nodes out of maintenance mode"),
    ):
        q = sub.add_parser(name, help=text, description=text)
        q.add_argument("nodes", nargs="*", metavar="NODE")
        q.add_argument("--all", action="store_true", help="every node")
        add_store(q)
        add_output(q)
        add_wait(q)
        q.set_defaults(func=run_flag, verb=name)
    q = sub.add_parser(
        "attribute", help="NODE NAME=VALUE... sets (empty value removes); no values: list"
    )
    q.add_argument("node", nargs="?")
    q.add_argument("values", nargs="*", metavar="NAME=VALUE")
    add_store(q)
    add_output(q)
    add_wait(q)
    q.set_defaults(func=run_attribute)
    q = sub.add_parser("utilization", help="NODE NAME=VALUE...: node utilization")
    q.add_argument("node")
    q.add_argument("values", nargs="+", metavar="NAME=VALUE")
    add_store(q)
    add_output(q)
    add_wait(q)
    q.set_defaults(func=run_utilization)


def run_flag(args: argparse.Namespace) -> int:
    from hakeeper.commands.cluster_options import node_maintenance, node_standby
    from hakeeper.reports import CommandError, Report, codes

    if not args.nodes and not args.all:
        raise CommandError(
            Report.error(
                codes.BAD_OPTION,
                f"name the nodes to {args.verb}, or pass --all",
                where=f"node {args.verb}",
                hint=f"hakeeper node {args.verb} NODE",
            )
        )
    on = not args.verb.startswith("un")
    fn = node_standby if args.verb.endswith("standby") else node_maintenance
    return print_edit(args, fn(env_of(args), args.nodes, on))


def run_attribute(args: argparse.Namespace) -> int:
    from hakeeper.commands.cluster_options import node_attribute_set, node_attributes

    if args.values:
        changes = {k: (v or None) for k, v in pairs(args.values, "node attribute")}
        return print_edit(args, node_attribute_set(env_of(args), args.node, changes))
    attrs = node_attributes(env_of(args))
    if args.node:
        attrs = {k: v for k, v in attrs.items() if k == args.node}
    if args.output == "json":
        json.dump({"schema": "hakeeper.node-attributes/1", "nodes": attrs}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print("Node Attributes:")
    for node, values in attrs.items():
        if values:
            print(f" {node}: " + " ".join(f"{k}={v}" for k, v in values.items()))
    return 0


def run_utilization(args: argparse.Namespace) -> int:
    from hakeeper.commands.cluster_options import node_attribute_set

    values = {k: (v or None) for k, v in pairs(args.values, "node utilization")}
    return print_edit(args, node_attribute_set(env_of(args), args.node, values, utilization=True))
