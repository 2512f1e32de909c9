"""`hakeeper resource create|update|delete|enable|disable|cleanup|refresh|move|ban|clear|
show|restart|manage|unmanage` and `resource bundle create|update`, with pcs's arguments."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TypeAlias

from hakeeper.cli.common import (
    add_output,
    add_store,
    add_wait,
    env_of,
    pairs,
    print_edit,
    seconds,
    split_groups,
)
from hakeeper.commands.resource_config import BundleSpec, OpSpec, ResourceSpec
from hakeeper.reports import CommandError, Report, codes

CREATE_KEYWORDS = frozenset({"op", "meta", "clone", "promotable", "bundle"})
UPDATE_KEYWORDS = frozenset({"op", "meta"})
BUNDLE_KEYWORDS = frozenset({"container", "network", "port-map", "storage-map", "meta"})

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _edit_parser(verbs: Subparsers, name: str, help_text: str) -> argparse.ArgumentParser:
    p = verbs.add_parser(name, help=help_text, description=help_text)
    add_store(p)
    add_output(p)
    add_wait(p)
    return p


def register(verbs: Subparsers) -> None:
    p = _edit_parser(
        verbs,
        "create",
        "create a resource: ID AGENT [name=value...] "
        "[op NAME name=value...]... [meta name=value...] [clone [name=value...] "
        "| promotable [name=value...] | bundle BUNDLE]",
    )
    p.add_argument("id")
    p.add_argument("agent", help="STANDARD:PROVIDER:TYPE, e.g. ocf:heartbeat:IPaddr2")
    p.add_argument("options", nargs=argparse.REMAINDER)
    p.add_argument("--group", help="put the resource in this group (created if new)")
    place = p.add_mutually_exclusive_group()
    place.add_argument("--before", help="in the group, before this member")
    place.add_argument("--after", help="in the group, after this member")
    p.add_argument("--disabled", action="store_true", help="create it with target-role=Stopped")
    p.add_argument(
        "--force",
        action="store_true",
        help="skip the checks against the agent's meta-data (options, install)",
    )
    p.set_defaults(func=run_create)

    p = _edit_parser(
        verbs,
        "update",
        "set instance attributes (name=value; empty value "
        "removes), `op NAME ...` (replaces ops of that name), `meta ...`",
    )
    p.add_argument("id")
    p.add_argument("options", nargs=argparse.REMAINDER)
    p.add_argument("--force", action="store_true", help="allow options the agent lacks")
    p.set_defaults(func=run_update)

    p = _edit_parser(verbs, "delete", "delete a resource and the constraints naming it")
    p.add_argument("id")
    p.set_defaults(func=run_delete)

    for name, text in (
        ("enable", "remove target-role: let the cluster run them"),
        ("disable", "set target-role=Stopped"),
        ("manage", "let the cluster manage them (remove is-managed)"),
        ("unmanage", "set is-managed=false"),
    ):
        p = _edit_parser(verbs, name, text)
        p.add_argument("ids", nargs="+", metavar="RESOURCE")
        p.set_defaults(func=run_role, verb=name)

    for name, text in (
        ("cleanup", "forget failed operations and fail counts"),
        ("refresh", "forget the whole operation history (re-detect)"),
    ):
        p = verbs.add_parser(name, help=text, description=text)
        add_store(p)
        p.add_argument("id", nargs="?", metavar="RESOURCE")
        p.add_argument("--node", help="only on this node")
        add_wait(p)
        p.set_defaults(func=run_cleanup, refresh=name == "refresh")

    p = _edit_parser(
        verbs,
        "move",
        "prefer NODE (cli-prefer-RSC); without NODE, ban the node it runs on (cli-ban-RSC-on-NODE)",
    )
    p.add_argument("id")
    p.add_argument("node", nargs="?")
    p.add_argument("--promoted", "--master", action="store_true", help="for the promoted role only")
    p.set_defaults(func=run_move)

    p = _edit_parser(verbs, "ban", "keep the resource off NODE (cli-ban-RSC-on-NODE)")
    p.add_argument("id")
    p.add_argument("node", nargs="?")
    p.add_argument("--promoted", "--master", action="store_true")
    p.set_defaults(func=run_ban)

    p = _edit_parser(verbs, "clear", "remove the constraints move and ban made")
    p.add_argument("id")
    p.add_argument("node", nargs="?")
    p.set_defaults(func=run_clear)

    p = verbs.add_parser(
        "show",
        aliases=["config"],
        help="the configuration of resources",
        description="Show resources' configuration (pcs resource config).",
    )
    add_store(p)
    add_output(p, "xml")
    p.add_argument("ids", nargs="*", metavar="RESOURCE")
    p.set_defaults(func=run_show)

    p = verbs.add_parser("restart", help="stop the resource everywhere, then start it again")
    add_store(p)
    p.add_argument("id")
    p.add_argument(
        "--timeout",
        type=seconds,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for it to stop and start again (default 60)",
    )
    p.set_defaults(func=run_restart)

    p = _edit_parser(verbs, "meta", "set meta attributes: ID name=value... (empty removes)")
    p.add_argument("id")
    p.add_argument("values", nargs="+", metavar="NAME=VALUE")
    p.set_defaults(func=run_meta)

    for name in ("clone", "promotable"):
        p = _edit_parser(
            verbs,
            name,
            f"ID [name=value...]: wrap a primitive or group in a "
            f"{'promotable ' if name == 'promotable' else ''}clone (ID-clone)",
        )
        p.add_argument("id")
        p.add_argument("values", nargs="*", metavar="NAME=VALUE")
        p.set_defaults(func=run_clone, promotable=name == "promotable")
    p = _edit_parser(verbs, "unclone", "ID: replace the clone by what it holds")
    p.add_argument("id")
    p.set_defaults(func=run_unclone)

    group = verbs.add_parser("group", help="put primitives in a group, or take them out")
    group_sub = group.add_subparsers(dest="group_command", metavar="ACTION", required=True)
    p = _edit_parser(
        group_sub,
        "add",
        "GROUP RESOURCE... [--before R | --after R]: move primitives into GROUP (created if new)",
    )
    p.add_argument("group")
    p.add_argument("ids", nargs="+", metavar="RESOURCE")
    place = p.add_mutually_exclusive_group()
    place.add_argument("--before", help="before this member of the group")
    place.add_argument("--after", help="after this member of the group")
    p.set_defaults(func=run_group_add)
    p = _edit_parser(group_sub, "remove", "GROUP [RESOURCE...]: take them (all: ungroup) out")
    p.add_argument("group")
    p.add_argument("ids", nargs="*", metavar="RESOURCE")
    p.set_defaults(func=run_group_remove)

    bundle = verbs.add_parser("bundle", help="create or update a container bundle")
    register_bundle(bundle.add_subparsers(dest="bundle_command", metavar="ACTION", required=True))


def register_bundle(sub: Subparsers) -> None:
    for name in ("create", "update"):
        p = _edit_parser(
            sub,
            name,
            f"{name} a bundle: ID [container ENGINE name=value...] "
            "[network name=value...] [port-map name=value...]... "
            "[storage-map name=value...]... [meta name=value...]",
        )
        p.add_argument("id")
        p.add_argument("options", nargs=argparse.REMAINDER)
        p.add_argument("--disabled", action="store_true")
        p.set_defaults(func=run_bundle, create=name == "create")


def _ops(groups: list[tuple[str, list[str]]]) -> tuple[OpSpec, ...]:
    ops = []
    for keyword, tokens in groups:
        if keyword != "op":
            continue
        if not tokens or "=" in tokens[0]:
            raise CommandError(
                Report.error(
                    codes.BAD_OPTION,
                    "`op` needs an operation name",
                    where="op",
                    hint="e.g. op monitor interval=10s timeout=20s",
                )
            )
        ops.append(OpSpec(tokens[0], pairs(tokens[1:], f"op {tokens[0]}")))
    return tuple(ops)


def _group(groups: list[tuple[str, list[str]]], keyword: str) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for kw, tokens in groups:
        if kw == keyword:
            found.extend(pairs(tokens, keyword))
    return tuple(found)


FLAG_OPTIONS = ("--disabled", "--force")
VALUE_OPTIONS = {
    "--group": "group",
    "--before": "before",
    "--after": "after",
    "--store": "store",
    "--output": "output",
    "-o": "output",
}


def _pull_options(args: argparse.Namespace) -> list[str]:
    """Take the options (--group, --store, ...) out of the pcs-style remainder, where
    argparse leaves them when they follow the agent's options."""
    tokens = list(args.options)
    rest: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        name, sep, value = token.partition("=")
        if name in FLAG_OPTIONS and not sep:
            setattr(args, name[2:], True)
        elif name == "--wait":
            try:
                args.wait = seconds(value) if sep else 60.0
            except argparse.ArgumentTypeError:
                raise CommandError(
                    Report.error(
                        codes.BAD_OPTION,
                        f"--wait takes a positive number of seconds, not '{value}'",
                        where="--wait",
                        hint="--wait or --wait=120",
                    )
                ) from None
        elif name in VALUE_OPTIONS:
            if not sep:
                if i + 1 >= len(tokens):
                    raise CommandError(
                        Report.error(
                            codes.BAD_OPTION,
                            f"{name} needs a value",
                            where=name,
                            hint=f"e.g. {name} NAME",
                        )
                    )
                i += 1
                value = tokens[i]
            if name in ("--output", "-o") and value not in ("text", "json"):
                raise CommandError(
                    Report.error(
                        codes.BAD_OPTION,
                        f"--output must be text or json, not '{value}'",
                        where=name,
                        hint="--output json",
                    )
                )
            setattr(args, VALUE_OPTIONS[name], value)
        else:
            rest.append(token)
        i += 1
    return rest


def resource_spec(args: argparse.Namespace) -> ResourceSpec:
    head, groups = split_groups(_pull_options(args), CREATE_KEYWORDS)
    keywords = [kw for kw, _ in groups]
    bundle = None
    if "bundle" in keywords:
        tokens = next(t for kw, t in groups if kw == "bundle")
        if len(tokens) != 1:
            raise CommandError(
                Report.error(
                    codes.BAD_OPTION,
                    "`bundle` needs exactly one bundle id",
                    where="bundle",
                    hint="e.g. ... bundle redis-bundle",
                )
            )
        bundle = tokens[0]
    clone = _group(groups, "clone") if "clone" in keywords else None
    promotable = "promotable" in keywords
    if promotable:
        clone = (*(clone or ()), *_group(groups, "promotable"))
    return ResourceSpec(
        args.id,
        args.agent,
        pairs(head, "resource options"),
        _ops(groups),
        _group(groups, "meta"),
        clone,
        promotable,
        args.group,
        args.before,
        args.after,
        args.disabled,
        bundle,
        force=args.force,
    )


def run_create(args: argparse.Namespace) -> int:
    from hakeeper.commands.resource_config import resource_create

    spec = resource_spec(args)  # first: it takes --store out of the remainder
    return print_edit(args, resource_create(env_of(args), spec))


def run_update(args: argparse.Namespace) -> int:
    from hakeeper.commands.resource_config import resource_update

    head, groups = split_groups(_pull_options(args), UPDATE_KEYWORDS)
    params = {k: (v or None) for k, v in pairs(head, "resource options")}
    meta = {k: (v or None) for k, v in _group(groups, "meta")}
    return print_edit(
        args,
        resource_update(
            env_of(args), args.id, params=params, meta=meta, ops=_ops(groups), force=args.force
        ),
    )


def run_delete(args: argparse.Namespace) -> int:
    from hakeeper.commands.resource_config import resource_delete

    result = resource_delete(env_of(args), args.id)
    if args.output != "json":
        print(f"Deleting Resource - {args.id}", file=sys.stderr)
    return print_edit(args, result)


def run_clone(args: argparse.Namespace) -> int:
    from hakeeper.commands.resource_config import resource_clone

    values = pairs(args.values, f"resource {'promotable' if args.promotable else 'clone'}")
    return print_edit(
        args, resource_clone(env_of(args), args.id, values, promotable=args.promotable)
    )


def run_unclone(args: argparse.Namespace) -> int:
    from hakeeper.commands.resource_config import resource_unclone

    return print_edit(args, resource_unclone(env_of(args), args.id))


def run_meta(args: argparse.Namespace) -> int:
    from hakeeper.commands.resource_config import resource_meta

    values = {k: (v or None) for k, v in pairs(args.values, "resource meta")}
    return print_edit(args, resource_meta(env_of(args), args.id, values))


def run_group_add(args: argparse.Namespace) -> int:
    from hakeeper.commands.resource_config import group_add

    return print_edit(
        args, group_add(env_of(args), args.group, args.ids, before=args.before, after=args.after)
    )


def run_group_remove(args: argparse.Namespace) -> int:
    from hakeeper.commands.resource_config import group_remove

    return print_edit(args, group_remove(env_of(args), args.group, args.ids))


def run_role(args: argparse.Namespace) -> int:
    from hakeeper.commands import resource_config as rc

    env = env_of(args)
    if args.verb == "enable":
        result = rc.resource_enable(env, args.ids)
    elif args.verb == "disable":
        result = rc.resource_disable(env, args.ids)
    else:
        result = rc.resource_manage(env, args.ids, args.verb == "manage")
    return print_edit(args, result)


def run_cleanup(args: argparse.Namespace) -> int:
    from hakeeper.commands.history import resource_cleanup

    dto = resource_cleanup(env_of(args), args.id, args.node, refresh=args.refresh)
    what = "history" if args.refresh else "failures"
    if not dto.cleared:
        print(f"Cleaned up {what}: nothing to clean")
    for node, rsc in dto.cleared:
        print(f"Cleaned up {what} of {rsc} on {node}")
    if args.wait is not None and dto.revision is not None:
        from hakeeper.commands.wait import wait_settled

        wait_settled(env_of(args), dto.revision, args.wait)
    return 0


def run_move(args: argparse.Namespace) -> int:
    from hakeeper.commands.resource_config import active_nodes, resource_move

    env = env_of(args)
    current = None
    if args.node is None:
        nodes = active_nodes(env, args.id)
        if len(nodes) > 1:
            raise CommandError(
                Report.error(
                    codes.BAD_OPTION,
                    f"'{args.id}' runs on several nodes ({', '.join(nodes)}): "
                    "say which to move it to",
                    where="resource move",
                    resource_id=args.id,
                    hint=f"hakeeper resource move {args.id} NODE, or resource ban {args.id} NODE",
                )
            )
        current = nodes[0] if nodes else None
    result = resource_move(env, args.id, args.node, promoted=args.promoted, current_node=current)
    if current is not None and args.output != "json":
        print(
            f"Warning: Creating location constraint 'cli-ban-{args.id}-on-{current}' "
            f"with a score of -INFINITY for resource {args.id} on {current}.",
            file=sys.stderr,
        )
    return print_edit(args, result)


def run_ban(args: argparse.Namespace) -> int:
    from hakeeper.commands.resource_config import active_nodes, resource_ban

    env = env_of(args)
    node = args.node
    if node is None:
        nodes = active_nodes(env, args.id)
        if len(nodes) != 1:
            raise CommandError(
                Report.error(
                    codes.BAD_OPTION,
                    f"give the node to ban '{args.id}' from (it runs on "
                    f"{', '.join(nodes) or 'no node'})",
                    where="resource ban",
                    hint=f"hakeeper resource ban {args.id} NODE",
                )
            )
        node = nodes[0]
    return print_edit(args, resource_ban(env, args.id, node, promoted=args.promoted))


def run_clear(args: argparse.Namespace) -> int:
    from hakeeper.commands.resource_config import resource_clear

    return print_edit(args, resource_clear(env_of(args), args.id, args.node))


def run_show(args: argparse.Namespace) -> int:
    from hakeeper.cli.resource_show import render_json, render_text, render_xml
    from hakeeper.commands.cib_store import load

    config = load(env_of(args)).cib.configuration
    if args.output == "json":
        json.dump(render_json(config, args.ids), sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.output == "xml":
        sys.stdout.write(render_xml(config, args.ids))
    else:
        sys.stdout.write(render_text(config, args.ids))
    return 0


def run_restart(args: argparse.Namespace) -> int:
    from hakeeper.commands.restart import resource_restart

    dto = resource_restart(env_of(args), args.id, timeout=args.timeout)
    print(
        f"{dto.resource} successfully restarted (stopped after {dto.stopped_after_s:.1f} s, "
        f"started again after {dto.started_after_s:.1f} s)"
    )
    return 0


def run_bundle(args: argparse.Namespace) -> int:
    from hakeeper.commands.resource_config import bundle_create, bundle_update

    head, groups = split_groups(_pull_options(args), BUNDLE_KEYWORDS)
    if head:
        raise CommandError(
            Report.error(
                codes.BAD_OPTION,
                f"unexpected '{head[0]}' before the first option group",
                where="bundle",
                hint="start with `container ENGINE image=NAME ...`",
            )
        )
    engine = "podman"
    container: list[tuple[str, str]] = []
    for kw, tokens in groups:
        if kw == "container":
            if tokens and "=" not in tokens[0]:
                engine, tokens = tokens[0], tokens[1:]
            container.extend(pairs(tokens, "container"))
    spec = BundleSpec(
        args.id,
        engine,
        tuple(container),
        _group(groups, "network"),
        tuple(pairs(t, "port-map") for kw, t in groups if kw == "port-map"),
        tuple(pairs(t, "storage-map") for kw, t in groups if kw == "storage-map"),
        _group(groups, "meta"),
        args.disabled,
    )
    env = env_of(args)
    result = bundle_create(env, spec) if args.create else bundle_update(env, spec)
    return print_edit(args, result)
