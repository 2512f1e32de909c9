"""Actions and their orderings: what must happen, what may, and what cannot run.

Each action carries flags (optional, runnable, pseudo); orderings between actions carry
what one side's state implies for the other. Flags are propagated to a fixed point, as
Pacemaker does, and the first cause of each change is kept as the action's reason.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from hakeeper.cib.parse import is_true
from hakeeper.model.config import Order, Role
from hakeeper.model.scores import INFINITY, ScoreError, parse_score
from hakeeper.scheduler import migration
from hakeeper.scheduler.cluster import Cluster, op_on_fail
from hakeeper.scheduler.working import AF, OF, Action, Flags, Node, OrderSpec, Rsc, Variant, Wrapper

COMPLETION = {"start": "running", "stop": "stopped", "promote": "promoted", "demote": "demoted"}
INVERSE = {
    "start": "stop",
    "stop": "start",
    "promote": "demote",
    "demote": "promote",
    "running": "stopped",
    "stopped": "running",
    "promoted": "demoted",
    "demoted": "promoted",
}


def op_key(rsc_id: str, task: str, interval_ms: int = 0) -> str:
    return f"{rsc_id}_{task}_{interval_ms}"


# --- creating actions ---------------------------------------------------------------------


def custom_action(
    cluster: Cluster,
    rsc: Rsc | None,
    task: str,
    node: Node | None,
    optional: bool,
    *,
    key: str | None = None,
    interval_ms: int = 0,
    pseudo: bool = False,
) -> Action:
    uuid = key or op_key(rsc.id if rsc else "", task, interval_ms)
    lookup = (uuid, node.id if node else None)
    existing = rsc.action_index.get(lookup) if rsc is not None else cluster.singletons.get(uuid)
    if existing is None and rsc is not None and node is not None:
        # an action scheduled before placement (node unknown) takes the node asked for
        existing = rsc.action_index.pop((uuid, None), None)
        if existing is not None:
            existing.node = node
            rsc.action_index[lookup] = existing
            _update_runnable(cluster, existing)
    if existing is not None:
        if not optional:
            existing.flags &= ~AF.OPTIONAL
        return existing
    flags = AF.OPTIONAL if optional else AF.NONE
    if pseudo:
        flags |= AF.PSEUDO
    action = Action(len(cluster.actions), uuid, task, rsc, node, flags, interval_ms=interval_ms)
    cluster.actions.append(action)
    if rsc is not None:
        rsc.actions.append(action)
        rsc.action_index[lookup] = action
        if task in ("stop", "demote") or not rsc.needs_quorum:
            action.needs = "nothing"
        elif rsc.needs_fencing:
            action.needs = "fencing"
        else:
            action.needs = "quorum"
        if rsc.variant == Variant.PRIMITIVE:
            action.on_fail, action.fail_role = op_on_fail(cluster, rsc, task, interval_ms)
        _update_runnable(cluster, action)
    else:
        cluster.singletons[uuid] = action
        action.flags |= AF.RUNNABLE
    return action


def _update_runnable(cluster: Cluster, action: Action) -> None:
    rsc = action.rsc
    assert rsc is not None
    opts = cluster.options
    if action.pseudo:
        action.flags |= AF.RUNNABLE
        return
    node = action.node
    if node is None or node.pending:
        action.flags &= ~AF.RUNNABLE
    elif not node.online and (not node.is_guest or node.remote_requires_reset):
        # a guest node that is down but not lost comes up with its container
        action.flags &= ~AF.RUNNABLE
    elif action.needs == "nothing":
        action.flags |= AF.RUNNABLE
        if node.is_guest:
            from hakeeper.scheduler.remote_order import can_fence_guest

            if not can_fence_guest(cluster, node):
                action.flags &= ~AF.RUNNABLE  # its host is lost and cannot be fenced
    elif not opts.have_quorum and _quorum_policy(cluster, rsc) in ("stop", "suicide"):
        set_reason(action, "no quorum", True)
        action.flags &= ~AF.RUNNABLE
    elif not opts.have_quorum and opts.no_quorum_policy == "freeze":
        if not rsc.running_on or rsc.next_role > rsc.role:
            set_reason(action, "quorum freeze", True)
            action.flags &= ~AF.RUNNABLE
        else:
            action.flags |= AF.RUNNABLE
    else:
        action.flags |= AF.RUNNABLE


def _quorum_policy(cluster: Cluster, rsc: Rsc) -> str:
    """no-quorum-policy as it applies to rsc: 'demote' keeps roles' instances unpromoted."""
    policy = cluster.options.no_quorum_policy
    if policy != "demote":
        return policy
    if rsc.role in (Role.PROMOTED, Role.UNPROMOTED):
        if rsc.next_role > Role.UNPROMOTED:
            rsc.next_role = Role.UNPROMOTED
            rsc.next_role_reason = "no-quorum-policy=demote"
        return "ignore"
    return "stop"


def set_reason(action: Action, reason: str | None, overwrite: bool) -> None:
    if action.reason is None or overwrite:
        action.reason = reason


def handle_config_changes(cluster: Cluster) -> None:
    """Restart (or reload) resources whose definition changed since they started there."""
    from hakeeper.scheduler.digest import Change, definition_change

    for rsc in cluster.primitives():
        for node in rsc.running_on:
            if not node.online or node.unclean:
                continue
            config = rsc.config
            seen = rsc.lrm_agent.get(node.id)
            if (
                config is not None
                and seen is not None
                and seen != (config.agent.standard, config.agent.provider, config.agent.type)
            ):
                # the agent itself changed: restart, and skip the digests
                stop_action(cluster, rsc, node, optional=False)
                continue
            ops = rsc.history.get(node.id, [])
            start_index = None
            for index, op in enumerate(ops):
                if op.operation in ("start", "migrate_from") and op.rc_code == 0:
                    start_index = index
                elif op.operation == "stop" and op.rc_code == 0:
                    start_index = None
            if start_index is None:
                continue
            for op in ops[start_index:]:
                if op.interval_ms != 0 or op.operation not in ("start", "promote"):
                    continue
                change = definition_change(
                    rsc,
                    node,
                    op,
                    cluster.op_defaults,
                    cluster.now,
                    sanitized=cluster.options.sanitized,
                )
                if change is Change.RESTART:
                    action = custom_action(cluster, rsc, op.operation, None, False)
                    set_reason(action, "resource definition change", True)
                elif change is Change.RELOAD:
                    rsc.reload = True


def stop_action(cluster: Cluster, rsc: Rsc, node: Node | None, optional: bool) -> Action:
    return custom_action(cluster, rsc, "stop", node, optional)


def start_action(cluster: Cluster, rsc: Rsc, node: Node | None, optional: bool) -> Action:
    return custom_action(cluster, rsc, "start", node, optional)


def find_actions(rsc: Rsc, task: str, node: Node | None = None) -> list[Action]:
    return [
        a
        for a in rsc.actions
        if a.task == task and a.interval_ms == 0 and (node is None or a.node is node)
    ]


# --- primitive actions ------------------------------------------------------------------------


def _stop_resource(cluster: Cluster, rsc: Rsc, optional: bool) -> bool:
    for current in rsc.running_on:
        if rsc.partial_target is not None:
            if current is rsc.partial_target and current is rsc.allocated_to:
                continue  # the partial migration there goes on
            optional = False  # the migration target changed
        stop = stop_action(cluster, rsc, current, optional)
        if rsc.allocated_to is None:
            set_reason(stop, "node availability", True)
        if not rsc.managed:
            stop.flags &= ~AF.RUNNABLE
    return True


def _start_resource(cluster: Cluster, rsc: Rsc, node: Node | None, optional: bool) -> bool:
    start = start_action(cluster, rsc, node, True)
    if not optional:
        start.flags &= ~AF.OPTIONAL
    return True


def _promote_resource(cluster: Cluster, rsc: Rsc, node: Node | None, optional: bool) -> bool:
    # a promotion can run only if the start before it (if any) can
    if all(a.runnable for a in find_actions(rsc, "start", node)):
        custom_action(cluster, rsc, "promote", node, optional)
    else:
        for promote in find_actions(rsc, "promote", node):
            promote.flags &= ~AF.RUNNABLE
    return True


def _demote_resource(cluster: Cluster, rsc: Rsc, optional: bool) -> bool:
    for current in rsc.running_on:
        custom_action(cluster, rsc, "demote", current, optional)
    return True


_STATE_NEXT = {
    Role.UNKNOWN: [Role.UNKNOWN, Role.STOPPED, Role.STOPPED, Role.STOPPED, Role.STOPPED],
    Role.STOPPED: [Role.STOPPED, Role.STOPPED, Role.STARTED, Role.UNPROMOTED, Role.UNPROMOTED],
    Role.STARTED: [Role.STOPPED, Role.STOPPED, Role.STARTED, Role.UNPROMOTED, Role.PROMOTED],
    Role.UNPROMOTED: [Role.STOPPED, Role.STOPPED, Role.STOPPED, Role.UNPROMOTED, Role.PROMOTED],
    Role.PROMOTED: [Role.STOPPED, Role.UNPROMOTED, Role.UNPROMOTED, Role.UNPROMOTED, Role.PROMOTED],
}


def _transition(
    cluster: Cluster, rsc: Rsc, current: Role, nxt: Role, node: Node | None, optional: bool
) -> bool:
    if current == Role.STOPPED and nxt in (Role.STARTED, Role.UNPROMOTED):
        return _start_resource(cluster, rsc, node, optional)
    if nxt == Role.STOPPED and current in (Role.UNKNOWN, Role.STARTED, Role.UNPROMOTED):
        return _stop_resource(cluster, rsc, optional)
    if current == Role.UNPROMOTED and nxt == Role.STARTED:
        return _stop_resource(cluster, rsc, optional)
    if nxt == Role.PROMOTED and current in (Role.STARTED, Role.UNPROMOTED):
        return _promote_resource(cluster, rsc, node, optional)
    if current == Role.PROMOTED and nxt != Role.PROMOTED:
        return _demote_resource(cluster, rsc, optional)
    return current == nxt


def create_primitive_actions(cluster: Cluster, rsc: Rsc) -> None:
    chosen = rsc.allocated_to
    if rsc.next_role == Role.UNKNOWN:
        rsc.next_role = Role.STOPPED if chosen is None else Role.STARTED
    if chosen is None:
        _mark_unallocated(rsc)
    current = rsc.current_node()
    need_stop = False
    need_promote = False
    num_all = len(rsc.running_on)
    num_clean = len([n for n in rsc.running_on if not n.unclean])
    if rsc.dangling_migrations:
        migration.abort_dangling(cluster, rsc)
    moving = (
        current is not None
        and chosen is not None
        and current is not chosen
        and rsc.next_role >= Role.STARTED
    )
    allow_migrate = moving and migration.can_migrate(rsc, current)
    if moving:
        need_stop = True
    if migration.partial_continues(rsc, current, allow_migrate, num_all):
        pass
    elif rsc.partial_source is not None or rsc.partial_target is not None:
        # a partial migration that cannot go on: recover instead
        need_stop = True
        rsc.partial_source = rsc.partial_target = None
        allow_migrate = False
    elif (num_clean if not rsc.needs_fencing else num_all) > 1:
        if rsc.multiple_active in ("stop_start", "stop_unexpected"):
            need_stop = True
    if rsc.start_pending:
        start = start_action(cluster, rsc, chosen, True)
        start.flags |= AF.PRINT_ALWAYS
    if moving:
        pass
    elif rsc.failed:
        if rsc.stop_needed:
            need_stop = True
        elif rsc.next_role == Role.PROMOTED:
            need_promote = True  # recovered by demotion: promote again
    elif rsc.block:
        need_stop = True
    elif rsc.role > Role.STARTED and current is not None and chosen is not None:
        start = start_action(cluster, rsc, chosen, True)
        if not start.optional:
            need_stop = True

    role = rsc.role
    while role != Role.STOPPED:
        nxt = _STATE_NEXT[role][Role.STOPPED]
        if not _transition(cluster, rsc, role, nxt, current, not need_stop):
            break
        role = nxt
    while rsc.role <= rsc.next_role and role != rsc.role and not rsc.block:
        nxt = _STATE_NEXT[role][rsc.role]
        required = need_stop or (nxt == Role.PROMOTED and need_promote)
        if not _transition(cluster, rsc, role, nxt, chosen, not required):
            break
        role = nxt
    role = rsc.role
    while role != rsc.next_role:
        nxt = _STATE_NEXT[role][rsc.next_role]
        if not _transition(cluster, rsc, role, nxt, chosen, False):
            break
        role = nxt
    if not rsc.block and (rsc.next_role != Role.STOPPED or not rsc.managed):
        start = start_action(cluster, rsc, chosen, True)
        _recurring(cluster, rsc, start, chosen)
    if allow_migrate and current is not None:
        migration.create_migration_actions(cluster, rsc, current)


def _mark_unallocated(rsc: Rsc) -> None:
    for action in rsc.actions:
        if action.task == "stop":
            action.flags &= ~AF.OPTIONAL
        elif action.task == "start":
            action.flags &= ~AF.RUNNABLE


def _recurring(cluster: Cluster, rsc: Rsc, start: Action, node: Node | None) -> None:
    """Recurring monitors: created for completeness of the plan; not in the summary."""
    if node is None:
        return
    roles = rsc.uber_parent().promotable
    for op in rsc.ops:
        if op.name != "monitor" or op.interval_ms <= 0 or not op.enabled:
            continue
        if roles:
            # each role has its own monitor; the other role's is not run
            wanted = op.role if op.role is not None else Role.UNKNOWN
            if wanted == Role.STOPPED or (
                rsc.next_role != wanted
                if wanted != Role.UNKNOWN
                else rsc.next_role == Role.PROMOTED
            ):
                continue
        elif op.role is not None and op.role not in (Role.STARTED, Role.UNPROMOTED):
            continue
        optional = start.optional and _monitor_exists(cluster, rsc, node, op.interval_ms)
        monitor = custom_action(cluster, rsc, "monitor", node, optional, interval_ms=op.interval_ms)
        if not start.runnable:
            monitor.flags &= ~AF.RUNNABLE
        new_order(
            cluster, rsc, "start", None, rsc, None, monitor, OF.IMPLIES_THEN | OF.RUNNABLE_LEFT
        )
        if roles and rsc.next_role == Role.PROMOTED:
            new_order(
                cluster, rsc, "promote", None, rsc, None, monitor, OF.OPTIONAL | OF.RUNNABLE_LEFT
            )
        elif roles and rsc.role == Role.PROMOTED:
            new_order(
                cluster, rsc, "demote", None, rsc, None, monitor, OF.OPTIONAL | OF.RUNNABLE_LEFT
            )


def _monitor_exists(cluster: Cluster, rsc: Rsc, node: Node, interval_ms: int) -> bool:
    return any(
        op.operation == "monitor" and op.interval_ms == interval_ms
        for op in rsc.history.get(node.id, ())
    )


def create_group_actions(cluster: Cluster, rsc: Rsc) -> None:
    for child in rsc.children:
        create_primitive_actions(cluster, child)
    start = custom_action(cluster, rsc, "start", None, True, pseudo=True)
    running = custom_action(cluster, rsc, "running", None, True, pseudo=True)
    stop = custom_action(cluster, rsc, "stop", None, True, pseudo=True)
    stopped = custom_action(cluster, rsc, "stopped", None, True, pseudo=True)
    for action in (start, running, stop, stopped):
        action.flags |= AF.RUNNABLE


# --- orderings --------------------------------------------------------------------------------


def new_order(
    cluster: Cluster,
    first_rsc: Rsc | None,
    first_task: str | None,
    first_action: Action | None,
    then_rsc: Rsc | None,
    then_task: str | None,
    then_action: Action | None,
    flags: Flags,
) -> None:
    if flags == OF.NONE:
        return
    cluster.orderings.append(
        OrderSpec(
            len(cluster.orderings),
            first_rsc,
            first_task,
            first_action,
            then_rsc,
            then_task,
            then_action,
            flags,
        )
    )


def order_actions(first: Action, then: Action, flags: Flags) -> bool:
    if flags == OF.NONE or first is then:
        return False
    for wrapper in first.after:
        if wrapper.action is then and (wrapper.type & flags):
            return False
    # prepended, as Pacemaker's lists are: the visit order decides which reason sticks
    first.after.insert(0, Wrapper(then, flags))
    then.before.insert(0, Wrapper(first, flags))
    return True


def internal_constraints(cluster: Cluster) -> None:
    for rsc in cluster.resources:
        order_resources(cluster, rsc)


def order_resources(cluster: Cluster, rsc: Rsc) -> None:
    """One resource's implicit constraints (a bundle's inner clone's too)."""
    if rsc.variant == Variant.BUNDLE:
        from hakeeper.scheduler.bundle import bundle_internal

        bundle_internal(cluster, rsc)
    elif rsc.variant == Variant.CLONE:
        from hakeeper.scheduler.clone import clone_internal

        clone_internal(cluster, rsc)
    elif rsc.variant == Variant.GROUP:
        _group_internal(cluster, rsc)
    else:
        _primitive_internal(cluster, rsc)


def _primitive_internal(cluster: Cluster, rsc: Rsc) -> None:
    from hakeeper.scheduler.promotable import primitive_orderings

    new_order(
        cluster, rsc, "stop", None, rsc, "start", None, OF.OPTIONAL | OF.IMPLIES_THEN | OF.RESTART
    )
    primitive_orderings(cluster, rsc)
    if cluster.have_remote_nodes:
        from hakeeper.scheduler.remote_order import container_constraints

        container_constraints(cluster, rsc)


def _group_internal(cluster: Cluster, rsc: Rsc) -> None:
    from hakeeper.scheduler.placement import new_colocation

    new_order(cluster, rsc, "stopped", None, rsc, "start", None, OF.OPTIONAL)
    new_order(cluster, rsc, "stop", None, rsc, "stopped", None, OF.RUNNABLE_LEFT)
    new_order(cluster, rsc, "start", None, rsc, "running", None, OF.RUNNABLE_LEFT)
    last: Rsc | None = None
    last_active: Rsc | None = None
    for child in rsc.children:
        stop = OF.NONE
        stopped = OF.IMPLIES_THEN_PRINTED
        start = OF.IMPLIES_THEN | OF.RUNNABLE_LEFT
        started = OF.RUNNABLE_LEFT | OF.IMPLIES_THEN | OF.IMPLIES_THEN_PRINTED
        _primitive_internal(cluster, child)
        if last is None:
            if rsc.ordered:
                stop |= OF.OPTIONAL
                stopped = OF.IMPLIES_THEN
        elif rsc.colocated:
            from hakeeper.model.scores import INFINITY

            new_colocation(
                cluster,
                "group:internal_colocation",
                child,
                last,
                INFINITY,
                None,
                None,
                influence=child.critical,
            )
        new_order(cluster, rsc, "start", None, child, "start", None, OF.IMPLIES_FIRST_PRINTED)
        new_order(cluster, rsc, "stop", None, child, "stop", None, stop | OF.IMPLIES_FIRST_PRINTED)
        new_order(cluster, child, "stop", None, rsc, "stopped", None, stopped)
        new_order(cluster, child, "start", None, rsc, "running", None, started)
        if not rsc.ordered:
            new_order(
                cluster, rsc, "start", None, child, "start", None, start | OF.IMPLIES_FIRST_PRINTED
            )
        elif last is not None:
            new_order(cluster, last, "start", None, child, "start", None, start)
            new_order(cluster, child, "stop", None, last, "stop", None, OF.OPTIONAL | OF.RESTART)
        else:
            new_order(cluster, rsc, "start", None, child, "start", None, OF.NONE)
        if child.running_on:
            if (
                rsc.ordered
                and last is not None
                and not last.running_on
                and last_active is not None
                and last_active.running_on
            ):
                new_order(cluster, child, "stop", None, last_active, "stop", None, OF.OPTIONAL)
            last_active = child
        last = child
    if rsc.ordered and last is not None:
        new_order(cluster, rsc, "stop", None, last, "stop", None, OF.IMPLIES_THEN)
        new_order(cluster, last, "stop", None, rsc, "stopped", None, OF.OPTIONAL)


def unpack_orderings(cluster: Cluster) -> None:
    for cons in cluster.cib.configuration.constraints:
        if not isinstance(cons, Order):
            continue
        if cons.sets:
            _unpack_order_sets(cluster, cons)
            continue
        first = cluster.rsc_by_id.get(cons.first or "")
        then = cluster.rsc_by_id.get(cons.then or "")
        if first is None or then is None:
            continue
        kind = _order_kind(cons.kind, cons.score)
        symmetrical = _order_symmetry(cons.symmetrical, kind)
        first_action = cons.first_action or "start"
        then_action = cons.then_action or first_action
        min_before = 0
        if first.variant == Variant.CLONE:
            clone_min = first.meta.get("clone-min")
            if clone_min is not None:
                try:
                    min_before = max(0, int(clone_min))
                except ValueError:
                    min_before = 0
            elif not cons.require_all:
                min_before = 1
        _order_pair(
            cluster,
            first,
            first_action,
            then,
            then_action,
            kind,
            symmetrical,
            clone_min=min_before,
            order_id=cons.id,
        )


def _order_kind(kind: str | None, score: str | None) -> str:
    if kind is None:
        if score is not None:
            try:
                if parse_score(score) == 0:
                    return "optional"
            except ScoreError:
                pass
        return "mandatory"
    return kind.lower()


def _order_symmetry(value: bool | None, kind: str) -> bool:
    if value is None:
        return kind != "serialize"
    return value and kind != "serialize"


def _kind_flags(kind: str, first_task: str, symmetry: str) -> Flags:
    flags = OF.OPTIONAL
    if kind == "serialize":
        flags |= OF.SERIALIZE_ONLY
    elif kind == "mandatory":
        if symmetry == "asymmetric":
            flags |= OF.ASYMMETRICAL
        elif symmetry == "symmetric":
            flags |= OF.IMPLIES_THEN
            if first_task in ("start", "promote"):
                flags |= OF.RUNNABLE_LEFT
        else:
            flags |= OF.IMPLIES_FIRST
    return flags


def _order_pair(
    cluster: Cluster,
    first: Rsc,
    first_task: str,
    then: Rsc,
    then_task: str,
    kind: str,
    symmetrical: bool,
    *,
    clone_min: int = 0,
    order_id: str = "",
) -> None:
    flags = _kind_flags(kind, first_task, "symmetric" if symmetrical else "asymmetric")
    if kind == "optional" and then.restart_type_restart:
        flags |= OF.IMPLIES_THEN
    if clone_min > 0:
        # 'then' needs only clone_min instances of 'first': a pseudo-action counts them
        key = f"clone-one-or-more:{order_id}"
        met = custom_action(cluster, None, key, None, True, key=key, pseudo=True)
        met.flags |= AF.RUNNABLE | AF.REQUIRES_ANY
        met.required_runnable_before = clone_min
        for child in first.children:
            new_order(
                cluster,
                child,
                first_task,
                None,
                None,
                None,
                met,
                OF.ONE_OR_MORE | OF.IMPLIES_THEN_PRINTED,
            )
        new_order(cluster, None, None, met, then, then_task, None, flags | OF.RUNNABLE_LEFT)
    else:
        new_order(cluster, first, first_task, None, then, then_task, None, flags)
    if symmetrical:
        inv_first = INVERSE.get(first_task)
        inv_then = INVERSE.get(then_task)
        if inv_first is None or inv_then is None:
            return
        flags = _kind_flags(kind, inv_first, "inverse")
        new_order(cluster, then, inv_then, None, first, inv_first, None, flags)


def _unpack_order_sets(cluster: Cluster, cons: Order) -> None:
    kind = _order_kind(cons.kind, cons.score)
    symmetrical = _order_symmetry(cons.symmetrical, kind)
    previous: list[tuple[Rsc, str]] | None = None
    previous_sequential = True
    previous_require_all = True
    previous_id = ""
    for rset in cons.sets:
        action = rset.action or "start"
        members = [(cluster.rsc_by_id[r], action) for r in rset.resources if r in cluster.rsc_by_id]
        set_kind = rset.kind.lower() if rset.kind else kind
        sequential = rset.sequential if rset.sequential is not None else True
        if sequential:
            for (a, a_task), (b, b_task) in itertools.pairwise(members):
                _order_pair(cluster, a, a_task, b, b_task, set_kind, symmetrical)
        if previous is not None and members and not previous_require_all:
            _order_after_any(cluster, previous_id, previous, members, kind, symmetrical)
            if symmetrical:
                for b, b_task in members if not sequential else members[:1]:
                    for a, a_task in previous:
                        _order_inverse(cluster, a, a_task, b, b_task, kind)
        elif previous is not None and members:
            prev_members = previous if not previous_sequential else previous[-1:]
            this_members = members if not sequential else members[:1]
            for a, a_task in prev_members:
                for b, b_task in this_members:
                    _order_pair(cluster, a, a_task, b, b_task, kind, symmetrical)
        previous = members
        previous_sequential = sequential
        previous_require_all = rset.require_all
        previous_id = rset.id


def _order_after_any(
    cluster: Cluster,
    set_id: str,
    firsts: list[tuple[Rsc, str]],
    thens: list[tuple[Rsc, str]],
    kind: str,
    symmetrical: bool,
) -> None:
    """A set with require-all=false: what follows it needs any one of its members, through
    a pseudo-action (Pacemaker's one-or-more:SET) runnable once one of them is."""
    key = f"one-or-more:{set_id}"
    met = custom_action(cluster, None, key, None, True, key=key, pseudo=True)
    met.flags |= AF.RUNNABLE | AF.REQUIRES_ANY
    for first, first_task in firsts:
        new_order(
            cluster,
            first,
            first_task,
            None,
            None,
            None,
            met,
            OF.ONE_OR_MORE | OF.IMPLIES_THEN_PRINTED,
        )
    for then, then_task in thens:
        symmetry = "symmetric" if symmetrical else "asymmetric"
        flags = _kind_flags(kind, firsts[0][1] if firsts else "start", symmetry)
        new_order(cluster, None, None, met, then, then_task, None, flags | OF.RUNNABLE_LEFT)


def _order_inverse(
    cluster: Cluster, first: Rsc, first_task: str, then: Rsc, then_task: str, kind: str
) -> None:
    inv_first = INVERSE.get(first_task)
    inv_then = INVERSE.get(then_task)
    if inv_first is None or inv_then is None:
        return
    new_order(
        cluster,
        then,
        inv_then,
        None,
        first,
        inv_first,
        None,
        _kind_flags(kind, inv_first, "inverse"),
    )


# --- applying orderings -----------------------------------------------------------------------


def _expand(action: Action) -> Action:
    """A group's start as 'first' means its 'running', and so on. With notify=true on an
    outermost resource (or a bundle's clone) it means the completion's confirmed
    post-notification; when that does not exist (a bundle, a group: their notifications
    are their clone's), nothing is remapped, as Pacemaker's action_for_ordering: so after
    a notifying bundle's promote, a dependent waits only for the promotions to begin."""
    rsc = action.rsc
    if rsc is None or rsc.variant == Variant.PRIMITIVE:
        return action
    done = COMPLETION.get(action.task)
    if done is None:
        return action
    if is_true(rsc.meta.get("notify")) and (
        rsc.parent is None
        or (rsc.variant == Variant.CLONE and rsc.parent.variant == Variant.BUNDLE)
    ):
        notified = rsc.action_index.get((f"{rsc.id}_confirmed-post_notify_{done}_0", None))
        return notified if notified is not None else action
    for candidate in rsc.actions:
        if candidate.task == done:
            return candidate
    return action


def _find_by_task(rsc: Rsc, task: str) -> list[Action]:
    return [a for a in rsc.actions if a.task == task and a.interval_ms == 0]


def apply_orderings(cluster: Cluster) -> None:
    for spec in cluster.orderings:
        if spec.first_rsc is not None:
            _order_first(cluster, spec)
        elif spec.then_rsc is not None and spec.first_action is not None:
            _order_after(cluster, spec.first_action, spec.then_rsc, spec)
        elif spec.first_action is not None and spec.then_action is not None:
            order_actions(spec.first_action, spec.then_action, spec.flags)
    # newest first: Pacemaker prepends each new action to its list
    for action in reversed(list(cluster.actions)):
        for blocked in _block_colocation_dependents(action):
            update_action(cluster, blocked)
    for action in reversed(list(cluster.actions)):
        update_action(cluster, action)


def _order_first(cluster: Cluster, spec: OrderSpec) -> None:
    first_rsc = spec.first_rsc
    assert first_rsc is not None
    if spec.first_action is not None:
        firsts = [spec.first_action]
    else:
        firsts = _find_by_task(first_rsc, spec.first_task or "")
    then_rsc = spec.then_rsc
    if not firsts and first_rsc is then_rsc:
        return
    if not firsts:
        task = spec.first_task or ""
        current = _rsc_state(first_rsc)
        if current == Role.STOPPED and task == "stop":
            return
        if current == Role.UNPROMOTED and task == "demote":
            return
        created = custom_action(cluster, first_rsc, task, None, True)
        firsts = [created]
    if then_rsc is None:
        if spec.then_action is None:
            return
        then_rsc = spec.then_action.rsc
    for first in firsts:
        if then_rsc is None and spec.then_action is not None:
            order_actions(first, spec.then_action, spec.flags)
        elif then_rsc is not None:
            _order_after(cluster, first, then_rsc, spec)


def _rsc_state(rsc: Rsc) -> Role:
    """The role a resource is in now (groups: the highest of their members)."""
    if rsc.variant == Variant.PRIMITIVE:
        return rsc.role
    best = Role.STOPPED
    for child in rsc.children:
        best = max(best, _rsc_state(child))
    return best


def _order_after(cluster: Cluster, first: Action | None, rsc: Rsc, spec: OrderSpec) -> None:
    flags = spec.flags
    if spec.then_action is not None:
        thens = [spec.then_action]
    else:
        thens = _find_by_task(rsc, spec.then_task or "")
    if not thens:
        return
    if first is not None and first.rsc is rsc and (first.flags & AF.DANGLE):
        flags &= ~OF.IMPLIES_THEN
    if first is None and not (flags & OF.IMPLIES_THEN):
        return
    for then in thens:
        if first is not None:
            order_actions(first, then, flags)
        else:
            then.flags &= ~AF.RUNNABLE


# --- flag propagation -------------------------------------------------------------------------


def implies(action: Action, reason: Action | None, flag: Flags, text: str | None = None) -> bool:
    """Clear flag on action because of reason; record why. Returns True if it changed."""
    overwrite = False
    if flag & AF.RUNNABLE:
        change = "unrunnable"
    elif flag & AF.OPTIONAL:
        change = "required"
    else:
        change = "unrunnable"
        overwrite = bool(flag & AF.MIGRATE_RUNNABLE)
    updated = False
    if action.flags & flag:
        action.flags &= ~flag
        updated = True
    if updated or text:
        if reason is None:
            set_reason(action, text, overwrite)
        elif reason.rsc is not action.rsc:
            if reason.rsc is None:
                reason_text = f"{change} {reason.task}"
            else:
                reason_text = f"{change} {reason.rsc.id} {reason.task}"
            set_reason(action, reason_text, overwrite)
    return updated


def _action_flags(action: Action, node: Node | None) -> Flags:
    rsc = action.rsc
    if rsc is not None and rsc.variant == Variant.BUNDLE:
        from hakeeper.scheduler.bundle import bundle_action_flags

        return bundle_action_flags(action, node)
    if rsc is not None and rsc.variant == Variant.CLONE:
        from hakeeper.scheduler.clone import clone_action_flags

        return clone_action_flags(action, node)
    if rsc is None or rsc.variant != Variant.GROUP:
        return action.flags
    flags = AF.OPTIONAL | AF.RUNNABLE | AF.PSEUDO
    task = action.task
    child_task = {
        "running": "start",
        "stopped": "stop",
        "promoted": "promote",
        "demoted": "demote",
    }.get(task, task)
    for child in rsc.children:
        found = None
        for candidate in reversed(child.actions):  # newest first, as Pacemaker
            if (
                candidate.task == child_task
                and candidate.interval_ms == 0
                and (node is None or candidate.node is node)
            ):
                found = candidate
                break
        if found is not None:
            child_flags = _action_flags(found, node)
            if (flags & AF.OPTIONAL) and not (child_flags & AF.OPTIONAL):
                flags &= ~AF.OPTIONAL
                action.flags &= ~AF.OPTIONAL
            if child_task != task and (flags & AF.RUNNABLE) and not (child_flags & AF.RUNNABLE):
                flags &= ~AF.RUNNABLE
                action.flags &= ~AF.RUNNABLE
        elif child_task not in ("stop", "demote"):
            flags &= ~AF.RUNNABLE
    return flags


def _group_node(rsc: Rsc) -> Node | None:
    if rsc.allocated_to is not None:
        return rsc.allocated_to
    for child in rsc.children:
        if child.allocated_to is not None:
            return child.allocated_to
    return None


def update_action(cluster: Cluster, then: Action) -> None:
    """Apply every ordering into `then`, and follow each change to what it affects.

    The visits follow Pacemaker's recursion exactly (the reason an action keeps is the
    first cause that reached it, so their order shows in the transition summary), but on
    an explicit stack: ordering chains can be longer than Python's recursion limit.
    Each visit is a generator that yields the action to visit next, depth first.
    """
    stack = [_update_steps(cluster, then)]
    while stack:
        try:
            nested = next(stack[-1])
        except StopIteration:
            stack.pop()
            continue
        stack.append(_update_steps(cluster, nested))


def _update_steps(cluster: Cluster, then: Action) -> Iterator[Action]:
    """One visit of update_action; yields each action to visit before going on."""
    then_changed = False
    last_flags = then.flags
    requires_any = bool(then.flags & AF.REQUIRES_ANY)
    if requires_any:
        # runnable again only if enough of what it waits for is runnable (counted below)
        then.runnable_before = 0
        if then.required_runnable_before == 0:
            then.required_runnable_before = 1
        then.flags &= ~AF.RUNNABLE
    for wrapper in list(then.before):
        first = wrapper.action
        if wrapper.type == OF.NONE:
            continue
        then_node = then.node
        first_node = first.node
        if first.rsc is not None and first.rsc.variant == Variant.GROUP and first.task == "start":
            first_node = _group_node(first.rsc)
        if then.rsc is not None and then.rsc.variant == Variant.GROUP and then.task == "start":
            then_node = _group_node(then.rsc)
        if (
            (wrapper.type & OF.SAME_NODE)
            and first_node is not None
            and then_node is not None
            and first_node is not then_node
        ):
            wrapper.type = OF.NONE
            continue
        if (
            first.rsc is not None
            and then.rsc is not None
            and first.rsc is not then.rsc
            and not _is_parent(then.rsc, first.rsc)
        ):
            expanded = _expand(first)
        else:
            expanded = first
        if expanded is not first:
            if order_actions(expanded, then, wrapper.type):
                wrapper.type = OF.NONE
                then_changed = True
            continue
        # Pacemaker asks a resource other than a clone for its flags on no node in
        # particular: a group's running is runnable if its members start anywhere
        clone_first = first.rsc is not None and first.rsc.variant == Variant.CLONE
        first_flags = _action_flags(first, then_node if clone_first else None)
        watched = _watched(then)
        before_then = [a.flags for a in watched]
        before_first = first.flags
        _graph_update(cluster, first, then, then.node, first_flags, wrapper)
        if [a.flags for a in watched] != before_then:
            then_changed = True
        if first.flags != before_first:
            for after in list(first.after):
                yield after.action
            yield first
    if requires_any:
        then_changed = then.flags != last_flags
    if then_changed:
        if (last_flags & AF.RUNNABLE) and not (then.flags & AF.RUNNABLE):
            yield from _block_colocation_dependents(then)
        yield then
        for after in list(then.after):
            yield after.action


def _block_colocation_dependents(action: Action) -> Iterator[Action]:
    """An unrunnable start (or promote) blocks the starts (promotes) of what has a
    mandatory colocation with its resource, once no instance of the whole collective can
    do it: the dependents' actions become unrunnable "due to colocation with" it. Yields
    each blocked action to visit, after what it blocks in turn, as Pacemaker does."""
    if action.flags & AF.RUNNABLE or action.rsc is None:
        return
    is_start = action.task == "start"
    if not is_start and action.task != "promote":
        return
    top = action.rsc.top()
    for child in top.children:
        newest = next((a for a in reversed(child.actions) if a.task == action.task), None)
        if newest is None or newest.flags & AF.RUNNABLE:
            return  # an instance can still get there
    for coloc in list(top.with_this):
        if coloc.score < INFINITY:
            continue
        if not is_start and coloc.primary_role != Role.PROMOTED:
            continue
        task = "promote" if coloc.dependent_role == Role.PROMOTED else "start"
        yield from _mark_blocked(coloc.dependent, task, action.rsc)


def _mark_blocked(rsc: Rsc, task: str, reason: Rsc) -> Iterator[Action]:
    for action in reversed(list(rsc.actions)):  # newest first, as Pacemaker's list
        if action.flags & AF.RUNNABLE and action.task == task:
            action.flags &= ~AF.RUNNABLE
            set_reason(action, f"colocation with {reason.id}", False)
            yield from _block_colocation_dependents(action)
            yield action
    for child in rsc.children:
        yield from _mark_blocked(child, task, reason)


def _watched(then: Action) -> list[Action]:
    """`then`, and for a group's action the members' actions it updates too."""
    rsc = then.rsc
    if rsc is None or rsc.variant == Variant.PRIMITIVE:
        return [then]
    result = [then]
    children = rsc.children
    if rsc.variant == Variant.BUNDLE:
        from hakeeper.scheduler.bundle import watched_children

        children = watched_children(rsc)
    for child in children:
        for candidate in child.actions:
            if candidate.task == then.task and candidate.interval_ms == 0:
                result.append(candidate)
    return result


def _is_parent(child: Rsc, maybe_parent: Rsc) -> bool:
    parent = child.parent
    while parent is not None:
        if parent is maybe_parent:
            return True
        parent = parent.parent
    return False


def _graph_update(
    cluster: Cluster,
    first: Action,
    then: Action,
    node: Node | None,
    first_flags: Flags,
    wrapper: Wrapper,
) -> None:
    type_ = wrapper.type
    if type_ & OF.IMPLIES_THEN:
        if then.rsc is not None:
            _rsc_update(
                cluster, first, then, node, first_flags & AF.OPTIONAL, AF.OPTIONAL, OF.IMPLIES_THEN
            )
        elif not (first_flags & AF.OPTIONAL) and (then.flags & AF.OPTIONAL):
            then.flags &= ~AF.OPTIONAL
    if type_ & OF.RESTART and then.rsc is not None:
        _rsc_update(cluster, first, then, node, first_flags, AF.OPTIONAL | AF.RUNNABLE, OF.RESTART)
    if type_ & OF.IMPLIES_FIRST:
        if first.rsc is not None:
            _rsc_update(cluster, first, then, node, first_flags, AF.OPTIONAL, OF.IMPLIES_FIRST)
        elif not (first_flags & AF.OPTIONAL) and (first.flags & AF.RUNNABLE):
            first.flags &= ~AF.RUNNABLE
    if type_ & OF.PROMOTED_IMPLIES_FIRST and then.rsc is not None:
        _rsc_update(
            cluster,
            first,
            then,
            node,
            first_flags & AF.OPTIONAL,
            AF.OPTIONAL,
            OF.PROMOTED_IMPLIES_FIRST,
        )
    if type_ & OF.ONE_OR_MORE:
        if first_flags & AF.RUNNABLE:
            then.runnable_before += 1
            if then.runnable_before >= then.required_runnable_before:
                then.flags |= AF.RUNNABLE
    if type_ & OF.RUNNABLE_LEFT:
        if then.rsc is not None:
            _rsc_update(cluster, first, then, node, first_flags, AF.RUNNABLE, OF.RUNNABLE_LEFT)
        elif not (first_flags & AF.RUNNABLE) and (then.flags & AF.RUNNABLE):
            then.flags &= ~AF.RUNNABLE
    if type_ & OF.IMPLIES_FIRST_MIGRATABLE and then.rsc is not None:
        _rsc_update(
            cluster, first, then, node, first_flags, AF.OPTIONAL, OF.IMPLIES_FIRST_MIGRATABLE
        )
    if type_ & OF.PSEUDO_LEFT and then.rsc is not None:
        _rsc_update(cluster, first, then, node, first_flags, AF.OPTIONAL, OF.PSEUDO_LEFT)
    if type_ & OF.ASYMMETRICAL and then.rsc is not None:
        _rsc_update(cluster, first, then, node, first_flags, AF.RUNNABLE, OF.ASYMMETRICAL)
    if (
        (first.flags & AF.RUNNABLE)
        and (type_ & OF.IMPLIES_THEN_PRINTED)
        and not (first_flags & AF.OPTIONAL)
    ):
        then.flags |= AF.PRINT_ALWAYS
    if (
        (type_ & (OF.IMPLIES_THEN | OF.IMPLIES_FIRST | OF.RESTART))
        and first.rsc is not None
        and first.task == "stop"
        and not first.rsc.managed
        and first.rsc.block
        and not (first.flags & AF.RUNNABLE)
    ):
        if then.flags & AF.RUNNABLE:
            then.flags &= ~AF.RUNNABLE


def _rsc_update(
    cluster: Cluster,
    first: Action,
    then: Action,
    node: Node | None,
    flags: Flags,
    filter_: Flags,
    type_: Flags,
) -> None:
    rsc = then.rsc
    assert rsc is not None
    if rsc.variant == Variant.CLONE:
        from hakeeper.scheduler.clone import can_interleave, interleave_update

        if can_interleave(first, then):
            interleave_update(cluster, first, then, filter_, type_)
            return
    _native_update(first, then, flags, filter_, type_)
    if rsc.variant == Variant.BUNDLE:
        from hakeeper.scheduler.bundle import bundle_children_for

        for child_action in bundle_children_for(then, node):
            _native_update(first, child_action, flags, filter_, type_)
        return
    if rsc.variant == Variant.CLONE:
        from hakeeper.scheduler.clone import clone_children_for

        for child_action in clone_children_for(then, node):
            if child_action.rsc is not None and child_action.rsc.variant == Variant.GROUP:
                _rsc_update(cluster, first, child_action, node, flags, filter_, type_)
            else:
                _native_update(first, child_action, flags, filter_, type_)
        return
    if rsc.variant == Variant.GROUP:
        child_task = then.task
        for child in rsc.children:
            for candidate in reversed(child.actions):  # newest first, as Pacemaker
                if (
                    candidate.task == child_task
                    and candidate.interval_ms == 0
                    and (node is None or candidate.node is node)
                ):
                    _native_update(first, candidate, flags, filter_, type_)
                    break


def _native_update(first: Action, then: Action, flags: Flags, filter_: Flags, type_: Flags) -> None:
    if type_ & OF.ASYMMETRICAL:
        then_rsc = then.rsc
        state = _rsc_state(then_rsc) if then_rsc is not None else Role.UNKNOWN
        already_stopped = state == Role.STOPPED and then.task == "stop"
        already_started = (
            then_rsc is not None
            and state >= Role.STARTED
            and then.task == "start"
            and then.optional
            and then.node is not None
            and len(then_rsc.running_on) == 1
            and then.node is then_rsc.running_on[0]
        )
        # nothing to do for 'then' that already is where the ordering would take it
        if (
            then_rsc is not None
            and not already_stopped
            and not already_started
            and not first.runnable
        ):
            implies(then, first, AF.OPTIONAL)
            implies(then, first, AF.RUNNABLE)
    if type_ & OF.IMPLIES_FIRST:
        if (filter_ & AF.OPTIONAL) and not (flags & AF.OPTIONAL):
            implies(first, then, AF.OPTIONAL)
        if (
            (flags & AF.MIGRATE_RUNNABLE)
            and not (then.flags & AF.MIGRATE_RUNNABLE)
            and not then.optional
        ):
            implies(first, then, AF.MIGRATE_RUNNABLE)
    if (type_ & OF.IMPLIES_FIRST_MIGRATABLE) and (filter_ & AF.OPTIONAL):
        if (then.flags & (AF.MIGRATE_RUNNABLE | AF.RUNNABLE)) != (
            AF.MIGRATE_RUNNABLE | AF.RUNNABLE
        ):
            implies(first, then, AF.RUNNABLE)
        if not then.optional:
            implies(first, then, AF.OPTIONAL)
    if (type_ & OF.PSEUDO_LEFT) and (filter_ & AF.OPTIONAL) and not first.runnable:
        implies(then, first, AF.MIGRATE_RUNNABLE)
        then.flags &= ~AF.PSEUDO
    if (
        type_ & OF.PROMOTED_IMPLIES_FIRST
        and (filter_ & AF.OPTIONAL)
        and not then.optional
        and then.rsc is not None
        and then.rsc.role == Role.PROMOTED
    ):
        implies(first, then, AF.OPTIONAL)
    if (
        (type_ & OF.RUNNABLE_LEFT)
        and (filter_ & AF.RUNNABLE)
        and then.runnable
        and not (flags & AF.RUNNABLE)
    ):
        implies(then, first, AF.RUNNABLE)
        implies(then, first, AF.MIGRATE_RUNNABLE)
    if (
        (type_ & OF.IMPLIES_THEN)
        and (filter_ & AF.OPTIONAL)
        and then.optional
        and not (flags & AF.OPTIONAL)
        and not (first.flags & AF.MIGRATE_RUNNABLE)
    ):
        implies(then, first, AF.OPTIONAL)
    if type_ & OF.RESTART:
        _restart(first, then, filter_)


def _restart(first: Action, then: Action, filter_: Flags) -> None:
    reason = None
    if (filter_ & AF.OPTIONAL) and not then.optional:
        reason = "restart"
    if (
        (filter_ & AF.RUNNABLE)
        and not then.runnable
        and then.rsc is not None
        and then.rsc.managed
        and first.rsc is then.rsc
    ):
        reason = "stop"
    if reason is None:
        return
    if first.runnable:
        implies(first, then, AF.OPTIONAL)
    if not then.optional:
        implies(first, then, AF.OPTIONAL)
    if not (then.flags & AF.MIGRATE_RUNNABLE):
        implies(first, then, AF.MIGRATE_RUNNABLE)
    if not first.optional and not first.runnable:
        implies(then, first, AF.RUNNABLE)
