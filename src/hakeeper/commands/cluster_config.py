"""Library commands on the rest of the stored configuration: constraints, properties,
node attributes, the whole CIB in and out, and resource history (cleanup/refresh)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hakeeper.cib import edit
from hakeeper.cib.parse import parse_cib_text
from hakeeper.cib.render import render_cib
from hakeeper.commands.cib_store import (
    EditResult,
    StoredCib,
    edit_config,
    load,
    simple,
    validated_xml,
)
from hakeeper.commands.env import Env
from hakeeper.coord import Conflict, JsonDoc, StatusKey, StatusKind
from hakeeper.model.cib import Cib
from hakeeper.model.config import (
    Colocation,
    Configuration,
    Location,
    Order,
    Role,
)
from hakeeper.model.status import Status
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


# --- properties and node attributes ------------------------------------------------------------


def property_set(env: Env, values: Mapping[str, str | None]) -> EditResult:
    return edit_config(env, simple(lambda config: edit.set_properties(config, values)))


def property_list(env: Env) -> dict[str, str]:
    return edit.values_of(load(env).cib.configuration.crm_config)


def node_attribute_set(
    env: Env, node: str, values: Mapping[str, str | None], *, utilization: bool = False
) -> EditResult:
    return edit_config(
        env,
        simple(
            lambda config: edit.set_node_attributes(config, node, values, utilization=utilization)
        ),
    )


def node_standby(env: Env, nodes: Sequence[str], on: bool) -> EditResult:
    """pcs node standby|unstandby: the permanent `standby` node attribute."""
    return _node_flag(env, nodes, "standby", on)


def node_maintenance(env: Env, nodes: Sequence[str], on: bool) -> EditResult:
    return _node_flag(env, nodes, "maintenance", on)


def _node_flag(env: Env, nodes: Sequence[str], name: str, on: bool) -> EditResult:
    def change(config: Configuration) -> Configuration:
        targets = nodes or [n.uname for n in config.nodes]
        for node in targets:
            config = edit.set_node_attributes(config, node, {name: "on" if on else None})
        return config

    return edit_config(env, simple(change))


def node_attributes(env: Env) -> dict[str, dict[str, str]]:
    config = load(env).cib.configuration
    return {n.uname: edit.values_of(n.attributes) for n in config.nodes}


# --- the whole CIB --------------------------------------------------------------------------------


def cib_export(env: Env) -> StoredCib:
    return load(env)


def cib_text(stored: StoredCib) -> str:
    return render_cib(stored.cib).decode()


def cib_import(
    env: Env, text: str, source: str, *, expected_revision: int | None = None
) -> EditResult:
    """Replace the stored configuration with a CIB's configuration section (its status
    section is dropped: status lives in the store). Compare-and-swap against the revision
    read now, or against expected_revision (from an earlier export) if given."""
    cib = parse_cib_text(text, source=source)
    with env.coordinator() as coord:
        doc = coord.read_config()
        current = doc.revision if doc is not None else 0
        base = Cib(Configuration(), Status(), cib.root_attributes)
        new_text = validated_xml(base, cib.configuration)
        expected = current if expected_revision is None else expected_revision
        try:
            revision = coord.write_config(new_text, expected_revision=expected)
        except Conflict as err:
            from hakeeper.commands.cib_store import conflict

            raise conflict(env.store, err) from None
    return EditResult(revision, True)


# --- resource history in the status ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CleanupDto:
    """The status documents cleared, as (node, resource) pairs."""

    cleared: tuple[tuple[str, str], ...]


def _instance_of(name: str, rsc_ids: frozenset[str]) -> bool:
    return name in rsc_ids or name.split(":", 1)[0] in rsc_ids


def _failed(doc: JsonDoc) -> bool:
    for fields in doc.get("ops", {}).values():
        if str(fields.get("id", "")).endswith("_last_failure_0"):
            return True
    return False


def resource_cleanup(
    env: Env, rsc_id: str | None = None, node: str | None = None, *, refresh: bool = False
) -> CleanupDto:
    """pcs resource cleanup: forget failed operations (the history of each resource that
    has a failure, and its fail counts) so the cluster re-detects its state. With
    refresh=True (pcs resource refresh), forget the whole history, failed or not."""
    with env.coordinator() as coord:
        from hakeeper.commands.cib_store import read_cib

        config = read_cib(coord, env.store).cib.configuration
        ids: frozenset[str] | None = None
        if rsc_id is not None:
            edit.require_resource(config, rsc_id)
            ids = frozenset(r.id for r in edit.walk((edit.require_resource(config, rsc_id),)))
        if node is not None:
            node = edit.require_node(config, node).uname
        snapshot = coord.read_status()
        by_node: dict[str, dict[StatusKey, JsonDoc | None]] = {}
        cleared = []
        for key, doc in sorted(snapshot.documents.items(), key=lambda kv: (kv[0].node, kv[0].name)):
            if key.kind not in (StatusKind.OP_HISTORY, StatusKind.FAIL_COUNT):
                continue
            if node is not None and key.node != node:
                continue
            if ids is not None and not _instance_of(key.name, ids):
                continue
            if key.kind is StatusKind.OP_HISTORY and not refresh and not _failed(doc):
                continue
            by_node.setdefault(key.node, {})[key] = None
            if key.kind is StatusKind.OP_HISTORY:
                cleared.append((key.node, key.name))
        for changes in by_node.values():
            coord.write_status(changes)
    return CleanupDto(tuple(cleared))
