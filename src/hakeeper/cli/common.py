"""Pieces the cluster-editing sub-commands share: --store, pcs's `name=value` argument
groups (`op monitor interval=10s meta target-role=Stopped clone`), output of edits."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from hakeeper.commands.cib_store import EditResult
from hakeeper.commands.env import Env, run_dir, store_url
from hakeeper.reports import CommandError, Report, codes

STORE_HELP = (
    "the coordination store: sqlite:///PATH, etcd://HOST:PORT[,...] "
    "(default: $HAKEEPER_STORE, else sqlite:///var/lib/hakeeper/store.db)"
)


def add_store(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="URL", help=STORE_HELP)


def seconds(text: str) -> float:
    """A --wait/--timeout value: a positive number of seconds (argparse reports the rest)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive number of seconds")
    return value


def add_wait(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--wait",
        nargs="?",
        const=60.0,
        type=seconds,
        metavar="SECONDS",
        help="after the edit, wait until the cluster has settled on it: nothing left to "
        "probe, start, stop, promote or fence (default 60 s; exit 1 if it has not)",
    )


def add_output(p: argparse.ArgumentParser, *choices: str) -> None:
    p.add_argument(
        "--output",
        "-o",
        choices=("text", "json", *choices),
        default="text",
        help="output form (default text)",
    )


def env_of(args: argparse.Namespace) -> Env:
    return Env(store_url(getattr(args, "store", None)), run_dir())


def split_groups(
    tokens: list[str], keywords: frozenset[str]
) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """pcs's grouped arguments: tokens before the first keyword, then (keyword, tokens)."""
    head: list[str] = []
    groups: list[tuple[str, list[str]]] = []
    for token in tokens:
        if token in keywords:
            groups.append((token, []))
        elif groups:
            groups[-1][1].append(token)
        else:
            head.append(token)
    return head, groups


def pairs(tokens: list[str], where: str) -> tuple[tuple[str, str], ...]:
    """name=value tokens; an empty value means "remove" to the commands that allow it."""
    found = []
    for token in tokens:
        name, sep, value = token.partition("=")
        if not sep or not name:
            raise CommandError(
                Report.error(
                    codes.BAD_OPTION,
                    f"'{token}' is not of the form name=value",
                    where=where,
                    hint="write options as name=value (an empty value removes the option)",
                )
            )
        found.append((name, value))
    return tuple(found)


def print_edit(args: argparse.Namespace, result: EditResult) -> int:
    """Edits print nothing on success (as pcs), or the result with --output json; with
    --wait, they return once the cluster has settled on the edit (commands/wait.py)."""
    wait = getattr(args, "wait", None)
    if wait is not None:
        from hakeeper.commands.wait import wait_settled

        if result.removed and getattr(args, "output", "text") != "json":
            for ident in result.removed:
                print(f"Removing constraint: {ident}", file=sys.stderr)
            result = replace(result, removed=())
        wait_settled(env_of(args), result.revision, wait)
    if getattr(args, "output", "text") == "json":
        json.dump(
            {
                "schema": "hakeeper.edit/1",
                "revision": result.revision,
                "changed": result.changed,
                "removed": list(result.removed),
            },
            sys.stdout,
        )
        sys.stdout.write("\n")
    else:
        for ident in result.removed:
            print(f"Removing constraint: {ident}", file=sys.stderr)
    return 0
