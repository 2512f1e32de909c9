"""What the node state machine hears (events: facts, past tense) and orders (instructions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hakeeper.agents.request import OpRequest
from hakeeper.coord.model import JsonDoc, StatusKey
from hakeeper.node.transition import Transition

# -- events ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ticked:
    """Time passed; `now` is seconds since the epoch. Every handle() call starts with one."""

    now: float


@dataclass(frozen=True, slots=True)
class ConfigChanged:
    xml: str
    revision: int


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """A status document was written (doc) or deleted (None)."""

    key: StatusKey
    doc: JsonDoc | None


@dataclass(frozen=True, slots=True)
class MemberJoined:
    node: str


@dataclass(frozen=True, slots=True)
class MemberLost:
    node: str


@dataclass(frozen=True, slots=True)
class LeaderElected:
    """The leadership changed hands; node None: the post is vacant."""

    node: str | None
    since: int


@dataclass(frozen=True, slots=True)
class LeaseLost:
    """This node's lease lapsed: it is no longer a member."""


@dataclass(frozen=True, slots=True)
class OpCompleted:
    """The agent run ordered by RunOp(run_id) ended."""

    run_id: str
    rc: int
    op_status: int  # Pacemaker's op-status number (0: done, 2: timeout, 4: error ...)
    exit_reason: str | None = None
    duration_ms: int = 0


@dataclass(frozen=True, slots=True)
class ProcessExited:
    """The process a resource's agent named in its pid file exited (seen through a pidfd)."""

    resource: str


@dataclass(frozen=True, slots=True)
class AttributeChanged:
    """An agent set (value) or deleted (None) one of this node's attributes, or with
    `cluster` one of the whole cluster's (crm_attribute --type crm_config), or with `node`
    one of that node's (crm_attribute -N: galera's promote gives every peer its score)."""

    name: str
    value: str | None
    cluster: bool = False
    node: str | None = None


@dataclass(frozen=True, slots=True)
class WriteFailed:
    """A WriteStatus (or PublishTransition) of these keys did not reach the store (or may
    not have: a timeout); they are written again, as they are then."""

    keys: frozenset[StatusKey]


@dataclass(frozen=True, slots=True)
class StoreReread:
    """The store as read again after the watch failed (a lost member, compacted history):
    the changes missed in between are whatever differs from what this node knew."""

    config_xml: str | None
    config_revision: int
    docs: Mapping[StatusKey, JsonDoc]
    members: frozenset[str]
    leader: str | None
    leader_since: int


@dataclass(frozen=True, slots=True)
class LeaveRequested:
    """This node was asked to leave the cluster (SIGTERM): its resources go elsewhere first."""


Event = (
    Ticked
    | ConfigChanged
    | StatusChanged
    | MemberJoined
    | MemberLost
    | LeaderElected
    | LeaseLost
    | OpCompleted
    | ProcessExited
    | AttributeChanged
    | WriteFailed
    | StoreReread
    | LeaveRequested
)

# -- instructions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunOp:
    """Run this agent action; report the end as OpCompleted(run_id)."""

    run_id: str
    request: OpRequest


@dataclass(frozen=True, slots=True)
class CancelOp:
    """End the agent run ordered by RunOp(run_id) now if the runner can (a recurring
    monitor that a start, stop, promote or demote of its resource cancels, as Pacemaker's
    executor kills it); its OpCompleted comes all the same."""

    run_id: str


@dataclass(frozen=True, slots=True)
class WriteStatus:
    """Write (None: delete) these status documents of this node, under its lease."""

    changes: Mapping[StatusKey, JsonDoc | None]


@dataclass(frozen=True, slots=True)
class PublishTransition:
    """Write the leader's graph where every node reads it."""

    transition: Transition


@dataclass(frozen=True, slots=True)
class WatchExit:
    """Hold a pidfd on the resource's process (request: how its agent runs it), so that
    its exit is heard at once; request None: stop watching it."""

    resource: str
    request: OpRequest | None


@dataclass(frozen=True, slots=True)
class ClearStatus:
    """Delete every status document of a node: it was fenced, what it ran is gone."""

    node: str


@dataclass(frozen=True, slots=True)
class Campaign:
    """Try to become the leader (the post is vacant)."""


@dataclass(frozen=True, slots=True)
class Say:
    """One sentence for the log: what was decided and why."""

    text: str


Instruction = (
    WatchExit | ClearStatus | RunOp | CancelOp | WriteStatus | PublishTransition | Campaign | Say
)
