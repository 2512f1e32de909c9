"""Three node daemons (subprocesses) on a real store (SQLite, or a real 3-member etcd),
running the real Dummy agent."""

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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from coord.etcd_cluster import EtcdCluster
from hakeeper.agents.request import OpRequest
from hakeeper.agents.runner import LocalAgentRunner
from hakeeper.cib.edit import values_of
from hakeeper.cib.parse import parse_cib_text
from hakeeper.coord import Coordinator, Leader, StatusKind, connect
from hakeeper.model.config import Agent
from hakeeper.node.attrd import SHIMS, attrd_path

DUMMY = Path("/usr/lib/ocf/resource.d/heartbeat/Dummy")
NODES = ("n1", "n2", "n3")


def config(state_dir: Path, d1_prefers: str) -> str:
    prims = "".join(
        f'<primitive id="{r}" class="ocf" provider="heartbeat" type="Dummy">'
        f'<instance_attributes id="{r}-i"><nvpair id="{r}-s" name="state" '
        f'value="{state_dir / r}.state"/></instance_attributes><operations>'
        f'<op id="{r}-m" name="monitor" interval="1s" timeout="10s"/></operations></primitive>'
        for r in ("d1", "d2")
    )
    return (
        '<cib><configuration><crm_config><cluster_property_set id="o">'
        '<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set>'
        f"</crm_config><nodes/><resources>{prims}</resources><constraints>"
        f'<rsc_location id="d1-prefers" rsc="d1" node="{d1_prefers}" score="50"/>'
        "</constraints>"
        "</configuration><status/></cib>"
    )


def wait_for(what: str, check: Callable[[], object], timeout: float = 30.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def started_on(coord: Coordinator) -> dict[str, str]:
    """resource -> a member whose op history says it started it and its monitor returned 0."""
    members = coord.members().nodes
    where: dict[str, str] = {}
    for key, doc in coord.read_status().documents.items():
        if key.kind is not StatusKind.OP_HISTORY or key.node not in members:
            continue
        last = doc["ops"].get(f"{key.name}_last_0", {})
        monitor = doc["ops"].get(f"{key.name}_monitor_1000", {})
        if (
            last.get("operation") == "start"
            and last.get("rc-code") == 0
            and monitor.get("rc-code") == 0
        ):
            where[key.name] = key.node
    return where


def need(tool: str, what: str) -> None:
    if (tool.startswith("/") and Path(tool).is_file()) or shutil.which(tool):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not installed (`make install` should provide it)")
    pytest.skip(f"{what} is not installed")


@pytest.fixture
def etcd(tmp_path: Path) -> Iterator[EtcdCluster]:
    """A 3-member etcd of this test's own: tests here kill its members."""
    need("etcd", "etcd-server")
    (tmp_path / "etcd").mkdir()
    cluster = EtcdCluster(tmp_path / "etcd")
    try:
        cluster.start_all()
        yield cluster
    finally:
        cluster.stop()


def store_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/store.db?poll_interval=0.02"
    cluster: EtcdCluster = request.getfixturevalue("etcd")
    return cluster.url(f"/node-{uuid.uuid4().hex}/")


def start_daemons(
    url: str, tmp_path: Path, ttl: str = "1", only: str | None = None
) -> dict[str, subprocess.Popen[bytes]]:
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for node in (only,) if only else NODES:
        with open(tmp_path / f"{node}.log", "ab") as out:
            procs[node] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "hakeeper.cli.main",
                    "node",
                    "run",
                    "--name",
                    node,
                    "--store",
                    url,
                    "--ttl",
                    ttl,
                    "--state-dir",
                    str(tmp_path / "run"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
    return procs


def stop_daemons(procs: dict[str, subprocess.Popen[bytes]], tmp_path: Path) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    for node in NODES:
        log = tmp_path / f"{node}.log"
        if log.exists():
            sys.stderr.write(f"--- {node}\n{log.read_text()}")


Cluster = tuple[Coordinator, dict[str, subprocess.Popen[bytes]]]


@pytest.fixture
def ttl() -> str:
    """The daemons' lease ttl; a test parametrizes it to change it."""
    return "1"


@pytest.fixture(params=["sqlite", "etcd"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path, ttl: str) -> Iterator[Cluster]:
    need(str(DUMMY), "resource-agents")
    url = store_url(str(request.param), request, tmp_path)
    coord = connect(url)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        procs.update(start_daemons(url, tmp_path, ttl))
        wait_for("every daemon to join", lambda: coord.members().nodes == set(NODES))
        yield coord, procs
    finally:
        stop_daemons(procs, tmp_path)
        coord.close()


@pytest.mark.integration
@pytest.mark.parametrize("kill_leader", [False, True], ids=["follower", "leader"])
def test_resources_start_and_move_to_a_survivor_when_a_daemon_dies(
    cluster: tuple[Coordinator, dict[str, subprocess.Popen[bytes]]],
    tmp_path: Path,
    kill_leader: bool,
) -> None:
    coord, procs = cluster
    leader = wait_for("a leader", coord.leader)
    assert isinstance(leader, Leader)
    victim = leader.node if kill_leader else next(n for n in NODES if n != leader.node)
    coord.write_config(config(tmp_path, victim), expected_revision=0)
    placed = wait_for(
        "both resources started", lambda: len(started_on(coord)) == 2 and started_on(coord)
    )
    assert isinstance(placed, dict)
    runner = LocalAgentRunner()
    dummy = Agent("ocf", "heartbeat", "Dummy")
    for rsc, node in placed.items():
        result = runner.run(
            OpRequest(rsc, "monitor", node, dummy, {"state": f"{tmp_path / rsc}.state"})
        )
        assert result.rc == 0, (rsc, result)

    rsc = "d1"
    assert placed[rsc] == victim
    killed = time.monotonic()
    procs[victim].send_signal(signal.SIGKILL)
    procs[victim].wait()
    moved = wait_for(
        f"{rsc} to start on a survivor",
        lambda: started_on(coord).get(rsc) not in (None, victim),
        timeout=8,
    )
    elapsed = time.monotonic() - killed
    role = "leader" if kill_leader else "follower"
    sys.stderr.write(
        f"{victim} ({role}) killed -> {rsc} started and monitored on a "
        f"survivor in {elapsed:.2f} s (lease ttl 1 s)\n"
    )
    assert moved  # how fast is measured by benchmarks/failover.py, not asserted here
    # without stickiness the scheduler may also move the other resource: let it settle
    final = wait_for(
        "both resources to run on survivors",
        lambda: (
            set(started_on(coord)) == {"d1", "d2"}
            and victim not in started_on(coord).values()
            and started_on(coord)
        ),
    )
    assert isinstance(final, dict) and victim not in final.values()


def start_ids(coord: Coordinator) -> dict[tuple[str, str], int]:
    """(node, resource) -> call-id of the start its history records."""
    found = {}
    for key, doc in coord.read_status().documents.items():
        last = (
            doc.get("ops", {}).get(f"{key.name}_last_0", {})
            if key.kind is StatusKind.OP_HISTORY
            else {}
        )
        if last.get("operation") == "start":
            found[(key.node, key.name)] = int(last["call-id"])
    return found


@pytest.mark.integration
def test_daemons_carry_on_when_the_etcd_member_they_talk_to_dies(
    etcd: EtcdCluster, tmp_path: Path
) -> None:
    need(str(DUMMY), "resource-agents")
    # Every client talks to the first endpoint first: make it the raft leader, the
    # hardest member to lose (a new leader must be elected before any write succeeds).
    victim = etcd.leader()
    order = [victim] + [i for i in range(etcd.size) if i != victim]
    endpoints = ",".join(f"127.0.0.1:{etcd.client_ports[i]}" for i in order)
    url = f"etcd://{endpoints}?namespace=/node-{uuid.uuid4().hex}/&timeout=2"
    coord = connect(
        url.replace(endpoints, ",".join(f"127.0.0.1:{etcd.client_ports[i]}" for i in order[1:]))
    )
    # No renewal succeeds while etcd elects a leader (~1 s here): the self-fencing
    # deadline (0.75 x ttl) must outlast that.
    procs = start_daemons(url, tmp_path, ttl="3")
    try:
        wait_for("every daemon to join", lambda: coord.members().nodes == set(NODES))
        coord.write_config(config(tmp_path, "n1"), expected_revision=0)
        wait_for("both resources started", lambda: len(started_on(coord)) == 2)
        before = start_ids(coord)
        placed = started_on(coord)

        etcd.kill(victim)
        time.sleep(6)  # two lease TTLs: long enough for any lapse to be seen
        assert all(p.poll() is None for p in procs.values()), "a daemon exited"
        assert coord.members().nodes == set(NODES), "a lease lapsed"
        assert started_on(coord) == placed and start_ids(coord) == before, (
            "a resource was moved or restarted"
        )

        # the daemons still hear changes: the leader schedules a new resource
        doc = coord.read_config()
        assert doc is not None
        xml = doc.xml.replace(
            "</resources>",
            (
                '<primitive id="d3" class="ocf" provider="heartbeat" type="Dummy">'
                f'<instance_attributes id="d3-i"><nvpair id="d3-s" name="state" '
                f'value="{tmp_path}/d3.state"/></instance_attributes><operations>'
                '<op id="d3-m" name="monitor" interval="1s" timeout="10s"/></operations>'
                "</primitive></resources>"
            ),
        )
        coord.write_config(xml, expected_revision=doc.revision)
        wait_for("d3 started after the member's loss", lambda: "d3" in started_on(coord))
    finally:
        stop_daemons(procs, tmp_path)
        coord.close()


@pytest.mark.integration
@pytest.mark.parametrize("ttl", ["10"])  # a restart within the ttl, even on a loaded machine
def test_a_restarted_daemon_adopts_its_running_resources(
    cluster: Cluster, tmp_path: Path, ttl: str
) -> None:
    coord, procs = cluster
    coord.write_config(config(tmp_path, "n1"), expected_revision=0)
    placed = wait_for(
        "both resources started", lambda: len(started_on(coord)) == 2 and started_on(coord)
    )
    assert isinstance(placed, dict)
    node = placed["d1"]
    state_file = Path(f"{tmp_path / 'd1'}.state")
    before = state_file.stat()

    procs[node].send_signal(signal.SIGKILL)
    procs[node].wait()
    url = procs[node].args[procs[node].args.index("--store") + 1]  # type: ignore[union-attr]
    procs[node] = start_daemons(url, tmp_path, ttl, only=node)[node]

    def adopted() -> bool:
        doc = coord.read_status().documents.get(
            next(
                k
                for k in coord.read_status().documents
                if k.node == node and k.name == "d1" and k.kind is StatusKind.OP_HISTORY
            )
        )
        ops = doc["ops"] if doc else {}
        return (
            ops.get("d1_last_0", {}).get("operation") == "monitor"
            and ops.get("d1_last_0", {}).get("rc-code") == 0
            and ops.get("d1_monitor_1000", {}).get("rc-code") == 0
        )

    wait_for("the restarted daemon to probe d1 and monitor it again", adopted)
    after = state_file.stat()
    # Dummy's start creates its state file and stop deletes it: the same file, untouched
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert coord.members().nodes == set(NODES)
    where = {
        k.node
        for k, d in coord.read_status().documents.items()
        if k.kind is StatusKind.OP_HISTORY
        and k.name == "d1"
        and d["ops"].get("d1_last_0", {}).get("operation") == "start"
    }
    assert where <= {node}, f"d1 was started elsewhere too: {where}"
    log = (tmp_path / f"{node}.log").read_text()
    assert "resumed the lease of the previous run" in log
    assert "probe found d1 running" in log


STATEFUL = Path("/usr/lib/ocf/resource.d/pacemaker/Stateful")


@pytest.mark.integration
@pytest.mark.parametrize("cluster", ["sqlite"], indirect=True)  # the store is not the point
def test_an_agents_crm_attribute_reaches_the_store_and_the_scheduler(
    cluster: Cluster, tmp_path: Path
) -> None:
    need(str(STATEFUL), "pacemaker-resource-agents")
    coord, _ = cluster
    # s1 (ocf:pacemaker:Stateful) sets its promotion score with crm_attribute --promotion
    # when it starts; d1 may run only where a node has that attribute.
    xml = (
        config(tmp_path, "n1")
        .replace(
            "</resources>",
            '<primitive id="s1" class="ocf" provider="pacemaker" type="Stateful">'
            '<instance_attributes id="s1-i"><nvpair id="s1-s" name="state" '
            f'value="{tmp_path}/s1.state"/></instance_attributes></primitive></resources>',
        )
        .replace(
            '<rsc_location id="d1-prefers" rsc="d1" node="n1" score="50"/>',
            '<rsc_location id="d1-with-s1" rsc="d1"><rule id="d1-r" score="-INFINITY">'
            '<expression id="d1-e" attribute="master-s1" operation="not_defined"/></rule>'
            "</rsc_location>",
        )
    )
    coord.write_config(xml, expected_revision=0)

    def scored() -> str | None:
        for key, doc in coord.read_status().documents.items():
            if key.kind is StatusKind.ATTRIBUTES and key.name == "node" and "master-s1" in doc:
                return key.node
        return None

    node = wait_for("s1's promotion score in the store", scored)
    doc = coord.read_status().documents[
        next(k for k in coord.read_status().documents if k.node == node and k.name == "node")
    ]
    assert doc["master-s1"] == "5"  # Stateful's unpromoted score
    placed = wait_for("d1 started where s1 set its score", lambda: started_on(coord).get("d1"))
    assert placed == node


def per_node_dummy(rsc: str, state_dir: Path, meta: str = "") -> str:
    """A Dummy primitive whose state file is its node's own (a #uname rule per node): on one
    host the nodes would otherwise share it and all see it running."""
    sets = "".join(
        f'<instance_attributes id="{rsc}-{n}" score="{10 - i}"><rule id="{rsc}-{n}-r" '
        f'score="0"><expression id="{rsc}-{n}-e" attribute="#uname" operation="eq" '
        f'value="{n}"/></rule><nvpair id="{rsc}-{n}-s" name="state" '
        f'value="{state_dir / n}-{rsc}.state"/></instance_attributes>'
        for i, n in enumerate(NODES)
    )
    return (
        f'<primitive id="{rsc}" class="ocf" provider="heartbeat" type="Dummy">{sets}{meta}'
        f'<operations><op id="{rsc}-m" name="monitor" interval="1s" timeout="10s"/>'
        "</operations></primitive>"
    )


@pytest.mark.integration
@pytest.mark.parametrize("cluster", ["sqlite"], indirect=True)  # the store is not the point
def test_a_resource_added_while_it_runs_by_hand_is_probed_and_adopted_not_started_twice(
    cluster: Cluster, tmp_path: Path
) -> None:
    coord, _ = cluster
    base = config(tmp_path, "n1").replace(
        '<rsc_location id="d1-prefers" rsc="d1" node="n1" score="50"/>', ""
    )
    coord.write_config(base, expected_revision=0)
    wait_for("d1 and d2 started", lambda: len(started_on(coord)) == 2)
    # d3 runs on n2, started by hand; the configuration prefers n1 for it, but a running
    # d3 sticks to where it runs: probed, it is adopted on n2, started nowhere
    by_hand = tmp_path / "n2-d3.state"
    result = LocalAgentRunner().run(
        OpRequest("d3", "start", "n2", Agent("ocf", "heartbeat", "Dummy"), {"state": str(by_hand)})
    )
    assert result.rc == 0
    before = by_hand.stat()
    sticky = (
        '<meta_attributes id="d3-m"><nvpair id="d3-st" name="resource-stickiness" '
        'value="100"/></meta_attributes>'
    )
    doc = coord.read_config()
    assert doc is not None
    xml = doc.xml.replace(
        "</resources>", per_node_dummy("d3", tmp_path, sticky) + "</resources>"
    ).replace(
        "</constraints>",
        '<rsc_location id="d3-prefers" rsc="d3" node="n1" score="50"/></constraints>',
    )
    coord.write_config(xml, expected_revision=doc.revision)

    def monitored_on_n2() -> bool:
        for key, d in coord.read_status().documents.items():
            if key.kind is StatusKind.OP_HISTORY and (key.node, key.name) == ("n2", "d3"):
                return d["ops"].get("d3_monitor_1000", {}).get("rc-code") == 0
        return False

    wait_for("d3 adopted and monitored on n2", monitored_on_n2)
    probed = {
        key.node
        for key, d in coord.read_status().documents.items()
        if key.kind is StatusKind.OP_HISTORY and key.name == "d3"
    }
    assert probed == set(NODES)
    assert not (tmp_path / "n1-d3.state").exists() and not (tmp_path / "n3-d3.state").exists()
    after = by_hand.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert ("n2", "d3") not in start_ids(coord) and all(r != "d3" for _, r in start_ids(coord))
    assert "probe found d3 running" in (tmp_path / "n2.log").read_text()


def etcd_call(port: int, path: str, body: dict[str, object]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v3/{path}", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        answer: dict[str, Any] = json.load(reply)
    return answer


@pytest.mark.integration
def test_a_watch_that_fails_on_compacted_history_is_resumed_from_a_fresh_read(
    etcd: EtcdCluster, tmp_path: Path
) -> None:
    need(str(DUMMY), "resource-agents")
    # The daemons talk to a follower first; the test's own client to the others.
    leader = etcd.leader()
    victim = next(i for i in range(etcd.size) if i != leader)
    order = [victim] + [i for i in range(etcd.size) if i != victim]
    endpoints = ",".join(f"127.0.0.1:{etcd.client_ports[i]}" for i in order)
    url = f"etcd://{endpoints}?namespace=/node-{uuid.uuid4().hex}/&timeout=2"
    coord = connect(
        url.replace(endpoints, ",".join(f"127.0.0.1:{etcd.client_ports[i]}" for i in order[1:]))
    )
    procs = start_daemons(url, tmp_path, ttl="3")
    try:
        wait_for("every daemon to join", lambda: coord.members().nodes == set(NODES))
        coord.write_config(config(tmp_path, "n1"), expected_revision=0)
        wait_for("both resources started", lambda: len(started_on(coord)) == 2)
        # The member the daemons watch through hangs; meanwhile d3 is configured and the
        # history compacted past it: the watch, resumed elsewhere from where it was, finds
        # its history gone (before: the daemons stopped as if their leases were lost).
        etcd.freeze(victim)
        try:
            doc = coord.read_config()
            assert doc is not None
            xml = doc.xml.replace("</resources>", per_node_dummy("d3", tmp_path) + "</resources>")
            revision = coord.write_config(xml, expected_revision=doc.revision)
            # once more, so that the compaction also removes the first change
            coord.write_config(xml, expected_revision=revision)
            port = etcd.client_ports[order[1]]
            revision = int(etcd_call(port, "kv/range", {"key": "AA=="})["header"]["revision"])
            etcd_call(port, "kv/compaction", {"revision": str(revision), "physical": True})
            wait_for("d3 started", lambda: "d3" in started_on(coord), timeout=30)
        finally:
            etcd.thaw(victim)
        assert all(p.poll() is None for p in procs.values()), "a daemon exited"
        assert coord.members().nodes == set(NODES)
        logs = "".join((tmp_path / f"{n}.log").read_text() for n in NODES)
        assert "compacted" in logs and "read the store again after its watch failed" in logs
    finally:
        stop_daemons(procs, tmp_path)
        coord.close()


@pytest.mark.integration
@pytest.mark.parametrize("cluster", ["sqlite"], indirect=True)  # the store is not the point
def test_sigterm_moves_the_nodes_resources_away_before_the_daemon_exits(
    cluster: Cluster, tmp_path: Path
) -> None:
    coord, procs = cluster
    xml = config(tmp_path, "n1")
    for rsc in ("d1", "d2"):
        start = xml.index(f'<primitive id="{rsc}"')
        end = xml.index("</primitive>", start) + len("</primitive>")
        xml = xml[:start] + per_node_dummy(rsc, tmp_path) + xml[end:]
    coord.write_config(xml, expected_revision=0)
    placed = wait_for("both resources started", lambda: len(started_on(coord)) == 2)
    assert isinstance(placed, bool)
    victim = started_on(coord)["d1"]
    procs[victim].send_signal(signal.SIGTERM)
    assert procs[victim].wait(timeout=30) == 0
    # gone at once (lease revoked, status deleted: not fenced, not waited for)
    assert victim not in coord.members().nodes
    assert not [k for k in coord.read_status().documents if k.node == victim]
    moved = wait_for(
        "d1 and d2 on survivors",
        lambda: (
            set(started_on(coord)) == {"d1", "d2"}
            and victim not in started_on(coord).values()
            and started_on(coord)
        ),
    )
    assert isinstance(moved, dict)
    # nothing left running on the stopped node
    dummy = Agent("ocf", "heartbeat", "Dummy")
    for rsc in ("d1", "d2"):
        state = {"state": f"{tmp_path / victim}-{rsc}.state"}
        assert LocalAgentRunner().run(OpRequest(rsc, "monitor", victim, dummy, state)).rc == 7
    # the stop there and the start elsewhere in one graph: no gap beyond a stop + start
    logs = "".join((tmp_path / f"{n}.log").read_text() for n in NODES)
    graphs = [line for line in logs.splitlines() if "publishing graph" in line]
    assert any(
        f"stop d1 on {victim}" in line and f"start d1 on {moved['d1']}" in line for line in graphs
    ), graphs
    assert f"{victim}: left the cluster" in logs


def shim(tmp_path: Path, node: str, *args: str) -> subprocess.CompletedProcess[str]:
    """crm_attribute as an agent the node's daemon runs calls it."""
    env = {
        "PATH": os.environ["PATH"],
        "HAKEEPER_ATTRD": str(attrd_path(str(tmp_path / "run"), node)),
        "HAKEEPER_NODE": node,
    }
    return subprocess.run(
        [f"{SHIMS}/crm_attribute", *args], env=env, capture_output=True, text=True, timeout=20
    )


@pytest.mark.integration
@pytest.mark.parametrize("cluster", ["sqlite"], indirect=True)  # the store is not the point
def test_a_forever_attribute_is_kept_in_the_nodes_section_and_survives_a_rejoin(
    cluster: Cluster, tmp_path: Path
) -> None:
    coord, procs = cluster
    coord.write_config(config(tmp_path, "n1"), expected_revision=0)
    wait_for("both resources started", lambda: len(started_on(coord)) == 2)
    # as ocf:heartbeat:rabbitmq-cluster keeps the last node name it knew, and a transient one
    last = ("-N", "n2", "--name", "rmq-node-attr-last-known-rmq", "-l", "forever")
    assert shim(tmp_path, "n2", *last, "-v", "rabbit@n2").returncode == 0
    assert shim(tmp_path, "n2", "-N", "n2", "-n", "boot", "-l", "reboot", "-v", "1").returncode == 0
    doc = coord.read_config()
    assert doc is not None
    nodes = {n.uname: n for n in parse_cib_text(doc.xml).configuration.nodes}
    assert values_of(nodes["n2"].attributes) == {"rmq-node-attr-last-known-rmq": "rabbit@n2"}
    got = shim(tmp_path, "n1", *last, "--query", "-q")  # any node reads it
    assert (got.returncode, got.stdout) == (0, "rabbit@n2\n")

    # n2 dies and rejoins without its lease: its status (and transient attributes) cleared
    procs["n2"].send_signal(signal.SIGKILL)
    procs["n2"].wait()
    (tmp_path / "run" / "n2.lease").unlink()
    wait_for("n2's lease to lapse", lambda: "n2" not in coord.members().nodes)
    url = procs["n1"].args[procs["n1"].args.index("--store") + 1]  # type: ignore[union-attr]
    procs["n2"] = start_daemons(url, tmp_path, "1", only="n2")["n2"]
    wait_for("n2 to join again", lambda: "n2" in coord.members().nodes)
    wait_for("n2's socket", lambda: attrd_path(str(tmp_path / "run"), "n2").exists())
    got = shim(tmp_path, "n2", *last, "--query", "-q")
    assert (got.returncode, got.stdout) == (0, "rabbit@n2\n")
    gone = shim(tmp_path, "n2", "-N", "n2", "-n", "boot", "-l", "reboot", "--query", "-q")
    assert gone.returncode == 105
    assert shim(tmp_path, "n2", *last, "-D").returncode == 0
    assert shim(tmp_path, "n2", *last, "--query", "-q").returncode == 105
