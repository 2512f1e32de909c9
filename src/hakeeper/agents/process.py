"""Run one agent process: argv and environment only (never a shell), a deadline, a tail.

The process gets its own session, so a timeout kills the agent together with everything
it forked (SIGKILL to the process group, as pacemaker-execd does). The call returns
when the process exits, not when its pipes close: an agent that starts a daemon which
inherits stdout (many do) must not hold the caller until the daemon dies.
"""

from __future__ import annotations

import enum
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

#: bytes of each stream kept (the end of it): enough for an error, bounded for a daemon
TAIL_BYTES = 16 * 1024


class Exit(enum.Enum):
    """How a process run ended."""

    EXITED = "exited"  # it exited by itself (or was killed by someone else: code < 0)
    TIMEOUT = "timeout"  # the deadline passed; its process group was killed
    NOT_FOUND = "not found"  # argv[0] does not exist
    NOT_EXECUTABLE = "not executable"  # exists but cannot be executed (mode, format)


@dataclass(frozen=True, slots=True)
class ProcessOutcome:
    """What one run produced. `code` is the exit code (-N: killed by signal N)."""

    exit: Exit
    code: int | None
    stdout: str
    stderr: str
    duration: float


class Launcher(Protocol):
    """Runs an agent's argv somewhere: on this host (run_process), or in a container."""

    def __call__(
        self, argv: Sequence[str], *, env: Mapping[str, str], timeout: float, stdin: bytes = b""
    ) -> ProcessOutcome: ...


def run_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float,
    stdin: bytes = b"",
    cwd: str | None = None,
) -> ProcessOutcome:
    """Run argv with exactly env (nothing inherited) until it exits or timeout seconds pass."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
        )
    except FileNotFoundError as exc:
        return ProcessOutcome(Exit.NOT_FOUND, None, "", str(exc), time.monotonic() - started)
    except (PermissionError, OSError) as exc:
        # ENOEXEC (no #! line), EACCES (mode): the file is there but will not run
        return ProcessOutcome(Exit.NOT_EXECUTABLE, None, "", str(exc), time.monotonic() - started)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        if stdin:
            proc.stdin.write(stdin)
        proc.stdin.close()
    except BrokenPipeError:
        pass  # the agent exited without reading its input: its exit code will say why
    out, err = bytearray(), bytearray()
    tails = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    pidfd = os.pidfd_open(proc.pid)
    deadline = started + timeout
    timed_out = False
    with selectors.DefaultSelector() as sel:
        for fd in tails:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        sel.register(pidfd, selectors.EVENT_READ)
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                exited = False
                for key, _ in sel.select(left):
                    if key.fd == pidfd:
                        exited = True
                    elif not _read_into(key.fd, tails[key.fd]):
                        sel.unregister(key.fd)
                if exited:
                    break
            if timed_out:
                _kill_group(proc)
            proc.wait()
            for fd, tail in tails.items():
                _read_into(fd, tail)  # what is already buffered; never wait for EOF
        finally:
            os.close(pidfd)
            proc.stdout.close()
            proc.stderr.close()
    return ProcessOutcome(
        Exit.TIMEOUT if timed_out else Exit.EXITED,
        proc.returncode,
        _text(out),
        _text(err),
        time.monotonic() - started,
    )


def _read_into(fd: int, tail: bytearray) -> bool:
    """Read what is available; False at EOF. Keeps only the last TAIL_BYTES."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not chunk:
            return False
        tail.extend(chunk)
        if len(tail) > TAIL_BYTES:
            del tail[: len(tail) - TAIL_BYTES]


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _text(data: bytes | bytearray) -> str:
    return bytes(data).decode("utf-8", errors="replace")


class NetnsLauncher:
    """A Launcher that runs the agent inside a network namespace (`ip netns exec NS`): a
    lab node's agents (IPaddr2 and the like) act on that node's interfaces."""

    def __init__(self, netns: str) -> None:
        self.netns = netns

    def __call__(
        self, argv: Sequence[str], *, env: Mapping[str, str], timeout: float, stdin: bytes = b""
    ) -> ProcessOutcome:
        outcome = run_process(
            ["ip", "netns", "exec", self.netns, *argv],
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **env},
            timeout=timeout,
            stdin=stdin,
        )
        if outcome.exit is not Exit.EXITED:
            return outcome
        if outcome.code == 255 and "Cannot open network namespace" in outcome.stderr:
            return ProcessOutcome(
                Exit.NOT_EXECUTABLE, None, outcome.stdout, outcome.stderr, outcome.duration
            )
        if outcome.code == 1 and outcome.stderr.startswith('exec of "'):
            # ip netns exec could not exec the agent itself
            return ProcessOutcome(
                Exit.NOT_FOUND, None, outcome.stdout, outcome.stderr, outcome.duration
            )
        return outcome
