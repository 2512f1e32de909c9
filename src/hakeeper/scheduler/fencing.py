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


def fence_op(cluster: Cluster, node: Node, optional: bool, reason: str | None) -> Action:
    op = cluster.options.stonith_action
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
        if node.unclean and have_managed and can_fence(cluster, node):
            reason = cluster.fence_reasons.get(node.id, "node is unclean")
            stonith = fence_op(cluster, node, False, reason)
            fenced.append(stonith)
            for rsc in cluster.primitives():
                if not rsc.managed:
                    continue  # fencing implies nothing for what the cluster does not manage
                _stop_constraints(cluster, rsc, stonith)
                _start_constraints(rsc, stonith)
    return fenced


def _stop_constraints(cluster: Cluster, rsc: Rsc, stonith: Action) -> None:
    target = stonith.node
    for action in rsc.actions:
        if action.node is not target or action.task not in ("stop", "demote"):
            continue
        action.flags |= AF.PSEUDO | AF.RUNNABLE
        if rsc.needs_fencing:
            action.flags |= AF.IMPLIED_BY_STONITH
            order_actions(stonith, action, OF.PRESERVE)


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
