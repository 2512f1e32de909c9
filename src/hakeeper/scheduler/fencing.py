"""Fencing: which unclean nodes are fenced, and what their fencing implies for resources."""

from __future__ import annotations

from hakeeper.scheduler.actions import custom_action, order_actions, set_reason
from hakeeper.scheduler.cluster import Cluster
from hakeeper.scheduler.working import AF, OF, Action, Node, Rsc


def can_fence(cluster: Cluster, node: Node | None) -> bool:
    opts = cluster.options
    if not opts.stonith_enabled or not opts.have_stonith_resource:
        return False
    if opts.have_quorum or opts.no_quorum_policy == "ignore":
        return True
    return node is not None and node.online


def fence_op(
    cluster: Cluster, node: Node, optional: bool, reason: str | None, op: str | None = None
) -> Action:
    op = op or cluster.options.stonith_action
    key = f"stonith-{node.uname}-{op}"
    action = custom_action(cluster, None, "stonith", node, True, key=key)
    action.meta["stonith_action"] = op
    if not optional and can_fence(cluster, node):
        action.flags &= ~AF.OPTIONAL
        set_reason(action, reason, False)
    elif reason and action.reason is None:
        action.reason = reason
    return action


def schedule_fencing(cluster: Cluster) -> list[Action]:
    have_managed = any(r.managed for r in cluster.primitives())
    fenced: list[Action] = []
    for node in cluster.nodes:
        if node.is_guest:
            # a guest is fenced by recovering its container
            from hakeeper.scheduler.remote_order import can_fence_guest, fence_guest

            if node.remote_requires_reset and have_managed and can_fence_guest(cluster, node):
                fenced.append(fence_guest(cluster, node))
            continue
        if node.unclean and have_managed and can_fence(cluster, node):
            reason = cluster.fence_reasons.get(node.id, "node is unclean")
            stonith = fence_op(cluster, node, False, reason)
            fenced.append(stonith)
            order_vs_fence(cluster, stonith)
    return fenced


def order_vs_fence(cluster: Cluster, stonith: Action) -> None:
    """What fencing a node implies: its stops done, starts after it."""
    for rsc in cluster.primitives():
        if not rsc.managed:
            continue  # fencing implies nothing for what the cluster does not manage
        _stop_constraints(cluster, rsc, stonith)
        _start_constraints(rsc, stonith)


def _stop_constraints(cluster: Cluster, rsc: Rsc, stonith: Action) -> None:
    target = stonith.node
    assert target is not None
    # stops on a guest are ordered after its fencing even without requires=fencing: the
    # guest's fencing is only its container stopping
    implicit = rsc.needs_fencing or target.is_guest
    # Pacemaker's uber_parent: below any bundle (a bundle's inner instance answers its
    # clone). The bundle's own stop would loop: it comes before its containers' stops, and
    # a guest's fencing comes after its container's
    top = rsc.uber_parent()
    bundled = top.parent is not None
    parent_stop = next((a for a in reversed(top.actions) if a.task == "stop"), None)
    for action in rsc.actions:
        if action.node is not target or action.task != "stop":
            continue
        action.flags |= AF.PSEUDO | AF.RUNNABLE
        if implicit:
            action.flags |= AF.IMPLIED_BY_STONITH
            if not bundled:
                order_actions(stonith, action, OF.PRESERVE)
            if parent_stop is not None:
                order_actions(stonith, parent_stop, OF.PRESERVE)
    if target.online and not target.unclean and not rsc.failed:
        return  # a demote there still runs
    for action in rsc.actions:
        if action.node is not target or action.task != "demote":
            continue
        # implied by the fencing; a bundle's instance is recovered after its clone's stop
        action.flags |= AF.PSEUDO | AF.RUNNABLE
        if implicit and not bundled:
            order_actions(stonith, action, OF.PRESERVE | OF.OPTIONAL)


def _start_constraints(rsc: Rsc, stonith: Action) -> None:
    target = stonith.node
    assert target is not None
    for action in rsc.actions:
        if action.needs == "fencing":
            order_actions(stonith, action, OF.OPTIONAL)
        elif (
            action.needs == "quorum"
            and action.task == "start"
            and target.id in (rsc.allowed or {})
            and target.id not in rsc.known_on
        ):
            order_actions(stonith, action, OF.OPTIONAL | OF.RUNNABLE_LEFT)
