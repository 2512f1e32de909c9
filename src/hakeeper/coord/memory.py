"""memory:// — an in-process KvStore: the fake for unit tests of code around the Coordinator.

Same contract as the real backends (it runs the same suite), instant watch delivery, and
a clock that tests may replace to expire leases without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hakeeper.coord.errors import Compacted, LeaseExpired
from hakeeper.coord.kv import (
    Compare,
    Delete,
    Entry,
    KvEvent,
    KvStore,
    KvWatch,
    ModIs,
    Op,
    Put,
    TxnResult,
)

HISTORY = 10_000  # revisions of events kept for watches
POLL = 0.05  # how often a waiting watch re-checks lease expiry on the clock


@dataclass(slots=True)
class _Lease:
    ttl: float
    expires: float


class MemoryKv(KvStore):
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._revision = 0
        self._data: dict[str, Entry] = {}
        self._events: list[KvEvent] = []
        self._compacted = 0  # events at or below this revision are gone
        self._leases: dict[int, _Lease] = {}
        self._next_lease = 1

    # -- under self._cond ------------------------------------------------------------------

    def _expire(self) -> None:
        now = self._clock()
        dead = [lid for lid, lease in self._leases.items() if lease.expires <= now]
        for lid in dead:
            self._end_lease(lid)

    def _end_lease(self, lease_id: int) -> None:
        del self._leases[lease_id]
        keys = [k for k, e in self._data.items() if e.lease == lease_id]
        if keys:
            self._apply([Delete(k) for k in keys])

    def _apply(self, ops: Sequence[Op]) -> None:
        revision = self._revision + 1
        events: list[KvEvent] = []
        for op in ops:
            if isinstance(op, Put):
                old = self._data.get(op.key)
                created = old.create_revision if old else revision
                self._data[op.key] = Entry(op.key, op.value, revision, created, op.lease)
                events.append(KvEvent(revision, op.key, op.value))
            else:
                keys = (
                    [op.key]
                    if isinstance(op, Delete)
                    else [k for k in self._data if k.startswith(op.prefix)]
                )
                for key in sorted(keys):
                    if self._data.pop(key, None) is not None:
                        events.append(KvEvent(revision, key, None))
        if not events:
            return
        # Several ops on one key in one txn: etcd forbids it; keep the last, like a put.
        self._revision = revision
        self._events.extend(sorted(events, key=lambda e: e.key))
        if len(self._events) > 2 * HISTORY:
            drop = len(self._events) - HISTORY
            self._compacted = self._events[drop - 1].revision
            del self._events[:drop]
            while self._events and self._events[0].revision <= self._compacted:
                self._events.pop(0)
        self._cond.notify_all()

    def _holds(self, compare: Compare) -> bool:
        entry = self._data.get(compare.key)
        if isinstance(compare, ModIs):
            return (entry.mod_revision if entry else 0) == compare.revision
        return entry is not None and entry.value == compare.value

    # -- KvStore ---------------------------------------------------------------------------

    def get_prefix(self, prefix: str) -> tuple[int, list[Entry]]:
        with self._cond:
            self._expire()
            entries = [e for k, e in sorted(self._data.items()) if k.startswith(prefix)]
            return self._revision, entries

    def txn(self, compares: Sequence[Compare], ops: Sequence[Op]) -> TxnResult:
        with self._cond:
            self._expire()
            if not all(self._holds(c) for c in compares):
                return TxnResult(False, self._revision)
            for op in ops:
                if isinstance(op, Put) and op.lease and op.lease not in self._leases:
                    raise LeaseExpired(f"lease {op.lease} is not live")
            self._apply(ops)
            return TxnResult(True, self._revision)

    def grant(self, ttl: float) -> tuple[int, float]:
        with self._cond:
            self._expire()
            lease_id = self._next_lease
            self._next_lease += 1
            self._leases[lease_id] = _Lease(ttl, self._clock() + ttl)
            return lease_id, ttl

    def keepalive(self, lease: int) -> None:
        with self._cond:
            self._expire()
            held = self._leases.get(lease)
            if held is None:
                raise LeaseExpired(f"lease {lease} expired or was revoked")
            held.expires = self._clock() + held.ttl

    def revoke(self, lease: int) -> None:
        with self._cond:
            self._expire()
            if lease in self._leases:
                self._end_lease(lease)

    def watch(self, prefix: str, after_revision: int) -> KvWatch:
        return _MemoryWatch(self, prefix, after_revision)

    def close(self) -> None:
        pass

    # -- for _MemoryWatch ------------------------------------------------------------------

    def _events_after(self, prefix: str, revision: int, timeout: float | None) -> list[KvEvent]:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                self._expire()
                if revision < self._compacted:
                    raise Compacted(revision + 1, self._compacted + 1)
                if self._revision > revision:
                    start = next(i for i, e in enumerate(self._events) if e.revision > revision)
                    found = [e for e in self._events[start:] if e.key.startswith(prefix)]
                    if found:
                        return found
                    revision = self._revision
                left = POLL if deadline is None else min(POLL, deadline - time.monotonic())
                if left <= 0:
                    return []
                self._cond.wait(left)


class _MemoryWatch(KvWatch):
    def __init__(self, kv: MemoryKv, prefix: str, after_revision: int) -> None:
        self._kv = kv
        self._prefix = prefix
        self._revision = after_revision
        self._closed = False

    def next_batch(self, timeout: float | None) -> list[KvEvent]:
        if self._closed:
            return []
        events = self._kv._events_after(self._prefix, self._revision, timeout)
        if events:
            self._revision = events[-1].revision
        return events

    def close(self) -> None:
        self._closed = True
