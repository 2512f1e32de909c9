"""Masked secrets (crm_report CIBs): a match on op-secure-digest is no change, as in crm_simulate.

crm_report replaces passwords with "****", so the recorded op-digest (taken over the
real password) never matches; crm_simulate then compares op-secure-digest, taken over
every parameter except those listed in op-secure-params.
"""

from __future__ import annotations

import hashlib

import pytest

from hakeeper.cib.parse import parse_cib_text
from hakeeper.scheduler.schedule import schedule

from . import crm
from .compare import compare_with_crm_simulate

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(not crm.available(), reason="needs crm_simulate (pacemaker-cli-utils)"),
]

NOW = 1_700_000_000


def _md5(params: dict[str, str]) -> str:
    attrs = "".join(f' {k}="{v}"' for k, v in sorted(params.items()))
    return hashlib.md5(f" <parameters{attrs}/>\n".encode()).hexdigest()


def _cib(
    standard: str,
    configured: dict[str, str],
    started_with: dict[str, str],
    secure_over: dict[str, str],
    feature_set: str = "3.16.1",
) -> str:
    """A device (or agent) running on ctl0 whose history was recorded with other values.

    Without a fencing device, fencing is disabled: else nothing may start at all.
    """
    secret = " passwd "
    nvpairs = "".join(
        f'<nvpair id="dev-{k}" name="{k}" value="{v}"/>' for k, v in configured.items()
    )
    agent = (
        'class="stonith" type="fence_ipmilan"'
        if standard == "stonith"
        else 'class="ocf" provider="heartbeat" type="Dummy"'
    )
    op = (
        f'<lrm_resource id="dev" {agent}>'
        f'<lrm_rsc_op id="dev_last_0" operation_key="dev_start_0" operation="start" '
        f'crm_feature_set="{feature_set}" transition-key="1:1:0:x" '
        f'transition-magic="0:0;1:1:0:x" call-id="3" rc-code="0" op-status="0" '
        f'interval="0" on_node="ctl0" last-rc-change="{NOW - 60}" '
        f'op-digest="{_md5(started_with)}" op-secure-params="{secret}" '
        f'op-secure-digest="{_md5(secure_over)}"/></lrm_resource>'
    )
    states = "".join(
        f'<node_state id="{nid}" uname="{name}" in_ccm="true" crmd="online" join="member" '
        f'expected="member"><lrm id="l{nid}"><lrm_resources>{op if nid == 1 else ""}'
        f"</lrm_resources></lrm></node_state>"
        for nid, name in ((1, "ctl0"), (2, "ctl1"))
    )
    return f"""<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1"
  num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1" execution-date="{NOW}">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o-s" name="stonith-enabled" value="{str(standard == "stonith").lower()}"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="ctl0"/><node id="2" uname="ctl1"/></nodes>
    <resources>
      <primitive id="dev" {agent}>
        <instance_attributes id="dev-ia">{nvpairs}</instance_attributes>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
  <status>{states}</status>
</cib>"""


MASKED = {"ipaddr": "10.0.0.1", "login": "admin", "passwd": "****"}
REAL = {**MASKED, "passwd": "s3cret"}
PUBLIC = {"ipaddr": "10.0.0.1", "login": "admin"}


@pytest.mark.parametrize("standard", ["stonith", "ocf"])
def test_masked_password_with_matching_secure_digest_is_not_a_change(standard: str) -> None:
    compare_with_crm_simulate(_cib(standard, MASKED, REAL, PUBLIC))


@pytest.mark.parametrize("standard", ["stonith", "ocf"])
def test_a_public_parameter_change_still_restarts(standard: str) -> None:
    xml = _cib(standard, MASKED, REAL, {**PUBLIC, "ipaddr": "10.0.0.9"})
    compare_with_crm_simulate(xml)
    changes = schedule(parse_cib_text(xml), NOW, sanitized=True).changes
    assert [(c.verb, c.resource) for c in changes] == [("Restart", "dev")]


def test_old_records_leave_fencer_parameters_out_of_the_secure_digest() -> None:
    configured = {**MASKED, "pcmk_host_list": "ctl0", "pcmk_reboot_timeout": "60"}
    started = {**REAL, "pcmk_host_list": "ctl0", "pcmk_reboot_timeout": "60"}
    compare_with_crm_simulate(_cib("stonith", configured, started, PUBLIC, "3.0.10"))
    # a new record hashes them: the same secure digest no longer matches
    compare_with_crm_simulate(_cib("stonith", configured, started, PUBLIC, "3.16.1"))


def test_a_live_cluster_is_not_sanitized_so_a_password_change_restarts() -> None:
    """The DC does not assume masking: a new password must reach the device."""
    xml = _cib("stonith", MASKED, REAL, PUBLIC)
    assert schedule(parse_cib_text(xml), NOW, sanitized=True).changes == ()
    changes = schedule(parse_cib_text(xml), NOW).changes
    assert [(c.verb, c.resource, c.reason) for c in changes] == [
        ("Restart", "dev", "due to resource definition change")
    ]
