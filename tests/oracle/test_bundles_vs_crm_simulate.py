"""Bundles, guest nodes and a Pacemaker Remote node, against Pacemaker's crm_simulate.

A TripleO-like cluster: three controllers, podman bundles (haproxy without an inner
resource, rabbitmq with one on guest nodes, a single-replica cinder-volume), a VIP that
follows haproxy, and a compute node reached through an ocf:pacemaker:remote connection.
The converged state is what crm_simulate itself records after starting everything
(`-S -O`), so every history entry, digest included, is Pacemaker's own; each fault is then
written into that status as a real cluster would record it.
"""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from . import crm
from .compare import compare_with_crm_simulate

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(not crm.available(), reason="needs crm_simulate (pacemaker-cli-utils)"),
]

NOW = 1_700_000_000
CONTROLLERS = ("controller-0", "controller-1", "controller-2")


def _avoid_compute(rsc: str) -> str:
    return (
        f'<rsc_location id="{rsc}-avoids-compute" rsc="{rsc}" node="compute-0" score="-INFINITY"/>'
    )


FRESH = f"""<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1"
  num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1" execution-date="{NOW}">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o-s" name="stonith-enabled" value="true"/>
    </cluster_property_set></crm_config>
    <nodes>{"".join(f'<node id="{i + 1}" uname="{n}"/>' for i, n in enumerate(CONTROLLERS))}
    </nodes>
    <resources>
      <primitive id="fence-ipmi" class="stonith" type="fence_ipmilan">
        <instance_attributes id="fence-ia"><nvpair id="fence-ia-h" name="pcmk_host_list"
          value="controller-0 controller-1 controller-2 compute-0"/></instance_attributes>
        <operations><op id="fence-mon" name="monitor" interval="60s"/></operations>
      </primitive>
      <bundle id="haproxy-bundle">
        <podman image="cluster.common.tag/openstack-haproxy:pcmklatest" network="host"
          replicas="3" run-command="/bin/bash /usr/local/bin/kolla_start"
          options="--user=root --log-driver=k8s-file"/>
        <storage>
          <storage-mapping id="haproxy-cfg" options="ro"
            source-dir="/var/lib/kolla/config_files/haproxy.json"
            target-dir="/var/lib/kolla/config_files/config.json"/>
        </storage>
      </bundle>
      <bundle id="rabbitmq-bundle">
        <podman image="cluster.common.tag/openstack-rabbitmq:pcmklatest" network="host"
          replicas="3" run-command="/bin/bash /usr/local/bin/kolla_start" options="--user=root"/>
        <network control-port="3122"/>
        <storage>
          <storage-mapping id="rabbitmq-lib" options="rw,z" source-dir="/var/lib/rabbitmq"
            target-dir="/var/lib/rabbitmq"/>
          <storage-mapping id="rabbitmq-log" options="rw,z"
            source-dir="/var/log/containers/rabbitmq" target-dir="/var/log/rabbitmq"/>
        </storage>
        <primitive id="rabbitmq" class="ocf" provider="heartbeat" type="rabbitmq-cluster">
          <instance_attributes id="rabbitmq-ia"><nvpair id="rabbitmq-ia-p" name="set_policy"
            value="ha-all ^(?!amq\\.).* {{&quot;ha-mode&quot;:&quot;exactly&quot;}}"/>
          </instance_attributes>
          <operations><op id="rabbitmq-mon" name="monitor" interval="10s" timeout="40s"/>
          </operations>
        </primitive>
      </bundle>
      <bundle id="openstack-cinder-volume">
        <podman image="cluster.common.tag/openstack-cinder-volume:pcmklatest" network="host"
          replicas="1" run-command="/bin/bash /usr/local/bin/kolla_start"/>
      </bundle>
      <primitive id="ip-192.168.24.15" class="ocf" provider="heartbeat" type="IPaddr2">
        <instance_attributes id="ip-ia"><nvpair id="ip-ia-ip" name="ip" value="192.168.24.15"/>
          <nvpair id="ip-ia-m" name="cidr_netmask" value="32"/></instance_attributes>
        <operations><op id="ip-mon" name="monitor" interval="10s"/></operations>
      </primitive>
      <primitive id="compute-0" class="ocf" provider="pacemaker" type="remote">
        <instance_attributes id="c0-ia"><nvpair id="c0-ia-s" name="server"
          value="192.168.24.30"/></instance_attributes>
        <operations><op id="c0-mon" name="monitor" interval="20s"/></operations>
      </primitive>
      <primitive id="nova-compute-check" class="ocf" provider="heartbeat" type="Dummy">
        <operations><op id="ncc-mon" name="monitor" interval="10s"/></operations>
      </primitive>
    </resources>
    <constraints>
      {_avoid_compute("haproxy-bundle")}
      {_avoid_compute("rabbitmq-bundle")}
      {_avoid_compute("openstack-cinder-volume")}
      {_avoid_compute("ip-192.168.24.15")}
      <rsc_colocation id="ip-with-haproxy" rsc="ip-192.168.24.15" with-rsc="haproxy-bundle"
        score="INFINITY"/>
      <rsc_order id="haproxy-then-ip" first="haproxy-bundle" then="ip-192.168.24.15"
        kind="Optional"/>
      <rsc_location id="check-on-compute" rsc="nova-compute-check" node="compute-0"
        score="100"/>
    </constraints>
  </configuration>
  <status>
    {
    "".join(
        f'<node_state id="{i + 1}" uname="{n}" in_ccm="true" crmd="online" '
        'join="member" expected="member"/>'
        for i, n in enumerate(CONTROLLERS)
    )
}
  </status>
</cib>"""


@pytest.fixture(scope="module")
def converged() -> ET.Element:
    """The cluster after crm_simulate ran its own start-everything transition."""
    with tempfile.TemporaryDirectory() as d:
        fresh, out = Path(d) / "fresh.xml", Path(d) / "converged.xml"
        fresh.write_text(FRESH)
        run = crm.crm_simulate(fresh, "-S", "-O", str(out), timeout=60)
        assert run.ok, f"harness: crm_simulate could not start the cluster: {run.error()}"
        return ET.fromstring(out.read_text())


def _xml(root: ET.Element) -> str:
    return ET.tostring(root, encoding="unicode")


def _copy(root: ET.Element) -> ET.Element:
    return ET.fromstring(_xml(root))


def _lrm_resource(root: ET.Element, rsc: str) -> tuple[ET.Element, ET.Element]:
    """The node_state and lrm_resource of the node where rsc was started."""
    for state in root.iter("node_state"):
        for entry in state.iter("lrm_resource"):
            if entry.get("id") == rsc and any(
                op.get("operation") == "start" and op.get("rc-code") == "0"
                for op in entry.iter("lrm_rsc_op")
            ):
                return state, entry
    raise AssertionError(f"harness: {rsc} was not started in the converged cluster")


def _fail_monitor(root: ET.Element, rsc: str, interval_ms: int, rc: int) -> str:
    """Record a failed recurring monitor of rsc where it runs; returns that node's name."""
    state, entry = _lrm_resource(root, rsc)
    ET.SubElement(
        entry,
        "lrm_rsc_op",
        {
            "id": f"{rsc}_last_failure_0",
            "operation_key": f"{rsc}_monitor_{interval_ms}",
            "operation": "monitor",
            "call-id": "90",
            "rc-code": str(rc),
            "op-status": "0" if rc == 7 else "4",
            "interval": str(interval_ms),
            "transition-key": "9:9:0:0a1b2c3d-0000-0000-0000-000000000000",
            "transition-magic": f"0:{rc};9:9:0:0a1b2c3d-0000-0000-0000-000000000000",
            "last-rc-change": str(NOW - 30),
            "exec-time": "10",
            "queue-time": "0",
            "on_node": state.get("uname", ""),
        },
    )
    attrs = state.find("transient_attributes/instance_attributes")
    if attrs is None:
        transient = ET.SubElement(state, "transient_attributes", {"id": state.get("id", "")})
        attrs = ET.SubElement(transient, "instance_attributes", {"id": f"status-{state.get('id')}"})
    key = f"{rsc.split(':')[0]}#monitor_{interval_ms}"
    for name, value in ((f"fail-count-{key}", "1"), (f"last-failure-{key}", str(NOW - 30))):
        ET.SubElement(attrs, "nvpair", {"id": f"status-{name}", "name": name, "value": value})
    return state.get("uname", "")


def test_fresh_cluster_starts_every_replica_and_the_remote_node() -> None:
    compare_with_crm_simulate(FRESH)


def test_converged_cluster_needs_nothing(converged: ET.Element) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "cib.xml"
        path.write_text(_xml(converged))
        assert crm.summary_set(crm.crm_simulate(path, "-S").stdout) == frozenset()
    compare_with_crm_simulate(_xml(converged))


def test_lost_controller_is_fenced_and_its_replicas_recover(converged: ET.Element) -> None:
    root = _copy(converged)
    for state in root.iter("node_state"):
        if state.get("uname") == "controller-0":
            state.set("in_ccm", "false")
            state.set("crmd", "offline")
            state.set("join", "down")
    compare_with_crm_simulate(_xml(root))


def test_failed_replica_container_is_recovered_with_its_guest(converged: ET.Element) -> None:
    root = _copy(converged)
    _fail_monitor(root, "rabbitmq-bundle-podman-1", 60_000, 7)
    compare_with_crm_simulate(_xml(root))


def test_failed_instance_inside_a_guest_is_recovered_there(converged: ET.Element) -> None:
    root = _copy(converged)
    _fail_monitor(root, "rabbitmq", 10_000, 7)
    compare_with_crm_simulate(_xml(root))


def test_lost_remote_connection_fences_the_remote_node(converged: ET.Element) -> None:
    root = _copy(converged)
    _fail_monitor(root, "compute-0", 20_000, 1)
    compare_with_crm_simulate(_xml(root))


def test_remote_node_in_standby_hands_its_resource_back(converged: ET.Element) -> None:
    root = _copy(converged)
    for state in root.iter("node_state"):
        if state.get("uname") == "compute-0":
            attrs = state.find("transient_attributes/instance_attributes")
            if attrs is None:
                transient = ET.SubElement(state, "transient_attributes", {"id": "compute-0"})
                attrs = ET.SubElement(transient, "instance_attributes", {"id": "status-c0"})
            ET.SubElement(attrs, "nvpair", {"id": "c0-standby", "name": "standby", "value": "on"})
    compare_with_crm_simulate(_xml(root))
