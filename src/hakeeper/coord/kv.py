"""The small revisioned key-value store every backend provides (etcd's model, in miniature).

The Coordinator is written once on top of it (keyspace.py); a backend only has to give
these primitives their etcd meaning: one store revision bumped by every transaction that
changes something, compare-and-swap transactions, leases that delete their keys when
they expire, and a watch from any retained revision. Keys are str, relative to the
backend's namespace; values are str.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    value: str
    mod_revision: int
    create_revision: int
    lease: int  # 0: none


@dataclass(frozen=True, slots=True)
class KvEvent:
    """A key was put (value is the new value) or deleted (value is None) at revision."""

    revision: int
    key: str
    value: str | None


@dataclass(frozen=True, slots=True)
class ModIs:
    """Holds when key was last modified at revision (0: the key does not exist)."""

    key: str
    revision: int


@dataclass(frozen=True, slots=True)
class ValueIs:
    """Holds when key exists and holds exactly value."""

    key: str
    value: str


Compare = ModIs | ValueIs


@dataclass(frozen=True, slots=True)
class Put:
    key: str
    value: str
    lease: int = 0  # attach to this lease: deleted when it ends; it must be live


@dataclass(frozen=True, slots=True)
class Delete:
    key: str


@dataclass(frozen=True, slots=True)
class DeletePrefix:
    prefix: str


Op = Put | Delete | DeletePrefix


@dataclass(frozen=True, slots=True)
class TxnResult:
    succeeded: bool
    revision: int  # after the transaction (unchanged if it failed or changed nothing)
    # An earlier attempt of this transaction reached the store and may have applied, so a
    # failed compare may be our own write (etcd retries after a lost member or leader).
    ambiguous: bool = False


class KvWatch(abc.ABC):
    @abc.abstractmethod
    def next_batch(self, timeout: float | None) -> list[KvEvent]:
        """Events in order, possibly several; [] on timeout. Raises Compacted,
        CoordUnavailable; the watch is then closed."""

    @abc.abstractmethod
    def close(self) -> None: ...


class KvStore(abc.ABC):
    @abc.abstractmethod
    def get_prefix(self, prefix: str) -> tuple[int, list[Entry]]:
        """The store revision and every entry whose key starts with prefix, by key."""

    @abc.abstractmethod
    def txn(self, compares: Sequence[Compare], ops: Sequence[Op]) -> TxnResult:
        """If every compare holds, apply every op atomically at one new revision.

        Raises LeaseExpired if a Put names a lease that is not live (nothing applied).
        A backend may send it again after a failure that left its outcome unknown, so a
        transaction must be guarded by a compare or be harmless to apply twice.
        """

    @abc.abstractmethod
    def grant(self, ttl: float) -> tuple[int, float]:
        """A new lease: its id and the ttl granted (a backend may round it up)."""

    @abc.abstractmethod
    def keepalive(self, lease: int) -> None:
        """Renew for its ttl; raises LeaseExpired if it is gone."""

    @abc.abstractmethod
    def revoke(self, lease: int) -> None:
        """End the lease now and delete its keys; no error if it is already gone."""

    @abc.abstractmethod
    def watch(self, prefix: str, after_revision: int) -> KvWatch:
        """Every change under prefix with a revision above after_revision."""

    @abc.abstractmethod
    def close(self) -> None: ...
