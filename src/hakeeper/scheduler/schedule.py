"""`schedule(cib) -> Plan`: Pacemaker's decisions for a CIB, as data. Pure: no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass

from hakeeper.model.cib import Cib
from hakeeper.model.config import Role
from hakeeper.scheduler import actions as act
from hakeeper.scheduler import placement
from hakeeper.scheduler.cluster import Cluster, unpack
from hakeeper.scheduler.fencing import schedule_fencing
from hakeeper.scheduler.notify import create_notifications
from hakeeper.scheduler.summary import Change, Fence, fence_changes, resource_changes
from hakeeper.scheduler.tickets import apply_tickets
from hakeeper.scheduler.view import ClusterView, revised_view, view_of
from hakeeper.scheduler.working import OF, Action, Rsc, Variant


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """One action of the transition; `after` holds the ids of actions it must wait for."""

    id: int
    task: str
    resource: str | None
    node: str | None
    interval_ms: int
    optional: bool
    runnable: bool
    pseudo: bool
    reason: str | None
    after: tuple[int, ...] = ()
    # what the agent is told beside its parameters (OCF_RESKEY_CRM_meta_*): a notify
    # action's type, operation and lists
    meta: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Score:
    phase: str  # pcmk__primitive_assign, pcmk__group_assign, promotion
    resource: str
    node: str
    score: int


@dataclass(frozen=True, slots=True)
class Plan:
    changes: tuple[Change, ...]
    fencing: tuple[Fence, ...]
    actions: tuple[PlannedAction, ...]
    scores: tuple[Score, ...]
    current: ClusterView
    revised: ClusterView


def schedule(cib: Cib, now: int | None = None, *, sanitized: bool = False) -> Plan:
    """Compute the transition Pacemaker would compute for this CIB.

    `now` (seconds since the epoch) defaults to the CIB's execution-date. `sanitized`
    says secret parameters may be masked in the CIB (as crm_simulate assumes): a change
    seen only in them is then no change.
    """
    if now is None:
        now = cib.execution_date
    cluster = unpack(cib, now)
    cluster.options.sanitized = sanitized
    current = view_of(cluster)
    scores = _place(cluster)
    if cluster.have_remote_nodes:
        from hakeeper.scheduler.remote_order import fence_lost_remote_nodes

        fence_lost_remote_nodes(cluster)
    _create_actions(cluster)
    if cluster.have_remote_nodes:
        from hakeeper.scheduler.remote_order import order_connection_actions

        # may mark more remote nodes for fencing, so before fencing is scheduled
        order_connection_actions(cluster)
    schedule_fencing(cluster)
    act.apply_orderings(cluster)
    for rsc in cluster.resources:
        if rsc.variant == Variant.CLONE:
            create_notifications(cluster, rsc)
        elif rsc.bundle is not None and rsc.bundle.child is not None:
            create_notifications(cluster, rsc.bundle.child)
    changes: list[Change] = []
    for rsc in cluster.resources:
        changes.extend(resource_changes(rsc))
    planned = tuple(
        PlannedAction(
            a.id,
            a.task,
            a.rsc.id if a.rsc else None,
            a.node.uname if a.node else None,
            a.interval_ms,
            a.optional,
            a.runnable,
            a.pseudo,
            a.reason,
            _waits_for(a),
            _agent_meta(a),
        )
        for a in cluster.actions
    )
    return Plan(
        tuple(changes),
        tuple(fence_changes(cluster)),
        planned,
        tuple(scores),
        current,
        revised_view(cluster),
    )


def _agent_meta(action: Action) -> tuple[tuple[str, str], ...]:
    if action.task != "notify" or action.pseudo:
        return ()
    return tuple(sorted((k, v) for k, v in action.meta.items() if k.startswith("notify_")))


def _waits_for(action: Action) -> tuple[int, ...]:
    """The required, runnable actions this one is ordered after (the transition graph)."""
    if action.optional or not action.runnable:
        return ()
    return tuple(
        sorted(
            {
                w.action.id
                for w in action.before
                if w.type != OF.NONE and not w.action.optional and w.action.runnable
            }
        )
    )


def _place(cluster: Cluster) -> list[Score]:
    placement.init_allowed(cluster)
    placement.apply_node_health(cluster)
    placement.apply_locations(cluster)
    apply_tickets(cluster)
    placement.apply_stickiness_and_failures(cluster)
    placement.apply_exclusive_discovery(cluster)
    placement.unpack_colocations(cluster)
    act.unpack_orderings(cluster)
    act.internal_constraints(cluster)
    act.handle_config_changes(cluster)
    scores: list[Score] = []
    ordered = placement.sort_resources(cluster)
    if cluster.have_remote_nodes:
        # connections first: what runs on remote nodes depends on them
        for rsc in ordered:
            if rsc.is_remote_node:
                placement.assign(cluster, rsc, None)
    for rsc in ordered:
        if not rsc.is_remote_node:
            placement.assign(cluster, rsc, None)
    for rsc_id, node_name, promotion in cluster.promotion_scores:
        scores.append(Score("promotion", rsc_id, node_name, promotion))
    for rsc in cluster.all_resources():
        phase = "pcmk__group_assign" if rsc.variant == Variant.GROUP else "pcmk__primitive_assign"
        for node in cluster.nodes:
            score = (rsc.allowed or {}).get(node.id)
            if score is not None:
                scores.append(Score(phase, rsc.id, node.uname, score))
    return scores


def _create_actions(cluster: Cluster) -> None:
    for rsc in cluster.resources:
        create_actions_for(cluster, rsc)


def create_actions_for(cluster: Cluster, rsc: Rsc) -> None:
    """One resource's actions (a bundle's inner clone's too)."""
    if rsc.variant == Variant.BUNDLE:
        from hakeeper.scheduler.bundle import create_bundle_actions

        create_bundle_actions(cluster, rsc)
    elif rsc.variant == Variant.CLONE:
        from hakeeper.scheduler.clone import create_clone_actions

        create_clone_actions(cluster, rsc)
    elif rsc.variant == Variant.GROUP:
        act.create_group_actions(cluster, rsc)
        rsc.next_role = rsc.children[0].next_role if rsc.children else Role.STOPPED
    else:
        act.create_primitive_actions(cluster, rsc)
