"""Pacemaker Remote and guest nodes: nodes whose presence is a resource's state.

A remote node is reached through an `ocf:pacemaker:remote` connection resource running
on a cluster node; a guest node is a remote node inside a container resource (a primitive
with meta `remote-node`, or a bundle replica), reached through an implicit connection. Such
a node is online only while its connection runs; it is fenced like a cluster node (remote)
or by recovering its container (guest).
"""

from __future__ import annotations

from hakeeper.cib.parse import is_true, parse_interval_ms
from hakeeper.model.config import Agent, AttrSet, Group, NvPair, Op, Primitive, Role
from hakeeper.model.scores import INFINITY
from hakeeper.model.status import NodeState
from hakeeper.scheduler.working import Node, Rsc

REMOTE_AGENT = Agent("ocf", "pacemaker", "remote")


def is_connection_agent(agent: Agent) -> bool:
    return agent.standard == "ocf" and agent.provider == "pacemaker" and agent.type == "remote"


def _raw_meta(res: Primitive) -> dict[str, str]:
    """Meta-attributes as written (every set, rules ignored), as Pacemaker reads guest options."""
    values: dict[str, str] = {}
    for attr_set in res.meta:
        for pair in attr_set.pairs:
            if pair.value is not None:
                values.setdefault(pair.name, pair.value)
    return values


def guest_connection(res: Primitive) -> Primitive | None:
    """The implicit connection resource a primitive's `remote-node` meta-attribute asks for."""
    meta = _raw_meta(res)
    name = meta.get("remote-node")
    if not name:
        return None
    return connection_primitive(
        name,
        container=res.id,
        allow_migrate=meta.get("remote-allow-migrate"),
        managed=meta.get("is-managed"),
        start_timeout=meta.get("remote-connect-timeout", "60s"),
        addr=meta.get("remote-addr"),
        port=meta.get("remote-port"),
    )


def connection_primitive(
    name: str,
    *,
    container: str | None,
    allow_migrate: str | None = None,
    managed: str | None = None,
    start_timeout: str | None = "60s",
    addr: str | None = None,
    port: str | None = None,
) -> Primitive:
    """An ocf:pacemaker:remote primitive as the scheduler creates it for a guest node."""
    meta = [NvPair(f"{name}-meta_attributes-internal_rsc", "internal_rsc", "true")]
    if container is not None:
        meta.append(NvPair(f"{name}-meta_attributes-container", "container", container))
    if allow_migrate is not None:
        meta.append(NvPair(f"{name}-meta_attributes-allow-migrate", "allow-migrate", allow_migrate))
    if managed is not None:
        meta.append(NvPair(f"{name}-meta_attributes-is-managed", "is-managed", managed))
    params: list[NvPair] = []
    if addr is not None:
        params.append(NvPair(f"{name}-instance_attributes-addr", "addr", addr))
    if port is not None:
        params.append(NvPair(f"{name}-instance_attributes-port", "port", port))
    ops = [Op(f"{name}-monitor-interval-30s", "monitor", "30s", 30_000, timeout="30s")]
    if start_timeout is not None:
        ops.append(Op(f"{name}-start-interval-0", "start", "0", 0, timeout=start_timeout))
    param_sets = (AttrSet(f"{name}-instance_attributes", tuple(params)),) if params else ()
    return Primitive(
        name,
        REMOTE_AGENT,
        meta=(AttrSet(f"{name}-meta_attributes", tuple(meta)),),
        params=param_sets,
        ops=tuple(ops),
    )


def implicit_connections(resources: tuple[object, ...]) -> list[tuple[str, Primitive | None]]:
    """Remote node names the configuration defines, with the connections it implies.

    A top-level ocf:pacemaker:remote primitive names a remote node (its connection is
    configured); a top-level primitive, or a group member, with `remote-node` names a
    guest node whose connection is created here.
    """
    found: list[tuple[str, Primitive | None]] = []
    for res in resources:
        if isinstance(res, Primitive):
            if is_connection_agent(res.agent):
                found.append((res.id, None))
                continue
            conn = guest_connection(res)
            if conn is not None:
                found.append((conn.id, conn))
        elif isinstance(res, Group):
            for member in res.children:
                conn = guest_connection(member)
                if conn is not None:
                    found.append((conn.id, conn))
    return found


def unpack_connection_meta(rsc: Rsc) -> None:
    """What being a connection changes in a resource's options (Pacemaker's defaults)."""
    rsc.is_remote_node = True
    if is_true(rsc.meta.get("internal_rsc")):
        rsc.internal = True
    guest = "container" in rsc.meta
    if "requires" not in rsc.meta:
        rsc.needs_fencing = False
        rsc.needs_quorum = True
    if not guest:
        # remote connections float between cluster nodes without stopping what runs on
        # the remote node: migratable unless told otherwise
        rsc.meta.setdefault("allow-migrate", "true")
        rsc.allow_migrate = is_true(rsc.meta["allow-migrate"])
        value = rsc.params.get("reconnect_interval")
        if value:
            rsc.remote_reconnect_ms = parse_interval_ms(value) or 0
            rsc.failure_timeout = rsc.remote_reconnect_ms // 1000


def link_containers(rsc: Rsc, rsc_by_id: dict[str, Rsc]) -> None:
    """Resolve meta `container` (a filler runs inside, or as, its container)."""
    if rsc.children:
        for child in rsc.children:
            link_containers(child, rsc_by_id)
        return
    container_id = rsc.meta.get("container")
    if container_id and container_id != rsc.id:
        container = rsc_by_id.get(container_id)
        if container is not None:
            rsc.container = container
            container.fillers.append(rsc)


def online_status(node: Node) -> bool:
    """Whether a remote or guest node is up, from what its connection's history says."""
    rsc = node.remote_rsc
    if rsc is None:
        node.online = False
        return False
    container = rsc.container
    host = rsc.running_on[0] if container is not None and len(rsc.running_on) == 1 else None
    if rsc.role == Role.STARTED:
        node.online = True
    if rsc.role == Role.STARTED and rsc.next_role == Role.STOPPED:
        node.shutdown = True
    if container is not None and container.failed:
        node.online = False
        node.remote_requires_reset = True
    elif rsc.failed:
        node.online = False
    elif rsc.role == Role.STOPPED or (container is not None and container.role == Role.STOPPED):
        node.online = False
        node.remote_requires_reset = False
    elif host is not None and not host.online and host.unclean:
        node.online = False
        node.remote_requires_reset = True
    return node.online


def history_ready(node: Node) -> bool:
    """A remote node's history is read once its connection (and container) is known up."""
    rsc = node.remote_rsc
    if rsc is None:
        return False
    if node.is_guest:
        assert rsc.container is not None
        return rsc.role == Role.STARTED and rsc.container.role == Role.STARTED
    return rsc.role == Role.STARTED


def remote_attrs(node: Node, state: NodeState, stonith_enabled: bool) -> None:
    """Apply a remote node's own state entry: attributes, shutdown, standby, maintenance."""
    rsc = node.remote_rsc
    if not node.remote_requires_reset:
        node.unclean = False
        node.unseen = False
    for key, value in state.attributes:
        node.attrs[key] = value
    shutdown = node.attrs.get("shutdown")
    if shutdown and shutdown != "0":
        node.shutdown = True
    if is_true(node.attrs.get("standby")):
        node.standby = True
    if is_true(node.attrs.get("maintenance")) or (rsc is not None and not rsc.managed):
        node.maintenance = True
    node.has_state = True
    del stonith_enabled  # resource-discovery=false matters only to probes


def avoid_remote_nodes(rsc: Rsc, nodes: list[Node]) -> None:
    """Connections and fence devices never run on remote or guest nodes."""
    if rsc.allowed is None:
        return
    for node in nodes:
        if node.remote_rsc is not None and node.id in rsc.allowed:
            rsc.allowed[node.id] = -INFINITY


def guest_container(node: Node) -> Rsc | None:
    if node.remote_rsc is None:
        return None
    return node.remote_rsc.container
