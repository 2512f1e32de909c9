"""FakeAgentRunner: answers expected calls, fails on unexpected and unconsumed ones."""

from __future__ import annotations

import pytest

from hakeeper.agents import Call, FakeAgentRunner, OcfRc, OpRequest, OpStatus, UnexpectedCall
from hakeeper.model.config import Agent

GALERA = Agent("ocf", "heartbeat", "galera")


def req(action: str, node: str = "ctl1", interval_ms: int = 0) -> OpRequest:
    return OpRequest("galera", action, node, GALERA, interval_ms=interval_ms)


def test_answers_expected_calls_in_any_order() -> None:
    with FakeAgentRunner(
        expect=[
            Call("galera", "start", "ctl1"),
            Call("galera", "monitor", "ctl2", rc=OcfRc.NOT_RUNNING),
        ]
    ) as runner:
        assert runner.run(req("monitor", "ctl2")).rc == OcfRc.NOT_RUNNING
        assert runner.run(req("start")).rc == OcfRc.OK
    assert [c.action for c in runner.calls] == ["monitor", "start"]


def test_unexpected_call_fails_where_it_happens_and_in_verify() -> None:
    runner = FakeAgentRunner(expect=[Call("galera", "start", "ctl1")])
    with pytest.raises(UnexpectedCall, match="galera stop on ctl1"):
        runner.run(req("stop"))
    runner.run(req("start"))
    with pytest.raises(UnexpectedCall):
        runner.verify()


def test_unconsumed_call_fails_verify() -> None:
    runner = FakeAgentRunner(expect=[Call("galera", "start", "ctl1")])
    with pytest.raises(AssertionError, match="not made: galera start on ctl1"):
        runner.verify()


def test_ordered_times_interval_and_status() -> None:
    runner = FakeAgentRunner(
        ordered=True,
        expect=[
            Call("galera", "start", "ctl1"),
            Call("galera", "monitor", "ctl1", interval_ms=10000, times=2),
            Call("galera", "stop", "ctl1", status=OpStatus.TIMEOUT, rc=OcfRc.ERR_GENERIC),
        ],
    )
    with pytest.raises(UnexpectedCall):
        runner.run(req("stop"))  # out of order
    runner.errors.clear()
    runner.run(req("start"))
    with pytest.raises(UnexpectedCall):
        runner.run(req("monitor", interval_ms=5000))
    runner.errors.clear()
    assert runner.run(req("monitor", interval_ms=10000)).rc == OcfRc.OK
    assert runner.run(req("monitor", interval_ms=10000)).rc == OcfRc.OK
    result = runner.run(req("stop"))
    assert (result.status, result.rc) == (OpStatus.TIMEOUT, OcfRc.ERR_GENERIC)
    runner.verify()
