"""What is particular to one backend: URLs, sqlite across processes and boots, history."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hakeeper.coord import (
    Compacted,
    ConfigChanged,
    LeaderChanged,
    MemberChange,
    MemberChanged,
    StatusKey,
    StatusKind,
    connect,
)
from hakeeper.coord import memory as memory_backend
from hakeeper.coord import sqlite as sqlite_backend
from hakeeper.coord.keyspace import KeyspaceCoordinator
from hakeeper.coord.memory import MemoryKv
from hakeeper.coord.sqlite import SqliteKv
from hakeeper.coord.url import parse_endpoints

from .test_contract import collect

# -- URLs -----------------------------------------------------------------------------------------


def test_url_picks_the_backend(tmp_path: Path) -> None:
    for url, kv_type in [
        ("memory://", MemoryKv),
        (f"sqlite://{tmp_path}/a.db?poll_interval=0.01&busy_timeout=1", SqliteKv),
    ]:
        with connect(url) as coord:
            assert isinstance(coord, KeyspaceCoordinator) and isinstance(coord.kv, kv_type)


@pytest.mark.parametrize(
    "url",
    [
        "zookeeper://h:1",
        "sqlite://relative.db",
        "sqlite:///x.db?poll=1",
        "sqlite:///x.db?poll_interval=fast",
        "etcd://h:port",
        "memory://?x=1",
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        connect(url)


def test_etcd_endpoints() -> None:
    assert parse_endpoints("10.0.0.1:2379,ctl2:2380,ctl3") == [
        ("10.0.0.1", 2379),
        ("ctl2", 2380),
        ("ctl3", 2379),
    ]


# -- memory: a clock the test drives --------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_memory_leases_follow_the_injected_clock() -> None:
    clock = FakeClock()
    coord = KeyspaceCoordinator(MemoryKv(clock=clock))
    lease = coord.join("ctl1", 10)
    assert coord.campaign(lease)
    start = coord.snapshot().revision
    clock.now += 9
    coord.keepalive(lease)
    clock.now += 9
    assert coord.members().nodes == {"ctl1"}
    clock.now += 2
    with coord.watch(start) as watch:
        events = collect(watch, 2, timeout=1)
    assert events == [
        LeaderChanged(start + 1, None),
        MemberChanged(start + 1, "ctl1", MemberChange.LEFT),
    ]


# -- history: a watch from before the retained history fails loudly -------------------------------


def test_watch_from_compacted_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory_backend, "HISTORY", 5)
    monkeypatch.setattr(sqlite_backend, "HISTORY", 5)
    monkeypatch.setattr(sqlite_backend, "COMPACT_EVERY", 5)
    key = StatusKey("ctl1", StatusKind.ATTRIBUTES, "transient")
    for coord in (connect("memory://"), connect(f"sqlite://{tmp_path}/h.db")):
        with coord:
            for i in range(30):
                coord.write_status({key: {"i": i}})
            with coord.watch(0) as watch, pytest.raises(Compacted):
                watch.next(1)
            recent = coord.read_status().revision - 3
            with coord.watch(recent) as watch:
                assert len(collect(watch, 3, timeout=1)) == 3


# -- sqlite: several processes, one file ----------------------------------------------------------

CHILD = textwrap.dedent("""
    import sys
    from hakeeper.coord import connect
    coord = connect(sys.argv[1])
    lease = coord.join("ctl9", 1)
    assert coord.campaign(lease)
    coord.write_config("<cib by='child'/>", expected_revision=0)
    # exits without leaving: its lease must expire for the others
""")


def test_sqlite_processes_share_the_file_and_see_a_dead_ones_lease_expire(
    tmp_path: Path,
) -> None:
    url = f"sqlite://{tmp_path}/shared.db"
    with connect(url) as coord:
        start = coord.snapshot().revision
        subprocess.run([sys.executable, "-c", CHILD, url], check=True, timeout=30)
        with coord.watch(start) as watch:
            events = collect(watch, 5, timeout=5)
    assert [type(e) for e in events] == [
        MemberChanged,
        LeaderChanged,
        ConfigChanged,
        LeaderChanged,
        MemberChanged,
    ]
    assert isinstance(events[2], ConfigChanged) and events[2].xml == "<cib by='child'/>"
    assert isinstance(events[4], MemberChanged) and events[4].change is MemberChange.LEFT


def test_sqlite_a_new_boot_ends_old_leases(tmp_path: Path) -> None:
    path = tmp_path / "boot.db"
    with connect(f"sqlite://{path}") as coord:
        coord.join("ctl1", 3600)
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE revision SET boot_id = 'a boot long ago'")
    db.close()
    with connect(f"sqlite://{path}") as coord:
        assert coord.members().nodes == frozenset()
        coord.join("ctl1", 3600)  # the name is free again


def test_sqlite_unreadable_file_is_unavailable(tmp_path: Path) -> None:
    from hakeeper.coord import CoordUnavailable

    (tmp_path / "dir.db").mkdir()
    with pytest.raises(CoordUnavailable):
        connect(f"sqlite://{tmp_path}/dir.db")


def test_sqlite_watch_poll_is_cheap_when_idle(tmp_path: Path) -> None:
    coord = connect(f"sqlite://{tmp_path}/idle.db?poll_interval=0.01")
    with coord, coord.watch(coord.snapshot().revision) as watch:
        cpu = time.process_time()
        assert watch.next(1.0) is None
        used = time.process_time() - cpu
    assert used < 0.5, f"an idle watch used {used:.2f} s of CPU in 1 s"
