"""Resource history in the status: cleanup and refresh (pcs resource cleanup|refresh)."""

from __future__ import annotations

from dataclasses import dataclass

from hakeeper.cib import edit
from hakeeper.commands.env import Env
from hakeeper.coord import JsonDoc, StatusKey, StatusKind

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
