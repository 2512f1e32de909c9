"""run_process: argv only, exact environment, deadline kills the group, exit not EOF."""

from __future__ import annotations

import os
import time
from pathlib import Path

from hakeeper.agents.process import TAIL_BYTES, Exit, run_process

ENV = {"PATH": "/usr/bin:/bin"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (reaped later by init) counts as dead
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(") ", 1)[1][0] != "Z"


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    began = time.monotonic()
    outcome = run_process(
        ["/bin/sh", "-c", f"sleep 30 & echo $! > {pidfile}; wait"], env=ENV, timeout=0.3
    )
    assert outcome.exit is Exit.TIMEOUT
    assert time.monotonic() - began < 2
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 2
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _alive(child)


def test_returns_when_the_process_exits_even_if_a_daemon_holds_its_stdout() -> None:
    """An agent that starts a daemon (which keeps the pipe open) must not block us."""
    began = time.monotonic()
    outcome = run_process(["/bin/sh", "-c", "setsid sleep 5 & echo started"], env=ENV, timeout=10)
    assert time.monotonic() - began < 2
    assert (outcome.exit, outcome.code) == (Exit.EXITED, 0)
    assert outcome.stdout.strip() == "started"


def test_environment_is_exactly_the_one_given() -> None:
    outcome = run_process(["/usr/bin/env"], env={"ONLY": "this"}, timeout=5)
    assert outcome.stdout.splitlines() == ["ONLY=this"]


def test_stdin_exit_code_and_tail() -> None:
    outcome = run_process(
        ["/bin/sh", "-c", "cat; head -c 100000 /dev/zero | tr '\\0' x >&2; exit 3"],
        env=ENV,
        timeout=5,
        stdin=b"hello\n",
    )
    assert (outcome.exit, outcome.code, outcome.stdout) == (Exit.EXITED, 3, "hello\n")
    assert len(outcome.stderr) == TAIL_BYTES


def test_missing_and_unexecutable(tmp_path: Path) -> None:
    assert run_process([str(tmp_path / "nope")], env=ENV, timeout=5).exit is Exit.NOT_FOUND
    script = tmp_path / "noexec"
    script.write_text("#!/bin/sh\n")
    assert run_process([str(script)], env=ENV, timeout=5).exit is Exit.NOT_EXECUTABLE
