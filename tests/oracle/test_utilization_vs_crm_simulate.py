"""Utilization and placement-strategy against crm_simulate: node capacity, balanced and
minimal node choice, assignment order by priority then scores, groups and colocations
whose members' utilization adds up."""

from __future__ import annotations

import pytest

from . import crm
from .compare import compare_with_crm_simulate

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(not crm.available(), reason="needs crm_simulate (pacemaker-cli-utils)"),
]

NOW = 1_700_000_000
STRATEGIES = ["default", "utilization", "minimal", "balanced"]


def _util(owner: str, values: dict[str, int]) -> str:
    pairs = "".join(
        f'<nvpair id="{owner}-u-{k}" name="{k}" value="{v}"/>' for k, v in values.items()
    )
    return f'<utilization id="{owner}-u">{pairs}</utilization>'


def _prim(ident: str, cpu: int, mem: int, priority: int | None = None) -> str:
    meta = (
        f'<meta_attributes id="{ident}-m"><nvpair id="{ident}-p" name="priority" '
        f'value="{priority}"/></meta_attributes>'
        if priority is not None
        else ""
    )
    return (
        f'<primitive id="{ident}" class="ocf" provider="heartbeat" type="Dummy">{meta}'
        f"{_util(ident, {'cpu': cpu, 'mem': mem})}</primitive>"
    )


def _running(rsc: str, node: str, call: int) -> str:
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="Dummy">'
        f'<lrm_rsc_op id="{rsc}_last_0" operation_key="{rsc}_start_0" operation="start" '
        f'call-id="{call}" rc-code="0" op-status="0" interval="0" on_node="{node}" '
        f'transition-key="{call}:1:0:x" last-rc-change="{NOW - 60}" '
        f'op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource>'
    )


def _cib(
    strategy: str,
    resources: str,
    constraints: str = "",
    running: dict[str, list[str]] | None = None,
    capacity: tuple[dict[str, int], ...] = (
        {"cpu": 4, "mem": 8},
        {"cpu": 8, "mem": 4},
        {"cpu": 6, "mem": 6},
    ),
) -> str:
    nodes = "".join(
        f'<node id="{i}" uname="ctl{i - 1}">{_util(f"n{i}", cap)}</node>'
        for i, cap in enumerate(capacity, 1)
    )
    states = ""
    for i in range(1, len(capacity) + 1):
        name = f"ctl{i - 1}"
        lrm = "".join(
            _running(rsc, name, call) for call, rsc in enumerate((running or {}).get(name, []), 3)
        )
        states += (
            f'<node_state id="{i}" uname="{name}" in_ccm="true" crmd="online" '
            f'join="member" expected="member"><lrm id="l{i}"><lrm_resources>{lrm}'
            f"</lrm_resources></lrm></node_state>"
        )
    return f"""<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1"
  num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1" execution-date="{NOW}">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o-s" name="stonith-enabled" value="false"/>
      <nvpair id="o-p" name="placement-strategy" value="{strategy}"/>
    </cluster_property_set></crm_config>
    <nodes>{nodes}</nodes>
    <resources>{resources}</resources>
    <constraints>{constraints}</constraints>
  </configuration>
  <status>{states}</status>
</cib>"""


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_fresh_resources_fill_the_nodes(strategy: str) -> None:
    resources = "".join(
        _prim(f"r{i}", cpu, mem)
        for i, (cpu, mem) in enumerate([(2, 2), (3, 1), (1, 3), (2, 2), (4, 1), (1, 1), (3, 3)])
    )
    compare_with_crm_simulate(_cib(strategy, resources))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_priority_decides_who_gets_the_last_capacity(strategy: str) -> None:
    resources = _prim("small", 2, 2) + _prim("big", 6, 4, priority=10) + _prim("mid", 4, 4, 5)
    compare_with_crm_simulate(
        _cib(strategy, resources, capacity=({"cpu": 6, "mem": 6}, {"cpu": 4, "mem": 4}))
    )


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_running_resources_keep_their_capacity_and_overfull_ones_stop(strategy: str) -> None:
    resources = _prim("a", 3, 3) + _prim("b", 3, 3) + _prim("c", 2, 2) + _prim("d", 5, 5)
    running = {"ctl0": ["a", "b"], "ctl1": ["c"]}
    compare_with_crm_simulate(_cib(strategy, resources, running=running))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_group_and_colocated_resources_need_room_together(strategy: str) -> None:
    resources = (
        '<group id="g">'
        + _prim("g1", 2, 2)
        + _prim("g2", 3, 3)
        + "</group>"
        + _prim("solo", 3, 3)
        + _prim("follower", 2, 1)
    )
    constraints = (
        '<rsc_colocation id="f-with-solo" rsc="follower" with-rsc="solo" score="INFINITY"/>'
        '<rsc_location id="solo-pref" rsc="solo" node="ctl0" score="50"/>'
    )
    compare_with_crm_simulate(_cib(strategy, resources, constraints))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_clone_instances_take_capacity_on_every_node(strategy: str) -> None:
    resources = (
        '<clone id="agent-clone"><primitive id="agent" class="ocf" provider="heartbeat" '
        f'type="Dummy">{_util("agent", {"cpu": 3, "mem": 2})}</primitive></clone>'
        + _prim("vm", 3, 3)
    )
    compare_with_crm_simulate(_cib(strategy, resources))
