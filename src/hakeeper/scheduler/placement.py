"""Where resources go: location scores, colocation, stickiness, fail limits, assignment."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from functools import cmp_to_key

from hakeeper.model.config import Colocation, Location, ResourceSet, Role
from hakeeper.model.scores import INFINITY, ScoreError, add, parse_score
from hakeeper.reports import CommandError, Report, codes
from hakeeper.scheduler.cluster import Cluster, fail_count
from hakeeper.scheduler.roles import roles_allow_colocation
from hakeeper.scheduler.rules import RuleContext, eval_rule, rule_score
from hakeeper.scheduler.working import Coloc, Node, Rsc, Variant

INFINITY_HACK = INFINITY * -100


def _ensure_allowed(cluster: Cluster, rsc: Rsc) -> dict[str, int]:
    if rsc.allowed is None:
        rsc.allowed = {}
        if cluster.options.symmetric:
            for node in cluster.nodes:
                if not node.bundle_node:  # only a bundle's own instance runs there
                    rsc.allowed[node.id] = 0
    return rsc.allowed


def resource_location(cluster: Cluster, rsc: Rsc, node: Node | None, score: int, tag: str) -> None:
    """Add score for rsc on node (every node if None), recursing into children."""
    nodes = cluster.nodes if node is None else [node]
    allowed = _ensure_allowed(cluster, rsc)
    for n in nodes:
        allowed[n.id] = add(allowed.get(n.id, _base(n)), score)
    for child in rsc.children:
        resource_location(cluster, child, node, score, tag)


def _base(node: Node) -> int:
    """A node's score for a resource before any constraint (a bundle's guest: banned)."""
    return -INFINITY if node.bundle_node else 0


def init_allowed(cluster: Cluster) -> None:
    for rsc in cluster.all_resources():
        _ensure_allowed(cluster, rsc)
        if rsc.orphan and rsc.managed:
            resource_location(cluster, rsc, None, -INFINITY, "__orphan_do_not_run__")
        if rsc.banned_everywhere:
            resource_location(cluster, rsc, None, -INFINITY, "multiple-active=stop_only")
        if rsc.is_remote_node and rsc.container is not None and not cluster.options.symmetric:
            # a guest's connection goes wherever its container goes
            resource_location(cluster, rsc, None, 0, "remote_connection_default")
    for rsc in cluster.resources:
        if rsc.variant == Variant.BUNDLE:
            from hakeeper.scheduler.bundle import init_allowed as init_bundle

            init_bundle(cluster, rsc)


def apply_node_health(cluster: Cluster) -> None:
    """#health-* node attributes become scores for every resource (node-health-strategy)."""
    opts = cluster.options
    strategy = opts.health_strategy
    if strategy in ("none", ""):
        return
    if strategy == "migrate-on-red":
        red, yellow, green = -INFINITY, 0, 0
    elif strategy == "only-green":
        red, yellow, green = -INFINITY, -INFINITY, 0
    else:
        red = _score_or_zero(opts.health_red)
        yellow = _score_or_zero(opts.health_yellow)
        green = _score_or_zero(opts.health_green)
    for node in cluster.nodes:
        total = 0
        for key, value in node.attrs.items():
            if not key.startswith("#health"):
                continue
            try:
                total = add(total, parse_score(value, red=red, yellow=yellow, green=green))
            except ScoreError:
                continue
        if total != 0:
            for rsc in cluster.resources:
                resource_location(cluster, rsc, node, total, "health")


def _score_or_zero(value: str) -> int:
    try:
        return parse_score(value)
    except ScoreError:
        return 0


# --- location constraints -----------------------------------------------------------------


def _score_of(cluster: Cluster, value: str | None, where: str) -> int:
    if value is None:
        return 0
    try:
        return parse_score(value)
    except ScoreError:
        raise CommandError(
            Report.error(
                codes.CIB_BAD_SCORE,
                f"'{value}' is not a score",
                where=where,
                hint="use an integer, INFINITY or -INFINITY",
            )
        ) from None


def _targets(cluster: Cluster, rsc_id: str | None, pattern: str | None) -> list[Rsc]:
    if rsc_id is not None:
        rsc = cluster.rsc_by_id.get(rsc_id)
        if rsc is None and rsc_id in cluster.clone_of:
            return [cluster.clone_of[rsc_id]]  # a cloned resource's id names its clone
        if rsc is None:
            return _tag_members(cluster, rsc_id)
        return [rsc]
    if pattern is not None:
        try:
            regex = re.compile(pattern)
        except re.error:
            return []
        return [r for r in cluster.all_resources() if regex.fullmatch(r.id) or regex.match(r.id)]
    return []


def _tag_members(cluster: Cluster, tag_id: str) -> list[Rsc]:
    if any(t.id == tag_id for t in cluster.cib.configuration.templates):
        return [
            r for r in cluster.primitives() if r.config is not None and r.config.template == tag_id
        ]
    for tag in cluster.cib.configuration.tags:
        if tag.id == tag_id:
            return [cluster.rsc_by_id[r] for r in tag.refs if r in cluster.rsc_by_id]
    return []


def apply_locations(cluster: Cluster) -> None:
    source = cluster.cib.source or "<cib>"
    for cons in cluster.cib.configuration.constraints:
        if not isinstance(cons, Location):
            continue
        where = f"{source}:{cons.line}"
        if cons.sets:
            targets = [
                t for s in cons.sets for r in s.resources for t in _targets(cluster, r, None)
            ]
        else:
            targets = _targets(cluster, cons.rsc, cons.rsc_pattern)
        if not targets:
            continue
        role = Role.parse(cons.role) if cons.role else None
        if role == Role.PROMOTED:
            for rsc in targets:
                _promoted_location(cluster, rsc, cons, where, all_rules=True)
            continue
        if role is not None and role not in (Role.UNKNOWN, Role.STARTED):
            if role in (Role.PROMOTED, Role.UNPROMOTED):
                continue  # role-specific locations matter only for promotable clones
        for rsc in targets:
            _apply_location(cluster, rsc, cons, where)
            _promoted_location(cluster, rsc, cons, where, all_rules=False)


def _promoted_location(
    cluster: Cluster, rsc: Rsc, cons: Location, where: str, *, all_rules: bool
) -> None:
    """Scores for the promoted role: they count when a promotable clone picks its roles."""
    if not rsc.promotable:
        return
    if cons.node is not None:
        node = cluster.node_by_name.get(cons.node)
        if node is not None and all_rules:
            rsc.promoted_locations.append({node.id: _score_of(cluster, cons.score, where)})
        return
    for rule in cons.rules:
        role = Role.parse(rule.role) if rule.role is not None else None
        if not (role == Role.PROMOTED or (all_rules and role is None)):
            continue
        scores: dict[str, int] = {}
        for node in cluster.nodes:
            ctx = RuleContext(node_attrs=node.attrs, now=cluster.now, role=Role.PROMOTED)
            if eval_rule(rule, ctx):
                scores[node.id] = rule_score(rule, node.attrs)
        rsc.promoted_locations.append(scores)


def _apply_location(cluster: Cluster, rsc: Rsc, cons: Location, where: str) -> None:
    discovery = cons.resource_discovery
    if cons.node is not None:
        node = cluster.node_by_name.get(cons.node)
        if node is None:
            return
        score = _score_of(cluster, cons.score, where)
        _constraint_location(cluster, rsc, [(node, score)])
        _set_discovery(rsc, node, discovery)
        return
    if not cons.rules:
        return
    for rule in cons.rules:
        matched: list[tuple[Node, int]] = []
        for node in cluster.nodes:
            ctx = RuleContext(node_attrs=node.attrs, now=cluster.now)
            if rule.role is not None:
                r = Role.parse(rule.role)
                if r in (Role.PROMOTED, Role.UNPROMOTED):
                    continue
                ctx = RuleContext(node_attrs=node.attrs, now=cluster.now, role=r)
            if eval_rule(rule, ctx):
                matched.append((node, rule_score(rule, node.attrs)))
                _set_discovery(rsc, node, discovery)
        _constraint_location(cluster, rsc, matched)


def _constraint_location(cluster: Cluster, rsc: Rsc, pairs: list[tuple[Node, int]]) -> None:
    """A location constraint's scores; in a colocated group only the first member gets them.

    The other members get the same nodes at score 0: they follow the first member anyway.
    """
    allowed = _ensure_allowed(cluster, rsc)
    for node, score in pairs:
        # a constraint's score stands alone where the node was not allowed yet (even a
        # bundle's guest node, which nothing else may use by default)
        allowed[node.id] = add(allowed.get(node.id, 0), score)
    zeroed = False
    for child in _located_children(rsc):
        _constraint_location(cluster, child, [(n, 0) for n, _ in pairs] if zeroed else pairs)
        if rsc.colocated and rsc.variant == Variant.GROUP:
            zeroed = True


_DISCOVERY_RANK = {"always": 0, "never": 1, "exclusive": 2}


def _set_discovery(rsc: Rsc, node: Node, mode: str) -> None:
    if mode in ("never", "exclusive"):
        rank = _DISCOVERY_RANK[mode]
        for member in _descendants(rsc):
            if _DISCOVERY_RANK.get(member.discover_mode.get(node.id, "always"), 0) < rank:
                member.discover_mode[node.id] = mode
                if mode == "exclusive":
                    member.exclusive_discover = True


def _descendants(rsc: Rsc) -> list[Rsc]:
    result = [rsc]
    for child in _located_children(rsc):
        result.extend(_descendants(child))
    return result


def apply_exclusive_discovery(cluster: Cluster) -> None:
    """resource-discovery=exclusive: only the nodes named so may run the resource."""
    for rsc in cluster.resources:
        if rsc.exclusive_discover:
            _ban_undiscovered(cluster, rsc)


def _located_children(rsc: Rsc) -> list[Rsc]:
    """Where a location constraint on rsc reaches: a bundle's containers and IPs only."""
    if rsc.bundle is not None:
        return [m for r in rsc.bundle.replicas for m in (r.container, r.ip) if m is not None]
    return rsc.children


def _ban_undiscovered(cluster: Cluster, rsc: Rsc) -> None:
    for child in _located_children(rsc):
        _ban_undiscovered(cluster, child)
    allowed = rsc.allowed or {}
    for node in cluster.nodes:
        mode = "never" if node.bundle_node else rsc.discover_mode.get(node.id, "always")
        if node.id in allowed and mode != "exclusive":
            allowed[node.id] = -INFINITY


def apply_stickiness_and_failures(cluster: Cluster) -> None:
    for rsc in cluster.primitives():
        if not rsc.managed and len(rsc.running_on) == 1 and not rsc.ticket_frozen:
            # what the cluster does not manage stays where it is (crm_simulate shows
            # INFINITY there), and pulls what is colocated with it along
            resource_location(cluster, rsc, rsc.running_on[0], INFINITY, "unmanaged")
        if rsc.managed and rsc.stickiness != 0 and len(rsc.running_on) == 1:
            node = rsc.running_on[0]
            allowed = _ensure_allowed(cluster, rsc)
            if node.id in allowed or cluster.options.symmetric:
                resource_location(cluster, rsc, node, rsc.stickiness, "stickiness")
        for node in cluster.nodes:
            _check_migration_threshold(cluster, rsc, node)


def _check_migration_threshold(cluster: Cluster, rsc: Rsc, node: Node) -> None:
    if rsc.migration_threshold == 0 or rsc.failure_ignored:
        return
    count = fail_count(cluster, node, rsc)
    if count <= 0:
        return
    if max(rsc.migration_threshold - count, 0) == 0:
        failed = rsc if rsc.unique else rsc.top()
        resource_location(cluster, failed, node, -INFINITY, "__fail_limit__")


# --- colocation constraints ----------------------------------------------------------------


def unpack_colocations(cluster: Cluster) -> None:
    source = cluster.cib.source or "<cib>"
    for cons in cluster.cib.configuration.constraints:
        if not isinstance(cons, Colocation):
            continue
        where = f"{source}:{cons.line}"
        score = _score_of(cluster, cons.score, where)
        if cons.sets:
            _unpack_coloc_sets(cluster, cons, score, where)
            continue
        dependents = _targets(cluster, cons.rsc, None)
        primaries = _targets(cluster, cons.with_rsc, None)
        tagged = (_is_tag(cluster, cons.rsc), _is_tag(cluster, cons.with_rsc))
        if all(tagged):
            # Pacemaker 2.1.5 turns each side into a set and then colocates neither (seen
            # with crm_simulate, tags and templates alike)
            continue
        if any(tagged):
            # a tag on one side: each side a non-sequential set, every member with every one
            for dependent in dependents:
                for primary in primaries:
                    new_colocation(
                        cluster,
                        cons.id,
                        dependent,
                        primary,
                        score,
                        cons.rsc_role,
                        cons.with_rsc_role,
                        cons.node_attribute,
                        cons.influence,
                    )
            continue
        if not dependents or not primaries:
            continue
        new_colocation(
            cluster,
            cons.id,
            dependents[0],
            primaries[0],
            score,
            cons.rsc_role,
            cons.with_rsc_role,
            cons.node_attribute,
            cons.influence,
        )


def _is_tag(cluster: Cluster, rsc_id: str | None) -> bool:
    """A tag or template id (not a resource, nor a cloned resource naming its clone)."""
    return rsc_id is not None and rsc_id not in cluster.rsc_by_id and rsc_id not in cluster.clone_of


def _unpack_coloc_sets(cluster: Cluster, cons: Colocation, score: int, where: str) -> None:
    """Pacemaker's colocation sets (as crm_simulate 2.1.5 places them): inside a sequential
    set each member goes with the one before it (a negative score: against every one
    before it); a non-sequential set's members are not colocated with each other. Of two
    sets in a row the earlier one is the dependent: its first member if sequential, else
    every member, goes with the later set's last member if sequential, else every member."""

    def colocate(dependent: Rsc, primary: Rsc, value: int, roles: tuple[str | None, ...]) -> None:
        new_colocation(
            cluster,
            cons.id,
            dependent,
            primary,
            value,
            roles[0],
            roles[1],
            cons.node_attribute,
            cons.influence,
        )

    previous: tuple[ResourceSet, list[Rsc]] | None = None
    for rset in cons.sets:
        set_score = score if rset.score is None else _score_of(cluster, rset.score, where)
        members = [m for r in rset.resources for m in _targets(cluster, r, None)]
        sequential = rset.sequential if rset.sequential is not None else True
        if sequential and set_score > 0:
            for before, rsc in itertools.pairwise(members):
                colocate(rsc, before, set_score, (rset.role, rset.role))
        elif sequential and set_score < 0:
            for i, rsc in enumerate(members):
                for before in members[:i]:
                    colocate(rsc, before, set_score, (rset.role, rset.role))
        if previous is not None and score != 0:
            first_set, first_members = previous
            first_sequential = first_set.sequential if first_set.sequential is not None else True
            dependents = first_members[:1] if first_sequential else first_members
            primaries = members[-1:] if sequential else members
            for dependent in dependents:
                for primary in primaries:
                    colocate(dependent, primary, score, (first_set.role, rset.role))
        previous = (rset, members)


def new_colocation(
    cluster: Cluster,
    cid: str,
    dependent: Rsc,
    primary: Rsc,
    score: int,
    dependent_role: str | None,
    primary_role: str | None,
    node_attribute: str = "#uname",
    influence: bool | None = None,
) -> None:
    if score == 0 or dependent is primary:
        return
    dep_role = Role.parse(dependent_role) or Role.UNKNOWN
    pri_role = Role.parse(primary_role) or Role.UNKNOWN
    if dep_role == Role.STARTED:
        dep_role = Role.UNKNOWN
    if pri_role == Role.STARTED:
        pri_role = Role.UNKNOWN
    coloc = Coloc(
        cid,
        dependent,
        primary,
        score,
        dep_role,
        pri_role,
        node_attribute,
        dependent.critical if influence is None else influence,
    )
    insert_sorted(dependent.this_with, coloc, _cmp_this_with)
    insert_sorted(primary.with_this, coloc, _cmp_with_this)
    cluster.colocations.append(coloc)


def insert_sorted(items: list[Coloc], item: Coloc, cmp: Callable[[Coloc, Coloc], int]) -> None:
    """Insert before the first element not less than item (as GLib's insert_sorted)."""
    for index, existing in enumerate(items):
        if cmp(item, existing) <= 0:
            items.insert(index, item)
            return
    items.append(item)


def _cmp_this_with(a: Coloc, b: Coloc) -> int:
    return _cmp_rsc_priority(a.primary, b.primary)


def _cmp_with_this(a: Coloc, b: Coloc) -> int:
    return _cmp_rsc_priority(a.dependent, b.dependent)


def _cmp_rsc_priority(a: Rsc, b: Rsc) -> int:
    if a.priority > b.priority:
        return -1
    if a.priority < b.priority:
        return 1
    if a.variant > b.variant:
        return -1
    if a.variant < b.variant:
        return 1
    return -1 if a.id < b.id else (1 if a.id > b.id else 0)


# --- node sorting and assignment -----------------------------------------------------------


def _node_weight(node: Node, score: int) -> int:
    return score if node.can_run_resources() else -INFINITY


def sort_nodes(cluster: Cluster, scores: dict[str, int], active: Node | None) -> list[Node]:
    """Best node first: score, then fewest resources assigned, the current node, the name."""
    minimal = cluster.options.placement_strategy == "minimal"
    by_id = cluster.node_by_id
    if cluster.options.placement_strategy == "balanced":
        from hakeeper.scheduler.utilization import sort_balanced

        return sort_balanced(cluster, scores, active)

    def key(nid: str) -> tuple[int, int, int, str]:
        node = by_id[nid]
        weight = scores[nid] if node.can_run_resources() else -INFINITY
        if minimal:
            return (-weight, 0, 0, node.uname)
        return (-weight, node.num_resources, 0 if node is active else 1, node.uname)

    return [by_id[nid] for nid in sorted(scores, key=key)]


def _can_run_any(cluster: Cluster, scores: dict[str, int]) -> bool:
    for nid, score in scores.items():
        node = cluster.node_by_id[nid]
        if score >= 0 and node.can_run_resources():
            return True
    return False


def sort_resources(cluster: Cluster) -> list[Rsc]:
    """Resources in assignment order.

    With the default placement strategy Pacemaker keeps configuration order, sorted
    (stably) by priority; other strategies also weigh each resource's scores.
    """
    if cluster.options.placement_strategy == "default":
        return sorted(cluster.resources, key=lambda r: -r.priority)
    base = {n.id: 0 for n in cluster.nodes}
    nodes = sort_nodes(cluster, base, None)
    cache: dict[str, dict[str, int]] = {}

    def weights(rsc: Rsc) -> dict[str, int]:
        if rsc.id not in cache:
            cache[rsc.id] = merge_weights(
                cluster, rsc, rsc.id, None, None, 1.0, forward=True, init=True
            )
        return cache[rsc.id]

    def cmp(r1: Rsc, r2: Rsc) -> int:
        if r1.priority != r2.priority:
            return -1 if r1.priority > r2.priority else 1
        w1n = weights(r1)
        w2n = weights(r2)
        w1 = -INFINITY
        w2 = -INFINITY
        c1 = r1.current_node()
        if c1 is not None and c1.id in w1n:
            w1 = w1n[c1.id]
        c2 = r2.current_node()
        if c2 is not None and c2.id in w2n:
            w2 = w2n[c2.id]
        if w1 != w2:
            return -1 if w1 > w2 else 1
        for node in nodes:
            s1 = w1n.get(node.id, -INFINITY)
            s2 = w2n.get(node.id, -INFINITY)
            if s1 != s2:
                return -1 if s1 > s2 else 1
        return 0

    return sorted(cluster.resources, key=cmp_to_key(cmp))


def _best_score_matching(cluster: Cluster, rsc: Rsc, attr: str, value: str | None) -> int:
    best = -INFINITY
    for nid, score in (rsc.allowed or {}).items():
        node = cluster.node_by_id[nid]
        if score > best and node.can_run_resources() and node.attrs.get(attr) == value:
            best = score
    return best


def _add_matching(
    cluster: Cluster, work: dict[str, int], rsc: Rsc, attr: str, factor: float, only_positive: bool
) -> None:
    for nid in list(work):
        node = cluster.node_by_id[nid]
        score = _best_score_matching(cluster, rsc, attr, node.attrs.get(attr))
        if factor < 0 and score < 0:
            continue
        current = work[nid]
        if current == INFINITY_HACK:
            continue
        weight_f = factor * score
        weight = int(weight_f - 0.5) if weight_f < 0 else int(weight_f + 0.5)
        if weight == 0 and score != 0:
            weight = 1 if factor > 0 else -1 if factor < 0 else 0
        new_score = add(weight, current)
        if only_positive and new_score < 0 and current > 0:
            work[nid] = INFINITY_HACK
            continue
        if only_positive and new_score < 0 and current == 0:
            continue
        work[nid] = new_score


def merge_weights(
    cluster: Cluster,
    rsc: Rsc,
    primary_id: str,
    nodes: dict[str, int] | None,
    attr: str | None,
    factor: float,
    *,
    forward: bool = False,
    init: bool = False,
    rollback: bool = False,
    only_positive: bool = False,
) -> dict[str, int]:
    """Fold the scores of rsc (and what it is colocated with) into nodes, scaled by factor."""
    if rsc.merging:
        return nodes if nodes is not None else {}
    rsc.merging = True
    attr = attr or "#uname"
    nonempty_group = rsc.variant == Variant.GROUP and bool(rsc.children)
    if init:
        if nonempty_group:
            work = merge_weights(
                cluster,
                rsc.children[-1],
                primary_id,
                None,
                attr,
                factor,
                forward=forward,
                init=True,
                rollback=rollback,
                only_positive=only_positive,
            )
        else:
            work = dict(rsc.allowed or {})
    elif nonempty_group:
        work = merge_weights(
            cluster,
            rsc.children[0],
            primary_id,
            dict(nodes or {}),
            attr,
            factor,
            forward=forward,
            rollback=rollback,
            only_positive=only_positive,
        )
    else:
        work = dict(nodes or {})
        _add_matching(cluster, work, rsc, attr, factor, only_positive)

    if _can_run_any(cluster, work):
        multiplier = -1 if factor < 0 else 1
        if forward:
            links = [(c.primary, c) for c in rsc.this_with]
        elif nonempty_group:
            links = [(c.dependent, c) for c in rsc.children[-1].with_this if has_influence(c)]
        else:
            links = [(c.dependent, c) for c in rsc.with_this if has_influence(c)]
        for other, coloc in links:
            work = merge_weights(
                cluster,
                other,
                primary_id,
                work,
                coloc.node_attribute,
                multiplier * coloc.score / INFINITY,
                forward=forward,
                rollback=True,
                only_positive=only_positive,
            )
    elif rollback:
        rsc.merging = False
        return nodes if nodes is not None else {}

    if only_positive:
        for nid, score in work.items():
            if score == INFINITY_HACK:
                work[nid] = 1
    rsc.merging = False
    return work


def has_influence(coloc: Coloc) -> bool:
    return coloc.influence or not coloc.primary.running_on


def colocation_affects(dependent: Rsc, primary: Rsc, coloc: Coloc) -> bool:
    if primary.provisional:
        return False
    if not dependent.provisional:
        return False
    return roles_allow_colocation(dependent, primary, coloc)


def colocation_match(cluster: Cluster, dependent: Rsc, primary: Rsc, coloc: Coloc) -> None:
    attr = coloc.node_attribute
    value = None
    if primary.allocated_to is not None:
        value = primary.allocated_to.attrs.get(attr)
    elif coloc.score < 0:
        return
    work = dict(dependent.allowed or {})
    for nid in work:
        node = cluster.node_by_id[nid]
        if primary.allocated_to is None:
            work[nid] = add(-coloc.score, work[nid])
        elif node.attrs.get(attr) == value:
            if coloc.score < INFINITY:
                work[nid] = add(coloc.score, work[nid])
        elif coloc.score >= INFINITY:
            work[nid] = add(-coloc.score, work[nid])
    if _can_run_any(cluster, work) or coloc.score <= -INFINITY or coloc.score >= INFINITY:
        dependent.allowed = work


def apply_colocation_lh(cluster: Cluster, dependent: Rsc, primary: Rsc, coloc: Coloc) -> None:
    """dependent is placed relative to primary (which is assigned already)."""
    if dependent.variant == Variant.CLONE:
        for child in dependent.children:
            apply_colocation_lh(cluster, child, primary, coloc)
        return
    if dependent.variant == Variant.GROUP:
        if dependent.colocated and dependent.children:
            apply_colocation_lh(cluster, dependent.children[0], primary, coloc)
            return
        if coloc.score >= INFINITY:
            return
        for child in dependent.children:
            apply_colocation_lh(cluster, child, primary, coloc)
        return
    _apply_colocation_rh(cluster, dependent, primary, coloc)


def _apply_colocation_rh(cluster: Cluster, dependent: Rsc, primary: Rsc, coloc: Coloc) -> None:
    if primary.variant == Variant.BUNDLE:
        from hakeeper.scheduler.bundle import colocation_with_bundle

        colocation_with_bundle(cluster, dependent, primary, coloc)
        return
    if primary.variant == Variant.CLONE:
        from hakeeper.scheduler.clone import colocation_with_clone

        colocation_with_clone(cluster, dependent, primary, coloc)
        return
    if primary.variant == Variant.GROUP:
        if primary.provisional:
            return
        if primary.colocated and primary.children:
            member = primary.children[-1] if coloc.score >= INFINITY else primary.children[0]
            _apply_colocation_rh(cluster, dependent, member, coloc)
            return
        for child in primary.children:
            _apply_colocation_rh(cluster, dependent, child, coloc)
        return
    if colocation_affects(dependent, primary, coloc):
        colocation_match(cluster, dependent, primary, coloc)


def assign(cluster: Cluster, rsc: Rsc, prefer: Node | None = None) -> Node | None:
    if rsc.variant == Variant.BUNDLE:
        from hakeeper.scheduler.bundle import assign_bundle

        return assign_bundle(cluster, rsc)
    if rsc.variant == Variant.CLONE:
        from hakeeper.scheduler.clone import assign_clone

        return assign_clone(cluster, rsc)
    if rsc.variant == Variant.GROUP:
        return _assign_group(cluster, rsc, prefer)
    return _assign_primitive(cluster, rsc, prefer)


def _assign_group(cluster: Cluster, rsc: Rsc, prefer: Node | None) -> Node | None:
    if not rsc.provisional:
        return rsc.allocated_to
    if rsc.allocating:
        return None
    if not rsc.children:
        rsc.provisional = False
        return None
    rsc.allocating = True
    rsc.role = rsc.children[0].role
    _expand_group_colocations(rsc)
    group_node = None
    for child in rsc.children:
        node = assign(cluster, child, prefer)
        if group_node is None:
            group_node = node
    rsc.next_role = rsc.children[0].next_role
    rsc.allocating = False
    rsc.provisional = False
    rsc.allocated_to = group_node if rsc.colocated else None
    return rsc.allocated_to


def _expand_group_colocations(rsc: Rsc) -> None:
    """ "Group with R" becomes "first member with R"; "R with group", "R with the last
    member". Members after an unmanaged one also get the group's mandatory colocations:
    the internal chain no longer carries them past a member that stays where it is."""
    first = rsc.children[0]
    group_with = list(rsc.this_with)
    for coloc in group_with:
        insert_sorted(first.this_with, coloc, _cmp_this_with)
    any_unmanaged = not first.managed
    for member in rsc.children[1:]:
        if any_unmanaged:
            for coloc in group_with:
                if coloc.score >= INFINITY:
                    insert_sorted(member.this_with, coloc, _cmp_this_with)
        elif not member.managed:
            any_unmanaged = True
    rsc.this_with = []
    last = rsc.children[-1]
    for coloc in rsc.with_this:
        insert_sorted(last.with_this, coloc, _cmp_with_this)
    rsc.with_this = []


def _assign_primitive(cluster: Cluster, rsc: Rsc, prefer: Node | None) -> Node | None:
    if rsc.parent is not None and not rsc.parent.allocating:
        assign(cluster, rsc.parent, prefer)
    if not rsc.provisional:
        return rsc.allocated_to
    if rsc.allocating:
        return None
    rsc.allocating = True
    for coloc in list(rsc.this_with):
        primary = coloc.primary
        archive = None
        if coloc.dependent_role >= Role.PROMOTED or -INFINITY < coloc.score < 0:
            archive = dict(rsc.allowed or {})
        assign(cluster, primary, None)
        apply_colocation_lh(cluster, rsc, primary, coloc)
        if archive is not None and not _can_run_any(cluster, rsc.allowed or {}):
            rsc.allowed = archive
    for coloc in list(rsc.with_this):
        if not has_influence(coloc):
            continue
        rsc.allowed = merge_weights(
            cluster,
            coloc.dependent,
            rsc.id,
            rsc.allowed,
            coloc.node_attribute,
            coloc.score / INFINITY,
            rollback=True,
        )
    if rsc.next_role == Role.STOPPED:
        resource_location(cluster, rsc, None, -INFINITY, "target-role")
    elif (
        rsc.next_role > rsc.role
        and not cluster.options.have_quorum
        and cluster.options.no_quorum_policy == "freeze"
    ):
        rsc.next_role = rsc.role
    if cluster.options.stonith_enabled and not cluster.options.have_stonith_resource:
        rsc.managed = False
    if not rsc.managed:
        rsc.next_role = rsc.role
        _assign_node(cluster, rsc, rsc.current_node(), force=True)
    elif cluster.options.stop_all_resources:
        _assign_node(cluster, rsc, None, force=True)
    elif rsc.provisional:
        _choose_node(cluster, rsc, prefer)
    rsc.allocating = False
    if rsc.is_remote_node:
        _connection_assigned(cluster, rsc)
    return rsc.allocated_to


def _connection_assigned(cluster: Cluster, rsc: Rsc) -> None:
    """A remote node will be up if its connection runs (and then need not be fenced)."""
    node = cluster.node_by_name.get(rsc.id)
    if node is None:
        return
    if rsc.allocated_to is not None and rsc.next_role != Role.STOPPED:
        node.online = True
        if node.unseen:
            node.unclean = False
    else:
        node.shutdown = True


def _choose_node(cluster: Cluster, rsc: Rsc, prefer: Node | None) -> bool:
    if cluster.options.placement_strategy != "default":
        from hakeeper.scheduler.utilization import ban_insufficient_capacity

        most_free = ban_insufficient_capacity(cluster, rsc)
        if prefer is None:
            prefer = most_free
    allowed = rsc.allowed or {}
    nodes = sort_nodes(cluster, allowed, rsc.current_node()) if allowed else []
    best = nodes[0] if nodes else None
    chosen = None
    if prefer is not None and nodes:
        if prefer.id in allowed and best is not None:
            if allowed[prefer.id] >= allowed[best.id] and prefer.can_run_resources():
                chosen = prefer
    if chosen is None and best is not None:
        chosen = best
        unique_clone = (
            rsc.parent is not None and rsc.parent.variant == Variant.CLONE and rsc.parent.unique
        )
        if not unique_clone and allowed[chosen.id] > 0 and chosen.can_run_resources():
            running = rsc.current_node()
            if running is not None and running.can_run_resources():
                for other in nodes[1:]:
                    if allowed[other.id] != allowed[chosen.id]:
                        break
                    if other is running:
                        chosen = other
    return _assign_node(cluster, rsc, chosen, force=False)


def _assign_node(cluster: Cluster, rsc: Rsc, chosen: Node | None, *, force: bool) -> bool:
    allowed = rsc.allowed or {}
    if chosen is not None and not force:
        # a guest node may be chosen before it is up: its connection will bring it up
        if allowed.get(chosen.id, -INFINITY) < 0 or (
            not chosen.can_run_resources() and not chosen.is_guest
        ):
            chosen = None
    rsc.provisional = False
    if chosen is None:
        rsc.allocated_to = None
        if rsc.next_role != Role.STOPPED or rsc.next_role_reason is None:
            rsc.next_role_reason = "node availability"
        rsc.next_role = Role.STOPPED
        return False
    rsc.allocated_to = chosen
    chosen.num_resources += 1
    if rsc.utilization:
        from hakeeper.scheduler.utilization import consume

        consume(chosen, rsc)
    return True
