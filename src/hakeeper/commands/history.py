"""Resource history in the status: cleanup and refresh (pcs resource cleanup|refresh)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from hakeeper.cib import edit
from hakeeper.commands.cib_store import edit_config, simple
from hakeeper.commands.env import Env
from hakeeper.coord import JsonDoc, StatusKey, StatusKind
from hakeeper.reports import CommandError, codes


@dataclass(frozen=True, slots=True)
class CleanupDto:
    """The status documents cleared, as (node, resource) pairs."""

    cleared: tuple[tuple[str, str], ...]
    revision: int | None = None  # of the last-lrm-refresh write, if anything was cleared


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
    revision = mark_refresh(env, int(time.time())) if by_node else None
    return CleanupDto(tuple(cleared), revision)


def mark_refresh(env: Env, now: int, attempts: int = 3) -> int:
    """Set the last-lrm-refresh property, as Pacemaker's controller does after it erases
    history: a configuration change, so the leader schedules again at once (probing what
    was forgotten) instead of at its next recheck. Retried if another edit wins the race:
    any later write serves as well."""
    for attempt in range(attempts):
        try:
            return edit_config(
                env,
                simple(lambda config: edit.set_properties(config, {"last-lrm-refresh": str(now)})),
            ).revision
        except CommandError as err:
            if err.codes != [codes.CONFIG_CONFLICT] or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")
