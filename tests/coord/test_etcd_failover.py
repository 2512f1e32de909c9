"""etcd backend: the client survives the loss of the member it talks to."""

from __future__ import annotations

import time
import uuid

import pytest

from hakeeper.coord import (
    ConfigChanged,
    CoordUnavailable,
    MemberChanged,
    StatusChanged,
    StatusKey,
    StatusKind,
    connect,
)
from hakeeper.coord.etcd import EtcdKv
from hakeeper.coord.keyspace import KeyspaceCoordinator

from .etcd_cluster import EtcdCluster
from .test_contract import collect


def _etcd_kv(coord: object) -> EtcdKv:
    assert isinstance(coord, KeyspaceCoordinator) and isinstance(coord.kv, EtcdKv)
    return coord.kv


def test_client_carries_on_when_its_member_dies(etcd_cluster: EtcdCluster) -> None:
    # The hardest member to lose is the raft leader: put it first, so the client uses it.
    victim = etcd_cluster.leader()
    order = [victim] + [i for i in range(etcd_cluster.size) if i != victim]
    endpoints = ",".join(f"127.0.0.1:{etcd_cluster.client_ports[i]}" for i in order)
    coord = connect(f"etcd://{endpoints}?namespace=/failover-{uuid.uuid4().hex}/&timeout=3")
    kv = _etcd_kv(coord)
    try:
        first = coord.write_config("<cib epoch='1'/>", expected_revision=0)
        lease = coord.join("ctl1", 2)
        assert etcd_cluster.member_of(kv.endpoint) == victim
        with coord.watch(first) as watch:
            assert isinstance(watch.next(3), MemberChanged)

            etcd_cluster.kill(victim)
            killed_at = time.monotonic()
            second = coord.write_config("<cib epoch='2'/>", expected_revision=first)
            write_took = time.monotonic() - killed_at
            coord.keepalive(lease)
            key = StatusKey("ctl1", StatusKind.OP_HISTORY, "redis")
            coord.write_status({key: {"rc": 0}})

            events = collect(watch, 2, timeout=10)
        assert [type(e) for e in events] == [ConfigChanged, StatusChanged]
        assert events[0].revision == second
        assert etcd_cluster.member_of(kv.endpoint) != victim
        doc = coord.read_config()
        assert doc is not None and doc.xml == "<cib epoch='2'/>"
        assert coord.members().nodes == {"ctl1"}
        print(
            f"\netcd: first write after killing the client's member (the raft leader) "
            f"took {write_took:.3f} s"
        )
        assert write_took < 5
    finally:
        coord.close()
        etcd_cluster.start(victim)
        etcd_cluster.wait_healthy(victim)


def test_a_frozen_member_does_not_stall_calls_or_watches(etcd_cluster: EtcdCluster) -> None:
    victim = next(i for i in range(etcd_cluster.size) if i != etcd_cluster.leader())
    order = [victim] + [i for i in range(etcd_cluster.size) if i != victim]
    endpoints = ",".join(f"127.0.0.1:{etcd_cluster.client_ports[i]}" for i in order)
    url = f"etcd://{endpoints}?namespace=/frozen-{uuid.uuid4().hex}/&timeout=1.5"
    writer, watcher = connect(url), connect(url)
    try:
        first = writer.write_config("<cib epoch='1'/>", expected_revision=0)
        with watcher.watch(first) as watch:  # a pure watcher: it makes no other call
            etcd_cluster.freeze(victim)
            frozen_at = time.monotonic()
            second = writer.write_config("<cib epoch='2'/>", expected_revision=first)
            write_took = time.monotonic() - frozen_at
            event = watch.next(10)
            watch_took = time.monotonic() - frozen_at
        assert isinstance(event, ConfigChanged) and event.revision == second
        print(
            f"\netcd, member frozen: write went elsewhere after {write_took:.2f} s, "
            f"the silent watch resumed after {watch_took:.2f} s"
        )
        assert write_took < 3 and watch_took < 6
    finally:
        writer.close()
        watcher.close()
        etcd_cluster.thaw(victim)
        etcd_cluster.wait_healthy(victim)


def test_no_member_answers_raises_unavailable_not_a_hang() -> None:
    coord = connect("etcd://127.0.0.1:9,127.0.0.1:7?timeout=0.5")
    try:
        started = time.monotonic()
        with pytest.raises(CoordUnavailable):
            coord.read_config()
        assert time.monotonic() - started < 3
        with coord.watch(0) as watch, pytest.raises(CoordUnavailable):
            watch.next(5)
    finally:
        coord.close()
