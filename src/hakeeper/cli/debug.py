"""`hakeeper resource debug REPLICA ACTION`: the container debugging steps of the seeds.

Exit: 0 done; exec passes the command's own status through; 1 a restart failed;
2 bad input (no such replica, no engine, no config file), with a message on stderr.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from hakeeper.commands.debug import (
    DebugAction,
    DebugDto,
    DebugEnv,
    EnableDebug,
    Exec,
    Export,
    Inspect,
    Logs,
    PrintCmd,
    RestartMode,
    RestartOutcome,
    debug,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "debug",
        help="debug a replica's container: print-cmd, exec, logs, inspect, export, enable-debug",
        description="Debug the container of a bundle replica (galera-bundle-0) or any"
        " container (nova_api) on this host, through podman or docker, whichever has it.",
    )
    p.add_argument(
        "replica", metavar="REPLICA", help="a bundle replica (galera-bundle-0) or a container name"
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--output", choices=("text", "json"), default="text")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser(
        "print-cmd",
        parents=[common],
        help="the `podman run` command line that starts it, from inspect",
    )
    ex = actions.add_parser(
        "exec", parents=[common], help="run a command in it (default: a shell): exec -- CMD..."
    )
    ex.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD")
    lg = actions.add_parser("logs", parents=[common], help="its stdout/stderr log")
    lg.add_argument(
        "--tail",
        type=int,
        default=100,
        metavar="N",
        help="last N lines (default 100; 0 with --all)",
    )
    lg.add_argument("--all", action="store_true", help="the whole log")
    lg.add_argument("--since", metavar="TIME", help="only since TIME (10m, 2h, a timestamp)")
    actions.add_parser("inspect", parents=[common], help="the engine's inspect JSON")
    xp = actions.add_parser(
        "export", parents=[common], help="its filesystem to a tar, for the logs not in volumes"
    )
    xp.add_argument("out", metavar="OUT.tar", type=Path)
    en = actions.add_parser(
        "enable-debug",
        parents=[common],
        help="debug=True in SERVICE's config, then a safe restart",
        description="Set debug=True in [DEFAULT] of SERVICE.conf in the config dir mounted"
        " into the container (a backup is kept), then restart it. A Pacemaker bundle replica"
        " is not restarted behind the cluster's back: the pcs command is printed instead.",
    )
    en.add_argument("service", metavar="SERVICE", help="nova, cinder, neutron, ...")
    mode = en.add_mutually_exclusive_group()
    mode.add_argument("--no-restart", action="store_true", help="only edit the config")
    mode.add_argument(
        "--force",
        action="store_true",
        help="restart through the engine even if Pacemaker manages it",
    )
    p.set_defaults(func=run)


def action_of(args: argparse.Namespace) -> DebugAction:
    if args.action == "print-cmd":
        return PrintCmd()
    if args.action == "exec":
        cmd = list(args.cmd)
        if cmd and cmd[0] == "--":
            cmd = cmd[1:]
        return Exec(tuple(cmd), tty=sys.stdin.isatty() and sys.stdout.isatty())
    if args.action == "logs":
        return Logs(None if args.all else args.tail, args.since)
    if args.action == "inspect":
        return Inspect()
    if args.action == "export":
        return Export(args.out)
    restart = (
        RestartMode.NONE
        if args.no_restart
        else RestartMode.FORCE
        if args.force
        else RestartMode.SAFE
    )
    return EnableDebug(args.service, restart)


def run(args: argparse.Namespace) -> int:
    dto = debug(DebugEnv.from_os(), args.replica, action_of(args))
    if args.output == "json":
        json.dump(dto.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(dto))
    return dto.exit_code or 0


def render_text(dto: DebugDto) -> str:
    """What a person reads; exec's output already went to the terminal."""
    where = f"{dto.engine} container {dto.container}" + (
        f" (replica of {dto.bundle})" if dto.bundle else ""
    )
    if dto.action == "print-cmd":
        out = [f"# {where}", shlex.join(dto.command)]
        if dto.create_command:
            out += [f"# as {dto.engine} recorded it at creation:", shlex.join(dto.create_command)]
        return "\n".join(out) + "\n"
    if dto.action in ("inspect", "logs"):
        return dto.output
    if dto.action == "exec":
        return ""
    if dto.action == "export":
        return (
            f"{where}: filesystem written to {dto.path} ({dto.size_bytes or 0} bytes)\n"
            + "".join(f"  $ {step}\n" for step in dto.next_steps)
        )
    out = [where]
    if dto.config is not None:
        if dto.config.changed:
            out.append(f"  debug=True set in {dto.config.path} (backup {dto.config.backup})")
        else:
            out.append(f"  debug already on in {dto.config.path}: {dto.config.previous}")
    if dto.restart is not None:
        r = dto.restart
        line = {
            RestartOutcome.RESTARTED: f"  restarted: {shlex.join(r.command)}",
            RestartOutcome.FAILED: f"  RESTART FAILED: {shlex.join(r.command)}: {r.reason}",
            RestartOutcome.LEFT_TO_CLUSTER: f"  not restarted: {r.reason}",
            RestartOutcome.SKIPPED: f"  not restarted: {r.reason}",
            RestartOutcome.NOT_NEEDED: f"  not restarted: {r.reason}",
        }[r.outcome]
        out.append(line)
    out += [f"  $ {step}" for step in dto.next_steps]
    return "\n".join(out) + "\n"
