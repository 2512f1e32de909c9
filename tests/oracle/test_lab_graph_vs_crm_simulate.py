"""The lab's openstack CIB driven to a converged cluster, every transition's graph
against the one crm_simulate writes.

The summaries agree on many more cases (pcmk-agreement); these compare what the node
daemon executes and the summary does not show: the recurring monitors each role gets and
the notifications around starts and promotions of the bundles' instances. Each step's
state is crm_simulate's own (`-S -O`: its transition executed), with the promotion
scores galera's agent gives between steps (none at first, the bootstrap node's, then
everyone's), so a monitor of the wrong role or a missing notification shows as a graph
difference at the step it happens.

Probes (hakeeper's node daemon probes by itself) and cancellations (the daemon ends a
resource's monitors when it changes role) are left out of both graphs.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from hakeeper.lab.cib import build_cib
from hakeeper.lab.plan import make_plan
from hakeeper.lab.support import online_cib

from . import crm
from .compare import HAKEEPER

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(not crm.available(), reason="needs crm_simulate (pacemaker-cli-utils)"),
]

Key = tuple[str, str | None, str | None, int]


def _crm_graph(graph: Path) -> Counter[Key]:
    found: Counter[Key] = Counter()
    root = etree.parse(str(graph)).getroot()
    for op in root.iterfind("synapse/action_set/rsc_op"):
        attrs = op.find("attributes")
        interval = int(attrs.get("CRM_meta_interval", "0")) if attrs is not None else 0
        task = op.get("operation") or ""
        if task == "cancel" or (task == "monitor" and not interval):
            continue
        prim = op.find("primitive")
        assert prim is not None
        found[(task, prim.get("long-id") or prim.get("id"), op.get("on_node"), interval)] += 1
    for event in root.iterfind("synapse/action_set/crm_event"):
        found[("stonith", None, event.get("on_node"), 0)] += 1
    return found


def _our_graph(stdout: str) -> Counter[Key]:
    found: Counter[Key] = Counter()
    for a in json.loads(stdout)["transition"]["actions"]:
        if a["pseudo"] or not a["runnable"] or not a["required"]:
            continue
        if a["task"] == "monitor" and not a["interval_ms"]:
            continue
        found[(a["task"], a["resource"], a["node"], a["interval_ms"])] += 1
    return found


def _set_attributes(xml: str, values: dict[str, dict[str, str | None]]) -> str:
    """The CIB with node attributes set (a value) or removed (None)."""
    root = etree.fromstring(xml.encode())
    for node, attrs in values.items():
        state = root.find(f"status/node_state[@uname='{node}']")
        assert state is not None, node
        block = state.find("transient_attributes/instance_attributes")
        assert block is not None, node
        for name, value in attrs.items():
            for old in block.findall(f"nvpair[@name='{name}']"):
                block.remove(old)
            if value is not None:
                etree.SubElement(
                    block, "nvpair", id=f"status-{node}-{name}", name=name, value=value
                )
    return etree.tostring(root).decode()


def _step(work: Path, n: int, xml: str) -> tuple[Counter[Key], Counter[Key], str]:
    """Both graphs of this state, and the state after crm_simulate executed its own."""
    cib, graph, after = work / f"cib{n}.xml", work / f"graph{n}.xml", work / f"cib{n + 1}.xml"
    cib.write_text(xml)
    want = crm.crm_simulate(cib, "-S", "-G", str(graph), "-O", str(after), timeout=120)
    assert want.ok, want.error()
    got = crm.run([HAKEEPER, "simulate", "--output", "json", str(cib)], timeout=120)
    assert got.ok, got.error()
    return _crm_graph(graph), _our_graph(got.stdout), after.read_text()


def test_openstack_profile_converges_with_the_graphs_pacemaker_writes() -> None:
    plan = make_plan()
    names = [n.name for n in plan.nodes]
    xml = online_cib(plan, build_cib(plan))
    # galera's agent: no score until every node told its last commit; then the bootstrap
    # node's; its promotion gives everyone theirs
    scores: list[dict[str, dict[str, str | None]]] = [
        {n: {"master-galera": None} for n in names},
        {},
        {names[0]: {"master-galera": "100"}},
        {n: {"master-galera": "100"} for n in names},
        {},
        {},
    ]
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        promoted_monitors = 0
        for n, values in enumerate(scores):
            want, got, xml_after = _step(work, n, _set_attributes(xml, values))
            assert got == want, (
                f"step {n}: graph only: {sorted(want - got, key=str)}, "
                f"hakeeper only: {sorted(got - want, key=str)}"
            )
            promoted_monitors += sum(
                c
                for (task, rsc, _, ms), c in want.items()
                if rsc and "galera" in rsc and ms == 10000
            )
            xml = xml_after
        # the steps did reach what they are about: every galera instance promoted, with
        # its Promoted-role monitor
        assert promoted_monitors == 3
        final = crm.crm_simulate(work / f"cib{len(scores)}.xml", "-S", timeout=120)
        assert final.ok, final.error()
        assert crm.transition_summary(final.stdout) == []
