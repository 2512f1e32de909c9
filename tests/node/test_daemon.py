"""Three node daemons (subprocesses) on a real SQLite store, running the real Dummy agent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hakeeper.agents.request import OpRequest
from hakeeper.agents.runner import LocalAgentRunner
from hakeeper.coord import Coordinator, Leader, StatusKind, connect
from hakeeper.model.config import Agent

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


def wait_for(what: str, check: Callable[[], object], timeout: float = 10.0) -> object:
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


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Coordinator, dict[str, subprocess.Popen[bytes]]]]:
    if not DUMMY.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail("resource-agents is not installed (`make install` should provide it)")
        pytest.skip("resource-agents is not installed")
    url = f"sqlite:///{tmp_path}/store.db?poll_interval=0.02"
    coord = connect(url)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for node in NODES:
            with open(tmp_path / f"{node}.log", "wb") as out:
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
                        "1",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
        wait_for("every daemon to join", lambda: coord.members().nodes == set(NODES))
        yield coord, procs
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        coord.close()
        for node in NODES:
            log = tmp_path / f"{node}.log"
            if log.exists():
                sys.stderr.write(f"--- {node}\n{log.read_text()}")


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
    assert moved
    assert elapsed < 5
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
