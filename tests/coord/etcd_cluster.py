"""A real 3-member etcd cluster on 127.0.0.1, started directly (no systemd), for the tests.

Timing flags as measured on these machines: with --heartbeat-interval 50 and
--election-timeout 500 a lease of TTL 1 is seen expiring by a watcher in about 1 s.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


def free_ports(count: int) -> list[int]:
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


@dataclass
class EtcdCluster:
    workdir: Path
    size: int = 3
    client_ports: list[int] = field(default_factory=list)
    peer_ports: list[int] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes] | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        ports = free_ports(2 * self.size)
        self.client_ports = ports[: self.size]
        self.peer_ports = ports[self.size :]
        self.procs = [None] * self.size

    @property
    def endpoints(self) -> str:
        return ",".join(f"127.0.0.1:{p}" for p in self.client_ports)

    def url(self, namespace: str) -> str:
        return f"etcd://{self.endpoints}?namespace={namespace}&timeout=2"

    def _argv(self, i: int) -> list[str]:
        etcd = shutil.which("etcd")
        assert etcd is not None
        peers = ",".join(f"m{j}=http://127.0.0.1:{p}" for j, p in enumerate(self.peer_ports))
        client = f"http://127.0.0.1:{self.client_ports[i]}"
        peer = f"http://127.0.0.1:{self.peer_ports[i]}"
        return [
            etcd,
            "--name",
            f"m{i}",
            "--data-dir",
            str(self.workdir / f"m{i}"),
            "--listen-client-urls",
            client,
            "--advertise-client-urls",
            client,
            "--listen-peer-urls",
            peer,
            "--initial-advertise-peer-urls",
            peer,
            "--initial-cluster",
            peers,
            "--initial-cluster-state",
            "new",
            "--initial-cluster-token",
            f"hakeeper-test-{self.peer_ports[0]}",
            "--heartbeat-interval",
            "50",
            "--election-timeout",
            "500",
            "--logger",
            "zap",
            "--log-outputs",
            str(self.workdir / f"m{i}.log"),
        ]

    def start(self, i: int) -> None:
        assert self.procs[i] is None
        self.procs[i] = subprocess.Popen(
            self._argv(i),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start_all(self, timeout: float = 20.0) -> None:
        for i in range(self.size):
            self.start(i)
        for i in range(self.size):
            self.wait_healthy(i, timeout)

    def healthy(self, i: int) -> bool:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.client_ports[i]}/health", timeout=1
            ) as reply:
                return bool(json.load(reply).get("health") == "true")
        except (OSError, ValueError):
            return False

    def wait_healthy(self, i: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.healthy(i):
            proc = self.procs[i]
            if proc is not None and proc.poll() is not None:
                log = (self.workdir / f"m{i}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"etcd member m{i} exited {proc.returncode}:\n{log}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"etcd member m{i} not healthy after {timeout} s")
            time.sleep(0.05)

    def kill(self, i: int) -> None:
        proc = self.procs[i]
        if proc is not None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait(10)
            self.procs[i] = None

    def leader(self) -> int:
        """The index of the member that is raft leader now."""
        for i, port in enumerate(self.client_ports):
            if self.procs[i] is None:
                continue
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/v3/maintenance/status", data=b"{}", method="POST"
            )
            with urllib.request.urlopen(request, timeout=2) as reply:
                status = json.load(reply)
            if status["header"]["member_id"] == status["leader"]:
                return i
        raise RuntimeError("no etcd member says it is the leader")

    def freeze(self, i: int) -> None:
        """Stop member i without closing its sockets: like a hung process or a cut link."""
        proc = self.procs[i]
        assert proc is not None
        proc.send_signal(signal.SIGSTOP)

    def thaw(self, i: int) -> None:
        proc = self.procs[i]
        if proc is not None:
            proc.send_signal(signal.SIGCONT)

    def member_of(self, endpoint: str) -> int:
        return self.client_ports.index(int(endpoint.rpartition(":")[2]))

    def stop(self) -> None:
        for i in range(self.size):
            self.kill(i)
