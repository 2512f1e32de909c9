"""What the lab's cluster looks like, read from its store: members, leader, resources,
failures, and whether it has converged: the scheduler has nothing left to do, nothing it
wants is blocked, and every instance it places is active (a clone's instances beyond the
nodes that may run it, guest nodes counted in clone-max as Pacemaker counts them, stay
stopped by design and are not waited for)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hakeeper.coord import Coordinator, StatusKind
from hakeeper.model.config import Role
from hakeeper.node.records import cluster_cib
from hakeeper.scheduler.schedule import schedule
from hakeeper.scheduler.view import ClusterView, ResourceView, render_view


@dataclass(frozen=True, slots=True)
class Instance:
    resource: str
    role: str  # Stopped, Started, Promoted, Unpromoted
    nodes: tuple[str, ...]
    failed: bool


@dataclass(frozen=True, slots=True)
class Failure:
    node: str
    resource: str
    operation: str
    rc: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class Observation:
    members: tuple[str, ...]
    leader: str | None
    has_config: bool
    instances: tuple[Instance, ...]
    pending_actions: tuple[str, ...]  # what the scheduler would still do
    blocked: tuple[str, ...]  # starts and promotions it wants but cannot run
    wanted: int  # instances the scheduler places (active in its revised state)
    failures: tuple[Failure, ...]
    text: tuple[str, ...]  # crm_mon-like lines of the current state
    # the promotions asked for that have not happened: "galera-bundle: 1 of 3 promoted"
    promotions_waiting: tuple[str, ...] = ()

    @property
    def active(self) -> int:
        return sum(1 for i in self.instances if i.nodes)

    @property
    def converged(self) -> bool:
        return (
            self.has_config
            and self.leader is not None
            and bool(self.instances)
            and not self.pending_actions
            and not self.blocked
            and self.active >= self.wanted
            and not self.promotions_waiting
        )


def _instances(views: tuple[ResourceView, ...]) -> list[Instance]:
    found: list[Instance] = []
    for view in views:
        if view.children:
            found.extend(_instances(view.children))
        elif view.kind == "primitive":
            found.append(Instance(view.id, Role(view.role).name.title(), view.nodes, view.failed))
    return found


def promotions_waiting(wanted: Mapping[str, int], views: tuple[ResourceView, ...]) -> list[str]:
    """The clones and bundles of `wanted` with fewer instances promoted than it says: the
    scheduler may have nothing to do while an agent has yet to give a replica its
    promotion score (galera's monitor does, every 30 s on an unpromoted replica)."""
    have = {
        view.id: sum(1 for i in _instances(view.children) if i.role == "Promoted" and i.nodes)
        for view in views
        if view.kind in ("clone", "bundle")
    }
    return [
        f"{rsc}: {have.get(rsc, 0)} of {want} promoted"
        for rsc, want in wanted.items()
        if have.get(rsc, 0) < want
    ]


def observe(
    coord: Coordinator, expected_nodes: int, promotions: Mapping[str, int] | None = None
) -> Observation:
    """`promotions`: how many instances of these clones or bundles must be promoted before
    the cluster counts as converged."""
    snap = coord.snapshot()
    leader = snap.leader.node if snap.leader else None
    members = tuple(sorted(snap.members))
    if snap.config is None:
        return Observation(members, leader, False, (), (), (), 0, (), ())
    docs = snap.status.documents
    cib = cluster_cib(snap.config.xml, docs, snap.members, leader)
    plan = schedule(cib)
    pending = tuple(
        f"{a.task} {a.resource} on {a.node}"
        for a in plan.actions
        if not a.optional and a.runnable and not a.pseudo and a.resource is not None
    )
    blocked = tuple(
        f"{a.task} {a.resource} on {a.node}" + (f" ({a.reason})" if a.reason else "")
        for a in plan.actions
        if a.task in ("start", "promote")
        and not a.optional
        and not a.runnable
        and not a.pseudo
        and a.resource is not None
    )
    failures = []
    for key, doc in sorted(docs.items(), key=lambda kv: (kv[0].node, kv[0].name)):
        if key.kind is not StatusKind.OP_HISTORY:
            continue
        for record_id, fields in doc.get("ops", {}).items():
            if record_id.endswith("_last_failure_0"):
                failures.append(
                    Failure(
                        key.node,
                        key.name,
                        str(fields.get("operation")),
                        int(fields.get("rc-code", 1)),
                        fields.get("exit-reason"),
                    )
                )
    view: ClusterView = plan.current
    if len(members) < expected_nodes:
        pending = (*pending, f"{expected_nodes - len(members)} node(s) not joined")
    return Observation(
        members,
        leader,
        True,
        tuple(_instances(view.resources)),
        pending,
        blocked,
        sum(1 for i in _instances(plan.revised.resources) if i.nodes),
        tuple(failures),
        tuple(render_view(view)),
        tuple(promotions_waiting(promotions or {}, view.resources)),
    )
