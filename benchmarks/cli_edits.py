"""Latency of configuration edits (read, change, validate, compare-and-swap) per store.

    python benchmarks/cli_edits.py --resources 200 --edits 30 [--etcd]

Sets up a cluster of 3 nodes with N resources, then times `resource update` of one
resource's parameter through the library (no process start-up), and `status`. Prints
min/median/max over the runs. --etcd also starts a one-member etcd (Debian etcd-server).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hakeeper.commands import resource_config as rc
from hakeeper.commands.cluster import cluster_setup
from hakeeper.commands.cluster_options import property_set
from hakeeper.commands.env import Env
from hakeeper.commands.status import cluster_status
from hakeeper.coord import Coordinator
from hakeeper.coord.keyspace import KeyspaceCoordinator
from hakeeper.coord.memory import MemoryKv


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def show(label: str, samples: list[float]) -> None:
    ms = [s * 1000 for s in samples]
    print(
        f"{label:<34} min {min(ms):7.1f} ms  median {statistics.median(ms):7.1f} ms  "
        f"max {max(ms):7.1f} ms  (n={len(ms)})"
    )


def bench(name: str, env: Env, resources: int, edits: int) -> None:
    cluster_setup(env, "bench", ["ctl1", "ctl2", "ctl3"])
    property_set(env, {"stonith-enabled": "false"})
    for i in range(resources):
        rc.resource_create(env, rc.ResourceSpec(f"r{i}", "ocf:heartbeat:Dummy", force=True))
    counter = iter(range(10**9))
    show(
        f"{name}: resource update ({resources} rsc)",
        timed(
            lambda: rc.resource_update(env, "r0", params={"fake": str(next(counter))}, force=True),
            edits,
        ),
    )
    show(f"{name}: status ({resources} rsc)", timed(lambda: cluster_status(env), edits))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resources", type=int, default=200)
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--etcd", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kv = MemoryKv()

        def memory(url: str) -> Coordinator:
            return KeyspaceCoordinator(kv)

        bench("memory", Env("memory://", tmp, memory), args.resources, args.edits)
        bench("sqlite", Env(f"sqlite://{tmp}/store.db", tmp), args.resources, args.edits)
        if args.etcd:
            from coord.etcd_cluster import EtcdCluster

            (Path(tmp) / "etcd").mkdir()
            etcd = EtcdCluster(Path(tmp) / "etcd", size=1)
            try:
                etcd.start_all()
                bench("etcd", Env(etcd.url("/bench/"), tmp), args.resources, args.edits)
            finally:
                etcd.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
