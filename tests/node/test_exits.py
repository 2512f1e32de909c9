"""A resource's process exit is heard through a pidfd at once, and its monitor runs then."""

from __future__ import annotations

import queue
import subprocess
import time
from pathlib import Path

from hakeeper.agents.request import OpRequest
from hakeeper.model.config import Agent
from hakeeper.node import machine
from hakeeper.node.events import OpCompleted, ProcessExited, RunOp, Ticked
from hakeeper.node.exits import ExitWatcher, pidfile_of

from .sim import Sim, dummy_config

REDIS = Agent("ocf", "heartbeat", "redis")


def test_the_pid_file_comes_from_the_agents_parameters() -> None:
    assert (
        pidfile_of(OpRequest("r", "start", "n1", REDIS, {"rundir": "/run/r1"}))
        == "/run/r1/redis-server.pid"
    )
    assert pidfile_of(OpRequest("r", "start", "n1", REDIS, {})) == "/var/run/redis/redis-server.pid"
    dummy = Agent("ocf", "heartbeat", "Dummy")
    assert (
        pidfile_of(OpRequest("d", "start", "n1", dummy, {"pidfile": "/run/d.pid"})) == "/run/d.pid"
    )
    assert pidfile_of(OpRequest("d", "start", "n1", dummy, {"state": "/run/d"})) is None


def test_the_exit_of_a_watched_process_is_heard_at_once(tmp_path: Path) -> None:
    heard: queue.Queue[tuple[str, float]] = queue.Queue()
    watcher = ExitWatcher(lambda rsc: heard.put((rsc, time.monotonic())))
    proc = subprocess.Popen(["sleep", "60"])
    other = subprocess.Popen(["sleep", "60"])
    try:
        for name, p in (("svc", proc), ("gone", other)):
            (tmp_path / f"{name}.pid").write_text(f"{p.pid}\n")
            watcher.watch(
                name,
                OpRequest(name, "start", "n1", REDIS, {"pidfile": str(tmp_path / f"{name}.pid")}),
            )
        watcher.forget("gone")
        killed = time.monotonic()
        proc.kill()
        other.kill()
        rsc, when = heard.get(timeout=2)
        assert rsc == "svc" and when - killed < 0.1
        time.sleep(0.1)
        assert heard.empty()  # the forgotten one is not reported
    finally:
        watcher.close()
        for p in (proc, other):
            p.kill()
            p.wait()


def test_a_process_exit_runs_the_resources_monitor_now() -> None:
    sim = Sim(("a",))
    sim.configure(dummy_config("d1"))
    sim.settle()
    sim.now += 1  # the monitor (every 10 s) is not due for 9 s
    state, orders = machine.handle(sim.states["a"], Ticked(sim.now), ProcessExited("d1"))
    runs = [o for o in orders if isinstance(o, RunOp)]
    assert [(r.request.resource, r.request.action, r.request.interval_ms) for r in runs] == [
        ("d1", "monitor", 10000)
    ]
    _, orders = machine.handle(state, Ticked(sim.now), ProcessExited("unknown"))
    assert not [o for o in orders if isinstance(o, RunOp)]


def test_an_exit_heard_while_the_monitor_runs_is_monitored_again_at_once() -> None:
    sim = Sim(("a",))
    sim.configure(dummy_config("d1"))
    sim.settle()
    sim.now += 10
    state, orders = machine.handle(sim.states["a"], Ticked(sim.now))  # the monitor is due
    [run] = [o for o in orders if isinstance(o, RunOp)]
    sim.now += 0.1
    state, orders = machine.handle(state, Ticked(sim.now), ProcessExited("d1"))
    assert not [o for o in orders if isinstance(o, RunOp)]  # that monitor is still running
    sim.now += 0.1
    # it began before the exit and answers "running": not believed, monitored again now
    state, orders = machine.handle(state, Ticked(sim.now), OpCompleted(run.run_id, 0, 0))
    again = [o for o in orders if isinstance(o, RunOp)]
    assert [(r.request.action, r.request.interval_ms) for r in again] == [("monitor", 10000)]
    # a monitor begun after the exit answers: the next one is due after the interval again
    state, orders = machine.handle(state, Ticked(sim.now), OpCompleted(again[0].run_id, 0, 0))
    assert not [o for o in orders if isinstance(o, RunOp)]
    assert machine.next_wakeup(state) >= sim.now + 9
