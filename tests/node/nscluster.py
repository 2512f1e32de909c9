"""Three hakeeper nodes in network namespaces on a bridge, with a real 3-member etcd.

The bed of the failover integration tests and of benchmarks/failover.py. Each node is a
namespace (eth0 on the bridge) running `hakeeper node run` on the etcd store; the bridge
lives in the host namespace with the etcd members listening on its address, so that
killing a node or cutting its link leaves etcd's quorum alone (etcd as the external
cluster it is in production). The configuration: a group of real redis (ocf:heartbeat:redis,
each node its own run directory through a #uname rule) and a VIP (the built-in agent) in
front of it, and the lab fence device (fence_hakeeper_lab) with stonith enabled. With
`promotable`, redis is instead a promotable clone (promoted-max 1, notify=true: the agent
re-points the replicas on a post-promote notification) on every node, the VIP colocated
with its Promoted instance and started after the promotion; node names resolve in every
namespace (/etc/netns/NS/hosts), since the agent makes replicas `SLAVEOF` the master's
node name.

Observers run *inside* the node namespaces as scripts whose process names the fence
agent spares: a probe that loops on `INFO replication` at VIP:6379 until role:master (the
probe of the Pacemaker measurements), and a sampler on every node recording whether the
node holds the VIP address and whether a redis master answers there.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from hakeeper.coord import Coordinator, StatusKind, connect

NODES = ("n1", "n2", "n3")
SPARED = "hk-sample,hk-probe"  # the observers survive a fencing
# The observers' interpreter is named in their #! line, not found through /usr/bin/env: so
# their process keeps the script's name (its comm), which the fence agent spares.

PROBE = r'''#!/usr/bin/python3
"""hk-probe VIP PORT: loop on INFO; print "t_monotonic status role run_id" a line (run_id
tells which redis process answered)."""
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
while True:
    t0 = time.monotonic(); role = "-"; run_id = "-"
    try:
        s = socket.create_connection((host, port), timeout=0.1)
        try:
            s.settimeout(0.5)
            s.sendall(b"INFO\r\n")
            data = b""
            while b"\r\n" not in data or len(data) < int(data[1:data.index(b"\r\n")]) + 5:
                chunk = s.recv(65536)
                if not chunk:
                    raise ConnectionResetError
                data += chunk
        finally:
            s.close()
        for line in data.decode().splitlines():
            if line.startswith("role:"):
                role = line[5:]
            elif line.startswith("run_id:"):
                run_id = line[7:]
        status = "ok"
    except ConnectionRefusedError:
        status = "refused"
    except (socket.timeout, TimeoutError):
        status = "timeout"
    except OSError as e:
        status = "error:" + type(e).__name__
    print(f"{t0:.6f} {status} {role} {run_id}", flush=True)
    time.sleep(0.02)
'''

SAMPLER = r'''#!/usr/bin/python3
"""hk-sample VIP: every 20 ms print "t_monotonic vip master": does this node hold the VIP
(binding to it succeeds only if it is a local address), does a redis master answer here."""
import socket, sys, time
vip = sys.argv[1]
while True:
    t = time.monotonic()
    try:
        b = socket.socket(); b.bind((vip, 0)); b.close(); has_vip = 1
    except OSError:
        has_vip = 0
    master = 0
    try:
        s = socket.create_connection(("127.0.0.1", 6379), timeout=0.05)
        s.settimeout(0.2); s.sendall(b"INFO replication\r\n")
        master = int(b"role:master" in s.recv(65536)); s.close()
    except OSError:
        pass
    print(f"{t:.6f} {has_vip} {master}", flush=True)
    time.sleep(0.02)
'''


def run(*argv: str, check: bool = True) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout


def missing() -> str | None:
    """What this machine lacks to run the cluster, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    for tool, package in (
        ("etcd", "etcd-server"),
        ("redis-server", "redis-server"),
        ("arping", "iputils-arping"),
        ("ip", "iproute2"),
    ):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian package {package})"
    if not Path("/usr/lib/ocf/resource.d/heartbeat/redis").is_file():
        return "resource-agents is not installed"
    return None


@dataclass
class NsCluster:
    workdir: Path
    ttl: float = 1.0
    fence_after: float = 0.6
    monitor: str = "1s"
    promotable: bool = False
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:4])
    daemons: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    etcd: list[subprocess.Popen[bytes]] = field(default_factory=list)
    observers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.subnet = f"10.{200 + int(self.tag[:2], 16) % 50}.{int(self.tag[2:], 16)}"
        self.bridge = f"hkb{self.tag}"
        self.host_addr = f"{self.subnet}.254"
        self.vip = f"{self.subnet}.50"
        self.store = (
            "etcd://" + ",".join(f"{self.host_addr}:{p}" for p in (2379, 2381, 2383)) + "?timeout=2"
        )

    # -- names ------------------------------------------------------------------------------

    def ns(self, node: str) -> str:
        return f"hk{self.tag}-{node}"

    def addr(self, node: str) -> str:
        return f"{self.subnet}.{NODES.index(node) + 1}"

    def port_of(self, node: str) -> str:
        return f"hk{self.tag}p{NODES.index(node)}"

    def rundir(self, node: str) -> Path:
        return self.workdir / f"redis-{node}"

    # -- building it ------------------------------------------------------------------------

    def start(self) -> Coordinator:
        """Network, etcd, daemons; the configuration written; returns a store client."""
        run("ip", "link", "add", self.bridge, "type", "bridge")
        self.created.append(f"link:{self.bridge}")
        run("ip", "addr", "add", f"{self.host_addr}/24", "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")
        for node in NODES:
            ns = self.ns(node)
            run("ip", "netns", "add", ns)
            self.created.append(f"netns:{ns}")
            run("ip", "-n", ns, "link", "set", "lo", "up")
            run(
                "ip",
                "link",
                "add",
                self.port_of(node),
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                ns,
            )
            self.created.append(f"link:{self.port_of(node)}")
            run("ip", "link", "set", self.port_of(node), "master", self.bridge, "up")
            run("ip", "-n", ns, "addr", "add", f"{self.addr(node)}/24", "dev", "eth0")
            run("ip", "-n", ns, "link", "set", "eth0", "up")
            self.rundir(node).mkdir(parents=True, exist_ok=True)
        self._write_hosts()
        self._start_etcd()
        (self.workdir / "redis.conf").write_text(
            'bind 0.0.0.0\nprotected-mode no\nport 6379\nsave ""\nappendonly no\n'
            f"dir {self.workdir}\nrepl-diskless-sync-delay 0\n"
        )
        for script, text in (("hk-probe", PROBE), ("hk-sample", SAMPLER)):
            path = self.workdir / script
            path.write_text(text)
            path.chmod(0o755)
        coord = connect(self.store)
        for node in NODES:
            self.start_daemon(node)
        wait_for("every daemon to join", lambda: coord.members().nodes == set(NODES), 30)
        coord.write_config(self.config(), expected_revision=0)
        return coord

    def _write_hosts(self) -> None:
        """Node names resolve to their addresses inside every node's namespace (`ip netns
        exec` binds /etc/netns/NS/hosts over /etc/hosts)."""
        hosts = "127.0.0.1 localhost\n" + "".join(f"{self.addr(n)} {n}\n" for n in NODES)
        for node in NODES:
            path = Path("/etc/netns") / self.ns(node) / "hosts"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(hosts)
            self.created.append(f"hosts:{path.parent}")

    def _start_etcd(self) -> None:
        etcd = shutil.which("etcd")
        assert etcd is not None
        peers = ",".join(f"m{i}=http://{self.host_addr}:{2380 + 2 * i}" for i in range(3))
        for i in range(3):
            client = f"http://{self.host_addr}:{2379 + 2 * i}"
            peer = f"http://{self.host_addr}:{2380 + 2 * i}"
            self.etcd.append(
                subprocess.Popen(
                    [
                        etcd,
                        "--name",
                        f"m{i}",
                        "--data-dir",
                        str(self.workdir / f"etcd-m{i}"),
                        "--listen-client-urls",
                        client,
                        "--advertise-client-urls",
                        client,
                        "--listen-peer-urls",
                        peer,
                        "--initial-advertise-peer-urls",
                        peer,
                        "--initial-cluster",
                        peers,
                        "--initial-cluster-state",
                        "new",
                        "--initial-cluster-token",
                        f"hk-{self.tag}",
                        "--heartbeat-interval",
                        "50",
                        "--election-timeout",
                        "500",
                        "--logger",
                        "zap",
                        "--log-outputs",
                        str(self.workdir / f"etcd-m{i}.log"),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )

        def healthy() -> bool:
            for i in range(3):
                try:
                    url = f"http://{self.host_addr}:{2379 + 2 * i}/health"
                    with urllib.request.urlopen(url, timeout=1) as reply:
                        if json.load(reply).get("health") != "true":
                            return False
                except (OSError, ValueError):
                    return False
            return True

        wait_for("etcd to be healthy", healthy, 30)

    def config(self) -> str:
        return self.promotable_config() if self.promotable else self.group_config()

    def _redis_params(self) -> str:
        rundirs = "".join(
            f'<instance_attributes id="redis-{n}" score="{10 - i}"><rule id="redis-{n}-r" '
            f'score="0"><expression id="redis-{n}-e" attribute="#uname" operation="eq" '
            f'value="{n}"/></rule><nvpair id="redis-{n}-d" name="rundir" '
            f'value="{self.rundir(n)}"/></instance_attributes>'
            for i, n in enumerate(NODES)
        )
        return (
            '<instance_attributes id="redis-i">'
            f'<nvpair id="redis-c" name="config" value="{self.workdir}/redis.conf"/>'
            '<nvpair id="redis-u" name="user" value="root"/></instance_attributes>'
            f"{rundirs}"
        )

    def _head(self) -> str:
        host_map = ";".join(f"{n}:{self.ns(n)}" for n in NODES)
        return (
            '<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.9"><configuration>'
            '<crm_config><cluster_property_set id="o">'
            '<nvpair id="o1" name="stonith-enabled" value="true"/>'
            '<nvpair id="o2" name="stonith-action" value="off"/>'
            "</cluster_property_set></crm_config><nodes/><resources>"
            '<primitive id="fence-lab" class="stonith" type="fence_hakeeper_lab">'
            '<instance_attributes id="f-i">'
            f'<nvpair id="f-m" name="pcmk_host_map" value="{host_map}"/>'
            f'<nvpair id="f-s" name="spare" value="{SPARED}"/>'
            "</instance_attributes></primitive>"
        )

    def _vip(self) -> str:
        return (
            '<primitive id="vip" class="ocf" provider="hakeeper" type="VIP">'
            '<instance_attributes id="vip-i">'
            f'<nvpair id="vip-ip" name="ip" value="{self.vip}"/>'
            '<nvpair id="vip-n" name="nic" value="eth0"/>'
            '<nvpair id="vip-c" name="cidr_netmask" value="24"/></instance_attributes>'
            f'<operations><op id="vip-m" name="monitor" interval="{self.monitor}" '
            'timeout="10s"/></operations></primitive>'
        )

    def promotable_config(self) -> str:
        """redis as a promotable clone, the VIP with its Promoted instance, after promotion."""
        return (
            f"{self._head()}"
            '<clone id="redis-clone"><meta_attributes id="rc-m">'
            '<nvpair id="rc-p" name="promotable" value="true"/>'
            '<nvpair id="rc-pm" name="promoted-max" value="1"/>'
            '<nvpair id="rc-n" name="notify" value="true"/></meta_attributes>'
            '<primitive id="redis" class="ocf" provider="heartbeat" type="redis">'
            f"{self._redis_params()}<operations>"
            f'<op id="redis-mp" name="monitor" interval="{self.monitor}" role="Promoted" '
            'timeout="10s"/>'
            f'<op id="redis-mu" name="monitor" interval="{self.unpromoted_monitor}" '
            'role="Unpromoted" timeout="10s"/>'
            '<op id="redis-s" name="start" interval="0" timeout="30s"/>'
            '<op id="redis-p" name="promote" interval="0" timeout="30s"/>'
            '<op id="redis-d" name="demote" interval="0" timeout="30s"/>'
            "</operations></primitive></clone>"
            f"{self._vip()}</resources><constraints>"
            '<rsc_colocation id="vip-with-master" rsc="vip" with-rsc="redis-clone" '
            'with-rsc-role="Promoted" score="INFINITY"/>'
            '<rsc_order id="promote-then-vip" first="redis-clone" first-action="promote" '
            'then="vip" then-action="start"/>'
            '</constraints><rsc_defaults><meta_attributes id="rd">'
            '<nvpair id="rd-s" name="resource-stickiness" value="100"/>'
            "</meta_attributes></rsc_defaults></configuration><status/></cib>"
        )

    @property
    def unpromoted_monitor(self) -> str:
        """The Unpromoted role's monitor interval: one that differs from the Promoted one."""
        return f"{_ms(self.monitor) * 2 / 1000:g}s"

    def group_config(self) -> str:
        """redis and the VIP in one group."""
        return (
            f"{self._head()}"
            '<group id="g">'
            '<primitive id="redis" class="ocf" provider="heartbeat" type="redis">'
            f"{self._redis_params()}<operations>"
            f'<op id="redis-m" name="monitor" interval="{self.monitor}" timeout="10s"/>'
            '<op id="redis-s" name="start" interval="0" timeout="30s"/>'
            "</operations></primitive>"
            f"{self._vip()}</group></resources>"
            '<constraints/><rsc_defaults><meta_attributes id="rd">'
            '<nvpair id="rd-s" name="resource-stickiness" value="100"/>'
            "</meta_attributes></rsc_defaults></configuration><status/></cib>"
        )

    # -- daemons and faults -----------------------------------------------------------------

    def start_daemon(self, node: str) -> None:
        with open(self.workdir / f"{node}.log", "ab") as out:
            self.daemons[node] = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    self.ns(node),
                    sys.executable,
                    "-m",
                    "hakeeper.cli.main",
                    "node",
                    "run",
                    "--name",
                    node,
                    "--store",
                    self.store,
                    "--ttl",
                    str(self.ttl),
                    "--fence-after",
                    str(self.fence_after),
                    "--state-dir",
                    str(self.workdir / f"run-{node}"),
                    *self.daemon_args(node),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def daemon_args(self, node: str) -> list[str]:
        """More flags for the daemon of node (a subclass's)."""
        return []

    def log(self, node: str) -> str:
        return (self.workdir / f"{node}.log").read_text(errors="replace")

    def kill_node(self, node: str) -> float:
        """Every process of the node dies at once, as in a power loss (observers aside)."""
        pids = [int(p) for p in run("ip", "netns", "pids", self.ns(node)).split()]
        at = time.monotonic()
        for pid in pids:
            if _comm(pid) not in SPARED.split(","):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        return at

    def cut(self, node: str) -> float:
        at = time.monotonic()
        run("ip", "link", "set", self.port_of(node), "down")
        return at

    def mend(self, node: str) -> None:
        run("ip", "link", "set", self.port_of(node), "up")

    def redis_pid(self, node: str) -> int:
        return int((self.rundir(node) / "redis-server.pid").read_text().split()[0])

    def kill_redis(self, node: str) -> float:
        pid = self.redis_pid(node)
        at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        return at

    # -- observers ---------------------------------------------------------------------------

    def observe(self, script: str, node: str, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
        out_path = self.workdir / f"{script}-{node}-{time.monotonic_ns()}.out"
        with open(out_path, "wb") as out:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", self.ns(node), str(self.workdir / script), *args],
                stdout=out,
                stderr=subprocess.DEVNULL,
            )
        self.observers.append(proc)
        return proc, out_path

    def vip_holders(self) -> set[str]:
        return {
            n
            for n in NODES
            if f" {self.vip}/"
            in run("ip", "-n", self.ns(n), "-o", "addr", "show", "dev", "eth0", check=False)
        }

    # -- what the store says ------------------------------------------------------------------

    def placed(self, coord: Coordinator) -> dict[str, str]:
        """resource -> the member whose history says it runs there and its monitor is ok."""
        members = coord.members().nodes
        where: dict[str, str] = {}
        for key, doc in coord.read_status().documents.items():
            if key.kind is not StatusKind.OP_HISTORY or key.node not in members:
                continue
            ops = doc["ops"]
            last = ops.get(f"{key.name}_last_0", {})
            monitor = ops.get(f"{key.name}_monitor_{_ms(self.monitor)}", {})
            if (
                last.get("rc-code") == 0
                and last.get("operation") in ("start", "monitor")
                and monitor.get("rc-code") == 0
            ):
                where[key.name] = key.node
        return where

    def promoted(self, coord: Coordinator) -> tuple[str | None, set[str]]:
        """(the member whose redis history says promoted and monitored so, the members
        whose redis is running unpromoted and monitored so)."""
        members = coord.members().nodes
        master, replicas = None, set()
        for key, doc in coord.read_status().documents.items():
            if key.kind is not StatusKind.OP_HISTORY or key.node not in members:
                continue
            if key.name != "redis":
                continue
            ops = doc["ops"]
            last = ops.get("redis_last_0", {})
            promoted = ops.get(f"redis_monitor_{_ms(self.monitor)}", {})
            unpromoted = ops.get(f"redis_monitor_{_ms(self.unpromoted_monitor)}", {})
            if promoted.get("rc-code") == 8 and last.get("rc-code") in (0, 8):
                master = key.node
            elif unpromoted.get("rc-code") == 0 and last.get("rc-code") == 0:
                replicas.add(key.node)
        return master, replicas

    def replication(self, node: str) -> dict[str, str]:
        """`INFO replication` of the node's redis, asked from the host over the bridge."""
        import socket

        try:
            with socket.create_connection((self.addr(node), 6379), timeout=1) as s:
                s.settimeout(1)
                s.sendall(b"INFO replication\r\n")
                data = b""
                while not data.endswith(b"\r\n\r\n") and len(data) < 65536:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except OSError:
            return {}
        lines = data.decode(errors="replace").splitlines()
        return dict(line.split(":", 1) for line in lines if ":" in line)

    def settled(self, coord: Coordinator) -> str | None:
        """The node running redis and the VIP, once both are monitored ok on one node, every
        node is a member and the VIP answers; else None. Promotable: the node of the one
        redis master (the others replicating from it, link up) and the VIP."""
        if coord.members().nodes != set(NODES):
            return None
        if self.promotable:
            return self._settled_promotable(coord)
        placed = self.placed(coord)
        node = placed.get("redis")
        if node is None or placed.get("vip") != node or self.vip_holders() != {node}:
            return None
        return node

    def _settled_promotable(self, coord: Coordinator) -> str | None:
        master, replicas = self.promoted(coord)
        if master is None or replicas != set(NODES) - {master}:
            return None
        if self.placed(coord).get("vip") != master or self.vip_holders() != {master}:
            return None
        if self.replication(master).get("role") != "master":
            return None
        for node in replicas:
            info = self.replication(node)
            if info.get("role") != "slave" or info.get("master_host") != master:
                return None
            if info.get("master_link_status") != "up":
                return None
        return master

    # -- tearing down ------------------------------------------------------------------------

    def stop(self) -> None:
        for proc in [*self.observers, *self.daemons.values()]:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
        for node in NODES:
            if f"netns:{self.ns(node)}" in self.created:
                for pid in run("ip", "netns", "pids", self.ns(node), check=False).split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        for proc in self.etcd:
            proc.kill()
            proc.wait(10)
        for item in reversed(self.created):
            kind, name = item.split(":", 1)
            if kind == "netns":
                run("ip", "netns", "del", name, check=False)
            elif kind == "hosts":
                shutil.rmtree(name, ignore_errors=True)
            else:
                run("ip", "link", "del", name, check=False)
        for node in NODES:  # the lab fence agent's record that it powered the node off
            Path(f"/run/hakeeper/fence-lab/{self.ns(node)}.off").unlink(missing_ok=True)


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _ms(interval: str) -> int:
    return int(float(interval.rstrip("s")) * 1000)


def wait_for(what: str, check: object, timeout: float = 10.0) -> object:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def first_master_after(path: Path, since: float, timeout: float) -> float | None:
    """When the probe first heard role:master after `since` from another redis process
    than the one that answered before (whose answers may still arrive just after the fault
    began), waiting up to timeout s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = None
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) != 4 or parts[1] != "ok":
                continue
            if float(parts[0]) <= since:
                before = parts[3]
            elif parts[2] == "master" and parts[3] != before:
                return float(parts[0])
        time.sleep(0.05)
    return None


def samples(path: Path) -> list[tuple[float, int, int]]:
    found = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            found.append((float(parts[0]), int(parts[1]), int(parts[2])))
    return found


def overlaps(
    series: dict[str, list[tuple[float, int, int]]], column: int
) -> list[tuple[float, list[str]]]:
    """Instants at which more than one node's latest sample has `column` (1: VIP, 2: master)
    set, each node's sample holding until its next one."""
    events = sorted((s[0], node, s[column]) for node, rows in series.items() for s in rows)
    state: dict[str, int] = {}
    found = []
    for t, node, value in events:
        state[node] = value
        holders = sorted(n for n, v in state.items() if v)
        if len(holders) > 1:
            found.append((t, holders))
    return found
