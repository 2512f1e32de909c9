"""Where a cluster node's services run on this host, found from /proc.

A hakeeper node is either this host (its own network namespace) or, in the lab, a network
namespace named after the node (/run/netns/NODE). Its services are the processes in that
namespace, containers joined to it included. A probe reaches a service through the
process itself: `nsenter --target PID --net` runs a client in the service's network
namespace, and /proc/PID/root/PATH is a path as the service sees it (its mount namespace:
the lab's per-node directories, a container's filesystem), so HAProxy's stats socket and
Galera's grastate.dat are read where the service put them.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: the process names (/proc/PID/comm) of each service
SERVICE_COMMS: Mapping[str, tuple[str, ...]] = {
    "redis": ("redis-server",),
    "haproxy": ("haproxy",),
    "galera": ("mariadbd", "mysqld"),
    "rabbitmq": ("beam.smp",),
}


@dataclass(frozen=True, slots=True)
class Process:
    pid: int
    comm: str
    argv: tuple[str, ...]
    netns: int  # inode of its network namespace


@dataclass(frozen=True, slots=True)
class HostView:
    """One scan of /proc: every process by network namespace, and how nodes map to them."""

    processes: tuple[Process, ...]
    host_netns: int
    proc: Path = Path("/proc")

    def netns_of(
        self, node: str, hostname: str, netns_dir: Path = Path("/run/netns")
    ) -> int | None:
        """The network namespace node `node` runs in on this host; None if it is elsewhere."""
        try:
            return (netns_dir / node).stat().st_ino
        except (OSError, ValueError):
            pass
        return self.host_netns if node == hostname else None

    def service(self, netns: int, service: str) -> tuple[Process, ...]:
        """The processes of `service` in that namespace (for rabbitmq: the rabbit VM only)."""
        comms = SERVICE_COMMS.get(service, (service,))
        found = tuple(p for p in self.processes if p.netns == netns and p.comm in comms)
        if service == "rabbitmq":
            found = tuple(p for p in found if any("rabbit" in a for a in p.argv))
        return found

    def path_as_seen_by(self, process: Process, path: str) -> str:
        return f"{self.proc}/{process.pid}/root/{path.lstrip('/')}"


def scan(proc: Path = Path("/proc")) -> HostView:
    """Read every process's name, command line and network namespace (one pass)."""
    found: list[Process] = []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        base = proc / entry
        try:
            netns = (base / "ns" / "net").stat().st_ino
            comm = (base / "comm").read_text().strip()
            raw = (base / "cmdline").read_bytes()
        except OSError:  # gone, or a kernel thread we may not look into
            continue
        argv = tuple(a.decode(errors="replace") for a in raw.split(b"\0") if a)
        found.append(Process(int(entry), comm, argv, netns))
    try:
        host = (proc / "self" / "ns" / "net").stat().st_ino
    except OSError:
        host = -1
    return HostView(tuple(found), host, proc)


# --------------------------------------------------------------------- per service


def redis_address(process: Process) -> tuple[str, str]:
    """redis-server titles itself `redis-server ADDR:PORT` (its first bind address)."""
    words = " ".join(process.argv).split()
    for word in words[1:]:
        host, sep, port = word.rpartition(":")
        if sep and port.isdigit():
            return (host.strip("[]") or "127.0.0.1", port)
    return ("127.0.0.1", "6379")


_STATS_SOCKET = re.compile(r"^\s*stats\s+socket\s+(?:unix@)?(\S+)", re.MULTILINE)


def haproxy_config(process: Process) -> str | None:
    """The configuration file haproxy was started with (`-f FILE`)."""
    argv = process.argv
    for i, arg in enumerate(argv):
        if arg == "-f" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("-f") and len(arg) > 2:
            return arg[2:]
    return None


def haproxy_stats_socket(config_text: str) -> str | None:
    """The first `stats socket PATH` of a configuration (an ipv4@ address is no path)."""
    for match in _STATS_SOCKET.finditer(config_text):
        path = match.group(1)
        if path.startswith("/"):
            return path
    return None


def mysql_datadir(process: Process) -> str:
    for arg in process.argv:
        if arg.startswith("--datadir="):
            return arg.split("=", 1)[1]
    return "/var/lib/mysql"


def in_netns_of(process: Process, argv: Sequence[str], *, mounts: bool = False) -> tuple[str, ...]:
    """argv run in the process's network namespace (and mount namespace: its files and,
    for a container, its own binaries)."""
    spaces = ("--net", "--mount") if mounts else ("--net",)
    return ("nsenter", "--target", str(process.pid), *spaces, "--", *argv)


def describe(argv: Sequence[str]) -> str:
    return shlex.join(argv)
