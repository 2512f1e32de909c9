"""Library commands on constraints: location, colocation and order (pcs constraint)."""

from __future__ import annotations

from collections.abc import Sequence

from hakeeper.cib import edit
from hakeeper.commands.cib_store import (
    EditResult,
    edit_config,
    load,
    simple,
)
from hakeeper.commands.env import Env
from hakeeper.model.config import (
    Colocation,
    Configuration,
    Location,
    Order,
    Role,
)
from hakeeper.reports import CommandError, Report, codes

ORDER_ACTIONS = ("start", "stop", "promote", "demote")
ROLES = ("Started", "Promoted", "Unpromoted", "Stopped")


# --- constraints ---------------------------------------------------------------------------


def _role(text: str | None, where: str) -> str | None:
    if text is None:
        return None
    if Role.parse(text) is None:
        raise CommandError(
            Report.error(
                codes.CIB_BAD_VALUE,
                f"'{text}' is not a role",
                where=where,
                role=text,
                hint="use one of: " + ", ".join(ROLES),
            )
        )
    return text


def location_add(
    env: Env,
    constraint_id: str | None,
    rsc_id: str,
    node: str,
    score: str,
    *,
    role: str | None = None,
    resource_discovery: str | None = None,
) -> EditResult:
    """pcs constraint location add [ID] RSC NODE SCORE (or `RSC prefers|avoids NODE[=SCORE]`)."""
    score = edit.check_score(score, "score")
    role = _role(role, "role")

    def change(config: Configuration) -> Configuration:
        edit.require_resource(config, rsc_id)
        name = edit.require_node(config, node).uname
        ident = constraint_id or edit.unique_id(
            edit.all_ids(config), f"location-{rsc_id}-{name}-{score}"
        )
        return edit.add_constraint(
            config,
            Location(
                ident,
                rsc_id,
                node=name,
                score=score,
                role=role,
                resource_discovery=resource_discovery or "always",
            ),
        )

    return edit_config(env, simple(change))


def location_prefers(env: Env, rsc_id: str, scores: Sequence[tuple[str, str]]) -> EditResult:
    """pcs constraint location RSC prefers|avoids NODE=SCORE...: one constraint per node,
    all in one write."""
    checked = [(node, edit.check_score(score, "score")) for node, score in scores]

    def change(config: Configuration) -> Configuration:
        edit.require_resource(config, rsc_id)
        for node, score in checked:
            name = edit.require_node(config, node).uname
            ident = edit.unique_id(edit.all_ids(config), f"location-{rsc_id}-{name}-{score}")
            config = edit.add_constraint(config, Location(ident, rsc_id, node=name, score=score))
        return config

    return edit_config(env, simple(change))


def colocation_add(
    env: Env,
    rsc: str,
    with_rsc: str,
    score: str = "INFINITY",
    *,
    constraint_id: str | None = None,
    rsc_role: str | None = None,
    with_role: str | None = None,
) -> EditResult:
    """pcs constraint colocation add [ROLE] RSC with [ROLE] WITH_RSC [SCORE] [id=ID]."""
    score = edit.check_score(score, "score")
    rsc_role = _role(rsc_role, "role")
    with_role = _role(with_role, "with-role")

    def change(config: Configuration) -> Configuration:
        edit.require_resource(config, rsc)
        edit.require_resource(config, with_rsc)
        ident = constraint_id or edit.unique_id(
            edit.all_ids(config), f"colocation-{rsc}-{with_rsc}-{score}"
        )
        return edit.add_constraint(
            config, Colocation(ident, rsc, with_rsc, score, rsc_role, with_role)
        )

    return edit_config(env, simple(change))


def order_add(
    env: Env,
    first: str,
    then: str,
    *,
    first_action: str = "start",
    then_action: str = "start",
    kind: str | None = None,
    symmetrical: bool | None = None,
    constraint_id: str | None = None,
) -> EditResult:
    """pcs constraint order [ACTION] FIRST then [ACTION] THEN [kind=...] [id=ID]."""
    for action, where in ((first_action, "first action"), (then_action, "then action")):
        if action not in ORDER_ACTIONS:
            raise CommandError(
                Report.error(
                    codes.CIB_BAD_VALUE,
                    f"'{action}' is not an action to order",
                    where=where,
                    hint="use one of: " + ", ".join(ORDER_ACTIONS),
                )
            )
    if kind is not None and kind not in ("Optional", "Mandatory", "Serialize"):
        raise CommandError(
            Report.error(
                codes.CIB_BAD_VALUE,
                f"'{kind}' is not an order kind",
                where="kind",
                hint="use Optional, Mandatory or Serialize",
            )
        )

    def change(config: Configuration) -> Configuration:
        edit.require_resource(config, first)
        edit.require_resource(config, then)
        ident = constraint_id or edit.unique_id(
            edit.all_ids(config), f"order-{first}-{then}-{kind or 'mandatory'}"
        )
        return edit.add_constraint(
            config, Order(ident, first, then, first_action, then_action, kind, None, symmetrical)
        )

    return edit_config(env, simple(change))


def constraint_remove(env: Env, ids: Sequence[str]) -> EditResult:
    return edit_config(env, simple(lambda config: edit.remove_constraints(config, ids)))


def constraint_list(env: Env) -> Configuration:
    return load(env).cib.configuration
