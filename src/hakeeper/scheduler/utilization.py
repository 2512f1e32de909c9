"""Utilization: node capacities, what resources use, and placement-strategy.

With placement-strategy utilization, minimal or balanced, a resource (with everything
colocated with it that is still unassigned) goes only to a node with enough remaining
capacity; balanced also prefers the node with the most capacity left. The default
strategy ignores utilization. A node's capacity shrinks as resources are assigned to it.
"""

from __future__ import annotations

import re

from hakeeper.model.config import AttrSet
from hakeeper.model.scores import INFINITY
from hakeeper.scheduler.cluster import Cluster
from hakeeper.scheduler.roles import roles_allow_colocation
from hakeeper.scheduler.rules import RuleContext, resolve_sets
from hakeeper.scheduler.working import Node, Rsc, Variant

_LEADING_INT = re.compile(r"\s*([-+]?\d+)")


def _value(text: str | None) -> int:
    """An integer utilization value; what is not one counts as 0."""
    if text is None:
        return 0
    match = _LEADING_INT.match(text)
    return int(match.group(1)) if match else 0


def unpack_utilization(cluster: Cluster, sets: tuple[AttrSet, ...]) -> dict[str, int]:
    values = resolve_sets(sets, RuleContext(now=cluster.now))
    return {name: _value(value) for name, value in values.items()}


def strategy_uses_utilization(cluster: Cluster) -> bool:
    return cluster.options.placement_strategy != "default"


# --- node capacity ----------------------------------------------------------------------------


def consume(node: Node, rsc: Rsc) -> None:
    for name, value in rsc.utilization.items():
        node.utilization[name] = node.utilization.get(name, 0) - value


def release(node: Node, rsc: Rsc) -> None:
    for name, value in rsc.utilization.items():
        node.utilization[name] = node.utilization.get(name, 0) + value


def compare_capacities(node1: Node, node2: Node) -> int:
    """<0 if node1 has more free capacity (counted per attribute), >0 if node2 has."""
    result = 0
    for name in {*node1.utilization, *node2.utilization}:
        c1 = node1.utilization.get(name, 0)
        c2 = node2.utilization.get(name, 0)
        if c1 > c2:
            result -= 1
        elif c1 < c2:
            result += 1
    return result


def _enough(node: Node, needed: dict[str, int]) -> bool:
    return all(value <= node.utilization.get(name, 0) for name, value in needed.items())


# --- what a resource brings along ---------------------------------------------------------------


def _is_clone(rsc: Rsc) -> bool:
    return rsc.variant == Variant.CLONE


def colocated_resources(rsc: Rsc, orig: Rsc | None, found: list[Rsc]) -> list[Rsc]:
    """rsc and everything mandatorily colocated with it, transitively, in Pacemaker's order."""
    if orig is None:
        orig = rsc
    if rsc in found:
        return found
    if rsc.variant == Variant.GROUP:
        in_clone = rsc.parent is not None and _is_clone(rsc.parent)
        members = rsc.children if rsc.colocated or in_clone else rsc.children[:1]
        for member in members:
            found = colocated_resources(member, orig, found)
    found.append(rsc)
    for coloc in rsc.this_with:
        primary = coloc.primary
        if primary is orig:
            continue
        if coloc.score == INFINITY and roles_allow_colocation(rsc, primary, coloc):
            found = colocated_resources(primary, orig, found)
    for coloc in rsc.with_this:
        dependent = coloc.dependent
        if dependent is orig:
            continue
        if _is_clone(rsc) and not _is_clone(dependent):
            continue
        if coloc.score == INFINITY and roles_allow_colocation(dependent, rsc, coloc):
            found = colocated_resources(dependent, orig, found)
    return found


def _add_utilization(rsc: Rsc, every: list[Rsc], total: dict[str, int]) -> None:
    if not rsc.provisional:
        return
    if rsc.variant == Variant.PRIMITIVE:
        for name, value in rsc.utilization.items():
            total[name] = total.get(name, 0) + value
    elif rsc.variant == Variant.GROUP:
        in_clone = rsc.parent is not None and _is_clone(rsc.parent)
        members = rsc.children if rsc.colocated or in_clone else rsc.children[:1]
        for member in members:
            if member.provisional and member not in every:
                _add_utilization(member, every, total)
    elif rsc.variant == Variant.CLONE:
        existing = False
        for child in rsc.children:
            if child in every:
                existing = True
                continue
            if any(member in every for member in child.children):
                _add_utilization(child, every, total)
                existing = True
        if not existing and rsc.children:
            _add_utilization(rsc.children[0], every, total)


# --- banning nodes that are too small ---------------------------------------------------------


def ban_insufficient_capacity(cluster: Cluster, rsc: Rsc) -> Node | None:
    """Ban rsc from nodes without room for it (and, if some node has room for all, for
    what is colocated with it). Returns the node with most room when none has room for all.
    """
    from hakeeper.scheduler.placement import resource_location

    if not strategy_uses_utilization(cluster):
        return None
    every = colocated_resources(rsc, None, [])
    if rsc not in every:
        every.append(rsc)
    needed: dict[str, int] = {}
    for member in every:
        _add_utilization(member, every, needed)
    allowed = rsc.allowed or {}
    candidates = [
        cluster.node_by_id[nid]
        for nid, score in allowed.items()
        if score >= 0 and cluster.node_by_id[nid].can_run_resources()
    ]
    any_capable = False
    most_capable: Node | None = None
    for node in candidates:
        if _enough(node, needed):
            any_capable = True
        if most_capable is None or compare_capacities(node, most_capable) < 0:
            most_capable = node
    if any_capable:
        for node in candidates:
            if not _enough(node, needed):
                resource_location(cluster, rsc, node, -INFINITY, "__limit_utilization__")
        return None
    for node in candidates:
        if not _enough(node, rsc.utilization):
            resource_location(cluster, rsc, node, -INFINITY, "__limit_utilization__")
    return most_capable


def sort_balanced(cluster: Cluster, scores: dict[str, int], active: Node | None) -> list[Node]:
    """Best node first: score, then most capacity left, fewest resources, current, name."""
    from functools import cmp_to_key

    by_id = cluster.node_by_id

    def weight(node: Node) -> int:
        return scores[node.id] if node.can_run_resources() else -INFINITY

    def cmp(a: Node, b: Node) -> int:
        wa, wb = weight(a), weight(b)
        if wa != wb:
            return -1 if wa > wb else 1
        capacity = compare_capacities(a, b)
        if capacity:
            return -1 if capacity < 0 else 1
        if a.num_resources != b.num_resources:
            return -1 if a.num_resources < b.num_resources else 1
        if active is not None and (a is active or b is active):
            return -1 if a is active else 1
        return (a.uname > b.uname) - (a.uname < b.uname)

    return sorted((by_id[nid] for nid in scores), key=cmp_to_key(cmp))
