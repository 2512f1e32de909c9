"""The daemon's loop in-process, on the memory store and the fake agent runner: what it
does when the store fails under it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import pytest

from hakeeper.agents.fake import Call, FakeAgentRunner
from hakeeper.agents.request import OpRequest
from hakeeper.agents.result import OpResult
from hakeeper.coord import CoordTimeout, CoordUnavailable, StatusKind
from hakeeper.coord.coordinator import Watch
from hakeeper.coord.keyspace import KeyspaceCoordinator
from hakeeper.coord.memory import MemoryKv
from hakeeper.coord.model import ALL_TOPICS, ClusterSnapshot, JsonDoc, Lease, StatusKey, Topic
from hakeeper.node.daemon import NodeDaemon

from .sim import dummy_config


class FlakyCoordinator(KeyspaceCoordinator):
    """The memory store, failing the writes `fails` picks (as an unreachable etcd would)."""

    def __init__(self, fails: Callable[[Mapping[StatusKey, JsonDoc | None]], bool]) -> None:
        super().__init__(MemoryKv())
        self.fails = fails
        self.failed = 0

    def write_status(
        self,
        changes: Mapping[StatusKey, JsonDoc | None],
        *,
        lease: Lease | None = None,
        expected: Mapping[StatusKey, JsonDoc | None] | None = None,
    ) -> int:
        if self.fails(changes):
            self.failed += 1
            raise CoordUnavailable("no endpoint answered (injected)")
        return super().write_status(changes, lease=lease, expected=expected)


def wait_for(what: str, check: Callable[[], object], timeout: float = 20.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def running(daemon: NodeDaemon) -> Iterator[list[int]]:
    code: list[int] = []
    thread = threading.Thread(target=lambda: code.append(daemon.run()), daemon=True)
    thread.start()
    try:
        yield code
    finally:
        daemon.stop()
        daemon.stop()  # at once: no graceful leave
        thread.join(10)


def d1_runner() -> FakeAgentRunner:
    return FakeAgentRunner(
        [
            Call("d1", "monitor", "n1", rc=7, interval_ms=0),
            Call("d1", "start", "n1"),
            Call("d1", "monitor", "n1", interval_ms=10000, times=1000),
        ]
    )


def d1_monitored(coord: KeyspaceCoordinator) -> bool:
    """d1's recurring monitor on n1 has answered 0, as the store records it."""
    doc = coord.read_status().documents.get(StatusKey("n1", StatusKind.OP_HISTORY, "d1"))
    return bool(doc and doc["ops"].get("d1_monitor_10000", {}).get("rc-code") == 0)


def test_a_failed_status_write_is_written_again() -> None:
    def monitor_record(changes: Mapping[StatusKey, JsonDoc | None]) -> bool:
        doc = changes.get(StatusKey("n1", StatusKind.OP_HISTORY, "d1"))
        return bool(doc and doc.get("changed") == "d1_monitor_10000") and coord.failed == 0

    coord = FlakyCoordinator(monitor_record)
    runner = d1_runner()
    daemon = NodeDaemon(coord, "n1", runner, ttl=2.0)
    with running(daemon):
        wait_for("n1 to join", lambda: coord.members().nodes == {"n1"})
        coord.write_config(dummy_config("d1"), expected_revision=0)

        wait_for("the monitor's record in the store", lambda: d1_monitored(coord))
    # the monitor ran once (its rc never changed): its record reached the store only
    # because the failed write was made again
    assert coord.failed == 1
    assert [r.interval_ms for r in runner.calls if r.action == "monitor"] == [0, 10000]
    runner_errors = runner.errors
    assert not runner_errors


class StallingCoordinator(KeyspaceCoordinator):
    """The memory store cut off on demand: keepalives fail at once, status writes hang for
    `stall` seconds first (an etcd client's timeout, beyond the self-fencing deadline)."""

    def __init__(self, stall: float) -> None:
        super().__init__(MemoryKv())
        self.stall = stall
        self.cut = threading.Event()
        self.stalled = threading.Event()  # a write is hanging now

    def keepalive(self, lease: Lease) -> None:
        if self.cut.is_set():
            raise CoordUnavailable("no endpoint answered (injected)")
        super().keepalive(lease)

    def write_status(
        self,
        changes: Mapping[StatusKey, JsonDoc | None],
        *,
        lease: Lease | None = None,
        expected: Mapping[StatusKey, JsonDoc | None] | None = None,
    ) -> int:
        if self.cut.is_set():
            self.stalled.set()
            time.sleep(self.stall)
            self.stalled.clear()
            raise CoordTimeout("no answer in time (injected)")
        return super().write_status(changes, lease=lease, expected=expected)


class StopWitness(FakeAgentRunner):
    """Notes, at each stop, whether a store write of the daemon was hanging then."""

    def __init__(self, coord: StallingCoordinator, expect: list[Call]) -> None:
        super().__init__(expect)
        self.coord = coord
        self.stopped_while_stalled: list[bool] = []

    def run(self, request: OpRequest) -> OpResult:
        if request.action == "stop":
            self.stopped_while_stalled.append(self.coord.stalled.is_set())
        return super().run(request)


def test_the_self_fencing_deadline_holds_while_the_loop_is_blocked_in_a_store_call() -> None:
    coord = StallingCoordinator(stall=4.0)
    runner = StopWitness(
        coord,
        [
            Call("d1", "monitor", "n1", rc=7, interval_ms=0),
            Call("d1", "start", "n1"),
            Call("d1", "monitor", "n1", interval_ms=10000, times=1000),
            Call("d2", "monitor", "n1", rc=7, interval_ms=0),
            Call("d1", "stop", "n1"),
        ],
    )
    daemon = NodeDaemon(coord, "n1", runner, ttl=2.0)  # deadline 1.5 s, below the stall
    with running(daemon) as code:
        wait_for("n1 to join", lambda: coord.members().nodes == {"n1"})
        coord.write_config(dummy_config("d1"), expected_revision=0)

        wait_for("d1 started and monitored", lambda: d1_monitored(coord))
        doc = coord.read_config()
        assert doc is not None
        coord.cut.set()
        # d2's probe result is written next: the main loop hangs in that write
        coord.write_config(dummy_config("d1", "d2"), expected_revision=doc.revision)
        wait_for("the daemon to exit", lambda: code, timeout=30)
    assert code == [1]
    # d1 was stopped while the write still hung, not after it gave up
    assert runner.stopped_while_stalled == [True]
    assert not runner.errors


class SlowReadsCoordinator(KeyspaceCoordinator):
    """The memory store with a slow first read and watch after the join (an etcd member just
    back from a partition, catching up): each takes `slow` seconds."""

    def __init__(self, slow: float) -> None:
        super().__init__(MemoryKv())
        self.slow = slow
        self.renewed: list[float] = []

    def snapshot(self) -> ClusterSnapshot:
        time.sleep(self.slow)
        return super().snapshot()

    def watch(self, after_revision: int, topics: frozenset[Topic] = ALL_TOPICS) -> Watch:
        time.sleep(self.slow)
        return super().watch(after_revision, topics)

    def keepalive(self, lease: Lease) -> None:
        self.renewed.append(time.monotonic())
        super().keepalive(lease)


def test_a_slow_first_read_of_the_store_after_the_join_is_not_a_lost_lease() -> None:
    # the first read and the watch take 1.2 s in all, the deadline is 1.5 s, the renewal is
    # due every 0.375 s: the lease is renewed while they run, not after
    coord = SlowReadsCoordinator(slow=0.6)
    runner = d1_runner()
    daemon = NodeDaemon(coord, "n1", runner, ttl=2.0)
    with running(daemon) as code:
        wait_for("n1 to join", lambda: coord.members().nodes == {"n1"})
        coord.write_config(dummy_config("d1"), expected_revision=0)

        wait_for("d1 started and monitored", lambda: d1_monitored(coord))
        assert not daemon.fenced.is_set()
        assert code == []
        assert len(coord.renewed) >= 3
    assert not runner.errors


def test_a_failed_actions_output_tail_is_in_the_daemon_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    said = "\n".join(f"agent line {i}" for i in range(1, 31))
    runner = FakeAgentRunner(
        [
            Call("d1", "monitor", "n1", rc=7, interval_ms=0, output="probe: not running"),
            Call("d1", "start", "n1", output="start: all well"),
            Call("d1", "monitor", "n1", interval_ms=10000, rc=1, output=said),
            Call("d1", "stop", "n1"),
            Call("d1", "start", "n1"),
            Call("d1", "monitor", "n1", interval_ms=10000, times=1000),
        ]
    )
    coord = KeyspaceCoordinator(MemoryKv())
    daemon = NodeDaemon(coord, "n1", runner, ttl=2.0)
    with caplog.at_level(logging.INFO, logger="hakeeper.node"), running(daemon):
        wait_for("n1 to join", lambda: coord.members().nodes == {"n1"})
        coord.write_config(dummy_config("d1"), expected_revision=0)
        wait_for("the restart after the failed monitor", lambda: len(runner.calls) >= 6)
    output = [r.getMessage() for r in caplog.records if " output: " in r.getMessage()]
    # only the failed monitor's: a probe's "not running" and a start's success are answers
    assert output[0] == "n1: d1_monitor_10000 output: (10 earlier lines left out)"
    assert output[1:] == [f"n1: d1_monitor_10000 output: agent line {i}" for i in range(11, 31)]
    assert all(r.levelno == logging.WARNING for r in caplog.records if " output: " in r.message)
