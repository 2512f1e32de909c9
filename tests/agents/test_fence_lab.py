"""The lab fence agent, run by StonithRunner against real network namespaces."""

from __future__ import annotations

import subprocess
import time

from hakeeper.agents.request import OpRequest
from hakeeper.agents.result import OcfRc
from hakeeper.agents.stonith import TARGET, Power, StonithDevice, StonithRunner
from hakeeper.model.config import Agent

from .conftest import Lan, ip

LAB = Agent("stonith", None, "fence_hakeeper_lab")


def test_off_kills_the_nodes_processes_and_removes_its_vips(lan: Lan) -> None:
    node = lan.names[0]
    ip("-n", node, "addr", "add", f"{lan.subnet}.200/24", "dev", "eth0")  # a VIP
    ip("-n", node, "addr", "add", f"{lan.subnet}.201/32", "dev", "eth0")  # another
    service = subprocess.Popen(["ip", "netns", "exec", node, "sleep", "300"])
    bystander = subprocess.Popen(["ip", "netns", "exec", lan.names[1], "sleep", "300"])
    try:
        time.sleep(0.2)
        runner = StonithRunner()
        device = StonithDevice("fence-lab", "fence_hakeeper_lab", {"pcmk_host_list": node})
        assert runner.fence(device, "status", node).power is Power.ON

        result = runner.run(
            OpRequest(
                "fence-lab",
                "off",
                lan.names[2],
                LAB,
                device.params,
                {TARGET: node},
                timeout_ms=20_000,
            )
        )

        assert result.rc == OcfRc.OK, result
        assert service.wait(5) == -9
        assert bystander.poll() is None
        addrs = ip("-n", node, "-o", "addr", "show", "scope", "global")
        assert f"{lan.addr(0)}/24" in addrs
        assert f"{lan.subnet}.200" not in addrs and f"{lan.subnet}.201" not in addrs
        assert runner.fence(device, "status", node).power is Power.OFF
        assert runner.fence(device, "on", node).ok
        assert runner.fence(device, "status", node).power is Power.ON
        assert node in runner.list(device).ports
    finally:
        for proc in (service, bystander):
            proc.kill()
            proc.wait()


def test_fencing_an_unknown_node_fails_with_a_reason(lan: Lan) -> None:
    result = StonithRunner().run(
        OpRequest("fence-lab", "reboot", lan.names[0], LAB, {}, {TARGET: "no-such-node"})
    )
    assert result.rc == OcfRc.ERR_GENERIC
    assert result.exit_reason is not None and "no-such-node" in result.exit_reason


def test_a_fencing_request_needs_a_target() -> None:
    result = StonithRunner().run(OpRequest("fence-lab", "off", "n1", LAB, {}))
    assert result.rc == OcfRc.ERR_ARGS
