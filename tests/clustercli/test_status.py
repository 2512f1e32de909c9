"""`status`: the store's cluster as pcs status / crm_mon show it. The XML form validates
against Pacemaker's api-result schema and matches what crm_mon itself prints for the
same CIB (`CIB_file=cib.xml crm_mon -1 --output-as=xml`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from hakeeper.checks.crm_mon import parse_crm_mon
from hakeeper.cib.edit import remove_resource
from hakeeper.cib.parse import parse_cib_file
from hakeeper.cib.render import render_cib
from hakeeper.cli.main import main
from hakeeper.cli.status_output import as_json, as_xml, render_text
from hakeeper.commands import resource_config as rc
from hakeeper.commands.cluster_options import node_standby
from hakeeper.commands.env import Env
from hakeeper.commands.status import cluster_status, file_status
from hakeeper.coord import StatusKey, StatusKind, connect
from hakeeper.node.records import cluster_cib, op_fields

API_SCHEMA = Path("/usr/share/pacemaker/api/api-result.rng")
UUID = "ctl1-1"


def history(
    node: str, rsc: str, agent: tuple[str, str, str], *, monitor_rc: int = 0, started: bool = True
) -> dict[str, Any]:
    """An op history document as a node daemon writes it: start (or stop) and a monitor."""
    call = 10
    task = "start" if started else "stop"
    ops = {
        f"{rsc}_last_0": op_fields(
            record_id=f"{rsc}_last_0",
            resource=rsc,
            task=task,
            interval_ms=0,
            call_id=call,
            rc=0,
            op_status=0,
            transition_key=f"1:1:0:{UUID}",
            node=node,
            started=1_700_000_000,
            now=1_700_000_000,
            exec_ms=5,
            digest="0",
            exit_reason=None,
        )
    }
    if started:
        ops[f"{rsc}_monitor_10000"] = op_fields(
            record_id=f"{rsc}_monitor_10000",
            resource=rsc,
            task="monitor",
            interval_ms=10_000,
            call_id=call + 1,
            rc=monitor_rc,
            op_status=0,
            transition_key=f"2:1:0:{UUID}",
            node=node,
            started=1_700_000_000,
            now=1_700_000_000,
            exec_ms=3,
            digest="0",
            exit_reason="process gone" if monitor_rc else None,
        )
        if monitor_rc:
            ops[f"{rsc}_last_failure_0"] = dict(
                ops[f"{rsc}_monitor_10000"], id=f"{rsc}_last_failure_0"
            )
    return {"agent": list(agent), "ops": ops, "changed": f"{rsc}_last_0"}


DUMMY = ("ocf", "heartbeat", "Dummy")
IP = ("ocf", "heartbeat", "IPaddr2")


@pytest.fixture
def running(cluster: Env) -> Env:
    """The demo cluster with resources, their op history, three members and a leader."""
    rc.resource_create(
        cluster, rc.ResourceSpec("vip", "ocf:heartbeat:IPaddr2", params=(("ip", "10.0.0.10"),))
    )
    rc.resource_create(cluster, rc.ResourceSpec("a", "ocf:heartbeat:Dummy", group="g"))
    rc.resource_create(cluster, rc.ResourceSpec("b", "ocf:heartbeat:Dummy", group="g"))
    rc.resource_create(cluster, rc.ResourceSpec("web", "ocf:heartbeat:Dummy", clone=()))
    rc.resource_create(cluster, rc.ResourceSpec("off", "ocf:heartbeat:Dummy", disabled=True))
    rc.resource_ban(cluster, "vip", "ctl3")
    node_standby(cluster, ["ctl3"], True)
    docs = {
        "ctl1": {"vip": history("ctl1", "vip", IP), "web": history("ctl1", "web", DUMMY)},
        "ctl2": {
            "a": history("ctl2", "a", DUMMY),
            "b": history("ctl2", "b", DUMMY),
            "web": history("ctl2", "web", DUMMY, monitor_rc=7),
        },
        "ctl3": {"web": history("ctl3", "web", DUMMY, started=False)},
    }
    with cluster.coordinator() as coord:
        leases = [coord.join(n, 600) for n in ("ctl1", "ctl2", "ctl3")]
        assert coord.campaign(leases[0])
        for node, by_rsc in docs.items():
            coord.write_status(
                {StatusKey(node, StatusKind.OP_HISTORY, r): d for r, d in by_rsc.items()}
            )
    return cluster


def test_text_is_pcs_status(running: Env) -> None:
    text = render_text(cluster_status(running), now=0)
    assert text.startswith("Cluster name: demo\nCluster Summary:\n  * Stack: hakeeper\n")
    assert "  * Current DC: ctl1 (version hakeeper" in text
    assert "- partition with quorum\n" in text
    body = text[text.index("Node List:") :]
    assert body == (
        "Node List:\n"
        "  * Node ctl3: standby\n"
        "  * Online: [ ctl1 ctl2 ]\n"
        "\n"
        "Full List of Resources:\n"
        "  * vip\t(ocf:heartbeat:IPaddr2):\t Started ctl1\n"
        "  * Resource Group: g:\n"
        "    * a\t(ocf:heartbeat:Dummy):\t Started ctl2\n"
        "    * b\t(ocf:heartbeat:Dummy):\t Started ctl2\n"
        "  * Clone Set: web-clone [web]:\n"
        "    * web\t(ocf:heartbeat:Dummy):\t FAILED ctl2\n"
        "    * Started: [ ctl1 ]\n"
        "    * Stopped: [ ctl3 ]\n"
        "  * off\t(ocf:heartbeat:Dummy):\t Stopped (disabled)\n"
        "\n"
        "Failed Resource Actions:\n"
        "  * web 10s-interval monitor on ctl2 returned 'not running' (process gone) at "
        + body.rsplit(" at ", 1)[1].split(" after ")[0]
        + " after 3ms\n"
    )


def test_json_is_stable(running: Env) -> None:
    doc = as_json(cluster_status(running))
    assert doc["schema"] == "hakeeper.status/1"
    assert (doc["cluster_name"], doc["dc"], doc["have_quorum"]) == ("demo", "ctl1", True)
    assert doc["counts"] == {"nodes": 3, "resources": 7, "disabled": 1, "blocked": 0}
    nodes = {n["name"]: n for n in doc["nodes"]}
    assert nodes["ctl3"]["standby"] and not nodes["ctl1"]["standby"]
    assert [nodes[n]["resources_running"] for n in ("ctl1", "ctl2", "ctl3")] == [2, 3, 0]
    vip = doc["resources"][0]
    assert (vip["id"], vip["kind"], vip["role"], vip["nodes"]) == (
        "vip",
        "primitive",
        "Started",
        ["ctl1"],
    )
    assert doc["bans"] == [
        {
            "id": "cli-ban-vip-on-ctl3",
            "resource": "vip",
            "node": "ctl3",
            "weight": -1_000_000,
            "promoted_only": False,
        }
    ]
    assert [(f["op_key"], f["node"], f["rc"]) for f in doc["failures"]] == [
        ("web_monitor_10000", "ctl2", 7)
    ]


def _validate(xml: bytes) -> None:
    if not API_SCHEMA.exists():
        pytest.skip("Pacemaker's API schemas are not installed (pacemaker-cli-utils)")
    schema = etree.RelaxNG(etree.parse(str(API_SCHEMA)))
    doc = etree.fromstring(xml)
    if not schema.validate(doc):
        raise AssertionError(str(schema.error_log))


def test_xml_validates_against_pacemakers_api_schema(running: Env) -> None:
    _validate(as_xml(cluster_status(running)))


def _shape(root: etree._Element) -> dict[str, Any]:
    """What a reader of crm_mon's XML looks at: nodes, resources, bans, failures."""
    node_keys = (
        "name",
        "id",
        "online",
        "standby",
        "maintenance",
        "unclean",
        "is_dc",
        "resources_running",
        "type",
    )
    rsc_keys = (
        "id",
        "resource_agent",
        "role",
        "target_role",
        "active",
        "orphaned",
        "blocked",
        "managed",
        "failed",
        "nodes_running_on",
        "multi_state",
        "unique",
        "disabled",
        "number_resources",
    )

    def rsc(el: etree._Element) -> dict[str, Any]:
        return {
            "tag": el.tag,
            **{k: el.get(k) for k in rsc_keys if el.get(k) is not None},
            "nodes": [n.get("name") for n in el.iterfind("node")],
            "children": sorted((rsc(c) for c in el if c.tag != "node"), key=json.dumps),
        }

    return {
        "nodes": [{k: n.get(k) for k in node_keys} for n in root.iterfind("nodes/node")],
        "resources": [rsc(r) for r in root.iterfind("resources/*")],
        "bans": [dict(b.attrib) for b in root.iterfind("bans/ban")],
        "failures": [
            {
                k: f.get(k)
                for k in (
                    "op_key",
                    "node",
                    "exitstatus",
                    "exitreason",
                    "exitcode",
                    "call",
                    "status",
                    "interval",
                    "task",
                )
            }
            for f in root.iterfind("failures/failure")
        ],
        "history": [
            {
                "node": n.get("name"),
                "resources": [
                    {
                        **dict(r.attrib),
                        "ops": [dict(o.attrib) for o in r.iterfind("operation_history")],
                    }
                    for r in n.iterfind("resource_history")
                ],
            }
            for n in root.iterfind("node_history/node")
        ],
        "dc": root.find("summary/current_dc").get("name"),  # type: ignore[union-attr]
        "counts": dict(root.find("summary/resources_configured").attrib),  # type: ignore[union-attr]
    }


def crm_mon(env: Env, tmp_path: Path, *args: str) -> str:
    """What crm_mon prints for the CIB the leader would schedule from this store."""
    if shutil.which("crm_mon") is None:
        pytest.skip("crm_mon is not installed (pacemaker-cli-utils)")
    with env.coordinator() as coord:
        snap = coord.snapshot()
    assert snap.config is not None and snap.leader is not None
    cib = cluster_cib(snap.config.xml, snap.status.documents, snap.members, snap.leader.node)
    path = tmp_path / "cib.xml"
    path.write_bytes(render_cib(cib))
    out = subprocess.run(
        ["crm_mon", "-1", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CIB_file": str(path)},
        timeout=60,
        check=True,
    )
    return out.stdout


def check_like_crm_mon(env: Env, tmp_path: Path) -> None:
    dto = cluster_status(env)
    theirs = etree.fromstring(crm_mon(env, tmp_path, "--output-as=xml").encode())
    assert _shape(etree.fromstring(as_xml(dto))) == _shape(theirs)
    text = crm_mon(env, tmp_path, "-r")  # -r: inactive resources too, as pcs status
    ours = render_text(dto)
    assert ours[ours.index("Node List:") :] == text[text.index("Node List:") :]


@pytest.mark.oracle
def test_status_reads_like_crm_mon_on_the_same_cib(running: Env, tmp_path: Path) -> None:
    check_like_crm_mon(running, tmp_path)


@pytest.mark.oracle
def test_fail_counts_in_the_node_history_like_crm_mon(running: Env, tmp_path: Path) -> None:
    """A resource that failed on a node: its fail count and last failure in crm_mon's
    node_history, which check reads from a saved status (check --from)."""
    with running.coordinator() as coord:
        coord.write_status(
            {
                StatusKey("ctl2", StatusKind.FAIL_COUNT, "web"): {
                    "monitor_10000": {"count": 3, "last": 1_700_000_100}
                }
            }
        )
        coord.write_status(
            {
                StatusKey("ctl1", StatusKind.FAIL_COUNT, "vip"): {
                    "start_0": {"count": 1_000_000, "last": 1_700_000_200}
                }
            }
        )
    check_like_crm_mon(running, tmp_path)
    xml = as_xml(cluster_status(running))
    _validate(xml)
    counts = {
        (h.node, h.resource): (h.fail_count, h.migration_threshold, h.last_failure)
        for h in parse_crm_mon(xml.decode()).histories
        if h.fail_count
    }
    assert counts == {
        ("ctl2", "web"): (3, 1_000_000, time.ctime(1_700_000_100)),
        ("ctl1", "vip"): (1_000_000, 1_000_000, time.ctime(1_700_000_200)),
    }
    # the same in hakeeper's JSON, with epoch seconds
    doc = json.loads(json.dumps(as_json(cluster_status(running))))
    assert {
        (c["node"], c["resource"]): (c["count"], c["migration_threshold"], c["last_failure"])
        for c in doc["fail_counts"]
    } == {
        ("ctl2", "web"): (3, 1_000_000, 1_700_000_100),
        ("ctl1", "vip"): (1_000_000, 1_000_000, 1_700_000_200),
    }


@pytest.mark.oracle
def test_offline_node_unmanaged_and_unique_clones_like_crm_mon(
    cluster: Env, tmp_path: Path
) -> None:
    rc.resource_create(cluster, rc.ResourceSpec("a", "ocf:heartbeat:Dummy", group="g"))
    rc.resource_create(cluster, rc.ResourceSpec("b", "ocf:heartbeat:Dummy", group="g"))
    rc.resource_create(
        cluster, rc.ResourceSpec("web", "ocf:heartbeat:Dummy", clone=(("clone-max", "2"),))
    )
    rc.resource_create(
        cluster, rc.ResourceSpec("u", "ocf:heartbeat:Dummy", meta=(("is-managed", "false"),))
    )
    rc.resource_create(
        cluster,
        rc.ResourceSpec(
            "uc", "ocf:heartbeat:Dummy", clone=(("globally-unique", "true"), ("clone-max", "2"))
        ),
    )
    docs = {
        "ctl1": {
            "a": history("ctl1", "a", DUMMY),
            "web": history("ctl1", "web", DUMMY),
            "u": history("ctl1", "u", DUMMY),
            "uc:0": history("ctl1", "uc:0", DUMMY),
        },
        "ctl3": {"b": history("ctl3", "b", DUMMY, monitor_rc=7)},
    }
    with cluster.coordinator() as coord:  # ctl2 is not a member: offline
        leases = [coord.join(n, 600) for n in ("ctl1", "ctl3")]
        assert coord.campaign(leases[0])
        for node, by_rsc in docs.items():
            coord.write_status(
                {StatusKey(node, StatusKind.OP_HISTORY, r): d for r, d in by_rsc.items()}
            )
    text = render_text(cluster_status(cluster))
    assert "  * OFFLINE: [ ctl2 ]\n" in text
    assert "    * uc:1\t(ocf:heartbeat:Dummy):\t Stopped\n" in text
    check_like_crm_mon(cluster, tmp_path)


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)  # the CLI opens a store by URL
def test_status_command_outputs(running: Env, capsys: pytest.CaptureFixture[str]) -> None:
    for form in ("text", "json", "xml"):
        capsys.readouterr()
        assert main(["status", "--store", running.store, "--output", form]) == 0
        out = capsys.readouterr().out
        if form == "json":
            assert json.loads(out)["dc"] == "ctl1"
        elif form == "xml":
            _validate(out.encode())
        else:
            assert "Full List of Resources:" in out


def test_status_of_a_cib_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite://{tmp_path / 'store.db'}"
    assert main(["cluster", "setup", "demo", "ctl1", "--store", url]) == 0
    path = tmp_path / "cib.xml"
    assert main(["cib", "export", str(path), "--store", url]) == 0
    capsys.readouterr()
    assert main(["status", "-f", str(path), "-o", "xml"]) == 0
    _validate(capsys.readouterr().out.encode())
    with connect(url) as coord:
        assert coord.members().nodes == frozenset()


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.oracle
def test_a_real_pacemaker_cluster_like_crm_mon(tmp_path: Path) -> None:
    """The CIB of a real 3-node Pacemaker cluster (shared/examples/live-cib-3node.xml, its
    status written by Pacemaker itself), without its promotable clone (which the scheduler
    does not support yet): its history stays, so the clone's instances are orphans."""
    if shutil.which("crm_mon") is None:
        pytest.skip("crm_mon is not installed (pacemaker-cli-utils)")
    cib = parse_cib_file(FIXTURES / "live-cib-3node.xml")
    config, _ = remove_resource(cib.configuration, "st-clone")
    path = tmp_path / "cib.xml"
    path.write_bytes(render_cib(replace(cib, configuration=config)))
    env = {**os.environ, "CIB_file": str(path)}

    def run(*args: str) -> str:
        return subprocess.run(
            ["crm_mon", "-1", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=True,
        ).stdout

    dto = file_status(str(path))
    ours_text = render_text(dto)
    assert "  * st\t(ocf:pacemaker:Stateful):\t ORPHANED Promoted [ " in ours_text
    theirs_text = run("-r")
    assert (
        ours_text[ours_text.index("Node List:") :] == theirs_text[theirs_text.index("Node List:") :]
    )
    assert _shape(etree.fromstring(as_xml(dto))) == _shape(
        etree.fromstring(run("--output-as=xml").encode())
    )


@pytest.mark.oracle
def test_bundles_in_xml_like_crm_mon() -> None:
    """The seeds' converged OpenStack cluster (a CIB Pacemaker wrote,
    shared/examples/pacemaker-outputs/converged.cib.xml): each bundle's replicas with their
    inner instance, container and connection, as crm_mon's XML has them; the agents inside
    bundles grep this for a promoted instance (galera's master_exists, redis')."""
    if shutil.which("crm_mon") is None:
        pytest.skip("crm_mon is not installed (pacemaker-cli-utils)")
    path = FIXTURES / "openstack-converged.cib.xml"
    theirs = subprocess.run(
        ["crm_mon", "-1", "--output-as=xml"],
        capture_output=True,
        env={**os.environ, "CIB_file": str(path)},
        timeout=60,
        check=True,
    ).stdout
    ours = as_xml(file_status(str(path)))
    assert _shape(etree.fromstring(ours)) == _shape(etree.fromstring(theirs))
    # a guest node names the container it lives in, as crm_mon's does
    node = etree.fromstring(ours).find("nodes/node[@name='galera-bundle-0']")
    assert node is not None
    assert (node.get("type"), node.get("id_as_resource")) == ("remote", "galera-bundle-podman-0")
    galera = etree.fromstring(ours).find("resources/bundle[@id='galera-bundle']")
    assert galera is not None
    assert [r.get("role") for r in galera.iterfind("replica/resource[@id='galera']")] == [
        "Promoted"
    ] * 3


COMPLETED = 1_794_995_200  # 2026-11-18 09:46:40 UTC


def _fenced(env: Env) -> Env:
    """The running cluster after ctl3 was fenced twice: once failed, then done."""
    from hakeeper.node.records import FenceRecord, fence_key, with_fence_record

    doc = None
    for status, when, reason in (
        ("failed", COMPLETED, "timed out"),
        ("success", COMPLETED + 60, ""),
    ):
        record = FenceRecord("reboot", "ctl3", status, "ctl2", "ctl1", "fence-ctl3", when, reason)
        doc = with_fence_record(doc, record)
    with env.coordinator() as coord:
        coord.write_status({fence_key("ctl3"): doc})
    return env


def test_fencing_history_in_every_form(running: Env) -> None:
    dto = cluster_status(_fenced(running))
    assert [(r.status, r.completed) for r in dto.fencing] == [
        ("success", COMPLETED + 60),
        ("failed", COMPLETED),
    ]
    # text: the failed fencing only, as crm_mon by default; --full the whole history
    failed = (
        "  * reboot of ctl3 failed: delegate=ctl2, client=hakeeper-controller, origin=ctl1, "
        "last-failed='2026-11-18 09:46:40Z' (timed out)"
    )
    text = render_text(dto, now=0)
    assert text.endswith(f"\nFailed Fencing Actions:\n{failed}\n")
    full = render_text(dto, now=0, full=True)
    assert full.endswith(
        "\nFencing History:\n"
        "  * reboot of ctl3 successful: delegate=ctl2, client=hakeeper-controller, "
        f"origin=ctl1, completed='2026-11-18 09:47:40Z'\n{failed}\n"
    )
    assert [(e["target"], e["status"]) for e in as_json(dto)["fencing"]] == [
        ("ctl3", "success"),
        ("ctl3", "failed"),
    ]
    # xml: crm_mon's fence_history, valid, and read back by check's crm_mon parser
    xml = as_xml(dto)
    _validate(xml)
    crm = parse_crm_mon(xml.decode())
    assert [(e.target, e.status, e.delegate, e.origin, e.completed) for e in crm.fence_events] == [
        ("ctl3", "success", "ctl2", "ctl1", "2026-11-18 09:47:40Z"),
        ("ctl3", "failed", "ctl2", "ctl1", "2026-11-18 09:46:40Z"),
    ]


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)  # the CLI opens a store by URL
def test_stonith_history_show_and_cleanup(running: Env, capsys: pytest.CaptureFixture[str]) -> None:
    store = ["--store", running.store]
    assert main(["stonith", "history", *store]) == 0
    assert capsys.readouterr().out == "no fencing history\n"
    _fenced(running)
    assert main(["stonith", "history", "show", "ctl3", *store, "-o", "json"]) == 0
    events = json.loads(capsys.readouterr().out)["events"]
    assert [(e["status"], e["delegate"]) for e in events] == [
        ("success", "ctl2"),
        ("failed", "ctl2"),
    ]
    assert main(["stonith", "history", "cleanup", "ctl1", *store]) == 0
    assert capsys.readouterr().out == "no fencing history of ctl1 to clean up\n"
    assert main(["stonith", "history", "cleanup", "ctl3", *store]) == 0
    assert capsys.readouterr().out == "cleaned up the fencing history of ctl3\n"
    assert cluster_status(running).fencing == ()


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)  # the CLI opens a store by URL
def test_a_fencing_recorded_during_a_cleanup_is_not_lost(
    running: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The controller records a fencing of ctl3 between the cleanup's read and its delete:
    the cleanup forgets nothing and says so (exit 3); the new record is there."""
    from hakeeper.coord.keyspace import KeyspaceCoordinator
    from hakeeper.node.records import FenceRecord, fence_key, with_fence_record

    _fenced(running)
    read = KeyspaceCoordinator.read_status

    def read_then_fence(self: KeyspaceCoordinator) -> Any:
        snap = read(self)
        doc = snap.documents[fence_key("ctl3")]
        late = FenceRecord("reboot", "ctl3", "success", "ctl1", "ctl1", "fence-ctl3", 9e9, "")
        self.write_status({fence_key("ctl3"): with_fence_record(doc, late)})
        return snap

    monkeypatch.setattr(KeyspaceCoordinator, "read_status", read_then_fence)
    assert main(["stonith", "history", "cleanup", "ctl3", "--store", running.store]) == 3
    err = capsys.readouterr().err
    assert "was recorded while its history was being cleaned up; nothing was forgotten" in err
    assert "Traceback" not in err
    monkeypatch.undo()
    assert [r.completed for r in cluster_status(running).fencing] == [
        9e9,
        COMPLETED + 60,
        COMPLETED,
    ]
