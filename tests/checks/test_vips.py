"""VIP findings from the openstack lab's real captures (crm_mon XML, CIB, `ip -j addr`,
haproxy.cfg), and from those captures changed the way a failure changes them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hakeeper.checks import codes, vips
from hakeeper.checks.capture import ProbeOutputError
from hakeeper.checks.finding import Finding, Verdict
from hakeeper.commands.check import CapturedDir, CheckEnv, check

from .conftest import FIXTURES, fixture_text
from .test_probes import FakeRunner

LAB = FIXTURES / "vips/lab"
INTERNAL = "172.17.1.10"  # ip-172.17.1.10, started on ctl1 in the capture
REDIS_VIP = "172.17.1.11"  # ip-172.17.1.11, with the promoted redis on ctl0


def haproxy_findings(root: Path) -> list[Finding]:
    dto = check(
        CheckEnv(FakeRunner({}), "test-host", {}), source=CapturedDir(root), only={"haproxy"}
    )
    return [f for f in dto.findings if f.code.startswith(("VIP", "HAPROXY_VIP", "PROBE"))]


def lab_copy(tmp_path: Path) -> Path:
    root = tmp_path / "lab"
    shutil.copytree(LAB, root)
    return root


def edit_addresses(root: Path, node: str, *, drop: str = "", add: str = "") -> None:
    path = root / node / "ip_addr.json"
    links = json.loads(path.read_text())
    for link in links:
        link["addr_info"] = [a for a in link.get("addr_info", []) if a.get("local") != drop]
        if add and link.get("ifname") == "eth0":
            link["addr_info"].append({"family": "inet", "local": add, "prefixlen": 32})
    path.write_text(json.dumps(links))


def test_parsers_read_the_real_captures() -> None:
    addrs = vips.parse_ip_addr(fixture_text("vips/lab/ctl1/ip_addr.json"))
    assert {"127.0.0.1", "172.17.1.22", INTERNAL} <= addrs
    cib = vips.parse_cib_addresses(fixture_text("vips/lab/cib.xml"))
    assert cib["ip-172.17.1.10"] == INTERNAL and len(cib) == 5
    binds = vips.haproxy_binds(fixture_text("vips/lab/ctl0/haproxy.cfg"))
    assert INTERNAL in binds and "0.0.0.0" not in binds


def test_plain_ip_addr_text_of_a_sosreport() -> None:
    text = (
        "2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\n"
        "    inet 172.17.1.22/24 brd 172.17.1.255 scope global eth0\n"
        "    inet 172.17.1.10/32 scope global eth0\n"
        "    inet6 fe80::1/64 scope link\n"
    )
    assert vips.parse_ip_addr(text) == {"172.17.1.22", INTERNAL, "fe80::1"}


@pytest.mark.parametrize("garbage", ["", "[{", "{}", "segfault at 0x0"])
def test_garbage_is_unparseable(garbage: str) -> None:
    with pytest.raises(ProbeOutputError):
        vips.parse_ip_addr(garbage)


def test_healthy_lab_every_vip_once_where_started() -> None:
    found = haproxy_findings(LAB)
    assert [(f.verdict, f.code) for f in found] == [(Verdict.OK, codes.VIPS_OK)]
    assert "5 VIPs" in found[0].summary
    assert f"ip-172.17.1.10 {INTERNAL} on ctl1" in found[0].evidence


def test_address_gone_from_its_node(tmp_path: Path) -> None:
    root = lab_copy(tmp_path)
    edit_addresses(root, "ctl1", drop=INTERNAL)
    (f,) = haproxy_findings(root)
    assert (f.verdict, f.code, f.subject, f.node) == (
        Verdict.CRITICAL,
        codes.VIP_MISSING,
        "ip-172.17.1.10",
        "ctl1",
    )


def test_address_on_two_nodes(tmp_path: Path) -> None:
    root = lab_copy(tmp_path)
    edit_addresses(root, "ctl2", add=INTERNAL)
    (f,) = haproxy_findings(root)
    assert (f.verdict, f.code, f.subject) == (
        Verdict.CRITICAL,
        codes.VIP_DUPLICATE,
        "ip-172.17.1.10",
    )
    assert "ctl1, ctl2" in f.summary


def test_address_on_a_node_without_haproxy(tmp_path: Path) -> None:
    root = lab_copy(tmp_path)
    crm = root / "crm_mon.xml"
    # haproxy's replica on ctl1 stopped (the status says so); the VIP stayed on ctl1
    text = crm.read_text()
    start = text.index('<resource id="haproxy-bundle-podman-1"')
    end = text.index("</resource>", start) + len("</resource>")
    stopped = (
        '<resource id="haproxy-bundle-podman-1" resource_agent="ocf:heartbeat:podman"'
        ' role="Stopped" active="false" orphaned="false" blocked="false" managed="true"'
        ' failed="false" failure_ignored="false" nodes_running_on="0"/>'
    )
    crm.write_text(text[:start] + stopped + text[end:])
    codes_found = {(f.verdict, f.code, f.node) for f in haproxy_findings(root)}
    assert (Verdict.CRITICAL, codes.HAPROXY_VIP_WITHOUT_HAPROXY, "ctl1") in codes_found


def test_a_node_whose_addresses_cannot_be_read(tmp_path: Path) -> None:
    root = lab_copy(tmp_path)
    (root / "ctl2" / "ip_addr.json").write_text("Segmentation fault\n")
    found = {(f.verdict, f.code, f.node) for f in haproxy_findings(root)}
    assert (Verdict.CRITICAL, codes.PROBE_UNPARSEABLE, "ctl2") in found
    # the other two nodes are still judged
    assert (Verdict.OK, codes.VIPS_OK, None) in found


def test_no_address_captured_says_nothing_about_vips(tmp_path: Path) -> None:
    root = lab_copy(tmp_path)
    for node in ("ctl0", "ctl1", "ctl2"):
        (root / node / "ip_addr.json").unlink()
    found = haproxy_findings(root)
    assert [f.code for f in found if f.code.startswith(("VIP", "HAPROXY_VIP"))] == []


def test_clone_instances_with_no_place_to_run_are_not_stopped_services(tmp_path: Path) -> None:
    # openstack-api-clone: clone-max is 12 (3 controllers + 9 guest nodes), 3 run
    crm = (LAB / "crm_mon.xml").read_text()
    assert crm.count('<resource id="openstack-api"') == 12
    dto = check(
        CheckEnv(FakeRunner({}), "test-host", {}), source=CapturedDir(LAB), only={"cluster"}
    )
    assert [f.code for f in dto.findings if f.code == codes.RESOURCE_STOPPED] == []
    # one of the three stops: one stopped instance is reported, not ten
    root = lab_copy(tmp_path)
    start = crm.index('<resource id="openstack-api"')
    end = crm.index("</resource>", start) + len("</resource>")
    stopped = crm[:start] + crm[start:end].replace('role="Started"', 'role="Stopped"').replace(
        'active="true"', 'active="false"'
    )
    (root / "crm_mon.xml").write_text(stopped + crm[end:])
    dto = check(
        CheckEnv(FakeRunner({}), "test-host", {}), source=CapturedDir(root), only={"cluster"}
    )
    found = [f for f in dto.findings if f.code == codes.RESOURCE_STOPPED]
    assert [(f.verdict, f.subject) for f in found] == [(Verdict.WARNING, "openstack-api")]
