"""Promotable clones: which instances are promoted, and the actions and orderings of roles.

Roles are chosen after the clone's instances are placed: each placed instance gets a
promotion priority (its `master-<rsc>` node attribute, role-specific location and
colocation scores), the clone's node scores are raised by those priorities and by
what is colocated with its promoted role, and the best instances are promoted up to
promoted-max overall and promoted-node-max per node.
"""

from __future__ import annotations

from functools import cmp_to_key

from hakeeper.model.config import Role
from hakeeper.model.scores import INFINITY, ScoreError, add, parse_score
from hakeeper.scheduler.cluster import Cluster
from hakeeper.scheduler.working import AF, OF, Coloc, Node, Rsc, Variant

# --- state helpers ------------------------------------------------------------------------


def _state(rsc: Rsc, current: bool) -> Role:
    """The role of an instance now or next; a cloned group's is its members' highest."""
    if rsc.children:
        best = Role.UNKNOWN
        for child in rsc.children:
            best = max(best, _state(child, current))
        return best
    return rsc.role if current else rsc.next_role


def _assigned_nodes(rsc: Rsc) -> list[Node]:
    if rsc.children:
        result: list[Node] = []
        for child in rsc.children:
            for node in _assigned_nodes(child):
                if node not in result:
                    result.append(node)
        return result
    return [rsc.allocated_to] if rsc.allocated_to is not None else []


def _location(rsc: Rsc) -> Node | None:
    """Where an instance will run, if that is one node."""
    nodes = _assigned_nodes(rsc)
    return nodes[0] if len(nodes) == 1 else None


def _strip(ident: str) -> str:
    head, sep, tail = ident.rpartition(":")
    return head if sep and tail.isdigit() else ident


def _members_named(rsc: Rsc, base: str) -> list[Rsc]:
    """The primitives of an instance that are instances of the primitive `base`."""
    return [p for p in rsc.primitives() if _strip(p.id) == base]


# --- promotion scores ---------------------------------------------------------------------


def _allowed(rsc: Rsc, node: Node) -> bool:
    score = (rsc.allowed or {}).get(node.id)
    return score is not None and score >= 0


def _score_applies(rsc: Rsc, node: Node) -> bool:
    """Whether a node's promotion score counts for this instance (Pacemaker's rules)."""
    base = _strip(rsc.id)
    clone = rsc.top()
    if not rsc.unique:
        active = next(
            (
                m
                for child in clone.children
                for m in _members_named(child, base)
                if node in m.running_on
            ),
            None,
        )
        if active is rsc:
            return _allowed(rsc, node)
        if active is None and any(
            node.id in m.known_on for child in clone.children for m in _members_named(child, base)
        ):
            return _allowed(rsc, node)
    if not rsc.running_on and not rsc.known_on:
        return _allowed(rsc, node)
    if node.id in rsc.known_on or node in rsc.running_on:
        return _allowed(rsc, node)
    return False


def _attr_score(node: Node, name: str) -> int | None:
    value = node.attrs.get(f"master-{name}")
    if value is None:
        return None
    try:
        return parse_score(value)
    except ScoreError:
        return 0


def _attribute_node(rsc: Rsc, node: Node) -> Node:
    """Where a replica's node attributes live: with container-attribute-target=host, the
    agent inside a bundle sets them on the node running the container, not the guest."""
    if not node.is_guest or node.remote_rsc is None or node.remote_rsc.container is None:
        return node
    owner: Rsc | None = rsc
    while owner is not None:
        target = owner.meta.get("container-attribute-target")
        if target is not None:
            break
        owner = owner.parent
    if target != "host":
        return node
    running = node.remote_rsc.container.running_on
    return running[0] if running else node


def promotion_score(rsc: Rsc, node: Node | None) -> tuple[int, bool]:
    """The node attribute score for promoting rsc on node, and whether none was set."""
    if node is None:
        return 0, True
    if rsc.children:
        total, default = 0, True
        for child in rsc.children:
            member_score, child_default = promotion_score(child, node)
            default = default and child_default
            total += member_score
        return total, default
    if not _score_applies(rsc, node):
        return 0, True
    attr_node = _attribute_node(rsc, node)
    score = _attr_score(attr_node, rsc.clone_name or rsc.id)
    if score is None and not rsc.unique and _strip(rsc.id) != rsc.id:
        score = _attr_score(attr_node, _strip(rsc.id))
    if score is None:
        return 0, True
    return score, False


def add_promotion_scores(cluster: Cluster, clone: Rsc) -> None:
    """Positive promotion scores count for placing the instances too (less shuffling)."""
    for child in clone.children:
        allowed = child.allowed
        if allowed is None:
            continue
        for nid, current in list(allowed.items()):
            node = cluster.node_by_id[nid]
            if not node.can_run_resources():
                continue
            score, _ = promotion_score(child, node)
            if score > 0:
                allowed[nid] = add(current, score)
            # the best score also orders the instances for placement
            child.priority = max(child.priority, score)


# --- choosing roles -----------------------------------------------------------------------


def _set_current_unpromoted(rsc: Rsc) -> None:
    if rsc.role == Role.STARTED:
        rsc.role = Role.UNPROMOTED
    for child in rsc.children:
        _set_current_unpromoted(child)


def _apply_coloc_to_priority(dependent: Rsc, primary: Rsc, coloc: Coloc) -> None:
    if primary.allocated_to is None or dependent.allocated_to is None:
        return
    attr = coloc.node_attribute or "#uname"
    if dependent.allocated_to.attrs.get(attr) != primary.allocated_to.attrs.get(attr):
        if coloc.score >= INFINITY and coloc.dependent_role == Role.PROMOTED:
            dependent.priority = -INFINITY
        return
    if coloc.primary_role != Role.UNKNOWN and coloc.primary_role != primary.next_role:
        return
    factor = -1 if coloc.dependent_role == Role.UNPROMOTED else 1
    dependent.priority = add(factor * coloc.score, dependent.priority)


def _compatible_instance(node: Node | None, clone: Rsc, role: Role) -> Rsc | None:
    if node is None:
        return None
    for child in clone.children:
        if role != Role.UNKNOWN and _state(child, False) != role:
            continue
        if _location(child) is node:
            return child
    return None


def _coloc_priority(cluster: Cluster, instance: Rsc, primary: Rsc, coloc: Coloc) -> None:
    """A colocation of the instance (as dependent) applied to its promotion priority."""
    if primary.variant == Variant.CLONE:
        if primary.provisional:
            return
        if primary.promotable and coloc.primary_role != Role.UNKNOWN:
            if coloc.dependent_role == Role.PROMOTED:
                found = _compatible_instance(instance.allocated_to, primary, coloc.primary_role)
                if found is not None:
                    instance.priority = add(instance.priority, coloc.score)
                elif coloc.score >= INFINITY:
                    instance.priority = -INFINITY
            return
        dependent_clone = coloc.dependent
        if dependent_clone.variant == Variant.CLONE and dependent_clone.interleave:
            if dependent_clone.clone_node_max == primary.clone_node_max:
                found = _compatible_instance(instance.allocated_to, primary, Role.UNKNOWN)
                if found is not None:
                    _coloc_priority(cluster, instance, found, coloc)
                return
        if coloc.score >= INFINITY:
            return
        for child in primary.children:
            _coloc_priority(cluster, instance, child, coloc)
        return
    if primary.variant == Variant.GROUP:
        if primary.provisional or not primary.children:
            return
        if primary.colocated:
            member = primary.children[-1] if coloc.score >= INFINITY else primary.children[0]
            _coloc_priority(cluster, instance, member, coloc)
        else:
            for child in primary.children:
                _coloc_priority(cluster, instance, child, coloc)
        return
    if primary.provisional:
        return
    if coloc.dependent_role >= Role.UNPROMOTED:
        _apply_coloc_to_priority(instance, primary, coloc)


def _set_instance_priority(cluster: Cluster, clone: Rsc, instance: Rsc) -> None:
    if _state(instance, True) == Role.STARTED:
        _set_current_unpromoted(instance)
    chosen = _location(instance)
    if chosen is None:
        return
    next_role = _state(instance, False)
    if next_role in (Role.STARTED, Role.UNKNOWN):
        score, default = promotion_score(instance, chosen)
        # without any score, only a location constraint can make an instance promotable
        instance.priority = -1 if default else score
    elif next_role in (Role.UNPROMOTED, Role.STOPPED):
        instance.priority = -INFINITY
    for scores in [*instance.promoted_locations, *clone.promoted_locations]:
        if chosen.id in scores:
            instance.priority = add(instance.priority, scores[chosen.id])
    if instance.variant == Variant.PRIMITIVE:
        for coloc in list(instance.this_with):
            _coloc_priority(cluster, instance, coloc.primary, coloc)
    instance.sort_index = INFINITY if next_role == Role.PROMOTED else instance.priority


def _cmp_promotion(a: Rsc, b: Rsc) -> int:
    from hakeeper.scheduler.clone import _cmp_instances

    if a.sort_index != b.sort_index:
        return -1 if a.sort_index > b.sort_index else 1
    role_a, role_b = _state(a, True), _state(b, True)
    if role_a != role_b:
        return -1 if role_a > role_b else 1
    return _cmp_instances(a, b)


def _sort_instances(cluster: Cluster, clone: Rsc) -> None:
    from hakeeper.scheduler import placement

    clone.merging = True
    allowed = clone.allowed if clone.allowed is not None else {}
    for child in clone.children:
        if child.sort_index < 0:
            continue
        chosen = _location(child)
        if chosen is not None and chosen.id in allowed:
            allowed[chosen.id] = add(child.sort_index, allowed[chosen.id])
    clone.allowed = allowed
    for coloc in list(clone.this_with):
        if coloc.dependent_role != Role.PROMOTED:
            continue
        clone.allowed = placement.merge_weights(
            cluster,
            coloc.primary,
            clone.id,
            clone.allowed,
            coloc.node_attribute,
            coloc.score / INFINITY,
            rollback=coloc.score < INFINITY,
        )
    for coloc in list(clone.with_this):
        if coloc.primary_role != Role.PROMOTED or not placement.has_influence(coloc):
            continue
        clone.allowed = placement.merge_weights(
            cluster,
            coloc.dependent,
            clone.id,
            clone.allowed,
            coloc.node_attribute,
            coloc.score / INFINITY,
            rollback=True,
            only_positive=True,
        )
    if clone.ticket_blocks_promotion:
        placement.resource_location(cluster, clone, None, -INFINITY, "__stateful_without_ticket__")
    allowed = clone.allowed or {}
    for child in clone.children:
        chosen = _location(child)
        if not child.managed and child.next_role == Role.PROMOTED:
            child.sort_index = INFINITY
        elif chosen is not None and child.sort_index >= 0 and chosen.id in allowed:
            child.sort_index = allowed[chosen.id]
    clone.children.sort(key=cmp_to_key(_cmp_promotion))
    clone.merging = False


def _node_to_promote_on(cluster: Cluster, clone: Rsc, rsc: Rsc) -> Node | None:
    for child in rsc.children:
        if _node_to_promote_on(cluster, clone, child) is None:
            return None
    node = _location(rsc)
    if node is None:
        return None
    if not rsc.managed:
        if _state(rsc, True) != Role.PROMOTED:
            return None
    elif rsc.priority < 0 or not node.can_run_resources():
        return None
    if node.is_guest and node.remote_rsc is not None:
        container = node.remote_rsc.container
        if container is not None and container.allocated_to is None:
            return None  # a guest whose container will not run anywhere cannot host a promotion
    if node.id not in (clone.allowed or {}):
        return None
    if clone.count.get(node.id, 0) < clone.promoted_node_max or not rsc.managed:
        return node
    return None


def _set_next_unpromoted(rsc: Rsc) -> None:
    if not _assigned_nodes(rsc):
        rsc.next_role = Role.STOPPED
        rsc.next_role_reason = "stopped instance"
    else:
        rsc.next_role = Role.UNPROMOTED
        rsc.next_role_reason = "unpromoted instance"
    for child in rsc.children:
        _set_next_unpromoted(child)


def _set_next_promoted(rsc: Rsc) -> None:
    if rsc.next_role == Role.UNKNOWN:
        rsc.next_role = Role.PROMOTED
        rsc.next_role_reason = "promoted instance"
    for child in rsc.children:
        _set_next_promoted(child)


def set_instance_roles(cluster: Cluster, clone: Rsc) -> list[tuple[str, str, int]]:
    """Choose the promoted instances; returns (instance, node, score) as crm_simulate shows."""
    clone.count = {}  # from here on: promoted instances per node
    for child in clone.children:
        _set_instance_priority(cluster, clone, child)
    _sort_instances(cluster, clone)
    shown: list[tuple[str, str, int]] = []
    promoted = 0
    opts = cluster.options
    for child in clone.children:
        where = _location(child)
        shown.append((child.id, where.uname if where is not None else "none", child.sort_index))
        chosen = None
        if child.sort_index >= 0 and (promoted < clone.promoted_max or not clone.managed):
            chosen = _node_to_promote_on(cluster, clone, child)
        if chosen is None or (
            _state(child, True) < Role.PROMOTED
            and not opts.have_quorum
            and opts.no_quorum_policy == "freeze"
        ):
            _set_next_unpromoted(child)
            continue
        clone.count[chosen.id] = clone.count.get(chosen.id, 0) + 1
        _set_next_promoted(child)
        promoted += 1
    return shown


# --- colocations with a promotable clone as primary -----------------------------------------


def colocation_with_promotable(
    cluster: Cluster, dependent: Rsc, primary: Rsc, coloc: Coloc
) -> None:
    """A dependent placed relative to the instances of primary in coloc's role."""
    affected: list[Node] = []
    attr = coloc.node_attribute or "#uname"
    for child in primary.children:
        node = _location(child)
        if node is None or _state(child, False) != coloc.primary_role:
            continue
        if coloc.score < INFINITY:
            value = node.attrs.get(attr)
            allowed = dependent.allowed or {}
            for nid in allowed:
                if cluster.node_by_id[nid].attrs.get(attr) == value:
                    allowed[nid] = add(allowed[nid], coloc.score)
        affected.append(node)
    if coloc.score >= INFINITY and (
        coloc.dependent_role != Role.PROMOTED or coloc.primary_role != Role.PROMOTED
    ):
        keep = {n.id for n in affected}
        allowed = dependent.allowed or {}
        for nid in allowed:
            if nid not in keep:
                allowed[nid] = -INFINITY


# --- actions and orderings ----------------------------------------------------------------


def _role_changes(rsc: Rsc) -> tuple[bool, bool]:
    demoting = promoting = False
    for member in rsc.primitives():
        for action in member.actions:
            if action.optional:
                continue
            if action.task == "demote":
                demoting = True
            elif action.task == "promote":
                promoting = True
    return demoting, promoting


def create_promotable_actions(cluster: Cluster, clone: Rsc) -> None:
    from hakeeper.scheduler.actions import custom_action

    demoting = promoting = False
    for child in clone.children:
        d, p = _role_changes(child)
        demoting = demoting or d
        promoting = promoting or p
    from hakeeper.scheduler.notify import create_role_pseudo_actions

    for task, complete, optional in (
        ("promote", "promoted", not promoting),
        ("demote", "demoted", not demoting),
    ):
        for name in (task, complete):
            action = custom_action(cluster, clone, name, None, optional, pseudo=True)
            action.flags |= AF.RUNNABLE
        create_role_pseudo_actions(cluster, clone, task)


def clone_orderings(cluster: Cluster, clone: Rsc) -> None:
    """The clone-level orderings of a promotable clone, before its instances' ones."""
    from hakeeper.scheduler.actions import new_order

    new_order(cluster, clone, "demoted", None, clone, "stop", None, OF.OPTIONAL)
    new_order(cluster, clone, "running", None, clone, "promote", None, OF.RUNNABLE_LEFT)


def instance_orderings(cluster: Cluster, clone: Rsc) -> None:
    """Demote before promote, and the clone's promote/demote pseudo-actions around them."""
    from hakeeper.scheduler.actions import new_order

    for first, then in (
        ("stopped", "start"),
        ("stopped", "promote"),
        ("demoted", "stop"),
        ("demoted", "start"),
        ("demoted", "promote"),
        ("running", "promote"),
        ("demote", "demoted"),
    ):
        new_order(cluster, clone, first, None, clone, then, None, OF.OPTIONAL)
    previous: Rsc | None = None
    for child in clone.children:
        new_order(cluster, child, "demote", None, child, "promote", None, OF.OPTIONAL)
        new_order(cluster, clone, "promote", None, child, "promote", None, OF.OPTIONAL)
        new_order(cluster, child, "promote", None, clone, "promoted", None, OF.OPTIONAL)
        if previous is not None and clone.ordered:
            new_order(cluster, previous, "promote", None, child, "promote", None, OF.OPTIONAL)
        new_order(cluster, clone, "demote", None, child, "demote", None, OF.IMPLIES_FIRST_PRINTED)
        new_order(cluster, child, "demote", None, clone, "demoted", None, OF.IMPLIES_THEN_PRINTED)
        if previous is not None and clone.ordered:
            new_order(cluster, child, "demote", None, previous, "demote", None, OF.OPTIONAL)
        previous = child


def primitive_orderings(cluster: Cluster, rsc: Rsc) -> None:
    """Demote before stop, start before promote, for a primitive that has roles."""
    from hakeeper.scheduler.actions import new_order

    if not rsc.uber_parent().promotable and rsc.role <= Role.UNPROMOTED:
        return
    new_order(cluster, rsc, "demote", None, rsc, "stop", None, OF.PROMOTED_IMPLIES_FIRST)
    new_order(cluster, rsc, "start", None, rsc, "promote", None, OF.RUNNABLE_LEFT)
