"""OcfRunner against the real agents of Debian's resource-agents and pacemaker-resource-agents."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hakeeper.agents import NetnsLauncher, OcfRc, OcfRunner, OpRequest, OpStatus
from hakeeper.agents.metadata import MetadataError, parse_metadata
from hakeeper.agents.ocf import exit_reason
from hakeeper.model.config import Agent

from .conftest import Lan, ip

DUMMY = Agent("ocf", "heartbeat", "Dummy")
PCMK_DUMMY = Agent("ocf", "pacemaker", "Dummy")
pytestmark = pytest.mark.usefixtures("ocf_installed")


def req(action: str, agent: Agent = DUMMY, **kwargs: object) -> OpRequest:
    return OpRequest("dummy1", action, "ctl1", agent, **kwargs)  # type: ignore[arg-type]


def test_dummy_start_monitor_stop(tmp_path: Path) -> None:
    runner = OcfRunner(rsctmp=str(tmp_path))
    params = {"state": str(tmp_path / "dummy1.state")}
    rcs = [
        runner.run(req(action, params=params)).rc
        for action in ("monitor", "start", "monitor", "start", "stop", "monitor", "stop")
    ]
    assert rcs == [
        OcfRc.NOT_RUNNING,
        OcfRc.OK,
        OcfRc.OK,
        OcfRc.OK,
        OcfRc.OK,
        OcfRc.NOT_RUNNING,
        OcfRc.OK,
    ]


def test_result_carries_status_duration_and_output(tmp_path: Path) -> None:
    result = OcfRunner(rsctmp=str(tmp_path)).run(
        req("monitor", params={"state": str(tmp_path / "s")})
    )
    assert result.status is OpStatus.DONE
    assert result.rc == 7 and result.rc is OcfRc.NOT_RUNNING
    assert not result.running
    assert 0 < result.duration < 5


def test_parameters_are_environment_values_never_shell(tmp_path: Path) -> None:
    """A value full of shell syntax reaches the agent verbatim (Dummy touches that path; it
    does not quote it, so the value has no blanks to split on)."""
    nasty = tmp_path / "s;$(touch${IFS}pwned)`touch${IFS}pwned`|&"
    runner = OcfRunner(rsctmp=str(tmp_path))
    assert runner.run(req("start", params={"state": str(nasty)})).rc == OcfRc.OK
    assert nasty.exists()
    assert list(tmp_path.iterdir()) == [nasty]


def test_environment_follows_the_ocf_protocol() -> None:
    env = OcfRunner(rsctmp="/tmp/x").environment(
        OpRequest(
            "galera:0",
            "monitor",
            "ctl1",
            Agent("ocf", "heartbeat", "galera"),
            params={"wsrep_cluster_address": "gcomm://a,b", "OCF_CHECK_LEVEL": "10"},
            meta={"clone": "0", "notify-type": "pre"},
            interval_ms=10000,
            timeout_ms=30000,
        )
    )
    assert env["OCF_ROOT"] == "/usr/lib/ocf"
    assert env["OCF_RESOURCE_INSTANCE"] == "galera:0"
    assert env["OCF_RESOURCE_TYPE"] == "galera"
    assert env["OCF_RESOURCE_PROVIDER"] == "heartbeat"
    assert env["OCF_RESKEY_wsrep_cluster_address"] == "gcomm://a,b"
    assert env["OCF_CHECK_LEVEL"] == "10"
    assert env["OCF_RESKEY_CRM_meta_timeout"] == "30000"
    assert env["OCF_RESKEY_CRM_meta_interval"] == "10000"
    assert env["OCF_RESKEY_CRM_meta_clone"] == "0"
    assert env["OCF_RESKEY_CRM_meta_notify_type"] == "pre"
    assert env["HA_RSCTMP"] == "/tmp/x"
    assert "HOME" not in env  # nothing leaks in from the daemon's environment


def test_a_name_that_cannot_be_an_environment_variable_is_an_error() -> None:
    result = OcfRunner().run(req("start", params={"a=b": "1"}))
    assert (result.status, result.rc) == (OpStatus.ERROR, OcfRc.NOT_CONFIGURED)


def test_timeout_kills_the_agent_and_its_children(tmp_path: Path) -> None:
    """ocf:heartbeat:Delay sleeps in a child process; the whole group dies at the deadline."""
    began = time.monotonic()
    result = OcfRunner(rsctmp=str(tmp_path)).run(
        req(
            "start", Agent("ocf", "heartbeat", "Delay"), params={"startdelay": "30"}, timeout_ms=400
        )
    )
    elapsed = time.monotonic() - began
    assert result.status is OpStatus.TIMEOUT
    assert result.rc == OcfRc.ERR_GENERIC
    assert elapsed < 2
    assert "timed out after 400 ms" in (result.exit_reason or "")


def test_missing_agent_is_not_installed() -> None:
    result = OcfRunner().run(req("start", Agent("ocf", "heartbeat", "NoSuchAgent")))
    assert (result.status, result.rc) == (OpStatus.NOT_INSTALLED, OcfRc.NOT_INSTALLED)
    assert "NoSuchAgent" in (result.exit_reason or "")


def test_exit_reason_comes_from_stderr(tmp_path: Path) -> None:
    """IPaddr2 rejects a bad address with ocf_exit_reason; we keep that line's text."""
    result = OcfRunner(rsctmp=str(tmp_path)).run(
        req("validate-all", Agent("ocf", "heartbeat", "IPaddr2"), params={"ip": "not-an-ip"})
    )
    assert result.status is OpStatus.DONE
    assert result.rc != OcfRc.OK
    assert result.exit_reason and "ocf-exit-reason" not in result.exit_reason
    assert exit_reason("x\nocf-exit-reason:first\nocf-exit-reason:last one\n") == "last one"


def test_metadata_of_dummy() -> None:
    meta = OcfRunner().metadata(DUMMY)
    assert meta.name == "Dummy"
    state = meta.parameter("state")
    assert state is not None and state.unique and not state.reloadable
    fake = meta.parameter("fake")
    assert fake is not None and fake.reloadable and fake.default == "dummy"
    assert meta.default_timeout_ms("start") == 20000
    monitor = meta.action("monitor")
    assert monitor is not None and monitor.interval_ms == 10000
    assert meta.reload_action == "reload"


def test_metadata_of_an_ocf_1_1_agent_prefers_reload_agent(tmp_path: Path) -> None:
    runner = OcfRunner(rsctmp=str(tmp_path))
    meta = runner.metadata(PCMK_DUMMY)
    assert meta.reload_action == "reload-agent"
    op_sleep = meta.parameter("op_sleep")
    assert op_sleep is not None and op_sleep.reloadable
    params = {"state": str(tmp_path / "p.state")}
    assert runner.run(req("start", PCMK_DUMMY, params=params)).rc == OcfRc.OK
    result = runner.reload(req("start", PCMK_DUMMY, params={**params, "fake": "changed"}))
    assert (result.status, result.rc) == (OpStatus.DONE, OcfRc.OK)


def test_reload_of_an_agent_without_one_is_unimplemented(tmp_path: Path) -> None:
    result = OcfRunner().reload(req("start", Agent("ocf", "heartbeat", "Delay")))
    assert result.rc == OcfRc.UNIMPLEMENTED


def test_metadata_errors() -> None:
    with pytest.raises(MetadataError):
        OcfRunner().metadata(Agent("ocf", "heartbeat", "NoSuchAgent"))
    with pytest.raises(MetadataError):
        parse_metadata("<html/>")
    with pytest.raises(MetadataError):
        parse_metadata("not xml")


def test_ipaddr2_in_a_namespace(lan: Lan, tmp_path: Path) -> None:
    """The real IPaddr2, run inside a node's namespace, adds and removes the address."""
    node = lan.names[0]
    runner = OcfRunner(rsctmp=str(tmp_path), launcher=NetnsLauncher(node))
    vip = f"{lan.subnet}.100"
    params = {"ip": vip, "cidr_netmask": "24", "nic": "eth0"}
    agent = Agent("ocf", "heartbeat", "IPaddr2")
    assert runner.run(req("monitor", agent, params=params)).rc == OcfRc.NOT_RUNNING
    started = runner.run(req("start", agent, params=params))
    assert started.rc == OcfRc.OK, started
    assert vip in ip("-n", node, "-o", "addr", "show", "dev", "eth0")
    assert runner.run(req("monitor", agent, params=params)).rc == OcfRc.OK
    assert runner.run(req("stop", agent, params=params)).rc == OcfRc.OK
    assert vip not in ip("-n", node, "-o", "addr", "show", "dev", "eth0")
    assert runner.run(req("monitor", agent, params=params)).rc == OcfRc.NOT_RUNNING
