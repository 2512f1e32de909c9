"""Write the TripleO scenario CIBs (and crm_simulate's output for each) into this directory.

    .venv/bin/python tests/oracle/scenarios/make_scenarios.py [--check]

The cluster is the seeds' OpenStack control plane (seeds/002: `pcs status` of a TripleO
3-controller cluster) cut down to primitives: seven IPaddr2 VIPs placed by a
`haproxy-role eq true` rule with resource-discovery=exclusive, an active/passive
cinder-volume container placed by `cinder-volume-role eq true`, one fence_ipmilan device per
controller banned from the node it fences, and TripleO's resource-stickiness=INFINITY.
States: converged; controller-1 lost (fenced, its resources recovered elsewhere); the
cinder-volume monitor failed; controller-0 put in standby.

NAME.xml is the CIB; NAME.summary is what `crm_simulate -x NAME.xml -S` (Pacemaker 2.1.5)
prints for it, for tests on machines without Pacemaker. --check regenerates in memory and
fails if a file here differs.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from oracle import crm  # noqa: E402
from oracle.cibxml import (  # noqa: E402
    INFINITY,
    Cluster,
    Constraint,
    Expression,
    History,
    Location,
    Node,
    NodeState,
    Op,
    Primitive,
    RscState,
    Rule,
)

CONTROLLERS = ("controller-0", "controller-1", "controller-2")
# (VIP, controller it runs on) as in the seed's `pcs status`
VIPS = (
    ("192.168.24.38", "controller-0"),
    ("10.0.0.101", "controller-1"),
    ("172.17.1.84", "controller-0"),
    ("172.17.1.18", "controller-1"),
    ("172.17.3.122", "controller-0"),
    ("172.17.4.90", "controller-1"),
    ("172.17.1.74", "controller-0"),
)
# (fence device, the controller it fences, the controller it runs on)
FENCES = (
    ("stonith-fence_ipmilan-5254004ed481", "controller-0", "controller-1"),
    ("stonith-fence_ipmilan-525400c18dc", "controller-1", "controller-0"),
    ("stonith-fence_ipmilan-525400dbdcc", "controller-2", "controller-0"),
)
CINDER = "openstack-cinder-volume"
CINDER_HOME = "controller-1"
NOW = 1_700_000_000


def _vip(ip: str) -> Primitive:
    return Primitive(
        f"ip-{ip}",
        "ocf",
        "IPaddr2",
        "heartbeat",
        params=(("cidr_netmask", "32"), ("ip", ip)),
        ops=(Op("start", 0, 20), Op("stop", 0, 20), Op("monitor", 10, 20)),
    )


def _fence(rid: str, target: str) -> Primitive:
    n = CONTROLLERS.index(target)
    return Primitive(
        rid,
        "stonith",
        "fence_ipmilan",
        params=(
            ("ip", f"192.168.24.{250 - n}"),
            ("lanplus", "true"),
            ("password", "ipmi-secret"),
            ("pcmk_host_list", target),
            ("username", "admin"),
        ),
        ops=(Op("monitor", 60, 20),),
    )


def _cinder() -> Primitive:
    return Primitive(
        CINDER,
        "ocf",
        "podman",
        "heartbeat",
        params=(
            ("image", "cluster.common.tag/openstack-cinder-volume:pcmklatest"),
            ("name", CINDER),
            ("run_opts", "--net=host --user=root --privileged=true"),
        ),
        ops=(Op("start", 0, 200), Op("stop", 0, 200), Op("monitor", 60, 60)),
    )


def _role_rule(cid: str, rsc: str, attribute: str) -> Location:
    # TripleO's shape: only nodes with the role attribute may run, or even probe, it.
    rule = Rule(0, (Expression(attribute, "eq", "true"),))
    return Location(cid, rsc, rule=rule, resource_discovery="exclusive")


def converged() -> Cluster:
    nodes = tuple(
        Node(
            name,
            str(i + 1),
            attrs=(
                ("cinder-volume-role", "true"),
                ("haproxy-role", "true"),
                ("rmq-node-attr-last-known-rabbitmq", f"rabbit@{name}"),
            ),
        )
        for i, name in enumerate(CONTROLLERS)
    )
    vips = [_vip(ip) for ip, _ in VIPS]
    fences = [_fence(rid, target) for rid, target, _ in FENCES]
    cinder = _cinder()
    constraints: list[Constraint] = [
        _role_rule(f"location-{v.id}", v.id, "haproxy-role") for v in vips
    ]
    constraints.append(_role_rule(f"location-{CINDER}", CINDER, "cinder-volume-role"))
    constraints += [
        Location(f"location-{rid}-{target}--INFINITY", rid, -INFINITY, node=target)
        for rid, target, _ in FENCES
    ]
    home = {v.id: where for v, (_, where) in zip(vips, VIPS, strict=True)}
    home.update({rid: where for rid, _, where in FENCES})
    home[CINDER] = CINDER_HOME
    history = tuple(
        History(n, rsc, RscState.RUNNING if home[rsc] == n else RscState.NOT_RUNNING, age_s=86400)
        for n in CONTROLLERS
        for rsc in home
    )
    return Cluster(
        nodes=nodes,
        resources=(*vips, cinder, *fences),
        constraints=tuple(constraints),
        history=history,
        properties=(
            ("stonith-enabled", "true"),
            ("cluster-recheck-interval", "60s"),
        ),
        rsc_defaults=(("resource-stickiness", "INFINITY"),),
        name="tripleo_cluster",
        now=NOW,
    )


def node_failure() -> Cluster:
    """controller-1 vanished without leaving: it is fenced and its resources move."""
    c = converged()
    nodes = tuple(
        replace(n, state=NodeState.LOST) if n.name == "controller-1" else n for n in c.nodes
    )
    return replace(c, nodes=nodes)


def failed_monitor() -> Cluster:
    """The cinder-volume container's monitor found it gone (rc 7) a minute ago."""
    c = converged()
    history = tuple(
        replace(h, state=RscState.MONITOR_FAILED, fail_count=1, age_s=60)
        if (h.rsc, h.node) == (CINDER, CINDER_HOME)
        else h
        for h in c.history
    )
    return replace(c, history=history)


def standby() -> Cluster:
    """An operator ran `pcs node standby controller-0`."""
    c = converged()
    nodes = tuple(
        replace(n, attrs=(*n.attrs, ("standby", "on"))) if n.name == "controller-0" else n
        for n in c.nodes
    )
    return replace(c, nodes=nodes)


SCENARIOS = {
    "tripleo-converged": converged,
    "tripleo-node-failure": node_failure,
    "tripleo-failed-monitor": failed_monitor,
    "tripleo-standby": standby,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if a file here is stale")
    ap.add_argument("--no-summaries", action="store_true", help="write only the CIBs")
    a = ap.parse_args(argv)
    stale = []
    for name, build in SCENARIOS.items():
        path = HERE / f"{name}.xml"
        xml = build().render()
        if a.check:
            if not path.exists() or path.read_text() != xml:
                stale.append(path.name)
            continue
        path.write_text(xml)
        if not a.no_summaries:
            sim = crm.crm_simulate(path, "-S")
            if not sim.ok:
                print(f"{path.name}: crm_simulate -S failed: {sim.error()}", file=sys.stderr)
                return 1
            (HERE / f"{name}.summary").write_text(sim.stdout)
        print(f"wrote {path.relative_to(HERE.parents[2])}")
    if stale:
        print(f"stale, run {Path(__file__).name}: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
