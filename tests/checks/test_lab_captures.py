"""`check --from` on outputs captured from the openstack lab's real services (MariaDB 10.11
with galera-4, RabbitMQ 3.10, redis 7.0 and haproxy 2.6 in their bundles' containers, the
hakeeper daemons on etcd), saved by `hakeeper check --store URL --save DIR`: healthy, then
one fault at a time, each named on its node (tests/checks/fixtures/README.md)."""

from __future__ import annotations

from hakeeper.checks import codes
from hakeeper.checks.finding import Area, Finding, Verdict
from hakeeper.checks.galera import parse_wsrep_status
from hakeeper.checks.rabbitmq import parse_cluster_status
from hakeeper.commands.check import CapturedDir, check

from .conftest import FIXTURES
from .test_check_command import env

LAB = FIXTURES / "lab"
NODES = ("ctl0", "ctl1", "ctl2")
RABBIT = {n: f"rabbit@172.17.1.{21 + i}" for i, n in enumerate(NODES)}


def judged(state: str, *areas: str) -> tuple[Finding, ...]:
    return check(env(), source=CapturedDir(LAB / state), only=set(areas) or None).findings


def problems(findings: tuple[Finding, ...]) -> list[tuple[str, str, str | None]]:
    return [
        (f.code, f.subject, f.node)
        for f in findings
        if f.verdict in (Verdict.WARNING, Verdict.CRITICAL)
    ]


def test_the_real_outputs_of_a_healthy_lab_parse_as_one_cluster() -> None:
    for node in NODES:
        wsrep = parse_wsrep_status((LAB / "healthy" / node / "galera_status.txt").read_text())
        assert (wsrep.get("wsrep_cluster_size"), wsrep.get("wsrep_local_state_comment")) == (
            "3",
            "Synced",
        )
        rabbit = parse_cluster_status(
            (LAB / "healthy" / node / "rabbitmq_cluster_status.json").read_text()
        )
        assert sorted(rabbit.running_nodes) == sorted(RABBIT.values())
        assert rabbit.partitions == {} or not any(rabbit.partitions.values())


def test_a_healthy_lab_is_all_ok_on_every_node() -> None:
    findings = judged("healthy")
    assert problems(findings) == []
    for code in (codes.GALERA_OK, codes.RABBITMQ_OK, codes.HAPROXY_OK):
        assert sorted(f.node or "" for f in findings if f.code == code) == list(NODES), code
    for code in (codes.REDIS_OK, codes.VIPS_OK, codes.NODES_OK, codes.STONITH_OK):
        assert any(f.code == code for f in findings), code


def test_mariadb_killed_on_ctl2() -> None:
    found = problems(judged("galera-killed", "cluster", "galera"))
    assert (codes.FAILED_ACTION, "galera", "ctl2") in found
    assert (codes.BUNDLE_DEGRADED, "galera-bundle", "ctl2") in found
    galera = [(c, n) for c, _, n in found if c.startswith("GALERA") or c.startswith("PROBE")]
    # the two others see a cluster of two; ctl2 answers nothing a galera node would
    assert (codes.GALERA_CLUSTER_SIZE, "ctl0") in galera
    assert (codes.GALERA_CLUSTER_SIZE, "ctl1") in galera
    assert [n for _, n in galera if n == "ctl2"], galera
    criticals = {f.node for f in judged("galera-killed", "galera") if f.verdict is Verdict.CRITICAL}
    assert criticals == {"ctl2"}


def test_rabbitmq_killed_on_ctl1_is_seen_down_from_the_others() -> None:
    findings = judged("rabbitmq-killed", "cluster", "rabbitmq")
    down = {(f.subject, f.node) for f in findings if f.code == codes.RABBITMQ_NODE_DOWN}
    assert down == {(RABBIT["ctl1"], "ctl0"), (RABBIT["ctl1"], "ctl2")}
    found = problems(findings)
    assert (codes.FAILED_ACTION, "rabbitmq", "ctl1") in found
    assert (codes.BUNDLE_DEGRADED, "rabbitmq-bundle", "ctl1") in found
    rabbit = [f for f in findings if f.area is Area.RABBITMQ and f.node == "ctl1"]
    assert rabbit and all(f.verdict is Verdict.CRITICAL for f in rabbit)


def test_the_api_hung_on_ctl2_is_a_server_down_seen_from_every_haproxy() -> None:
    findings = judged("api-hung", "haproxy")
    down = {(f.subject, f.node) for f in findings if f.code == codes.HAPROXY_SERVER_DOWN}
    assert down == {("keystone/ctl2", n) for n in NODES}
    assert not [f for f in findings if f.code == codes.HAPROXY_BACKEND_DOWN]
    assert all(f.verdict is Verdict.WARNING for f in findings if f.code.startswith("HAPROXY_S"))
    assert any(f.code == codes.VIPS_OK for f in findings)  # its CIB and addresses were read
