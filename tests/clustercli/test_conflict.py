"""Concurrent edits: every edit is one compare-and-swap; the loser gets CONFIG_CONFLICT
(exit code 3) and the stored configuration is exactly the winner's."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from hakeeper.cib.edit import find_resource, values_of
from hakeeper.cli.main import main
from hakeeper.commands import resource_config as rc
from hakeeper.commands.cib_store import EditResult, edit_config, load, simple
from hakeeper.commands.cluster import cluster_setup
from hakeeper.commands.env import Env
from hakeeper.reports import CommandError, codes


def race(env: Env) -> tuple[list[EditResult], list[CommandError]]:
    """Two updates of the same resource that both read the same revision, then write."""
    both_read = threading.Barrier(2, timeout=10)
    wins: list[EditResult] = []
    losses: list[CommandError] = []

    def update(value: str) -> None:
        try:
            wins.append(
                edit_config(
                    env,
                    simple(lambda c: rc.edit.set_params(c, "vip", {"ip": value})),
                    after_read=both_read.wait,
                )
            )
        except CommandError as err:
            losses.append(err)

    threads = [threading.Thread(target=update, args=(ip,)) for ip in ("10.0.0.1", "10.0.0.2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    return wins, losses


def check_one_wins(env: Env) -> None:
    cluster_setup(env, "demo", ["ctl1", "ctl2"])
    rc.resource_create(
        env, rc.ResourceSpec("vip", "ocf:heartbeat:IPaddr2", params=(("ip", "10.0.0.0"),))
    )
    before = load(env)
    wins, losses = race(env)
    assert len(wins) == 1 and len(losses) == 1
    assert losses[0].codes == [codes.CONFIG_CONFLICT]
    assert losses[0].exit_code == 3
    assert losses[0].reports[0].payload["expected_revision"] == before.revision
    after = load(env)
    assert after.revision == wins[0].revision
    vip = find_resource(after.cib.configuration, "vip")
    assert vip is not None and not isinstance(vip, rc.Bundle)
    winner_ip = values_of(vip.params)["ip"] if isinstance(vip, rc.Primitive) else None
    assert winner_ip in ("10.0.0.1", "10.0.0.2")
    # intact: the winner's edit and nothing else changed
    assert after.cib.configuration == rc.edit.set_params(
        before.cib.configuration, "vip", {"ip": winner_ip}
    )


def test_two_concurrent_updates_one_wins(env: Env) -> None:
    check_one_wins(env)


@pytest.mark.integration
def test_two_concurrent_updates_one_wins_on_etcd(etcd_env: Env) -> None:
    check_one_wins(etcd_env)


@pytest.mark.integration
def test_edits_on_etcd(etcd_env: Env) -> None:
    cluster_setup(etcd_env, "demo", ["ctl1", "ctl2"])
    rc.resource_create(
        etcd_env, rc.ResourceSpec("vip", "ocf:heartbeat:IPaddr2", params=(("ip", "10.0.0.1"),))
    )
    rc.resource_ban(etcd_env, "vip", "ctl2")
    assert [c.id for c in load(etcd_env).cib.configuration.constraints] == ["cli-ban-vip-on-ctl2"]
    with pytest.raises(CommandError) as err:
        rc.resource_ban(etcd_env, "nope", "ctl2")
    assert err.value.codes == [codes.CIB_UNKNOWN_RESOURCE]


def test_a_stale_import_exits_3_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite://{tmp_path / 'store.db'}"
    assert main(["cluster", "setup", "demo", "ctl1", "--store", url]) == 0
    assert (
        main(["resource", "create", "vip", "ocf:heartbeat:IPaddr2", "ip=10.0.0.1", "--store", url])
        == 0
    )
    exported = tmp_path / "cib.xml"
    capsys.readouterr()
    assert main(["cib", "export", str(exported), "--store", url]) == 0
    revision = capsys.readouterr().err.split()[-1]  # "configuration revision N"
    assert main(["resource", "disable", "vip", "--store", url]) == 0  # another writer
    code = main(["cib", "import", str(exported), "--revision", revision, "--store", url])
    err = capsys.readouterr().err
    assert code == 3
    assert f"read at revision {revision}" in err and "nothing was written" in err
    vip = find_resource(load(Env(url)).cib.configuration, "vip")
    assert vip is not None and values_of(vip.meta) == {"target-role": "Stopped"}
