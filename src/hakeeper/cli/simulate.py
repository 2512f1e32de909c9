"""`hakeeper simulate`: placeholder until the scheduler lands."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("simulate", help="compute what the cluster would do, from a CIB file")
    p.add_argument("cib")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return 0
