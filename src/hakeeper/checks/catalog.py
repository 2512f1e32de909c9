"""Every probe `hakeeper check` knows: the capture key (also the file name read by
`--from DIR`), its area, whether it is per node, and how to run it on a live host."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hakeeper.checks import (
    ceph,
    cluster,
    containers,
    galera,
    haproxy,
    openstack,
    rabbitmq,
    redis,
    vips,
)
from hakeeper.checks.finding import Area


class Scope(enum.Enum):
    CLUSTER = "cluster"  # one capture for the whole cluster: DIR/KEY
    NODE = "node"  # one capture per node: DIR/NODE/KEY (DIR/KEY: this host)


class How(enum.Enum):
    HOST = "host"  # run argv on the host
    CONTAINER = "container"  # run argv inside the running container matching `container`
    FILE = "file"  # read the file at argv[0]
    SOCKET = "socket"  # send argv[1] to the unix socket at argv[0]


@dataclass(frozen=True, slots=True)
class ProbeSpec:
    key: str
    area: Area
    scope: Scope
    how: How
    argv: tuple[str, ...]
    container: str | None = None  # regex on container names, for How.CONTAINER
    needs_env: tuple[str, ...] = ()  # any of these variables must be set (credentials)


_OS_CREDENTIALS = ("OS_CLOUD", "OS_AUTH_URL")
_BUNDLE = r"-bundle-(?:podman|docker)-\d+$"

PROBES: tuple[ProbeSpec, ...] = (
    ProbeSpec(
        cluster.KEY, Area.CLUSTER, Scope.CLUSTER, How.HOST, ("crm_mon", "-1", "--output-as=xml")
    ),
    ProbeSpec(
        containers.PODMAN_KEY,
        Area.CONTAINERS,
        Scope.NODE,
        How.HOST,
        ("podman", "ps", "--all", "--format", "json"),
    ),
    ProbeSpec(
        containers.DOCKER_KEY,
        Area.CONTAINERS,
        Scope.NODE,
        How.HOST,
        ("docker", "ps", "--all", "--format", "json"),
    ),
    ProbeSpec(
        galera.STATUS_KEY,
        Area.GALERA,
        Scope.NODE,
        How.CONTAINER,
        ("mysql", "-e", "SHOW GLOBAL STATUS LIKE 'wsrep_%'"),
        container="^galera" + _BUNDLE,
    ),
    ProbeSpec(galera.GRASTATE_KEY, Area.GALERA, Scope.NODE, How.FILE, (galera.GRASTATE_PATH,)),
    ProbeSpec(
        rabbitmq.KEY,
        Area.RABBITMQ,
        Scope.NODE,
        How.CONTAINER,
        ("rabbitmqctl", "cluster_status", "--formatter", "json"),
        container="^rabbitmq" + _BUNDLE,
    ),
    # TripleO's redis listens on the internal API address, not on loopback.
    ProbeSpec(
        redis.KEY,
        Area.REDIS,
        Scope.NODE,
        How.CONTAINER,
        (
            "sh",
            "-c",
            "redis-cli -h \"$(awk '/^bind/{print $2; exit}' /etc/redis.conf"
            ' 2>/dev/null || echo 127.0.0.1)" INFO replication',
        ),
        container="^redis" + _BUNDLE,
    ),
    ProbeSpec(
        haproxy.KEY, Area.HAPROXY, Scope.NODE, How.SOCKET, (haproxy.STATS_SOCKET, "show stat")
    ),
    ProbeSpec(vips.ADDR_KEY, Area.HAPROXY, Scope.NODE, How.HOST, ("ip", "-j", "addr", "show")),
    ProbeSpec(vips.CONFIG_KEY, Area.HAPROXY, Scope.NODE, How.FILE, (vips.CONFIG_PATH,)),
    ProbeSpec(vips.CIB_KEY, Area.HAPROXY, Scope.CLUSTER, How.HOST, ("cibadmin", "-Q")),
    ProbeSpec(ceph.KEY, Area.CEPH, Scope.CLUSTER, How.HOST, ("ceph", "-s", "-f", "json")),
    ProbeSpec(
        openstack.VOLUME_KEY,
        Area.OPENSTACK,
        Scope.CLUSTER,
        How.HOST,
        ("openstack", "volume", "service", "list", "-f", "json"),
        needs_env=_OS_CREDENTIALS,
    ),
    ProbeSpec(
        openstack.HYPERVISOR_KEY,
        Area.OPENSTACK,
        Scope.CLUSTER,
        How.HOST,
        ("openstack", "hypervisor", "list", "-f", "json"),
        needs_env=_OS_CREDENTIALS,
    ),
    ProbeSpec(
        openstack.AGENT_KEY,
        Area.OPENSTACK,
        Scope.CLUSTER,
        How.HOST,
        ("openstack", "network", "agent", "list", "-f", "json"),
        needs_env=_OS_CREDENTIALS,
    ),
)


def probes_for(areas: frozenset[Area]) -> tuple[ProbeSpec, ...]:
    """The probes the given areas need; galera, rabbitmq and redis also read the cluster
    status (expected sizes), haproxy too (where the VIPs are started), and everything in
    containers needs the container list."""
    wanted = set(areas)
    if wanted & {Area.GALERA, Area.RABBITMQ, Area.REDIS, Area.HAPROXY}:
        wanted.add(Area.CLUSTER)
    return tuple(p for p in PROBES if p.area in wanted)


def capture_path(key: str, node: str | None) -> str:
    """Where `check --from DIR` reads a capture, relative to DIR: DIR/KEY for the cluster's
    (or this host's), DIR/NODE/KEY for a node's."""
    scope = next((p.scope for p in PROBES if p.key == key), Scope.NODE)
    if scope is Scope.CLUSTER or node is None:
        return key
    return f"{node}/{key}"
