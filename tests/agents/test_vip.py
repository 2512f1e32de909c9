"""The built-in VIP agent on real interfaces in network namespaces (root)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from hakeeper.agents import LocalAgentRunner, OcfRc, OpRequest, OpStatus, Vip, VipAgent
from hakeeper.model.config import Agent

from .conftest import Lan, ip


def addrs(ns: str) -> str:
    return ip("-n", ns, "-o", "addr", "show", "dev", "eth0")


def test_start_monitor_stop_are_idempotent(lan: Lan, arping: str) -> None:
    node = lan.names[0]
    vip = Vip(ip=f"{lan.subnet}.200", nic="eth0", cidr_netmask=24, netns=node)
    agent = VipAgent()
    assert agent.monitor(vip).rc == OcfRc.NOT_RUNNING
    assert agent.start(vip).rc == OcfRc.OK
    assert f"{vip.ip}/24" in addrs(node)
    assert agent.monitor(vip).rc == OcfRc.OK
    assert agent.start(vip).rc == OcfRc.OK  # already there: still OK, still one address
    assert addrs(node).count(f"{vip.ip}/24") == 1
    assert agent.stop(vip).rc == OcfRc.OK
    assert vip.ip not in addrs(node)
    assert agent.monitor(vip).rc == OcfRc.NOT_RUNNING
    assert agent.stop(vip).rc == OcfRc.OK  # absent: stop succeeds


def test_missing_interface(lan: Lan) -> None:
    vip = Vip(ip=f"{lan.subnet}.201", nic="nope0", netns=lan.names[0])
    agent = VipAgent()
    assert agent.start(vip).rc == OcfRc.NOT_CONFIGURED
    assert agent.monitor(vip).rc == OcfRc.NOT_RUNNING
    assert agent.stop(vip).rc == OcfRc.OK


def test_as_runner_with_ipaddr2_parameters(lan: Lan) -> None:
    runner = LocalAgentRunner(builtin_ipaddr2=True)
    params = {"ip": f"{lan.subnet}.202", "cidr_netmask": "24", "nic": "eth0", "netns": lan.names[1]}
    ipaddr2 = Agent("ocf", "heartbeat", "IPaddr2")
    assert runner.run(OpRequest("vip", "start", "n", ipaddr2, params=params)).rc == OcfRc.OK
    assert params["ip"] in addrs(lan.names[1])
    assert (
        runner.run(OpRequest("vip", "stop", "n", Agent("ocf", "hakeeper", "VIP"), params=params)).rc
        == OcfRc.OK
    )
    bad = runner.run(OpRequest("vip", "start", "n", ipaddr2, params={"ip": "x", "nic": "e"}))
    assert (bad.status, bad.rc) == (OpStatus.ERROR, OcfRc.NOT_CONFIGURED)


CLIENT = """
import socket, sys, time
host, port, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()
began = time.monotonic()
while time.monotonic() - began < limit:
    try:
        socket.create_connection((host, port), timeout=0.05).close()
        print(time.monotonic() - began, flush=True)
        break
    except OSError:
        time.sleep(0.002)
else:
    print("unreachable", flush=True)
"""

SERVER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(16)
print("listening", flush=True)
while True:
    s.accept()[0].close()
"""


def test_vip_moves_and_clients_follow_the_gratuitous_arp(lan: Lan, arping: str) -> None:
    """A client that cached the old owner's MAC reaches the new owner right after the move:
    the gratuitous ARP updates its neighbour entry at once. Without it the entry would stay
    REACHABLE with the old MAC until it goes stale (base_reachable_time, 30 s here), so a
    client that gets through within its 5 s budget, to the new MAC, proves the ARP; the time
    it took is printed, and measured by benchmarks/failover.py, not asserted."""
    a, b, client = lan.names
    address, port = f"{lan.subnet}.210", 7777
    agent = VipAgent()
    on_a = Vip(ip=address, nic="eth0", cidr_netmask=24, netns=a)
    on_b = Vip(ip=address, nic="eth0", cidr_netmask=24, netns=b)
    server = subprocess.Popen(
        ["ip", "netns", "exec", b, sys.executable, "-c", SERVER, str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "listening"
        assert agent.start(on_a).rc == OcfRc.OK
        # the client learns A's MAC (A refuses the port; the ARP entry is what matters)
        subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                client,
                sys.executable,
                "-c",
                "import socket,sys\ntry: socket.create_connection((sys.argv[1], 7777), "
                "timeout=1)\nexcept OSError: pass",
                address,
            ],
            check=True,
        )
        assert lan.mac(0) in ip("-n", client, "neigh", "show", address)
        probe = subprocess.Popen(
            ["ip", "netns", "exec", client, sys.executable, "-c", CLIENT, address, str(port), "5"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert probe.stdout is not None and probe.stdin is not None
        assert probe.stdout.readline().strip() == "ready"
        began = time.monotonic()
        probe.stdin.write("go\n")
        probe.stdin.flush()
        stopped = agent.stop(on_a)
        started = agent.start(on_b)
        move = time.monotonic() - began
        answer = probe.stdout.readline().strip()
        probe.wait(timeout=10)
        assert (stopped.rc, started.rc) == (OcfRc.OK, OcfRc.OK)
        assert answer != "unreachable", "the client never reached the VIP's new owner"
        reachable = float(answer)
        print(
            f"\nVIP move: stop+start {move * 1000:.0f} ms; client reconnected after "
            f"{reachable * 1000:.0f} ms"
        )
        assert lan.mac(1) in ip("-n", client, "neigh", "show", address)
    finally:
        server.kill()
        server.wait()


@pytest.mark.parametrize("params", [{}, {"ip": "10.0.0.1"}, {"ip": "bad", "nic": "eth0"}])
def test_bad_parameters(params: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        Vip.from_params(params)
