"""`--wait`: settled means the scheduler has nothing left to do on the stored status."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hakeeper.commands import resource_config as rc
from hakeeper.commands.env import Env
from hakeeper.commands.wait import pending, wait_settled
from hakeeper.coord import StatusKey, StatusKind
from hakeeper.node.machine import PROGRESS
from hakeeper.node.records import cluster_cib, op_fields
from hakeeper.node.transition import build_transition
from hakeeper.reports import CommandError, codes
from hakeeper.scheduler.schedule import schedule


def run_graph(env: Env) -> None:
    """Record what a leader on ctl1 would have run, as the node daemons record results:
    every action of the plan for the current status, done with its expected rc."""
    with env.coordinator() as coord:
        snap = coord.snapshot()
        assert snap.config is not None and snap.leader is not None
        cib = cluster_cib(snap.config.xml, snap.status.documents, snap.members, "ctl1")
        graph = build_transition("t", 1, schedule(cib, int(time.time())).actions, cib.configuration)
        docs: dict[StatusKey, dict[str, Any]] = {}
        for call, action in enumerate(graph.actions, 1):
            key = StatusKey(action.node, StatusKind.OP_HISTORY, action.resource)
            doc = docs.setdefault(
                key,
                dict(snap.status.documents.get(key) or {"agent": list(action.agent), "ops": {}}),
            )
            ops = dict(doc["ops"])
            record = (
                f"{action.resource}_{action.task}_{action.interval_ms}"
                if action.interval_ms
                else f"{action.resource}_last_0"
            )
            if action.task == "stop":
                ops = {}
            ops[record] = op_fields(
                record_id=record,
                resource=action.resource,
                task=action.task,
                interval_ms=action.interval_ms,
                call_id=call,
                rc=action.target_rc,
                op_status=0,
                transition_key=graph.key(action),
                node=action.node,
                started=int(time.time()),
                now=int(time.time()),
                exec_ms=1,
                digest=action.digest,
                exit_reason=None,
            )
            doc["ops"] = ops
        for key, doc in docs.items():
            coord.write_status({key: doc})


@pytest.fixture
def one(env: Env) -> Env:
    from hakeeper.commands.cluster import cluster_setup
    from hakeeper.commands.cluster_options import property_set

    cluster_setup(env, "one", ["ctl1"])
    property_set(env, {"stonith-enabled": "false"})
    rc.resource_create(env, rc.ResourceSpec("d1", "ocf:heartbeat:Dummy"))
    return env


def snapshot_pending(env: Env, revision: int) -> str | None:
    with env.coordinator() as coord:
        return pending(coord.snapshot(), revision, int(time.time()))


def test_no_leader_is_not_settled_and_times_out(one: Env) -> None:
    result = rc.resource_disable(one, ["d1"])
    ticks = iter([0.0, 0.0, 5.0, 11.0])
    with pytest.raises(CommandError) as err:
        wait_settled(one, result.revision, 10, clock=lambda: next(ticks), sleep=lambda s: None)
    assert err.value.codes == [codes.WAIT_TIMEOUT]
    assert err.value.exit_code == 1
    assert "there is no leader" in err.value.reports[0].message


def test_settled_once_the_results_are_recorded(one: Env) -> None:
    with one.coordinator() as coord:
        assert coord.campaign(coord.join("ctl1", 600))
    revision = rc.resource_enable(one, ["d1"]).revision  # nothing to change: no write
    why = snapshot_pending(one, revision)
    assert why is not None and "to do" in why  # a probe and a start, at least
    run_graph(one)  # probes
    run_graph(one)  # start and monitor
    assert snapshot_pending(one, revision) is None
    result = rc.resource_disable(one, ["d1"])
    assert snapshot_pending(one, result.revision) == "stop d1 on ctl1 still to do"
    run_graph(one)
    assert snapshot_pending(one, result.revision) is None
    assert wait_settled(one, result.revision, 5).revision == result.revision


def test_actions_in_flight_are_not_settled(one: Env) -> None:
    with one.coordinator() as coord:
        assert coord.campaign(coord.join("ctl1", 600))
        coord.write_status(
            {
                StatusKey("ctl1", StatusKind.ATTRIBUTES, PROGRESS): {
                    "uuid": "ctl1-1",
                    "seq": 1,
                    "done": [],
                    "failed": [],
                    "running": [0],
                }
            }
        )
    assert snapshot_pending(one, 1) == "ctl1 is running actions of the leader's graph"
