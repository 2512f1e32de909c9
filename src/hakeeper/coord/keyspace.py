"""The Coordinator, written once over a KvStore: the key layout and its JSON documents.

    config                         the CIB XML text
    status/NODE/KIND/NAME          one JSON document (KIND: ops, attrs, fails)
    members/NODE                   {"lease": ID, "ttl": S}, attached to the node's lease
    leader                         {"lease": ID, "node": NODE}, attached to the leader's lease

Attaching members/ and leader to the lease is what makes expiry end both membership and
leadership in the same revision, with no one having to clean up after a dead node.
"""

from __future__ import annotations

import contextlib
import json
import queue
import time
from collections.abc import Mapping
from typing import Any

from hakeeper.coord.coordinator import Coordinator, Watch
from hakeeper.coord.errors import Conflict, CoordError, LeaseExpired
from hakeeper.coord.kv import (
    Compare,
    Delete,
    DeletePrefix,
    Entry,
    KvEvent,
    KvStore,
    KvWatch,
    ModIs,
    Op,
    Put,
    ValueIs,
)
from hakeeper.coord.model import (
    ALL_TOPICS,
    TOPIC_OF,
    ClusterSnapshot,
    ConfigChanged,
    ConfigDoc,
    JsonDoc,
    Leader,
    LeaderChanged,
    Lease,
    MemberChange,
    MemberChanged,
    Membership,
    StatusChanged,
    StatusKey,
    StatusKind,
    StatusSnapshot,
    Topic,
    WatchEvent,
    check_name,
)

CONFIG = "config"
STATUS = "status/"
MEMBERS = "members/"
LEADER = "leader"

SLICE = 0.5  # a blocked next() wakes this often to notice close() from another thread


def status_key(key: StatusKey) -> str:
    return f"{STATUS}{key.node}/{key.kind.value}/{key.name}"


def _dumps(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def _member_value(lease: Lease) -> str:
    return _dumps({"lease": lease.id, "ttl": lease.ttl})


def _leader_value(lease: Lease) -> str:
    return _dumps({"lease": lease.id, "node": lease.node})


def _parse_status_key(key: str) -> StatusKey | None:
    parts = key[len(STATUS) :].split("/")
    if len(parts) != 3:
        return None
    try:
        return StatusKey(parts[0], StatusKind(parts[1]), parts[2])
    except ValueError:
        return None  # written by something newer than us: not ours to interpret


def _decode(event: KvEvent) -> WatchEvent | None:
    """The typed event for a raw key change; None for keys outside the layout."""
    key, value, rev = event.key, event.value, event.revision
    if key == CONFIG:
        return ConfigChanged(rev, value) if value is not None else None
    if key == LEADER:
        if value is None:
            return LeaderChanged(rev, None)
        return LeaderChanged(rev, Leader(json.loads(value)["node"], rev))
    if key.startswith(MEMBERS):
        change = MemberChange.JOINED if value is not None else MemberChange.LEFT
        return MemberChanged(rev, key[len(MEMBERS) :], change)
    if key.startswith(STATUS):
        skey = _parse_status_key(key)
        if skey is None:
            return None
        return StatusChanged(rev, skey, json.loads(value) if value is not None else None)
    return None


class KeyspaceCoordinator(Coordinator):
    """A Coordinator over any KvStore; owns the store and closes it."""

    def __init__(self, kv: KvStore) -> None:
        self._kv = kv

    @property
    def kv(self) -> KvStore:
        return self._kv

    def _get(self, key: str) -> tuple[int, Entry | None]:
        revision, entries = self._kv.get_prefix(key)
        return revision, next((e for e in entries if e.key == key), None)

    # -- configuration ---------------------------------------------------------------------

    def read_config(self) -> ConfigDoc | None:
        _, entry = self._get(CONFIG)
        return ConfigDoc(entry.value, entry.mod_revision) if entry else None

    def write_config(self, xml: str, *, expected_revision: int) -> int:
        result = self._kv.txn([ModIs(CONFIG, expected_revision)], [Put(CONFIG, xml)])
        if result.succeeded:
            return result.revision
        _, entry = self._get(CONFIG)
        if result.ambiguous and entry is not None and entry.value == xml:
            return entry.mod_revision  # our own first attempt applied before the retry
        raise Conflict("configuration", expected_revision, entry.mod_revision if entry else 0)

    # -- status ----------------------------------------------------------------------------

    def read_status(self) -> StatusSnapshot:
        revision, entries = self._kv.get_prefix(STATUS)
        return StatusSnapshot(revision, self._status_docs(entries))

    @staticmethod
    def _status_docs(entries: list[Entry]) -> dict[StatusKey, JsonDoc]:
        docs: dict[StatusKey, JsonDoc] = {}
        for entry in entries:
            skey = _parse_status_key(entry.key)
            if skey is not None:
                docs[skey] = json.loads(entry.value)
        return docs

    def write_status(
        self,
        changes: Mapping[StatusKey, JsonDoc | None],
        *,
        lease: Lease | None = None,
        expected: Mapping[StatusKey, JsonDoc | None] | None = None,
    ) -> int:
        nodes = {key.node for key in changes}
        if len(nodes) > 1:
            raise ValueError(f"status changes for several nodes at once: {sorted(nodes)}")
        ops: list[Op] = [
            Delete(status_key(key)) if doc is None else Put(status_key(key), _dumps(doc))
            for key, doc in sorted(changes.items(), key=lambda item: status_key(item[0]))
        ]
        unchanged: list[Compare] = [
            ModIs(status_key(key), 0) if doc is None else ValueIs(status_key(key), _dumps(doc))
            for key, doc in sorted((expected or {}).items(), key=lambda i: status_key(i[0]))
        ]
        fence: list[Compare] = []
        if lease is not None:
            fence.append(ValueIs(MEMBERS + lease.node, _member_value(lease)))
        result = self._kv.txn([*fence, *unchanged], ops)
        if result.succeeded:
            return result.revision
        if lease is not None and (not unchanged or not self._holds(lease)):
            raise LeaseExpired(f"lease {lease.id} of {lease.node} no longer holds membership")
        what = ", ".join(sorted(f"{k.node}/{k.kind.value}/{k.name}" for k in expected or {}))
        raise Conflict(f"status {what}", None, result.revision)

    def _holds(self, lease: Lease) -> bool:
        _, entry = self._get(MEMBERS + lease.node)
        return entry is not None and entry.value == _member_value(lease)

    def clear_status(self, node: str) -> int:
        check_name("node", node)
        return self._kv.txn([], [DeletePrefix(f"{STATUS}{node}/")]).revision

    # -- membership ------------------------------------------------------------------------

    def join(self, node: str, ttl: float) -> Lease:
        check_name("node", node)
        lease_id, granted = self._kv.grant(ttl)
        lease = Lease(node, lease_id, granted)
        key = MEMBERS + node
        value = _member_value(lease)
        try:
            result = self._kv.txn([ModIs(key, 0)], [Put(key, value, lease_id)])
        except CoordError:
            self._revoke_quietly(lease_id)
            raise
        _, holder = self._get(key)
        if result.succeeded or (holder is not None and holder.lease == lease_id):
            return lease  # the second: our own first attempt applied before a retry
        self._revoke_quietly(lease_id)
        raise Conflict(f"member {node}", 0, holder.mod_revision if holder else 0)

    def _revoke_quietly(self, lease_id: int) -> None:
        # It expires on its own; the caller's error is the one that matters.
        with contextlib.suppress(CoordError):
            self._kv.revoke(lease_id)

    def keepalive(self, lease: Lease) -> None:
        self._kv.keepalive(lease.id)

    def leave(self, lease: Lease) -> None:
        self._kv.revoke(lease.id)

    def members(self) -> Membership:
        revision, entries = self._kv.get_prefix(MEMBERS)
        return Membership(revision, frozenset(e.key[len(MEMBERS) :] for e in entries))

    # -- election --------------------------------------------------------------------------

    def campaign(self, lease: Lease) -> bool:
        value = _leader_value(lease)
        result = self._kv.txn([ModIs(LEADER, 0)], [Put(LEADER, value, lease.id)])
        if result.succeeded:
            return True
        _, entry = self._get(LEADER)
        return entry is not None and entry.value == value

    def resign(self, lease: Lease) -> None:
        self._kv.txn([ValueIs(LEADER, _leader_value(lease))], [Delete(LEADER)])

    def leader(self) -> Leader | None:
        _, entry = self._get(LEADER)
        return self._leader(entry)

    @staticmethod
    def _leader(entry: Entry | None) -> Leader | None:
        if entry is None:
            return None
        return Leader(json.loads(entry.value)["node"], entry.create_revision)

    # -- snapshot and watch ------------------------------------------------------------------

    def snapshot(self) -> ClusterSnapshot:
        revision, entries = self._kv.get_prefix("")
        by_key = {e.key: e for e in entries}
        config = by_key.get(CONFIG)
        return ClusterSnapshot(
            revision=revision,
            config=ConfigDoc(config.value, config.mod_revision) if config else None,
            status=StatusSnapshot(
                revision, self._status_docs([e for e in entries if e.key.startswith(STATUS)])
            ),
            members=frozenset(k[len(MEMBERS) :] for k in by_key if k.startswith(MEMBERS)),
            leader=self._leader(by_key.get(LEADER)),
        )

    def watch(self, after_revision: int, topics: frozenset[Topic] = ALL_TOPICS) -> Watch:
        return KeyspaceWatch(self._kv.watch("", after_revision), after_revision, topics)

    def close(self) -> None:
        self._kv.close()


class KeyspaceWatch(Watch):
    """Typed, filtered events over a KvWatch."""

    def __init__(self, raw: KvWatch, after_revision: int, topics: frozenset[Topic]) -> None:
        self._raw = raw
        self._topics = topics
        self._revision = after_revision
        self._pending: queue.SimpleQueue[KvEvent] = queue.SimpleQueue()
        self._closed = False

    @property
    def revision(self) -> int:
        return self._revision

    def next(self, timeout: float | None = None) -> WatchEvent | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._closed:
            while not self._pending.empty():
                raw = self._pending.get_nowait()
                self._revision = raw.revision
                event = _decode(raw)
                if event is not None and TOPIC_OF[type(event)] in self._topics:
                    return event
            left = SLICE if deadline is None else min(SLICE, deadline - time.monotonic())
            if left <= 0:
                return None
            for raw in self._raw.next_batch(left):
                self._pending.put(raw)
        return None

    def close(self) -> None:
        self._closed = True
        self._raw.close()
