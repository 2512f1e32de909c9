"""`hakeeper check`: the control plane's health, one verdict per item, with what to run next.

Exit: 0 everything ok or warning; 1 any critical finding; 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from hakeeper.checks.finding import Area, Finding, Verdict
from hakeeper.commands.check import (
    CapturedDir,
    CheckDto,
    CheckEnv,
    CheckSource,
    HakeeperCluster,
    LiveHost,
    check,
)

_LABEL = {
    Verdict.CRITICAL: "CRITICAL",
    Verdict.WARNING: "WARNING",
    Verdict.OK: "ok",
    Verdict.SKIPPED: "skipped",
}
_WIDTH = max(len(label) for label in _LABEL.values())


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "check",
        help="check the control plane: cluster, containers, galera, rabbitmq, ...",
        description="Run every health probe in parallel and say, per item, ok / warning /"
        " critical / skipped, with the evidence and the next command to run. Exit 1 if"
        " anything is critical.",
    )
    p.add_argument("--output", "-o", choices=("text", "json"), default="text")
    p.add_argument(
        "--from",
        dest="from_dir",
        metavar="DIR",
        type=Path,
        help="read captured outputs from DIR instead of probing this host (layout: docs/check.md)",
    )
    p.add_argument(
        "--store",
        metavar="URL",
        help="check the hakeeper cluster whose store this is (sqlite:///PATH,"
        " etcd://HOST:PORT[,...]; default $HAKEEPER_STORE); without it and without"
        " $HAKEEPER_STORE, this host of a Pacemaker cluster is checked",
    )
    p.add_argument(
        "--only",
        action="append",
        metavar="AREA",
        help="check only AREA (repeatable or comma-separated): " + ", ".join(a.value for a in Area),
    )
    p.add_argument(
        "--save",
        metavar="DIR",
        type=Path,
        help="also write every output read into DIR (new or empty), in the --from layout:"
        " check it again later, elsewhere, or attach it to a bug report",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    source: CheckSource = LiveHost()
    if args.from_dir:
        source = CapturedDir(args.from_dir)
    elif args.store or os.environ.get("HAKEEPER_STORE"):
        from hakeeper.commands.env import Env, run_dir, store_url

        render = None
        if args.save:  # the status is kept as crm_mon's XML, what --from reads
            from hakeeper.cli.status_output import as_xml

            render = as_xml
        source = HakeeperCluster(Env(store_url(args.store), run_dir()), render)
    only = set(args.only) if args.only else None
    dto = check(CheckEnv.from_os(), source=source, only=only, save=args.save)
    if args.output == "json":
        json.dump(dto.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(dto))
    return 1 if dto.has_critical else 0


def _finding_lines(f: Finding) -> list[str]:
    pad = " " * (_WIDTH + 4)
    where = f" [{f.node}]" if f.node and f.node != f.subject else ""
    lines = [f"  {_LABEL[f.verdict]:<{_WIDTH}}  {f.subject}{where}: {f.summary}"]
    if f.verdict in (Verdict.CRITICAL, Verdict.WARNING, Verdict.SKIPPED):
        lines.extend(f"{pad}| {line}" for line in f.evidence)
    lines.extend(f"{pad}$ {step}" for step in f.next_steps if f.verdict is not Verdict.OK)
    return lines


def render_text(dto: CheckDto) -> str:
    """Grouped by area, worst area verdict in its header, verdict first on every line."""
    counts = ", ".join(
        f"{sum(1 for f in dto.findings if f.verdict is v)} {v.value}"
        for v in (Verdict.CRITICAL, Verdict.WARNING, Verdict.OK, Verdict.SKIPPED)
    )
    out = [f"{_LABEL[dto.verdict]}: {counts} ({dto.source}, {dto.duration_s:.2f} s)", ""]
    for area in dto.areas:
        found = [f for f in dto.findings if f.area is area]
        out.append(f"== {area.value}: {_LABEL[dto.area_verdict(area)]}")
        for f in found:
            out.extend(_finding_lines(f))
        out.append("")
    return "\n".join(out)
