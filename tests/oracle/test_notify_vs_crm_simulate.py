"""Clone notifications (notify=true) against the transition graph crm_simulate writes.

crm_simulate's summary shows no notifications, so these compare the graph: the notify
and notified actions (the clone's pseudo-actions and each instance's notify on a node)
that `crm_simulate -G` writes, with the required, runnable ones of `hakeeper simulate
--output json`.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from . import crm
from .compare import HAKEEPER
from .test_clones_vs_crm_simulate import ALL_UP, _cib, _state

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(not crm.available(), reason="needs crm_simulate (pacemaker-cli-utils)"),
]

NOTIFY = '<nvpair id="mc-n" name="notify" value="true"/>'
_GRAPH_ACTION = re.compile(
    r'<(?:rsc_op|pseudo_event) id="(\d+)" operation="(notify|notified)"[^>]*?>'
)


def _graph_notifications(graph: str) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    seen = set()
    for match in _GRAPH_ACTION.finditer(graph):
        if match.group(1) in seen:  # an action is listed again as another's input
            continue
        seen.add(match.group(1))
        node = re.search(r' on_node="([^"]*)"', match.group(0))
        found[(match.group(2), node.group(1) if node else "")] += 1
    return found


def _compare_notifications(xml: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "cib.xml"
        graph = Path(d) / "graph.xml"
        path.write_text(xml)
        want_run = crm.crm_simulate(path, "-S", "-G", str(graph), timeout=60)
        assert want_run.ok, want_run.error()
        want = _graph_notifications(graph.read_text())
        got_run = crm.run([HAKEEPER, "simulate", "--output", "json", str(path)], timeout=60)
        assert got_run.ok, got_run.error()
        actions = json.loads(got_run.stdout)["transition"]["actions"]
        got = Counter(
            (a["task"], a["node"] or "")
            for a in actions
            if a["task"] in ("notify", "notified") and a["required"] and a["runnable"]
        )
        assert got == want, f"graph only: {want - got}, hakeeper only: {got - want}\n{xml}"


def _down(status: str, name: str, nid: int) -> str:
    up = (
        f'<node_state id="{nid}" uname="{name}" in_ccm="true" crmd="online" join="member" '
        'expected="member"'
    )
    down = (
        f'<node_state id="{nid}" uname="{name}" in_ccm="false" crmd="offline" join="down" '
        'expected="down"'
    )
    assert up in status
    return status.replace(up, down)


def test_fresh_start_notifies_before_and_after() -> None:
    fresh = "".join(_state(i + 1, f"ctl{i}") for i in range(3))
    _compare_notifications(_cib(clone_meta=NOTIFY, status=fresh))


def test_nothing_to_notify_when_converged() -> None:
    _compare_notifications(_cib(clone_meta=NOTIFY, status=ALL_UP))


def test_standby_node_stops_its_instance_with_notifications() -> None:
    standby = (
        '<node id="2" uname="ctl1"><instance_attributes id="n2">'
        '<nvpair id="n2s" name="standby" value="on"/></instance_attributes></node>'
    )
    xml = _cib(clone_meta=NOTIFY, status=ALL_UP).replace('<node id="2" uname="ctl1"/>', standby)
    _compare_notifications(xml)


def test_node_gone_cleanly_has_nothing_to_notify() -> None:
    _compare_notifications(_cib(clone_meta=NOTIFY, status=_down(ALL_UP, "ctl2", 3)))


def test_returning_node_starts_with_notifications() -> None:
    status = _down(ALL_UP, "ctl2", 3).replace(
        '<node_state id="3" uname="ctl2" in_ccm="false" crmd="offline" join="down" expected="down"',
        '<node_state id="3" uname="ctl2" in_ccm="true" crmd="online" join="member" '
        'expected="member"',
    )
    status = re.sub(r'(<node_state id="3".*?<lrm_resources>).*?(</lrm_resources>)', r"\1\2", status)
    _compare_notifications(_cib(clone_meta=NOTIFY, status=status))
