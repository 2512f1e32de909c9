"""Fixtures: a cluster's store on each backend, opened through the commands' Env."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from coord.etcd_cluster import EtcdCluster  # tests/coord's real etcd cluster
from hakeeper.commands.cluster import cluster_setup
from hakeeper.commands.env import Env
from hakeeper.coord import Coordinator, connect
from hakeeper.coord.keyspace import KeyspaceCoordinator
from hakeeper.coord.memory import MemoryKv


def memory_env(tmp_path: Path) -> Env:
    """One in-process store that every command of the test opens anew."""
    kv = MemoryKv()

    def open_store(url: str) -> Coordinator:
        return KeyspaceCoordinator(kv)

    return Env("memory://", str(tmp_path / "run"), open_store)


@pytest.fixture(params=["memory", "sqlite"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Env:
    if request.param == "memory":
        return memory_env(tmp_path)
    return Env(f"sqlite://{tmp_path / 'store.db'}", str(tmp_path / "run"), connect)


@pytest.fixture
def cluster(env: Env) -> Iterator[Env]:
    """A three-node cluster without fencing, set up in the store."""
    from hakeeper.commands.cluster_options import property_set

    cluster_setup(env, "demo", ["ctl1", "ctl2", "ctl3"])
    property_set(env, {"stonith-enabled": "false"})
    yield env


@pytest.fixture(scope="session")
def etcd_url_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdCluster]:
    """The real 3-member etcd cluster of tests/coord, started once for this package."""
    if shutil.which("etcd") is None:
        reason = "etcd is not installed (Debian package etcd-server; `make install`)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the CLI's store tests against real etcd")
        pytest.skip(reason)
    cluster = EtcdCluster(tmp_path_factory.mktemp("etcd-cli"), size=1)
    try:
        cluster.start_all()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def etcd_env(etcd_url_base: EtcdCluster, tmp_path: Path) -> Env:
    return Env(etcd_url_base.url(f"/cli-{uuid.uuid4().hex}/"), str(tmp_path / "run"), connect)


def _scheduler_takes_promotable() -> bool:
    """Whether the scheduler (not this package) supports promotable clones yet: edits that
    make one are refused until it does (branch prom lands them)."""
    from hakeeper.cib.parse import parse_cib_text
    from hakeeper.reports import CommandError
    from hakeeper.scheduler.schedule import schedule

    text = (
        '<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">'
        "<configuration><crm_config/><nodes/><resources>"
        '<clone id="st-clone"><meta_attributes id="st-clone-meta">'
        '<nvpair id="st-clone-p" name="promotable" value="true"/></meta_attributes>'
        '<primitive id="st" class="ocf" provider="pacemaker" type="Stateful"/></clone>'
        "</resources><constraints/></configuration><status/></cib>"
    )
    try:
        schedule(parse_cib_text(text, source="probe"), 0)
    except CommandError:
        return False
    return True


PROMOTABLE = _scheduler_takes_promotable()
needs_promotable = pytest.mark.skipif(
    not PROMOTABLE, reason="the scheduler refuses promotable clones (until branch prom lands)"
)
