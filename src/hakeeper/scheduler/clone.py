"""Clones: instance placement, colocation with instances, clone actions.

Promotable clones add role selection and promote/demote actions (promotable.py).
"""

from __future__ import annotations

from functools import cmp_to_key

from hakeeper.model.config import Role
from hakeeper.model.scores import INFINITY
from hakeeper.scheduler.cluster import Cluster
from hakeeper.scheduler.utilization import release
from hakeeper.scheduler.working import (
    AF,
    OF,
    Action,
    Coloc,
    Flags,
    Node,
    Rsc,
    Variant,
    newest_action,
)


def assign_clone(cluster: Cluster, rsc: Rsc) -> Node | None:
    from hakeeper.scheduler import placement

    if not rsc.provisional or rsc.allocating:
        return None
    if rsc.promotable:
        from hakeeper.scheduler.promotable import add_promotion_scores

        add_promotion_scores(cluster, rsc)
    rsc.allocating = True
    for coloc in list(rsc.this_with):
        placement.assign(cluster, coloc.primary, None)
        if coloc.dependent_role in (Role.PROMOTED, Role.UNPROMOTED):
            continue  # applies when roles are chosen, not to placement
        rsc.allowed = placement.merge_weights(
            cluster,
            coloc.primary,
            rsc.id,
            rsc.allowed,
            coloc.node_attribute,
            coloc.score / INFINITY,
            rollback=True,
        )
    for coloc in list(rsc.with_this):
        if not placement.has_influence(coloc):
            continue
        rsc.allowed = placement.merge_weights(
            cluster,
            coloc.dependent,
            rsc.id,
            rsc.allowed,
            coloc.node_attribute,
            coloc.score / INFINITY,
            rollback=True,
            only_positive=True,
        )
    allowed = rsc.allowed or {}
    nodes = placement.sort_nodes(cluster, allowed, None)
    rsc.children.sort(key=cmp_to_key(lambda a, b: _cmp_instances(a, b)))
    _distribute(cluster, rsc, nodes)
    rsc.children.sort(key=lambda c: _instance_number(c))
    if rsc.promotable:
        from hakeeper.scheduler.promotable import set_instance_roles

        cluster.promotion_scores.extend(set_instance_roles(cluster, rsc))
        rsc.children.sort(key=lambda c: _instance_number(c))
    rsc.provisional = False
    rsc.allocating = False
    rsc.next_role = Role.STARTED if any(c.allocated_to for c in rsc.children) else Role.STOPPED
    return None


def _instance_number(rsc: Rsc) -> int:
    try:
        return int(rsc.id.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return 0


def _current(rsc: Rsc) -> Node | None:
    return rsc.running_on[0] if rsc.running_on else None


def _cmp_instances(a: Rsc, b: Rsc) -> int:
    """Instances in assignment order: active ones where they may stay, then the rest."""
    na, nb = len(a.running_on), len(b.running_on)
    if na and nb and na != nb:
        return -1 if na < nb else 1
    node_a, node_b = _current(a), _current(b)
    can_a = can_b = True
    if node_a is not None and (a.allowed or {}).get(node_a.id, -INFINITY) < 0:
        node_a, can_a = None, False
    if node_b is not None and (b.allowed or {}).get(node_b.id, -INFINITY) < 0:
        node_b, can_b = None, False
    if can_a != can_b:
        return -1 if can_a else 1
    if a.priority != b.priority:
        return -1 if a.priority > b.priority else 1
    if node_a is None and node_b is None:
        return 0
    if node_a is None:
        return 1
    if node_b is None:
        return -1
    run_a, run_b = node_a.can_run_resources(), node_b.can_run_resources()
    if run_a != run_b:
        return -1 if run_a else 1
    if a.failed != b.failed:
        return 1 if a.failed else -1
    return (a.id > b.id) - (a.id < b.id)


def _append_parent_colocations(parent: Rsc, child: Rsc, all_coloc: bool) -> None:
    from hakeeper.scheduler.placement import _cmp_this_with, _cmp_with_this, insert_sorted

    for coloc in parent.this_with:
        if (
            all_coloc or coloc.score < 0 or coloc.score >= INFINITY
        ) and coloc not in child.this_with:
            insert_sorted(child.this_with, coloc, _cmp_this_with)
    for coloc in parent.with_this:
        if not (coloc.influence or not child.running_on):
            continue
        if (all_coloc or coloc.score < 0) and coloc not in child.with_this:
            insert_sorted(child.with_this, coloc, _cmp_with_this)


def _can_run_instance(cluster: Cluster, parent: Rsc, child: Rsc, limit: int) -> None:
    allowed = child.allowed if child.allowed is not None else {}
    parent_allowed = parent.allowed or {}
    for nid in list(allowed):
        node = cluster.node_by_id[nid]
        ok = node.can_run_resources() and not child.orphan
        if ok and nid not in parent_allowed:
            ok = False
        if ok and parent_allowed[nid] < 0:
            allowed[nid] = min(allowed[nid], parent_allowed[nid])
            continue
        if ok and parent.count.get(nid, 0) >= limit:
            ok = False
        if not ok:
            allowed[nid] = -INFINITY
            for member in child.children:  # a cloned group's members follow its instance
                if member.allowed is not None:
                    member.allowed[nid] = -INFINITY


def _allocate_instance(
    cluster: Cluster, parent: Rsc, child: Rsc, prefer: Node | None, all_coloc: bool, limit: int
) -> Node | None:
    from hakeeper.scheduler import placement

    if not child.provisional or child.allocating:
        return child.allocated_to
    _append_parent_colocations(parent, child, all_coloc)
    if prefer is not None:
        score = (child.allowed or {}).get(prefer.id)
        if score is None or score < 0:
            return None
    _can_run_instance(cluster, parent, child, limit)
    backup = dict(child.allowed or {})
    chosen = placement.assign(cluster, child, prefer)
    if chosen is not None and prefer is not None and chosen is not prefer:
        child.allowed = backup
        for member in [child, *child.children]:
            if member.allocated_to is not None and member.variant == Variant.PRIMITIVE:
                member.allocated_to.num_resources -= 1
                release(member.allocated_to, member)
            member.allocated_to = None
            member.provisional = True
            member.next_role = Role.UNKNOWN
            member.next_role_reason = None
        return None
    if chosen is not None:
        parent.count[chosen.id] = parent.count.get(chosen.id, 0) + 1
    return chosen


def _distribute(cluster: Cluster, parent: Rsc, nodes: list[Node]) -> None:
    from hakeeper.scheduler.placement import resource_location

    limit = parent.clone_node_max
    maximum = parent.clone_max
    available = sum(1 for n in nodes if n.can_run_resources())
    all_coloc = maximum < available
    loop_max = max(1, maximum // available) if available else 1
    allocated = 0
    for child in parent.children:
        if allocated >= maximum:
            break
        if not child.running_on or not child.provisional or child.failed:
            continue
        current = child.running_on[0]
        if not current.can_run_resources():
            continue
        if current.id in (parent.allowed or {}) and parent.count.get(current.id, 0) >= loop_max:
            continue
        if _allocate_instance(cluster, parent, child, current, all_coloc, limit) is not None:
            allocated += 1
    for child in parent.children:
        if not child.provisional:
            continue
        if allocated >= maximum:
            resource_location(cluster, child, None, -INFINITY, "clone:limit_reached")
            from hakeeper.scheduler.placement import assign

            assign(cluster, child, None)
            continue
        if _allocate_instance(cluster, parent, child, None, all_coloc, limit) is not None:
            allocated += 1
    for child in parent.children:
        if child.provisional:
            from hakeeper.scheduler.placement import assign

            assign(cluster, child, None)


def colocation_with_clone(cluster: Cluster, dependent: Rsc, primary: Rsc, coloc: Coloc) -> None:
    """A (non-clone) dependent placed relative to a clone's instances."""
    from hakeeper.scheduler.placement import _apply_colocation_rh

    if primary.provisional:
        return
    if primary.promotable and coloc.primary_role != Role.UNKNOWN:
        from hakeeper.scheduler.promotable import colocation_with_promotable

        if dependent.provisional:
            colocation_with_promotable(cluster, dependent, primary, coloc)
        return
    if coloc.score >= INFINITY:
        nodes = {
            c.allocated_to.id
            for c in primary.children
            if c.allocated_to is not None and not c.block
        }
        allowed = dependent.allowed or {}
        for nid in allowed:
            if nid not in nodes:
                allowed[nid] = -INFINITY
        return
    for child in primary.children:
        _apply_colocation_rh(cluster, dependent, child, coloc)


# --- actions ----------------------------------------------------------------------------------


def create_clone_actions(cluster: Cluster, rsc: Rsc) -> None:
    from hakeeper.scheduler.actions import (
        create_group_actions,
        create_primitive_actions,
        custom_action,
    )

    active = starting = stopping = False
    for child in rsc.children:
        if child.variant == Variant.GROUP:
            create_group_actions(cluster, child)
            child.next_role = child.children[0].next_role if child.children else Role.STOPPED
        else:
            create_primitive_actions(cluster, child)
        if child.running_on:
            active = True
        for action in (a for member in child.primitives() for a in member.actions):
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
    start.flags |= AF.RUNNABLE
    stop.flags |= AF.RUNNABLE
    stopped.flags |= AF.RUNNABLE
    if active or starting:
        running.flags |= AF.RUNNABLE
    else:
        running.flags &= ~AF.RUNNABLE
    from hakeeper.scheduler.notify import create_pseudo_actions

    create_pseudo_actions(cluster, rsc)
    if rsc.promotable:
        from hakeeper.scheduler.promotable import create_promotable_actions

        create_promotable_actions(cluster, rsc)


def clone_internal(cluster: Cluster, rsc: Rsc) -> None:
    from hakeeper.scheduler.actions import _group_internal, _primitive_internal, new_order

    new_order(cluster, rsc, "stopped", None, rsc, "start", None, OF.OPTIONAL)
    new_order(cluster, rsc, "start", None, rsc, "running", None, OF.RUNNABLE_LEFT)
    new_order(cluster, rsc, "stop", None, rsc, "stopped", None, OF.RUNNABLE_LEFT)
    if rsc.promotable:
        from hakeeper.scheduler.promotable import clone_orderings

        clone_orderings(cluster, rsc)
    last: Rsc | None = None
    for child in rsc.children:
        if child.variant == Variant.GROUP:
            _group_internal(cluster, child)
        else:
            _primitive_internal(cluster, child)
        new_order(
            cluster,
            rsc,
            "start",
            None,
            child,
            "start",
            None,
            OF.RUNNABLE_LEFT | OF.IMPLIES_FIRST_PRINTED,
        )
        new_order(cluster, child, "start", None, rsc, "running", None, OF.IMPLIES_THEN_PRINTED)
        if rsc.ordered and last is not None:
            new_order(cluster, last, "start", None, child, "start", None, OF.OPTIONAL)
        new_order(cluster, rsc, "stop", None, child, "stop", None, OF.IMPLIES_FIRST_PRINTED)
        new_order(cluster, child, "stop", None, rsc, "stopped", None, OF.IMPLIES_THEN_PRINTED)
        if rsc.ordered and last is not None:
            new_order(cluster, child, "stop", None, last, "stop", None, OF.OPTIONAL)
        last = child
    if rsc.promotable:
        from hakeeper.scheduler.promotable import instance_orderings

        instance_orderings(cluster, rsc)


def clone_action_flags(action: Action, node: Node | None) -> Flags:
    rsc = action.rsc
    assert rsc is not None and rsc.variant == Variant.CLONE
    task = action.task
    if task in ("notify", "notified"):
        # a notification's flags follow the instances' action it surrounds
        task = action.meta.get("notify_key_operation", task)
    task = {
        "running": "start",
        "stopped": "stop",
        "promoted": "promote",
        "demoted": "demote",
    }.get(task, task)
    flags = AF.OPTIONAL | AF.RUNNABLE | AF.PSEUDO
    any_runnable = False
    from hakeeper.scheduler.actions import _action_flags

    for child in rsc.children:
        where = None if child.children else node
        found = newest_action(child, task, where)
        if found is None:
            continue
        child_flags = _action_flags(found, node) if child.children else found.flags
        if (flags & AF.OPTIONAL) and not (child_flags & AF.OPTIONAL):
            flags &= ~AF.OPTIONAL
            action.flags &= ~AF.OPTIONAL
        if child_flags & AF.RUNNABLE:
            any_runnable = True
    if not any_runnable:
        flags &= ~AF.RUNNABLE
        if node is None:
            action.flags &= ~AF.RUNNABLE
    return flags


def clone_children_for(then: Action, node: Node | None) -> list[Action]:
    """The instances' actions an ordering into a clone's action updates (runnable ones)."""
    rsc = then.rsc
    assert rsc is not None
    from hakeeper.scheduler.actions import _action_flags

    result = []
    for child in rsc.children:
        where = None if child.children else node
        found = newest_action(child, then.task, where)
        if found is not None and (_action_flags(found, node) & AF.RUNNABLE):
            result.append(found)
    return result


# --- interleaved orderings between clones ----------------------------------------------------


def can_interleave(first: Action, then: Action) -> bool:
    """Orderings between two clones pair instances per node when interleave is set."""
    a, b = first.rsc, then.rsc
    if a is None or b is None or a is b:
        return False
    if a.variant != Variant.CLONE or b.variant != Variant.CLONE:
        return False
    owner = a if then.task in ("stop", "demote") else b
    return owner.interleave


def _instance_node(rsc: Rsc, current: bool) -> Node | None:
    if current:
        return rsc.running_on[0] if rsc.running_on else None
    return rsc.allocated_to


def _compatible(local: Rsc, other: Rsc, current: bool) -> Rsc | None:
    node = _instance_node(local, current)
    if node is None:
        return None
    for child in other.children:
        if _instance_node(child, current) is node:
            return child
    return None


def interleave_update(
    cluster: Cluster, first: Action, then: Action, filter_: Flags, type_: Flags
) -> None:
    from hakeeper.scheduler.actions import (
        _action_flags,
        _native_update,
        order_actions,
        update_action,
    )

    assert first.rsc is not None and then.rsc is not None
    current = first.task in ("stopped", "demoted")
    first_task = {
        "running": "start",
        "stopped": "stop",
        "promoted": "promote",
        "demoted": "demote",
    }.get(first.task, first.task)
    for then_child in then.rsc.children:
        first_child = _compatible(then_child, first.rsc, current)
        if first_child is None:
            if not current and type_ & (OF.RUNNABLE_LEFT | OF.IMPLIES_THEN):
                # nothing of 'first' on this instance's node: it must not be active
                if then_child.allocated_to is not None:
                    then_child.allocated_to.num_resources -= 1
                    release(then_child.allocated_to, then_child)
                    then_child.allocated_to = None
                    then_child.next_role = Role.STOPPED
                    for action in then_child.actions:
                        if action.task == "start":
                            action.flags &= ~AF.RUNNABLE
            continue
        first_action = newest_action(first_child, first_task)
        then_action = newest_action(then_child, then.task)
        if first_action is None or then_action is None:
            continue
        created = order_actions(first_action, then_action, type_)
        before = then_action.flags
        _native_update(first_action, then_action, _action_flags(first_action, None), filter_, type_)
        if created or then_action.flags != before:
            update_action(cluster, then_action)
