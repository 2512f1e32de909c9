"""`hakeeper cluster setup|start|stop|status` (pcs cluster ...)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from hakeeper.cli.common import add_output, add_store, env_of, seconds


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "cluster",
        help="set up the cluster; start and stop this host's node daemons",
        description="Create a cluster in the store, and start or stop the node daemons "
        "(`hakeeper node run`) on this host, tracked by PID files in "
        "$HAKEEPER_RUN_DIR (default /run/hakeeper).",
    )
    sub = p.add_subparsers(dest="cluster_command", metavar="ACTION", required=True)
    setup = sub.add_parser(
        "setup", help="write a new cluster's configuration: its nodes and default properties"
    )
    setup.add_argument("name", help="the cluster's name (property cluster-name)")
    setup.add_argument("nodes", nargs="+", metavar="NODE")
    setup.add_argument(
        "--force", action="store_true", help="replace a configuration the store already holds"
    )
    add_store(setup)
    setup.set_defaults(func=run_setup)
    for verb, text in (
        ("start", "start the node daemons of NODEs (or --all) on this host"),
        ("stop", "stop the node daemons of NODEs (or --all) on this host"),
    ):
        q = sub.add_parser(verb, help=text)
        q.add_argument("nodes", nargs="*", metavar="NODE")
        q.add_argument("--all", action="store_true", help="every node of the cluster")
        add_store(q)
        if verb == "start":
            q.add_argument(
                "--wait",
                nargs="?",
                const=60.0,
                type=seconds,
                metavar="SECONDS",
                help="wait until the nodes are online (hold a lease); default 60",
            )
        q.set_defaults(func=run_start if verb == "start" else run_stop)
    status = sub.add_parser("status", help="nodes, leases, leader and local daemons")
    add_store(status)
    add_output(status)
    status.set_defaults(func=run_status)


def run_setup(args: argparse.Namespace) -> int:
    from hakeeper.commands.cluster import cluster_setup

    dto = cluster_setup(env_of(args), args.name, args.nodes, force=args.force)
    print(
        f"Cluster '{dto.name}' set up with nodes {', '.join(dto.nodes)} (revision {dto.revision})"
    )
    return 0


def run_start(args: argparse.Namespace) -> int:
    from hakeeper.commands.cluster import cluster_start, wait_members

    env = env_of(args)
    daemons = cluster_start(env, args.nodes, all_nodes=args.all)
    for d in daemons:
        state = "started" if d.changed else "already running"
        print(f"{d.node}: {state} (pid {d.pid}, log {d.log})")
    if args.wait is not None:
        wait_members(env, [d.node for d in daemons], args.wait)
    return 0


def run_stop(args: argparse.Namespace) -> int:
    from hakeeper.commands.cluster import cluster_stop

    for d in cluster_stop(env_of(args), args.nodes, all_nodes=args.all):
        print(f"{d.node}: {'stopped' if d.changed else 'not running here'}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from hakeeper.commands.cluster import cluster_state

    dto = cluster_state(env_of(args))
    if args.output == "json":
        json.dump({"schema": "hakeeper.cluster-status/1", **asdict(dto)}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"Cluster name: {dto.name or '(none)'}")
    print(f"Configuration revision: {dto.revision}")
    print(f"Leader: {dto.leader or 'NONE'}")
    print("Nodes:")
    for node, daemon in zip(dto.nodes, dto.daemons, strict=True):
        lease = "Online" if node in dto.members else "Offline"
        local = f"daemon pid {daemon.pid}" if daemon.running else "no daemon on this host"
        print(f"  {node}: {lease} ({local})")
    return 0
