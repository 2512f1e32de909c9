"""Live migration (allow-migrate) against crm_simulate: moves, partial, dangling and failed
migrations in the history, groups and orderings that block a migration."""

from __future__ import annotations

import pytest

from . import crm
from .compare import compare_with_crm_simulate

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(not crm.available(), reason="needs crm_simulate (pacemaker-cli-utils)"),
]

NOW = 1_700_000_000
NODES = ("ctl0", "ctl1", "ctl2")


def _op(
    rsc: str, node: str, op: str, call: int, rc: int = 0, interval: int = 0, **extra: str
) -> str:
    """One lrm_rsc_op; extra holds migrate_source/migrate_target."""
    attrs = "".join(f' {k}="{v}"' for k, v in extra.items())
    target = 7 if op == "monitor" and interval == 0 else 0
    return (
        f'<lrm_rsc_op id="{rsc}_{op}_{call}" operation_key="{rsc}_{op}_{interval}" '
        f'operation="{op}" call-id="{call}" rc-code="{rc}" op-status="0" '
        f'interval="{interval}" on_node="{node}" transition-key="{call}:1:{target}:x" '
        f'transition-magic="0:{rc};{call}:1:{target}:x" '
        f'last-rc-change="{NOW - 100 + call}" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"'
        f"{attrs}/>"
    )


def _history(ops: dict[str, dict[str, list[str]]]) -> str:
    """node -> resource -> lrm_rsc_op elements, as a status section."""
    out = ""
    for nid, node in enumerate(NODES, 1):
        lrm = "".join(
            f'<lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="Dummy">'
            f"{''.join(entries)}</lrm_resource>"
            for rsc, entries in ops.get(node, {}).items()
        )
        out += (
            f'<node_state id="{nid}" uname="{node}" in_ccm="true" crmd="online" '
            f'join="member" expected="member"><lrm id="l{nid}"><lrm_resources>{lrm}'
            f"</lrm_resources></lrm></node_state>"
        )
    return out


def _cib(resources: str, constraints: str, status: str) -> str:
    return f"""<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1"
  num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1" execution-date="{NOW}">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o-s" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes>{"".join(f'<node id="{i}" uname="{n}"/>' for i, n in enumerate(NODES, 1))}</nodes>
    <resources>{resources}</resources>
    <constraints>{constraints}</constraints>
  </configuration>
  <status>{status}</status>
</cib>"""


def _prim(ident: str, migratable: bool = True, meta: str = "") -> str:
    flag = f'<nvpair id="{ident}-am" name="allow-migrate" value="true"/>' if migratable else ""
    return (
        f'<primitive id="{ident}" class="ocf" provider="heartbeat" type="Dummy">'
        f'<meta_attributes id="{ident}-meta">{flag}{meta}</meta_attributes>'
        f'<operations><op id="{ident}-mon" name="monitor" interval="10s"/></operations>'
        f"</primitive>"
    )


def _ban(rsc: str, node: str) -> str:
    return f'<rsc_location id="ban-{rsc}-{node}" rsc="{rsc}" node="{node}" score="-INFINITY"/>'


def _prefer(rsc: str, node: str) -> str:
    return f'<rsc_location id="pref-{rsc}-{node}" rsc="{rsc}" node="{node}" score="100"/>'


def _started(rsc: str, node: str, call: int = 5) -> list[str]:
    return [_op(rsc, node, "start", call)]


def test_a_migratable_vm_migrates_away_from_a_ban() -> None:
    status = _history({"ctl0": {"vm": _started("vm", "ctl0")}})
    compare_with_crm_simulate(_cib(_prim("vm"), _ban("vm", "ctl0"), status))


def test_unmanaged_or_failed_resources_do_not_migrate() -> None:
    failed = [*_started("vm2", "ctl0"), _op("vm2", "ctl0", "monitor", 9, rc=1, interval=10000)]
    status = _history({"ctl0": {"vm": _started("vm", "ctl0"), "vm2": failed}})
    resources = _prim("vm", meta='<nvpair id="vm-m" name="is-managed" value="false"/>')
    resources += _prim("vm2")
    constraints = _ban("vm", "ctl0") + _prefer("vm2", "ctl1")
    compare_with_crm_simulate(_cib(resources, constraints, status))


@pytest.mark.parametrize("probed", [True, False], ids=["target-probed", "target-unknown"])
@pytest.mark.parametrize("target_kept", [True, False], ids=["continue", "target-changed"])
def test_partial_migration_continues_only_to_the_same_target(
    target_kept: bool, probed: bool
) -> None:
    migrate_to = _op("vm", "ctl0", "migrate_to", 7, migrate_source="ctl0", migrate_target="ctl1")
    history = {"ctl0": {"vm": [*_started("vm", "ctl0"), migrate_to]}}
    if probed:
        history["ctl1"] = {"vm": [_op("vm", "ctl1", "monitor", 2, rc=7)]}
    constraints = _ban("vm", "ctl0") + ("" if target_kept else _ban("vm", "ctl1"))
    compare_with_crm_simulate(_cib(_prim("vm"), constraints, _history(history)))


def test_dangling_migration_stops_the_source() -> None:
    migrate_to = _op("vm", "ctl0", "migrate_to", 7, migrate_source="ctl0", migrate_target="ctl1")
    migrate_from = _op(
        "vm", "ctl1", "migrate_from", 8, migrate_source="ctl0", migrate_target="ctl1"
    )
    status = _history(
        {
            "ctl0": {"vm": [*_started("vm", "ctl0"), migrate_to]},
            "ctl1": {"vm": [migrate_from]},
        }
    )
    compare_with_crm_simulate(_cib(_prim("vm"), _prefer("vm", "ctl1"), status))


@pytest.mark.parametrize("failed", ["migrate_to", "migrate_from"])
def test_failed_migration_recovers(failed: str) -> None:
    to_rc = 1 if failed == "migrate_to" else 0
    migrate_to = _op(
        "vm", "ctl0", "migrate_to", 7, rc=to_rc, migrate_source="ctl0", migrate_target="ctl1"
    )
    ctl1 = [_op("vm", "ctl1", "monitor", 3, rc=7)]
    if failed == "migrate_from":
        ctl1.append(
            _op("vm", "ctl1", "migrate_from", 8, rc=1, migrate_source="ctl0", migrate_target="ctl1")
        )
    status = _history({"ctl0": {"vm": [*_started("vm", "ctl0"), migrate_to]}, "ctl1": {"vm": ctl1}})
    compare_with_crm_simulate(_cib(_prim("vm"), _prefer("vm", "ctl1"), status))


def test_group_members_migrate_unless_a_member_before_them_cannot() -> None:
    resources = (
        '<group id="g">' + _prim("a") + _prim("b", migratable=False) + _prim("c") + "</group>"
    )
    status = _history(
        {"ctl0": {r: _started(r, "ctl0", call) for r, call in (("a", 5), ("b", 6), ("c", 7))}}
    )
    compare_with_crm_simulate(_cib(resources, _ban("g", "ctl0"), status))


@pytest.mark.parametrize("first_migratable", [True, False])
@pytest.mark.parametrize("first_moves", [True, False])
def test_ordering_between_migratable_resources(first_migratable: bool, first_moves: bool) -> None:
    resources = _prim("db", migratable=first_migratable) + _prim("vm")
    status = _history(
        {"ctl0": {"db": _started("db", "ctl0", 5)}, "ctl1": {"vm": _started("vm", "ctl1", 6)}}
    )
    constraints = '<rsc_order id="db-then-vm" first="db" then="vm"/>' + _ban("vm", "ctl1")
    if first_moves:
        constraints += _ban("db", "ctl0")
    compare_with_crm_simulate(_cib(resources, constraints, status))


def test_migration_threshold_reached_moves_without_migrating() -> None:
    meta = '<nvpair id="vm-mt" name="migration-threshold" value="2"/>'
    failed = [*_started("vm", "ctl0"), _op("vm", "ctl0", "monitor", 9, rc=1, interval=10000)]
    status = _history({"ctl0": {"vm": failed}})
    status = status.replace(
        '<lrm id="l1">',
        '<transient_attributes id="t1"><instance_attributes id="ti1">'
        '<nvpair id="fc" name="fail-count-vm#monitor_10000" value="2"/>'
        f'<nvpair id="lf" name="last-failure-vm#monitor_10000" value="{NOW - 10}"/>'
        '</instance_attributes></transient_attributes><lrm id="l1">',
    )
    compare_with_crm_simulate(_cib(_prim("vm", meta=meta), "", status))
