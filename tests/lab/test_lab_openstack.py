"""Issue 5, item 4: `lab up --profile openstack` for real, then a controller killed under
load. A client writes rows to Galera through HAProxy on the internal VIP, publishes to
RabbitMQ (with publisher confirms, to a queue under the CIB's HA policy) and writes to Redis
through its VIP (each write counted only once WAIT says a replica has it); one controller,
the one holding the internal VIP, is powered off meanwhile. Afterwards every acknowledged
row and message is there; the longest gap of each service is printed. `lab down` leaves
nothing behind.

It skips only if the daemon's own transition builder says a converged openstack CIB would
start no bundle container (lab/support.py), with that answer.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hakeeper.lab import fault
from hakeeper.lab.lifecycle import lab_down, lab_up, leftovers
from hakeeper.lab.node import daemon_env
from hakeeper.lab.plan import DEFAULT_CACHE, LabPlan, Net, Profile, StoreKind, make_plan
from hakeeper.lab.state import load
from hakeeper.lab.status import lab_status
from hakeeper.lab.support import daemon_gap

from .conftest import need
from .logs import kept_at
from .test_lab_minimal import crm_simulate_actions, free_lab_id, redis_call, wait_for

# one openstack lab at a time on this machine: the two tests that bring one up share a worker
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("openstack-lab")]

DB_USER, DB_PASSWORD = "lab", "lab"
QUEUE = "hakeeper-lab"


@pytest.fixture
def openstack_lab() -> Iterator[LabPlan]:
    plan = make_plan(3, profile=Profile.OPENSTACK)
    reason = daemon_gap(plan)
    if reason:
        pytest.skip(reason)
    need("ip", "etcd", "podman", "debootstrap", "nsenter", "mysql", root=True)
    base = Path(tempfile.mkdtemp(prefix="hakeeper-openstack-test-", dir="/var/tmp"))
    base.chmod(0o755)
    lab_id = free_lab_id()
    plan = make_plan(
        3,
        prefix=f"hk{lab_id}t",
        bridge=f"hkt{lab_id}",
        directory=str(base / "lab"),
        cache=DEFAULT_CACHE,
        profile=Profile.OPENSTACK,
        store=StoreKind.ETCD,
        nets={
            Net.INTERNAL: f"10.{lab_id}.1.0/24",
            Net.EXTERNAL: f"10.{lab_id}.2.0/24",
            Net.STORAGE: f"10.{lab_id}.3.0/24",
            Net.STORAGE_MGMT: f"10.{lab_id}.4.0/24",
        },
    )
    lines: list[str] = []
    try:
        result = lab_up(plan, lambda text, s: lines.append(f"{s:6.1f} {text}"), timeout=600)
        assert result.converged, "\n".join(lines) + kept_at(plan, "lab up")
        print(f"openstack lab converged in {result.seconds:.1f} s")
        yield plan
    finally:
        if os.path.exists(plan.directory):
            lab_down(plan.directory, lambda text, s: None)
        shutil.rmtree(base, ignore_errors=True)


def node_exec(plan: LabPlan, node: str, container: str, *argv: str) -> str:
    holder = load(plan.directory).node_procs(node)["holder"]  # type: ignore[union-attr]
    run = subprocess.run(
        ["nsenter", "-t", str(holder.pid), "-n", "-m", "--", "podman", "exec", container, *argv],
        env=daemon_env(plan),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def mysql(plan: LabPlan, query: str, *, timeout: float = 5) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "mysql",
            "-h",
            plan.vip("internal_api").ip,
            f"-u{DB_USER}",
            f"-p{DB_PASSWORD}",
            "--connect-timeout=2",
            "-nNB",
            "-e",
            query,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


#: a publisher with confirms (pika, Debian's python3-pika): one line per confirmed message
PUBLISHER = """
import sys, time, pika
hosts, queue, stop = sys.argv[1].split(","), sys.argv[2], sys.argv[3]
import os
n = 0
while not os.path.exists(stop):
    for host in hosts:
        try:
            conn = pika.BlockingConnection(pika.ConnectionParameters(
                host, socket_timeout=2, blocked_connection_timeout=5,
                connection_attempts=1))
            ch = conn.channel()
            ch.confirm_delivery()
            ch.queue_declare(queue, durable=True)
            while not os.path.exists(stop):
                ch.basic_publish("", queue, str(n).encode(),
                                 pika.BasicProperties(delivery_mode=2), mandatory=True)
                print(n, time.monotonic(), flush=True)
                n += 1
                time.sleep(0.05)
        except Exception:
            n += 1  # that one may or may not have arrived: never counted as confirmed
            time.sleep(0.2)
"""


@dataclass
class Client:
    """Writes to the three services until stopped; keeps what each acknowledged, when."""

    plan: LabPlan
    rows: list[tuple[int, float]] = field(default_factory=list)
    redis: list[tuple[int, float]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def galera(self) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                done = mysql(self.plan, f"INSERT INTO lab.t VALUES ({i})").returncode == 0
            except subprocess.TimeoutExpired:
                done = False
            if done:
                self.rows.append((i, time.monotonic()))
            time.sleep(0.05)

    def redis_writes(self) -> None:
        vip = self.plan.vip("redis").ip
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                with socket.create_connection((vip, 6379), timeout=2) as conn:
                    conn.sendall(_resp("SET", f"k{i}", str(i)) + _resp("WAIT", "1", "1000"))
                    answer = conn.recv(100).decode()
                if answer.startswith("+OK\r\n:") and int(answer.split(":")[1]) >= 1:
                    self.redis.append((i, time.monotonic()))
            except (OSError, ValueError, IndexError):
                pass
            time.sleep(0.05)


def _resp(*words: str) -> bytes:
    return b"*%d\r\n" % len(words) + b"".join(
        b"$%d\r\n%s\r\n" % (len(w), w.encode()) for w in words
    )


def longest_gap(times: list[float], since: float) -> float:
    after = [t for t in times if t >= since]
    return max((b - a for a, b in itertools.pairwise(after)), default=float("inf"))


def test_openstack_lab_keeps_every_acknowledged_write_through_a_lost_controller(
    openstack_lab: LabPlan, tmp_path: Path
) -> None:
    plan = openstack_lab
    # converged: Pacemaker's scheduler, given the live CIB, has nothing left to do (no
    # start, no promote, no probe: the fence devices have a history on every node too)
    assert crm_simulate_actions(plan, tmp_path) == []
    galera_node = plan.nodes[0]
    for q in (
        "CREATE DATABASE IF NOT EXISTS lab",
        "CREATE TABLE IF NOT EXISTS lab.t (i INT PRIMARY KEY)",
        f"CREATE USER IF NOT EXISTS {DB_USER}@'%' IDENTIFIED BY '{DB_PASSWORD}'",
        f"GRANT ALL ON lab.* TO {DB_USER}@'%'",
    ):
        node_exec(plan, galera_node.name, "galera-bundle-podman-0", "mysql", "-e", q)
    wait_for("Galera through the internal VIP", lambda: mysql(plan, "SELECT 1").returncode == 0)
    wait_for(
        "Redis through its VIP",
        lambda: redis_call(plan.vip("redis").ip, "PING") == "+PONG",
    )
    client = Client(plan)
    stop_file = tmp_path / "stop-publishing"
    publisher = subprocess.Popen(
        [
            "/usr/bin/python3",
            "-c",
            PUBLISHER,
            ",".join(n.internal for n in plan.nodes),
            QUEUE,
            str(stop_file),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    threads = [threading.Thread(target=client.galera), threading.Thread(target=client.redis_writes)]
    for t in threads:
        t.start()
    try:
        time.sleep(5)
        holder = next(
            on for name, _, on in lab_status(plan.directory).vips if name == "internal_api"
        )
        victim = holder[0]
        killed_at = time.monotonic()
        fault.inject(plan.directory, "node", victim, None)
        time.sleep(45)
    finally:
        client.stop.set()
        stop_file.touch()
        for t in threads:
            t.join(timeout=30)
        out, _ = publisher.communicate(timeout=60)
    published = [(int(a), float(b)) for a, b in (line.split() for line in out.splitlines())]
    # every acknowledged row is in the database
    got = mysql(plan, "SELECT i FROM lab.t", timeout=30)
    assert got.returncode == 0, got.stderr
    rows = {int(x) for x in got.stdout.split()}
    assert {i for i, _ in client.rows} <= rows
    # every confirmed message is in the queue (read on a surviving node)
    survivor = next(n for n in plan.nodes if n.name != victim)
    listed = node_exec(
        plan,
        survivor.name,
        f"rabbitmq-bundle-podman-{survivor.index}",
        "rabbitmqctl",
        "list_queues",
        "-q",
        "name",
        "messages",
    )
    count = dict(line.split() for line in listed.splitlines() if line.strip())
    assert int(count[QUEUE]) >= len(published)
    # every acknowledged (replicated) redis write is there
    vip = plan.vip("redis").ip
    missing = [i for i, _ in client.redis if redis_call(vip, "GET", f"k{i}") == "$-1"]
    assert missing == []
    for name, times in (
        ("galera", [t for _, t in client.rows]),
        ("rabbitmq", [t for _, t in published]),
        ("redis", [t for _, t in client.redis]),
    ):
        print(f"{name}: longest gap {longest_gap(times, killed_at - 5):.1f} s after {victim} died")
    result = lab_down(plan.directory, lambda text, s: None)
    assert result.leftovers == ()
    assert leftovers(plan) == []
