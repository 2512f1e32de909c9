"""StonithRunner against the real fence_dummy of Debian's fence-agents, and a protocol probe."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hakeeper.agents import OcfRc, OpRequest, OpStatus, Power, StonithDevice, StonithRunner
from hakeeper.model.config import Agent

from .conftest import need

# A minimal agent speaking the protocol: it records its stdin, lists two ports and
# keeps each port's power in a file named after it.
PROBE = """#!/bin/sh
dir=$(dirname "$0")
cat > "$dir/stdin"
action=$(sed -n 's/^action=//p' "$dir/stdin")
port=$(sed -n 's/^port=//p' "$dir/stdin")
case $action in
  list) printf 'ctl1-ipmi,ctl1\\nctl2-ipmi,ctl2\\n' ;;
  monitor) exit 0 ;;
  status) [ "$(cat "$dir/$port" 2>/dev/null)" = off ] && exit 2; exit 0 ;;
  off|on) echo "$action" > "$dir/$port" ;;
  reboot) echo on > "$dir/$port" ;;
  hang) sleep 30 ;;
  *) echo "ERROR: Failed: unknown action $action" >&2; exit 1 ;;
esac
"""


@pytest.fixture
def fence_dummy() -> str:
    need(
        shutil.which("fence_dummy", path="/usr/sbin") is not None,
        "fence_dummy is not installed (Debian package fence-agents)",
    )
    return "fence_dummy"


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    path = tmp_path / "fence_probe"
    path.write_text(PROBE)
    path.chmod(0o755)
    return path


def test_fence_dummy_off_on_reboot_status(fence_dummy: str, tmp_path: Path) -> None:
    runner = StonithRunner()
    device = StonithDevice("fence-ctl1", fence_dummy, {"status_file": str(tmp_path / "power")})
    assert runner.fence(device, "status", "ctl1").power is Power.OFF  # no file yet: off
    assert runner.fence(device, "on", "ctl1").ok
    assert runner.fence(device, "status", "ctl1").power is Power.ON
    assert runner.fence(device, "off", "ctl1").ok
    assert runner.fence(device, "status", "ctl1").power is Power.OFF
    assert runner.fence(device, "reboot", "ctl1").ok
    assert runner.fence(device, "monitor").ok


def test_fence_dummy_failure_has_a_reason(fence_dummy: str) -> None:
    result = StonithRunner().fence(StonithDevice("f", fence_dummy), "list")
    assert not result.ok and result.status is OpStatus.DONE
    assert result.reason and "list" in result.reason


def test_stdin_protocol_and_host_map(probe: Path) -> None:
    runner = StonithRunner()
    device = StonithDevice(
        "fence-ipmi",
        str(probe),
        {
            "ip": "192.0.2.10",
            "username": "admin",
            "pcmk_host_map": "ctl1:ctl1-ipmi;ctl2:ctl2-ipmi",
            "pcmk_delay_max": "5",
        },
    )
    assert runner.fence(device, "off", "ctl1").ok
    sent = (probe.parent / "stdin").read_text().splitlines()
    assert sent == [
        "action=off",
        "nodename=ctl1",
        "port=ctl1-ipmi",
        "ip=192.0.2.10",
        "username=admin",
    ]  # pcmk_* stay Pacemaker's
    assert runner.fence(device, "status", "ctl1").power is Power.OFF
    assert runner.fence(device, "status", "ctl2").power is Power.ON
    assert runner.list(device).ports == ("ctl1-ipmi", "ctl2-ipmi")


def test_plug_argument_and_bad_values(probe: Path) -> None:
    runner = StonithRunner()
    device = StonithDevice("f", str(probe), {"pcmk_host_argument": "plug"})
    runner.fence(device, "on", "ctl3")
    assert "plug=ctl3" in (probe.parent / "stdin").read_text().splitlines()
    injected = StonithDevice("f", str(probe), {"ip": "x\naction=off"})
    assert runner.fence(injected, "monitor").status is OpStatus.ERROR


def test_timeout_and_missing_agent(probe: Path) -> None:
    runner = StonithRunner()
    result = runner.fence(StonithDevice("f", str(probe)), "reboot", "ctl1", timeout=0.3)
    assert result.ok  # sanity: reboot is quick
    slow = StonithRunner(fence_dir=str(probe.parent))
    probe.write_text(PROBE.replace("reboot) echo on", "reboot) sleep 30; echo on"))
    timed_out = slow.fence(StonithDevice("f", probe.name), "reboot", "ctl1", timeout=0.3)
    assert (timed_out.ok, timed_out.status) == (False, OpStatus.TIMEOUT)
    missing = runner.fence(StonithDevice("f", "fence_nosuch"), "monitor")
    assert missing.status is OpStatus.NOT_INSTALLED


def test_stonith_resource_operations(fence_dummy: str, tmp_path: Path) -> None:
    runner = StonithRunner()
    agent = Agent("stonith", None, fence_dummy)
    params = {"status_file": str(tmp_path / "power")}
    for action in ("start", "monitor", "stop"):
        result = runner.run(OpRequest("fence-ctl1", action, "ctl2", agent, params=params))
        assert (result.status, result.rc) == (OpStatus.DONE, OcfRc.OK), action
