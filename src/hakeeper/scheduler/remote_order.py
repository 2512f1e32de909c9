"""Orderings that keep actions on remote and guest nodes inside their connection's lifetime.

An action on a remote node can run only while the connection runs: starts wait for the
connection's start, stops happen before its stop, and a node whose connection is lost
for good is fenced instead. Guest nodes also follow their container.
"""

from __future__ import annotations

import enum

from hakeeper.model.config import Role
from hakeeper.model.scores import INFINITY
from hakeeper.scheduler.actions import new_order
from hakeeper.scheduler.cluster import Cluster, fence_node
from hakeeper.scheduler.working import AF, OF, Action, Node, Rsc, Variant


class ConnState(enum.Enum):
    ALIVE = "alive"  # up and staying up
    RESTING = "resting"  # on a lost node, or migrating: recoverable elsewhere
    STOPPED = "stopped"  # cleanly going away
    FAILED = "failed"  # lost for good: what runs there is fenced away
    UNKNOWN = "unknown"  # not up now, may come up in this transition


def container_constraints(cluster: Cluster, rsc: Rsc) -> None:
    """A primitive's constraints from being a connection, a filler or a fence device."""
    from hakeeper.scheduler import remote
    from hakeeper.scheduler.placement import new_colocation

    if not rsc.managed:
        return
    container = rsc.container
    if container is not None:
        conn: Rsc | None = None
        if rsc.is_remote_node:
            if not rsc.allow_remote_remotes:
                # no nesting: a guest's container never runs on a remote node
                remote.avoid_remote_nodes(container, cluster.nodes)
        elif container.is_remote_node:
            conn = container
        else:
            conn = _guest_connection_of(cluster, container)
        if conn is not None:
            # container=NODE: runs on that remote node, not beside its container
            for node in cluster.nodes:
                if (
                    node.remote_rsc is not conn
                    and rsc.allowed is not None
                    and node.id in rsc.allowed
                ):
                    rsc.allowed[node.id] = -INFINITY
        else:
            new_order(
                cluster,
                container,
                "start",
                None,
                rsc,
                "start",
                None,
                OF.IMPLIES_THEN | OF.RUNNABLE_LEFT,
            )
            new_order(cluster, rsc, "stop", None, container, "stop", None, OF.IMPLIES_FIRST)
            score = 10000 if rsc.allow_remote_remotes else INFINITY
            new_colocation(cluster, "resource-with-container", rsc, container, score, None, None)
    is_fence_device = rsc.config is not None and rsc.config.agent.standard == "stonith"
    if rsc.is_remote_node or is_fence_device:
        remote.avoid_remote_nodes(rsc, cluster.nodes)


def _guest_connection_of(cluster: Cluster, container: Rsc) -> Rsc | None:
    for node in cluster.nodes:
        if node.remote_rsc is not None and node.remote_rsc.container is container:
            return node.remote_rsc
    return None


def fence_lost_remote_nodes(cluster: Cluster) -> None:
    """A remote node that is down and whose connection cannot come back is fenced.

    Pacemaker decides this where it would probe the node (before any resource action).
    """
    for node in cluster.nodes:
        if node.online or not node.is_remote or node.remote_rsc is None:
            continue
        if connection_state(node) == ConnState.FAILED:
            fence_node(cluster, node, "the connection is unrecoverable")


def _current(rsc: Rsc) -> Node | None:
    return rsc.running_on[0] if rsc.running_on else None


def connection_state(node: Node) -> ConnState:
    conn = node.remote_rsc
    assert conn is not None
    host = _current(conn)
    if conn.next_role == Role.STOPPED or conn.allocated_to is None:
        if host is not None and host.unclean:
            return ConnState.FAILED
        if not conn.failed:
            return ConnState.STOPPED
        if (
            conn.next_role == Role.STOPPED
            and conn.remote_reconnect_ms
            and node.remote_was_fenced
            and not _shutdown_requested(node)
        ):
            return ConnState.UNKNOWN
        return ConnState.FAILED
    if host is None:
        return ConnState.UNKNOWN
    if host.unclean or not host.online:
        return ConnState.RESTING
    return ConnState.ALIVE


def _shutdown_requested(node: Node) -> bool:
    value = node.attrs.get("shutdown")
    return bool(value) and value != "0"


def _start_then(cluster: Cluster, conn: Rsc, action: Action, extra: int) -> None:
    new_order(
        cluster,
        conn,
        "start",
        None,
        action.rsc,
        None,
        action,
        OF.PRESERVE | OF.RUNNABLE_LEFT | extra,
    )


def _then_stop(cluster: Cluster, action: Action, conn: Rsc, extra: int) -> None:
    new_order(cluster, action.rsc, None, action, conn, "stop", None, OF.PRESERVE | extra)


def order_connection_actions(cluster: Cluster) -> None:
    """Order every real action on a remote or guest node against its connection."""
    for action in list(cluster.actions):
        rsc = action.rsc
        if rsc is None or action.node is None or action.node.kind != "remote":
            continue
        if action.pseudo:
            continue
        node = action.node
        conn = node.remote_rsc
        if conn is None:
            continue
        if action.task == "start":
            # moving onto a remote node: leave the old copy running until connected
            for other in rsc.actions:
                if other.task == "stop" and other.node is not node and other.interval_ms == 0:
                    new_order(cluster, conn, "start", None, rsc, None, other, OF.OPTIONAL)
        if conn.container is not None:
            _container_ordering(cluster, action, node, conn, conn.container)
        else:
            _remote_ordering(cluster, action, node, conn)


def _task(action: Action) -> str:
    if action.task in ("migrate_to", "migrate_from"):
        return "stop"
    return action.task


def _remote_ordering(cluster: Cluster, action: Action, node: Node, conn: Rsc) -> None:
    task = _task(action)
    state = connection_state(node)
    if task in ("start", "promote"):
        _start_then(
            cluster, conn, action, OF.IMPLIES_THEN if state == ConnState.FAILED else OF.NONE
        )
    elif task == "stop":
        if state == ConnState.ALIVE:
            _then_stop(cluster, action, conn, OF.IMPLIES_FIRST)
        elif state == ConnState.FAILED:
            fence_node(cluster, node, "resources are active but connection is unrecoverable")
        elif conn.next_role == Role.STOPPED:
            _then_stop(cluster, action, conn, OF.IMPLIES_FIRST)
        else:
            _start_then(cluster, conn, action, OF.NONE)
    elif task == "demote":
        if state in (ConnState.RESTING, ConnState.UNKNOWN):
            _start_then(cluster, conn, action, OF.NONE)
    elif action.interval_ms:
        _start_then(cluster, conn, action, OF.IMPLIES_THEN)
    else:
        if task == "monitor" and state == ConnState.FAILED:
            fence_node(
                cluster, node, "resources are in unknown state and connection is unrecoverable"
            )
        if _current(conn) is not None and state == ConnState.STOPPED:
            _then_stop(cluster, action, conn, OF.RUNNABLE_LEFT)
        else:
            _start_then(cluster, conn, action, OF.NONE)


def _container_ordering(
    cluster: Cluster, action: Action, node: Node, conn: Rsc, container: Rsc
) -> None:
    if container.failed:
        fence_node(cluster, node, "container failed")
    task = _task(action)
    if task in ("start", "promote"):
        _start_then(cluster, container, action, OF.IMPLIES_THEN)
        _start_then(cluster, conn, action, OF.NONE)
    elif task in ("stop", "demote"):
        if not container.failed:
            _then_stop(cluster, action, conn, OF.NONE)
    elif action.interval_ms:
        _start_then(cluster, conn, action, OF.IMPLIES_THEN)
    else:
        _start_then(cluster, conn, action, OF.NONE)


# --- fencing a guest: recovering its container ---------------------------------------------


def can_fence_guest(cluster: Cluster, node: Node) -> bool:
    """A guest is fenced by stopping its container: possible if the host is up or fenceable."""
    from hakeeper.scheduler.fencing import can_fence

    container = node.remote_rsc.container if node.remote_rsc is not None else None
    if container is None:
        return True
    for host in container.running_on:
        if not host.online and not can_fence(cluster, host):
            return False
    return True


def fence_guest(cluster: Cluster, node: Node) -> Action:
    """The pseudo fencing of a guest node, ordered after its container stops."""
    from hakeeper.scheduler.fencing import fence_op, order_vs_fence

    assert node.remote_rsc is not None
    container = node.remote_rsc.container
    stop = start = None
    if container is not None:
        stop = _find_first(container, "stop")
        start = _find_first(container, "start")
    stonith = fence_op(
        cluster, node, False, "guest is unclean", op="reboot" if start is not None else "off"
    )
    stonith.flags |= AF.PSEUDO | AF.RUNNABLE
    from hakeeper.scheduler.actions import order_actions

    if stop is not None and stop.pseudo and stop.node is not None:
        host_fence = fence_op(cluster, stop.node, True, None)
        order_actions(host_fence, stonith, OF.RUNNABLE_LEFT | OF.IMPLIES_THEN)
    elif stop is not None:
        order_actions(stop, stonith, OF.RUNNABLE_LEFT | OF.IMPLIES_THEN)
    else:
        conn_stop = _find_first(node.remote_rsc, "stop")
        if conn_stop is not None:
            order_actions(conn_stop, stonith, OF.OPTIONAL)
    order_vs_fence(cluster, stonith)
    return stonith


def _find_first(rsc: Rsc, task: str) -> Action | None:
    for action in reversed(rsc.actions):
        if action.task == task and action.interval_ms == 0:
            return action
    return None


def is_bundled(rsc: Rsc) -> bool:
    return rsc.top().variant == Variant.BUNDLE
