"""rsc_ticket constraints (granted, revoked, standby; each loss-policy) against crm_simulate."""

from __future__ import annotations

import pytest

from . import crm
from .compare import compare_with_crm_simulate

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(not crm.available(), reason="needs crm_simulate (pacemaker-cli-utils)"),
]

NOW = 1_700_000_000


def _op(rsc: str, node: str, call: int = 3) -> str:
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="Dummy">'
        f'<lrm_rsc_op id="{rsc}_last_0" operation_key="{rsc}_start_0" operation="start" '
        f'call-id="{call}" rc-code="0" op-status="0" interval="0" on_node="{node}" '
        f'transition-key="1:1:0:x" last-rc-change="{NOW - 60}" '
        f'op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource>'
    )


def _cib(constraint: str, ticket_state: str, *, running: bool, fencing: bool = True) -> str:
    """Two controllers, a fencing device, a group (vip + api), a clone; both active if running."""
    states = ""
    for nid, name in ((1, "ctl0"), (2, "ctl1")):
        lrm = _op("fence-ipmi", name) if nid == 1 else ""
        if running:
            lrm += _op("worker:0" if nid == 1 else "worker:1", name, 4)
            if nid == 1:
                lrm += _op("vip", name, 5) + _op("api", name, 6)
        states += (
            f'<node_state id="{nid}" uname="{name}" in_ccm="true" crmd="online" '
            f'join="member" expected="member"><lrm id="l{nid}"><lrm_resources>{lrm}'
            f"</lrm_resources></lrm></node_state>"
        )
    tickets = f"<tickets>{ticket_state}</tickets>" if ticket_state else ""
    return f"""<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1"
  num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1" execution-date="{NOW}">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o-s" name="stonith-enabled" value="{"true" if fencing else "false"}"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="ctl0"/><node id="2" uname="ctl1"/></nodes>
    <resources>
      <primitive id="fence-ipmi" class="stonith" type="fence_dummy"/>
      <group id="api-group">
        <primitive id="vip" class="ocf" provider="heartbeat" type="Dummy"/>
        <primitive id="api" class="ocf" provider="heartbeat" type="Dummy"/>
      </group>
      <clone id="worker-clone">
        <meta_attributes id="wc-meta">
          <nvpair id="wc-u" name="globally-unique" value="true"/>
        </meta_attributes>
        <primitive id="worker" class="ocf" provider="heartbeat" type="Dummy"/>
      </clone>
    </resources>
    <constraints>{constraint}</constraints>
  </configuration>
  <status>{states}{tickets}</status>
</cib>"""


def _ticket(rsc: str, policy: str | None = None, role: str | None = None) -> str:
    extra = f' loss-policy="{policy}"' if policy else ""
    extra += f' rsc-role="{role}"' if role else ""
    return f'<rsc_ticket id="t-{rsc}" rsc="{rsc}" ticket="site-a"{extra}/>'


GRANTED = '<ticket_state id="site-a" granted="true"/>'
REVOKED = '<ticket_state id="site-a" granted="false"/>'
STANDBY = '<ticket_state id="site-a" granted="true" standby="true"/>'


@pytest.mark.parametrize("state", ["", GRANTED, REVOKED, STANDBY], ids=["none", "g", "r", "sb"])
@pytest.mark.parametrize("running", [False, True], ids=["stopped", "running"])
def test_group_and_clone_follow_the_ticket(state: str, running: bool) -> None:
    constraints = _ticket("api-group") + _ticket("worker-clone")
    compare_with_crm_simulate(_cib(constraints, state, running=running))


@pytest.mark.parametrize("policy", ["stop", "demote", "fence", "freeze"])
@pytest.mark.parametrize("state", [REVOKED, STANDBY], ids=["revoked", "standby"])
def test_loss_policy_when_the_ticket_goes(policy: str, state: str) -> None:
    constraints = _ticket("api-group", policy, "Started") + _ticket("worker-clone", policy)
    compare_with_crm_simulate(_cib(constraints, state, running=True))


def test_fence_policy_without_fencing_stops_instead() -> None:
    constraints = _ticket("api-group", "fence")
    compare_with_crm_simulate(_cib(constraints, REVOKED, running=True, fencing=False))


def test_ticket_on_a_resource_set() -> None:
    constraints = (
        '<rsc_ticket id="t-set" ticket="site-a" loss-policy="freeze">'
        '<resource_set id="t-set-0"><resource_ref id="vip"/><resource_ref id="api"/>'
        "</resource_set></rsc_ticket>"
    )
    compare_with_crm_simulate(_cib(constraints, REVOKED, running=True))
