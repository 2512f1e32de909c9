"""RabbitMQ findings from real `cluster_status` JSON (3.10) and the seeds' Erlang terms."""

from __future__ import annotations

import json

import pytest

from hakeeper.checks import codes, rabbitmq
from hakeeper.checks.capture import ProbeOutputError
from hakeeper.checks.erlang_terms import parse_term, proplist
from hakeeper.checks.finding import Verdict
from hakeeper.checks.rabbitmq import parse_cluster_status

from .conftest import captures_of, fixture_text, ok_capture

JSON = "rabbitmq/cluster_status_3node.json"
ERL = "seeds/rabbitmq_cluster_status.erl"


def test_real_json_three_nodes_running() -> None:
    status = parse_cluster_status(fixture_text(JSON))
    assert set(status.members) == {"rabbit@10.77.0.10", "rabbit@10.77.0.11", "rabbit@10.77.0.12"}
    assert set(status.running_nodes) == set(status.members)
    (f,) = rabbitmq.assess_status(status, node="ctl0", expected=3)
    assert (f.verdict, f.code) == (Verdict.OK, codes.RABBITMQ_OK)


def test_seed_erlang_terms_three_nodes_running() -> None:
    status = parse_cluster_status(fixture_text(ERL))
    assert status.disc_nodes == (
        "rabbit@controller01",
        "rabbit@controller02",
        "rabbit@controller03",
    )
    assert status.alarms == ()
    assert status.partitions == {}
    (f,) = rabbitmq.assess_status(status, node=None)
    assert f.code == codes.RABBITMQ_OK


def _json_with(**changes: object) -> str:
    data = json.loads(fixture_text(JSON))
    data.update(changes)
    return json.dumps(data)


def test_stopped_node_is_named() -> None:
    text = _json_with(running_nodes=["rabbit@10.77.0.12", "rabbit@10.77.0.10"])
    found = rabbitmq.assess_status(parse_cluster_status(text), node="ctl0")
    assert [(f.verdict, f.code, f.subject) for f in found] == [
        (Verdict.CRITICAL, codes.RABBITMQ_NODE_DOWN, "rabbit@10.77.0.11")
    ]
    assert any("10.77.0.11" in step for step in found[0].next_steps)


def test_partition_and_alarm() -> None:
    text = _json_with(
        partitions={"rabbit@10.77.0.10": ["rabbit@10.77.0.12"]},
        alarms=[{"node": "rabbit@10.77.0.11", "resource": "disk", "type": "resource_limit"}],
    )
    found = rabbitmq.assess_status(parse_cluster_status(text), node="ctl0")
    assert {(f.verdict, f.code, f.subject) for f in found} == {
        (Verdict.CRITICAL, codes.RABBITMQ_PARTITION, "rabbit@10.77.0.10"),
        (Verdict.CRITICAL, codes.RABBITMQ_ALARM, "rabbit@10.77.0.11"),
    }


def test_erlang_partition_and_alarm() -> None:
    text = (
        fixture_text(ERL)
        .replace("{partitions,[]}", "{partitions,[{rabbit@controller01,[rabbit@controller03]}]}")
        .replace("{rabbit@controller02,[]}", "{rabbit@controller02,[disk]}")
    )
    found = rabbitmq.assess_status(parse_cluster_status(text), node=None)
    assert {(f.code, f.subject) for f in found} == {
        (codes.RABBITMQ_PARTITION, "rabbit@controller01"),
        (codes.RABBITMQ_ALARM, "rabbit@controller02"),
    }


@pytest.mark.parametrize(
    ("used", "verdict"), [(500, Verdict.OK), (850, Verdict.WARNING), (990, Verdict.CRITICAL)]
)
def test_file_descriptors_when_present(used: int, verdict: Verdict) -> None:
    text = _json_with(file_descriptors={"total_used": used, "total_limit": 1000})
    found = rabbitmq.assess_status(parse_cluster_status(text), node="ctl0")
    assert [f.verdict for f in found] == [verdict]


def test_fewer_members_than_the_bundle_has_replicas() -> None:
    status = parse_cluster_status(fixture_text(JSON))
    found = rabbitmq.assess_status(status, node=None, expected=5)
    assert [(f.verdict, f.code) for f in found] == [(Verdict.WARNING, codes.RABBITMQ_NODE_DOWN)]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{}",
        '{"running_nodes": ',
        "Error: unable to perform an operation on node 'rabbit@ctl0'",
        fixture_text(ERL)[:120],
        "[{nodes,[]}]",
    ],
)
def test_broken_output(text: str) -> None:
    with pytest.raises(ProbeOutputError):
        parse_cluster_status(text)
    (f,) = rabbitmq.assess(captures_of(ok_capture(rabbitmq.KEY, "ctl0", text)))
    assert (f.verdict, f.code) == (Verdict.CRITICAL, codes.PROBE_UNPARSEABLE)


def test_erlang_term_reader() -> None:
    term = parse_term('[{a,<<"b">>},{c,[1,2.5,"s",\'q x\']},{d,{}}].')
    assert proplist(term) == {"a": "b", "c": [1, 2.5, "s", "q x"], "d": ()}
    for bad in ("[{a,b}", "[a b]", "{a,}", "[a]]"):
        with pytest.raises(ProbeOutputError):
            parse_term(bad)
