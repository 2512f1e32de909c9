"""Edits of the configuration model, as pure functions: Configuration in, Configuration out.

Ids of generated elements follow pcs and crm_resource (`RSC-meta_attributes`,
`RSC-meta_attributes-target-role`, `cli-prefer-RSC`, `cli-ban-RSC-on-NODE`, ...), so a
configuration edited here reads like one pcs edited. Every function raises CommandError
with a stable code for a bad request (unknown resource, duplicate id, bad score);
`check_references` and the parse of the rendered result catch the rest (validate.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace

from hakeeper.model.config import (
    AttrSet,
    Bundle,
    Clone,
    Colocation,
    Configuration,
    Constraint,
    Group,
    Location,
    NodeConfig,
    NvPair,
    Op,
    Order,
    Primitive,
    Resource,
    Ticket,
)
from hakeeper.model.scores import ScoreError, parse_score
from hakeeper.reports import CommandError, Report, codes

PROPERTY_SET = "cib-bootstrap-options"
_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_ID_BAD_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


# --- looking things up -----------------------------------------------------------------


def walk(resources: Iterable[Resource]) -> Iterator[Resource]:
    """Every resource, parents before their children."""
    for rsc in resources:
        yield rsc
        if isinstance(rsc, Group):
            yield from rsc.children
        elif isinstance(rsc, Clone):
            yield from walk((rsc.child,))
        elif isinstance(rsc, Bundle) and rsc.child is not None:
            yield rsc.child


def find_resource(config: Configuration, rsc_id: str) -> Resource | None:
    return next((r for r in walk(config.resources) if r.id == rsc_id), None)


def resource_ids(config: Configuration) -> list[str]:
    return [r.id for r in walk(config.resources)]


def require_resource(config: Configuration, rsc_id: str) -> Resource:
    rsc = find_resource(config, rsc_id)
    if rsc is None:
        known = resource_ids(config)
        raise CommandError(
            Report.error(
                codes.CIB_UNKNOWN_RESOURCE,
                f"no resource '{rsc_id}' in the configuration",
                where="resource",
                resource_id=rsc_id,
                hint=("known resources: " + ", ".join(known))
                if known
                else "the configuration has no resources yet: create one first",
            )
        )
    return rsc


def require_node(config: Configuration, name: str) -> NodeConfig:
    for node in config.nodes:
        if node.uname == name or node.id == name:
            return node
    raise CommandError(
        Report.error(
            codes.CIB_UNKNOWN_NODE,
            f"no node '{name}' in the configuration",
            where="node",
            node=name,
            hint="known nodes: "
            + (", ".join(n.uname for n in config.nodes) or "none")
            + " (add nodes with `hakeeper cluster setup`)",
        )
    )


def parent_of(config: Configuration, rsc_id: str) -> Resource | None:
    for rsc in walk(config.resources):
        if isinstance(rsc, Group) and any(c.id == rsc_id for c in rsc.children):
            return rsc
        if isinstance(rsc, (Clone, Bundle)) and rsc.child is not None and rsc.child.id == rsc_id:
            return rsc
    return None


# --- ids ---------------------------------------------------------------------------------


def all_ids(config: Configuration) -> set[str]:
    """The ids the configuration section uses (elements with an id attribute)."""
    ids: set[str] = set()

    def sets(attr_sets: Iterable[AttrSet]) -> None:
        for s in attr_sets:
            ids.add(s.id)
            ids.update(p.id for p in s.pairs)
            if s.rule is not None:
                ids.add(s.rule.id)

    sets(config.crm_config)
    sets(config.rsc_defaults)
    sets(config.op_defaults)
    for node in config.nodes:
        ids.add(node.id)
        sets(node.attributes)
        sets(node.utilization)
    for rsc in walk((*config.templates, *config.resources)):
        ids.add(rsc.id)
        sets(rsc.meta)
        if isinstance(rsc, Primitive):
            sets(rsc.params)
            sets(rsc.utilization)
            for op in rsc.ops:
                ids.add(op.id)
                sets(op.meta)
                sets(op.params)
    for c in config.constraints:
        ids.add(c.id)
        if not isinstance(c, Ticket):
            ids.update(s.id for s in c.sets)
        if isinstance(c, Location):
            ids.update(r.id for r in c.rules)
    ids.update(t.id for t in config.tags)
    return ids


def check_id(ident: str, what: str) -> None:
    """An id must be an XML name, as the CIB's schema requires."""
    if not _ID_RE.match(ident):
        raise CommandError(
            Report.error(
                codes.CIB_BAD_VALUE,
                f"'{ident}' is not a valid {what} id",
                where=what,
                id=ident,
                hint="start with a letter or '_', then use letters, digits, '_', '.' or '-'",
            )
        )


def check_new_id(config: Configuration, ident: str, what: str) -> None:
    check_id(ident, what)
    if ident in all_ids(config):
        raise CommandError(
            Report.error(
                codes.CIB_DUPLICATE_ID,
                f"id '{ident}' is already used in the configuration",
                where=what,
                id=ident,
                hint="choose another id, or delete the existing element",
            )
        )


def sanitize_id(text: str) -> str:
    """A valid id made from text, as pcs makes ids from names and values."""
    ident = _ID_BAD_CHARS.sub("_", text) or "_"
    return ident if _ID_RE.match(ident) else f"_{ident}"


def unique_id(used: set[str], base: str) -> str:
    ident = sanitize_id(base)
    if ident not in used:
        return ident
    n = 1
    while f"{ident}-{n}" in used:
        n += 1
    return f"{ident}-{n}"


def check_score(text: str, where: str) -> str:
    try:
        parse_score(text)
    except ScoreError:
        raise CommandError(
            Report.error(
                codes.CIB_BAD_SCORE,
                f"'{text}' is not a score",
                where=where,
                score=text,
                hint="use an integer, INFINITY or -INFINITY",
            )
        ) from None
    return text.strip()


# --- attribute sets ----------------------------------------------------------------------


def set_values(
    sets: tuple[AttrSet, ...],
    owner: str,
    suffix: str,
    values: Mapping[str, str | None],
    used: set[str],
) -> tuple[AttrSet, ...]:
    """Set (or, for None, remove) values in the first set without a rule, as pcs does;
    a set named OWNER-SUFFIX is created when there is none. Empty sets are dropped."""
    sets_list = list(sets)
    index = next((i for i, s in enumerate(sets_list) if s.rule is None), None)
    if index is None:
        if all(v is None for v in values.values()):
            return sets
        new_id = unique_id(used, f"{owner}-{suffix}")
        used.add(new_id)
        sets_list.append(AttrSet(new_id))
        index = len(sets_list) - 1
    target = sets_list[index]
    pairs = list(target.pairs)
    for name, value in values.items():
        position = next((i for i, p in enumerate(pairs) if p.name == name), None)
        if value is None:
            if position is not None:
                del pairs[position]
            continue
        if position is not None:
            pairs[position] = replace(pairs[position], value=value)
        else:
            pair_id = unique_id(used, f"{target.id}-{name}")
            used.add(pair_id)
            pairs.append(NvPair(pair_id, name, value))
    updated = replace(target, pairs=tuple(pairs))
    if updated.pairs or target.score is not None:
        sets_list[index] = updated
    else:
        del sets_list[index]
    return tuple(sets_list)


def values_of(sets: Iterable[AttrSet]) -> dict[str, str]:
    """The values of the sets without a rule; the first set naming a value wins."""
    found: dict[str, str] = {}
    for attr_set in sets:
        if attr_set.rule is None:
            for name, value in attr_set.values().items():
                found.setdefault(name, value)
    return found


# --- resources -----------------------------------------------------------------------------


def map_resource(
    config: Configuration, rsc_id: str, change: Callable[[Resource], Resource]
) -> Configuration:
    """Replace one resource (at any depth) by change(resource)."""
    require_resource(config, rsc_id)

    def visit(rsc: Resource) -> Resource:
        if rsc.id == rsc_id:
            return change(rsc)
        if isinstance(rsc, Group):
            children = tuple(visit(c) for c in rsc.children)
            return replace(rsc, children=tuple(c for c in children if isinstance(c, Primitive)))
        if isinstance(rsc, Clone):
            child = visit(rsc.child)
            assert isinstance(child, (Primitive, Group))
            return replace(rsc, child=child)
        if isinstance(rsc, Bundle) and rsc.child is not None:
            child = visit(rsc.child)
            assert isinstance(child, Primitive)
            return replace(rsc, child=child)
        return rsc

    return replace(config, resources=tuple(visit(r) for r in config.resources))


def set_meta(config: Configuration, rsc_id: str, values: Mapping[str, str | None]) -> Configuration:
    used = all_ids(config)
    return map_resource(
        config,
        rsc_id,
        lambda r: replace(r, meta=set_values(r.meta, r.id, "meta_attributes", values, used)),
    )


def set_params(
    config: Configuration, rsc_id: str, values: Mapping[str, str | None]
) -> Configuration:
    rsc = require_resource(config, rsc_id)
    if not isinstance(rsc, Primitive):
        raise CommandError(
            Report.error(
                codes.CIB_BAD_VALUE,
                f"'{rsc_id}' is a {type(rsc).__name__.lower()}: only "
                "primitives have instance attributes",
                where="resource",
                resource_id=rsc_id,
                hint="update the primitive inside it, or set meta attributes with `meta`",
            )
        )
    used = all_ids(config)
    return map_resource(
        config,
        rsc_id,
        lambda r: (
            replace(r, params=set_values(r.params, r.id, "instance_attributes", values, used))
            if isinstance(r, Primitive)
            else r
        ),
    )


def make_op(used: set[str], rsc_id: str, name: str, options: Mapping[str, str]) -> Op:
    """An <op> as pcs writes it: id RSC-NAME-interval-INTERVAL."""
    from hakeeper.cib.parse import parse_interval_ms

    interval = options.get("interval", "0s")
    interval_ms = parse_interval_ms(interval)
    if interval_ms is None:
        raise CommandError(
            Report.error(
                codes.CIB_BAD_VALUE,
                f"'{interval}' is not an interval",
                where=f"op {name}",
                hint="use e.g. 10s, 1min, 500ms or PT10S",
            )
        )
    op_id = options.get("id") or unique_id(used, f"{rsc_id}-{name}-interval-{interval}")
    check_id(op_id, "op")
    used.add(op_id)
    attributes = [("id", op_id), ("name", name), ("interval", interval)]
    attributes += [(k, v) for k, v in options.items() if k not in ("id", "name", "interval")]
    return Op(
        op_id,
        name,
        interval,
        interval_ms,
        timeout=options.get("timeout"),
        on_fail=options.get("on-fail"),
        attributes=tuple(attributes),
    )


def replace_ops(prim: Primitive, ops: Iterable[Op]) -> Primitive:
    """Put ops in place of the primitive's ops of the same name, as pcs resource update."""
    ops = list(ops)
    names = {op.name for op in ops}
    kept = [op for op in prim.ops if op.name not in names]
    return replace(prim, ops=tuple(kept + ops))


def add_resource(
    config: Configuration,
    rsc: Resource,
    *,
    group: str | None = None,
    before: str | None = None,
    after: str | None = None,
) -> Configuration:
    if before is not None and after is not None:
        raise CommandError(
            Report.error(
                codes.BAD_OPTION,
                "--before and --after cannot be used together",
                where="--before",
                hint="give one of them",
            )
        )
    if group is None:
        return replace(config, resources=(*config.resources, rsc))
    existing = find_resource(config, group)
    if existing is None and (before or after):
        raise CommandError(
            Report.error(
                codes.CIB_UNKNOWN_RESOURCE,
                f"'{before or after}' is not in group '{group}': the group is new, "
                "it has no members yet",
                where="--before" if before else "--after",
                resource_id=before or after,
                hint="leave out --before/--after to create the group, or name an existing group",
            )
        )
    if existing is None:  # pcs creates the group
        if not isinstance(rsc, Primitive):
            raise CommandError(
                Report.error(
                    codes.CIB_BAD_VALUE,
                    "only primitives can be put in a group",
                    where="--group",
                    hint="create the primitive in the group, then clone the group",
                )
            )
        check_new_id(config, group, "group")
        return replace(config, resources=(*config.resources, Group(group, (rsc,))))
    if not isinstance(existing, Group) or not isinstance(rsc, Primitive):
        raise CommandError(
            Report.error(
                codes.CIB_BAD_VALUE,
                f"'{group}' is not a group of primitives",
                where="--group",
                resource_id=group,
                hint="give the id of a group, or a new id to create one",
            )
        )
    children = list(existing.children)
    anchor = before or after
    if anchor is not None:
        index = next((i for i, c in enumerate(children) if c.id == anchor), None)
        if index is None:
            raise CommandError(
                Report.error(
                    codes.CIB_UNKNOWN_RESOURCE,
                    f"'{anchor}' is not in group '{group}'",
                    where="--before" if before else "--after",
                    resource_id=anchor,
                    hint="members: " + ", ".join(c.id for c in children),
                )
            )
        children.insert(index if before else index + 1, rsc)
    else:
        children.append(rsc)
    return map_resource(
        config, group, lambda g: replace(g, children=tuple(children)) if isinstance(g, Group) else g
    )


def remove_resource(config: Configuration, rsc_id: str) -> tuple[Configuration, list[str]]:
    """Delete a resource (and what it holds), and the constraints that named only it;
    constraints with sets lose it from their sets. Returns the removed constraints' ids.

    As pcs: deleting the last member of a group deletes the group; deleting the child of a
    clone deletes the clone."""
    rsc = require_resource(config, rsc_id)
    parent = parent_of(config, rsc_id)
    if isinstance(parent, Clone):
        return remove_resource(config, parent.id)
    if isinstance(parent, Group) and len(parent.children) == 1:
        return remove_resource(config, parent.id)
    gone = {r.id for r in walk((rsc,))}

    def visit(r: Resource) -> Resource | None:
        if r.id in gone:
            return None
        if isinstance(r, Group):
            return replace(r, children=tuple(c for c in r.children if c.id not in gone))
        if isinstance(r, Bundle) and r.child is not None and r.child.id in gone:
            return replace(r, child=None)
        return r

    resources = tuple(v for v in (visit(r) for r in config.resources) if v is not None)
    constraints: list[Constraint] = []
    removed: list[str] = []
    for c in config.constraints:
        kept = _without(c, gone)
        if kept is None:
            removed.append(c.id)
        else:
            constraints.append(kept)
    tags = tuple(replace(t, refs=tuple(r for r in t.refs if r not in gone)) for t in config.tags)
    tags = tuple(t for t in tags if t.refs)
    return replace(config, resources=resources, constraints=tuple(constraints), tags=tags), removed


def _without(c: Constraint, gone: set[str]) -> Constraint | None:
    """The constraint without references to gone resources; None if nothing is left."""
    if isinstance(c, Ticket):
        return None if c.rsc in gone else c
    refs = [r for r in constraint_refs(c) if r in gone]
    if not refs:
        return c
    if not c.sets:
        return None
    sets = tuple(
        replace(s, resources=tuple(r for r in s.resources if r not in gone)) for s in c.sets
    )
    sets = tuple(s for s in sets if s.resources)
    if not sets or (not isinstance(c, Location) and sum(len(s.resources) for s in sets) < 2):
        return None
    return replace(c, sets=sets)


def constraint_refs(c: Constraint) -> list[str]:
    """The resource (or tag) ids a constraint names."""
    refs: list[str | None]
    if isinstance(c, Location):
        refs = [c.rsc]
    elif isinstance(c, Colocation):
        refs = [c.rsc, c.with_rsc]
    elif isinstance(c, Order):
        refs = [c.first, c.then]
    else:
        return [c.rsc] if c.rsc else []
    found = [r for r in refs if r]
    for s in c.sets:
        found.extend(s.resources)
    return found


# --- constraints ---------------------------------------------------------------------------


def find_constraint(config: Configuration, ident: str) -> Constraint | None:
    return next((c for c in config.constraints if c.id == ident), None)


def add_constraint(config: Configuration, c: Constraint) -> Configuration:
    check_new_id(config, c.id, "constraint")
    return replace(config, constraints=(*config.constraints, c))


def remove_constraints(config: Configuration, ids: Iterable[str]) -> Configuration:
    ids = list(ids)
    known = {c.id for c in config.constraints}
    for ident in ids:
        if ident not in known:
            raise CommandError(
                Report.error(
                    codes.CIB_UNKNOWN_CONSTRAINT,
                    f"no constraint '{ident}' in the configuration",
                    where="constraint",
                    constraint_id=ident,
                    hint="list them with `hakeeper constraint list --full`",
                )
            )
    drop = set(ids)
    return replace(config, constraints=tuple(c for c in config.constraints if c.id not in drop))


def cli_prefer_id(rsc_id: str) -> str:
    return f"cli-prefer-{rsc_id}"


def cli_ban_id(rsc_id: str, node: str) -> str:
    return f"cli-ban-{rsc_id}-on-{node}"


def set_cli_location(
    config: Configuration, ident: str, rsc_id: str, node: str, score: str, role: str | None
) -> Configuration:
    """Put a crm_resource-style location constraint, replacing one with the same id."""
    kept = tuple(c for c in config.constraints if c.id != ident)
    # crm_resource writes role="Started" unless a role was asked for
    c = Location(ident, rsc_id, node=node, score=score, role=role or "Started")
    return replace(config, constraints=(*kept, c))


def clear_cli_locations(
    config: Configuration, rsc_id: str, node: str | None
) -> tuple[Configuration, list[str]]:
    """Remove the cli-prefer-/cli-ban- constraints of a resource (on one node, if given)."""

    def ours(c: Constraint) -> bool:
        if not isinstance(c, Location) or c.rsc != rsc_id:
            return False
        if c.id == cli_prefer_id(rsc_id):
            return node is None or c.node == node
        if c.id.startswith(f"cli-ban-{rsc_id}-on-"):
            return node is None or c.node == node
        return False

    removed = [c.id for c in config.constraints if ours(c)]
    return replace(config, constraints=tuple(c for c in config.constraints if not ours(c))), removed


# --- properties and nodes -------------------------------------------------------------------


def set_properties(config: Configuration, values: Mapping[str, str | None]) -> Configuration:
    """Set cluster properties in the cib-bootstrap-options set, as pcs property set."""
    used = all_ids(config)
    sets = list(config.crm_config)
    index = next((i for i, s in enumerate(sets) if s.id == PROPERTY_SET), None)
    if index is None:
        sets.insert(0, AttrSet(PROPERTY_SET))
        used.add(PROPERTY_SET)
        index = 0
    head = sets[:index]
    updated = set_values(
        (sets[index],), PROPERTY_SET.removesuffix("-options"), "options", values, used
    )
    if not updated:  # keep the (empty) bootstrap set: Pacemaker writes it there
        updated = (AttrSet(PROPERTY_SET),)
    return replace(config, crm_config=(*head, *updated, *sets[index + 1 :]))


def set_node_attributes(
    config: Configuration, node: str, values: Mapping[str, str | None], *, utilization: bool = False
) -> Configuration:
    """Permanent node attributes, in the node's `nodes-ID` set, as crm_attribute writes."""
    target = require_node(config, node)
    used = all_ids(config)

    def change(n: NodeConfig) -> NodeConfig:
        if n.id != target.id:
            return n
        if utilization:
            return replace(
                n,
                utilization=set_values(n.utilization, f"nodes-{n.id}", "utilization", values, used),
            )
        sets = set_values(n.attributes, "nodes", n.id, values, used)
        return replace(n, attributes=sets)

    return replace(config, nodes=tuple(change(n) for n in config.nodes))


# --- checks of a whole configuration ----------------------------------------------------------


def check_references(config: Configuration) -> list[Report]:
    """Constraints that name resources (or tags) the configuration does not have."""
    known = set(resource_ids(config)) | {t.id for t in config.tags}
    reports = []
    for c in config.constraints:
        if isinstance(c, Location) and c.rsc_pattern is not None and c.rsc is None:
            continue
        for ref in constraint_refs(c):
            if ref not in known:
                reports.append(
                    Report.error(
                        codes.CIB_UNKNOWN_RESOURCE,
                        f"constraint '{c.id}' names resource '{ref}', which does not exist",
                        where=f"constraint {c.id}",
                        constraint_id=c.id,
                        resource_id=ref,
                        hint="create the resource first, or name an existing one",
                    )
                )
    return reports


# --- groups ---------------------------------------------------------------------------------


def group_add(
    config: Configuration,
    group_id: str,
    rsc_ids: Iterable[str],
    *,
    before: str | None = None,
    after: str | None = None,
) -> Configuration:
    """Move primitives into a group (created if new), as pcs resource group add: each one
    leaves the top level or the group it was in (a group left empty goes)."""
    rsc_ids = list(rsc_ids)
    for rsc_id in rsc_ids:
        rsc = require_resource(config, rsc_id)
        parent = parent_of(config, rsc_id)
        if not isinstance(rsc, Primitive) or isinstance(parent, (Clone, Bundle)):
            raise CommandError(
                Report.error(
                    codes.CIB_BAD_VALUE,
                    f"'{rsc_id}' cannot be put in a group: only primitives "
                    "outside clones and bundles can",
                    where="resource group add",
                    resource_id=rsc_id,
                    hint="group the primitives, then clone the group",
                )
            )
    if len(set(rsc_ids)) != len(rsc_ids):
        raise CommandError(
            Report.error(
                codes.BAD_OPTION,
                "a resource is named twice",
                where="resource group add",
                hint="name each resource once",
            )
        )
    moving = {r for r in rsc_ids}
    prims = [find_resource(config, r) for r in rsc_ids]
    config = _detach(config, moving)
    for prim in prims:
        assert isinstance(prim, Primitive)
        config = add_resource(config, prim, group=group_id, before=before, after=after)
        after, before = prim.id, None  # the next ones follow in the order given
    return config


def _detach(config: Configuration, ids: set[str]) -> Configuration:
    """The configuration without these primitives (constraints untouched); groups they
    leave empty are dropped."""
    kept: list[Resource] = []
    for rsc in config.resources:
        if rsc.id in ids:
            continue
        if isinstance(rsc, Group):
            children = tuple(c for c in rsc.children if c.id not in ids)
            if not children:
                continue
            rsc = replace(rsc, children=children)
        kept.append(rsc)
    return replace(config, resources=tuple(kept))


def group_remove(
    config: Configuration, group_id: str, rsc_ids: Iterable[str] = ()
) -> tuple[Configuration, list[str]]:
    """Take primitives out of a group to the top level, right after it (all of them: the
    group goes, with the constraints that named it), as pcs resource group remove."""
    group = require_resource(config, group_id)
    if not isinstance(group, Group) or parent_of(config, group_id) is not None:
        raise CommandError(
            Report.error(
                codes.CIB_BAD_VALUE,
                f"'{group_id}' is not a top-level group",
                where="resource group remove",
                resource_id=group_id,
                hint="ungroup a cloned group by deleting the clone first",
            )
        )
    members = [c.id for c in group.children]
    names = list(rsc_ids) or members
    for name in names:
        if name not in members:
            raise CommandError(
                Report.error(
                    codes.CIB_UNKNOWN_RESOURCE,
                    f"'{name}' is not in group '{group_id}'",
                    where="resource group remove",
                    resource_id=name,
                    hint="members: " + ", ".join(members),
                )
            )
    out = [c for c in group.children if c.id in names]
    left = tuple(c for c in group.children if c.id not in names)
    resources: list[Resource] = []
    for rsc in config.resources:
        if rsc.id == group_id:
            if left:
                resources.append(replace(group, children=left))
            resources.extend(out)
        else:
            resources.append(rsc)
    config = replace(config, resources=tuple(resources))
    if left:
        return config, []
    removed = [c.id for c in config.constraints if group_id in constraint_refs(c)]
    constraints = []
    for c in config.constraints:
        kept_c = _without(c, {group_id})
        if kept_c is not None:
            constraints.append(kept_c)
    return replace(config, constraints=tuple(constraints)), removed


# --- clones ---------------------------------------------------------------------------------


def clone(
    config: Configuration,
    rsc_id: str,
    clone_id: str,
    meta: tuple[AttrSet, ...],
) -> Configuration:
    """Wrap a top-level primitive or group in a clone, as pcs resource clone."""
    rsc = require_resource(config, rsc_id)
    if not isinstance(rsc, (Primitive, Group)) or parent_of(config, rsc_id) is not None:
        raise CommandError(
            Report.error(
                codes.CIB_BAD_VALUE,
                f"'{rsc_id}' cannot be cloned: only a top-level primitive or group can",
                where="resource clone",
                resource_id=rsc_id,
                hint="clone the group it is in, or take it out of the group first",
            )
        )
    check_new_id(config, clone_id, "clone")
    wrapped = Clone(clone_id, rsc, meta)
    return replace(
        config, resources=tuple(wrapped if r.id == rsc_id else r for r in config.resources)
    )


def unclone(config: Configuration, rsc_id: str) -> tuple[Configuration, list[str]]:
    """Replace a clone (named, or named by what it holds) by what it holds; constraints
    that named the clone go, as pcs resource unclone."""
    rsc = require_resource(config, rsc_id)
    target = rsc if isinstance(rsc, Clone) else parent_of(config, rsc_id)
    if not isinstance(target, Clone):
        raise CommandError(
            Report.error(
                codes.CIB_BAD_VALUE,
                f"'{rsc_id}' is not a clone, nor in one",
                where="resource unclone",
                resource_id=rsc_id,
                hint="name a clone or its child",
            )
        )
    child: Resource = target.child
    config = replace(
        config, resources=tuple(child if r.id == target.id else r for r in config.resources)
    )
    removed = [c.id for c in config.constraints if target.id in constraint_refs(c)]
    kept = [k for k in (_without(c, {target.id}) for c in config.constraints) if k is not None]
    return replace(config, constraints=tuple(kept)), removed
