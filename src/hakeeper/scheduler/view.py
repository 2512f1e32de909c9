"""What the cluster looks like (nodes, resources, roles) before and after a transition."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from hakeeper.model.config import Role
from hakeeper.scheduler.cluster import Cluster
from hakeeper.scheduler.working import Rsc, Variant


@dataclass(frozen=True, slots=True)
class NodeView:
    name: str
    online: bool
    unclean: bool
    standby: bool
    standby_onfail: bool
    maintenance: bool
    pending: bool
    shutdown: bool
    active: bool = False  # runs resources now
    kind: str = "member"  # member, remote (Pacemaker Remote), guest


@dataclass(frozen=True, slots=True)
class ResourceView:
    id: str
    kind: str  # primitive, group
    agent: str | None
    role: Role
    nodes: tuple[str, ...]
    failed: bool = False
    managed: bool = True
    blocked: bool = False
    disabled: bool = False
    orphan: bool = False
    unclean_nodes: tuple[str, ...] = ()
    children: tuple[ResourceView, ...] = ()
    unique: bool = False  # a globally unique clone: instances shown one by one
    eligible: tuple[str, ...] = ()  # a clone's nodes with a usable score (for "Stopped:")
    promotable: bool = False
    target_unpromoted: bool = False  # a promotable clone held unpromoted by target-role
    replicas: int = 0  # a bundle's replica count ("Container bundle set" if more than one)
    stopped_label: bool = False  # shown as Stopped even with a node (a replica's container)
    #: a bundle replica's line: its resources as crm_mon's XML lists them (the inner
    #: instance on its guest node, the container, the IP, the connection)
    parts: tuple[ResourceView, ...] = ()


@dataclass(frozen=True, slots=True)
class ClusterView:
    nodes: tuple[NodeView, ...]
    resources: tuple[ResourceView, ...]


def _node_views(
    cluster: Cluster, after: dict[str, tuple[bool, bool]] | None = None
) -> tuple[NodeView, ...]:
    """Nodes by name, as crm_mon lists them; `after` overrides (online, unclean) by name."""
    after = after or {}
    return tuple(
        NodeView(
            n.uname,
            after.get(n.uname, (n.online, n.unclean))[0],
            after.get(n.uname, (n.online, n.unclean))[1],
            n.standby,
            n.standby_onfail,
            n.maintenance,
            n.pending,
            n.shutdown,
            bool(n.running),
            "guest" if n.is_guest else n.kind,
        )
        for n in sorted(cluster.nodes, key=lambda n: n.uname)
    )


def _rsc_view(
    cluster: Cluster, rsc: Rsc, nodes: dict[str, tuple[list[str], Role, bool]]
) -> ResourceView:
    disabled = rsc.target_role == Role.STOPPED
    if rsc.variant == Variant.BUNDLE and rsc.bundle is not None:
        return _bundle_view(cluster, rsc, nodes)
    if rsc.variant in (Variant.GROUP, Variant.CLONE):
        children = tuple(_rsc_view(cluster, c, nodes) for c in rsc.children)
        kind = "group" if rsc.variant == Variant.GROUP else "clone"
        agent = None
        if rsc.variant == Variant.CLONE and rsc.children:
            first = rsc.children[0]
            agent = first.config.id if first.config else first.base_id
        eligible: tuple[str, ...] = ()
        if rsc.variant == Variant.CLONE:
            if rsc.allowed is None:  # before placement: every node, when symmetric
                # (not a bundle's guest node: only its replica may run there)
                names = (
                    [n.uname for n in cluster.nodes if not n.bundle_node]
                    if cluster.options.symmetric
                    else []
                )
            else:
                names = [
                    cluster.node_by_id[nid].uname
                    for nid, score in rsc.allowed.items()
                    if score >= 0
                ]
            eligible = tuple(sorted(names))
        return ResourceView(
            rsc.id,
            kind,
            agent,
            rsc.role,
            (),
            managed=rsc.managed,
            disabled=disabled,
            children=children,
            unique=rsc.unique,
            eligible=eligible,
            promotable=rsc.promotable,
            target_unpromoted=rsc.target_role == Role.UNPROMOTED,
        )
    placed, role, failed = nodes.get(rsc.id, ([], Role.STOPPED, False))
    if role == Role.STARTED and _in_promotable(rsc):
        role = Role.UNPROMOTED  # as crm_mon shows a running instance of a promotable clone
    agent = str(rsc.config.agent) if rsc.config else None
    unclean = tuple(n for n in placed if cluster.node_by_name[n].unclean)
    return ResourceView(
        rsc.id,
        "primitive",
        agent,
        role,
        tuple(placed),
        failed,
        rsc.managed,
        rsc.block,
        disabled,
        rsc.orphan,
        unclean,
    )


def _bundle_view(
    cluster: Cluster, rsc: Rsc, nodes: dict[str, tuple[list[str], Role, bool]]
) -> ResourceView:
    """A bundle as crm_mon shows it: one line per replica, named after its guest node."""
    assert rsc.bundle is not None
    lines = []
    for replica in rsc.bundle.replicas:
        shown = replica.child or replica.container
        name = (replica.remote or replica.container).id
        if replica.ipaddr:
            name += f" ({replica.ipaddr})"
        hosts, _, _ = nodes.get(replica.container.id, ([], Role.STOPPED, False))
        placed, role, failed = nodes.get(shown.id, ([], Role.STOPPED, False))
        if role == Role.STARTED and _in_promotable(shown):
            role = Role.UNPROMOTED  # a promotable bundle's replica, as crm_mon shows it
        where = tuple(hosts[:1])
        unclean = tuple(
            n
            for n in where
            if cluster.node_by_name[n].unclean and not cluster.node_by_name[n].online
        )
        parts = [
            _part(part, nodes)
            for part in (replica.child, replica.container, replica.ip, replica.remote)
            if part is not None
        ]
        lines.append(
            ResourceView(
                name,
                "primitive",
                str(shown.config.agent) if shown.config else None,
                role if placed else Role.STOPPED,
                where,
                failed,
                shown.managed,
                shown.block,
                shown.target_role == Role.STOPPED,
                shown.orphan,
                unclean,
                stopped_label=not placed,
                parts=tuple(parts),
            )
        )
    return ResourceView(
        rsc.id,
        "bundle",
        rsc.bundle.image,
        rsc.role,
        (),
        managed=rsc.managed,
        children=tuple(lines),
        unique=rsc.unique,
        replicas=rsc.bundle.nreplicas,
    )


def _part(rsc: Rsc, nodes: dict[str, tuple[list[str], Role, bool]]) -> ResourceView:
    """One resource of a bundle replica, named as crm_mon's XML names it (the inner
    instance by its primitive's id)."""
    placed, role, failed = nodes.get(rsc.id, ([], Role.STOPPED, False))
    if role == Role.STARTED and _in_promotable(rsc):
        role = Role.UNPROMOTED
    return ResourceView(
        rsc.config.id if rsc.config else rsc.id,
        "primitive",
        str(rsc.config.agent) if rsc.config else None,
        role if placed else Role.STOPPED,
        tuple(placed),
        failed,
        rsc.managed,
        rsc.block,
        rsc.target_role == Role.STOPPED,
        rsc.orphan,
    )


def view_of(cluster: Cluster) -> ClusterView:
    state = {
        rsc.id: ([n.uname for n in rsc.running_on], rsc.role, rsc.failed)
        for rsc in cluster.primitives()
    }
    resources = tuple(
        _rsc_view(cluster, r, state)
        for r in cluster.resources
        if not (r.orphan and not r.running_on) and not r.internal
    )
    return ClusterView(_node_views(cluster), resources)


def revised_view(cluster: Cluster) -> ClusterView:
    """Apply the transition's runnable, required actions to the current state."""
    state: dict[str, tuple[list[str], Role, bool]] = {}
    for rsc in cluster.primitives():
        placed = [n.uname for n in rsc.running_on]
        role = rsc.role if rsc.running_on else Role.STOPPED
        failed = rsc.failed
        for action in rsc.actions:
            if action.optional or not action.runnable or action.node is None:
                continue
            if action.interval_ms:
                continue
            if action.task == "stop" and action.node.uname in placed:
                placed.remove(action.node.uname)
                failed = False
            elif action.task == "start" and action.node.uname not in placed:
                placed.append(action.node.uname)
                role = Role.UNPROMOTED if _in_promotable(rsc) else Role.STARTED
            elif action.task == "promote":
                role = Role.PROMOTED
            elif action.task == "demote":
                role = Role.UNPROMOTED
        if not placed:
            role = Role.STOPPED
        elif role == Role.STOPPED:
            role = Role.STARTED
        state[rsc.id] = (placed, role, failed)
    resources = tuple(
        _rsc_view(cluster, r, state)
        for r in cluster.resources
        if not (r.orphan and not state.get(r.id, ([], 0, 0))[0]) and not r.internal
    )
    return ClusterView(_node_views(cluster, _remote_nodes_after(cluster, state)), resources)


def _remote_nodes_after(
    cluster: Cluster, state: dict[str, tuple[list[str], Role, bool]]
) -> dict[str, tuple[bool, bool]]:
    """Remote and guest nodes are up after the transition if their connection runs then."""
    fenced = {
        a.node.uname
        for a in cluster.actions
        if a.task == "stonith" and not a.optional and a.runnable and a.node is not None
    }
    result = {}
    for node in cluster.nodes:
        if node.kind != "remote" or node.remote_rsc is None:
            continue
        running = bool(state.get(node.remote_rsc.id, ([], Role.STOPPED, False))[0])
        unclean = node.unclean and node.uname not in fenced
        result[node.uname] = (running and not unclean, unclean)
    return result


# --- text, as crm_mon/crm_simulate print it ------------------------------------------------


_NODE_WORD = {"member": "Node", "remote": "RemoteNode", "guest": "GuestNode"}


def render_nodes(view: ClusterView) -> list[str]:
    lines = ["  * Node List:"]
    # crm_mon's groups, in its order: cluster, remote and guest nodes up or down
    groups: dict[str, list[str]] = {
        "Online": [],
        "OFFLINE": [],
        "RemoteOnline": [],
        "RemoteOFFLINE": [],
        "GuestOnline": [],
    }
    for node in view.nodes:
        word = _NODE_WORD.get(node.kind, "Node")
        if node.unclean:
            state = "UNCLEAN (online)" if node.online else "UNCLEAN (offline)"
            lines.append(f"    * {word} {node.name}: {state}")
        elif node.pending and node.online:
            lines.append(f"    * {word} {node.name}: pending")
        elif node.standby and node.online:
            extra = " (on-fail)" if node.standby_onfail else ""
            if node.active:
                extra += " (with active resources)"
            lines.append(f"    * {word} {node.name}: standby{extra}")
        elif node.standby:
            lines.append(f"    * {word} {node.name}: OFFLINE (standby)")
        elif node.maintenance and node.online:
            lines.append(f"    * {word} {node.name}: maintenance")
        elif node.online:
            key = {"remote": "RemoteOnline", "guest": "GuestOnline"}.get(node.kind, "Online")
            groups[key].append(node.name)
        elif node.kind == "remote":
            groups["RemoteOFFLINE"].append(node.name)
        elif node.kind != "guest":  # a guest that is down is not listed
            groups["OFFLINE"].append(node.name)
    for label, names in groups.items():
        if names:
            lines.append(f"    * {label}: [ {' '.join(names)} ]")
    return lines


def _primitive_line(rsc: ResourceView, indent: str) -> str:
    flags = []
    if not rsc.managed:
        flags.append("unmanaged")
    if rsc.disabled:
        flags.append("disabled")
    if rsc.blocked:
        flags.append("blocked")
    if rsc.failed:
        state = "FAILED Promoted" if rsc.role == Role.PROMOTED else "FAILED"
    else:
        state = rsc.role.label if rsc.nodes and not rsc.stopped_label else "Stopped"
    if rsc.orphan:
        state = f"ORPHANED {state}"
    where = ""
    if len(rsc.nodes) == 1:
        where = f" {rsc.nodes[0]}"
        if rsc.unclean_nodes:
            where += " (UNCLEAN)"
    elif len(rsc.nodes) > 1:
        where = f" [ {' '.join(rsc.nodes)} ]"
    suffix = f" ({', '.join(flags)})" if flags else ""
    return f"{indent}* {rsc.id}\t({rsc.agent}):\t {state}{where}{suffix}"


def _clone_lines(rsc: ResourceView, view: ClusterView) -> list[str]:
    flags = [
        f
        for f, on in (
            ("promotable", rsc.promotable),
            ("unique", rsc.unique),
            ("unmanaged", not rsc.managed),
        )
        if on
    ]
    suffix = f" ({', '.join(flags)})" if flags else ""
    lines = [f"    * Clone Set: {rsc.id} [{rsc.agent}]{suffix}:"]
    if rsc.unique:
        return lines + [
            _primitive_line(child, "      ")
            for child in rsc.children
            if not (child.orphan and not child.nodes)
        ]
    started: list[str] = []
    promoted: list[str] = []
    inactive = 0
    for child in rsc.children:
        if child.orphan and not child.nodes:
            continue
        if not child.nodes and child.kind != "group":
            inactive += 1
        if child.kind == "group":
            members = [m for m in child.children if m.nodes]
            if members and len(members) == len(child.children):
                if any(m.role == Role.PROMOTED for m in members):
                    promoted.extend(members[0].nodes[:1])
                else:
                    started.extend(members[0].nodes[:1])
            continue
        if child.orphan and child.nodes:
            # an anonymous orphan instance is shown under its primitive's name
            name = child.id.rsplit(":", 1)[0]
            lines.append(_primitive_line(dataclasses.replace(child, id=name), "      "))
        elif child.failed or not child.managed or len(child.nodes) > 1:
            lines.append(_primitive_line(child, "      "))
        elif child.role == Role.PROMOTED:
            promoted.extend(child.nodes)
        else:
            started.extend(child.nodes)
    order = [n.name for n in view.nodes]
    for names in (promoted, started):
        names.sort(key=lambda n: order.index(n) if n in order else len(order))
    if promoted:
        lines.append(f"      * Promoted: [ {' '.join(promoted)} ]")
    if started:
        label = "Started"
        if rsc.promotable:
            label = "Unpromoted (target-role)" if rsc.target_unpromoted else "Unpromoted"
        lines.append(f"      * {label}: [ {' '.join(started)} ]")
    started = started + promoted
    stopped = [n for n in rsc.eligible if n not in started]
    if inactive and stopped:
        lines.append(f"      * Stopped: [ {' '.join(stopped)} ]")
    return lines


def render_resources(view: ClusterView) -> list[str]:
    lines = ["  * Full List of Resources:"]
    if not view.resources:
        lines.append("    * No resources")
    for rsc in view.resources:
        if rsc.kind == "clone":
            lines.extend(_clone_lines(rsc, view))
        elif rsc.kind == "bundle":
            flags = [f for f, on in (("unique", rsc.unique), ("unmanaged", not rsc.managed)) if on]
            suffix = "".join(f" ({f})" for f in flags)
            word = "Container bundle set" if rsc.replicas > 1 else "Container bundle"
            lines.append(f"    * {word}: {rsc.id} [{rsc.agent}]{suffix}:")
            lines.extend(_primitive_line(child, "      ") for child in rsc.children)
        elif rsc.kind == "group":
            suffix = " (unmanaged)" if not rsc.managed else ""
            lines.append(f"    * Resource Group: {rsc.id}{suffix}:")
            for child in rsc.children:
                lines.append(_primitive_line(child, "      "))
        else:
            lines.append(_primitive_line(rsc, "    "))
    return lines


def render_view(view: ClusterView) -> list[str]:
    return [*render_nodes(view), "", *render_resources(view)]


def _in_promotable(rsc: Rsc) -> bool:
    """An instance of a promotable clone, also one inside a bundle (whose top is the bundle)."""
    parent = rsc.parent
    while parent is not None:
        if parent.promotable:
            return True
        parent = parent.parent
    return False
