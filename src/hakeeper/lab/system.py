"""The lab's edge with the OS: commands that must succeed, processes found by namespace."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable, Mapping, Sequence

from hakeeper.agents.process import Exit, ProcessOutcome, run_process
from hakeeper.reports import CommandError, Report, codes

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ENV = {"PATH": PATH, "LC_ALL": "C"}


def run(
    argv: Sequence[str],
    *,
    timeout: float = 30.0,
    env: Mapping[str, str] | None = None,
    stdin: bytes = b"",
    what: str | None = None,
) -> ProcessOutcome:
    """Run argv; raise LAB_STEP_FAILED with its stderr if it does not exit 0."""
    outcome = run_process(argv, env={**ENV, **(env or {})}, timeout=timeout, stdin=stdin)
    if outcome.exit is not Exit.EXITED or outcome.code != 0:
        raise CommandError(
            Report.error(
                codes.LAB_STEP_FAILED,
                f"{what or ' '.join(argv)} failed ({_how(outcome, timeout)}): "
                f"{outcome.stderr.strip()[-800:] or outcome.stdout.strip()[-800:]}",
                command=list(argv),
            )
        )
    return outcome


def attempt(argv: Sequence[str], *, timeout: float = 30.0) -> ProcessOutcome:
    """Run argv; its failure is the caller's to judge (teardown of what may be gone)."""
    return run_process(argv, env=ENV, timeout=timeout)


def _how(outcome: ProcessOutcome, timeout: float) -> str:
    if outcome.exit is Exit.TIMEOUT:
        return f"no answer in {timeout:g} s"
    if outcome.exit is not Exit.EXITED:
        return str(outcome.exit.value)
    return f"exit {outcome.code}"


def netns_inode(name: str) -> int | None:
    try:
        return os.stat(f"/run/netns/{name}").st_ino
    except OSError:
        return None


def pids_in_netns(name: str) -> list[int]:
    """Every process whose network namespace is netns `name` (the node's whole machine:
    daemons, the services its agents started, containers joined to it)."""
    inode = netns_inode(name)
    if inode is None:
        return []
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}/ns/net").st_ino == inode:
                found.append(int(entry))
        except OSError:
            continue
    return found


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (tells a PID from its reuse)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return int(text.rpartition(")")[2].split()[19])


def alive(pid: int, started: int | None = None) -> bool:
    now = start_time(pid)
    if now is None:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rpartition(")")[2].split()[0] == "Z":
                return False
    except OSError:
        return False
    return started is None or now == started


def kill_all(pids: Iterable[int], *, grace: float = 0.0) -> None:
    """SIGTERM (if grace) then SIGKILL; returns when they are gone or 5 s later."""
    pids = list(pids)
    if grace > 0:
        _signal(pids, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(alive(p) for p in pids):
            time.sleep(0.05)
    _signal(pids, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.02)


def _signal(pids: Iterable[int], sig: signal.Signals) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def kill_netns(name: str, *, rounds: int = 20) -> int:
    """Kill every process in netns `name` until none is left (a dying container's conmon
    starts `podman container cleanup` as it goes); returns how many were killed."""
    killed: set[int] = set()
    for _ in range(rounds):
        pids = [p for p in pids_in_netns(name) if alive(p)]
        if not pids:
            break
        killed.update(pids)
        kill_all(pids)
    return len(killed)


#: where podman's cgroupfs manager puts a container's cgroup, in each hierarchy
CGROUP_ROOT = "/sys/fs/cgroup"
CGROUP_PARENT = "libpod_parent"


def container_cgroups(ids: Iterable[str], root: str = CGROUP_ROOT) -> list[str]:
    """The cgroup directories of these containers, in every hierarchy mounted under root
    (cgroup v1's per controller, or v2's single one)."""
    hierarchies = [root]
    try:
        hierarchies += sorted(
            os.path.join(root, name)
            for name in os.listdir(root)
            if os.path.isdir(os.path.join(root, name, CGROUP_PARENT))
        )
    except OSError:
        return []
    return [
        path
        for hierarchy in hierarchies
        for cid in sorted(set(ids))
        if os.path.isdir(path := os.path.join(hierarchy, CGROUP_PARENT, f"libpod-{cid}"))
    ]


def remove_cgroups(paths: Iterable[str]) -> list[str]:
    """rmdir each cgroup and those below it, deepest first (a cgroup goes only once no
    process is in it); the ones that stayed."""
    stayed: list[str] = []
    for path in paths:
        for below, _, _ in sorted(os.walk(path), key=lambda w: len(w[0]), reverse=True):
            try:
                os.rmdir(below)
            except FileNotFoundError:
                pass
            except OSError:
                stayed.append(below)
    return stayed
