"""Running a probe's command: a seam (CommandRunner) so tests swap in a fake."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from hakeeper.checks.capture import Capture, CaptureStatus

STDERR_TAIL_LINES = 5
#: after a timeout's kill, how long to wait for the output already written
PIPE_GRACE_S = 2.0
#: terminal colours some CLIs print even to a pipe (rabbitmqctl's usage text)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True, slots=True)
class RunResult:
    argv: tuple[str, ...]
    returncode: int | None  # None: did not run or did not finish
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    missing: bool = False  # the executable is not installed


class CommandRunner(Protocol):
    def run(self, argv: Sequence[str], *, timeout: float) -> RunResult:
        """Run argv to completion or until timeout; never raises for the command's faults."""
        ...


class SubprocessRunner:
    """Runs commands in their own session so a timeout kills the whole process group."""

    def run(self, argv: Sequence[str], *, timeout: float) -> RunResult:
        args = tuple(argv)
        try:
            proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                start_new_session=True,
            )
        except FileNotFoundError:
            return RunResult(args, None, missing=True)
        except OSError as err:
            return RunResult(args, None, stderr=str(err))
        try:
            out, err_text = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # The probe may have forked (podman exec, rabbitmqctl's erl): kill the group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            try:
                out, err_text = proc.communicate(timeout=PIPE_GRACE_S)
            except subprocess.TimeoutExpired:
                # something outside the group (a daemon the probe started: erl's epmd)
                # still holds the pipes: give up on them rather than wait for it
                for pipe in (proc.stdout, proc.stderr):
                    if pipe is not None:
                        with contextlib.suppress(OSError):
                            pipe.close()
                proc.wait()
                out = err_text = ""
            return RunResult(args, None, out, err_text, timed_out=True)
        return RunResult(args, proc.returncode, out, err_text)


def capture_command(
    runner: CommandRunner, key: str, node: str | None, argv: Sequence[str], *, timeout: float
) -> Capture:
    """Run one probe command and turn whatever happened into a Capture."""
    origin = shlex.join(argv)
    result = runner.run(argv, timeout=timeout)
    if result.missing:
        return Capture(
            key, node, origin, CaptureStatus.NOT_CAPTURED, reason=f"{argv[0]} is not installed"
        )
    if result.timed_out:
        return Capture(
            key,
            node,
            origin,
            CaptureStatus.TIMEOUT,
            result.stdout,
            reason=f"no answer within {timeout:g} s",
        )
    if result.returncode != 0:
        stderr = _ANSI.sub("", result.stderr)
        tail = [line for line in stderr.splitlines() if line.strip()][-STDERR_TAIL_LINES:]
        why = "; ".join(tail) or f"exit status {result.returncode}"
        return Capture(key, node, origin, CaptureStatus.FAILED, result.stdout, reason=why)
    return Capture(key, node, origin, CaptureStatus.OK, result.stdout)
