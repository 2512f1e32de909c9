"""Cluster findings from real crm_mon XML of the seeds' cluster and of the live lab."""

from __future__ import annotations

import pytest

from hakeeper.checks import cluster, codes
from hakeeper.checks.capture import Capture, CaptureStatus, ProbeOutputError
from hakeeper.checks.crm_mon import parse_crm_mon
from hakeeper.checks.finding import Verdict

from .conftest import captures_of, fixture_text, ok_capture


def findings(name: str) -> dict[str, list[tuple[Verdict, str, str | None]]]:
    crm = parse_crm_mon(fixture_text(f"pacemaker/{name}.crm_mon.xml"))
    out: dict[str, list[tuple[Verdict, str, str | None]]] = {}
    for f in cluster.assess_crm_mon(crm):
        out.setdefault(f.code, []).append((f.verdict, f.subject, f.node))
    return out


def test_converged_cluster_has_no_critical_finding() -> None:
    found = findings("converged")
    assert all(v is not Verdict.CRITICAL for items in found.values() for v, _, _ in items)
    assert found[codes.CLUSTER_QUORUM_OK] == [(Verdict.OK, "cluster", None)]
    assert found[codes.NODES_OK][0][0] is Verdict.OK
    assert found[codes.RESOURCES_OK][0][0] is Verdict.OK
    # the seeds' CIB runs without fence devices
    assert found[codes.STONITH_DISABLED] == [(Verdict.WARNING, "stonith", None)]


def test_failed_redis_monitor_is_a_failed_action_on_the_host_of_the_replica() -> None:
    found = findings("after-redis-fail")
    assert found[codes.FAILED_ACTION] == [(Verdict.CRITICAL, "redis", "controller-0")]
    f = next(
        f
        for f in cluster.assess_crm_mon(
            parse_crm_mon(fixture_text("pacemaker/after-redis-fail.crm_mon.xml"))
        )
        if f.code == codes.FAILED_ACTION
    )
    assert "pcs resource cleanup redis-bundle" in f.next_steps
    assert any("redis-bundle-podman-0" in step for step in f.next_steps)
    assert any("redis_monitor_45000" in line for line in f.evidence)


def test_fenced_node_is_offline_and_bundles_are_degraded() -> None:
    found = findings("after-stonith-nodefail")
    assert found[codes.NODE_OFFLINE] == [(Verdict.CRITICAL, "controller-0", "controller-0")]
    degraded = {subject for _, subject, _ in found[codes.BUNDLE_DEGRADED]}
    assert degraded == {"haproxy-bundle", "galera-bundle", "rabbitmq-bundle", "redis-bundle"}
    assert all(v is Verdict.WARNING for v, _, _ in found[codes.BUNDLE_DEGRADED])
    assert found[codes.STONITH_OK][0][0] is Verdict.OK
    assert codes.NODES_OK not in found


def test_failed_stop_blocks_the_vip() -> None:
    found = findings("after-stop-fail")
    assert found[codes.RESOURCE_BLOCKED] == [(Verdict.CRITICAL, "ip-192.168.24.15", "controller-1")]
    assert found[codes.FAILED_ACTION] == [(Verdict.CRITICAL, "ip-192.168.24.15", "controller-1")]
    summary = next(
        f.summary
        for f in cluster.assess_crm_mon(
            parse_crm_mon(fixture_text("pacemaker/after-stop-fail.crm_mon.xml"))
        )
        if f.code == codes.FAILED_ACTION
    )
    assert "fail-count 2" in summary


def test_live_lab_reports_the_past_fencing_as_warning() -> None:
    found = findings("live-3node")
    assert found[codes.NODE_FENCED] == [(Verdict.WARNING, "controller-1", "controller-1")]
    assert found[codes.STONITH_OK][0][0] is Verdict.OK
    assert found[codes.NODES_OK][0][0] is Verdict.OK


def _edit(name: str, old: str, new: str) -> str:
    text = fixture_text(f"pacemaker/{name}.crm_mon.xml")
    assert old in text
    return text.replace(old, new)


def _codes(text: str) -> dict[str, list[tuple[Verdict, str]]]:
    out: dict[str, list[tuple[Verdict, str]]] = {}
    for f in cluster.assess_crm_mon(parse_crm_mon(text)):
        out.setdefault(f.code, []).append((f.verdict, f.subject))
    return out


def test_no_quorum_maintenance_and_stonith_without_devices() -> None:
    text = _edit("converged", 'with_quorum="true"', 'with_quorum="false"')
    text = text.replace('stonith-enabled="false"', 'stonith-enabled="true"')
    text = text.replace('maintenance-mode="false"', 'maintenance-mode="true"')
    found = _codes(text)
    assert found[codes.CLUSTER_NO_QUORUM] == [(Verdict.CRITICAL, "cluster")]
    assert found[codes.STONITH_NO_DEVICE] == [(Verdict.CRITICAL, "stonith")]
    assert found[codes.CLUSTER_MAINTENANCE_MODE] == [(Verdict.WARNING, "cluster")]


def test_node_states_unclean_standby_maintenance() -> None:
    text = _edit(
        "converged",
        '<node name="controller-1" id="2" online="true" standby="false"',
        '<node name="controller-1" id="2" online="true" standby="true"',
    )
    text = text.replace(
        '<node name="controller-2" id="3" online="true" standby="false"'
        ' standby_onfail="false" maintenance="false"',
        '<node name="controller-2" id="3" online="true" standby="false"'
        ' standby_onfail="false" maintenance="true"',
    )
    text = text.replace(
        '<node name="controller-0" id="1" online="true" standby="false"'
        ' standby_onfail="false" maintenance="false" pending="false"'
        ' unclean="false"',
        '<node name="controller-0" id="1" online="false" standby="false"'
        ' standby_onfail="false" maintenance="false" pending="false"'
        ' unclean="true"',
    )
    found = _codes(text)
    assert found[codes.NODE_STANDBY] == [(Verdict.WARNING, "controller-1")]
    assert found[codes.NODE_MAINTENANCE] == [(Verdict.WARNING, "controller-2")]
    assert found[codes.NODE_UNCLEAN] == [(Verdict.CRITICAL, "controller-0")]


def test_disabled_and_stopped_primitives() -> None:
    text = _edit(
        "converged",
        '<resource id="ip-10.0.0.101" resource_agent="ocf:heartbeat:IPaddr2"'
        ' role="Started" active="true"',
        '<resource id="ip-10.0.0.101" resource_agent="ocf:heartbeat:IPaddr2"'
        ' role="Stopped" target_role="Stopped" active="false"',
    )
    text = text.replace(
        '<resource id="ip-172.17.1.10" resource_agent="ocf:heartbeat:IPaddr2"'
        ' role="Started" active="true"',
        '<resource id="ip-172.17.1.10" resource_agent="ocf:heartbeat:IPaddr2"'
        ' role="Stopped" active="false"',
    )
    found = _codes(text)
    assert found[codes.RESOURCE_DISABLED] == [(Verdict.WARNING, "ip-10.0.0.101")]
    assert found[codes.RESOURCE_STOPPED] == [(Verdict.CRITICAL, "ip-172.17.1.10")]


def test_whole_bundle_down_is_critical() -> None:
    text = fixture_text("pacemaker/converged.crm_mon.xml")
    start = text.index('<bundle id="rabbitmq-bundle"')
    end = text.index("</bundle>", start)
    part = (
        text[start:end]
        .replace('active="true"', 'active="false"')
        .replace('role="Started"', 'role="Stopped"')
    )
    found = _codes(text[:start] + part + text[end:])
    assert found[codes.BUNDLE_DOWN] == [(Verdict.CRITICAL, "rabbitmq-bundle")]


def test_crm_mon_error_status_is_critical() -> None:
    text = (
        '<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml">\n'
        '  <status code="102" message="Not connected">\n'
        "    <errors><error>crm_mon: Connection to cluster failed</error></errors>\n"
        "  </status>\n</pacemaker-result>\n"
    )
    (f,) = cluster.assess_crm_mon(parse_crm_mon(text))
    assert (f.verdict, f.code) == (Verdict.CRITICAL, codes.PROBE_FAILED)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "garbage, not xml",
        "<html></html>",
        fixture_text("pacemaker/converged.crm_mon.xml")[:5000],
    ],
)
def test_broken_crm_mon_output_is_unparseable(text: str) -> None:
    with pytest.raises(ProbeOutputError):
        parse_crm_mon(text)
    (f,) = cluster.assess(captures_of(ok_capture(cluster.KEY, None, text)))
    assert (f.verdict, f.code) == (Verdict.CRITICAL, codes.PROBE_UNPARSEABLE)
    assert f.summary


@pytest.mark.parametrize(
    ("status", "verdict", "code"),
    [
        (CaptureStatus.NOT_CAPTURED, Verdict.SKIPPED, codes.PROBE_NOT_CAPTURED),
        (CaptureStatus.TIMEOUT, Verdict.CRITICAL, codes.PROBE_TIMEOUT),
        (CaptureStatus.FAILED, Verdict.CRITICAL, codes.PROBE_FAILED),
    ],
)
def test_probe_problems_become_findings(status: CaptureStatus, verdict: Verdict, code: str) -> None:
    capture = Capture(cluster.KEY, None, "crm_mon -1 --output-as=xml", status, reason="why")
    (f,) = cluster.assess(captures_of(capture))
    assert (f.verdict, f.code, f.subject) == (verdict, code, "cluster")
    assert "why" in f.summary


def test_facts_give_bundle_sizes_and_members() -> None:
    facts = cluster.facts(
        parse_crm_mon(fixture_text("pacemaker/after-stonith-nodefail.crm_mon.xml"))
    )
    assert facts.members == ("controller-0", "controller-1", "controller-2")
    assert facts.replicas("galera-bundle") == 3
    assert facts.replicas("openstack-cinder-volume") == 1
    assert facts.bundle_hosts["galera-bundle"] == ("controller-1", "controller-2")


def test_crm_mon_failing_with_its_xml_reason() -> None:
    text = (
        '<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml">\n'
        '  <status code="102" message="Not connected">\n'
        "    <errors><error>crm_mon: Connection to cluster failed: Connection refused"
        "</error></errors>\n  </status>\n</pacemaker-result>\n"
    )
    capture = Capture(
        cluster.KEY,
        "ctl0",
        "crm_mon -1 --output-as=xml",
        CaptureStatus.FAILED,
        text,
        reason="exit status 102",
    )
    (f,) = cluster.assess(captures_of(capture))
    assert (f.verdict, f.code) == (Verdict.CRITICAL, codes.PROBE_FAILED)
    assert "Not connected" in f.summary
    assert any("Connection refused" in line for line in f.evidence)
