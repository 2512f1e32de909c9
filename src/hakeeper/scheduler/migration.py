"""Live migration (allow-migrate): reading migrations from the history, planning new ones.

A migration is migrate_to on the source, migrate_from on the target, then stop on the
source; the start on the target is then only a pseudo-action. The history can show a
migration half done (migrate_to ran, migrate_from did not: "partial", continued if the
target stays the same), done but never stopped on the source ("dangling": the source
gets a stop), or failed (the resource counts as active on both nodes).
"""

from __future__ import annotations

from hakeeper.model.config import Role
from hakeeper.model.status import LrmResource, OpRecord
from hakeeper.scheduler.cluster import (
    EXEC_DONE,
    EXEC_PENDING,
    PCMK_OCF_NOT_RUNNING,
    PCMK_OCF_OK,
    Cluster,
)
from hakeeper.scheduler.working import AF, OF, Node, Rsc

_STATE_CHANGING = ("start", "stop", "migrate_to", "migrate_from")


# --- the history --------------------------------------------------------------------------


def _lrm_resource(cluster: Cluster, rsc_id: str, node_name: str) -> LrmResource | None:
    for state in cluster.cib.status.nodes:
        if state.uname != node_name:
            continue
        for lrm in state.resources:
            if lrm.id == rsc_id:
                return lrm
    return None


def _find_op(
    cluster: Cluster,
    rsc_id: str,
    task: str,
    node_name: str,
    other: str | None,
    target_rc: int | None,
) -> OpRecord | None:
    """The one matching operation in a node's history (none if several match).

    `other` is the far end of a migration: the target of a migrate_to, the source of
    a migrate_from. With target_rc, only a completed operation with that result counts.
    """
    matches: list[OpRecord] = []
    for state in cluster.cib.status.nodes:
        if state.uname != node_name:
            continue
        for lrm in state.resources:
            if lrm.id != rsc_id:
                continue
            for op in lrm.ops:
                if op.operation != task:
                    continue
                if other is not None and task == "migrate_to" and op.migrate_target != other:
                    continue
                if other is not None and task == "migrate_from" and op.migrate_source != other:
                    continue
                matches.append(op)
    if len(matches) != 1:
        return None
    found = matches[0]
    if target_rc is not None and (found.rc_code != target_rc or found.op_status != EXEC_DONE):
        return None
    return found


def _magic_transition(op: OpRecord) -> tuple[str, int] | None:
    magic = op.transition_magic
    if not magic or ";" not in magic:
        return None
    key = magic.split(";", 1)[1]
    parts = key.split(":")
    if len(parts) < 4:
        return None
    try:
        return parts[3], int(parts[1])
    except ValueError:
        return None


def is_newer(a: OpRecord, b: OpRecord, same_node_default: bool) -> int:
    """>0 if a happened after b, <0 if before, 0 if it cannot tell (Pacemaker's order)."""
    if a.on_node is None or b.on_node is None:
        same_node = same_node_default
    else:
        same_node = a.on_node == b.on_node
    if same_node and a.id == b.id:
        return 0
    ca, cb = a.call_id, b.call_id
    if ca == -1 and cb == -1:
        return 0
    if same_node and 0 <= ca < cb:
        return -1
    if same_node and cb >= 0 and ca > cb:
        return 1
    if ca >= 0 and cb >= 0 and (not same_node or ca == cb):
        la = a.last_rc_change if a.last_rc_change is not None else -1
        lb = b.last_rc_change if b.last_rc_change is not None else -1
        if 0 <= la < lb:
            return -1
        if lb >= 0 and la > lb:
            return 1
        return 0
    ta, tb = _magic_transition(a), _magic_transition(b)
    if ta is None or tb is None:
        return 0
    (uuid_a, id_a), (uuid_b, id_b) = ta, tb
    if uuid_a != uuid_b or id_a == id_b:
        if cb == -1:
            return -1
        if ca == -1:
            return 1
    elif (0 <= id_a < id_b) or id_b == -1:
        return -1
    elif (id_b >= 0 and id_a > id_b) or id_a == -1:
        return 1
    return 0


def _non_monitor_after(
    cluster: Cluster, rsc_id: str, node_name: str, op: OpRecord, same_node: bool
) -> bool:
    lrm = _lrm_resource(cluster, rsc_id, node_name)
    if lrm is None:
        return False
    return any(
        other is not op
        and other.operation in _STATE_CHANGING
        and is_newer(other, op, same_node) > 0
        for other in lrm.ops
    )


def _monitor_not_running_after(
    cluster: Cluster, rsc_id: str, node_name: str, op: OpRecord, same_node: bool
) -> bool:
    monitor = _find_op(cluster, rsc_id, "monitor", node_name, None, PCMK_OCF_NOT_RUNNING)
    return monitor is not None and is_newer(monitor, op, same_node) > 0


def _newer_state_after_migrate(
    cluster: Cluster,
    rsc_id: str,
    node_name: str,
    migrate_to: OpRecord | None,
    migrate_from: OpRecord | None,
) -> bool:
    """Whether the node's history moved on after the migration (it no longer matters there)."""
    op = migrate_from if migrate_from is not None else migrate_to
    assert op is not None
    same_node = False
    if node_name == op.migrate_target:
        if migrate_from is not None:
            op, same_node = migrate_from, True
        elif migrate_to is not None:
            op = migrate_to
    elif node_name == op.migrate_source:
        if migrate_to is not None:
            op, same_node = migrate_to, True
        elif migrate_from is not None:
            op = migrate_from
    return _non_monitor_after(
        cluster, rsc_id, node_name, op, same_node
    ) or _monitor_not_running_after(cluster, rsc_id, node_name, op, same_node)


def _unknown_on(cluster: Cluster, rsc_id: str, node_name: str) -> bool:
    lrm = _lrm_resource(cluster, rsc_id, node_name)
    return lrm is None or not lrm.ops


def add_running(cluster: Cluster, rsc: Rsc, node: Node) -> None:
    """The resource is active on node too (the history says so)."""
    from hakeeper.scheduler.cluster import _multiply_active

    if node in rsc.running_on:
        return
    rsc.running_on.append(node)
    node.running.append(rsc)
    if len(rsc.running_on) == 2:
        _multiply_active(rsc)
    parent = rsc.parent
    while parent is not None:
        if node not in parent.running_on:
            parent.running_on.append(node)
        parent = parent.parent


def unpack_migrate_to_success(cluster: Cluster, rsc: Rsc, node: Node, op: OpRecord) -> None:
    source, target = op.migrate_source, op.migrate_target
    if source is None or target is None or source != node.uname:
        return
    source_newer = _non_monitor_after(cluster, rsc.id, source, op, True)
    migrate_from = _find_op(cluster, rsc.id, "migrate_from", target, source, None)
    from_rc, from_status = PCMK_OCF_OK, EXEC_PENDING
    if migrate_from is not None:
        if source_newer:
            return  # the migration is over on both ends
        from_rc, from_status = migrate_from.rc_code, migrate_from.op_status
    target_newer = _newer_state_after_migrate(cluster, rsc.id, target, op, migrate_from)
    if source_newer and target_newer:
        return
    rsc.role = Role.STARTED
    target_node = cluster.node_by_name.get(target)
    source_node = cluster.node_by_name.get(source)
    if from_rc == PCMK_OCF_OK and from_status == EXEC_DONE:
        # migrated, but never stopped on the source: stop it there, leave the target be
        rsc.role = Role.STOPPED
        rsc.dangling_migrations.insert(0, node)
    elif migrate_from is not None and from_status != EXEC_PENDING:
        # migrate_from failed: active on both ends until recovered
        if not target_newer and target_node is not None and target_node.online:
            add_running(cluster, rsc, target_node)
        else:
            rsc.failed = True
            rsc.stop_needed = True
            rsc.allow_migrate = False
    elif not target_newer and target_node is not None and target_node.online:
        # a target that never reported on the resource gets probed, not trusted
        if not _unknown_on(cluster, rsc.id, target):
            add_running(cluster, rsc, target_node)
            if source_node is not None and source_node.online:
                rsc.partial_target = target_node
                rsc.partial_source = source_node
    elif not source_newer:
        rsc.failed = True
        rsc.stop_needed = True
        rsc.allow_migrate = False


def unpack_migrate_to_failure(cluster: Cluster, rsc: Rsc, node: Node, op: OpRecord) -> None:
    source, target = op.migrate_source, op.migrate_target
    if source is None or target is None or source != node.uname:
        return
    rsc.role = Role.STARTED
    migrate_from = _find_op(cluster, rsc.id, "migrate_from", target, source, PCMK_OCF_OK)
    if not _unknown_on(cluster, rsc.id, target) and not _newer_state_after_migrate(
        cluster, rsc.id, target, op, migrate_from
    ):
        target_node = cluster.node_by_name.get(target)
        if target_node is not None and target_node.online:
            add_running(cluster, rsc, target_node)
    elif not _non_monitor_after(cluster, rsc.id, source, op, True):
        rsc.dangling_migrations.insert(0, node)


def unpack_migrate_from_failure(cluster: Cluster, rsc: Rsc, node: Node, op: OpRecord) -> None:
    source, target = op.migrate_source, op.migrate_target
    if source is None or target is None or target != node.uname:
        return
    rsc.role = Role.STARTED
    migrate_to = _find_op(cluster, rsc.id, "migrate_to", source, target, PCMK_OCF_OK)
    if not _unknown_on(cluster, rsc.id, source) and not _newer_state_after_migrate(
        cluster, rsc.id, source, migrate_to, op
    ):
        source_node = cluster.node_by_name.get(source)
        if source_node is not None and source_node.online:
            add_running(cluster, rsc, source_node)


def pending_migrate_to(cluster: Cluster, rsc: Rsc, node: Node, op: OpRecord) -> None:
    """A migrate_to still running on a node that is lost: the target must stop it."""
    from hakeeper.scheduler.actions import stop_action

    if not node.unclean or op.migrate_target is None:
        return
    target = cluster.node_by_name.get(op.migrate_target)
    if target is not None:
        stop_action(cluster, rsc, target, optional=False)


def after_history(rsc: Rsc, node: Node) -> None:
    """A stop on the source after migrate_to leaves the partial migration's target active."""
    if (
        rsc.role == Role.STOPPED
        and rsc.partial_source is node
        and rsc.partial_target is not None
        and rsc.running_on
    ):
        rsc.role = Role.STARTED


# --- planning ---------------------------------------------------------------------------------


def can_migrate(rsc: Rsc, current: Node | None) -> bool:
    return (
        rsc.allow_migrate
        and rsc.managed
        and not rsc.failed
        and not rsc.start_pending
        and current is not None
        and not current.unclean
        and rsc.allocated_to is not None
        and not rsc.allocated_to.unclean
    )


def abort_dangling(cluster: Cluster, rsc: Rsc) -> None:
    from hakeeper.scheduler.actions import stop_action

    for node in rsc.dangling_migrations:
        stop = stop_action(cluster, rsc, node, optional=False)
        stop.flags |= AF.DANGLE


def partial_continues(rsc: Rsc, current: Node | None, allow: bool, num_all: int) -> bool:
    return (
        rsc.partial_source is not None
        and rsc.partial_target is not None
        and allow
        and num_all == 2
        and current is rsc.partial_source
        and rsc.allocated_to is rsc.partial_target
    )


def create_migration_actions(cluster: Cluster, rsc: Rsc, current: Node) -> None:
    from hakeeper.scheduler.actions import custom_action, new_order, start_action, stop_action

    chosen = rsc.allocated_to
    assert chosen is not None
    start = start_action(cluster, rsc, chosen, True)
    stop = stop_action(cluster, rsc, current, True)
    partial = rsc.partial_target is not None
    migrate_to = None
    if not partial:
        migrate_to = custom_action(cluster, rsc, "migrate_to", current, True)
    migrate_from = custom_action(cluster, rsc, "migrate_from", chosen, True)
    start.flags |= AF.MIGRATE_RUNNABLE | AF.PSEUDO
    stop.flags |= AF.MIGRATE_RUNNABLE
    migrate_from.flags |= AF.MIGRATE_RUNNABLE
    optional = OF.OPTIONAL
    migratable = OF.OPTIONAL | OF.IMPLIES_FIRST_MIGRATABLE
    if migrate_to is not None:
        migrate_to.flags |= AF.MIGRATE_RUNNABLE
        migrate_to.needs = start.needs
        new_order(cluster, rsc, "monitor", None, rsc, "migrate_to", None, optional)
        new_order(cluster, rsc, "migrate_to", None, rsc, "migrate_from", None, migratable)
        migrate_to.meta["migrate_source"] = current.uname
        migrate_to.meta["migrate_target"] = chosen.uname
        migrate_to.meta["record-pending"] = "true"
    else:
        migrate_from.needs = start.needs
        new_order(cluster, rsc, "monitor", None, rsc, "migrate_from", None, optional)
    new_order(cluster, rsc, "migrate_from", None, rsc, "stop", None, migratable)
    new_order(cluster, rsc, "migrate_from", None, rsc, "start", None, migratable | OF.PSEUDO_LEFT)
    migrate_from.meta["migrate_source"] = current.uname
    migrate_from.meta["migrate_target"] = chosen.uname
