"""Coordination store: configuration, status, membership, election and watches.

`connect(url)` picks the backend by URL (memory://, sqlite:///PATH, etcd://HOST:PORT,...);
coordinator.py holds the contract every backend meets.
"""

from hakeeper.coord.coordinator import Coordinator, Watch
from hakeeper.coord.errors import (
    Compacted,
    Conflict,
    CoordError,
    CoordTimeout,
    CoordUnavailable,
    LeaseExpired,
)
from hakeeper.coord.model import (
    ALL_TOPICS,
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
)
from hakeeper.coord.url import connect

__all__ = [
    "ALL_TOPICS",
    "ClusterSnapshot",
    "Compacted",
    "ConfigChanged",
    "ConfigDoc",
    "Conflict",
    "CoordError",
    "CoordTimeout",
    "CoordUnavailable",
    "Coordinator",
    "JsonDoc",
    "Leader",
    "LeaderChanged",
    "Lease",
    "LeaseExpired",
    "MemberChange",
    "MemberChanged",
    "Membership",
    "StatusChanged",
    "StatusKey",
    "StatusKind",
    "StatusSnapshot",
    "Topic",
    "Watch",
    "WatchEvent",
    "connect",
]
