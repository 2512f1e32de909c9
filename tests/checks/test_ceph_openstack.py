"""Ceph (`ceph -s -f json`) and OpenStack service lists (the seeds' tables and -f json)."""

from __future__ import annotations

import pytest

from hakeeper.checks import ceph, codes, openstack
from hakeeper.checks.capture import ProbeOutputError
from hakeeper.checks.finding import Verdict

from .conftest import captures_of, fixture_text, ok_capture


def test_ceph_ok() -> None:
    (f,) = ceph.assess_ceph(ceph.parse_ceph_status(fixture_text("constructed/ceph_status_ok.json")))
    assert (f.verdict, f.code) == (Verdict.OK, codes.CEPH_OK)


def test_ceph_osds_and_mon_down() -> None:
    status = ceph.parse_ceph_status(fixture_text("constructed/ceph_status_osd_down.json"))
    found = {(f.verdict, f.code) for f in ceph.assess_ceph(status)}
    assert found == {
        (Verdict.WARNING, codes.CEPH_HEALTH),
        (Verdict.WARNING, codes.CEPH_OSD_DOWN),
        (Verdict.WARNING, codes.CEPH_MON_QUORUM),
        (Verdict.WARNING, codes.CEPH_PGS_NOT_CLEAN),
    }


@pytest.mark.parametrize("text", ["", "{", '{"fsid": "x"}', "  cluster:\n    health: HEALTH_OK"])
def test_ceph_broken(text: str) -> None:
    with pytest.raises(ProbeOutputError):
        ceph.parse_ceph_status(text)
    (f,) = ceph.assess(captures_of(ok_capture(ceph.KEY, None, text)))
    assert (f.verdict, f.code) == (Verdict.CRITICAL, codes.PROBE_UNPARSEABLE)


@pytest.mark.parametrize(
    ("key", "name", "rows"),
    [
        (openstack.VOLUME_KEY, "openstack_volume_service_list.txt", 4),
        (openstack.HYPERVISOR_KEY, "openstack_hypervisor_list.txt", 1),
        (openstack.AGENT_KEY, "openstack_network_agent_list.txt", 5),
    ],
)
def test_seed_tables_all_up(key: str, name: str, rows: int) -> None:
    parsed = openstack.parse_listing(fixture_text(f"seeds/{name}"))
    assert len(parsed) == rows
    (f,) = openstack.assess_listing(key, parsed)
    assert (f.verdict, f.code) == (Verdict.OK, codes.OPENSTACK_OK)


def test_json_lists_down_and_disabled() -> None:
    caps = [ok_capture(k, None, fixture_text(f"constructed/{k}")) for k in openstack.KEYS]
    found = {(f.verdict, f.code, f.subject) for f in openstack.assess(captures_of(*caps))}
    assert found == {
        (Verdict.CRITICAL, codes.OPENSTACK_SERVICE_DOWN, "cinder-volume on hostgroup@tripleo_ceph"),
        (Verdict.OK, codes.OPENSTACK_OK, "hypervisors"),
        (Verdict.CRITICAL, codes.OPENSTACK_SERVICE_DOWN, "ovn-controller on compute-0.localdomain"),
        (
            Verdict.WARNING,
            codes.OPENSTACK_SERVICE_DISABLED,
            "networking-ovn-metadata-agent on compute-0.localdomain",
        ),
    }


def test_seed_table_with_a_dead_agent() -> None:
    text = fixture_text("seeds/openstack_network_agent_list.txt").replace(
        "| compute01.localhost   | n/a               | :-)   | UP    | ovn-controller",
        "| compute01.localhost   | n/a               | XXX   | UP    | ovn-controller",
    )
    found = openstack.assess_listing(openstack.AGENT_KEY, openstack.parse_listing(text))
    assert [(f.code, f.subject) for f in found] == [
        (codes.OPENSTACK_SERVICE_DOWN, "ovn-controller on compute01.localhost")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[{",
        '{"a": 1}',
        "Missing value auth-url required",
        fixture_text("seeds/openstack_hypervisor_list.txt").replace("| up    |", "| up |  x |"),
    ],
)
def test_openstack_broken(text: str) -> None:
    with pytest.raises(ProbeOutputError):
        openstack.parse_listing(text)
