"""Failover times of a 3-node hakeeper cluster in network namespaces, on real etcd, beside
Pacemaker's measured on this machine with the same probe and the same faults.

    sudo .venv/bin/python benchmarks/failover.py --runs 5

The cluster (tests/node/nscluster.py): real redis (ocf:heartbeat:redis) as a promotable
clone on the three nodes (promoted-max 1, notify=true: the agent re-points the replicas),
the VIP colocated with the Promoted instance and started after the promotion, as
Pacemaker's lab runs it (--group: redis and the VIP in one group instead); stonith enabled
with the lab fence agent, leases of --ttl seconds. The probe runs in a surviving node's
namespace and loops on `INFO replication` at VIP:6379 every 20 ms; a figure is the time
from the fault to the first answer `role:master` after it (from another redis process than
before the fault).

- node kill: every process of the VIP's node is SIGKILLed; the node is then started again.
- link cut: the node's link to the bridge goes down; then up, and its daemon started again.
- redis killed: SIGKILL of redis-server on the VIP's node (the master); the scheduler
  recovers it as Pacemaker would (promotable: restarted and promoted in place, or a
  replica promoted).
- process crash -> recovery begun / restart begun: same fault, time until the daemon logs
  the first action of the recovery (the stop of the VIP) and the start of redis
  (the exit is heard through a pidfd, not at the next monitor).

Pacemaker's figures (medians of 3, /work/shared/tools/pacemaker-lab/failover/results.md):
node kill 10.5 s, link cut 11.6 s, redis killed 16.0 s; a crash is seen at the next
monitor (up to its interval).
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hakeeper.coord import Coordinator
from node.nscluster import NODES, NsCluster, first_master_after, missing, wait_for

PACEMAKER = {"kill": 10.5, "cut": 11.6, "redis": 16.0}
LABELS = {
    "kill": "node kill -> master at the VIP",
    "cut": "link cut -> master at the VIP",
    "redis": "redis killed -> master at the VIP",
    "recovery": "process crash -> recovery begun",
    "crash": "process crash -> restart begun",
}


def settle(cluster: NsCluster, coord: Coordinator, timeout: float = 90) -> str:
    """Wait for redis and the VIP to run together on one node with every node a member.
    A daemon that exited meanwhile (it fenced itself: on a loaded machine a renewal can
    miss the 0.6 s deadline) is started again, as a supervisor would, and said."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for node, proc in cluster.daemons.items():
            if proc.poll() is not None:
                print(
                    f"note: {node}'s daemon had exited ({proc.returncode}): starting it again",
                    flush=True,
                )
                cluster.start_daemon(node)
        owner = cluster.settled(coord)
        if owner is not None:
            return owner
        time.sleep(0.1)
    raise AssertionError("the cluster did not settle")


def log_time(line: str) -> float:
    """The wall-clock time of a daemon log line."""
    stamp = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
    return stamp.timestamp()


def logged(cluster: NsCluster, node: str, text: str, after_wall: float, timeout: float) -> float:
    """When the node's daemon first logged a line with text after after_wall."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in cluster.log(node).splitlines():
            if text in line and log_time(line) > after_wall:
                return log_time(line)
        time.sleep(0.05)
    raise AssertionError(f"{node} never logged {text!r}")


def trial(cluster: NsCluster, coord: Coordinator, fault: str) -> dict[str, float]:
    owner = settle(cluster, coord)
    survivor = next(n for n in NODES if n != owner)
    proc, probe = cluster.observe("hk-probe", survivor, cluster.vip, "6379")
    wait_for("the probe to hear the master", lambda: " master " in probe.read_text())
    try:
        wall = time.time()
        if fault == "kill":
            at = cluster.kill_node(owner)
        elif fault == "cut":
            at = cluster.cut(owner)
        else:
            at = cluster.kill_redis(owner)
        answered = first_master_after(probe, at, 30)
        if answered is None:
            raise AssertionError(f"{fault}: no master answered at the VIP")
        found = {fault if fault != "crash" else "redis": answered - at}
        if fault == "redis":
            # the recovery's first action (the group's VIP stops first), then redis's start
            found["recovery"] = logged(cluster, owner, "running stop", wall, 10) - wall
            found["crash"] = logged(cluster, owner, "running start redis", wall, 10) - wall
    finally:
        proc.kill()
        proc.wait()
    if fault == "cut":
        cluster.mend(owner)
    if fault in ("kill", "cut"):
        daemon = cluster.daemons[owner]
        if daemon.poll() is None:  # fencing killed it; in case it did not
            daemon.kill()
        daemon.wait()
        cluster.start_daemon(owner)
    settle(cluster, coord)
    return found


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def idle(cluster: NsCluster, seconds: float) -> None:
    """Each settled daemon's resident memory and share of a core over `seconds`."""
    pids = {n: p.pid for n, p in cluster.daemons.items()}
    before = {n: _cpu_ticks(pid) for n, pid in pids.items()}
    time.sleep(seconds)
    ticks = os.sysconf("SC_CLK_TCK")
    for node, pid in sorted(pids.items()):
        cpu = (_cpu_ticks(pid) - before[node]) / ticks / seconds * 100
        print(
            f"idle {node}: RSS {_rss_mib(pid):.1f} MiB, CPU {cpu:.2f}% of a core over "
            f"{seconds:.0f} s (monitors every {cluster.monitor})",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--faults",
        default="kill,cut,redis",
        help="comma list of kill, cut, redis (redis also gives the crash figure)",
    )
    parser.add_argument("--ttl", type=float, default=1.0, help="lease ttl (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--group",
        dest="promotable",
        action="store_false",
        help="redis and the VIP in one group (default: redis a promotable clone)",
    )
    parser.add_argument(
        "--idle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="first measure the settled daemons' RSS and CPU for this long",
    )
    args = parser.parse_args()
    reason = missing()
    if reason is not None:
        sys.stderr.write(f"failover benchmark: {reason}\n")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="hk-failover-"))
    cluster = NsCluster(
        workdir, ttl=args.ttl, fence_after=round(args.ttl * 0.6, 2), promotable=args.promotable
    )
    results: dict[str, list[float]] = {}
    coord = None
    try:
        coord = cluster.start()
        if args.idle:
            settle(cluster, coord)
            idle(cluster, args.idle)
        for fault in args.faults.split(","):
            for run in range(args.runs):
                found = trial(cluster, coord, fault)
                for key, value in found.items():
                    results.setdefault(key, []).append(value)
                figures = ", ".join(f"{LABELS[k]} {v:.2f} s" for k, v in found.items())
                print(f"{fault} run {run + 1}: {figures}", flush=True)
    finally:
        if coord is not None:
            coord.close()
        cluster.stop()
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
    setup = "redis promotable clone, VIP on the master" if args.promotable else "redis+VIP group"
    print(
        f"\n{setup}; lease ttl {args.ttl} s, self-fencing after {cluster.fence_after} s, "
        f"etcd heartbeat 50 ms / election 500 ms, {args.runs} runs each; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(f"{'fault':36} {'min':>7} {'median':>7} {'max':>7}   Pacemaker (median of 3)")
    for key in ("kill", "cut", "redis", "recovery", "crash"):
        if key not in results:
            continue
        values = results[key]
        median = statistics.median(values)
        pcmk = PACEMAKER.get(key)
        theirs = (
            f"{pcmk:5.1f} s  ({pcmk / median:.1f}x ours)" if pcmk else "up to the monitor interval"
        )
        print(f"{LABELS[key]:36} {min(values):6.2f}s {median:6.2f}s {max(values):6.2f}s   {theirs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
