"""`hakeeper resource VERB ...`: commands on one resource or replica. Each verb lives in
its own module with `register(verbs)`; add a verb by adding its module here."""

from __future__ import annotations

import argparse
import importlib
from typing import Protocol, cast

RESOURCE_VERB_MODULES = [
    "hakeeper.cli.debug",
    "hakeeper.cli.resource_edit",
]


class _Registrar(Protocol):
    def register(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None: ...


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "resource",
        help="create, change, move and debug resources (pcs resource ...)",
        description="Commands on one resource or bundle replica.",
    )
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    for name in RESOURCE_VERB_MODULES:
        cast(_Registrar, importlib.import_module(name)).register(verbs)
