"""Fixtures: one store per test, on every backend; a real etcd cluster for the session."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hakeeper.coord import Coordinator, connect
from hakeeper.coord.keyspace import KeyspaceCoordinator
from hakeeper.coord.memory import MemoryKv

from .etcd_cluster import EtcdCluster

BACKENDS = ["memory", "sqlite", "etcd"]

Factory = Callable[[], Coordinator]


@pytest.fixture(scope="session")
def etcd_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdCluster]:
    if shutil.which("etcd") is None:
        reason = "etcd is not installed (Debian package etcd-server; `make install`)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the contract suite against real etcd")
        pytest.skip(reason)
    cluster = EtcdCluster(tmp_path_factory.mktemp("etcd"))
    try:
        cluster.start_all()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """Opens clients of one store, new for this test; each call is another client of it
    (for sqlite, another connection to the file, as another process would have)."""
    opened: list[Coordinator] = []
    if backend == "memory":
        kv = MemoryKv()

        def make() -> Coordinator:
            return KeyspaceCoordinator(kv)
    elif backend == "sqlite":
        url = f"sqlite://{tmp_path / 'store.db'}"

        def make() -> Coordinator:
            return connect(url)
    else:
        cluster: EtcdCluster = request.getfixturevalue("etcd_cluster")
        url = cluster.url(f"/test-{uuid.uuid4().hex}/")

        def make() -> Coordinator:
            return connect(url)

    def factory() -> Coordinator:
        coord = make()
        opened.append(coord)
        return coord

    yield factory
    for coord in opened:
        coord.close()


@pytest.fixture
def coord(open_store: Factory) -> Coordinator:
    return open_store()
