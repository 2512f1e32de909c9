"""`hakeeper constraint location|colocation|order add|remove|list` (pcs constraint ...)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TypeAlias

from hakeeper.cli.common import add_output, add_store, add_wait, env_of, print_edit
from hakeeper.model.config import Colocation, Configuration, Location, Order, Ticket
from hakeeper.reports import CommandError, Report, codes

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _edit(sub: Subparsers, name: str, text: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=text, description=text)
    add_store(p)
    add_output(p)
    add_wait(p)
    return p


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "constraint",
        help="location, colocation and order constraints",
        description="Add, remove and list constraints (pcs constraint ...).",
    )
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)

    loc = kinds.add_parser("location", help="where a resource may run")
    loc_sub = loc.add_subparsers(
        dest="action", metavar="ACTION", required=True, action=_PcsLocationAction
    )
    q = _edit(loc_sub, "add", "location add [ID] RESOURCE NODE SCORE")
    q.add_argument("args", nargs="+", metavar="[ID] RESOURCE NODE SCORE")
    q.add_argument("--role", help="Started, Promoted or Unpromoted")
    q.add_argument("--resource-discovery", choices=("always", "never", "exclusive"))
    q.set_defaults(func=run_location_add)
    for verb, score in (("prefers", "INFINITY"), ("avoids", "INFINITY")):
        q = _edit(
            loc_sub, verb, f"RESOURCE {verb} NODE[=SCORE]... (pcs constraint location RSC {verb})"
        )
        q.add_argument("resource")
        q.add_argument("nodes", nargs="+", metavar="NODE[=SCORE]")
        q.set_defaults(func=run_location_prefers, default_score=score, negate=verb == "avoids")

    assert isinstance(loc_sub, _PcsLocationAction)
    col = kinds.add_parser("colocation", help="keep resources together or apart")
    col_sub = col.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = _edit(col_sub, "add", "colocation add [ROLE] RESOURCE with [ROLE] WITH [SCORE] [id=ID]")
    q.add_argument("args", nargs="+")
    q.set_defaults(func=run_colocation_add)

    order = kinds.add_parser("order", help="order actions of resources")
    order_sub = order.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = _edit(
        order_sub,
        "add",
        "order add [ACTION] FIRST then [ACTION] THEN [kind=K] [symmetrical=true|false] [id=ID]",
    )
    q.add_argument("args", nargs="+")
    q.set_defaults(func=run_order_add)

    for parent in (loc_sub, col_sub, order_sub, kinds):
        q = _edit(parent, "remove", "remove constraints by id")
        q.add_argument("ids", nargs="+", metavar="ID")
        q.set_defaults(func=run_remove)
    for parent, kind in (
        (loc_sub, Location),
        (col_sub, Colocation),
        (order_sub, Order),
        (kinds, None),
    ):
        q = parent.add_parser("list", aliases=["config"], help="list constraints")
        add_store(q)
        add_output(q)
        q.add_argument("--full", action="store_true", help="show constraint ids")
        q.set_defaults(func=run_list, only=kind)
    loc_sub.accept_any_word()


class _AnyName(dict[str, argparse.ArgumentParser]):
    """Parser names that let any word through argparse's choices check (the action
    checks it)."""

    def __contains__(self, key: object) -> bool:
        return True


class _PcsLocationAction(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Accept pcs's `location RESOURCE prefers|avoids NODE...` as well as `location ACTION`:
    the verb comes second there, so it is moved first before the sub-parser is chosen."""

    def accept_any_word(self) -> None:
        """After every ACTION is added: let argparse pass any first word to __call__."""
        self._name_parser_map = self.choices = _AnyName(self._name_parser_map)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        words = list(values)
        known = dict.__contains__(self.choices, words[0]) if words else False
        if (
            len(words) >= 2
            and not known
            and words[1]
            in (
                "prefers",
                "avoids",
            )
        ):
            words[0], words[1] = words[1], words[0]
        super().__call__(parser, namespace, words, option_string)


def _bad(text: str, hint: str) -> CommandError:
    return CommandError(Report.error(codes.BAD_OPTION, text, where="constraint", hint=hint))


def run_location_add(args: argparse.Namespace) -> int:
    from hakeeper.commands.constraints import location_add

    values = list(args.args)
    if len(values) == 3:
        values.insert(0, "")
    if len(values) != 4:
        raise _bad(
            "location add takes [ID] RESOURCE NODE SCORE",
            "e.g. constraint location add vip-on-ctl1 vip ctl1 100",
        )
    ident, rsc, node, score = values
    return print_edit(
        args,
        location_add(
            env_of(args),
            ident or None,
            rsc,
            node,
            score,
            role=args.role,
            resource_discovery=args.resource_discovery,
        ),
    )


def run_location_prefers(args: argparse.Namespace) -> int:
    from hakeeper.cib.edit import check_score
    from hakeeper.commands.constraints import location_prefers

    scores = []
    for item in args.nodes:
        node, _, score = item.partition("=")
        score = check_score(score or args.default_score, "score")
        if args.negate:  # `avoids NODE=100` is a score of -100
            score = score[1:] if score.startswith("-") else f"-{score.lstrip('+')}"
        scores.append((node, score))
    return print_edit(args, location_prefers(env_of(args), args.resource, scores))


def _id_option(values: list[str]) -> tuple[list[str], dict[str, str]]:
    options: dict[str, str] = {}
    rest = []
    for v in values:
        name, sep, value = v.partition("=")
        if sep and name in ("id", "kind", "symmetrical", "score"):
            options[name] = value
        else:
            rest.append(v)
    return rest, options


def run_colocation_add(args: argparse.Namespace) -> int:
    from hakeeper.commands.constraints import ROLES, colocation_add

    values, options = _id_option(list(args.args))
    if "with" not in values:
        raise _bad(
            "colocation add needs `RESOURCE with WITH`",
            "e.g. constraint colocation add vip with haproxy-clone INFINITY",
        )
    at = values.index("with")
    left, right = values[:at], values[at + 1 :]
    rsc_role = left.pop(0) if len(left) == 2 and left[0] in ROLES else None
    with_role = right.pop(0) if len(right) >= 2 and right[0] in ROLES else None
    if len(left) != 1 or len(right) not in (1, 2):
        raise _bad(
            "colocation add takes [ROLE] RESOURCE with [ROLE] WITH [SCORE]",
            "e.g. constraint colocation add Started vip with Promoted redis-clone",
        )
    score = right[1] if len(right) == 2 else options.get("score", "INFINITY")
    return print_edit(
        args,
        colocation_add(
            env_of(args),
            left[0],
            right[0],
            score,
            constraint_id=options.get("id"),
            rsc_role=rsc_role,
            with_role=with_role,
        ),
    )


def run_order_add(args: argparse.Namespace) -> int:
    from hakeeper.commands.constraints import ORDER_ACTIONS, order_add

    values, options = _id_option(list(args.args))
    if "then" not in values:
        raise _bad(
            "order add needs `FIRST then THEN`",
            "e.g. constraint order add start galera-clone then start keystone",
        )
    at = values.index("then")
    left, right = values[:at], values[at + 1 :]
    first_action = left.pop(0) if len(left) == 2 and left[0] in ORDER_ACTIONS else "start"
    then_action = right.pop(0) if len(right) == 2 and right[0] in ORDER_ACTIONS else "start"
    if len(left) != 1 or len(right) != 1:
        raise _bad(
            "order add takes [ACTION] FIRST then [ACTION] THEN",
            "e.g. constraint order add promote redis-clone then start vip",
        )
    symmetrical = None
    if "symmetrical" in options:
        symmetrical = options["symmetrical"].lower() in ("true", "yes", "1", "on")
    return print_edit(
        args,
        order_add(
            env_of(args),
            left[0],
            right[0],
            first_action=first_action,
            then_action=then_action,
            kind=options.get("kind"),
            symmetrical=symmetrical,
            constraint_id=options.get("id"),
        ),
    )


def run_remove(args: argparse.Namespace) -> int:
    from hakeeper.commands.constraints import constraint_remove

    return print_edit(args, constraint_remove(env_of(args), args.ids))


def _json(c: Location | Colocation | Order | Ticket) -> dict[str, Any]:
    if isinstance(c, Location):
        return {
            "type": "location",
            "id": c.id,
            "resource": c.rsc,
            "node": c.node,
            "score": c.score,
            "role": c.role,
            "rules": len(c.rules),
            "resource_discovery": c.resource_discovery,
        }
    if isinstance(c, Colocation):
        return {
            "type": "colocation",
            "id": c.id,
            "resource": c.rsc,
            "with": c.with_rsc,
            "score": c.score,
            "role": c.rsc_role,
            "with_role": c.with_rsc_role,
        }
    if isinstance(c, Order):
        return {
            "type": "order",
            "id": c.id,
            "first": c.first,
            "then": c.then,
            "first_action": c.first_action or "start",
            "then_action": c.then_action or c.first_action or "start",
            "kind": c.kind or "Mandatory",
            "symmetrical": c.symmetrical,
        }
    return {"type": "ticket", "id": c.id, "resource": c.rsc, "ticket": c.ticket}


def render_list(config: Configuration, only: type | None, full: bool) -> str:
    out: list[str] = []

    def ident(c: Location | Colocation | Order | Ticket) -> str:
        return f" (id:{c.id})" if full else ""

    items = [c for c in config.constraints if only is None or isinstance(c, only)]
    if only in (None, Location):
        out.append("Location Constraints:")
        for c in items:
            if isinstance(c, Location):
                if c.node is not None:
                    role = f" (role:{c.role})" if c.role else ""
                    sign = "avoids" if (c.score or "").startswith("-") else "prefers"
                    out.append(
                        f"  Resource: {c.rsc} {sign} node {c.node} "
                        f"(score:{c.score}){role}{ident(c)}"
                    )
                else:
                    out.append(
                        f"  Resource: {c.rsc or c.rsc_pattern} (rules: {len(c.rules)}){ident(c)}"
                    )
    if only in (None, Order):
        out.append("Ordering Constraints:")
        for c in items:
            if isinstance(c, Order) and not c.sets:
                first = c.first_action or "start"
                then = c.then_action or first
                kind = f" (kind:{c.kind})" if c.kind else ""
                out.append(f"  {first} {c.first} then {then} {c.then}{kind}{ident(c)}")
    if only in (None, Colocation):
        out.append("Colocation Constraints:")
        for c in items:
            if isinstance(c, Colocation) and not c.sets:
                roles = ""
                if c.rsc_role or c.with_rsc_role:
                    roles = (
                        f" (rsc-role:{c.rsc_role or 'Started'}) (with-rsc-role:"
                        f"{c.with_rsc_role or 'Started'})"
                    )
                out.append(f"  {c.rsc} with {c.with_rsc} (score:{c.score}){roles}{ident(c)}")
    return "".join(line + "\n" for line in out)


def run_list(args: argparse.Namespace) -> int:
    from hakeeper.commands.constraints import constraint_list

    config = constraint_list(env_of(args))
    if args.output == "json":
        items = [
            _json(c) for c in config.constraints if args.only is None or isinstance(c, args.only)
        ]
        json.dump({"schema": "hakeeper.constraints/1", "constraints": items}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_list(config, args.only, args.full))
    return 0
