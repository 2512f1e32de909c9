"""A bundle as the resources Pacemaker makes of it.

For each replica N of bundle B: a container primitive `B-docker-N` (or podman, rkt), an
`IPaddr2` primitive `B-ip-ADDR` when the network has ip-range-start, and, when the bundle
wraps a primitive, an `ocf:pacemaker:remote` connection `B-N` whose guest node `B-N` runs
instance N of the implicit clone `B-clone` (`B-master` if promotable) of that primitive.
The container's parameters are built as Pacemaker builds them, so that operation digests
recorded by a real cluster match.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hakeeper.model.config import Agent, AttrSet, Bundle, Clone, NvPair, Op, Primitive
from hakeeper.reports import CommandError, Report, codes
from hakeeper.scheduler.rules import RuleContext, resolve_sets
from hakeeper.scheduler.working import BundleData, Node, Replica, Rsc, Variant

if TYPE_CHECKING:
    from hakeeper.scheduler.cluster import Cluster

REMOTE_PORT = "3121"
REMOTED = "/usr/sbin/pacemaker-remoted"
AUTHKEY = "/etc/pacemaker/authkey"
BUNDLE_LOGS = "/var/log/pacemaker/bundles"


@dataclass(frozen=True, slots=True)
class Mount:
    source: str
    target: str
    options: str | None
    subdir: bool


@dataclass(frozen=True, slots=True)
class BundlePlan:
    """What a bundle's configuration expands to, before any resource is built."""

    image: str
    nreplicas: int
    per_host: int
    promoted_max: int
    clone: Clone | None
    containers: tuple[Primitive, ...]
    ips: tuple[Primitive | None, ...]
    remotes: tuple[Primitive | None, ...]
    addresses: tuple[str | None, ...]


def _int(value: str | None, default: int, minimum: int) -> int:
    if value is None:
        return default
    try:
        return max(minimum, int(value))
    except ValueError:
        return default


def _next_ip(last: str) -> str | None:
    parts = last.split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return None  # IPv6 ranges are not expanded, as in Pacemaker
    o1, o2, o3, o4 = (int(p) for p in parts)
    if o3 > 253:
        return None
    if o4 > 253:
        o3, o4 = o3 + 1, 1
    else:
        o4 += 1
    return f"{o1}.{o2}.{o3}.{o4}"


def _pairs(owner: str, values: list[tuple[str, str]]) -> AttrSet:
    return AttrSet(owner, tuple(NvPair(f"{owner}-{k}", k, v) for k, v in values))


def plan_bundle(res: Bundle) -> BundlePlan | None:
    """Expand a bundle; None if it wraps a primitive it could not reach (no network)."""
    prefix = res.id
    engine = res.engine
    promoted_max = _int(res.engine_attr("promoted-max") or res.engine_attr("masters"), 0, 0)
    replicas_text = res.engine_attr("replicas")
    if replicas_text is None and promoted_max > 0:
        nreplicas = promoted_max
    else:
        nreplicas = _int(replicas_text, 1, 1)
    per_host = _int(res.engine_attr("replicas-per-host"), 1, 1)
    image = res.engine_attr("image") or ""
    run_command = res.engine_attr("run-command")
    options = res.engine_attr("options")
    container_network = res.engine_attr("network")
    net = res.network
    ip_start = net.ip_range_start if net else None
    control_port = net.control_port if net else None
    add_host = True
    if net is not None and net.add_host is not None:
        add_host = net.add_host.lower() not in ("false", "no", "off", "0", "n")
    ports: list[tuple[str, str]] = []
    if net is not None:
        for mapping in net.port_mappings:
            attrs = dict(mapping)
            source = attrs.get("port")
            target = attrs.get("internal-port") if source is not None else None
            if source is None:
                source = attrs.get("range")
            if source:
                ports.append((source, target or source))
    mounts: list[Mount] = []
    need_log_mount = True
    for mapping in res.storage:
        attrs = dict(mapping)
        source = attrs.get("source-dir")
        subdir = False
        if source is None:
            source = attrs.get("source-dir-root")
            subdir = True
        target = attrs.get("target-dir")
        if source and target:
            mounts.append(Mount(source, target, attrs.get("options"), subdir))
            if target == "/var/log":
                need_log_mount = False
    child = res.child
    if child is not None and ip_start is None and control_port is None:
        return None
    if control_port is not None and ip_start is None and per_host > 1:
        per_host = 1
    if child is not None:
        mounts.append(Mount(AUTHKEY, AUTHKEY, None, False))
        if need_log_mount:
            mounts.append(Mount(BUNDLE_LOGS, "/var/log", None, True))
        ports.append((control_port or REMOTE_PORT, control_port or REMOTE_PORT))
    addresses: list[str | None] = []
    host_options = ""
    last: str | None = None
    for index in range(nreplicas):
        address: str | None = None
        if ip_start is not None:
            address = _next_ip(last) if last is not None else ip_start
            last = address
            if address is not None:
                if engine != "rkt" and add_host:
                    host_options += f" --add-host={prefix}-{index}:{address}"
                else:
                    host_options += f" --hosts-entry={address}={prefix}-{index}"
        addresses.append(address)
    clone = None
    if child is not None:
        kind = "master" if promoted_max else "clone"
        meta = [
            ("ordered", "true"),
            ("clone-max", str(nreplicas)),
            ("clone-node-max", str(per_host)),
            ("globally-unique", "true" if per_host > 1 else "false"),
        ]
        if promoted_max:
            meta += [("promotable", "true"), ("promoted-max", str(promoted_max))]
        clone = Clone(
            f"{prefix}-{kind}", child, meta=(_pairs(f"{prefix}-{kind}-meta", meta),), line=res.line
        )
    containers = []
    ips: list[Primitive | None] = []
    remotes: list[Primitive | None] = []
    for index, address in enumerate(addresses):
        containers.append(
            _container(
                res,
                index,
                address,
                image,
                mounts,
                ports,
                options,
                host_options,
                run_command,
                container_network,
                control_port,
                ip_start,
            )
        )
        ips.append(
            _ip(
                prefix,
                index,
                address,
                net.host_interface if net else None,
                net.host_netmask if net else None,
            )
        )
        remotes.append(
            _remote(prefix, index, address, control_port, containers[-1].id)
            if child is not None
            else None
        )
    return BundlePlan(
        image,
        nreplicas,
        per_host,
        promoted_max,
        clone,
        tuple(containers),
        tuple(ips),
        tuple(remotes),
        tuple(addresses),
    )


def _container(
    res: Bundle,
    index: int,
    address: str | None,
    image: str,
    mounts: list[Mount],
    ports: list[tuple[str, str]],
    options: str | None,
    host_options: str,
    run_command: str | None,
    network: str | None,
    control_port: str | None,
    ip_start: str | None,
) -> Primitive:
    prefix = res.id
    engine = res.engine
    hostname_opt, env_opt = ("--hostname=", "--environment=") if engine == "rkt" else ("-h ", "-e ")
    buf = ""
    if engine == "docker":
        buf += " --restart=no"
    if ip_start is not None:
        buf += f" {hostname_opt}{prefix}-{index}"
    buf += f" {env_opt}PCMK_stderr=1"
    if network is not None:
        buf += f" --net={network}"
    buf += f" {env_opt}PCMK_remote_port={control_port or REMOTE_PORT}"
    subdirs: list[str] = []
    for volume, mount in enumerate(mounts):
        source = mount.source
        if mount.subdir:
            source = f"{mount.source}/{prefix}-{index}"
            subdirs.append(source)
        if engine == "rkt":
            extra = f",{mount.options}" if mount.options else ""
            buf += (
                f" --volume vol{volume},kind=host,source={source}{extra}"
                f" --mount volume=vol{volume},target={mount.target}"
            )
        else:
            buf += f" -v {source}:{mount.target}"
            if mount.options is not None:
                buf += f":{mount.options}"
    for source, target in ports:
        if engine == "rkt":
            buf += (
                f" --port={target}:{address}:{source}" if address else f" --port={target}:{source}"
            )
        elif address is not None:
            buf += f" -p {address}:{source}:{target}"
        elif network != "host":
            buf += f" -p {source}:{target}"
    if options is not None:
        buf += f" {options}"
    buf += f" {host_options}"
    params = [
        ("image", image),
        ("allow_pull", "true"),
        ("force_kill", "false"),
        ("reuse", "false"),
        ("run_opts", buf),
        ("mount_points", ",".join(subdirs)),
    ]
    if res.child is not None:
        params.append(("run_cmd", run_command or REMOTED))
    elif run_command is not None:
        params.append(("run_cmd", run_command))
    params.append(("monitor_cmd", "/bin/true"))
    ident = f"{prefix}-{engine}-{index}"
    return Primitive(
        ident,
        Agent("ocf", "heartbeat", engine),
        params=(_pairs(f"{prefix}-attributes-{index}", params),),
        ops=(Op(f"{ident}-monitor-interval-60s", "monitor", "60s", 60_000),),
        line=res.line,
    )


def _ip(
    prefix: str, index: int, address: str | None, nic: str | None, netmask: str | None
) -> Primitive | None:
    if address is None:
        return None
    ident = f"{prefix}-ip-{address}"
    params = [("ip", address)]
    if nic is not None:
        params.append(("nic", nic))
    params.append(("cidr_netmask", netmask or "32"))
    return Primitive(
        ident,
        Agent("ocf", "heartbeat", "IPaddr2"),
        params=(_pairs(f"{prefix}-attributes-{index}", params),),
        ops=(Op(f"{ident}-monitor-interval-60s", "monitor", "60s", 60_000),),
    )


def _remote(
    prefix: str, index: int, address: str | None, control_port: str | None, container: str
) -> Primitive:
    from hakeeper.scheduler.remote import connection_primitive

    # "#uname" makes the connection reach the container on whatever host runs it
    return connection_primitive(
        f"{prefix}-{index}",
        container=container,
        start_timeout=None,
        addr=address or "#uname",
        port=control_port or REMOTE_PORT,
    )


def guest_node(name: str, index: int) -> Node:
    """The guest node of a bundle replica: nothing but the replica's instance runs there."""
    node = Node(name, name, kind="remote", index=index)
    node.bundle_node = True
    node.unseen = False
    node.attrs.update({"#uname": name, "#id": name, "#kind": "container", "#is_dc": "false"})
    return node


def build_bundle(cluster: Cluster, res: Bundle) -> Rsc:
    """The bundle resource with its replicas' resources as children (and guest nodes)."""
    from hakeeper.scheduler import cluster as unpack

    where = f"{cluster.cib.source}:{res.line or 0}"
    plan = plan_bundle(res)
    if plan is None:
        raise CommandError(
            Report.error(
                codes.CIB_INVALID,
                f"bundle {res.id} wraps a primitive but has neither ip-range-start nor "
                "control-port, so the cluster cannot reach it",
                where=where,
                hint="add <network control-port=...> (or ip-range-start) to the bundle",
            )
        )
    if res.id in cluster.rsc_by_id:
        raise CommandError(
            Report.error(
                codes.CIB_DUPLICATE_ID,
                f"resource id {res.id} is used twice",
                where=where,
                hint="rename one of the resources",
            )
        )
    ctx = RuleContext(now=cluster.now)
    meta = resolve_sets(res.meta, ctx)
    resolve_sets(cluster.cib.configuration.rsc_defaults, ctx, into=meta)
    rsc = Rsc(res.id, Variant.BUNDLE)
    rsc.meta = meta
    cluster.rsc_by_id[rsc.id] = rsc
    unpack._apply_meta(cluster, rsc)
    rsc.unique = plan.per_host > 1
    data = BundleData(plan.image, [], None, plan.nreplicas, plan.per_host, plan.promoted_max)
    rsc.bundle = data
    clone = None
    if plan.clone is not None:
        clone = unpack._build_clone(cluster, plan.clone, parent=rsc)
        data.child = clone
    children: list[Rsc] = []
    for index, address in enumerate(plan.addresses):
        container = unpack._build(cluster, plan.containers[index], rsc)
        replica = Replica(index, container, ipaddr=address)
        ip_cfg = plan.ips[index]
        if ip_cfg is not None:
            replica.ip = unpack._build(cluster, ip_cfg, rsc)
            children.append(replica.ip)
        children.append(container)
        remote_cfg = plan.remotes[index]
        if remote_cfg is not None and clone is not None and index < len(clone.children):
            if remote_cfg.id in cluster.rsc_by_id:
                remote_cfg = dataclasses.replace(
                    remote_cfg, id=f"pcmk-internal-{clone.children[index].base_id}-remote-{index}"
                )
            remote = unpack._build(cluster, remote_cfg, rsc)
            remote.allow_remote_remotes = True
            remote.container = container
            container.fillers.append(remote)
            node = cluster.node_by_name.get(remote.id)
            if node is None:
                node = guest_node(remote.id, len(cluster.nodes))
                cluster.nodes.append(node)
                cluster.node_by_id[node.id] = node
                cluster.node_by_name[node.uname] = node
            node.bundle_node = True
            node.kind = "remote"
            node.attrs["#kind"] = "container"
            node.remote_rsc = remote
            cluster.have_remote_nodes = True
            child = clone.children[index]
            child.exclusive_discover = True
            if address is not None:
                child.meta.setdefault("external-ip", address)
            replica.remote, replica.child, replica.node = remote, child, node
            children.append(remote)
        data.replicas.append(replica)
    rsc.children = children + ([clone] if clone is not None else [])
    return rsc
