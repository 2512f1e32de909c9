"""Run Pacemaker's crm_simulate and crm_verify on a CIB file and read their transition summaries.

The "Transition Summary:" block is taken and normalized exactly as
../shared/tools/pcmk-agreement does: the indented lines after the heading up to the first
blank or unindented line, white space folded, compared as sets.

Standard library only: the benchmarks use it too. crm_simulate writes a shadow copy of the
CIB (shadow.PID) and leaves it behind when killed; every run here points CIB_shadow_dir at a
private temporary directory so nothing lands in /var/lib/pacemaker/cib.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

CRM_SIMULATE = shutil.which("crm_simulate") or "/usr/sbin/crm_simulate"
CRM_VERIFY = shutil.which("crm_verify") or "/usr/sbin/crm_verify"

# crm_simulate -S exits 1 with this when the simulated execution of its own plan stalls.
INVALID_TRANSITION = "An invalid transition was produced"

_shadow_dir: str | None = None


def available() -> bool:
    """Whether crm_simulate and crm_verify (Debian: pacemaker-cli-utils) are installed."""
    return os.access(CRM_SIMULATE, os.X_OK) and os.access(CRM_VERIFY, os.X_OK)


def shadow_dir() -> str:
    """A private directory for crm_simulate's shadow CIBs, removed when Python exits."""
    global _shadow_dir
    if _shadow_dir is None:
        _shadow_dir = tempfile.mkdtemp(prefix="crm-shadow-")
        atexit.register(shutil.rmtree, _shadow_dir, True)
    return _shadow_dir


@dataclass(frozen=True, slots=True)
class Run:
    """One finished child process: what it printed, how long it took, its peak memory."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float  # wall clock
    cpu_seconds: float  # user + system of the child
    maxrss_kb: int  # the child's peak resident set size
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def error(self) -> str:
        """One line saying why the run failed ("" if it did not)."""
        if self.timed_out:
            return f"timed out after {self.seconds:.0f} s"
        if self.returncode != 0:
            lines = (self.stderr or self.stdout).strip().splitlines()
            return f"exit {self.returncode}: {lines[-1] if lines else '(no output)'}"
        return ""


def run(
    argv: Sequence[str],
    *,
    timeout: float = 120.0,
    env: Mapping[str, str] | None = None,
) -> Run:
    """Run a command to completion (or kill its process group at `timeout`), with rusage."""
    full_env = dict(os.environ if env is None else env)
    full_env.setdefault("CIB_shadow_dir", shadow_dir())
    timed_out = threading.Event()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), stdout=out, stderr=err, env=full_env, start_new_session=True
        )

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        return Run(
            argv=tuple(argv),
            returncode=proc.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            seconds=seconds,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            maxrss_kb=usage.ru_maxrss,
            timed_out=timed_out.is_set(),
        )


def crm_simulate(path: str | Path, *args: str, timeout: float = 120.0) -> Run:
    """`crm_simulate -x PATH ARGS...`; ARGS default to -S (run the transition, print all)."""
    return run([CRM_SIMULATE, "-x", str(path), *(args or ("-S",))], timeout=timeout)


def crm_verify(path: str | Path, *args: str, timeout: float = 60.0) -> Run:
    """`crm_verify -x PATH ARGS...`: exit 0 when Pacemaker finds nothing to warn about."""
    return run([CRM_VERIFY, "-x", str(path), *args], timeout=timeout)


def transition_summary(text: str) -> list[str] | None:
    """The lines of the "Transition Summary:" block, or None when there is no such block."""
    lines: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("Transition Summary:"):
            inside = True
            continue
        if inside:
            if not line.strip() or not line.startswith(" "):
                break
            lines.append(line)
    return lines if inside else None


def normalize(line: str, *, reasons: bool = True) -> str:
    """Fold white space; without `reasons`, drop "due to ..." and a fence's quoted reason."""
    s = " ".join(line.split())
    s = re.sub(r"\(\s+", "(", s)
    s = re.sub(r"\s+\)", ")", s)
    if not reasons:
        s = re.sub(r"\)\s+due to .*$", ")", s)
        s = re.sub(r"\s+'[^']*'$", "", s)
    return s


def summary_set(text: str, *, reasons: bool = True) -> frozenset[str] | None:
    """The transition summary of a program's output as a set of normalized lines."""
    block = transition_summary(text)
    if block is None:
        return None
    return frozenset(normalize(line, reasons=reasons) for line in block)
