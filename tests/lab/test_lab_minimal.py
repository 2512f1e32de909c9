"""`lab up --profile minimal` for real: namespaces, etcd members, node daemons, real
haproxy, redis and VIPs; service through the VIPs; a node powered off and the service back;
then `lab down` leaves nothing behind.

Each lab here has its own names and networks (nodes hkNt0.., bridge hktN, 10.N.x.0/24, N
free on this machine) and a temporary directory, so it never meets an operator's lab or
another worktree's test run on the same machine.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hakeeper.agents.bundle import ContainerAgent, replica_spec
from hakeeper.agents.container import ContainerEngine
from hakeeper.cib.parse import parse_cib_text
from hakeeper.cib.render import render_cib
from hakeeper.coord import connect
from hakeeper.lab import fault, images, system
from hakeeper.lab.cib import build_cib
from hakeeper.lab.lifecycle import lab_down, lab_up, leftovers
from hakeeper.lab.node import daemon_env
from hakeeper.lab.plan import DEFAULT_CACHE, LabPlan, Net, Profile, StoreKind, make_plan
from hakeeper.lab.state import load
from hakeeper.lab.status import lab_status, render
from hakeeper.model.config import Bundle
from hakeeper.node.records import cluster_cib

from .conftest import need
from .logs import kept_at

pytestmark = pytest.mark.integration


def free_lab_id() -> int:
    """A number no lab on this machine uses now: other worktrees run these tests at the same
    time, and two labs on the same subnets or names would meet."""
    routes = system.attempt(["ip", "-4", "route", "show"]).stdout
    ids = list(range(100, 250))
    random.shuffle(ids)
    for lab_id in ids:
        if f"10.{lab_id}." not in routes and system.netns_inode(f"hk{lab_id}t0") is None:
            return lab_id
    raise AssertionError("no free lab id")


def test_plan(base: Path, store: StoreKind, nodes: int = 3) -> LabPlan:
    """A lab whose names and networks no other lab here uses."""
    lab_id = free_lab_id()
    nets = {
        Net.INTERNAL: f"10.{lab_id}.1.0/24",
        Net.EXTERNAL: f"10.{lab_id}.2.0/24",
        Net.STORAGE: f"10.{lab_id}.3.0/24",
        Net.STORAGE_MGMT: f"10.{lab_id}.4.0/24",
    }
    return make_plan(
        nodes,
        prefix=f"hk{lab_id}t",
        bridge=f"hkt{lab_id}",
        directory=str(base / "lab"),
        cache=DEFAULT_CACHE,  # the images are built once per machine (test_images.py)
        profile=Profile.MINIMAL,
        store=store,
        nets=nets,
    )


test_plan.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def lab(request: pytest.FixtureRequest) -> Iterator[LabPlan]:
    need("ip", "etcd", "haproxy", "redis-server", "busybox", "nsenter", root=True)
    # not under pytest's tmp_path: that is mode 700, and redis runs as user redis
    base = Path(tempfile.mkdtemp(prefix="hakeeper-lab-test-", dir="/var/tmp"))
    base.chmod(0o755)
    plan = test_plan(base, request.param)
    lines: list[str] = []
    try:
        result = lab_up(plan, lambda text, s: lines.append(f"{s:6.1f} {text}"), timeout=90)
        assert result.converged, "\n".join(lines) + kept_at(plan, "lab up")
        yield plan
    finally:
        if os.path.exists(plan.directory):
            lab_down(plan.directory, lambda text, s: None)
        shutil.rmtree(base, ignore_errors=True)


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=2) as answer:
        return str(answer.read().decode())


def redis_call(ip: str, *words: str) -> str:
    """One command in RESP; the first line of the answer."""
    with socket.create_connection((ip, 6379), timeout=2) as conn:
        conn.sendall(
            b"*%d\r\n" % len(words)
            + b"".join(b"$%d\r\n%s\r\n" % (len(w), w.encode()) for w in words)
        )
        return conn.recv(4096).decode().split("\r\n")[0]


def steady(call: Callable[[], bool], times: int = 3) -> bool:
    return all(call() for _ in range(times))


def wait_for(what: str, check: object, timeout: float = 30.0) -> float:
    began = time.monotonic()
    last: object = None
    while time.monotonic() - began < timeout:
        try:
            if check():  # type: ignore[operator]
                return time.monotonic() - began
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"{what}: not after {timeout} s ({last})")


@pytest.mark.parametrize("lab", [StoreKind.ETCD], indirect=True)
def test_minimal_lab_serves_through_its_vips_survives_a_node_and_goes_away(
    lab: LabPlan,
) -> None:
    plan = lab
    api = plan.vip("internal_api").ip
    redis_vip = plan.vip("redis").ip
    # the stand-in APIs behind HAProxy answer on the internal and the public VIP
    # (each backend is UP once two health checks 2 s apart have passed)
    answers: set[str] = set()
    every = {f"stand-in OpenStack API on {n.name}\n" for n in plan.nodes}
    wait_for(
        "every node's API through the VIP",
        lambda: answers.add(http_get(f"http://{api}:5000/")) or answers == every,
    )
    assert http_get(f"http://{plan.vip('public').ip}:5000/").startswith("stand-in")
    # redis through HAProxy on its VIP reaches the one redis
    # (HAProxy forwards to the one redis once its checks found it)
    # (HAProxy forwards to the one redis once its checks found it: until then it may try the
    # nodes without one, so the service counts as there when several calls in a row answer)
    wait_for(
        "redis through its VIP",
        lambda: steady(lambda: redis_call(redis_vip, "SET", "k", "v") == "+OK"),
    )
    wait_for("the value back", lambda: steady(lambda: redis_call(redis_vip, "GET", "k") == "$1"))

    status = lab_status(plan.directory)
    assert status.observation is not None and status.observation.converged
    holder = next(on for name, _, on in status.vips if name == "redis")
    assert len(holder) == 1
    victim = holder[0]
    # power off the node with redis and its VIP: the service comes back elsewhere
    fault.inject(plan.directory, "node", victim, None)
    assert system.pids_in_netns(victim) == []
    try:
        gap = wait_for(
            "redis back through its VIP",
            lambda: steady(lambda: redis_call(redis_vip, "PING") == "+PONG"),
            timeout=40,
        )
    except AssertionError:
        print("\n".join(render(lab_status(plan.directory))))
        for node in plan.nodes:
            with open(f"{plan.node_dir(node.name)}/daemon.log") as log:
                print(log.read()[-3000:])
        raise
    print(f"redis through its VIP back {gap:.1f} s after {victim} was powered off")
    moved = next(on for name, _, on in lab_status(plan.directory).vips if name == "redis")
    assert set(moved) - {victim}
    # and the node boots back into the cluster
    fault.inject(plan.directory, "heal", victim, None)
    wait_for(
        "the healed node rejoins",
        lambda: (
            victim
            in (
                lab_status(plan.directory).observation.members  # type: ignore[union-attr]
            )
        ),
        timeout=30,
    )

    def converged_with_every_daemon() -> bool:
        status = lab_status(plan.directory)
        daemons = [
            alive for n in status.nodes for name, _, alive, _ in n.processes if name == "daemon"
        ]
        obs = status.observation
        return obs is not None and obs.converged and len(daemons) == 3 and all(daemons)

    wait_for("converged again", converged_with_every_daemon, timeout=60)

    def etcd_healthy() -> bool:
        return all(
            '"health":"true"' in http_get(f"http://{n.internal}:2379/health").replace(" ", "")
            for n in plan.nodes
        )

    wait_for("every etcd member healthy", etcd_healthy, timeout=30)
    result = lab_down(plan.directory, lambda text, s: None)
    assert result.leftovers == ()
    assert leftovers(plan) == []
    assert not os.path.exists(plan.directory)
    for node in plan.nodes:
        assert system.netns_inode(node.name) is None
        assert not os.path.exists(f"/sys/class/net/{node.veth}")
    assert not os.path.exists(f"/sys/class/net/{plan.bridge}")


def crm_simulate_actions(plan: LabPlan, tmp_path: Path) -> list[str]:
    """The actions crm_simulate would run on the live cluster's CIB (status included)."""
    with connect(plan.store_url) as coord:
        snap = coord.snapshot()
    assert snap.config is not None
    leader = snap.leader.node if snap.leader else None
    cib = cluster_cib(snap.config.xml, snap.status.documents, snap.members, leader)
    path = tmp_path / "live.xml"
    path.write_bytes(render_cib(cib))
    out = subprocess.run(
        ["crm_simulate", "-x", str(path), "-S"], capture_output=True, text=True, check=True
    ).stdout
    executing = out.split("Executing Cluster Transition:", 1)
    if len(executing) == 1:
        return []
    return [
        line.strip()
        for line in executing[1].split("Revised Cluster Status:")[0].splitlines()
        if line.strip().startswith("* ")
    ]


@pytest.mark.parametrize("lab", [StoreKind.SQLITE], indirect=True)
def test_minimal_lab_on_sqlite_converges_and_goes_away(lab: LabPlan, tmp_path: Path) -> None:
    plan = lab
    # as in the etcd test: HAProxy serves once it has bound the VIP and its checks passed
    wait_for(
        "the API through the internal VIP",
        lambda: http_get(f"http://{plan.vip('internal_api').ip}:5000/").startswith("stand-in"),
        timeout=20,
    )
    in_nodes = sum(len(system.pids_in_netns(n.name)) for n in plan.nodes)
    assert in_nodes >= 3 * 3  # holder, daemon, haproxy, api at least per node
    # Pacemaker's scheduler, given the cluster's CIB as hakeeper shows it, has nothing left
    # to do: no start, no move and no probe (every node has a history of every resource,
    # the fence devices' included)
    need("crm_simulate")
    assert crm_simulate_actions(plan, tmp_path) == []
    lab_down(plan.directory, lambda text, s: None)
    assert leftovers(plan) == []


@pytest.mark.parametrize("lab", [StoreKind.SQLITE], indirect=True)
def test_a_node_runs_the_openstack_profiles_containers_and_down_removes_them(
    lab: LabPlan,
) -> None:
    """The container side of the openstack profile, before the scheduler runs bundles: a
    bundle replica as hakeeper's ContainerAgent starts it, with the node's podman (its own
    storage, the lab's images read-only, its network namespace), serves on the node's
    address; `lab down` then leaves no container, mount or file."""
    need("podman", "debootstrap")
    plan = lab
    images.ensure_images(plan.cache, lambda text: None)  # the default cache: warm after once
    openstack = dataclasses.replace(plan, profile=Profile.OPENSTACK)
    config = parse_cib_text(build_cib(openstack)).configuration
    bundle = next(
        r for r in config.resources if isinstance(r, Bundle) and r.id == "memcached-bundle"
    )
    node = plan.nodes[1]
    holder = load(plan.directory).node_procs(node.name)["holder"]  # type: ignore[union-attr]
    engine = ContainerEngine(
        "nsenter",
        global_args=["-t", str(holder.pid), "-n", "-m", "--", "podman"],
        env=daemon_env(plan),
    )
    spec = replica_spec(bundle, 1, netns=node.name)
    result = ContainerAgent(engine).start(spec)
    assert result.rc == 0, result
    assert ContainerAgent(engine).monitor(spec.name).rc == 0

    def memcached_answers() -> bool:
        with socket.create_connection((node.internal, 11211), timeout=2) as conn:
            conn.sendall(b"version\r\n")
            return conn.recv(100).startswith(b"VERSION 1.6")

    wait_for("memcached in its container on the node's address", memcached_answers)
    lab_down(plan.directory, lambda text, s: None)
    assert leftovers(plan) == []
