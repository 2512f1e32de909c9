"""Failover in a 3-node namespace cluster on real etcd, with real redis, a VIP and fencing:
redis and the VIP as a group, and redis as a promotable clone (the real
ocf:heartbeat:redis, replicas re-pointed by notifications) with the VIP on its master."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hakeeper.coord import Coordinator, StatusKey, StatusKind
from hakeeper.node import records

from .nscluster import (
    NODES,
    NsCluster,
    first_master_after,
    missing,
    overlaps,
    samples,
    wait_for,
)

pytestmark = pytest.mark.integration

Lab = tuple[NsCluster, Coordinator]


@pytest.fixture
def lab_ttl() -> float:
    """The daemons' lease ttl; the self-fencing deadline is 0.6 of it. 2 s, not the 1 s of
    benchmarks/failover.py: `make test` runs on loaded machines, where a starved keepalive
    would make a node fence itself."""
    return 2.0


@pytest.fixture
def lab_promotable() -> bool:
    """redis as a promotable clone rather than in a group with the VIP."""
    return False


@pytest.fixture
def lab(tmp_path: Path, lab_ttl: float, lab_promotable: bool) -> Iterator[Lab]:
    reason = missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (`make install` should provide it)")
        pytest.skip(reason)
    cluster = NsCluster(
        tmp_path, ttl=lab_ttl, fence_after=round(lab_ttl * 0.6, 2), promotable=lab_promotable
    )
    coord = None
    try:
        coord = cluster.start()
        yield cluster, coord
    finally:
        if coord is not None:
            coord.close()
        cluster.stop()
        for node in NODES:
            log = tmp_path / f"{node}.log"
            if log.exists():
                sys.stderr.write(f"--- {node}\n{log.read_text(errors='replace')[-6000:]}")


def settled(lab: Lab, timeout: float = 90) -> str:
    cluster, coord = lab
    owner = wait_for("redis and the VIP running together", lambda: cluster.settled(coord), timeout)
    assert isinstance(owner, str)
    return owner


def test_a_killed_node_is_fenced_and_the_vip_and_redis_master_move(lab: Lab) -> None:
    cluster, _ = lab
    owner = settled(lab)
    survivor = next(n for n in NODES if n != owner)
    _, probe = cluster.observe("hk-probe", survivor, cluster.vip, "6379")
    wait_for("the probe to hear the master", lambda: " master " in probe.read_text(), 30)
    killed = cluster.kill_node(owner)
    answered = first_master_after(probe, killed, 20)
    assert answered is not None, "no redis master answered at the VIP after the node's loss"
    sys.stderr.write(f"node kill -> master at the VIP in {answered - killed:.2f} s\n")
    holders = wait_for(
        "the VIP on one survivor",
        lambda: (
            len(cluster.vip_holders()) == 1
            and owner not in cluster.vip_holders()
            and cluster.vip_holders()
        ),
    )
    assert holders
    logs = "".join(cluster.log(n) for n in NODES if n != owner)
    assert f"fenced {owner} with fence-lab" in logs


def test_a_cut_off_node_stops_its_resources_and_is_fenced_before_recovery(lab: Lab) -> None:
    cluster, _ = lab
    owner = settled(lab)
    survivor = next(n for n in NODES if n != owner)
    outs = {n: cluster.observe("hk-sample", n, cluster.vip)[1] for n in NODES}
    _, probe = cluster.observe("hk-probe", survivor, cluster.vip, "6379")
    wait_for("the probe to hear the master", lambda: " master " in probe.read_text(), 30)
    wait_for("samples", lambda: all(samples(p) for p in outs.values()))
    cut = cluster.cut(owner)
    answered = first_master_after(probe, cut, 20)
    assert answered is not None, "no redis master answered at the VIP after the cut"
    sys.stderr.write(f"link cut -> master at the VIP in {answered - cut:.2f} s\n")
    wait_for("the cut node to fence itself", lambda: "fencing myself" in cluster.log(owner))
    logs = "".join(cluster.log(n) for n in NODES if n != owner)
    assert f"fenced {owner} with fence-lab" in logs
    # the survivors' samplers run on a loaded machine too: their sample of the moved VIP
    # may be written after the probe heard the master through it
    wait_for(
        "a survivor's sampler to see the VIP",
        lambda: any(t > cut and vip for n in NODES if n != owner for t, vip, _ in samples(outs[n])),
        20,
    )
    series = {n: samples(p) for n, p in outs.items()}
    assert overlaps(series, 1) == [], "two nodes held the VIP at once"
    assert overlaps(series, 2) == [], "two redis masters at once"
    # the cut node gave up the VIP and redis before anyone else took them
    gave_up = min(t for t, vip, master in series[owner] if t > cut and not vip and not master)
    taken = min(t for n in NODES if n != owner for t, vip, _ in series[n] if t > cut and vip)
    assert gave_up < taken
    assert series[owner][-1][0] > taken  # its sampler outlived the fencing: nothing unseen
    sys.stderr.write(
        f"cut node let go {gave_up - cut:.2f} s after the cut; a survivor took "
        f"the VIP {taken - cut:.2f} s after it\n"
    )


@pytest.mark.parametrize("lab_ttl", [10.0])  # a daemon restart within the lease, even under load
def test_a_restarted_daemon_adopts_redis_and_the_vip_without_restarting_them(lab: Lab) -> None:
    cluster, coord = lab
    owner = settled(lab)
    pid = cluster.redis_pid(owner)
    daemon = cluster.daemons[owner]
    daemon.kill()
    daemon.wait()
    cluster.start_daemon(owner)
    wait_for(
        "the restarted daemon to adopt redis",
        lambda: "probe found redis running" in cluster.log(owner),
        20,
    )
    assert settled(lab, 20) == owner
    assert cluster.redis_pid(owner) == pid
    assert "resumed the lease" in cluster.log(owner)
    for node in NODES:
        assert "running start redis" not in cluster.log(node).split("resumed the lease")[-1]
    assert coord.members().nodes == set(NODES)


# -- redis as a promotable clone ---------------------------------------------------------------

promotable = pytest.mark.parametrize("lab_promotable", [True])


def _repl_info(coord: Coordinator) -> object:
    key = StatusKey(records.CLUSTER, StatusKind.ATTRIBUTES, "redis_REPL_INFO")
    doc = coord.read_status().documents.get(key)
    return None if doc is None else doc.get("value")


@promotable
def test_promotable_redis_converges_to_one_master_that_the_replicas_follow(lab: Lab) -> None:
    cluster, coord = lab
    master = settled(lab)  # one master at the VIP, the two others replicating from it
    assert [n for n in NODES if cluster.replication(n).get("role") == "master"] == [master]
    assert _repl_info(coord) == master  # the agent's crm_attribute --type crm_config
    assert "post-promote notify redis" in "".join(cluster.log(n) for n in NODES)


@promotable
def test_a_killed_master_node_is_fenced_and_a_replica_is_promoted_behind_the_vip(
    lab: Lab,
) -> None:
    cluster, coord = lab
    owner = settled(lab)
    survivors = [n for n in NODES if n != owner]
    _, probe = cluster.observe("hk-probe", survivors[0], cluster.vip, "6379")
    wait_for("the probe to hear the master", lambda: " master " in probe.read_text(), 30)
    killed = cluster.kill_node(owner)
    answered = first_master_after(probe, killed, 30)
    assert answered is not None, "no redis master answered at the VIP after the node's loss"
    sys.stderr.write(f"promotable: node kill -> master at the VIP in {answered - killed:.2f} s\n")
    logs = "".join(cluster.log(n) for n in survivors)
    assert f"fenced {owner} with fence-lab" in logs

    def moved() -> str | None:
        master, replicas = cluster.promoted(coord)
        if master not in survivors or cluster.vip_holders() != {master}:
            return None
        other = next(n for n in survivors if n != master)
        info = cluster.replication(other)
        ok = info.get("master_host") == master and info.get("master_link_status") == "up"
        return master if ok and other in replicas else None

    master = wait_for("a survivor promoted, the other replicating from it", moved, 30)
    assert _repl_info(coord) == master


@promotable
def test_a_cut_off_master_fences_itself_and_never_two_masters_or_vips(lab: Lab) -> None:
    cluster, coord = lab
    owner = settled(lab)
    survivors = [n for n in NODES if n != owner]
    outs = {n: cluster.observe("hk-sample", n, cluster.vip)[1] for n in NODES}
    _, probe = cluster.observe("hk-probe", survivors[0], cluster.vip, "6379")
    wait_for("the probe to hear the master", lambda: " master " in probe.read_text(), 30)
    wait_for("samples", lambda: all(samples(p) for p in outs.values()))
    cut = cluster.cut(owner)
    answered = first_master_after(probe, cut, 30)
    assert answered is not None, "no redis master answered at the VIP after the cut"
    sys.stderr.write(f"promotable: link cut -> master at the VIP in {answered - cut:.2f} s\n")
    wait_for("the cut node to fence itself", lambda: "fencing myself" in cluster.log(owner))
    logs = "".join(cluster.log(n) for n in survivors)
    assert f"fenced {owner} with fence-lab" in logs
    wait_for("a survivor promoted", lambda: cluster.promoted(coord)[0] in survivors, 30)
    series = {n: samples(p) for n, p in outs.items()}
    assert overlaps(series, 1) == [], "two nodes held the VIP at once"
    assert overlaps(series, 2) == [], "two redis masters at once"
    gave_up = min(t for t, vip, master in series[owner] if t > cut and not vip and not master)
    taken = min(t for n in survivors for t, vip, _ in series[n] if t > cut and vip)
    assert gave_up < taken
    assert series[owner][-1][0] > taken  # its sampler outlived the fencing: nothing unseen
