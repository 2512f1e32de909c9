"""`hakeeper node run --name NODE --store URL`: the node daemon, in the foreground."""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
from types import FrameType


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "node",
        help="the node daemon",
        description="Run this node's daemon: hold its lease, lead when elected, execute "
        "the actions addressed to it.",
    )
    from hakeeper.commands.env import store_url

    sub = p.add_subparsers(dest="node_command", metavar="ACTION", required=True)
    run_p = sub.add_parser("run", help="run the daemon in the foreground (log on stderr)")
    run_p.add_argument("--name", required=True, help="this node's name")
    run_p.add_argument(
        "--store",
        type=store_url,
        default=store_url(None),
        help="the coordination store: sqlite:///PATH or etcd://HOST:PORT,... (default: "
        "$HAKEEPER_STORE, else sqlite:///var/lib/hakeeper/store.db, as every command)",
    )
    run_p.add_argument(
        "--ttl", type=float, default=2.0, help="the lease's time to live in seconds (default 2)"
    )
    run_p.add_argument(
        "--recheck-interval",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="schedule again after this long without changes (default 60)",
    )
    run_p.add_argument(
        "--state-dir",
        default="/run/hakeeper",
        metavar="DIR",
        help="where the lease id is kept, so that a restarted daemon resumes "
        "its lease and adopts its resources (default /run/hakeeper)",
    )
    run_p.add_argument(
        "--fence-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop every resource when no keepalive succeeded for this long; "
        "must be below --ttl (default 0.75 x ttl)",
    )
    run_p.add_argument(
        "--shutdown-timeout",
        type=float,
        default=25.0,
        metavar="SECONDS",
        help="on SIGTERM the node's resources move elsewhere before it exits; past this "
        "long it stops what still runs here itself (default 25; a second SIGTERM exits "
        "at once)",
    )
    run_p.add_argument(
        "--container-engine",
        default="podman",
        metavar="COMMAND",
        help="how to call the container engine for bundles, split into words (default "
        "podman; e.g. docker, or 'nsenter --mount=/proc/1/ns/mnt -- podman')",
    )
    run_p.add_argument(
        "--netns",
        default=None,
        metavar="NAME",
        help="this node's network namespace (/run/netns/NAME), which a bundle's "
        "network=host means; default: the daemon's own (the host's)",
    )
    run_p.set_defaults(func=run)
    from hakeeper.cli import node_attrs  # standby, maintenance, attribute (pcs node ...)

    node_attrs.register(sub)


def render_status(cib_xml: str, output: str) -> str:
    """crm_mon's output (XML or text) for a CIB: what `hakeeper status --file` prints."""
    from hakeeper.cib.parse import parse_cib_text
    from hakeeper.cli.status_output import as_xml, render_text
    from hakeeper.commands.status import status_of

    dto = status_of(parse_cib_text(cib_xml), 0, 0)
    return as_xml(dto).decode() if output == "xml" else render_text(dto)


def run(args: argparse.Namespace) -> int:
    from hakeeper.agents.container import ContainerEngine, Mount
    from hakeeper.agents.ocf import DEFAULT_PATH, OcfRunner
    from hakeeper.agents.runner import LocalAgentRunner
    from hakeeper.coord import connect
    from hakeeper.node.attrd import (
        SHIMS,
        agent_environment,
        container_environment,
        container_mounts,
        executor_dirs,
    )
    from hakeeper.node.daemon import NodeDaemon

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    try:
        coord = connect(args.store)
    except ValueError as err:
        sys.stderr.write(f"hakeeper node run: --store {args.store}: {err}\n")
        return 2
    ocf = OcfRunner(
        path=f"{SHIMS}:{DEFAULT_PATH}", extra_env=agent_environment(args.state_dir, args.name)
    )
    words = shlex.split(args.container_engine)
    if not words:
        sys.stderr.write("hakeeper node run: --container-engine is empty\n")
        return 2
    runner = LocalAgentRunner(
        ocf=ocf,
        engine=ContainerEngine(words[0], global_args=words[1:]),
        netns=args.netns,
        mounts=tuple(Mount(*m) for m in container_mounts(args.state_dir, args.name)),
        inner_path=f"{SHIMS}:{DEFAULT_PATH}",
        inner_env=container_environment(args.state_dir, args.name),
        executor_dirs=executor_dirs(args.state_dir, args.name),
    )
    try:
        daemon = NodeDaemon(
            coord,
            args.name,
            runner,
            ttl=args.ttl,
            recheck_s=args.recheck_interval,
            state_dir=args.state_dir,
            fence_after=args.fence_after,
            shutdown_timeout=args.shutdown_timeout,
            render_status=render_status,
        )
    except ValueError as err:
        coord.close()
        sys.stderr.write(f"hakeeper node run: {err}\n")
        return 2

    def on_signal(signum: int, frame: FrameType | None) -> None:
        daemon.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        return daemon.run()
    finally:
        coord.close()
