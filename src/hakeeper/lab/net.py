"""The lab's network: a bridge on the host, a namespace per node linked to it by a veth.

The host end of the bridge holds the .254 address of every network, so the operator's
shell (and `hakeeper status` against the store) reaches every node and VIP directly.
"""

from __future__ import annotations

import ipaddress
import os

from hakeeper.lab import system
from hakeeper.lab.plan import NODE_NIC, LabPlan, Net, Node


def bridge_exists(plan: LabPlan) -> bool:
    return os.path.exists(f"/sys/class/net/{plan.bridge}")


def make_bridge(plan: LabPlan) -> None:
    system.run(["ip", "link", "add", plan.bridge, "type", "bridge"])
    for net in Net:
        prefix = plan.net(net).prefixlen
        system.run(
            ["ip", "addr", "add", f"{plan.bridge_address(net)}/{prefix}", "dev", plan.bridge]
        )
    system.run(["ip", "link", "set", plan.bridge, "up"])


def make_node(plan: LabPlan, node: Node) -> None:
    """The node's namespace, loopback up, its eth0 on the bridge with an address per network."""
    ns = node.name
    system.run(["ip", "netns", "add", ns])
    system.run(["ip", "-n", ns, "link", "set", "lo", "up"])
    system.run(
        ["ip", "link", "add", node.veth, "type", "veth", "peer", "name", NODE_NIC, "netns", ns]
    )
    system.run(["ip", "link", "set", node.veth, "master", plan.bridge, "up"])
    for net, address in node.addresses:
        prefix = plan.net(net).prefixlen
        system.run(["ip", "-n", ns, "addr", "add", f"{address}/{prefix}", "dev", NODE_NIC])
    system.run(["ip", "-n", ns, "link", "set", NODE_NIC, "up"])


def remove_node(node: Node) -> None:
    """Deleting the namespace takes its eth0 and the veth's host end with it."""
    system.attempt(["ip", "netns", "del", node.name])
    if os.path.exists(f"/sys/class/net/{node.veth}"):
        system.attempt(["ip", "link", "del", node.veth])


def remove_bridge(plan: LabPlan) -> None:
    if bridge_exists(plan):
        system.attempt(["ip", "link", "del", plan.bridge])


def set_link(node: Node, up: bool) -> None:
    """Cut (or mend) the node's cable: the host end of its veth, down or up."""
    system.run(["ip", "link", "set", node.veth, "up" if up else "down"])


def flush_vips(plan: LabPlan, node: Node) -> None:
    """Remove every address of eth0 but the node's own: what a reboot does to its VIPs."""
    out = system.run(["ip", "-n", node.name, "-o", "-4", "addr", "show", "dev", NODE_NIC])
    own = {address for _, address in node.addresses}
    for line in out.stdout.splitlines():
        fields = line.split()
        if "inet" in fields:
            cidr = fields[fields.index("inet") + 1]
            if cidr.split("/")[0] not in own:
                system.attempt(["ip", "-n", node.name, "addr", "del", cidr, "dev", NODE_NIC])


def host_addresses(plan: LabPlan) -> list[str]:
    """Addresses of the lab's networks still on any host interface (none after down)."""
    out = system.attempt(["ip", "-o", "-4", "addr", "show"])
    nets = [plan.net(net) for net in Net]
    found = []
    for line in out.stdout.splitlines():
        fields = line.split()
        if "inet" in fields:
            cidr = fields[fields.index("inet") + 1]
            if any(ipaddress.ip_interface(cidr).ip in n for n in nets):
                found.append(f"{fields[1]} {cidr}")
    return found


#: RabbitMQ's inter-node (Erlang distribution) port: 20000 + the AMQP port
RABBITMQ_DIST_PORT = 25672
_CUT_TABLE = "hakeeper_lab_cut"


def cut_port(plan: LabPlan, node: Node, port: int) -> list[str]:
    """Cut one port between the node and its peers, both ways, while everything else flows
    (a partition of one service's cluster links): an nftables table in the node's namespace
    that answers the port's packets to and from the other nodes with a TCP reset. Its
    own address is not filtered, so the node's local tools (rabbitmqctl) still work."""
    peers = [n for n in plan.nodes if n.name != node.name]
    addresses = ", ".join(n.internal for n in peers)

    def rules(addr: str) -> str:  # both ends of a connection may be the port
        return " ".join(
            f"ip {addr} {{ {addresses} }} tcp {side} {port} reject with tcp reset;"
            for side in ("dport", "sport")
        )

    script = (
        f"table inet {_CUT_TABLE} {{\n"
        f"  chain input {{ type filter hook input priority 0; {rules('saddr')} }}\n"
        f"  chain output {{ type filter hook output priority 0; {rules('daddr')} }}\n"
        "}\n"
    )
    clear_cuts(node)
    system.run(["ip", "netns", "exec", node.name, "nft", "-f", "-"], stdin=script.encode())
    return [n.name for n in peers]


def clear_cuts(node: Node) -> bool:
    """Remove the node's port cuts; whether there were any."""
    listed = system.attempt(["ip", "netns", "exec", node.name, "nft", "list", "tables"])
    if f"inet {_CUT_TABLE}" not in listed.stdout:
        return False
    system.run(["ip", "netns", "exec", node.name, "nft", "delete", "table", "inet", _CUT_TABLE])
    return True
