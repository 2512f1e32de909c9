"""sqlite:///PATH — the embedded single-host store: several processes share one file.

WAL mode lets readers run beside the one writer; every change takes BEGIN IMMEDIATE,
bumps the one-row `revision` table and appends to `events`, which watches poll (a
one-row read when nothing changed). There is no server to expire leases, so whoever
touches the store next does it: each read or poll first checks the earliest expiry and,
if it has passed, deletes the lease and its keys in a write transaction of its own.

Lease expiry uses CLOCK_MONOTONIC (time.monotonic), which on Linux is one clock for every
process on the host and never jumps with wall time. It restarts at boot, so the file
records the boot id and a new boot ends every lease left in it.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from hakeeper.coord.errors import (
    Compacted,
    CoordError,
    CoordTimeout,
    CoordUnavailable,
    LeaseExpired,
)
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
COMPACT_EVERY = 1_000
BATCH = 500  # revisions a watch poll reads at most

SCHEMA = """
CREATE TABLE IF NOT EXISTS revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    current INTEGER NOT NULL,
    compacted INTEGER NOT NULL,
    boot_id TEXT NOT NULL
);
INSERT OR IGNORE INTO revision VALUES (1, 0, 0, '');
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    mod_revision INTEGER NOT NULL,
    create_revision INTEGER NOT NULL,
    lease INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_by_lease ON kv (lease) WHERE lease != 0;
CREATE TABLE IF NOT EXISTS events (
    revision INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (revision, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ttl REAL NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS leases_by_expiry ON leases (expires);
"""


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _prefix_range(prefix: str) -> tuple[str, str | None]:
    """[start, end) of the keys under prefix; end None: no upper bound."""
    if not prefix:
        return "", None
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """sqlite3 errors become the project's: a busy file is a timeout, the rest unavailable."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise CoordTimeout(f"sqlite store busy: {exc}") from exc
        raise CoordUnavailable(f"sqlite store: {exc}") from exc
    except sqlite3.Error as exc:
        raise CoordUnavailable(f"sqlite store: {exc}") from exc


class SqliteKv(KvStore):
    def __init__(
        self,
        path: str,
        *,
        poll_interval: float = 0.05,
        busy_timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self.poll_interval = poll_interval
        self._lock = threading.RLock()
        with _translated():
            self._db = sqlite3.connect(
                path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL loses no commit when a process dies, only on power loss, when
            # every node of a single-host cluster goes down with the file anyway.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(f"BEGIN IMMEDIATE; {SCHEMA} COMMIT;")
            self._check_boot()

    # -- transactions ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: take the file's write lock up front)."""
        with self._lock, _translated():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every SELECT inside sees the same snapshot."""
        with self._lock, _translated():
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                if self._db.in_transaction:
                    self._db.execute("COMMIT")

    def _check_boot(self) -> None:
        boot = _boot_id()
        with self._write() as db:
            (stored,) = db.execute("SELECT boot_id FROM revision").fetchone()
            if stored != boot:
                # Expiry times from another boot's monotonic clock mean nothing now.
                self._expire(db, math.inf)
                db.execute("UPDATE revision SET boot_id = ?", (boot,))

    def _expire_if_due(self) -> None:
        now = self._clock()
        with self._lock, _translated():
            due = self._db.execute("SELECT 1 FROM leases WHERE expires <= ? LIMIT 1", (now,))
            if due.fetchone() is None:
                return
        with self._write() as db:
            self._expire(db, self._clock())

    def _expire(self, db: sqlite3.Connection, now: float) -> None:
        for (lease_id,) in db.execute(
            "SELECT id FROM leases WHERE expires <= ?", (now,)
        ).fetchall():
            self._end_lease(db, lease_id)

    def _end_lease(self, db: sqlite3.Connection, lease_id: int) -> None:
        db.execute("DELETE FROM leases WHERE id = ?", (lease_id,))
        keys = db.execute("SELECT key FROM kv WHERE lease = ?", (lease_id,)).fetchall()
        self._apply(db, [Delete(k) for (k,) in keys])

    def _apply(self, db: sqlite3.Connection, ops: Sequence[Op]) -> int:
        """Apply ops at the next revision if any changes something; return the revision."""
        (current,) = db.execute("SELECT current FROM revision").fetchone()
        revision = current + 1
        events: dict[str, str | None] = {}
        for op in ops:
            if isinstance(op, Put):
                db.execute(
                    "INSERT INTO kv VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
                    " value = excluded.value, mod_revision = excluded.mod_revision,"
                    " lease = excluded.lease",
                    (op.key, op.value, revision, revision, op.lease),
                )
                events[op.key] = op.value
                continue
            if isinstance(op, Delete):
                keys = [op.key]
            else:
                start, end = _prefix_range(op.prefix)
                rows = db.execute(
                    "SELECT key FROM kv WHERE key >= ? AND (? IS NULL OR key < ?)",
                    (start, end, end),
                ).fetchall()
                keys = [k for (k,) in rows]
            for key in keys:
                if db.execute("DELETE FROM kv WHERE key = ?", (key,)).rowcount:
                    events[key] = None
        if not events:
            return int(current)
        db.executemany(
            "INSERT INTO events VALUES (?, ?, ?)", [(revision, k, v) for k, v in events.items()]
        )
        db.execute("UPDATE revision SET current = ?", (revision,))
        if revision % COMPACT_EVERY == 0 and revision > HISTORY:
            db.execute("DELETE FROM events WHERE revision <= ?", (revision - HISTORY,))
            db.execute("UPDATE revision SET compacted = ?", (revision - HISTORY,))
        return int(revision)

    @staticmethod
    def _holds(db: sqlite3.Connection, compare: Compare) -> bool:
        row = db.execute(
            "SELECT value, mod_revision FROM kv WHERE key = ?", (compare.key,)
        ).fetchone()
        if isinstance(compare, ModIs):
            return (row[1] if row else 0) == compare.revision
        return row is not None and row[0] == compare.value

    # -- KvStore -----------------------------------------------------------------------------

    def get_prefix(self, prefix: str) -> tuple[int, list[Entry]]:
        self._expire_if_due()
        start, end = _prefix_range(prefix)
        with self._read() as db:
            (revision,) = db.execute("SELECT current FROM revision").fetchone()
            rows = db.execute(
                "SELECT key, value, mod_revision, create_revision, lease FROM kv"
                " WHERE key >= ? AND (? IS NULL OR key < ?) ORDER BY key",
                (start, end, end),
            ).fetchall()
        return int(revision), [Entry(*row) for row in rows]

    def txn(self, compares: Sequence[Compare], ops: Sequence[Op]) -> TxnResult:
        with self._write() as db:
            self._expire(db, self._clock())
            if not all(self._holds(db, c) for c in compares):
                (current,) = db.execute("SELECT current FROM revision").fetchone()
                return TxnResult(False, int(current))
            for op in ops:
                if isinstance(op, Put) and op.lease:
                    if db.execute("SELECT 1 FROM leases WHERE id = ?", (op.lease,)).fetchone():
                        continue
                    raise LeaseExpired(f"lease {op.lease} is not live")
            return TxnResult(True, self._apply(db, ops))

    def grant(self, ttl: float) -> tuple[int, float]:
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO leases (ttl, expires) VALUES (?, ?)", (ttl, self._clock() + ttl)
            )
            assert cursor.lastrowid is not None
            return int(cursor.lastrowid), ttl

    def keepalive(self, lease: int) -> None:
        with self._write() as db:
            self._expire(db, self._clock())
            cursor = db.execute(
                "UPDATE leases SET expires = ? + ttl WHERE id = ?", (self._clock(), lease)
            )
            if cursor.rowcount == 0:
                raise LeaseExpired(f"lease {lease} expired or was revoked")

    def revoke(self, lease: int) -> None:
        with self._write() as db:
            self._end_lease(db, lease)

    def watch(self, prefix: str, after_revision: int) -> KvWatch:
        return _SqliteWatch(self, prefix, after_revision)

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()

    # -- for _SqliteWatch ----------------------------------------------------------------------

    def _poll(self, prefix: str, after: int) -> tuple[int, list[KvEvent]]:
        """The revision reached and the events of up to BATCH revisions after `after`.

        When nothing changed this is a read of one row. Revisions here are contiguous,
        so a batch by revision range never splits the events of one revision.
        """
        self._expire_if_due()
        with self._read() as db:
            current, compacted = db.execute("SELECT current, compacted FROM revision").fetchone()
            if after < compacted:
                raise Compacted(after + 1, compacted + 1)
            if current <= after:
                return int(current), []
            upto = min(int(current), after + BATCH)
            rows = db.execute(
                "SELECT revision, key, value FROM events WHERE revision > ? AND revision <= ?"
                " ORDER BY revision, key",
                (after, upto),
            ).fetchall()
        return upto, [KvEvent(*row) for row in rows if row[1].startswith(prefix)]


class _SqliteWatch(KvWatch):
    def __init__(self, kv: SqliteKv, prefix: str, after_revision: int) -> None:
        self._kv = kv
        self._prefix = prefix
        self._revision = after_revision
        self._closed = False

    def next_batch(self, timeout: float | None) -> list[KvEvent]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._closed:
            try:
                self._revision, events = self._kv._poll(self._prefix, self._revision)
            except CoordError:
                self._closed = True
                raise
            if events:
                return events
            pause = self._kv.poll_interval
            if deadline is not None:
                pause = min(pause, deadline - time.monotonic())
                if pause <= 0:
                    break
            time.sleep(pause)
        return []

    def close(self) -> None:
        self._closed = True
