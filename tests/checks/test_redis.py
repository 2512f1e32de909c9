"""Redis findings from real redis 7.0 `INFO replication` outputs."""

from __future__ import annotations

import pytest

from hakeeper.checks import codes, redis
from hakeeper.checks.capture import ProbeOutputError
from hakeeper.checks.finding import Finding, Verdict
from hakeeper.checks.redis import assess_replication, parse_info_replication

from .conftest import captures_of, fixture_text, ok_capture


def view(name: str, node: str) -> redis.Replication:
    return parse_info_replication(fixture_text(f"redis/{name}.txt"), node)


def codes_of(found: tuple[Finding, ...]) -> set[tuple[Verdict, str, str]]:
    return {(f.verdict, f.code, f.subject) for f in found}


def test_healthy_master_and_two_replicas() -> None:
    found = assess_replication(
        [view("master_2replicas", "c0"), view("replica_up", "c1"), view("replica2_up", "c2")],
        expected=3,
    )
    assert codes_of(found) == {(Verdict.OK, codes.REDIS_OK, n) for n in ("c0", "c1", "c2")}


def test_real_master_fields() -> None:
    master = view("master_2replicas", "c0")
    assert master.role == "master"
    assert [(r.port, r.state, r.lag) for r in master.replicas] == [
        ("16380", "online", 0),
        ("16381", "online", 0),
    ]


def test_master_killed_replica_link_down_and_no_master() -> None:
    found = assess_replication([view("replica_link_down", "c1")], expected=3)
    assert codes_of(found) == {
        (Verdict.CRITICAL, codes.REDIS_LINK_DOWN, "c1"),
        (Verdict.CRITICAL, codes.REDIS_NO_MASTER, "redis"),
    }


def test_two_masters_is_split_brain() -> None:
    found = assess_replication(
        [view("master_2replicas", "c0"), view("master_promoted_alone", "c1")], expected=3
    )
    assert (Verdict.CRITICAL, codes.REDIS_MULTIPLE_MASTERS, "redis") in codes_of(found)


def test_one_replica_seen_from_its_host_with_link_up_is_fine() -> None:
    # live mode sees only this host's replica: no master in view is not a finding then
    found = assess_replication([view("replica_up", "c1")], expected=3)
    assert codes_of(found) == {(Verdict.OK, codes.REDIS_OK, "c1")}


def test_master_missing_a_replica() -> None:
    found = assess_replication([view("master_promoted_alone", "c1")], expected=3)
    assert codes_of(found) == {(Verdict.WARNING, codes.REDIS_REPLICA_MISSING, "c1")}


def test_lagging_replica() -> None:
    text = fixture_text("redis/replica_up.txt").replace(
        "master_last_io_seconds_ago:1", "master_last_io_seconds_ago:45"
    )
    found = assess_replication([parse_info_replication(text, "c1")])
    assert codes_of(found) == {(Verdict.WARNING, codes.REDIS_LAG, "c1")}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# Replication\r\n",
        "NOAUTH Authentication required.\n",
        "Could not connect to Redis at 127.0.0.1:6379",
    ],
)
def test_broken_output(text: str) -> None:
    with pytest.raises(ProbeOutputError):
        parse_info_replication(text, "c0")
    (f,) = redis.assess(captures_of(ok_capture(redis.KEY, "c0", text)))
    assert (f.verdict, f.code) == (Verdict.CRITICAL, codes.PROBE_UNPARSEABLE)
