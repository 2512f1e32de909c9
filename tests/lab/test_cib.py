"""The lab's generated configuration is a CIB real Pacemaker accepts and converges on:
crm_verify finds nothing wrong, and crm_simulate, run until nothing is left to do, starts
every resource, promotes three galera replicas and one redis, and puts the redis VIP with
the promoted redis. haproxy itself checks the generated haproxy.cfg."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from hakeeper.cib.parse import parse_cib_file
from hakeeper.lab.catalog import CHECK, haproxy_cfg
from hakeeper.lab.cib import build_cib
from hakeeper.lab.plan import Profile, make_plan
from hakeeper.lab.support import online_cib
from hakeeper.scheduler.schedule import schedule

from .conftest import need

online = online_cib


def simulate(path: Path, out: Path) -> str:
    """crm_simulate -S on the CIB at path, its revised CIB written to out; its output."""
    run = subprocess.run(
        ["crm_simulate", "-x", str(path), "-S", "-O", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def converge(path: Path, rounds: int = 4) -> str:
    """crm_simulate -S again and again on its own output; returns the last status text."""
    text = ""
    for i in range(rounds):
        out = path.with_name(f"round{i}.xml")
        text = simulate(path, out)
        path = out
        summary = text.split("Transition Summary:")[1].split("Executing")[0]
        if not summary.strip():
            break
    return text.split("Revised Cluster Status:")[1]


@pytest.mark.parametrize("profile", list(Profile))
@pytest.mark.parametrize("nodes", [1, 3, 5])
def test_crm_verify_accepts_the_generated_cib(profile: Profile, nodes: int, tmp_path: Path) -> None:
    need("crm_verify")
    plan = make_plan(nodes, profile=profile)
    path = tmp_path / "cib.xml"
    path.write_text(online(plan, build_cib(plan)))
    run = subprocess.run(
        ["crm_verify", "-x", str(path), "-V"], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert "error" not in run.stderr.lower(), run.stderr


def test_minimal_profile_converges_under_crm_simulate(tmp_path: Path) -> None:
    need("crm_simulate")
    plan = make_plan(3, profile=Profile.MINIMAL)
    path = tmp_path / "cib.xml"
    path.write_text(online(plan, build_cib(plan)))
    revised = converge(path)
    assert "Stopped" not in revised
    assert re.search(
        r"Clone Set: haproxy-clone \[haproxy\]:\s+\* Started: \[ ctl0 ctl1 ctl2 \]", revised
    )
    redis_on = re.search(r"\* redis\s+\(ocf:heartbeat:redis\):\s+Started (\w+)", revised)
    vip_on = re.search(
        r"\* ip-172\.17\.1\.11\s+\(ocf:heartbeat:IPaddr2\):\s+Started (\w+)", revised
    )
    assert redis_on and vip_on and redis_on.group(1) == vip_on.group(1)
    # the other VIPs are with a running haproxy (all of them run one)
    assert len(re.findall(r"ip-[\d.]+\s+\(ocf:heartbeat:IPaddr2\):\s+Started", revised)) == 5


def test_openstack_profile_converges_under_crm_simulate(tmp_path: Path) -> None:
    need("crm_simulate")
    plan = make_plan(3, profile=Profile.OPENSTACK)
    path = tmp_path / "cib.xml"
    path.write_text(online(plan, build_cib(plan)))
    revised = converge(path)
    assert "Stopped" not in revised, revised
    assert "GuestOnline: [ galera-bundle-0 galera-bundle-1 galera-bundle-2 " in revised
    assert len(re.findall(r"galera-bundle-\d\s+\(ocf:heartbeat:galera\):\s+Promoted", revised)) == 3
    promoted = re.findall(r"redis-bundle-\d\s+\(ocf:heartbeat:redis\):\s+Promoted (\w+)", revised)
    assert len(promoted) == 1
    assert len(re.findall(r"redis-bundle-\d\s+\(ocf:heartbeat:redis\):\s+Unpromoted", revised)) == 2
    vip_on = re.search(r"ip-172\.17\.1\.11\s+\(ocf:heartbeat:IPaddr2\):\s+Started (\w+)", revised)
    assert vip_on and vip_on.group(1) == promoted[0]
    assert len(re.findall(r"openstack-cinder-volume-podman-0\s.*Started", revised)) == 1
    assert len(re.findall(r"stonith-fence_hakeeper_lab-ctl\d\s.*Started", revised)) == 3


def test_only_the_bundles_whose_agent_has_a_notify_action_are_notified(tmp_path: Path) -> None:
    need("crm_simulate")
    plan = make_plan(3, profile=Profile.OPENSTACK)
    path = tmp_path / "cib.xml"
    path.write_text(online(plan, build_cib(plan)))
    notified: set[str] = set()
    for i in range(4):  # starts, then galera's and redis's promotes
        out = tmp_path / f"round{i}.xml"
        text = simulate(path, out)
        notified |= set(re.findall(r"Resource action: (\w+)\S*\s+notify on", text))
        path = out
    # rabbitmq-cluster forgets a stopped peer in its notify; redis follows its new master;
    # galera has no notify action (it would print its usage every time)
    assert notified == {"rabbitmq", "redis"}


@pytest.mark.parametrize("profile", list(Profile))
def test_haproxy_accepts_the_generated_config(profile: Profile, tmp_path: Path) -> None:
    need("haproxy")
    plan = make_plan(3, profile=profile)
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(
        haproxy_cfg(plan, socket=str(tmp_path / "s.sock"), pidfile=str(tmp_path / "pid"))
    )
    run = subprocess.run(
        ["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 0, run.stdout + run.stderr
    text = cfg.read_text()
    # every listen section binds its VIPs and lists every node's internal address
    assert "bind 172.17.1.10:5000" in text and "bind 10.0.0.101:5000" in text
    assert "bind 172.17.1.11:6379" in text
    for node in plan.nodes:
        assert f"server {node.name} {node.internal}:5000 {CHECK}" in text


def _upstream(edges: dict[str, list[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = list(edges.get(start, ()))
    while stack:
        key = stack.pop()
        if key not in seen:
            seen.add(key)
            stack.extend(edges.get(key, ()))
    return seen


def test_a_dead_galera_containers_demote_waits_for_no_fencing_as_in_pacemaker(
    tmp_path: Path,
) -> None:
    """The promoted instance in a dead container is demoted by implication (a pseudo
    action); Pacemaker orders its recovery after the clone's implied stop, not the demote
    after the guest's fencing (which waits for the container's stop)."""
    need("crm_simulate")
    plan = make_plan(3, profile=Profile.OPENSTACK)
    path = tmp_path / "cib.xml"
    path.write_text(online(plan, build_cib(plan)))
    for i in range(4):
        out = tmp_path / f"round{i}.xml"
        simulate(path, out)
        path = out
    failed, graph = tmp_path / "failed.xml", tmp_path / "graph.xml"
    run = subprocess.run(
        [
            *("crm_simulate", "-x", str(path), "-S", "-I", str(failed), "-G", str(graph)),
            *("-i", "galera-bundle-podman-0_monitor_60000@ctl0=7"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "Recover    galera:0" in run.stdout
    # Pacemaker's graph
    names: dict[str, str] = {}
    synapses = list(etree.parse(str(graph)).getroot().iter("synapse"))
    for syn in synapses:
        act = syn.find("action_set")[0]  # type: ignore[index]
        names[act.get("id")] = f"{act.get('operation_key')}@{act.get('on_node') or ''}"
    edges: dict[str, list[str]] = {}
    for syn in synapses:
        act = syn.find("action_set")[0]  # type: ignore[index]
        edges[names[act.get("id")]] = [names[t.get("id")] for t in syn.iterfind("inputs/trigger/*")]
    demote = "galera_demote_0@"  # a pseudo action: on no node
    assert demote in edges
    assert not [k for k in _upstream(edges, demote) if k.startswith("stonith")]
    # hakeeper's plan of the same CIB
    plan_ = schedule(parse_cib_file(failed))
    by = {a.id: a for a in plan_.actions}
    ours = {str(a.id): [str(i) for i in a.after] for a in plan_.actions}
    (mine,) = [
        a
        for a in plan_.actions
        if a.task == "demote"
        and a.node is not None
        and a.node.startswith("galera-bundle-0")
        and not a.optional
    ]
    assert mine.pseudo
    assert not [i for i in _upstream(ours, str(mine.id)) if by[int(i)].task == "stonith"]
