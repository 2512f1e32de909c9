"""Failover times of a 3-node hakeeper cluster in network namespaces, on real etcd, beside
Pacemaker's measured on this machine with the same probe and the same faults.

    sudo .venv/bin/python benchmarks/failover.py --runs 5

The cluster (tests/node/nscluster.py): real redis (ocf:heartbeat:redis) and a VIP in one
group, stonith enabled with the lab fence agent, leases of --ttl seconds. The probe runs in
a surviving node's namespace and loops on `INFO replication` at VIP:6379 every 20 ms; a
figure is the time from the fault to the first answer `role:master` after it.

- node kill: every process of the VIP's node is SIGKILLed; the node is then started again.
- link cut: the node's link to the bridge goes down; then up, and its daemon started again.
- redis killed: SIGKILL of redis-server on the VIP's node (restarted in place).
- process crash -> restart begun: same fault, time until the daemon logs the start of
  redis (the exit is heard through a pidfd, not at the next monitor).

Pacemaker's figures (medians of 3, /work/shared/tools/pacemaker-lab/failover/results.md):
node kill 10.5 s, link cut 11.6 s, redis killed 16.0 s; a crash is seen at the next
monitor (up to its interval).
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from node.nscluster import NODES, NsCluster, first_master_after, missing, wait_for

PACEMAKER = {"kill": 10.5, "cut": 11.6, "redis": 16.0}
LABELS = {
    "kill": "node kill -> master at the VIP",
    "cut": "link cut -> master at the VIP",
    "redis": "redis killed -> master at the VIP",
    "crash": "process crash -> restart begun",
}


def settle(cluster: NsCluster, coord: object, timeout: float = 60) -> str:
    owner = wait_for("the cluster to settle", lambda: cluster.settled(coord), timeout)  # type: ignore[arg-type]
    assert isinstance(owner, str)
    return owner


def log_time(line: str) -> float:
    """The wall-clock time of a daemon log line."""
    stamp = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
    return stamp.timestamp()


def restart_begun(cluster: NsCluster, node: str, after_wall: float, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in cluster.log(node).splitlines():
            if "running start redis" in line and log_time(line) > after_wall:
                return log_time(line)
        time.sleep(0.05)
    raise AssertionError("redis was not restarted")


def trial(cluster: NsCluster, coord: object, fault: str) -> dict[str, float]:
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
            found["crash"] = restart_begun(cluster, owner, wall, 10) - wall
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
    args = parser.parse_args()
    reason = missing()
    if reason is not None:
        sys.stderr.write(f"failover benchmark: {reason}\n")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="hk-failover-"))
    cluster = NsCluster(workdir, ttl=args.ttl, fence_after=round(args.ttl * 0.6, 2))
    results: dict[str, list[float]] = {}
    coord = None
    try:
        coord = cluster.start()
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
    print(
        f"\nlease ttl {args.ttl} s, self-fencing after {cluster.fence_after} s, "
        f"etcd heartbeat 50 ms / election 500 ms, {args.runs} runs each"
    )
    print(f"{'fault':36} {'min':>7} {'median':>7} {'max':>7}   Pacemaker (median of 3)")
    for key in ("kill", "cut", "redis", "crash"):
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
