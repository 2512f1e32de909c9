"""Fixtures: network namespaces on a bridge (root), the agents' packages, a podman config."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

OCF_HEARTBEAT = Path("/usr/lib/ocf/resource.d/heartbeat")


def need(condition: bool, reason: str) -> None:
    """Skip when a machine lacks something; in CI, where `make install` provides it, fail."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (`make install` should provide it)")
    pytest.skip(reason)


def ip(*args: str) -> str:
    return subprocess.run(["ip", *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def ocf_installed() -> None:
    need((OCF_HEARTBEAT / "Dummy").is_file(), "resource-agents is not installed")


@pytest.fixture
def root() -> None:
    need(os.geteuid() == 0, "needs root (network namespaces)")


@dataclass(frozen=True)
class Lan:
    """Namespaces `names[i]` each with interface eth0 at 10.77.X.(i+1)/24, all on one bridge."""

    prefix: str
    names: tuple[str, ...]
    subnet: str

    def addr(self, i: int) -> str:
        return f"{self.subnet}.{i + 1}"

    def mac(self, i: int) -> str:
        out = ip("-n", self.names[i], "-o", "link", "show", "dev", "eth0")
        return out.split("link/ether ")[1].split()[0]


@pytest.fixture
def lan(root: None) -> Iterator[Lan]:
    """Three namespaces (two nodes and a client) on a bridge in a fourth; deleted after."""
    tag = uuid.uuid4().hex[:6]
    bridge_ns = f"hkt-{tag}-br"
    names = tuple(f"hkt-{tag}-{i}" for i in range(3))
    subnet = f"10.77.{int(tag[:2], 16)}"
    created: list[str] = []
    try:
        for ns in (bridge_ns, *names):
            ip("netns", "add", ns)
            created.append(ns)
            ip("-n", ns, "link", "set", "lo", "up")
        ip("-n", bridge_ns, "link", "add", "br0", "type", "bridge")
        ip("-n", bridge_ns, "link", "set", "br0", "up")
        for i, ns in enumerate(names):
            ip(
                "link",
                "add",
                "eth0",
                "netns",
                ns,
                "type",
                "veth",
                "peer",
                "name",
                f"p{i}",
                "netns",
                bridge_ns,
            )
            ip("-n", bridge_ns, "link", "set", f"p{i}", "master", "br0", "up")
            ip("-n", ns, "addr", "add", f"{subnet}.{i + 1}/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
        yield Lan(f"hkt-{tag}", names, subnet)
    finally:
        for ns in reversed(created):
            subprocess.run(["ip", "netns", "del", ns], check=False)


@pytest.fixture
def arping() -> str:
    path = shutil.which("arping")
    need(path is not None, "arping is not installed (Debian package iputils-arping)")
    assert path is not None
    return path
