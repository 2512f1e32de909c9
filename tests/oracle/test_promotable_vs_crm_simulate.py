"""Promotable clones (redis, galera, a VIP on the promoted node) against crm_simulate."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from . import crm
from .compare import HAKEEPER, compare_with_crm_simulate

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(not crm.available(), reason="needs crm_simulate (pacemaker-cli-utils)"),
]

NOW = 1_700_000_000
NODES = ("ctl0", "ctl1", "ctl2")


def _cib(
    *,
    clone_meta: str = "",
    status: str = "",
    constraints: str = "",
    props: str = "",
    ops: str = "",
    extra_resources: str = "",
    legacy: bool = False,
    fencing: bool = False,
    quorum: bool = True,
) -> str:
    """A 3-controller cluster with a promotable redis clone and a VIP beside it."""
    if legacy:
        clone_open = '<master id="redis-master">'
        clone_close = "</master>"
        promotable = ""
    else:
        clone_open = '<clone id="redis-master">'
        clone_close = "</clone>"
        promotable = '<nvpair id="rm-p" name="promotable" value="true"/>'
    stonith = '<primitive id="fence" class="stonith" type="fence_dummy"/>' if fencing else ""
    return f"""<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1"
  num_updates="0" admin_epoch="0" have-quorum="{1 if quorum else 0}" dc-uuid="1"
  execution-date="{NOW}">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o-s" name="stonith-enabled" value="{"true" if fencing else "false"}"/>
      {props}
    </cluster_property_set></crm_config>
    <nodes>{"".join(f'<node id="{i + 1}" uname="{n}"/>' for i, n in enumerate(NODES))}</nodes>
    <resources>
      {stonith}
      {clone_open}
        <meta_attributes id="rm-meta">{promotable}{clone_meta}</meta_attributes>
        <primitive id="redis" class="ocf" provider="pacemaker" type="Stateful">
          <operations>{ops}</operations>
        </primitive>
      {clone_close}
      <primitive id="ip-10.0.0.9" class="ocf" provider="heartbeat" type="Dummy"/>
      {extra_resources}
    </resources>
    <constraints>{constraints}</constraints>
  </configuration>
  <status>{status}</status>
</cib>"""


def _op(rsc: str, node: str, op: str, rc: int, call: int, interval: int = 0) -> str:
    target = 8 if rc in (8, 9) else 0
    key = f"{rsc}_{op}_{interval}"
    return (
        f'<lrm_rsc_op id="{rsc}_{op}_{interval}_{call}" operation_key="{key}" operation="{op}" '
        f'call-id="{call}" rc-code="{rc}" op-status="0" interval="{interval}" '
        f'on_node="{node}" transition-key="1:1:{target}:x" last-rc-change="{NOW - 60}" '
        f'op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>'
    )


def _redis(node: str, role: str, *, failed: bool = False) -> str:
    """History of redis on a node: 'promoted', 'unpromoted' or 'stopped'."""
    ops = ""
    if role == "stopped":
        ops = _op("redis", node, "monitor", 7, 1)
    else:
        ops = _op("redis", node, "start", 0, 2)
        if role == "promoted":
            ops += _op("redis", node, "promote", 0, 3)
            ops += _op("redis", node, "monitor", 9 if failed else 8, 4, 10000)
        else:
            ops += _op("redis", node, "monitor", 1 if failed else 0, 4, 11000)
    return (
        f'<lrm_resource id="redis" class="ocf" provider="pacemaker" type="Stateful">{ops}'
        f"</lrm_resource>"
    )


def _vip(node: str) -> str:
    return (
        '<lrm_resource id="ip-10.0.0.9" class="ocf" provider="heartbeat" type="Dummy">'
        + _op("ip-10.0.0.9", node, "start", 0, 5)
        + "</lrm_resource>"
    )


def _node(index: int, lrm: str = "", scores: dict[str, int] | None = None, up: bool = True) -> str:
    name = NODES[index]
    state = (
        'in_ccm="true" crmd="online" join="member" expected="member"'
        if up
        else 'in_ccm="false" crmd="offline" join="down" expected="member"'
    )
    attrs = "".join(
        f'<nvpair id="a{index}-{k}" name="{k}" value="{v}"/>' for k, v in (scores or {}).items()
    )
    return (
        f'<node_state id="{index + 1}" uname="{name}" {state}>'
        f'<transient_attributes id="t{index}"><instance_attributes id="ti{index}">{attrs}'
        f"</instance_attributes></transient_attributes>"
        f'<lrm id="l{index}"><lrm_resources>{lrm}</lrm_resources></lrm></node_state>'
    )


OPS = (
    '<op id="redis-mon-p" name="monitor" interval="10s" role="Promoted"/>'
    '<op id="redis-mon-u" name="monitor" interval="11s" role="Unpromoted"/>'
)
VIP_ON_PROMOTED = (
    '<rsc_colocation id="vip-with-promoted" rsc="ip-10.0.0.9" with-rsc="redis-master"'
    ' with-rsc-role="Promoted" score="INFINITY"/>'
    '<rsc_order id="promote-then-vip" first="redis-master" first-action="promote"'
    ' then="ip-10.0.0.9" then-action="start"/>'
)


def _redis_cluster(roles: tuple[str, str, str], scores: tuple[int, int, int], **kw: object) -> str:
    vip_on = kw.pop("vip_on", None)
    up = kw.pop("up", (True, True, True))
    failed = kw.pop("failed", None)
    assert isinstance(up, tuple)
    status = "".join(
        _node(
            i,
            _redis(NODES[i], roles[i], failed=failed == i)
            + (_vip(NODES[i]) if vip_on == i else ""),
            {"master-redis": scores[i]},
            up=bool(up[i]),
        )
        for i in range(3)
    )
    return _cib(status=status, **kw)  # type: ignore[arg-type]


def test_fresh_cluster_starts_everywhere_and_promotes_the_best_score() -> None:
    status = "".join(_node(i, "", {"master-redis": 5 * (i + 1)}) for i in range(3))
    compare_with_crm_simulate(_cib(status=status, ops=OPS, constraints=VIP_ON_PROMOTED))


def test_fresh_cluster_without_scores_promotes_nothing() -> None:
    compare_with_crm_simulate(_cib(status="".join(_node(i) for i in range(3)), ops=OPS))


def test_redis_converged_one_promoted_stays() -> None:
    xml = _redis_cluster(
        ("promoted", "unpromoted", "unpromoted"),
        (10, 5, 5),
        vip_on=0,
        ops=OPS,
        constraints=VIP_ON_PROMOTED,
    )
    compare_with_crm_simulate(xml)


def test_higher_score_elsewhere_moves_the_promotion_and_the_vip() -> None:
    xml = _redis_cluster(
        ("promoted", "unpromoted", "unpromoted"),
        (1, 100, 5),
        vip_on=0,
        ops=OPS,
        constraints=VIP_ON_PROMOTED,
    )
    compare_with_crm_simulate(xml)


def test_stickiness_keeps_the_promoted_instance() -> None:
    xml = _redis_cluster(
        ("promoted", "unpromoted", "unpromoted"),
        (10, 12, 5),
        clone_meta='<nvpair id="rm-st" name="resource-stickiness" value="100"/>',
        ops=OPS,
    )
    compare_with_crm_simulate(xml)


def test_promoted_node_lost_promotes_another_and_moves_the_vip() -> None:
    xml = _redis_cluster(
        ("promoted", "unpromoted", "unpromoted"),
        (10, 5, 7),
        vip_on=0,
        up=(False, True, True),
        ops=OPS,
        constraints=VIP_ON_PROMOTED,
        fencing=True,
    )
    compare_with_crm_simulate(xml)


def test_promoted_node_in_standby_demotes_and_promotes_elsewhere() -> None:
    xml = _redis_cluster(
        ("promoted", "unpromoted", "unpromoted"),
        (10, 5, 7),
        vip_on=0,
        ops=OPS,
        constraints=VIP_ON_PROMOTED
        + '<rsc_location id="ban-ctl0" rsc="redis-master" node="ctl0" score="-INFINITY"/>',
    )
    compare_with_crm_simulate(xml)


def test_galera_like_all_promoted() -> None:
    xml = _redis_cluster(
        ("promoted", "unpromoted", "stopped"),
        (100, 100, 100),
        clone_meta='<nvpair id="rm-pm" name="promoted-max" value="3"/>',
        ops=OPS,
    )
    compare_with_crm_simulate(xml)


def test_legacy_master_tag_and_role_names() -> None:
    xml = _redis_cluster(
        ("unpromoted", "unpromoted", "unpromoted"),
        (3, 2, 1),
        clone_meta='<nvpair id="rm-mm" name="master-max" value="2"/>',
        legacy=True,
        ops='<op id="m1" name="monitor" interval="10s" role="Master"/>'
        '<op id="m2" name="monitor" interval="11s" role="Slave"/>',
        constraints='<rsc_colocation id="c" rsc="ip-10.0.0.9" with-rsc="redis-master"'
        ' with-rsc-role="Master" score="INFINITY"/>',
    )
    compare_with_crm_simulate(xml)


def test_failed_promoted_monitor_is_recovered() -> None:
    xml = _redis_cluster(("promoted", "unpromoted", "unpromoted"), (10, 5, 7), failed=0, ops=OPS)
    compare_with_crm_simulate(xml)


def test_on_fail_demote_only_demotes() -> None:
    ops = (
        '<op id="redis-mon-p" name="monitor" interval="10s" role="Promoted" on-fail="demote"/>'
        '<op id="redis-mon-u" name="monitor" interval="11s" role="Unpromoted"/>'
    )
    xml = _redis_cluster(("promoted", "unpromoted", "unpromoted"), (10, 5, 7), failed=0, ops=ops)
    compare_with_crm_simulate(xml)


def test_no_quorum_policy_demote() -> None:
    xml = _redis_cluster(
        ("promoted", "unpromoted", "unpromoted"),
        (10, 5, 7),
        up=(True, False, False),
        quorum=False,
        props='<nvpair id="o-q" name="no-quorum-policy" value="demote"/>',
        ops=OPS,
    )
    compare_with_crm_simulate(xml)


def test_target_role_unpromoted_demotes() -> None:
    xml = _redis_cluster(
        ("promoted", "unpromoted", "unpromoted"),
        (10, 5, 7),
        clone_meta='<nvpair id="rm-tr" name="target-role" value="Unpromoted"/>',
        ops=OPS,
    )
    compare_with_crm_simulate(xml)


def test_location_for_the_promoted_role_picks_the_node() -> None:
    xml = _redis_cluster(
        ("promoted", "unpromoted", "unpromoted"),
        (10, 10, 10),
        ops=OPS,
        constraints='<rsc_location id="prefer" rsc="redis-master" role="Promoted"'
        ' node="ctl2" score="50"/>',
    )
    compare_with_crm_simulate(xml)


def test_vip_preference_pulls_the_promotion() -> None:
    xml = _redis_cluster(
        ("unpromoted", "unpromoted", "unpromoted"),
        (5, 5, 5),
        ops=OPS,
        constraints=VIP_ON_PROMOTED
        + '<rsc_location id="vip-pref" rsc="ip-10.0.0.9" node="ctl1" score="100"/>',
    )
    compare_with_crm_simulate(xml)


def test_promoted_with_promoted_colocation_between_clones() -> None:
    other = (
        '<clone id="ovn-master"><meta_attributes id="om"><nvpair id="om-p" name="promotable"'
        ' value="true"/></meta_attributes>'
        '<primitive id="ovn" class="ocf" provider="pacemaker" type="Stateful"/></clone>'
    )
    xml = _redis_cluster(
        ("promoted", "unpromoted", "unpromoted"),
        (10, 5, 7),
        ops=OPS,
        extra_resources=other,
        constraints='<rsc_colocation id="ovn-with-redis" rsc="ovn-master" rsc-role="Promoted"'
        ' with-rsc="redis-master" with-rsc-role="Promoted" score="INFINITY"/>'
        '<rsc_order id="redis-then-ovn" first="redis-master" first-action="promote"'
        ' then="ovn-master" then-action="promote"/>',
    )
    compare_with_crm_simulate(xml)


# --- status output ------------------------------------------------------------------------


def _block(text: str, start: str, end: str | None) -> list[str]:
    lines = text.splitlines()
    begin = lines.index(start) + 1
    stop = lines.index(end, begin) if end is not None else len(lines)
    return [" ".join(line.split()) for line in lines[begin:stop] if line.strip()]


@pytest.mark.parametrize(
    "roles", [("promoted", "unpromoted", "stopped"), ("unpromoted", "unpromoted", "unpromoted")]
)
def test_status_lists_promoted_and_unpromoted_as_crm_simulate(
    roles: tuple[str, str, str],
) -> None:
    xml = _redis_cluster(roles, (10, 5, 7), ops=OPS)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "cib.xml"
        path.write_text(xml)
        want = crm.crm_simulate(path, "-S", timeout=60).stdout
        got = crm.run([HAKEEPER, "simulate", str(path)], timeout=60).stdout
    for start, end in (
        ("Current cluster status:", "Transition Summary:"),
        ("Revised Cluster Status:", None),
    ):
        assert _block(got, start, end) == _block(want, start, end)
