"""Whether the node daemon can run a profile yet: asked of its own scheduler and transition
builder on the profile's CIB with every node online, not assumed."""

from __future__ import annotations

from lxml import etree

from hakeeper.cib.parse import parse_cib_text
from hakeeper.lab.cib import build_cib, openstack_bundles
from hakeeper.lab.plan import LabPlan, Profile
from hakeeper.node.transition import build_transition
from hakeeper.reports import CommandError
from hakeeper.scheduler.schedule import schedule


def online_cib(plan: LabPlan, xml: str) -> str:
    """The CIB with every node up and the promotion scores galera and redis would set."""
    root = etree.fromstring(xml.encode())
    root.set("have-quorum", "1")
    status = root.find("status")
    assert status is not None
    for node in plan.nodes:
        nid = str(node.index + 1)
        state = etree.SubElement(
            status,
            "node_state",
            id=nid,
            uname=node.name,
            in_ccm="true",
            crmd="online",
            join="member",
            expected="member",
        )
        attrs = etree.SubElement(
            etree.SubElement(state, "transient_attributes", id=nid),
            "instance_attributes",
            id=f"status-{nid}",
        )
        for name, value in (("master-galera", "100"), ("master-redis", str(10 - node.index))):
            etree.SubElement(attrs, "nvpair", id=f"status-{nid}-{name}", name=name, value=value)
    return etree.tostring(root).decode()


def daemon_gap(plan: LabPlan) -> str | None:
    """None if the node daemon would run what the profile needs; else what it lacks."""
    cib = parse_cib_text(online_cib(plan, build_cib(plan)))
    try:
        planned = schedule(cib).actions
    except CommandError as exc:
        return f"the scheduler does not take the {plan.profile.value} CIB yet: {exc}"
    if plan.profile is not Profile.OPENSTACK:
        return None
    graph = build_transition("probe", 1, planned, cib.configuration)
    published = {a.resource.rsplit("-", 1)[0] for a in graph.actions if "-podman-" in a.resource}
    # what the scheduler itself blocks (cinder-volume waits for galera's promotion on a
    # cold start, as in Pacemaker) is not the daemon's gap: only planned runnable starts
    wanted = {
        a.resource.rsplit("-", 1)[0]
        for a in planned
        if a.resource is not None
        and "-podman-" in a.resource
        and a.task == "start"
        and a.runnable
        and not a.optional
    }
    missing = [
        r.id
        for r in openstack_bundles(plan)
        if f"{r.id}-podman" in wanted and f"{r.id}-podman" not in published
    ]
    if missing:
        return (
            "the node daemon does not run bundles yet: its transition starts no container of "
            + ", ".join(missing)
        )
    return None
