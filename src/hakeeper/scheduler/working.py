"""The scheduler's private working set: mutable while one `schedule()` call runs, never shared.

It mirrors Pacemaker's working set closely on purpose, so that each decision can be
checked against Pacemaker's behaviour step by step.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from hakeeper.model.config import Op, Primitive, Role
from hakeeper.model.status import OpRecord


class Variant(enum.IntEnum):
    PRIMITIVE = 0
    GROUP = 1
    CLONE = 2
    BUNDLE = 3


class OnFail(enum.IntEnum):
    """How to react to a failed operation, in Pacemaker's order of severity."""

    IGNORE = 0
    DEMOTE = 1
    RECOVER = 2
    MIGRATE = 3
    BLOCK = 4
    STOP = 5
    STANDBY = 6
    FENCE = 7
    RESTART_CONTAINER = 8
    RESET_REMOTE = 9


# How much each reaction outweighs another when several failures meet (Pacemaker's order:
# the two container/remote reactions rank just above plain recovery)
ON_FAIL_RANK = {
    OnFail.IGNORE: 0,
    OnFail.DEMOTE: 1,
    OnFail.RECOVER: 2,
    OnFail.RESET_REMOTE: 3,
    OnFail.RESTART_CONTAINER: 4,
    OnFail.MIGRATE: 5,
    OnFail.BLOCK: 6,
    OnFail.STOP: 7,
    OnFail.STANDBY: 8,
    OnFail.FENCE: 9,
}


# Flags are plain ints in namespaces, not enum.IntFlag: IntFlag arithmetic was a fifth of
# the scheduler's time on large CIBs.
Flags = int


class AF:
    """Action flags."""

    NONE = 0
    OPTIONAL = 1
    RUNNABLE = 2
    PSEUDO = 4
    PRINT_ALWAYS = 8
    MIGRATE_RUNNABLE = 16
    DANGLE = 32
    REQUIRES_ANY = 64
    IMPLIED_BY_STONITH = 128
    DC = 256


class OF:
    """Ordering flags (what one action's state implies for the other)."""

    # live migration: first is needed unless then can migrate; then is a real start
    # unless first (migrate_from) can run
    IMPLIES_FIRST_MIGRATABLE = 65536
    PSEUDO_LEFT = 131072

    NONE = 0
    OPTIONAL = 1
    IMPLIES_THEN = 2
    IMPLIES_FIRST = 4
    RUNNABLE_LEFT = 8
    RESTART = 16
    ASYMMETRICAL = 32
    SERIALIZE_ONLY = 64
    SAME_NODE = 128
    THEN_CANCELS_FIRST = 256
    ONE_OR_MORE = 512
    PRESERVE = 1024
    IMPLIES_FIRST_PRINTED = 2048
    IMPLIES_THEN_PRINTED = 4096
    PROBE = 8192
    IMPLIES_THEN_ON_NODE = 16384
    ANTI_COLOCATION = 32768
    PROMOTED_IMPLIES_FIRST = 262144  # a demote is required if 'then' is and rsc is promoted


@dataclass(eq=False, slots=True)
class Node:
    id: str
    uname: str
    kind: str = "member"
    attrs: dict[str, str] = field(default_factory=dict)
    online: bool = False
    unclean: bool = False
    unseen: bool = True
    standby: bool = False
    standby_onfail: bool = False
    pending: bool = False
    shutdown: bool = False
    maintenance: bool = False
    expected_up: bool = False
    is_dc: bool = False
    num_resources: int = 0
    running: list[Rsc] = field(default_factory=list)
    has_state: bool = False
    index: int = 0
    utilization: dict[str, int] = field(default_factory=dict)  # capacity left
    # Pacemaker Remote and guest nodes (kind "remote"): the connection resource
    remote_rsc: Rsc | None = None
    remote_requires_reset: bool = False
    remote_was_fenced: bool = False
    unpacked: bool = False
    # a bundle's guest node: only its replica runs there (no default score, base -INFINITY)
    bundle_node: bool = False

    @property
    def is_guest(self) -> bool:
        return self.remote_rsc is not None and self.remote_rsc.container is not None

    @property
    def is_remote(self) -> bool:
        """A Pacemaker Remote node (not a guest)."""
        return self.kind == "remote" and not self.is_guest

    def can_run_resources(self) -> bool:
        return (
            self.online
            and not self.shutdown
            and not self.unclean
            and not self.standby
            and not self.maintenance
        )

    def __repr__(self) -> str:
        return f"Node({self.uname})"


@dataclass(eq=False, slots=True)
class FailInfo:
    """A failed operation seen in the history, for status output."""

    rsc: str
    node: str
    op_key: str
    task: str
    interval_ms: int
    rc: int
    status: int
    call_id: int
    last_rc_change: int | None
    exec_time: int | None
    exit_reason: str | None
    queue_time: int | None


@dataclass(eq=False, slots=True)
class Rsc:
    id: str
    variant: Variant
    parent: Rsc | None = None
    children: list[Rsc] = field(default_factory=list)
    config: Primitive | None = None
    meta: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    ops: tuple[Op, ...] = ()
    # state
    role: Role = Role.STOPPED
    next_role: Role = Role.UNKNOWN
    next_role_reason: str | None = None
    running_on: list[Node] = field(default_factory=list)
    known_on: set[str] = field(default_factory=set)
    allowed: dict[str, int] | None = None  # node id -> score
    allocated_to: Node | None = None
    provisional: bool = True
    allocating: bool = False
    merging: bool = False
    managed: bool = True
    failed: bool = False
    stop_needed: bool = False  # pe_rsc_stop
    block: bool = False
    orphan: bool = False
    failure_ignored: bool = False
    start_pending: bool = False
    needs_fencing: bool = True
    needs_quorum: bool = True
    unique: bool = True
    stickiness: int = 0
    priority: int = 0
    migration_threshold: int = 1_000_000
    failure_timeout: int = 0
    multiple_active: str = "stop_start"
    target_role: Role | None = None
    critical: bool = True
    restart_type_restart: bool = False
    exclusive_discover: bool = False
    # live migration (allow-migrate): a migrate_to done whose migrate_from is not
    allow_migrate: bool = False
    partial_source: Node | None = None
    partial_target: Node | None = None
    dangling_migrations: list[Node] = field(default_factory=list)
    utilization: dict[str, int] = field(default_factory=dict)
    ticket_frozen: bool = False  # loss-policy=freeze: unmanaged, but not pinned in place
    ticket_blocks_promotion: bool = False  # a Promoted-role rsc_ticket is not granted
    # constraints
    this_with: list[Coloc] = field(default_factory=list)  # rsc_cons (this is dependent)
    with_this: list[Coloc] = field(default_factory=list)  # rsc_cons_lhs (this is primary)
    discover_mode: dict[str, str] = field(default_factory=dict)  # node id -> never/exclusive
    actions: list[Action] = field(default_factory=list)
    action_index: dict[tuple[str, str | None], Action] = field(default_factory=dict)
    failures: list[FailInfo] = field(default_factory=list)
    history: dict[str, list[OpRecord]] = field(default_factory=dict)  # node id -> ops
    reload: bool = False
    banned_everywhere: bool = False  # multiple-active=stop_only found it active twice
    lrm_agent: dict[str, tuple[str | None, str | None, str | None]] = field(
        default_factory=dict
    )  # node id -> (class, provider, type) as the history says
    pending_task: str | None = None
    pending_node: Node | None = None
    index: int = 0
    # group helpers
    ordered: bool = True
    colocated: bool = True
    # clone helpers
    base_id: str | None = None  # an anonymous clone instance's primitive id
    clone_max: int = 0
    clone_node_max: int = 1
    interleave: bool = False
    count: dict[str, int] = field(default_factory=dict)  # node id -> instances assigned
    # promotable clone helpers
    promotable: bool = False
    promoted_max: int = 1
    promoted_node_max: int = 1
    clone_name: str | None = None  # the id an anonymous instance has in the history
    sort_index: int = 0  # an instance's promotion score once roles are chosen
    promoted_locations: list[dict[str, int]] = field(default_factory=list)  # role=Promoted
    # remote connections and containers
    is_remote_node: bool = False  # an ocf:pacemaker:remote connection (remote or guest)
    container: Rsc | None = None  # the guest's container, or a filler's container
    fillers: list[Rsc] = field(default_factory=list)
    remote_reconnect_ms: int = 0
    internal: bool = False  # created by the scheduler (a guest's connection): not listed
    allow_remote_remotes: bool = False  # a bundle's connection may run on remote nodes
    bundle: BundleData | None = None  # a bundle's replicas and inner clone

    def __repr__(self) -> str:
        return f"Rsc({self.id})"

    @property
    def is_group(self) -> bool:
        return self.variant == Variant.GROUP

    def current_node(self) -> Node | None:
        """Where it runs now: a partial migration's source; else, without fencing needed,
        the first clean node; else the first node."""
        active = None
        for node in self.running_on:
            if self.partial_source is not None:
                if node is self.partial_source:
                    return node
            elif not self.needs_fencing:
                happy = node.online and not node.unclean
                if happy and (active is None or not active.online or active.unclean):
                    active = node
            if active is None:
                active = node
            if self.partial_source is None and self.needs_fencing:
                break
        return active

    def top(self) -> Rsc:
        """The outermost resource this one is part of, a bundle included."""
        rsc = self
        while rsc.parent is not None:
            rsc = rsc.parent
        return rsc

    def uber_parent(self) -> Rsc:
        """The outermost resource below any bundle, as Pacemaker's uber_parent: a bundle's
        inner instance answers its clone, whose promotable flag gives it roles."""
        rsc = self
        while rsc.parent is not None and rsc.parent.variant != Variant.BUNDLE:
            rsc = rsc.parent
        return rsc

    def primitives(self) -> list[Rsc]:
        if self.variant == Variant.PRIMITIVE:
            return [self]
        result: list[Rsc] = []
        for child in self.children:
            result.extend(child.primitives())
        return result


@dataclass(eq=False, slots=True)
class Replica:
    """One replica of a bundle: its container, IP, connection and inner instance."""

    index: int
    container: Rsc
    ip: Rsc | None = None
    remote: Rsc | None = None
    child: Rsc | None = None  # the inner resource's instance, run on `node`
    node: Node | None = None  # the guest node the connection brings up
    ipaddr: str | None = None


@dataclass(eq=False, slots=True)
class BundleData:
    image: str
    replicas: list[Replica]
    child: Rsc | None  # the implicit clone of the inner primitive
    nreplicas: int = 1
    per_host: int = 1
    promoted_max: int = 0

    def containers(self) -> list[Rsc]:
        return [r.container for r in self.replicas]


@dataclass(eq=False, slots=True)
class Coloc:
    id: str
    dependent: Rsc
    primary: Rsc
    score: int
    dependent_role: Role = Role.UNKNOWN
    primary_role: Role = Role.UNKNOWN
    node_attribute: str = "#uname"
    influence: bool = True


@dataclass(eq=False, slots=True)
class Wrapper:
    action: Action
    type: Flags


@dataclass(eq=False, slots=True)
class Action:
    id: int
    uuid: str
    task: str
    rsc: Rsc | None
    node: Node | None
    flags: Flags
    reason: str | None = None
    before: list[Wrapper] = field(default_factory=list)
    after: list[Wrapper] = field(default_factory=list)
    interval_ms: int = 0
    needs: str = "quorum"  # nothing, quorum, fencing
    on_fail: OnFail = OnFail.RECOVER
    fail_role: Role = Role.STARTED
    runnable_before: int = 0
    required_runnable_before: int = 0
    meta: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        where = f" on {self.node.uname}" if self.node else ""
        return f"Action({self.uuid}{where} {self.flags!r})"

    @property
    def optional(self) -> bool:
        return bool(self.flags & AF.OPTIONAL)

    @property
    def runnable(self) -> bool:
        return bool(self.flags & AF.RUNNABLE)

    @property
    def pseudo(self) -> bool:
        return bool(self.flags & AF.PSEUDO)


@dataclass(eq=False, slots=True)
class OrderSpec:
    """An ordering between resources' actions, resolved to actions when they exist."""

    id: int
    first_rsc: Rsc | None
    first_task: str | None
    first_action: Action | None
    then_rsc: Rsc | None
    then_task: str | None
    then_action: Action | None
    flags: Flags


def newest_action(rsc: Rsc, task: str, node: Node | None = None) -> Action | None:
    """The newest non-recurring `task` action of rsc (on node, if given): Pacemaker prepends
    to its lists, so its find-first lookups find the newest."""
    for a in reversed(rsc.actions):
        if a.task == task and a.interval_ms == 0 and (node is None or a.node is node):
            return a
    return None
