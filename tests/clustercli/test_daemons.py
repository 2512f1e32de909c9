"""`cluster start|stop|status` with real node daemons (`hakeeper node run` processes) on a
SQLite store, running the real ocf:heartbeat:Dummy agent; `resource restart` and
`resource disable` seen through `status`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from hakeeper.cli.status_output import as_json
from hakeeper.commands import cluster
from hakeeper.commands.env import Env
from hakeeper.commands.status import cluster_status

pytestmark = pytest.mark.integration

DUMMY = Path("/usr/lib/ocf/resource.d/heartbeat/Dummy")


def hakeeper(
    env: dict[str, str], *argv: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "hakeeper.cli.main", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"hakeeper {' '.join(argv)}: {proc.returncode}\n{proc.stderr}")
    return proc


def wait_for(what: str, test: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    environ = {
        **os.environ,
        "HAKEEPER_STORE": f"sqlite://{tmp_path / 'store.db'}",
        "HAKEEPER_RUN_DIR": str(tmp_path / "run"),
    }
    yield environ
    hakeeper(environ, "cluster", "stop", "--all", check=False)


def gone(pid: int) -> bool:
    """Exited: no such process, or a zombie nobody reaped yet (its parent, the `cluster
    start` command, is gone, and PID 1 in a container may not reap)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def status(env: dict[str, str]) -> dict[str, Any]:
    """`status -o json`, in this process: polling through a new process each time is slow
    on a loaded machine (the command line's own output is checked once below)."""
    return as_json(cluster_status(Env(env["HAKEEPER_STORE"])))


def cluster_state(env: dict[str, str]) -> dict[str, Any]:
    dto = cluster.cluster_state(Env(env["HAKEEPER_STORE"], env["HAKEEPER_RUN_DIR"]))
    doc: dict[str, Any] = json.loads(json.dumps(asdict(dto)))  # as `-o json` prints it
    return doc


def test_start_status_stop_two_daemons(env: dict[str, str], tmp_path: Path) -> None:
    hakeeper(env, "cluster", "setup", "duo", "ctl1", "ctl2")
    out = hakeeper(env, "cluster", "start", "--all", "--wait=30").stdout
    assert "ctl1: started" in out and "ctl2: started" in out
    # --wait returned: both hold a lease now
    assert cluster_state(env)["members"] == ["ctl1", "ctl2"]
    state = json.loads(hakeeper(env, "cluster", "status", "-o", "json").stdout)
    assert state["nodes"] == ["ctl1", "ctl2"]
    pids = [d["pid"] for d in state["daemons"]]
    assert all(d["running"] for d in state["daemons"])
    assert (tmp_path / "run" / "ctl1.pid").read_text().strip() == str(pids[0])
    wait_for(
        "both members and a leader",
        lambda: (
            (s := cluster_state(env))["members"] == ["ctl1", "ctl2"] and s["leader"] is not None
        ),
    )
    assert "already running" in hakeeper(env, "cluster", "start", "ctl1").stdout
    out = hakeeper(env, "cluster", "stop", "ctl2").stdout
    assert out.strip() == "ctl2: stopped"
    assert gone(pids[1])
    assert not (tmp_path / "run" / "ctl2.pid").exists()
    wait_for("ctl2's lease to lapse", lambda: cluster_state(env)["members"] == ["ctl1"])
    bad = hakeeper(env, "cluster", "start", "ctl9", check=False)
    assert bad.returncode == 2 and "not a node of this cluster: ctl9" in bad.stderr


@pytest.mark.skipif(not DUMMY.exists(), reason="resource-agents is not installed")
def test_a_resource_runs_restarts_and_stops(env: dict[str, str], tmp_path: Path) -> None:
    state_file = tmp_path / "dummy.state"
    hakeeper(env, "cluster", "setup", "one", "ctl1")
    hakeeper(env, "property", "set", "stonith-enabled=false")
    hakeeper(
        env,
        "resource",
        "create",
        "d1",
        "ocf:heartbeat:Dummy",
        f"state={state_file}",
        "op",
        "monitor",
        "interval=2s",
    )
    hakeeper(env, "cluster", "start", "--all")

    def d1() -> dict[str, Any]:
        found: dict[str, Any] = status(env)["resources"][0]
        return found

    wait_for("d1 to start", lambda: d1()["nodes"] == ["ctl1"])
    assert state_file.exists()  # the real agent ran
    started_at = state_file.stat().st_mtime_ns
    out = hakeeper(env, "resource", "restart", "d1").stdout
    assert out.startswith("d1 successfully restarted")
    assert d1()["nodes"] == ["ctl1"]  # restart returns once it has started again
    assert state_file.stat().st_mtime_ns != started_at
    hakeeper(env, "resource", "disable", "d1", "--wait=30")
    # --wait returned: the stop is done and recorded, without polling here
    assert d1()["nodes"] == [] and d1()["disabled"] is True
    assert not state_file.exists()
    text = hakeeper(env, "status").stdout
    assert "  * d1\t(ocf:heartbeat:Dummy):\t Stopped (disabled)\n" in text
    assert (
        json.loads(hakeeper(env, "status", "-o", "json").stdout)["resources"]
        == (status(env)["resources"])
    )
    hakeeper(env, "resource", "update", "d1", "meta", "target-role=", "--wait")
    assert d1()["nodes"] == ["ctl1"] and state_file.exists()
    state_file.unlink()  # the resource dies behind the cluster's back
    wait_for("the failed monitor", lambda: status(env)["failures"] != [])
    out = hakeeper(env, "resource", "cleanup", "d1", "--wait=30").stdout
    assert out == "Cleaned up failures of d1 on ctl1\n"
    # cleanup forgot the failure, and the leader scheduled at once (last-lrm-refresh)
    assert status(env)["failures"] == [] and d1()["nodes"] == ["ctl1"]
    assert state_file.exists()
