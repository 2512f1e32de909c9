"""The node daemon's side of the executor inside a bundle container (shims/hk_executor),
which runs the inner agent's actions there as pacemaker-remoted does for Pacemaker.

The executor is started with the engine's exec the first time an action is run in a
container (and again whenever its socket does not answer: a container restarted is a new
one); each action is then one connection to it. Where it cannot be started or reached,
the caller runs the action with the engine's exec, as before: `run` answers None then.
A connection closed early (the action cancelled, the daemon gone) makes it kill the
action's process group.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from hakeeper.agents.process import Exit, ProcessOutcome

#: how long the executor may take to answer after its command's own timeout
GRACE_S = 5.0
#: how long a just-started executor may take to listen
START_WAIT_S = 3.0
#: after a failed start, how long to use the engine's exec before trying again
RETRY_S = 30.0

_EXITS = {
    "exited": Exit.EXITED,
    "timeout": Exit.TIMEOUT,
    "not_found": Exit.NOT_FOUND,
    "not_executable": Exit.NOT_EXECUTABLE,
}

#: starts the executor: (argv inside the container) -> whether the engine started it
Starter = Callable[[Sequence[str]], bool]


class RemoteExecutor:
    """One container's executor, at `host_socket` as this daemon sees it (the same file is
    `container_socket` inside the container, where `helper` is the script)."""

    def __init__(
        self,
        start: Starter,
        host_socket: str,
        container_socket: str,
        helper: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.start = start
        self.host_socket = host_socket
        self.container_socket = container_socket
        self.helper = helper
        self.clock = clock
        self._lock = threading.Lock()  # the actions in flight (cancel takes only this)
        self._starting = threading.Lock()  # one start of the executor at a time
        self._retry_at = 0.0
        # the connections of the actions in flight, with (action, interval) for cancel
        self._runs: dict[socket.socket, tuple[str, str]] = {}

    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str], timeout: float, stdin: bytes = b""
    ) -> ProcessOutcome | None:
        """Run argv in the container through the executor; None if it cannot be reached
        (run it with the engine's exec then)."""
        began = self.clock()
        sock = self._connect()
        if sock is None:
            return None
        request = {
            "argv": list(argv),
            "env": dict(env),
            "timeout": timeout,
            "stdin": stdin.decode(errors="replace"),
        }
        what = (argv[-1] if argv else "", env.get("OCF_RESKEY_CRM_meta_interval", "0"))
        with sock:
            try:
                sock.settimeout(timeout + GRACE_S)
                sock.sendall(json.dumps(request).encode() + b"\n")
            except OSError:
                return None  # gone before it was asked anything: the engine's exec runs it
            with self._lock:
                self._runs[sock] = what
            try:
                data = read_line(sock)
            except TimeoutError:
                # closing the connection makes the executor kill what it ran
                return ProcessOutcome(
                    Exit.TIMEOUT, None, "", "the container's executor did not answer", timeout
                )
            except OSError as err:
                return _gone(f"the container's executor failed: {err}", self.clock() - began)
            finally:
                with self._lock:
                    self._runs.pop(sock, None)
        try:
            reply = json.loads(data)
            if reply.get("exit") == "error":
                return None  # it could not take the request, and ran nothing
            kind = _EXITS[reply["exit"]]
            code = reply.get("code")
            return ProcessOutcome(
                kind,
                code if isinstance(code, int) else None,
                str(reply.get("stdout", "")),
                str(reply.get("stderr", "")),
                self.clock() - began,
            )
        except (ValueError, KeyError, TypeError):
            # no answer: the container (and the executor with it) died under the action
            return _gone("the container's executor went away", self.clock() - began)

    def cancel(self, action: str, interval_ms: int) -> int:
        """End the actions in flight of this agent action and interval (a recurring monitor
        a start, stop, promote or demote cancels): the executor kills them as their
        connection closes, and their run answers as killed. How many there were."""
        with self._lock:
            ended = [s for s, what in self._runs.items() if what == (action, str(interval_ms))]
        for sock in ended:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # it ended meanwhile
        return len(ended)

    def _connect(self) -> socket.socket | None:
        sock = _dial(self.host_socket)
        if sock is not None:
            return sock
        with self._starting:
            sock = _dial(self.host_socket)  # another action's start may have done it
            if sock is not None or self.clock() < self._retry_at:
                return sock
            try:
                os.unlink(self.host_socket)  # a former container's: nobody listens
            except OSError:
                pass
            if self.start(["python3", self.helper, "serve", self.container_socket]):
                deadline = self.clock() + START_WAIT_S
                while self.clock() < deadline:
                    sock = _dial(self.host_socket)
                    if sock is not None:
                        return sock
                    time.sleep(0.02)
            self._retry_at = self.clock() + RETRY_S
            return None


def read_line(sock: socket.socket) -> bytes:
    """What the peer sends up to its newline, or to the end if it closes first (each
    side of the daemon's unix sockets sends one JSON line)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _dial(path: str) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def _gone(why: str, duration: float) -> ProcessOutcome:
    """As the engine's exec reports a container killed under it: by SIGKILL."""
    return ProcessOutcome(Exit.EXITED, -signal.SIGKILL, "", why, duration)
