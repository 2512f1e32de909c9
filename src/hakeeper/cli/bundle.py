"""`hakeeper bundle create|update` (the same as `hakeeper resource bundle ...`)."""

from __future__ import annotations

import argparse

from hakeeper.cli.resource_edit import register_bundle


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "bundle",
        help="container bundles (pcs resource bundle)",
        description="Create or update container bundles.",
    )
    register_bundle(p.add_subparsers(dest="bundle_command", metavar="ACTION", required=True))
