"""Where captures come from. A source turns probe specs into jobs (callables returning a
Capture) that the check command runs in parallel.

Two sources here: a directory of captured outputs (`--from DIR`) and the live
Pacemaker host this runs on. The third, a live hakeeper cluster (its status from the
coordination store), is hakeeper.checks.hakeeper_source.HakeeperSource.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from hakeeper.checks.capture import Capture, CaptureStatus, ProbeOutputError
from hakeeper.checks.catalog import How, ProbeSpec, Scope
from hakeeper.checks.containers import DOCKER_KEY, PODMAN_KEY, parse_ps
from hakeeper.checks.runner import CommandRunner, capture_command

MAX_CAPTURE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Job:
    """One capture to make: `run` never raises for the probe's faults."""

    key: str
    node: str | None
    run: Callable[[], Capture]


class CaptureSource(Protocol):
    @property
    def description(self) -> str: ...

    def jobs(self, specs: Sequence[ProbeSpec]) -> Sequence[Job]:
        """One job per capture to make; jobs are independent and run in threads."""
        ...


def _const(capture: Capture) -> Callable[[], Capture]:
    return lambda: capture


# --------------------------------------------------------------------------- directory


@dataclass(frozen=True, slots=True)
class DirectorySource:
    """Captured outputs in a sosreport-like tree: DIR/KEY for cluster-wide captures (or
    this host's), DIR/NODE/KEY per node. docs/check.md lists the file names."""

    root: Path

    @property
    def description(self) -> str:
        return f"captured outputs in {self.root}"

    def nodes(self) -> tuple[str, ...]:
        return tuple(
            sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))
        )

    def _read(self, key: str, node: str | None, path: Path) -> Capture:
        try:
            data = path.read_bytes()[:MAX_CAPTURE_BYTES]
        except FileNotFoundError:
            return Capture(key, node, str(path), CaptureStatus.NOT_CAPTURED, reason="not captured")
        except OSError as err:
            return Capture(
                key, node, str(path), CaptureStatus.FAILED, reason=f"cannot read: {err.strerror}"
            )
        return Capture(
            key, node, str(path), CaptureStatus.OK, data.decode("utf-8", errors="replace")
        )

    def jobs(self, specs: Sequence[ProbeSpec]) -> Sequence[Job]:
        out: list[Job] = []
        nodes = self.nodes()
        for spec in specs:
            top = self.root / spec.key
            per_node = [n for n in nodes if (self.root / n / spec.key).exists()]
            if spec.scope is Scope.CLUSTER:
                if top.exists() or not per_node:
                    out.append(self._job(spec.key, None, top))
                else:  # a cluster-wide capture kept in one node's folder
                    out.append(self._job(spec.key, per_node[0], self.root / per_node[0] / spec.key))
                continue
            if top.exists():
                out.append(self._job(spec.key, None, top))
            for node in per_node:
                out.append(self._job(spec.key, node, self.root / node / spec.key))
        return out

    def _job(self, key: str, node: str | None, path: Path) -> Job:
        return Job(key, node, lambda: self._read(key, node, path))


# ------------------------------------------------------------------------------- live


def query_unix_socket(path: str, command: str, timeout: float) -> str:
    """Send one command to a unix stream socket (HAProxy's stats socket); read to EOF."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class LiveHostSource:
    """This host of a running Pacemaker cluster: crm_mon, the container engine, and the
    service CLIs through `podman|docker exec` into the bundle replica running here."""

    runner: CommandRunner
    hostname: str
    timeout: float = 10.0
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    which: Callable[[str], str | None] = shutil.which
    socket_query: Callable[[str, str, float], str] = query_unix_socket

    @property
    def description(self) -> str:
        return f"live Pacemaker host {self.hostname}"

    def _engine(self) -> str | None:
        for engine in ("podman", "docker"):
            if self.which(engine):
                return engine
        return None

    def _container_list(self, engine: str | None) -> tuple[Capture | None, tuple[str, ...]]:
        if engine is None:
            return None, ()
        key = PODMAN_KEY if engine == "podman" else DOCKER_KEY
        capture = capture_command(
            self.runner,
            key,
            self.hostname,
            (engine, "ps", "--all", "--format", "json"),
            timeout=self.timeout,
        )
        if not capture.ok:
            return capture, ()
        try:
            running = tuple(c.name for c in parse_ps(capture.text) if c.state == "running")
        except ProbeOutputError:
            running = ()
        return capture, running

    def _not_here(self, spec: ProbeSpec, reason: str) -> Job:
        capture = Capture(
            spec.key, self.hostname, " ".join(spec.argv), CaptureStatus.NOT_CAPTURED, reason=reason
        )
        return Job(spec.key, self.hostname, _const(capture))

    def _job(self, spec: ProbeSpec, engine: str | None, running: Sequence[str]) -> Job:
        node = self.hostname
        if spec.needs_env and not any(self.environ.get(v) for v in spec.needs_env):
            return self._not_here(
                spec,
                f"no credentials ({' or '.join(spec.needs_env)} unset: source the overcloudrc)",
            )
        if spec.how is How.FILE:
            path = Path(spec.argv[0])
            return Job(
                spec.key, node, lambda: DirectorySource(path.parent)._read(spec.key, node, path)
            )
        if spec.how is How.SOCKET:
            return Job(spec.key, node, lambda: self._socket(spec))
        argv: tuple[str, ...] = spec.argv
        if spec.how is How.CONTAINER:
            pattern = re.compile(spec.container or "$^")
            name = next((n for n in running if pattern.search(n)), None)
            if engine is None or name is None:
                return self._not_here(spec, f"no running container matches {spec.container}")
            argv = (engine, "exec", name, *spec.argv)
        elif self.which(argv[0]) is None:
            return self._not_here(spec, f"{argv[0]} is not installed")
        return Job(
            spec.key,
            node,
            lambda: capture_command(self.runner, spec.key, node, argv, timeout=self.timeout),
        )

    def _socket(self, spec: ProbeSpec) -> Capture:
        path, command = spec.argv
        origin = f"echo '{command}' | socat stdio {path}"
        try:
            text = self.socket_query(path, command, self.timeout)
        except FileNotFoundError:
            return Capture(
                spec.key,
                self.hostname,
                origin,
                CaptureStatus.NOT_CAPTURED,
                reason=f"no socket at {path}",
            )
        except TimeoutError:
            return Capture(
                spec.key,
                self.hostname,
                origin,
                CaptureStatus.TIMEOUT,
                reason=f"no answer within {self.timeout:g} s",
            )
        except OSError as err:
            return Capture(spec.key, self.hostname, origin, CaptureStatus.FAILED, reason=str(err))
        return Capture(spec.key, self.hostname, origin, CaptureStatus.OK, text)

    def host_jobs(self, specs: Sequence[ProbeSpec]) -> Sequence[Job]:
        """Jobs for probes that need no container (host CLIs, files, sockets)."""
        return [self._job(spec, None, ()) for spec in specs if spec.how is not How.CONTAINER]

    def jobs(self, specs: Sequence[ProbeSpec]) -> Sequence[Job]:
        engine = self._engine()
        # The container list decides where the service CLIs run: fetch it first, once.
        ps_capture, running = self._container_list(engine)
        out: list[Job] = []
        for spec in specs:
            if spec.key in (PODMAN_KEY, DOCKER_KEY):
                if ps_capture is not None and ps_capture.key == spec.key:
                    out.append(Job(spec.key, self.hostname, _const(ps_capture)))
                elif engine is None and spec.key == PODMAN_KEY:
                    out.append(self._not_here(spec, "neither podman nor docker is installed"))
                continue
            out.append(self._job(spec, engine, running))
        return out
