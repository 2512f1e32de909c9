"""A lab node as a machine: its own network and mount namespaces, its processes.

Each node gets a holder process (`sleep infinity`) started in the node's network namespace
and in a new private mount namespace where
- /run is a fresh tmpfs (pidfiles, OCF state in /run/resource-agents, podman's runroot: a
  service that moves between nodes must not find the other node's pidfile), with the
  host's /run/netns carried over so containers can join the node's network;
- PRIVATE (LAB/node) is the node's own directory LAB/nodes/NAME, so one configuration
  (the CIB's paths) means each node's own files, as on separate machines.
etcd and the daemon then enter both namespaces (`nsenter -t HOLDER -n -m`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hakeeper.lab import system
from hakeeper.lab.plan import ETCD_CLIENT_PORT, ETCD_PEER_PORT, HOLDER_NAME, LabPlan, Node
from hakeeper.reports import CommandError, Report, codes

#: the daemons' lease. Their etcd members live in the nodes, so losing or cutting off a
#: node can cost etcd its leader; the survivors' keepalives then wait for an election (up to
#: about 1 s with these timings) and must not hit the daemon's self-fence deadline (0.6 x
#: ttl): with a ttl of 2 s all three daemons fenced themselves when the etcd leader's node
#: was cut off; with 3 s, in a CI run (2026-12-07, the full suite in parallel on 2 cores),
#: cutting one node's link also lost a second node's daemon and with it the quorum.
DAEMON_TTL = 4.0

# In a new private mount namespace, still in the host's network namespace: keep copies of
# the cgroup tree (runc needs it) and of /run/netns, enter the node's network namespace,
# mount a sysfs of that namespace (its /sys/class/net is the node's), put the copies back,
# give the node its own /run, and bind the node's directory at PRIVATE. (`ip netns exec`
# would remount /sys without the cgroup tree, and runc then finds no cgroup mount.)
HOLDER_SCRIPT = """set -e
N="$1"; P="$2"; NS="$3"
mkdir -p "$N/.cgroup" "$N/.netns"
mount --rbind /sys/fs/cgroup "$N/.cgroup"
mount --rbind /run/netns "$N/.netns"
exec nsenter --net="/run/netns/$NS" sh -c '
set -e
N="$1"; P="$2"
umount -l /sys
mount -t sysfs lab-sys /sys
mount --move "$N/.cgroup" /sys/fs/cgroup
mount -t tmpfs -o mode=755 lab-run /run
mkdir -p /run/netns /run/lock /run/resource-agents
mount --move "$N/.netns" /run/netns
mount --bind "$N" "$P"
ln -sf "$(command -v sleep)" "$N/hk-holder"
exec "$N/hk-holder" infinity
' inner "$N" "$P"
"""


@dataclass(frozen=True, slots=True)
class Proc:
    """A process the lab started: its PID and start time (so a reused PID is not killed)."""

    name: str
    pid: int
    started: int | None

    def to_doc(self) -> dict[str, object]:
        return {"name": self.name, "pid": self.pid, "started": self.started}

    @staticmethod
    def from_doc(doc: Mapping[str, object]) -> Proc:
        started = doc.get("started")
        return Proc(
            str(doc["name"]),
            int(str(doc["pid"])),
            int(str(started)) if started is not None else None,
        )

    @property
    def alive(self) -> bool:
        return system.alive(self.pid, self.started)


def _spawn(argv: Sequence[str], log_path: str, env: Mapping[str, str], name: str) -> Proc:
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=dict(env),
            start_new_session=True,
            close_fds=True,
        )
    # reaped by nobody: the lab's processes outlive `lab up`; a thread would die with it
    return Proc(name, proc.pid, system.start_time(proc.pid))


def start_holder(plan: LabPlan, node: Node) -> Proc:
    node_dir = plan.node_dir(node.name)
    os.makedirs(plan.private_dir, exist_ok=True)
    proc = _spawn(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            HOLDER_SCRIPT,
            "holder",
            node_dir,
            plan.private_dir,
            node.name,
        ],
        f"{node_dir}/holder.log",
        system.ENV,
        "holder",
    )
    # ready when its mount namespace differs from ours and /run is the private tmpfs
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        if _cmdline(proc.pid).startswith(f"{node_dir}/{HOLDER_NAME}"):
            return proc
        if not proc.alive:
            break
        time.sleep(0.01)
    with open(f"{node_dir}/holder.log", errors="replace") as f:
        said = f.read().strip()
    raise CommandError(
        Report.error(
            codes.LAB_STEP_FAILED,
            f"the namespace holder of {node.name} did not start: {said}",
            hint="needs root, util-linux (unshare, nsenter) and iproute2",
        )
    )


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def enter(holder: Proc, argv: Sequence[str]) -> list[str]:
    """argv run inside the node: its network and mount namespaces."""
    return ["nsenter", "-t", str(holder.pid), "-n", "-m", "--", *argv]


# What a power cycle empties, in the node's mount namespace: every mount below /run (the
# node's own /run/netns excepted: it is the host's) and below the containers' graph root
# (overlay roots, /dev/shm of containers whose cleanup never ran), then /run itself.
REBOOT_SCRIPT = """set -e
for point in "$@"; do umount -l "$point" 2>/dev/null || true; done
find /run -mindepth 1 -maxdepth 1 ! -name netns -exec rm -rf --one-file-system {} +
mkdir -p /run/lock /run/resource-agents
"""


def reboot_volatile(plan: LabPlan, holder: Proc) -> None:
    """Make a node whose processes were all killed (its fence agent powered it off) boot as
    a machine does: with an empty /run and nothing mounted from before. A container runtime
    then knows its containers stopped (podman's state lives under /run and would still say
    running: runc, not told, answers an exec "cannot exec in a stopped container")."""
    try:
        with open(f"/proc/{holder.pid}/mountinfo") as f:
            points = volatile_mounts(f.read(), f"{plan.private_dir}/containers/")
        done = subprocess.run(
            enter(holder, ["sh", "-c", REBOOT_SCRIPT, "reboot", *points]),
            capture_output=True,
            text=True,
            timeout=60,
        )
        why = done.stderr.strip()[-300:] if done.returncode else ""
    except (OSError, subprocess.TimeoutExpired) as exc:
        why = str(exc)
    if why:
        raise CommandError(
            Report.error(
                codes.LAB_STEP_FAILED,
                f"could not empty the /run of the node held by pid {holder.pid}: {why}",
                hint="`hakeeper lab down` then `hakeeper lab up`",
            )
        )


def volatile_mounts(mountinfo: str, graph: str) -> list[str]:
    """What a boot no longer has mounted, from the node's /proc/PID/mountinfo: every mount
    below the node's own /run (the one visible at /run, not the host's it hides; its netns
    subtree excepted) and below the containers' graph root, the deepest first."""
    mounts = []  # (id, parent, mount point)
    for line in mountinfo.splitlines():
        fields = line.split()
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), fields[4])
        mounts.append((fields[0], fields[1], point))
    runs = [m for m in mounts if m[2] == "/run"]
    below: set[str] = {runs[-1][0]} if runs else set()
    points = []
    for mid, parent, point in mounts:  # a mount is listed after its parent
        if parent in below and point != "/run/netns":
            below.add(mid)
            points.append(point)
        elif point.startswith(graph):
            points.append(point)
    return sorted(points, key=lambda p: p.count("/"), reverse=True)


def start_etcd(plan: LabPlan, node: Node, holder: Proc) -> Proc:
    peers = ",".join(f"{n.name}=http://{n.internal}:{ETCD_PEER_PORT}" for n in plan.nodes)
    client = f"http://{node.internal}:{ETCD_CLIENT_PORT}"
    argv = [
        "etcd",
        "--name",
        node.name,
        "--data-dir",
        f"{plan.private_dir}/etcd",
        "--listen-client-urls",
        client,
        "--advertise-client-urls",
        client,
        "--listen-peer-urls",
        f"http://{node.internal}:{ETCD_PEER_PORT}",
        "--initial-advertise-peer-urls",
        f"http://{node.internal}:{ETCD_PEER_PORT}",
        "--initial-cluster",
        peers,
        "--initial-cluster-state",
        "new",
        "--initial-cluster-token",
        "hakeeper-lab",
        # measured here: a lease of TTL 1 is seen expiring in about 1 s with these
        "--heartbeat-interval",
        "50",
        "--election-timeout",
        "500",
        # a member back from a partition must not force an election (etcd 3.4's default
        # lets it: every daemon's keepalive then stalls past its self-fence deadline)
        "--pre-vote",
        "--logger",
        "zap",
        "--log-outputs",
        "stderr",
    ]
    return _spawn(enter(holder, argv), f"{plan.node_dir(node.name)}/etcd.log", system.ENV, "etcd")


def daemon_env(plan: LabPlan) -> dict[str, str]:
    return {
        **system.ENV,
        "HOME": "/root",
        "CONTAINERS_CONF": f"{plan.directory}/podman/containers.conf",
        "CONTAINERS_STORAGE_CONF": f"{plan.directory}/podman/storage.conf",
        "PYTHONUNBUFFERED": "1",
    }


def start_daemon(plan: LabPlan, node: Node, holder: Proc) -> Proc:
    argv = [
        sys.executable,
        "-m",
        "hakeeper.cli.main",
        "node",
        "run",
        "--name",
        node.name,
        "--store",
        plan.store_url_for(node.name),
        "--ttl",
        str(DAEMON_TTL),
    ]
    return _spawn(
        enter(holder, argv), f"{plan.node_dir(node.name)}/daemon.log", daemon_env(plan), "daemon"
    )


def rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None
