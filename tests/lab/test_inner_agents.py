"""The openstack profile's services, each by its real agent inside its bundle's containers
on the lab's namespace nodes (tests/lab/inner.py): galera bootstraps a 3-node cluster from
the node the agent chooses and promotes the rest into it; rabbitmq-cluster makes one
3-node RabbitMQ cluster with the CIB's HA policy; redis makes one master and two replicas
following it; HAProxy in its bundle's containers serves Galera on the internal VIP.
Actions come in the order Pacemaker's transitions give them. Afterwards `lab down` leaves
nothing behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hakeeper.agents.result import OcfRc, OpResult
from hakeeper.lab.lifecycle import lab_down, leftovers, machines_up
from hakeeper.lab.plan import DEFAULT_CACHE, Net, Profile, StoreKind, make_plan

from .conftest import need
from .inner import Bench
from .test_lab_minimal import free_lab_id

pytestmark = pytest.mark.integration


@pytest.fixture
def bench() -> Iterator[Bench]:
    need("ip", "nsenter", "podman", "debootstrap", "busybox", root=True)
    base = Path(tempfile.mkdtemp(prefix="hakeeper-inner-test-", dir="/var/tmp"))
    base.chmod(0o755)
    lab_id = free_lab_id()
    plan = make_plan(
        3,
        prefix=f"hk{lab_id}t",
        bridge=f"hkt{lab_id}",
        directory=str(base / "lab"),
        cache=DEFAULT_CACHE,
        profile=Profile.OPENSTACK,
        store=StoreKind.SQLITE,
        nets={
            Net.INTERNAL: f"10.{lab_id}.1.0/24",
            Net.EXTERNAL: f"10.{lab_id}.2.0/24",
            Net.STORAGE: f"10.{lab_id}.3.0/24",
            Net.STORAGE_MGMT: f"10.{lab_id}.4.0/24",
        },
    )
    bench = None
    try:
        machines_up(plan, lambda text, s: None)
        bench = Bench(plan)
        yield bench
    finally:
        if bench is not None:
            bench.close()
        if os.path.exists(plan.directory):
            down = lab_down(plan.directory, lambda text, s: None)
            assert down.leftovers == ()
        assert leftovers(plan) == []
        shutil.rmtree(base, ignore_errors=True)


def ok(result: OpResult, *expected: int) -> None:
    assert result.rc in (expected or (OcfRc.OK,)), (
        f"{result.rc!r} {result.exit_reason}\n{result.output}"
    )


def sql(bench: Bench, index: int, query: str) -> str:
    rep = bench.replicas[("galera-bundle", index)]
    out = bench.engine(rep.node).exec(rep.spec.name, ["mysql", "-nNB", "-e", query], timeout=30)
    assert out.code == 0, out.stderr
    return out.stdout.strip()


def test_galera_bootstraps_a_three_node_cluster_through_its_agent(bench: Bench) -> None:
    need("mysql")
    for i in range(3):
        bench.start_container("galera-bundle", i)
    for i in range(3):
        ok(bench.run("galera-bundle", i, "start"))
    # every node has told its last commit: the agent picked a bootstrap node and gave it
    # (only it) a promotion score
    scored = [i for i, n in enumerate(bench.plan.nodes) if "master-galera" in bench.attrs[n.name]]
    assert len(scored) == 1, bench.attrs
    assert bench.attrs[bench.plan.nodes[scored[0]].name].get("galera-bootstrap") == "true"
    # as Pacemaker would: promote whoever has a score, one at a time (ordered=true); the
    # bootstrap node's promote gives the others theirs, and they join its cluster
    order: list[int] = []
    while len(order) < 3:
        ready = [
            i
            for i, n in enumerate(bench.plan.nodes)
            if "master-galera" in bench.attrs[n.name] and i not in order
        ]
        assert ready, (order, bench.attrs)
        ok(bench.run("galera-bundle", ready[0], "promote"))
        order.append(ready[0])
    assert order[0] == scored[0]
    for i in range(3):
        ok(bench.run("galera-bundle", i, "monitor", interval="10s"), OcfRc.RUNNING_PROMOTED)
        assert sql(bench, i, "SHOW STATUS LIKE 'wsrep_cluster_size'").split() == [
            "wsrep_cluster_size",
            "3",
        ]
        assert sql(bench, i, "SHOW STATUS LIKE 'wsrep_local_state_comment'").split()[1] == "Synced"
    # and it replicates: written on one node, read on another
    sql(bench, order[-1], "CREATE DATABASE lab; CREATE TABLE lab.t (i INT PRIMARY KEY)")
    sql(bench, order[-1], "INSERT INTO lab.t VALUES (1), (2), (3)")
    assert sql(bench, order[0], "SELECT COUNT(*) FROM lab.t") == "3"
    # and HAProxy, in its bundle's containers, serves it on the internal VIP: to the first
    # node (the single writer), the others as backups
    sql(bench, 0, "CREATE USER lab@'%' IDENTIFIED BY 'lab'; GRANT ALL ON lab.* TO lab@'%'")
    for i in range(3):
        bench.start_container("haproxy-bundle", i)
    vip = bench.plan.vip("internal_api")
    node = bench.plan.nodes[0]
    subprocess.run(
        ["ip", "-n", node.name, "addr", "add", f"{vip.ip}/{vip.prefix}", "dev", "eth0"],
        check=True,
    )

    def through_vip() -> str:
        run = subprocess.run(
            [
                "mysql",
                "-h",
                vip.ip,
                "-ulab",
                "-plab",
                "--connect-timeout=2",
                "-nNB",
                "-e",
                "SELECT @@wsrep_node_address, COUNT(*) FROM lab.t",
            ],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return run.stdout.strip() if run.returncode == 0 else ""

    deadline = time.monotonic() + 30
    while not through_vip() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert through_vip().split() == [node.internal, "3"]


def rabbitmqctl(bench: Bench, index: int, *args: str) -> str:
    rep = bench.replicas[("rabbitmq-bundle", index)]
    out = bench.engine(rep.node).exec(rep.spec.name, ["rabbitmqctl", *args], timeout=60)
    assert out.code == 0, out.stderr
    return out.stdout


def test_rabbitmq_cluster_agent_makes_one_three_node_cluster_with_the_ha_policy(
    bench: Bench,
) -> None:
    for i in range(3):
        bench.start_container("rabbitmq-bundle", i)
    # clone instances start one after another here (Pacemaker may start them together;
    # the agent's join list is what the later ones find)
    for i in range(3):
        ok(bench.run("rabbitmq-bundle", i, "start"))
    for i in range(3):
        ok(bench.run("rabbitmq-bundle", i, "monitor", interval="10s"))
    status = json.loads(rabbitmqctl(bench, 2, "cluster_status", "--formatter", "json"))
    expected = {f"rabbit@{n.internal}" for n in bench.plan.nodes}
    assert set(status["running_nodes"]) == expected
    policies = json.loads(rabbitmqctl(bench, 0, "list_policies", "--formatter", "json"))
    assert [(p["name"], json.loads(p["definition"])) for p in policies] == [
        ("ha-all", {"ha-mode": "exactly", "ha-params": 2})
    ]


def redis_cli(bench: Bench, index: int, *args: str) -> str:
    rep = bench.replicas[("redis-bundle", index)]
    out = bench.engine(rep.node).exec(
        rep.spec.name, ["redis-cli", "-h", rep.node.internal, *args], timeout=30
    )
    assert out.code == 0, out.stderr
    return out.stdout


def test_redis_agent_makes_one_master_and_replicas_that_follow_it(bench: Bench) -> None:
    for i in range(3):
        bench.start_container("redis-bundle", i)
    for i in range(3):
        ok(bench.run("redis-bundle", i, "start"))
    scores = {n.name: int(bench.attrs[n.name].get("master-redis", "-1")) for n in bench.plan.nodes}
    assert all(s >= 0 for s in scores.values()), bench.attrs
    master = max(range(3), key=lambda i: (scores[bench.plan.nodes[i].name], -i))
    ok(bench.run("redis-bundle", master, "promote"))
    # Pacemaker's post-promote notification to every instance: the replicas follow
    uname = " ".join(f"redis-bundle-{i}" for i in range(3))
    hosts = " ".join(n.name for n in bench.plan.nodes)
    notify = {
        "notify_type": "post",
        "notify_operation": "promote",
        "notify_promote_uname": f"redis-bundle-{master}",
        "notify_all_uname": uname,
        "notify_all_hosts": hosts,
    }
    for i in range(3):
        ok(bench.run("redis-bundle", i, "notify", **notify))
    for i in range(3):
        want = OcfRc.RUNNING_PROMOTED if i == master else OcfRc.OK
        ok(bench.run("redis-bundle", i, "monitor", interval="20s"), want)
    redis_cli(bench, master, "SET", "k", "v")
    for i in set(range(3)) - {master}:
        info = redis_cli(bench, i, "INFO", "replication")
        assert "role:slave" in info and "master_link_status:up" in info, info
        assert f"master_host:{bench.plan.nodes[master].name}" in info, info
        deadline = time.monotonic() + 10
        while redis_cli(bench, i, "GET", "k").strip() != "v" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert redis_cli(bench, i, "GET", "k").strip() == "v"
