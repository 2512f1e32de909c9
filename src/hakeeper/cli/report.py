"""`hakeeper report`: one archive with everything a bug report needs; progress on stderr.

Exit: 0 archive written (whatever could not be collected is listed in its manifest);
2 bad input (output path, --since, --cib).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hakeeper.commands.report import ItemStatus, ReportDto, ReportEnv, report


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "report",
        help="collect CIB, status, probe outputs, container logs into one archive",
        description="Collect the CIB, the cluster status, every raw output `hakeeper check`"
        " reads (unpack the archive and run `hakeeper check --from` on it), the containers'"
        " inspect JSON and recent logs, the daemons' logs and recent scheduler inputs into"
        " one .tar.gz with a manifest.json of what was collected and what was not.",
    )
    p.add_argument(
        "--output",
        "-o",
        dest="out",
        metavar="FILE.tar.gz",
        type=Path,
        help="where to write it (default: ./hakeeper-report-HOST-TIME.tar.gz)",
    )
    p.add_argument(
        "--since",
        metavar="DURATION",
        default=None,
        help="how far back logs and transitions go: 30m, 4h, 2d (default 4h)",
    )
    p.add_argument(
        "--cib",
        metavar="FILE",
        type=Path,
        help="take the CIB from FILE instead of `cibadmin --query`",
    )
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="how to print the summary on stdout",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run)


def _progress(message: str) -> None:
    print(f"hakeeper report: {message} ...", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    dto = report(
        ReportEnv.from_os(),
        output=args.out,
        since=args.since,
        cib=args.cib,
        progress=(lambda _: None) if args.quiet else _progress,
    )
    if args.format == "json":
        json.dump(dto.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(dto))
    return 0


def render_text(dto: ReportDto) -> str:
    counts = ", ".join(f"{dto.count(s)} {s.value}" for s in ItemStatus)
    out = [f"{dto.archive}: {counts} ({dto.duration_s:.1f} s)"]
    for item in dto.items:
        if item.status is not ItemStatus.OK:
            out.append(f"  {item.status.value:<8} {item.what}: {item.origin}: {item.reason}")
    out.append(f"  $ tar -xzf {dto.archive} && hakeeper check --from {dto.top}")
    return "\n".join(out) + "\n"
