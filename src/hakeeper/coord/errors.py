"""The exceptions every coordination backend raises; client errors never leak past a backend.

CoordError                 anything the store could not do
├── CoordUnavailable       no endpoint answered (all etcd members down, file unreadable)
├── CoordTimeout           an endpoint did not answer in time; a write's outcome is unknown
├── Conflict               a compare-and-swap lost: another writer changed it first
├── LeaseExpired           the lease is gone: the node is no longer a member
└── Compacted              a watch asked for history the store has already discarded
"""

from __future__ import annotations


class CoordError(Exception):
    """Base of every error raised by hakeeper.coord."""


class CoordUnavailable(CoordError):
    """The store could not be reached (every endpoint tried)."""


class CoordTimeout(CoordError):
    """The store did not answer in time; after a write, re-read to learn whether it applied."""


class Conflict(CoordError):
    """A compare-and-swap failed: the value is no longer at the revision the writer read
    (expected_revision None: no longer what the writer read, whatever its revision was)."""

    def __init__(self, what: str, expected_revision: int | None, actual_revision: int) -> None:
        if expected_revision is None:
            told = f"changed since it was read (the store is at revision {actual_revision})"
        else:
            told = f"changed: expected revision {expected_revision}, found {actual_revision}"
        super().__init__(f"{what} {told}; re-read and retry")
        self.what = what
        self.expected_revision = expected_revision
        self.actual_revision = actual_revision

    def __reduce__(self) -> tuple[type[Conflict], tuple[str, int | None, int]]:
        return (Conflict, (self.what, self.expected_revision, self.actual_revision))


class LeaseExpired(CoordError):
    """The lease was revoked or expired; the node must stop acting as a member."""


class Compacted(CoordError):
    """A watch started before the oldest revision the store still keeps."""

    def __init__(self, requested_revision: int, compacted_revision: int) -> None:
        super().__init__(
            f"history before revision {compacted_revision} is compacted "
            f"(asked from {requested_revision}); re-read the state and watch again"
        )
        self.requested_revision = requested_revision
        self.compacted_revision = compacted_revision

    def __reduce__(self) -> tuple[type[Compacted], tuple[int, int]]:
        return (Compacted, (self.requested_revision, self.compacted_revision))
