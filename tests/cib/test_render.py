"""render_cib / write_cib: parse -> render -> parse gives the same model."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hakeeper.cib.parse import parse_cib_file, parse_cib_text
from hakeeper.cib.render import render_cib, write_cib
from hakeeper.cli.main import main
from hakeeper.model.cib import Cib
from hakeeper.reports import CommandError, codes

EXAMPLES = Path("/work/shared/examples")
CRM_VERIFY = Path("/usr/sbin/crm_verify")


def _example_files() -> list[Path]:
    if not EXAMPLES.is_dir():
        return []
    return sorted(
        [
            *EXAMPLES.glob("*.cib.xml"),
            *EXAMPLES.glob("pacemaker-outputs/*.cib.xml"),
            *EXAMPLES.glob("pacemaker-outputs/live-cib-*.xml"),
        ]
    )


_needs_examples = pytest.mark.skipif(
    not EXAMPLES.is_dir(), reason=f"{EXAMPLES} is absent (shared examples not mounted)"
)
_example_params = [pytest.param(p, id=str(p.relative_to(EXAMPLES))) for p in _example_files()]
if not _example_params:
    _example_params = [
        pytest.param(
            None, id="no-examples", marks=pytest.mark.skip(reason=f"no CIB files in {EXAMPLES}")
        )
    ]


def strip(value: Any) -> Any:
    """The value with every `line` and `source` field set to None, recursively."""
    if isinstance(value, tuple):
        return tuple(strip(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if f.name in ("line", "source"):
                changes[f.name] = None
            else:
                changes[f.name] = strip(getattr(value, f.name))
        return dataclasses.replace(value, **changes)
    return value


def round_trip(cib: Cib) -> Cib:
    return parse_cib_text(render_cib(cib), "<rendered>")


def assert_round_trip(cib: Cib) -> None:
    again = round_trip(cib)
    assert strip(again) == strip(cib)
    # Rendering is stable: the second rendering is byte-identical.
    assert render_cib(again) == render_cib(cib)


# --- inline CIBs ----------------------------------------------------------------------------

MINIMAL = """<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="5"
  num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="opt-stonith" name="stonith-enabled" value="false"/>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="1" uname="node1"/>
      <node id="2" uname="node2"/>
    </nodes>
    <resources>
      <primitive id="dummy" class="ocf" provider="heartbeat" type="Dummy">
        <operations>
          <op id="dummy-monitor-10s" name="monitor" interval="10s" timeout="20s"/>
        </operations>
      </primitive>
    </resources>
    <constraints>
      <rsc_location id="loc-dummy" rsc="dummy" node="node1" score="100"/>
    </constraints>
  </configuration>
  <status/>
</cib>
"""

FULL = """<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="12"
  num_updates="3" admin_epoch="0" have-quorum="true" dc-uuid="1" execution-date="1700000000">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="opt-stonith" name="stonith-enabled" value="true"/>
        <nvpair id="opt-noval" name="placement-strategy"/>
      </cluster_property_set>
      <cluster_property_set id="later-options" score="10">
        <rule id="later-rule" boolean-op="or">
          <date_expression id="later-date" operation="date_spec">
            <date_spec id="later-spec" hours="9-16" weekdays="1-5"/>
          </date_expression>
          <date_expression id="later-dur" operation="in_range" start="2024-01-01">
            <duration id="later-dur-d" months="1"/>
          </date_expression>
        </rule>
        <nvpair id="later-opt" name="maintenance-mode" value="false"/>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="1" uname="node1" type="member">
        <instance_attributes id="node1-attrs">
          <nvpair id="node1-site" name="site" value="a"/>
        </instance_attributes>
        <utilization id="node1-util">
          <nvpair id="node1-cpu" name="cpu" value="8"/>
        </utilization>
      </node>
      <node id="2"/>
      <node id="remote1" uname="remote1" type="remote"/>
    </nodes>
    <resources>
      <primitive id="fence1" class="stonith" type="fence_dummy" description="a fence">
        <instance_attributes id="fence1-params">
          <nvpair id="fence1-hosts" name="pcmk_host_list" value="node1 node2"/>
        </instance_attributes>
      </primitive>
      <primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">
        <instance_attributes id="vip-params">
          <nvpair id="vip-ip" name="ip" value="192.0.2.10"/>
          <nvpair id-ref="node1-site"/>
        </instance_attributes>
        <meta_attributes id="vip-meta">
          <nvpair id="vip-target" name="target-role" value="Started"/>
        </meta_attributes>
        <utilization id="vip-util">
          <nvpair id="vip-cpu" name="cpu" value="1"/>
        </utilization>
        <operations>
          <op id="vip-start" name="start" interval="0s" timeout="20s" on-fail="restart"/>
          <op id="vip-monitor" name="monitor" interval="PT10S" role="Started" enabled="false">
            <meta_attributes id="vip-monitor-meta">
              <nvpair id="vip-monitor-depth" name="OCF_CHECK_LEVEL" value="10"/>
            </meta_attributes>
          </op>
        </operations>
      </primitive>
      <group id="grp" description="a group">
        <meta_attributes id="grp-meta">
          <nvpair id="grp-ordered" name="ordered" value="true"/>
        </meta_attributes>
        <primitive id="g1" class="systemd" type="httpd"/>
        <primitive id="g2" class="lsb" type="cron">
          <meta_attributes id-ref="vip-meta"/>
        </primitive>
      </group>
      <clone id="grp-clone">
        <meta_attributes id="grp-clone-meta">
          <nvpair id="grp-clone-max" name="clone-max" value="2"/>
        </meta_attributes>
        <group id="cgrp">
          <primitive id="c1" class="ocf" provider="pacemaker" type="Stateful"/>
        </group>
      </clone>
      <master id="ms">
        <meta_attributes id="ms-meta">
          <nvpair id="ms-promoted-max" name="promoted-max" value="1"/>
        </meta_attributes>
        <primitive id="stateful" class="ocf" provider="pacemaker" type="Stateful"/>
      </master>
      <bundle id="web-bundle" description="containers">
        <podman image="localhost/web:latest" replicas="2" run-command="/bin/true"
                network="host" options="--log-driver=journald"/>
        <network ip-range-start="192.0.2.100" control-port="3121" host-interface="eth0"
                 host-netmask="24" add-host="false">
          <port-mapping id="web-port" port="80"/>
          <port-mapping id="web-range" range="9000-9010"/>
        </network>
        <storage>
          <storage-mapping id="web-log" source-dir="/var/log/web" target-dir="/var/log"
                           options="rw"/>
          <storage-mapping id="web-conf" source-dir-root="/etc/web" target-dir="/etc/web"/>
        </storage>
        <meta_attributes id="web-bundle-meta">
          <nvpair id="web-bundle-managed" name="is-managed" value="true"/>
        </meta_attributes>
        <primitive id="web" class="ocf" provider="heartbeat" type="apache"/>
      </bundle>
      <bundle id="empty-bundle">
        <docker image="busybox"/>
      </bundle>
    </resources>
    <constraints>
      <rsc_location id="loc-node" rsc="vip" node="node1" score="INFINITY" role="Started"/>
      <rsc_location id="loc-rule" rsc="grp" resource-discovery="exclusive">
        <rule id="loc-rule-r" score="-INFINITY" boolean-op="and">
          <expression id="loc-rule-e1" attribute="site" operation="ne" value="a"
                      type="string"/>
          <expression id="loc-rule-e2" attribute="#uname" operation="defined"/>
          <expression id="loc-rule-e3" attribute="weight" operation="gt" value="site"
                      value-source="param" type="number"/>
          <rule id="loc-rule-nested" boolean-op="or">
            <expression id="loc-rule-n1" attribute="site" operation="eq" value="b"/>
          </rule>
        </rule>
        <rule id="loc-rule-s" score-attribute="weight" role="Promoted">
          <expression id="loc-rule-s1" attribute="weight" operation="defined"/>
        </rule>
      </rsc_location>
      <rsc_location id="loc-pattern" rsc-pattern="^g[0-9]$" score="-10">
        <rule id-ref="loc-rule-s"/>
      </rsc_location>
      <rsc_location id="loc-set" node="node2" score="50">
        <resource_set id="loc-set-s">
          <resource_ref id="g1"/>
          <resource_ref id="g2"/>
        </resource_set>
      </rsc_location>
      <rsc_colocation id="col" rsc="vip" with-rsc="ms" score="INFINITY" rsc-role="Started"
                      with-rsc-role="Promoted" node-attribute="site" influence="false"/>
      <rsc_colocation id="col-set" score="100">
        <resource_set id="col-set-1" sequential="false" role="Started">
          <resource_ref id="vip"/>
        </resource_set>
        <resource_set id="col-set-2" sequential="true" score="5">
          <resource_ref id="grp"/>
        </resource_set>
      </rsc_colocation>
      <rsc_order id="ord" first="ms" then="vip" first-action="promote" then-action="start"
                 kind="Mandatory" symmetrical="false"/>
      <rsc_order id="ord-score" first="vip" then="grp" score="0" require-all="false"/>
      <rsc_order id="ord-set" kind="Optional">
        <resource_set id="ord-set-1" require-all="false" ordered="true" action="start"
                      kind="Serialize">
          <resource_ref id="g1"/>
        </resource_set>
        <resource_set id-ref="loc-set-s"/>
      </rsc_order>
      <rsc_ticket id="tkt" rsc="vip" ticket="ticketA"/>
    </constraints>
    <fencing-topology>
      <fencing-level id="fl-1" target="node1" index="1" devices="fence1"/>
      <fencing-level id="fl-2" target-pattern="node.*" index="2" devices="fence1"/>
    </fencing-topology>
    <rsc_defaults>
      <meta_attributes id="rsc-defaults">
        <rule id="rsc-defaults-rule">
          <rsc_expression id="rsc-defaults-expr" class="ocf" provider="heartbeat"
                          type="IPaddr2"/>
        </rule>
        <nvpair id="rsc-stickiness" name="resource-stickiness" value="1"/>
      </meta_attributes>
    </rsc_defaults>
    <op_defaults>
      <meta_attributes id="op-defaults">
        <rule id="op-defaults-rule">
          <op_expression id="op-defaults-expr" name="monitor" interval="10s"/>
        </rule>
        <nvpair id="op-timeout" name="timeout" value="30s"/>
      </meta_attributes>
    </op_defaults>
    <tags>
      <tag id="web-tag">
        <obj_ref id="vip"/>
        <obj_ref id="grp"/>
      </tag>
    </tags>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="1700000000" crmd="1700000000"
                crm-debug-origin="do_update_resource" join="member" expected="member"
                shutdown="0" custom-attr="x">
      <transient_attributes id="1">
        <instance_attributes id="status-1">
          <nvpair id="status-1-master-stateful" name="master-stateful" value="10"/>
          <nvpair id="status-1-fail-count" name="fail-count-vip#monitor_10000" value="1"/>
        </instance_attributes>
      </transient_attributes>
      <lrm id="1">
        <lrm_resources>
          <lrm_resource id="vip" type="IPaddr2" class="ocf" provider="heartbeat">
            <lrm_rsc_op id="vip_last_0" operation_key="vip_start_0" operation="start"
              crm-debug-origin="do_update_resource" crm_feature_set="3.16.1"
              transition-key="3:1:0:abc" transition-magic="0:0;3:1:0:abc" exit-reason=""
              on_node="node1" call-id="6" rc-code="0" op-status="0" interval="0"
              last-rc-change="1700000001" last-run="1700000001" exec-time="42"
              queue-time="0" op-digest="d1" op-restart-digest="d2" op-secure-digest="d3"/>
            <lrm_rsc_op id="vip_monitor_10000" operation_key="vip_monitor_10000"
              operation="monitor" call-id="7" rc-code="7" op-status="0" interval="10000"
              exit-reason="not running"/>
          </lrm_resource>
          <lrm_resource id="web-0" type="apache" class="ocf" provider="heartbeat"
                        container="web-bundle-podman-0">
            <lrm_rsc_op id="web-0_migrate" operation="migrate_to" call-id="9" rc-code="0"
              op-status="0" interval="0" migrate_source="node1" migrate_target="node2"/>
          </lrm_resource>
        </lrm_resources>
      </lrm>
    </node_state>
    <node_state id="2" uname="node2" in_ccm="false" crmd="offline" join="down"
                expected="down"/>
    <node_state id="remote1" uname="remote1" remote_node="true" in_ccm="true">
      <lrm id="remote1">
        <lrm_resources/>
      </lrm>
    </node_state>
    <tickets>
      <ticket_state id="ticketA" granted="true" last-granted="1700000000"/>
    </tickets>
  </status>
</cib>
"""


@pytest.mark.parametrize("text", [MINIMAL, FULL], ids=["minimal", "full"])
def test_inline_round_trip(text: str) -> None:
    assert_round_trip(parse_cib_text(text, "<inline>"))


def test_full_cib_keeps_every_feature() -> None:
    cib = round_trip(parse_cib_text(FULL, "<inline>"))
    config = cib.configuration
    assert [type(r).__name__ for r in config.resources] == [
        "Primitive",
        "Primitive",
        "Group",
        "Clone",
        "Clone",
        "Bundle",
        "Bundle",
    ]
    assert [getattr(r, "promotable_tag", None) for r in config.resources[3:5]] == [False, True]
    bundle = config.resources[5]
    assert bundle.engine == "podman"  # type: ignore[union-attr]
    assert config.resources[6].engine == "docker"  # type: ignore[union-attr]
    assert cib.status.nodes[0].extra == (("custom-attr", "x"),)
    assert cib.status.nodes[0].attribute("master-stateful") == "10"
    assert cib.status.nodes[1].has_lrm is False
    assert cib.status.nodes[2].remote_node is True
    assert cib.status.tickets.values[0][0] == "ticketA"
    assert cib.root_attr("execution-date") == "1700000000"


def test_id_refs_are_written_once_and_referenced() -> None:
    xml = render_cib(parse_cib_text(FULL, "<inline>")).decode()
    assert xml.count('id="vip-meta"') == 1
    assert '<meta_attributes id-ref="vip-meta"/>' in xml
    assert xml.count('id="loc-rule-s"') == 1
    assert '<rule id-ref="loc-rule-s"/>' in xml
    assert xml.count('id="loc-set-s"') == 1
    assert xml.count('id="node1-site"') == 1


def test_op_built_without_attributes_renders_from_fields() -> None:
    from hakeeper.model.config import Agent, Configuration, Op, Primitive, Role

    op = Op("p-mon", "monitor", "10s", 10_000, Role.PROMOTED, "20s", "block", False)
    cib = Cib(
        Configuration(
            resources=(Primitive("p", Agent("ocf", "pacemaker", "Stateful"), ops=(op,)),)
        ),
        parse_cib_text(MINIMAL).status,
    )
    again = round_trip(cib)
    parsed = again.configuration.resources[0].ops[0]  # type: ignore[union-attr]
    assert (
        parsed.name,
        parsed.interval_ms,
        parsed.role,
        parsed.timeout,
        parsed.on_fail,
        parsed.enabled,
    ) == ("monitor", 10_000, Role.PROMOTED, "20s", "block", False)


# --- the shared examples --------------------------------------------------------------------


@_needs_examples
@pytest.mark.parametrize("path", _example_params)
def test_example_round_trip(path: Path) -> None:
    assert_round_trip(parse_cib_file(path))


@_needs_examples
@pytest.mark.skipif(
    not CRM_VERIFY.exists(), reason=f"{CRM_VERIFY} is absent (install pacemaker-cli-utils)"
)
@pytest.mark.parametrize("path", _example_params)
def test_crm_verify_accepts_rendered_example(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "rendered.xml"
    write_cib(parse_cib_file(path), str(out))
    # Only compare with what crm_verify says of the original: it must not get worse.
    original = subprocess.run(
        [str(CRM_VERIFY), "-x", str(path)], capture_output=True, text=True, timeout=60
    )
    rendered = subprocess.run(
        [str(CRM_VERIFY), "-x", str(out)], capture_output=True, text=True, timeout=60
    )
    assert rendered.returncode <= original.returncode, rendered.stdout + rendered.stderr


@pytest.mark.skipif(
    not CRM_VERIFY.exists(), reason=f"{CRM_VERIFY} is absent (install pacemaker-cli-utils)"
)
def test_crm_verify_accepts_rendered_inline(tmp_path: Path) -> None:
    out = tmp_path / "minimal.xml"
    write_cib(parse_cib_text(MINIMAL), str(out))
    result = subprocess.run(
        [str(CRM_VERIFY), "-x", str(out)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- write_cib --------------------------------------------------------------------------------


def test_write_cib_replaces_atomically(tmp_path: Path) -> None:
    out = tmp_path / "cib.xml"
    out.write_text("old")
    cib = parse_cib_text(MINIMAL)
    write_cib(cib, str(out))
    assert strip(parse_cib_file(out)) == strip(cib)
    assert [p.name for p in tmp_path.iterdir()] == ["cib.xml"]  # no temporary file left


def test_write_cib_reports_unwritable_path(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "cib.xml"
    with pytest.raises(CommandError) as exc:
        write_cib(parse_cib_text(MINIMAL), str(target))
    assert exc.value.codes == [codes.FILE_WRITE_FAILED]
    report = exc.value.reports[0]
    assert report.where == str(target)
    assert report.hint


def test_write_cib_leaves_no_temp_file_when_replace_fails(tmp_path: Path) -> None:
    target = tmp_path / "a-directory"
    target.mkdir()
    (target / "inside").write_text("keep")
    with pytest.raises(CommandError):
        write_cib(parse_cib_text(MINIMAL), str(target))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-directory"]


# --- hakeeper simulate --save-output ----------------------------------------------------------


def test_simulate_save_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The scheduler does not take bundles yet, so not the OpenStack examples.
    src = tmp_path / "in.xml"
    src.write_text(MINIMAL)
    out = tmp_path / "out.xml"
    assert main(["simulate", "--save-output", str(out), str(src)]) == 0
    assert "Transition Summary:" in capsys.readouterr().out
    assert strip(parse_cib_file(out)) == strip(parse_cib_file(src))


def test_simulate_save_output_unwritable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.xml"
    src.write_text(MINIMAL)
    assert main(["simulate", "--save-output", str(tmp_path / "no" / "out.xml"), str(src)]) == 2
    assert "cannot write" in capsys.readouterr().err
