"""pcs-style command lines, end to end through `hakeeper` on a SQLite store: what they
write into the CIB and what the read commands print."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from hakeeper.cli.main import main

from .conftest import needs_promotable


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite://{tmp_path / 'store.db'}"
    assert main(["cluster", "setup", "demo", "ctl1", "ctl2", "ctl3", "--store", url]) == 0
    return url


def hk(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> str:
    capsys.readouterr()
    code = main([*argv, "--store", url])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def cib(capsys: pytest.CaptureFixture[str], url: str) -> etree._Element:
    return etree.fromstring(hk(capsys, url, "cib", "export").encode())


@needs_promotable  # makes a promotable clone, refused until the scheduler has them
def test_resource_create_grammar(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    hk(
        capsys,
        url,
        "resource",
        "create",
        "vip",
        "ocf:heartbeat:IPaddr2",
        "ip=10.0.0.9",
        "cidr_netmask=32",
        "op",
        "monitor",
        "interval=5s",
        "timeout=20s",
        "op",
        "start",
        "timeout=30s",
        "meta",
        "resource-stickiness=100",
        "--disabled",
    )
    hk(capsys, url, "resource", "create", "a", "ocf:heartbeat:Dummy", "--group", "g")
    hk(capsys, url, "resource", "create", "b", "ocf:heartbeat:Dummy", "--group=g", "--before", "a")
    hk(
        capsys,
        url,
        "resource",
        "create",
        "st",
        "ocf:pacemaker:Stateful",
        "promotable",
        "notify=true",
    )
    hk(capsys, url, "stonith", "create", "fence1", "fence_dummy", "pcmk_host_list=ctl1")
    root = cib(capsys, url)
    vip = root.find(".//primitive[@id='vip']")
    assert vip is not None
    assert [dict(o.attrib) for o in vip.iterfind("operations/op")] == [
        {"id": "vip-monitor-interval-5s", "name": "monitor", "interval": "5s", "timeout": "20s"},
        {"id": "vip-start-interval-0s", "name": "start", "interval": "0s", "timeout": "30s"},
    ]
    meta = {p.get("name"): p.get("value") for p in vip.iterfind("meta_attributes/nvpair")}
    assert meta == {"resource-stickiness": "100", "target-role": "Stopped"}
    assert [p.get("id") for p in root.iterfind(".//group[@id='g']/primitive")] == ["b", "a"]
    clone = root.find(".//clone[@id='st-clone']")
    assert clone is not None
    assert {p.get("name"): p.get("value") for p in clone.iterfind("meta_attributes/nvpair")} == {
        "notify": "true",
        "promotable": "true",
    }
    fence = root.find(".//primitive[@id='fence1']")
    assert fence is not None and fence.get("class") == "stonith"
    assert fence.get("type") == "fence_dummy" and fence.get("provider") is None
    assert [o.get("interval") for o in fence.iterfind("operations/op")] == ["60s"]
    shown = hk(capsys, url, "resource", "show", "vip")
    assert shown == (
        " Resource: vip (class=ocf provider=heartbeat type=IPaddr2)\n"
        "   Attributes: ip=10.0.0.9 cidr_netmask=32\n"
        "   Meta Attrs: resource-stickiness=100 target-role=Stopped\n"
        "   Operations: monitor interval=5s timeout=20s (vip-monitor-interval-5s)\n"
        "               start interval=0s timeout=30s (vip-start-interval-0s)\n"
    )
    as_json = json.loads(hk(capsys, url, "resource", "show", "g", "-o", "json"))
    assert [c["id"] for c in as_json["resources"][0]["children"]] == ["b", "a"]
    xml = hk(capsys, url, "resource", "show", "st-clone", "-o", "xml")
    assert etree.fromstring(xml.encode()).tag == "clone"


def test_bundle_grammar(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    hk(
        capsys,
        url,
        "resource",
        "bundle",
        "create",
        "redis-bundle",
        "container",
        "podman",
        "image=localhost/redis:latest",
        "replicas=3",
        "network",
        "control-port=3124",
        "port-map",
        "port=6379",
        "storage-map",
        "source-dir=/var/lib/redis",
        "target-dir=/var/lib/redis",
        "meta",
        "container-attribute-target=host",
    )
    hk(capsys, url, "resource", "create", "redis", "ocf:heartbeat:redis", "bundle", "redis-bundle")
    hk(capsys, url, "bundle", "update", "redis-bundle", "container", "replicas=2")
    bundle = cib(capsys, url).find(".//bundle[@id='redis-bundle']")
    assert bundle is not None
    podman = bundle.find("podman")
    assert podman is not None and dict(podman.attrib) == {
        "image": "localhost/redis:latest",
        "replicas": "2",
    }
    network = bundle.find("network")
    assert network is not None and network.get("control-port") == "3124"
    port_map = bundle.find("network/port-mapping")
    assert port_map is not None and dict(port_map.attrib) == {
        "id": "redis-bundle-port-map-6379",
        "port": "6379",
    }
    storage = bundle.find("storage/storage-mapping")
    assert storage is not None and storage.get("target-dir") == "/var/lib/redis"
    primitive = bundle.find("primitive")
    assert primitive is not None and primitive.get("id") == "redis"


def test_constraint_grammar_and_list(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    for rsc in ("vip", "web"):
        hk(capsys, url, "resource", "create", rsc, "ocf:heartbeat:Dummy")
    hk(capsys, url, "constraint", "location", "vip", "prefers", "ctl1=50", "ctl2")
    hk(capsys, url, "constraint", "location", "web", "avoids", "ctl3")
    hk(
        capsys,
        url,
        "constraint",
        "colocation",
        "add",
        "vip",
        "with",
        "web",
        "500",
        "id=vip-with-web",
    )
    hk(
        capsys,
        url,
        "constraint",
        "order",
        "add",
        "stop",
        "web",
        "then",
        "stop",
        "vip",
        "kind=Optional",
    )
    listed = hk(capsys, url, "constraint", "list", "--full")
    assert listed == (
        "Location Constraints:\n"
        "  Resource: vip prefers node ctl1 (score:50) (id:location-vip-ctl1-50)\n"
        "  Resource: vip prefers node ctl2 (score:INFINITY) (id:location-vip-ctl2-INFINITY)\n"
        "  Resource: web avoids node ctl3 (score:-INFINITY) (id:location-web-ctl3--INFINITY)\n"
        "Ordering Constraints:\n"
        "  stop web then stop vip (kind:Optional) (id:order-web-vip-Optional)\n"
        "Colocation Constraints:\n"
        "  vip with web (score:500) (id:vip-with-web)\n"
    )
    doc = json.loads(hk(capsys, url, "constraint", "order", "list", "-o", "json"))
    assert doc["constraints"] == [
        {
            "type": "order",
            "id": "order-web-vip-Optional",
            "first": "web",
            "then": "vip",
            "first_action": "stop",
            "then_action": "stop",
            "kind": "Optional",
            "symmetrical": None,
        }
    ]
    hk(capsys, url, "constraint", "remove", "vip-with-web", "order-web-vip-Optional")
    assert "vip with web" not in hk(capsys, url, "constraint", "list")


def test_properties_and_nodes(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    hk(capsys, url, "property", "set", "stonith-enabled=false", "no-quorum-policy=ignore")
    hk(capsys, url, "property", "unset", "no-quorum-policy")
    assert json.loads(hk(capsys, url, "property", "list", "-o", "json"))["properties"] == {
        "cluster-infrastructure": "hakeeper",
        "cluster-name": "demo",
        "stonith-enabled": "false",
    }
    hk(capsys, url, "node", "standby", "ctl1", "ctl2")
    hk(capsys, url, "node", "unstandby", "ctl1")
    hk(capsys, url, "node", "attribute", "ctl3", "rack=r1")
    out = hk(capsys, url, "node", "attribute")
    assert out == "Node Attributes:\n ctl2: standby=on\n ctl3: rack=r1\n"
    hk(capsys, url, "node", "maintenance", "--all")
    root = cib(capsys, url)
    assert len(root.findall(".//node/instance_attributes/nvpair[@name='maintenance']")) == 3


def test_edit_json_output(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    hk(capsys, url, "resource", "create", "vip", "ocf:heartbeat:Dummy")
    hk(capsys, url, "resource", "create", "web", "ocf:heartbeat:Dummy")
    hk(capsys, url, "constraint", "colocation", "add", "vip", "with", "web")
    doc = json.loads(hk(capsys, url, "resource", "delete", "web", "-o", "json"))
    assert doc["schema"] == "hakeeper.edit/1" and doc["changed"] is True
    assert doc["removed"] == ["colocation-vip-web-INFINITY"]
    assert isinstance(doc["revision"], int)


def test_group_and_meta_grammar(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    for rsc in ("x", "y", "z"):
        hk(capsys, url, "resource", "create", rsc, "ocf:heartbeat:Dummy")
    hk(capsys, url, "resource", "group", "add", "g", "x", "z")
    hk(capsys, url, "resource", "group", "add", "g", "y", "--after", "x")
    hk(capsys, url, "resource", "meta", "g", "target-role=Stopped")
    root = cib(capsys, url)
    assert [p.get("id") for p in root.iterfind(".//group[@id='g']/primitive")] == ["x", "y", "z"]
    pair = root.find(".//group[@id='g']/meta_attributes/nvpair")
    assert pair is not None and pair.get("id") == "g-meta_attributes-target-role"
    hk(capsys, url, "resource", "group", "remove", "g")
    assert [r.get("id") for r in cib(capsys, url).find(".//resources")] == ["x", "y", "z"]


def test_clone_grammar(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    hk(capsys, url, "resource", "create", "x", "ocf:heartbeat:Dummy")
    hk(capsys, url, "resource", "clone", "x", "interleave=true", "clone-max=2")
    clone = cib(capsys, url).find(".//clone[@id='x-clone']")
    assert clone is not None
    assert [(p.get("id"), p.get("value")) for p in clone.iterfind("meta_attributes/nvpair")] == [
        ("x-clone-meta_attributes-interleave", "true"),
        ("x-clone-meta_attributes-clone-max", "2"),
    ]
    hk(capsys, url, "resource", "unclone", "x-clone")
    assert [r.tag for r in cib(capsys, url).find(".//resources")] == ["primitive"]
