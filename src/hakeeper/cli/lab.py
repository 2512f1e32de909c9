"""`hakeeper lab up|down|status|fail`: a cluster of namespaces on this machine."""

from __future__ import annotations

import argparse
import json
import os
import sys

from hakeeper.reports import CommandError, Report, codes


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "lab",
        help="a 3-controller cluster in network namespaces on this machine",
        description="Make, inspect, break and remove a lab cluster: one network namespace "
        "per controller on a bridge, etcd and the node daemon in each, real "
        "services. Needs root.",
    )
    p.add_argument(
        "--dir",
        default=os.environ.get("HAKEEPER_LAB_DIR"),
        help="the lab's directory (default /var/lib/hakeeper/lab, or $HAKEEPER_LAB_DIR)",
    )
    sub = p.add_subparsers(dest="lab_command", metavar="ACTION", required=True)

    up = sub.add_parser("up", help="make the lab and wait until the cluster converges")
    up.add_argument("--nodes", type=int, default=3, help="controllers (default 3)")
    up.add_argument(
        "--profile",
        choices=["openstack", "minimal"],
        default="openstack",
        help=(
            "openstack (default, as make lab): the seeds' bundles (galera, rabbitmq, "
            "redis, haproxy, memcached, cinder-volume) and VIPs; minimal: VIPs, haproxy, "
            "redis, for quick runs"
        ),
    )
    up.add_argument(
        "--store",
        choices=["etcd", "sqlite"],
        default="etcd",
        help="the coordination store (default: an etcd member per node)",
    )
    up.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for convergence (default 300)",
    )
    up.add_argument(
        "--cache",
        default=None,
        help="where the built images are kept (default /var/cache/hakeeper/lab)",
    )
    up.add_argument("--output", choices=["text", "json"], default="text")
    up.set_defaults(func=run_up)

    down = sub.add_parser("down", help="remove everything the lab made")
    down.add_argument(
        "--purge",
        action="store_true",
        help="also remove the image cache (the next openstack lab rebuilds it)",
    )
    down.set_defaults(func=run_down)

    status = sub.add_parser("status", help="nodes, processes, VIPs and resources")
    status.add_argument("--output", choices=["text", "json"], default="text")
    status.set_defaults(func=run_status)

    fail = sub.add_parser(
        "fail",
        help="inject a fault",
        description="node NAME: power it off (every process killed, link "
        "down); partition NAME: cut its link; rabbit-partition NAME: cut only RabbitMQ's "
        "cluster links to and from it; kill NAME PROCESS: "
        "kill a service process in it; hang NAME PROCESS: stop it (SIGSTOP: alive, "
        "answering nothing); heal [NAME]: undo (a killed node boots again, a hung "
        "process goes on).",
    )
    fail.add_argument(
        "fault", choices=["node", "partition", "rabbit-partition", "kill", "hang", "heal"]
    )
    fail.add_argument("target", nargs="?", help="the node (all nodes for heal)")
    fail.add_argument(
        "process", nargs="?", help="for kill and hang: the process name (redis-server)"
    )
    fail.set_defaults(func=run_fail)


def _directory(args: argparse.Namespace) -> str:
    from hakeeper.lab.plan import DEFAULT_DIR

    return str(args.dir or DEFAULT_DIR)


def _progress(text: str, seconds: float) -> None:
    print(f"[{seconds:6.1f}s] {text}", file=sys.stderr, flush=True)


def run_up(args: argparse.Namespace) -> int:
    from hakeeper.lab.lifecycle import lab_up
    from hakeeper.lab.plan import DEFAULT_CACHE, Profile, StoreKind, make_plan

    try:
        plan = make_plan(
            args.nodes,
            directory=_directory(args),
            cache=args.cache or DEFAULT_CACHE,
            profile=Profile(args.profile),
            store=StoreKind(args.store),
        )
    except ValueError as exc:
        raise CommandError(Report.error(codes.BAD_OPTION, str(exc))) from exc
    result = lab_up(plan, _progress, timeout=args.timeout)
    doc = {
        "converged": result.converged,
        "seconds": round(result.seconds, 2),
        "image_seconds": None if result.image_seconds is None else round(result.image_seconds, 1),
        "image_built": result.image_built,
        "profile": plan.profile.value,
        "store": plan.store_url,
        "nodes": [n.name for n in plan.nodes],
    }
    if args.output == "json":
        print(json.dumps(doc, indent=2))
    else:
        verdict = "converged" if result.converged else "NOT converged"
        print(
            f"lab {verdict} in {result.seconds:.1f} s ({plan.profile.value} profile, "
            f"{len(plan.nodes)} nodes, store {plan.store_url.split('?')[0]})"
        )
        if result.observation is not None:
            print("\n".join(result.observation.text))
    return 0 if result.converged else 1


def run_down(args: argparse.Namespace) -> int:
    from hakeeper.lab.lifecycle import lab_down
    from hakeeper.lab.plan import DEFAULT_CACHE

    result = lab_down(_directory(args), _progress, purge=args.purge, cache=DEFAULT_CACHE)
    if result.leftovers:
        for item in result.leftovers:
            print(f"hakeeper lab: left behind: {item}", file=sys.stderr)
        return 1
    return 0


def run_status(args: argparse.Namespace) -> int:
    from hakeeper.lab.status import lab_status, render

    status = lab_status(_directory(args))
    if args.output == "json":
        print(json.dumps(status.to_doc(), indent=2))
    else:
        print("\n".join(render(status)))
    return 0


def run_fail(args: argparse.Namespace) -> int:
    from hakeeper.lab.fault import inject

    if args.fault != "heal" and not args.target:
        raise CommandError(
            Report.error(
                codes.BAD_OPTION,
                f"fail {args.fault} needs a node",
                hint=f"hakeeper lab fail {args.fault} ctl0",
            )
        )
    if args.fault in ("kill", "hang") and not args.process:
        raise CommandError(
            Report.error(
                codes.BAD_OPTION,
                f"fail {args.fault} needs a node and a process name",
                hint=f"hakeeper lab fail {args.fault} ctl0 redis-server",
            )
        )
    for line in inject(_directory(args), args.fault, args.target, args.process):
        print(line)
    return 0
