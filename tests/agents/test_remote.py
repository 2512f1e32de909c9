"""The executor a bundle container runs its inner agent's actions with (shims/hk_executor,
as pacemaker-remoted does for Pacemaker), here run on this host: what the daemon's side
gets back, timeouts, a cancelled action, an executor that died, one that cannot start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from hakeeper.agents.process import Exit, ProcessOutcome
from hakeeper.agents.remote import RETRY_S, RemoteExecutor
from hakeeper.agents.runner import EXECUTOR


class Starts:
    """Starts the executor on this host (the engine's exec -d, in the lab)."""

    def __init__(self, works: bool = True) -> None:
        self.works = works
        self.argvs: list[list[str]] = []
        self.procs: list[subprocess.Popen[bytes]] = []

    def __call__(self, argv: Sequence[str]) -> bool:
        self.argvs.append(list(argv))
        if not self.works:
            return False
        self.procs.append(subprocess.Popen([sys.executable, *argv[1:]]))
        return True

    def close(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()


@pytest.fixture
def executor(tmp_path: Path) -> Iterator[tuple[RemoteExecutor, Starts]]:
    starts = Starts()
    path = str(tmp_path / "c.exec")
    remote = RemoteExecutor(starts, path, path, EXECUTOR)
    try:
        yield remote, starts
    finally:
        starts.close()


def test_an_action_runs_through_the_executor_started_once(
    executor: tuple[RemoteExecutor, Starts],
) -> None:
    remote, starts = executor
    out = remote.run(
        ["sh", "-c", 'echo "$OCF_RESKEY_x $PWD"; read line; echo "$line" >&2; exit 3'],
        env={"OCF_RESKEY_x": "given"},
        timeout=10,
        stdin=b"fed\n",
    )
    assert out is not None
    assert (out.exit, out.code, out.stdout, out.stderr) == (Exit.EXITED, 3, "given /\n", "fed\n")
    again = remote.run(["true"], env={}, timeout=10)
    assert again is not None and again.code == 0
    assert starts.argvs == [["python3", EXECUTOR, "serve", remote.container_socket]]


def test_a_timeout_kills_the_actions_process_group(
    executor: tuple[RemoteExecutor, Starts], tmp_path: Path
) -> None:
    remote, _ = executor
    pidfile = tmp_path / "child"
    out = remote.run(["sh", "-c", f"sleep 60 & echo $! > {pidfile}; wait"], env={}, timeout=0.5)
    assert out is not None and out.exit is Exit.TIMEOUT
    assert not _alive(int(pidfile.read_text()))


def test_a_missing_command_is_not_found(executor: tuple[RemoteExecutor, Starts]) -> None:
    remote, _ = executor
    out = remote.run(["/no/such/agent", "monitor"], env={}, timeout=5)
    assert out is not None and (out.exit, out.code) == (Exit.NOT_FOUND, 127)


def test_a_cancelled_action_is_killed(
    executor: tuple[RemoteExecutor, Starts], tmp_path: Path
) -> None:
    remote, _ = executor
    assert remote.run(["true"], env={}, timeout=5) is not None  # the executor is up
    pidfile = tmp_path / "child"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(remote.host_socket)
        request = f'{{"argv": ["sh", "-c", "echo $$ > {pidfile}; exec sleep 60"], "timeout": 60}}'
        sock.sendall(request.encode() + b"\n")
        _wait(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
    # the client went away before the answer: the executor kills what it ran
    pid = int(pidfile.read_text())
    _wait(lambda: not _alive(pid))


def test_an_executor_that_died_is_started_again(executor: tuple[RemoteExecutor, Starts]) -> None:
    remote, starts = executor
    assert remote.run(["true"], env={}, timeout=5) is not None
    starts.procs[0].kill()  # its container restarted: a new one, no executor in it
    starts.procs[0].wait()
    out = remote.run(["echo", "back"], env={}, timeout=5)
    assert out is not None and out.stdout == "back\n"
    assert len(starts.argvs) == 2


def test_an_executor_that_cannot_start_leaves_it_to_the_engines_exec(tmp_path: Path) -> None:
    starts = Starts(works=False)
    now = [100.0]
    path = str(tmp_path / "c.exec")
    remote = RemoteExecutor(starts, path, path, EXECUTOR, clock=lambda: now[0])
    assert remote.run(["true"], env={}, timeout=5) is None
    assert remote.run(["true"], env={}, timeout=5) is None
    assert len(starts.argvs) == 1  # not tried again at once
    now[0] += RETRY_S
    assert remote.run(["true"], env={}, timeout=5) is None
    assert len(starts.argvs) == 2


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead: reap it if it is ours
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False


def _wait(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_a_cancelled_monitor_is_killed_and_answers_at_once(
    executor: tuple[RemoteExecutor, Starts], tmp_path: Path
) -> None:
    remote, _ = executor
    pidfile = tmp_path / "child"
    script = tmp_path / "agent"
    script.write_text(f"#!/bin/sh\necho $$ > {pidfile}\nexec sleep 60\n")
    script.chmod(0o755)
    answers: list[ProcessOutcome | None] = []
    env = {"OCF_RESKEY_CRM_meta_interval": "10000"}
    run = threading.Thread(
        target=lambda: answers.append(remote.run([str(script), "monitor"], env=env, timeout=60))
    )
    run.start()
    _wait(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
    assert remote.cancel("monitor", 20000) == 0  # another monitor: not this one
    assert remote.cancel("monitor", 10000) == 1
    run.join(5)
    assert not run.is_alive(), "the cancelled run did not answer"
    assert answers and answers[0] is not None and answers[0].code == -9
    _wait(lambda: not _alive(int(pidfile.read_text())))
    assert remote.cancel("monitor", 10000) == 0  # nothing in flight any more


def test_a_cancel_does_not_wait_for_an_executor_being_started(tmp_path: Path) -> None:
    class SlowStarts(Starts):
        def __call__(self, argv: Sequence[str]) -> bool:
            time.sleep(1.0)  # the engine's exec --detach, slow under load
            return super().__call__(argv)

    starts = SlowStarts()
    path = str(tmp_path / "c.exec")
    remote = RemoteExecutor(starts, path, path, EXECUTOR)
    try:
        run = threading.Thread(target=lambda: remote.run(["true"], env={}, timeout=5))
        run.start()
        time.sleep(0.2)  # the run is starting the executor now
        began = time.monotonic()
        assert remote.cancel("monitor", 10000) == 0
        assert time.monotonic() - began < 0.5  # the daemon's main loop calls it
        run.join(10)
    finally:
        starts.close()
