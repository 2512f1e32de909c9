"""Noticing at once that a resource's process exited, without waiting for its next monitor.

Pacemaker learns of a crashed service only from the next recurring monitor. Here, after an
action leaves a resource running, the daemon looks for the pid the agent keeps in a pid
file and holds a pidfd on it (Linux 5.3+): the pidfd becomes readable the moment the
process exits, and the daemon then runs the resource's monitor immediately, so the failure
is confirmed (and recovered) by the agent itself, as usual, only sooner.

Where the pid file is: a `pidfile` parameter (an absolute path), or, for agents that keep
it in a run directory (ocf:heartbeat:redis), `rundir` + `pidfile_name` (their defaults
when unset). Agents with neither are watched by their monitors alone.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Callable, Mapping

from hakeeper.agents.request import OpRequest

#: run-directory pid files of agents that keep one, with the agents' defaults
RUNDIR_AGENTS: Mapping[tuple[str | None, str], tuple[str, str]] = {
    ("heartbeat", "redis"): ("/var/run/redis", "redis-server.pid"),
}


def pidfile_of(request: OpRequest) -> str | None:
    """Where the agent of this request keeps its process's pid, if it says."""
    path = request.params.get("pidfile")
    if path and os.path.isabs(path):
        return path
    defaults = RUNDIR_AGENTS.get((request.agent.provider, request.agent.type))
    if defaults is None:
        return None
    rundir = request.params.get("rundir") or defaults[0]
    return os.path.join(rundir, request.params.get("pidfile_name") or defaults[1])


def read_pid(path: str) -> int | None:
    try:
        with open(path) as f:
            pid = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid > 1 else None


class ExitWatcher:
    """A thread that calls on_exit(resource) when the watched process of a resource exits."""

    def __init__(self, on_exit: Callable[[str], None]) -> None:
        self._on_exit = on_exit
        self._lock = threading.Lock()
        self._fds: dict[int, tuple[str, int]] = {}  # pidfd -> (resource, pid)
        self._by_resource: dict[str, int] = {}
        self._wake_r, self._wake_w = os.pipe()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="exit-watcher", daemon=True)
        self._thread.start()

    def watch(self, resource: str, request: OpRequest) -> None:
        """Watch the process the agent's pid file names now (replacing an earlier one)."""
        path = pidfile_of(request)
        self.watch_pid(resource, read_pid(path) if path else None)

    def watch_pid(self, resource: str, pid: int | None) -> None:
        """Watch process `pid` as the resource's (a bundle container's, by its engine)."""
        with self._lock:
            old = self._by_resource.get(resource)
            if old is not None and pid is not None and self._fds.get(old, ("", 0))[1] == pid:
                return  # already watching this very process
        self.forget(resource)
        if pid is None:
            return
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            return  # gone already: the monitor will say so
        with self._lock:
            self._fds[fd] = (resource, pid)
            self._by_resource[resource] = fd
        os.write(self._wake_w, b"x")

    def forget(self, resource: str) -> None:
        """Stop watching a resource (it is being stopped, or moved)."""
        with self._lock:
            fd = self._by_resource.pop(resource, None)
            if fd is not None:
                self._fds.pop(fd, None)
        if fd is not None:
            os.write(self._wake_w, b"x")
            os.close(fd)

    def close(self) -> None:
        self._stopped = True
        os.write(self._wake_w, b"x")

    def _loop(self) -> None:
        while not self._stopped:
            poller = select.poll()
            poller.register(self._wake_r, select.POLLIN)
            with self._lock:
                for fd in self._fds:
                    poller.register(fd, select.POLLIN)
            for fd, _ in poller.poll():
                if fd == self._wake_r:
                    os.read(self._wake_r, 4096)
                    continue
                with self._lock:
                    entry = self._fds.pop(fd, None)
                    if entry is not None and self._by_resource.get(entry[0]) == fd:
                        del self._by_resource[entry[0]]
                if entry is not None:
                    os.close(fd)
                    self._on_exit(entry[0])
