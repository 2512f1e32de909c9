"""`resource restart`: refuses without a running cluster, stops and starts again (waiting for
both as --wait does), and never leaves the resource stopped or overwrites a concurrent edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakeeper.cib.edit import find_resource, values_of
from hakeeper.cli.main import main
from hakeeper.commands import resource_config as rc
from hakeeper.commands.cib_store import load
from hakeeper.commands.env import Env
from hakeeper.commands.restart import resource_restart, restore_target_role
from hakeeper.coord import Conflict, Coordinator
from hakeeper.coord.keyspace import KeyspaceCoordinator
from hakeeper.coord.memory import MemoryKv
from hakeeper.reports import CommandError, codes

from .test_wait import run_graph


def target_role(env: Env) -> str | None:
    rsc = find_resource(load(env).cib.configuration, "d1")
    assert rsc is not None
    return values_of(rsc.meta).get("target-role")


@pytest.fixture
def one(env: Env) -> Env:
    from hakeeper.commands.cluster import cluster_setup
    from hakeeper.commands.cluster_options import property_set

    cluster_setup(env, "one", ["ctl1"])
    property_set(env, {"stonith-enabled": "false"})
    rc.resource_create(env, rc.ResourceSpec("d1", "ocf:heartbeat:Dummy"))
    return env


def test_without_a_leader_it_refuses_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite://{tmp_path / 'store.db'}"
    assert main(["cluster", "setup", "one", "ctl1", "--store", url]) == 0
    assert main(["resource", "create", "d1", "ocf:heartbeat:Dummy", "--store", url]) == 0
    before = load(Env(url)).revision
    capsys.readouterr()
    assert main(["resource", "restart", "d1", "--store", url]) == 2
    out, err = capsys.readouterr()
    assert "successfully" not in out
    assert "there is no leader" in err and "cluster start" in err
    assert load(Env(url)).revision == before


def test_restart_waits_for_the_stop_and_the_start(one: Env) -> None:
    with one.coordinator() as coord:
        assert coord.campaign(coord.join("ctl1", 600))
    run_graph(one)  # probe
    run_graph(one)  # start, monitor: d1 runs
    seen: list[str | None] = []

    def leader_acts(_: float) -> None:  # the leader runs what is scheduled between polls
        seen.append(target_role(one))
        run_graph(one)

    dto = resource_restart(one, "d1", timeout=30, sleep=leader_acts)
    assert seen[0] == "Stopped"  # it waited while stopped ...
    assert seen[-1] is None  # ... and again after putting the role back
    assert target_role(one) is None
    assert dto.started_after_s >= dto.stopped_after_s
    from hakeeper.commands.status import cluster_status

    d1 = next(r for r in cluster_status(one).view.resources if r.id == "d1")
    assert list(d1.nodes) == ["ctl1"]


def test_a_stop_that_never_happens_puts_the_role_back(one: Env) -> None:
    with one.coordinator() as coord:
        assert coord.campaign(coord.join("ctl1", 600))
    run_graph(one)
    run_graph(one)
    now = [0.0]

    def nobody_acts(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(CommandError) as err:
        resource_restart(one, "d1", timeout=1, sleep=nobody_acts, clock=lambda: now[0])
    assert err.value.codes == [codes.WAIT_TIMEOUT]
    assert "did not stop" in err.value.reports[0].message
    assert target_role(one) is None


def test_restore_keeps_a_concurrent_change(one: Env) -> None:
    rc.resource_meta(one, "d1", {"target-role": "Stopped"})
    rc.resource_meta(one, "d1", {"target-role": "Started"})  # someone else, meanwhile
    assert not restore_target_role(one, "d1", None).changed
    assert target_role(one) == "Started"
    rc.resource_meta(one, "d1", {"target-role": "Stopped"})
    assert restore_target_role(one, "d1", None).changed
    assert target_role(one) is None


def test_restore_retries_after_a_conflict(tmp_path: Path) -> None:
    kv = MemoryKv()
    lost = [0]

    class Racing(KeyspaceCoordinator):
        def write_config(self, xml: str, *, expected_revision: int) -> int:
            if lost[0] and "Stopped" not in xml:  # the restore loses the race twice
                lost[0] -= 1
                raise Conflict("config", expected_revision, expected_revision + 1)
            return super().write_config(xml, expected_revision=expected_revision)

    def open_store(url: str) -> Coordinator:
        return Racing(kv)

    env = Env("memory://", str(tmp_path), open_store)
    from hakeeper.commands.cluster import cluster_setup

    cluster_setup(env, "one", ["ctl1"])
    rc.resource_create(env, rc.ResourceSpec("d1", "ocf:heartbeat:Dummy"))
    rc.resource_meta(env, "d1", {"target-role": "Stopped"})
    lost[0] = 2
    assert restore_target_role(env, "d1", None).changed
    assert lost == [0] and target_role(env) is None
