"""The fencing history (pcs stonith history show|cleanup): which nodes the cluster fenced,
by whose device, for which controller, how it ended. The leader's fencer records each
fencing under the cluster (node/records.py), so the history outlives the status that the
fencing cleared; `check` reports a fenced node until its history is cleaned up."""

from __future__ import annotations

from hakeeper.commands.cib_store import CONFLICT_EXIT
from hakeeper.commands.env import Env
from hakeeper.coord import Conflict, JsonDoc, StatusKey, StatusKind
from hakeeper.node.records import CLUSTER, FenceRecord, fence_history
from hakeeper.reports import CommandError, Report, codes


def _history_keys(docs: dict[StatusKey, JsonDoc], node: str | None) -> list[StatusKey]:
    return sorted(
        (
            k
            for k in docs
            if k.node == CLUSTER
            and k.kind is StatusKind.FENCING
            and (node is None or k.name == node)
        ),
        key=lambda k: k.name,
    )


def history_show(env: Env, node: str | None = None) -> tuple[FenceRecord, ...]:
    """The fencing events of node (every node's when None), newest first."""
    with env.coordinator() as coord:
        history = fence_history(coord.read_status().documents)
    return tuple(r for r in history if node is None or r.target == node)


def history_cleanup(env: Env, node: str | None = None) -> tuple[str, ...]:
    """Forget node's fencing history (every node's when None); the nodes forgotten.

    Only the history read is forgotten: a fencing recorded in between is news the operator
    has not seen, so the cleanup then changes nothing and says so (a CommandError).
    """
    with env.coordinator() as coord:
        docs = dict(coord.read_status().documents)
        keys = _history_keys(docs, node)
        if keys:
            try:
                coord.write_status(dict.fromkeys(keys), expected={k: docs[k] for k in keys})
            except Conflict:
                raise CommandError(
                    Report.error(
                        codes.CONFIG_CONFLICT,
                        f"a fencing of {', '.join(k.name for k in keys)} was recorded while "
                        "its history was being cleaned up; nothing was forgotten",
                        where="--store",
                        url=env.store,
                        hint="read it with `hakeeper stonith history show`, then run the "
                        "cleanup again",
                    ),
                    exit_code=CONFLICT_EXIT,
                ) from None
    return tuple(k.name for k in keys)
