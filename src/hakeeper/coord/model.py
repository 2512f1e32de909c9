"""The values a Coordinator reads, writes and reports in watch events.

Revisions are the store's: one counter for the whole store, increasing with every change
(etcd's revision; the SQLite backend keeps its own). They are monotonic, not contiguous.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JsonDoc = Mapping[str, Any]
"""A small JSON object, as stored under one status key."""


class StatusKind(enum.Enum):
    """What a status document records; each kind has one document per (node, name)."""

    OP_HISTORY = "ops"  # name: resource id; the resource's last operations on that node
    ATTRIBUTES = "attrs"  # name: attribute set (e.g. "transient"); node attributes
    FAIL_COUNT = "fails"  # name: resource id; fail counts per operation on that node
    FENCING = "fencing"  # name: a fenced node; its fencing history (under the @cluster node)


@dataclass(frozen=True, slots=True)
class StatusKey:
    """Where one status document lives: per node, per kind, per resource or attribute set."""

    node: str
    kind: StatusKind
    name: str

    def __post_init__(self) -> None:
        check_name("node", self.node)
        check_name("name", self.name)


def check_name(what: str, value: str) -> None:
    """Reject names that cannot be a key component (empty, or with '/' or NUL)."""
    if not value or "/" in value or "\0" in value:
        raise ValueError(f"invalid {what} {value!r}: must be non-empty, without '/' or NUL")


@dataclass(frozen=True, slots=True)
class ConfigDoc:
    """The configuration (a Pacemaker CIB as XML text) and the revision it was written at."""

    xml: str
    revision: int


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """Every status document, all as of one store revision."""

    revision: int
    documents: Mapping[StatusKey, JsonDoc]

    def for_node(self, node: str) -> dict[StatusKey, JsonDoc]:
        return {k: v for k, v in self.documents.items() if k.node == node}


@dataclass(frozen=True, slots=True)
class Lease:
    """A node's membership: alive while kept alive within ttl seconds."""

    node: str
    id: int
    ttl: float


@dataclass(frozen=True, slots=True)
class Leader:
    """The elected controller; `since` is the revision it was elected at (a fencing token)."""

    node: str
    since: int


@dataclass(frozen=True, slots=True)
class Membership:
    """The nodes holding a live lease, as of one revision."""

    revision: int
    nodes: frozenset[str]


@dataclass(frozen=True, slots=True)
class ClusterSnapshot:
    """Configuration, status, members and leader, all as of one store revision."""

    revision: int
    config: ConfigDoc | None
    status: StatusSnapshot
    members: frozenset[str]
    leader: Leader | None


class Topic(enum.Enum):
    """What a watch event is about; watch() filters on these."""

    CONFIG = "config"
    STATUS = "status"
    MEMBERSHIP = "membership"
    LEADER = "leader"


ALL_TOPICS = frozenset(Topic)


@dataclass(frozen=True, slots=True)
class ConfigChanged:
    revision: int
    xml: str


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """A status document was written, or deleted (doc is None)."""

    revision: int
    key: StatusKey
    doc: JsonDoc | None


class MemberChange(enum.Enum):
    JOINED = "joined"
    LEFT = "left"  # left on purpose, or its lease expired


@dataclass(frozen=True, slots=True)
class MemberChanged:
    revision: int
    node: str
    change: MemberChange


@dataclass(frozen=True, slots=True)
class LeaderChanged:
    """A leader was elected, or the leadership became vacant (leader is None)."""

    revision: int
    leader: Leader | None


WatchEvent = ConfigChanged | StatusChanged | MemberChanged | LeaderChanged

TOPIC_OF: Mapping[type[WatchEvent], Topic] = {
    ConfigChanged: Topic.CONFIG,
    StatusChanged: Topic.STATUS,
    MemberChanged: Topic.MEMBERSHIP,
    LeaderChanged: Topic.LEADER,
}
