"""crm_attribute (the shim agents run) against the daemon's attribute socket."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from hakeeper.node.attrd import SHIMS, AttrServer, attrd_path


def crm(sock: Path, *args: str, instance: str = "redis:0") -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "HAKEEPER_ATTRD": str(sock),
        "OCF_RESKEY_CRM_meta_on_node": "n1",
        "OCF_RESOURCE_INSTANCE": instance,
    }
    return subprocess.run(
        [f"{SHIMS}/{args[0]}", *args[1:]], env=env, capture_output=True, text=True, timeout=10
    )


def test_set_query_delete_and_refusals(tmp_path: Path) -> None:
    changes: list[tuple[str, str | None]] = []
    server = AttrServer(tmp_path / "n1.attrd", "n1", lambda n, v: changes.append((n, v)))
    sock = server.path
    try:
        assert crm(sock, "crm_attribute", "-n", "site", "-v", "a", "-l", "forever").returncode == 0
        assert crm(sock, "crm_master", "-l", "reboot", "-v", "100").returncode == 0
        assert changes == [("site", "a"), ("master-redis", "100")]
        got = crm(sock, "crm_attribute", "-n", "site", "-G", "-q")
        assert (got.returncode, got.stdout) == (0, "a\n")
        got = crm(sock, "crm_attribute", "--promotion", "-G")
        assert got.stdout == "scope=status  name=master-redis value=100\n"
        server.update_view({"n1": {"site": "a"}, "n2": {"site": "b"}})  # written back
        assert crm(sock, "crm_attribute", "-N", "n2", "-n", "site", "-G", "-q").stdout == "b\n"
        assert crm(sock, "crm_attribute", "-n", "site", "-D").returncode == 0
        assert changes[-1] == ("site", None)
        missing = crm(sock, "crm_attribute", "-n", "site", "-G", "-q")
        assert missing.returncode == 105
        other = crm(sock, "crm_attribute", "-N", "n2", "-n", "x", "-v", "1")
        assert other.returncode == 1 and "only its own" in other.stderr
        config = crm(sock, "crm_attribute", "--type", "crm_config", "-n", "x", "-v", "1")
        assert config.returncode == 3 and "not supported" in config.stderr
    finally:
        server.close()


def test_without_a_daemon_it_says_so(tmp_path: Path) -> None:
    got = crm(tmp_path / "absent.sock", "crm_attribute", "-n", "x", "-G")
    assert got.returncode == 1 and "could not reach the hakeeper node daemon" in got.stderr


def test_a_long_state_dir_gets_a_short_socket_path() -> None:
    assert attrd_path("/run/hakeeper", "n1") == Path("/run/hakeeper/n1.attrd")
    long = attrd_path("/tmp/" + "x" * 120, "n1")
    assert len(str(long)) < 100 and long != attrd_path("/tmp/" + "y" * 120, "n1")
