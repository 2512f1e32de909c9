"""Anonymous and unique clones on a 3-controller cluster, against Pacemaker's crm_simulate."""

from __future__ import annotations

import pytest

from . import crm
from .compare import compare_with_crm_simulate

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(not crm.available(), reason="needs crm_simulate (pacemaker-cli-utils)"),
]

NOW = 1_700_000_000


def _cib(*, clone_meta: str = "", status: str = "", extra: str = "", nodes: str = "") -> str:
    return f"""<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1"
  num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1" execution-date="{NOW}">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o-s" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="ctl0"/><node id="2" uname="ctl1"/><node id="3" uname="ctl2"/>
    {nodes}</nodes>
    <resources>
      <clone id="memcached-clone">
        <meta_attributes id="mc-meta">{clone_meta}</meta_attributes>
        <primitive id="memcached" class="ocf" provider="heartbeat" type="Dummy"/>
      </clone>
      <primitive id="ip-10.0.0.5" class="ocf" provider="heartbeat" type="Dummy"/>
    </resources>
    <constraints>
      <rsc_colocation id="ip-with-mc" rsc="ip-10.0.0.5" with-rsc="memcached-clone"
        score="INFINITY"/>
      <rsc_order id="mc-then-ip" first="memcached-clone" then="ip-10.0.0.5"/>
      {extra}
    </constraints>
  </configuration>
  <status>{status}</status>
</cib>"""


def _state(nid: int, name: str, lrm: str = "", attrs: str = "", up: bool = True) -> str:
    state = (
        'in_ccm="true" crmd="online" join="member" expected="member"'
        if up
        else 'in_ccm="false" crmd="offline" join="down" expected="member"'
    )
    return (
        f'<node_state id="{nid}" uname="{name}" {state}>'
        f'<transient_attributes id="t{nid}"><instance_attributes id="ti{nid}">{attrs}'
        f"</instance_attributes></transient_attributes>"
        f'<lrm id="l{nid}"><lrm_resources>{lrm}</lrm_resources></lrm></node_state>'
    )


def _running(rsc: str, node: str, rc: int = 0, op: str = "start") -> str:
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="Dummy">'
        f'<lrm_rsc_op id="{rsc}_last_0" operation_key="{rsc}_{op}_0" operation="{op}" '
        f'call-id="3" rc-code="{rc}" op-status="0" interval="0" on_node="{node}" '
        f'transition-key="1:1:{0 if op != "monitor" else 7}:x" '
        f'last-rc-change="{NOW - 60}" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>'
        f"</lrm_resource>"
    )


ALL_UP = "".join(
    _state(
        i + 1,
        f"ctl{i}",
        _running("memcached", f"ctl{i}") + (_running("ip-10.0.0.5", "ctl0") if i == 0 else ""),
    )
    for i in range(3)
)


def test_fresh_clone_starts_everywhere_and_the_vip_follows() -> None:
    status = "".join(_state(i + 1, f"ctl{i}") for i in range(3))
    compare_with_crm_simulate(_cib(status=status))


def test_converged_clone_does_nothing() -> None:
    compare_with_crm_simulate(_cib(status=ALL_UP))


def test_standby_node_loses_its_instance_and_the_vip_moves() -> None:
    status = ALL_UP.replace(
        '<instance_attributes id="ti1">',
        '<instance_attributes id="ti1"><nvpair id="sb" name="standby" value="on"/>',
    )
    compare_with_crm_simulate(_cib(status=status))


def test_clone_max_two_keeps_one_node_empty() -> None:
    meta = '<nvpair id="mc-max" name="clone-max" value="2"/>'
    status = "".join(_state(i + 1, f"ctl{i}") for i in range(3))
    compare_with_crm_simulate(_cib(clone_meta=meta, status=status))


def test_failed_instance_is_recovered_in_place() -> None:
    status = ALL_UP.replace(_running("memcached", "ctl1"), _running("memcached", "ctl1", rc=1))
    compare_with_crm_simulate(_cib(status=status))


def test_clone_min_blocks_the_vip_until_enough_instances_run() -> None:
    meta = '<nvpair id="mc-min" name="clone-min" value="3"/>'
    status = ALL_UP.replace(
        '<instance_attributes id="ti3">',
        '<instance_attributes id="ti3"><nvpair id="sb3" name="standby" value="on"/>',
    )
    compare_with_crm_simulate(_cib(clone_meta=meta, status=status))


def test_globally_unique_clone_places_instances_by_count() -> None:
    meta = (
        '<nvpair id="mc-u" name="globally-unique" value="true"/>'
        '<nvpair id="mc-max" name="clone-max" value="4"/>'
        '<nvpair id="mc-nmax" name="clone-node-max" value="2"/>'
    )
    status = "".join(_state(i + 1, f"ctl{i}") for i in range(3))
    compare_with_crm_simulate(_cib(clone_meta=meta, status=status))
