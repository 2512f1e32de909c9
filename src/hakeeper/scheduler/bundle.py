"""Bundles in the scheduler: placing replicas, their actions, orderings and colocations.

A bundle places its containers as a clone places instances; each replica's IP follows
its container, the connection follows (and starts after) the container, and the inner
instance N can run only on guest node N. The bundle's own start/running/stop/stopped
pseudo-actions summarise its containers', and orderings naming the bundle reach them.
"""

from __future__ import annotations

from functools import cmp_to_key

from hakeeper.model.config import Role
from hakeeper.model.scores import INFINITY
from hakeeper.scheduler.cluster import Cluster, fail_count
from hakeeper.scheduler.working import (
    AF,
    OF,
    Action,
    BundleData,
    Coloc,
    Flags,
    Node,
    Rsc,
    newest_action,
)

INSTANCE_SCORE = 500  # an instance's score on its own guest node


def data_of(rsc: Rsc) -> BundleData:
    assert rsc.bundle is not None
    return rsc.bundle


def init_allowed(cluster: Cluster, rsc: Rsc) -> None:
    """Each instance may run only on its guest node; the clone on no guest node."""
    data = data_of(rsc)
    clone = data.child
    for replica in data.replicas:
        if replica.child is None or replica.node is None:
            continue
        replica.child.allowed = {replica.node.id: INSTANCE_SCORE}
        if clone is not None and clone.allowed is not None:
            clone.allowed[replica.node.id] = -INFINITY
    for replica in data.replicas:
        if replica.remote is not None and replica.remote.allowed is not None:
            for node in cluster.nodes:
                if node.kind == "remote" and node.id in replica.remote.allowed:
                    replica.remote.allowed[node.id] = -INFINITY


# --- placement --------------------------------------------------------------------------------


def assign_bundle(cluster: Cluster, rsc: Rsc) -> Node | None:
    from hakeeper.scheduler import placement
    from hakeeper.scheduler.clone import _cmp_instances

    if not rsc.provisional or rsc.allocating:
        return None
    data = data_of(rsc)
    rsc.allocating = True
    containers = sorted(data.containers(), key=cmp_to_key(_cmp_instances))
    _distribute(cluster, rsc, containers, data.nreplicas, data.per_host)
    for replica in data.replicas:
        if replica.ip is not None:
            placement.assign(cluster, replica.ip, None)
        host = replica.container.allocated_to
        if (
            replica.remote is not None
            and host is not None
            and host.kind == "remote"
            and host.remote_rsc is not None
        ):
            # a connection nested in a remote node's container rides that node's connection
            placement.new_colocation(
                cluster,
                "child-remote-with-docker-remote",
                replica.remote,
                host.remote_rsc,
                INFINITY,
                None,
                None,
            )
        if replica.remote is not None:
            placement.assign(cluster, replica.remote, None)
        child = replica.child
        if child is not None and replica.node is not None:
            allowed = child.allowed if child.allowed is not None else {}
            for nid in allowed:
                if nid != replica.node.id:
                    allowed[nid] = -INFINITY
                elif not _threshold_reached(cluster, child, replica.node):
                    allowed[nid] = INFINITY
            child.allowed = allowed
            assert child.parent is not None
            child.parent.allocating = True
            placement.assign(cluster, child, replica.node)
            child.parent.allocating = False
    clone = data.child
    if clone is not None:
        guests = {r.node.id for r in data.replicas if r.node is not None}
        allowed = clone.allowed if clone.allowed is not None else {}
        for nid in allowed:
            allowed[nid] = 0 if nid in guests else -INFINITY
        clone.allowed = allowed
        placement.assign(cluster, clone, None)
    rsc.allocating = False
    rsc.provisional = False
    return None


def _threshold_reached(cluster: Cluster, rsc: Rsc, node: Node) -> bool:
    if rsc.migration_threshold == 0:
        return False
    count = fail_count(cluster, node, rsc)
    return count > 0 and rsc.migration_threshold - count <= 0


def _distribute(
    cluster: Cluster, parent: Rsc, instances: list[Rsc], maximum: int, limit: int
) -> None:
    """Containers to nodes as clone instances: current nodes first, then the best."""
    from hakeeper.scheduler.clone import _allocate_instance
    from hakeeper.scheduler.placement import resource_location, sort_nodes

    parent.count = {}
    nodes = sort_nodes(cluster, parent.allowed or {}, None)
    available = sum(1 for n in nodes if n.can_run_resources())
    all_coloc = maximum < available
    optimal = max(1, maximum // available) if available else 1
    allocated = 0
    for child in instances:
        if allocated >= maximum:
            break
        if not child.running_on or not child.provisional or child.failed:
            continue
        current = child.running_on[0]
        if not current.can_run_resources():
            continue
        if current.id in (parent.allowed or {}) and parent.count.get(current.id, 0) >= optimal:
            continue
        if _allocate_instance(cluster, parent, child, current, all_coloc, limit) is not None:
            allocated += 1
    for child in instances:
        if not child.provisional:
            continue
        if allocated >= maximum:
            resource_location(cluster, child, None, -INFINITY, "collective_limit_reached")
        elif _allocate_instance(cluster, parent, child, None, all_coloc, limit) is not None:
            allocated += 1
    from hakeeper.scheduler.placement import assign

    for child in instances:
        if child.provisional:
            assign(cluster, child, None)


def colocation_with_bundle(cluster: Cluster, dependent: Rsc, primary: Rsc, coloc: Coloc) -> None:
    """A primitive placed relative to a bundle: relative to its containers."""
    from hakeeper.scheduler.placement import _apply_colocation_rh

    if primary.provisional:
        return
    data = data_of(primary)
    if coloc.score < INFINITY:
        for replica in data.replicas:
            _apply_colocation_rh(cluster, dependent, replica.container, coloc)
        return
    nodes: set[str] = set()
    for replica in data.replicas:
        chosen = replica.container.allocated_to
        if chosen is None or replica.container.block:
            continue
        if coloc.primary_role >= Role.PROMOTED and (
            replica.child is None or replica.child.next_role < Role.PROMOTED
        ):
            continue
        nodes.add(chosen.id)
    allowed = dependent.allowed or {}
    for nid in allowed:
        if nid not in nodes:
            allowed[nid] = -INFINITY


# --- actions ----------------------------------------------------------------------------------


def create_bundle_actions(cluster: Cluster, rsc: Rsc) -> None:
    from hakeeper.scheduler.actions import create_primitive_actions, custom_action

    data = data_of(rsc)
    for replica in data.replicas:
        for member in (replica.ip, replica.container, replica.remote):
            if member is not None:
                create_primitive_actions(cluster, member)
    starting = stopping = active = False
    for container in data.containers():
        if container.running_on:
            active = True
        for action in container.actions:
            if action.optional or action.interval_ms:
                continue
            if action.task == "start":
                starting = True
            elif action.task == "stop":
                stopping = True
    start = custom_action(cluster, rsc, "start", None, not starting, pseudo=True)
    running = custom_action(cluster, rsc, "running", None, not starting, pseudo=True)
    stop = custom_action(cluster, rsc, "stop", None, not stopping, pseudo=True)
    stopped = custom_action(cluster, rsc, "stopped", None, not stopping, pseudo=True)
    for action in (start, stop, stopped):
        action.flags |= AF.RUNNABLE
    if active or starting:
        running.flags |= AF.RUNNABLE
    else:
        running.flags &= ~AF.RUNNABLE
    clone = data.child
    if clone is not None:
        from hakeeper.scheduler.schedule import create_actions_for

        create_actions_for(cluster, clone)
        if data.promoted_max:
            for task in ("promote", "promoted", "demote", "demoted"):
                action = custom_action(cluster, rsc, task, None, True, pseudo=True)
                action.flags |= AF.RUNNABLE
    rsc.next_role = max((c.next_role for c in data.containers()), default=Role.STOPPED)


def bundle_internal(cluster: Cluster, rsc: Rsc) -> None:
    from hakeeper.scheduler.actions import _primitive_internal, new_order, order_resources
    from hakeeper.scheduler.placement import new_colocation

    data = data_of(rsc)
    clone = data.child
    if clone is not None:
        new_order(cluster, rsc, "start", None, clone, "start", None, OF.IMPLIES_FIRST_PRINTED)
        new_order(cluster, rsc, "stop", None, clone, "stop", None, OF.IMPLIES_FIRST_PRINTED)
        new_order(cluster, clone, "running", None, rsc, "running", None, OF.IMPLIES_THEN_PRINTED)
        new_order(cluster, clone, "stopped", None, rsc, "stopped", None, OF.IMPLIES_THEN_PRINTED)
    for replica in data.replicas:
        container = replica.container
        _primitive_internal(cluster, container)
        new_order(
            cluster,
            rsc,
            "start",
            None,
            container,
            "start",
            None,
            OF.RUNNABLE_LEFT | OF.IMPLIES_FIRST_PRINTED,
        )
        new_order(cluster, container, "start", None, rsc, "running", None, OF.IMPLIES_THEN_PRINTED)
        new_order(cluster, rsc, "stop", None, container, "stop", None, OF.IMPLIES_FIRST_PRINTED)
        new_order(cluster, container, "stop", None, rsc, "stopped", None, OF.IMPLIES_THEN_PRINTED)
        if replica.ip is not None:
            _primitive_internal(cluster, replica.ip)
            new_order(
                cluster,
                replica.ip,
                "start",
                None,
                container,
                "start",
                None,
                OF.RUNNABLE_LEFT | OF.PRESERVE,
            )
            new_order(
                cluster,
                container,
                "stop",
                None,
                replica.ip,
                "stop",
                None,
                OF.IMPLIES_FIRST | OF.PRESERVE,
            )
            new_colocation(cluster, "ip-with-docker", replica.ip, container, INFINITY, None, None)
        if replica.remote is not None:
            _primitive_internal(cluster, replica.remote)
    if clone is not None:
        order_resources(cluster, clone)
        if data.promoted_max:
            new_order(
                cluster, clone, "promote", None, rsc, "promoted", None, OF.IMPLIES_THEN_PRINTED
            )
            new_order(cluster, clone, "demote", None, rsc, "demoted", None, OF.IMPLIES_THEN_PRINTED)
            new_order(
                cluster, rsc, "promote", None, clone, "promote", None, OF.IMPLIES_FIRST_PRINTED
            )
            new_order(cluster, rsc, "demote", None, clone, "demote", None, OF.IMPLIES_FIRST_PRINTED)


_CHILD_TASKS = ("notify", "notified", "promote", "promoted", "demote", "demoted")


def _members_for(rsc: Rsc, task: str) -> list[Rsc]:
    """Which resources a bundle action stands for: its instances or its containers."""
    data = data_of(rsc)
    if data.child is not None and task in _CHILD_TASKS:
        return list(data.child.children)
    return data.containers()


def bundle_action_flags(action: Action, node: Node | None) -> Flags:
    from hakeeper.scheduler.actions import _action_flags

    rsc = action.rsc
    assert rsc is not None
    task = {"running": "start", "stopped": "stop", "promoted": "promote", "demoted": "demote"}.get(
        action.task, action.task
    )
    flags = AF.OPTIONAL | AF.RUNNABLE | AF.PSEUDO
    any_runnable = False
    for member in _members_for(rsc, action.task):
        found = newest_action(member, task, node)
        if found is None:
            continue
        member_flags = _action_flags(found, node)
        if (flags & AF.OPTIONAL) and not (member_flags & AF.OPTIONAL):
            flags &= ~AF.OPTIONAL
            action.flags &= ~AF.OPTIONAL
        if member_flags & AF.RUNNABLE:
            any_runnable = True
    if not any_runnable:
        flags &= ~AF.RUNNABLE
        if node is None:
            action.flags &= ~AF.RUNNABLE
    return flags


def bundle_children_for(then: Action, node: Node | None) -> list[Action]:
    """The containers' actions an ordering into a bundle's action also updates."""
    from hakeeper.scheduler.actions import _action_flags

    rsc = then.rsc
    assert rsc is not None
    result = []
    for member in _members_for(rsc, then.task):
        found = newest_action(member, then.task, node)
        if found is not None and (_action_flags(found, node) & AF.RUNNABLE):
            result.append(found)
    return result


def watched_children(rsc: Rsc) -> list[Rsc]:
    return _members_for(rsc, "start")
