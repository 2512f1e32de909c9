"""The Coordinator contract, run against every backend: memory, sqlite and a real etcd."""

from __future__ import annotations

import threading
import time

import pytest

from hakeeper.coord import (
    ConfigChanged,
    Conflict,
    Coordinator,
    LeaderChanged,
    LeaseExpired,
    MemberChange,
    MemberChanged,
    StatusChanged,
    StatusKey,
    StatusKind,
    Topic,
    Watch,
    WatchEvent,
)

from .conftest import Factory

OPS = StatusKind.OP_HISTORY
FAILS = StatusKind.FAIL_COUNT
ATTRS = StatusKind.ATTRIBUTES


def collect(watch: Watch, count: int, timeout: float = 5.0) -> list[WatchEvent]:
    events: list[WatchEvent] = []
    deadline = time.monotonic() + timeout
    while len(events) < count:
        left = deadline - time.monotonic()
        event = watch.next(max(left, 0.0))
        if event is None:
            break
        events.append(event)
    return events


def wait_for(watch: Watch, match: type, timeout: float) -> tuple[WatchEvent | None, float]:
    """The first event of a type, and when it came (time.monotonic)."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        event = watch.next(left)
        if isinstance(event, match):
            return event, time.monotonic()
    return None, time.monotonic()


# -- configuration ----------------------------------------------------------------------------


def test_config_starts_empty_and_is_written_by_compare_and_swap(coord: Coordinator) -> None:
    assert coord.read_config() is None
    first = coord.write_config("<cib epoch='1'/>", expected_revision=0)
    doc = coord.read_config()
    assert doc is not None and (doc.xml, doc.revision) == ("<cib epoch='1'/>", first)

    second = coord.write_config("<cib epoch='2'/>", expected_revision=first)
    assert second > first
    with pytest.raises(Conflict) as exc:
        coord.write_config("<cib epoch='stale'/>", expected_revision=first)
    assert (exc.value.expected_revision, exc.value.actual_revision) == (first, second)
    with pytest.raises(Conflict):
        coord.write_config("<cib epoch='again'/>", expected_revision=0)
    doc = coord.read_config()
    assert doc is not None and (doc.xml, doc.revision) == ("<cib epoch='2'/>", second)


def _race_config(clients: dict[str, Coordinator], expected: int, tag: str) -> dict[str, object]:
    """Each client writes the config at once from the same revision: name -> rev or error."""
    start = threading.Barrier(len(clients))
    outcome: dict[str, object] = {}

    def write(name: str, client: Coordinator) -> None:
        start.wait()
        try:
            outcome[name] = client.write_config(
                f"<cib by='{name}' {tag}/>", expected_revision=expected
            )
        except Conflict as exc:
            outcome[name] = exc

    threads = [threading.Thread(target=write, args=item) for item in clients.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return outcome


def test_two_writers_race_one_wins_the_other_gets_conflict(open_store: Factory) -> None:
    clients = {"a": open_store(), "b": open_store()}
    base = clients["a"].write_config("<cib epoch='0'/>", expected_revision=0)
    for round_ in range(5):
        outcome = _race_config(clients, base, f"r='{round_}'")
        winners = [n for n, r in outcome.items() if isinstance(r, int)]
        losers = [r for r in outcome.values() if isinstance(r, Conflict)]
        assert len(winners) == 1 and len(losers) == 1, outcome
        doc = clients["b"].read_config()
        assert doc is not None
        assert doc.xml == f"<cib by='{winners[0]}' r='{round_}'/>"
        assert doc.revision == outcome[winners[0]] == losers[0].actual_revision
        base = doc.revision


# -- status -------------------------------------------------------------------------------------


def test_status_documents_per_node(coord: Coordinator) -> None:
    ops = StatusKey("ctl1", OPS, "galera")
    fails = StatusKey("ctl1", FAILS, "galera")
    attrs = StatusKey("ctl2", ATTRS, "transient")
    r1 = coord.write_status({ops: {"last": "start", "rc": 0}, fails: {"monitor": 1}})
    r2 = coord.write_status({attrs: {"master-redis": "10"}})
    snap = coord.read_status()
    assert snap.revision >= r2 > r1
    assert snap.documents == {
        ops: {"last": "start", "rc": 0},
        fails: {"monitor": 1},
        attrs: {"master-redis": "10"},
    }
    assert snap.for_node("ctl2") == {attrs: {"master-redis": "10"}}

    coord.write_status({fails: None, ops: {"last": "monitor", "rc": 7}})
    assert coord.read_status().documents == {
        ops: {"last": "monitor", "rc": 7},
        attrs: {"master-redis": "10"},
    }
    coord.clear_status("ctl1")
    assert coord.read_status().documents == {attrs: {"master-redis": "10"}}

    with pytest.raises(ValueError):
        coord.write_status({ops: {}, attrs: {}})
    with pytest.raises(ValueError):
        StatusKey("ctl/1", OPS, "x")


def test_status_write_fenced_by_lease(open_store: Factory) -> None:
    node, other = open_store(), open_store()
    key = StatusKey("ctl1", OPS, "redis")
    lease = node.join("ctl1", 5)
    revision = node.write_status({key: {"rc": 0}}, lease=lease)
    assert other.read_status().revision >= revision
    node.leave(lease)
    with pytest.raises(LeaseExpired):
        node.write_status({key: {"rc": 7}}, lease=lease)
    # Someone else under the same name is not us either.
    other.join("ctl1", 5)
    with pytest.raises(LeaseExpired):
        node.write_status({key: {"rc": 7}}, lease=lease)
    assert other.read_status().documents == {key: {"rc": 0}}


def test_status_write_only_while_what_was_read_is_unchanged(open_store: Factory) -> None:
    """`expected`: an edit of documents read earlier (a cleanup) cannot lose a write that
    another client made since; it changes nothing and raises Conflict."""
    mine, other = open_store(), open_store()
    fenced = StatusKey("@cluster", StatusKind.FENCING, "ctl2")
    spare = StatusKey("@cluster", StatusKind.FENCING, "ctl3")
    other.write_status({fenced: {"events": [{"when": 1.5, "by": "ctl1"}]}})
    read = mine.read_status().documents
    other.write_status({fenced: {"events": [{"when": 1.5, "by": "ctl1"}, {"when": 9.0}]}})
    with pytest.raises(Conflict, match=r"status @cluster/fencing/ctl2 changed since it was read"):
        mine.write_status({fenced: None}, expected={fenced: read[fenced]})
    # absent when read, written since: the same
    with pytest.raises(Conflict):
        mine.write_status({spare: {"events": []}}, expected={spare: None, fenced: None})
    assert len(other.read_status().documents[fenced]["events"]) == 2
    assert spare not in other.read_status().documents
    # unchanged since the read: applied
    read = mine.read_status().documents
    mine.write_status({fenced: None}, expected={fenced: read[fenced], spare: None})
    assert other.read_status().documents == {}
    # with a lease: a stale document is a Conflict, a lost lease still LeaseExpired
    key = StatusKey("ctl1", OPS, "redis")
    lease = mine.join("ctl1", 5)
    mine.write_status({key: {"rc": 0}}, lease=lease, expected={key: None})
    with pytest.raises(Conflict):
        mine.write_status({key: {"rc": 7}}, lease=lease, expected={key: None})
    mine.leave(lease)
    with pytest.raises(LeaseExpired):
        mine.write_status({key: {"rc": 7}}, lease=lease, expected={key: {"rc": 0}})
    assert other.read_status().documents == {key: {"rc": 0}}


def test_status_snapshot_is_consistent_under_concurrent_writes(open_store: Factory) -> None:
    writer, reader = open_store(), open_store()
    a = StatusKey("ctl1", OPS, "redis")
    b = StatusKey("ctl1", FAILS, "redis")
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            i = 0
            while not stop.is_set():
                i += 1
                writer.write_status({a: {"n": i}, b: {"n": i}})
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        seen, last_revision = 0, 0
        deadline = time.monotonic() + 0.6
        while time.monotonic() < deadline or seen < 5:
            snap = reader.read_status()
            assert snap.revision >= last_revision
            last_revision = snap.revision
            if a in snap.documents:
                assert snap.documents[a] == snap.documents[b], snap
                seen += 1
    finally:
        stop.set()
        thread.join(10)
    assert not errors
    whole = reader.snapshot()
    assert whole.status.documents[a] == whole.status.documents[b]


# -- membership -----------------------------------------------------------------------------------


def test_join_keepalive_leave(open_store: Factory) -> None:
    coord, other = open_store(), open_store()
    lease = coord.join("ctl1", 2)
    assert lease.node == "ctl1" and lease.ttl >= 2
    assert other.members().nodes == {"ctl1"}
    with pytest.raises(Conflict):
        other.join("ctl1", 2)
    lease2 = other.join("ctl2", 2)
    coord.keepalive(lease)
    assert coord.members().nodes == {"ctl1", "ctl2"}
    coord.leave(lease)
    coord.leave(lease)  # idempotent
    assert other.members().nodes == {"ctl2"}
    with pytest.raises(LeaseExpired):
        coord.keepalive(lease)
    other.leave(lease2)
    assert coord.members().nodes == frozenset()


def test_keepalive_holds_membership_past_ttl(coord: Coordinator) -> None:
    lease = coord.join("ctl1", 1)
    deadline = time.monotonic() + 1.8
    while time.monotonic() < deadline:
        coord.keepalive(lease)
        time.sleep(0.2)
    assert coord.members().nodes == {"ctl1"}


def test_lease_expiry_is_seen_by_a_watcher(
    open_store: Factory, backend: str, record_property: pytest.RecordProperty
) -> None:
    node, watcher = open_store(), open_store()
    lease = node.join("ctl1", 1)
    assert node.campaign(lease)
    granted_at = time.monotonic()
    start = watcher.snapshot()
    assert start.members == {"ctl1"}
    with watcher.watch(start.revision, frozenset({Topic.MEMBERSHIP})) as watch:
        event, seen_at = wait_for(watch, MemberChanged, timeout=lease.ttl + 3)
    assert isinstance(event, MemberChanged)
    assert (event.node, event.change) == ("ctl1", MemberChange.LEFT)
    latency = seen_at - granted_at - lease.ttl
    record_property(f"expiry_to_watch_s[{backend}]", round(latency, 3))
    print(f"\n{backend}: lease expiry seen by watcher {latency:+.3f} s after its TTL")
    assert -0.05 < latency < 2.0
    # Leadership ends with the lease, and a dead lease can take nothing.
    assert watcher.members().nodes == frozenset()
    assert watcher.leader() is None
    with pytest.raises(LeaseExpired):
        node.campaign(lease)
    with pytest.raises(LeaseExpired):
        node.keepalive(lease)


# -- election -------------------------------------------------------------------------------------


def test_one_leader_at_a_time(open_store: Factory) -> None:
    a, b = open_store(), open_store()
    la, lb = a.join("ctl1", 5), b.join("ctl2", 5)
    assert a.leader() is None
    assert a.campaign(la) is True
    assert b.campaign(lb) is False
    assert a.campaign(la) is True  # already leader
    leader = b.leader()
    assert leader is not None and leader.node == "ctl1"
    b.resign(lb)  # not the leader: nothing happens
    assert a.leader() == leader
    a.resign(la)
    assert b.leader() is None
    assert b.campaign(lb) is True
    new = a.leader()
    assert new is not None and new.node == "ctl2" and new.since > leader.since


def test_campaigns_race_exactly_one_wins(open_store: Factory) -> None:
    clients = [open_store() for _ in range(3)]
    leases = [c.join(f"ctl{i}", 5) for i, c in enumerate(clients)]
    start = threading.Barrier(len(clients))
    won: list[bool] = [False] * len(clients)

    def run(i: int) -> None:
        start.wait()
        won[i] = clients[i].campaign(leases[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert won.count(True) == 1
    leader = clients[0].leader()
    assert leader is not None and leader.node == f"ctl{won.index(True)}"


def test_takeover_after_the_leaders_lease_expires(open_store: Factory) -> None:
    old, new = open_store(), open_store()
    l_old = old.join("ctl1", 1)
    l_new = new.join("ctl2", 3)
    assert old.campaign(l_old)
    first = new.leader()
    assert first is not None
    assert not new.campaign(l_new)
    with new.watch(new.snapshot().revision, frozenset({Topic.LEADER})) as watch:
        vacant = None
        deadline = time.monotonic() + 5
        while vacant is None and time.monotonic() < deadline:
            new.keepalive(l_new)  # only the old leader stops renewing
            event = watch.next(0.3)
            if isinstance(event, LeaderChanged) and event.leader is None:
                vacant = event
        assert vacant is not None, "the old leader's lease never expired"
        assert new.campaign(l_new)
        elected = watch.next(3)
    assert isinstance(elected, LeaderChanged) and elected.leader is not None
    assert elected.leader.node == "ctl2" and elected.leader.since > first.since
    assert old.leader() == elected.leader


# -- watches --------------------------------------------------------------------------------------


def test_watch_from_a_revision_delivers_every_event_in_order(open_store: Factory) -> None:
    writer, watcher = open_store(), open_store()
    start = watcher.snapshot().revision
    key = StatusKey("ctl1", OPS, "redis")
    r_config = writer.write_config("<cib/>", expected_revision=0)
    lease = writer.join("ctl1", 5)
    assert writer.campaign(lease)
    r_status = writer.write_status({key: {"rc": 0}})
    writer.write_config("<cib epoch='2'/>", expected_revision=r_config)
    writer.write_status({key: None})
    writer.leave(lease)
    # The watch starts after all of it and still gets all of it, in order.
    with watcher.watch(start) as watch:
        events = collect(watch, 8)
        assert watch.next(0.2) is None
    revisions = [e.revision for e in events]
    assert revisions == sorted(revisions) and revisions[0] > start
    assert [type(e).__name__ for e in events] == [
        "ConfigChanged",
        "MemberChanged",
        "LeaderChanged",
        "StatusChanged",
        "ConfigChanged",
        "StatusChanged",
        "LeaderChanged",
        "MemberChanged",
    ]
    assert isinstance(events[0], ConfigChanged) and events[0].xml == "<cib/>"
    assert isinstance(events[3], StatusChanged) and events[3].doc == {"rc": 0}
    assert events[3].revision == r_status
    assert isinstance(events[5], StatusChanged) and events[5].doc is None
    assert isinstance(events[6], LeaderChanged) and events[6].leader is None
    assert isinstance(events[7], MemberChanged) and events[7].change is MemberChange.LEFT
    assert events[6].revision == events[7].revision  # leaving ends leadership at once

    # From a revision in the middle: only what came after it.
    with watcher.watch(r_status, frozenset({Topic.CONFIG, Topic.STATUS})) as watch:
        later = collect(watch, 2)
    assert [type(e) for e in later] == [ConfigChanged, StatusChanged]


def test_watch_sees_live_changes_after_a_read(open_store: Factory) -> None:
    writer, watcher = open_store(), open_store()
    doc = watcher.read_status()
    key = StatusKey("ctl2", ATTRS, "transient")
    received: list[WatchEvent] = []
    with watcher.watch(doc.revision, frozenset({Topic.STATUS})) as watch:

        def consume() -> None:
            received.extend(collect(watch, 20, timeout=10))

        thread = threading.Thread(target=consume)
        thread.start()
        revisions = [writer.write_status({key: {"i": i}}) for i in range(20)]
        thread.join(15)
    assert [e.revision for e in received] == revisions
    assert [e.doc for e in received if isinstance(e, StatusChanged)] == [
        {"i": i} for i in range(20)
    ]
