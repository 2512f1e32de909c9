"""`hakeeper status`: the cluster as `pcs status` / `crm_mon -1` show it; json and crm_mon xml."""

from __future__ import annotations

import argparse
import json
import sys

from hakeeper.cli.common import add_output, add_store, env_of


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "status",
        help="show the cluster's nodes and resources (pcs status)",
        description="Show the cluster as `pcs status` does. --output json is hakeeper's "
        "stable form (docs/cli.md); --output xml is crm_mon's --output-as=xml.",
    )
    add_store(p)
    add_output(p, "xml")
    p.add_argument(
        "-f",
        "--file",
        metavar="CIB.xml",
        help="show a CIB file instead of the store (as CIB_file=... crm_mon)",
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="text: the whole fencing history too, not only failed fencing (pcs status --full)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hakeeper.cli.status_output import as_json, as_xml, render_text
    from hakeeper.commands.status import cluster_status, file_status

    dto = file_status(args.file) if args.file else cluster_status(env_of(args))
    if args.output == "json":
        json.dump(as_json(dto), sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.output == "xml":
        sys.stdout.buffer.write(as_xml(dto))
        sys.stdout.flush()
    else:
        sys.stdout.write(render_text(dto, full=args.full))
    return 0
