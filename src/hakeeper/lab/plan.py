"""The lab's address plan: nodes, networks, VIPs and paths, as plain data (no I/O).

Networks follow the seeds' TripleO controllers: internal API 172.17.1.0/24, external
(public) 10.0.0.0/24, storage 172.17.3.0/24, storage management 172.17.4.0/24. All of them
share one bridge on the host and one interface (eth0) per node: one L2 segment with four
subnets costs a quarter of the veths and `ip` calls of four bridges, and a link cut still
cuts the node from all of them at once, as a pulled cable does.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field

DEFAULT_DIR = "/var/lib/hakeeper/lab"
DEFAULT_CACHE = "/var/cache/hakeeper/lab"
NODE_NIC = "eth0"
ETCD_CLIENT_PORT = 2379
ETCD_PEER_PORT = 2380
#: the stand-in OpenStack API each node serves behind HAProxy (keystone's port)
API_PORT = 5000
#: the process that holds a node's namespaces (its name, so fencing can spare it)
HOLDER_NAME = "hk-holder"
REDIS_PORT = 6379


class Net(enum.Enum):
    INTERNAL = "internal_api"
    EXTERNAL = "external"
    STORAGE = "storage"
    STORAGE_MGMT = "storage_mgmt"


class Profile(enum.Enum):
    OPENSTACK = "openstack"
    MINIMAL = "minimal"


class StoreKind(enum.Enum):
    ETCD = "etcd"
    SQLITE = "sqlite"


DEFAULT_NETS: dict[Net, str] = {
    Net.INTERNAL: "172.17.1.0/24",
    Net.EXTERNAL: "10.0.0.0/24",
    Net.STORAGE: "172.17.3.0/24",
    Net.STORAGE_MGMT: "172.17.4.0/24",
}

#: host part of each VIP, as in the seeds (internal API .10, redis .11, public .101)
VIP_HOSTS: tuple[tuple[str, Net, int], ...] = (
    ("internal_api", Net.INTERNAL, 10),
    ("redis", Net.INTERNAL, 11),
    ("public", Net.EXTERNAL, 101),
    ("storage", Net.STORAGE, 10),
    ("storage_mgmt", Net.STORAGE_MGMT, 10),
)
#: node i gets host part NODE_HOST_BASE + i on every network; the host bridge gets .254
NODE_HOST_BASE = 21
BRIDGE_HOST = 254


@dataclass(frozen=True, slots=True)
class Vip:
    name: str  # internal_api, redis, public, storage, storage_mgmt
    net: Net
    ip: str
    prefix: int

    @property
    def resource_id(self) -> str:
        return f"ip-{self.ip}"


@dataclass(frozen=True, slots=True)
class Node:
    name: str  # also its network namespace's name
    index: int
    addresses: tuple[tuple[Net, str], ...]
    veth: str  # the host end of its link, on the bridge

    def address(self, net: Net) -> str:
        return dict(self.addresses)[net]

    @property
    def internal(self) -> str:
        return self.address(Net.INTERNAL)


@dataclass(frozen=True, slots=True)
class LabPlan:
    """Everything `lab up` makes, named. `prefix` names the nodes (ctl0, ctl1...)."""

    nodes: tuple[Node, ...]
    nets: tuple[tuple[Net, str], ...]
    bridge: str
    directory: str
    cache: str
    profile: Profile
    store: StoreKind
    vips: tuple[Vip, ...] = field(default=())

    def net(self, net: Net) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(dict(self.nets)[net])

    def bridge_address(self, net: Net) -> str:
        return str(self.net(net)[BRIDGE_HOST])

    def vip(self, name: str) -> Vip:
        return next(v for v in self.vips if v.name == name)

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def node_dir(self, node: str) -> str:
        return f"{self.directory}/nodes/{node}"

    @property
    def private_dir(self) -> str:
        """Where each node sees its own node_dir (bound there in its mount namespace)."""
        return f"{self.directory}/node"

    @property
    def store_url(self) -> str:
        return self.store_url_for(None)

    def store_url_for(self, node: str | None) -> str:
        """The store as `node` reaches it: its own etcd member first, as a controller talks
        to the member beside it; a node that dies then takes only its own daemon's
        connection with it."""
        if self.store is StoreKind.SQLITE:
            return f"sqlite://{self.directory}/store.db?poll_interval=0.02"
        members = sorted(self.nodes, key=lambda n: n.name != node)
        endpoints = ",".join(f"{n.internal}:{ETCD_CLIENT_PORT}" for n in members)
        return f"etcd://{endpoints}?namespace=/hakeeper/&timeout=2"


def make_plan(
    nodes: int = 3,
    *,
    prefix: str = "ctl",
    bridge: str = "hklab0",
    directory: str = DEFAULT_DIR,
    cache: str = DEFAULT_CACHE,
    profile: Profile = Profile.OPENSTACK,
    store: StoreKind = StoreKind.ETCD,
    nets: dict[Net, str] | None = None,
) -> LabPlan:
    """The plan for `nodes` controllers. Raises ValueError for a count or network that
    cannot hold them."""
    if not 1 <= nodes <= 9:
        raise ValueError(f"--nodes must be between 1 and 9, not {nodes}")
    networks = {net: ipaddress.IPv4Network(cidr) for net, cidr in (nets or DEFAULT_NETS).items()}
    for net in Net:
        if net not in networks:
            raise ValueError(f"no subnet for the {net.value} network")
        if networks[net].prefixlen > 24:
            raise ValueError(f"the {net.value} network {networks[net]} is smaller than a /24")
    made = tuple(
        Node(
            name=f"{prefix}{i}",
            index=i,
            addresses=tuple((net, str(networks[net][NODE_HOST_BASE + i])) for net in Net),
            veth=f"{bridge[:8]}-{prefix[:3]}{i}",
        )
        for i in range(nodes)
    )
    vips = tuple(Vip(name, net, str(networks[net][host]), 32) for name, net, host in VIP_HOSTS)
    return LabPlan(
        nodes=made,
        nets=tuple((net, str(networks[net])) for net in Net),
        bridge=bridge,
        directory=directory.rstrip("/"),
        cache=cache.rstrip("/"),
        profile=profile,
        store=store,
        vips=vips,
    )
