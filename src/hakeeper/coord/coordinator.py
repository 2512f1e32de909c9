"""The Coordinator: the one interface the daemons and commands use to reach the store.

Every method states the consistency it guarantees; every backend (memory://, sqlite://,
etcd://) passes the same contract suite (tests/coord). Methods raise only
hakeeper.coord.errors exceptions; CoordUnavailable and CoordTimeout can come from any
call and are not repeated below.

Reads are linearizable: a read returns every write that completed before it began.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from types import TracebackType

from hakeeper.coord.model import (
    ALL_TOPICS,
    ClusterSnapshot,
    ConfigDoc,
    JsonDoc,
    Leader,
    Lease,
    Membership,
    StatusKey,
    StatusSnapshot,
    Topic,
    WatchEvent,
)


class Watch(abc.ABC):
    """A stream of change events, in revision order, none missed and none repeated.

    Events of one revision come in key order. After CoordUnavailable or Compacted the
    watch is closed: re-read the state and watch again from its revision.
    """

    @property
    @abc.abstractmethod
    def revision(self) -> int:
        """The revision up to which events have been delivered (the start, at first)."""

    @abc.abstractmethod
    def next(self, timeout: float | None = None) -> WatchEvent | None:
        """The next event; None if none came within timeout seconds (None: wait forever)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop watching; idempotent."""

    def __iter__(self) -> Iterator[WatchEvent]:
        while True:
            event = self.next(None)
            if event is not None:
                yield event

    def __enter__(self) -> Watch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Coordinator(abc.ABC):
    """Configuration, status, membership, election and watches of one cluster."""

    # -- configuration: one document, every write a compare-and-swap --------------------

    @abc.abstractmethod
    def read_config(self) -> ConfigDoc | None:
        """The configuration and its revision; None if it was never written."""

    @abc.abstractmethod
    def write_config(self, xml: str, *, expected_revision: int) -> int:
        """Replace the configuration if it is still at expected_revision; return the new one.

        Compare-and-swap on the document's revision (0: "must not exist yet"). Raises
        Conflict if another writer changed it since; then nothing was written.
        """

    # -- status: small JSON documents per node ------------------------------------------

    @abc.abstractmethod
    def read_status(self) -> StatusSnapshot:
        """Every status document, as one consistent snapshot at one revision."""

    @abc.abstractmethod
    def write_status(
        self,
        changes: Mapping[StatusKey, JsonDoc | None],
        *,
        lease: Lease | None = None,
        expected: Mapping[StatusKey, JsonDoc | None] | None = None,
    ) -> int:
        """Put (or delete, for None) documents of one node, atomically; return the revision.

        All keys must name the same node (ValueError otherwise): status is written per
        node, by that node or by the controller. Last writer wins. With `lease`, the write
        applies only while that lease still holds its node's membership (compare on the
        member key): a node that lost its lease cannot report results; LeaseExpired then.
        With `expected`, only while each of those documents is still the one read (None:
        still absent): an edit of what was read cannot lose a write made since; Conflict
        then.
        """

    @abc.abstractmethod
    def clear_status(self, node: str) -> int:
        """Delete every status document of a node atomically (after it was fenced)."""

    # -- membership: one lease per node ---------------------------------------------------

    @abc.abstractmethod
    def join(self, node: str, ttl: float) -> Lease:
        """Grant a lease of ttl seconds and register node as a member under it.

        Raises Conflict if another live lease holds that node name; it frees up when
        that lease expires. etcd rounds ttl up to whole seconds and to its own minimum
        (1.5 x its election timeout).
        """

    @abc.abstractmethod
    def keepalive(self, lease: Lease) -> None:
        """Renew the lease for another ttl; raises LeaseExpired if it is already gone."""

    @abc.abstractmethod
    def leave(self, lease: Lease) -> None:
        """Revoke the lease: the node leaves, and so does its leadership; idempotent."""

    @abc.abstractmethod
    def members(self) -> Membership:
        """The nodes with a live lease. An expired lease is gone from here and reported
        to watchers within about one poll interval (sqlite, memory) or ~1 s (etcd)."""

    # -- controller election: one leader at a time, tied to its lease ---------------------

    @abc.abstractmethod
    def campaign(self, lease: Lease) -> bool:
        """Become leader if there is none; True if lease's node is (or already was) leader.

        Compare-and-create: at most one leader at a time. The leadership lasts as long as
        the lease; when it expires or is revoked the post is vacant (LeaderChanged(None))
        and the next campaign wins. Raises LeaseExpired if the lease is gone.
        """

    @abc.abstractmethod
    def resign(self, lease: Lease) -> None:
        """Give up leadership if lease's node holds it; otherwise do nothing."""

    @abc.abstractmethod
    def leader(self) -> Leader | None:
        """The current leader, or None."""

    # -- everything at once, and changes ---------------------------------------------------

    @abc.abstractmethod
    def snapshot(self) -> ClusterSnapshot:
        """Configuration, status, members and leader, all at one revision."""

    @abc.abstractmethod
    def watch(self, after_revision: int, topics: frozenset[Topic] = ALL_TOPICS) -> Watch:
        """Deliver every change with a revision above after_revision, in order.

        Pass the revision of a read to miss nothing between the read and the watch.
        Raises Compacted (now, or later from next()) if that history is gone.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections and threads; leases are not revoked (they expire)."""

    def __enter__(self) -> Coordinator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
