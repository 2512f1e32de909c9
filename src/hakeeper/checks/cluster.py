"""The Pacemaker cluster: nodes, quorum, fencing, resources, bundles and failed actions,
judged from `crm_mon -1 --output-as=xml`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from hakeeper.checks import codes
from hakeeper.checks.capture import (
    Captures,
    CaptureStatus,
    ProbeOutputError,
    capture_problem,
    unparseable,
)
from hakeeper.checks.crm_mon import CrmMon, PcmkBundle, PcmkNode, PcmkResource, parse_crm_mon
from hakeeper.checks.finding import Area, Finding, Verdict, finding

AREA = Area.CLUSTER
KEY = "crm_mon.xml"
LOOK = "pcs status --full"


@dataclass(frozen=True, slots=True)
class ClusterFacts:
    """What other areas need to know about the cluster (expected sizes, who is where)."""

    members: tuple[str, ...]  # cluster nodes (not guest/remote)
    bundle_replicas: Mapping[str, int]  # bundle id -> replicas configured
    bundle_hosts: Mapping[str, tuple[str, ...]]  # bundle id -> nodes running a replica

    def replicas(self, bundle: str) -> int | None:
        return self.bundle_replicas.get(bundle)


def facts(crm: CrmMon) -> ClusterFacts:
    hosts: dict[str, tuple[str, ...]] = {}
    for bundle in crm.bundles:
        on: list[str] = []
        for replica in bundle.replicas:
            container = replica.container
            if container is not None and container.active:
                on.extend(container.nodes)
        hosts[bundle.id] = tuple(on)
    return ClusterFacts(
        members=tuple(n.name for n in crm.nodes if n.type == "member"),
        bundle_replicas=MappingProxyType({b.id: len(b.replicas) for b in crm.bundles}),
        bundle_hosts=MappingProxyType(hosts),
    )


def _f(
    verdict: Verdict,
    code: str,
    subject: str,
    summary: str,
    *,
    evidence: Iterable[str] = (),
    next_steps: Iterable[str] = (),
    node: str | None = None,
) -> Finding:
    return finding(
        verdict, AREA, code, subject, summary, evidence=evidence, next_steps=next_steps, node=node
    )


def _cluster_wide(crm: CrmMon) -> list[Finding]:
    out: list[Finding] = []
    if not crm.dc_present:
        out.append(
            _f(
                Verdict.CRITICAL,
                codes.CLUSTER_NO_DC,
                "cluster",
                "no Designated Controller: this node sees no working cluster",
                next_steps=("corosync-cfgtool -s", LOOK),
            )
        )
    elif not crm.with_quorum:
        out.append(
            _f(
                Verdict.CRITICAL,
                codes.CLUSTER_NO_QUORUM,
                "cluster",
                f"partition WITHOUT quorum (no-quorum-policy={crm.no_quorum_policy})",
                evidence=(f"current DC: {crm.dc_name} - partition WITHOUT quorum",),
                next_steps=("corosync-quorumtool -s", LOOK),
            )
        )
    else:
        out.append(
            _f(
                Verdict.OK,
                codes.CLUSTER_QUORUM_OK,
                "cluster",
                f"partition with quorum, DC is {crm.dc_name}",
            )
        )
    if crm.maintenance_mode:
        out.append(
            _f(
                Verdict.WARNING,
                codes.CLUSTER_MAINTENANCE_MODE,
                "cluster",
                "maintenance-mode=true: Pacemaker neither monitors nor recovers anything",
                next_steps=("pcs property set maintenance-mode=false",),
            )
        )
    if crm.stop_all_resources:
        out.append(
            _f(
                Verdict.CRITICAL,
                codes.CLUSTER_STOP_ALL_RESOURCES,
                "cluster",
                "stop-all-resources=true: every resource is held stopped",
                next_steps=("pcs property set stop-all-resources=false",),
            )
        )
    devices = [r for r in crm.resources if r.is_stonith]
    if not crm.stonith_enabled:
        out.append(
            _f(
                Verdict.WARNING,
                codes.STONITH_DISABLED,
                "stonith",
                "stonith-enabled=false: a lost node is never fenced, data can diverge",
                next_steps=("pcs stonith status", "pcs property set stonith-enabled=true"),
            )
        )
    elif not devices:
        out.append(
            _f(
                Verdict.CRITICAL,
                codes.STONITH_NO_DEVICE,
                "stonith",
                "stonith-enabled=true but no fence device is configured",
                next_steps=("pcs stonith list", "pcs stonith create ..."),
            )
        )
    else:
        out.append(
            _f(
                Verdict.OK,
                codes.STONITH_OK,
                "stonith",
                f"fencing enabled with {len(devices)} fence device(s)",
            )
        )
    for event in crm.fence_events:
        if event.status == "success":
            out.append(
                _f(
                    Verdict.WARNING,
                    codes.NODE_FENCED,
                    event.target,
                    f"{event.target} was fenced ({event.action}) at {event.completed}",
                    evidence=(event.line(),),
                    node=event.target,
                    next_steps=(
                        f"pcs stonith history show {event.target}",
                        f"pcs stonith history cleanup {event.target}",
                    ),
                )
            )
        elif event.status in ("failed", "error"):
            out.append(
                _f(
                    Verdict.CRITICAL,
                    codes.FENCING_FAILED,
                    event.target,
                    f"fencing ({event.action}) of {event.target} failed",
                    evidence=(event.line(),),
                    node=event.target,
                    next_steps=(f"pcs stonith history show {event.target}", "pcs stonith status"),
                )
            )
    return out


def _nodes(crm: CrmMon) -> list[Finding]:
    out: list[Finding] = []
    fenced = {e.target for e in crm.fence_events if e.status == "success"}
    checked: list[PcmkNode] = [n for n in crm.nodes if not n.is_guest]
    for n in checked:
        ev = (
            f"node {n.name}: online={n.online} unclean={n.unclean} standby={n.standby}"
            f" maintenance={n.maintenance} pending={n.pending} type={n.type}",
        )
        if n.unclean:
            out.append(
                _f(
                    Verdict.CRITICAL,
                    codes.NODE_UNCLEAN,
                    n.name,
                    f"{n.name} is UNCLEAN: its state is unknown until it is fenced",
                    evidence=ev,
                    node=n.name,
                    next_steps=(
                        f"pcs stonith history show {n.name}",
                        f"pcs stonith fence {n.name}",
                    ),
                )
            )
        elif not n.online:
            why = " (it was fenced)" if n.name in fenced else ""
            out.append(
                _f(
                    Verdict.CRITICAL,
                    codes.NODE_OFFLINE,
                    n.name,
                    f"{n.name} is OFFLINE{why}",
                    evidence=ev,
                    node=n.name,
                    next_steps=(f"ssh {n.name} pcs cluster status", f"pcs cluster start {n.name}"),
                )
            )
        elif n.standby:
            out.append(
                _f(
                    Verdict.WARNING,
                    codes.NODE_STANDBY,
                    n.name,
                    f"{n.name} is in standby: it runs no resources",
                    evidence=ev,
                    node=n.name,
                    next_steps=(f"pcs node unstandby {n.name}",),
                )
            )
        elif n.maintenance:
            out.append(
                _f(
                    Verdict.WARNING,
                    codes.NODE_MAINTENANCE,
                    n.name,
                    f"{n.name} is in maintenance: its resources are not monitored",
                    evidence=ev,
                    node=n.name,
                    next_steps=(f"pcs node unmaintenance {n.name}",),
                )
            )
        elif n.pending:
            out.append(
                _f(
                    Verdict.WARNING,
                    codes.NODE_PENDING,
                    n.name,
                    f"{n.name} is pending: it has not finished joining",
                    evidence=ev,
                    node=n.name,
                    next_steps=("corosync-cfgtool -s",),
                )
            )
    if not out:
        out.append(
            _f(
                Verdict.OK,
                codes.NODES_OK,
                "nodes",
                f"{len(checked)} of {len(checked)} nodes online",
            )
        )
    return out


def _bundle(crm: CrmMon, bundle: PcmkBundle) -> Finding | None:
    running = [r for r in bundle.replicas if r.running]
    if len(running) == len(bundle.replicas):
        return None
    down = [r for r in bundle.replicas if not r.running]
    guests = {n.name for n in crm.nodes if n.is_guest}
    hosts = sorted({n for r in down for res in r.resources for n in res.nodes if n not in guests})
    evidence = [f"replica {r.id}: {res.line()}" for r in down for res in r.resources]
    verdict = Verdict.CRITICAL if not running else Verdict.WARNING
    code = codes.BUNDLE_DOWN if not running else codes.BUNDLE_DEGRADED
    names = ", ".join((r.container.id if r.container else f"replica {r.id}") for r in down)
    return _f(
        verdict,
        code,
        bundle.id,
        f"{bundle.id}: {len(running)} of {len(bundle.replicas)} replicas running"
        f" (not running: {names})",
        evidence=evidence,
        node=hosts[0] if len(hosts) == 1 else None,
        next_steps=(
            f"crm_resource --why --resource {bundle.id}",
            f"pcs resource cleanup {bundle.id}",
        ),
    )


def _resource(r: PcmkResource) -> Finding | None:
    where = r.nodes[0] if r.nodes else None
    name = r.parent or r.id
    if r.blocked:
        return _f(
            Verdict.CRITICAL,
            codes.RESOURCE_BLOCKED,
            r.id,
            f"{r.id} is BLOCKED (unmanaged after a failed stop): nothing will recover it",
            evidence=(r.line(),),
            node=where,
            next_steps=(f"pcs resource failcount show {r.id}", f"pcs resource cleanup {name}"),
        )
    if r.failed:
        return _f(
            Verdict.CRITICAL,
            codes.RESOURCE_FAILED,
            r.id,
            f"{r.id} FAILED" + (f" on {where}" if where else ""),
            evidence=(r.line(),),
            node=where,
            next_steps=(f"crm_resource --why --resource {r.id}", f"pcs resource cleanup {name}"),
        )
    if not r.managed:
        return _f(
            Verdict.WARNING,
            codes.RESOURCE_UNMANAGED,
            r.id,
            f"{r.id} is unmanaged: Pacemaker will not start, stop or recover it",
            evidence=(r.line(),),
            node=where,
            next_steps=(f"pcs resource manage {name}",),
        )
    if r.role == "Stopped" and r.disabled:
        return _f(
            Verdict.WARNING,
            codes.RESOURCE_DISABLED,
            r.id,
            f"{r.id} is disabled (target-role=Stopped)",
            evidence=(r.line(),),
            next_steps=(f"pcs resource enable {name}",),
        )
    if r.role == "Stopped":
        verdict = Verdict.WARNING if r.parent else Verdict.CRITICAL
        return _f(
            verdict,
            codes.RESOURCE_STOPPED,
            r.id,
            f"{r.id} is stopped",
            evidence=(r.line(),),
            next_steps=(f"crm_resource --why --resource {r.id}", f"pcs resource cleanup {name}"),
        )
    return None


def _spare_clone_instances(crm: CrmMon) -> set[int]:
    """Stopped instances of a clone beyond those the online cluster nodes it does not run
    on lack: clone-max defaults to the node count, guest nodes included, so a clone beside
    bundles has more instances than places to run them, which is normal."""
    members = sum(1 for n in crm.nodes if n.type == "member" and n.online and not n.standby)
    instances: dict[tuple[str, str], list[PcmkResource]] = {}
    for r in crm.resources:
        if r.parent is not None and r.replica is None:
            instances.setdefault((r.parent, r.id), []).append(r)
    spare: set[int] = set()
    for same in instances.values():
        if len(same) < 2 or not members:
            continue
        active = {n for r in same if r.active for n in r.nodes}
        stopped = [
            r
            for r in same
            if r.role == "Stopped" and not (r.failed or r.blocked or r.disabled) and r.managed
        ]
        # the members it does not run on each lack one instance; the rest have no place
        missing = max(0, members - len(active))
        spare.update(id(r) for r in stopped[missing:])
    return spare


def _resources(crm: CrmMon) -> list[Finding]:
    out: list[Finding] = []
    for bundle in crm.bundles:
        found = _bundle(crm, bundle)
        if found is not None:
            out.append(found)
    spare = _spare_clone_instances(crm)
    for r in crm.resources:
        # Bundle members are judged as replicas above, except what needs its own action.
        if r.replica is not None and not (r.blocked or not r.managed):
            continue
        if id(r) in spare:
            continue
        found = _resource(r)
        if found is not None:
            out.append(found)
    if not out:
        out.append(
            _f(
                Verdict.OK,
                codes.RESOURCES_OK,
                "resources",
                f"{sum(1 for r in crm.resources if r.active)} resource instances active, "
                f"{len(crm.bundles)} bundles with every replica running",
            )
        )
    return out


def _cleanup_target(crm: CrmMon, resource: str, node: str) -> str:
    bundle = crm.bundle_of_node(node)
    if bundle is not None:
        return f"pcs resource cleanup {bundle.id}"
    return f"pcs resource cleanup {resource} --node {node}"


def _failures(crm: CrmMon) -> list[Finding]:
    out: list[Finding] = []
    counts = {(h.node, h.resource): h for h in crm.histories}
    reported: set[tuple[str, str]] = set()
    for f in crm.failures:
        history = counts.get((f.node, f.resource))
        count = f"; fail-count {history.fail_count}" if history and history.fail_count else ""
        host = crm.host_of(f.node)
        guest = crm.node(f.node)
        look = (
            f"ssh {host} podman logs --tail 100 {guest.container}"
            if guest is not None and guest.container
            else f"crm_resource --why --resource {f.resource}"
        )
        at = f"{f.node} (on {host})" if host != f.node else f.node
        reason = f": {f.exitreason}" if f.exitreason else ""
        out.append(
            _f(
                Verdict.CRITICAL,
                codes.FAILED_ACTION,
                f.resource,
                f"{f.resource} {f.task} failed on {at}: '{f.exitstatus}'{reason}{count}",
                evidence=(f.line(),),
                node=host,
                next_steps=(look, _cleanup_target(crm, f.resource, f.node)),
            )
        )
        reported.add((f.node, f.resource))
    for h in crm.histories:
        if h.fail_count and (h.node, h.resource) not in reported:
            limit = (
                f" of migration-threshold {h.migration_threshold}" if h.migration_threshold else ""
            )
            out.append(
                _f(
                    Verdict.WARNING,
                    codes.FAIL_COUNT,
                    h.resource,
                    f"{h.resource} has fail-count {h.fail_count}{limit} on {h.node}",
                    evidence=(
                        f"{h.resource} on {h.node}: fail-count={h.fail_count}"
                        f" last-failure='{h.last_failure}'",
                    ),
                    node=crm.host_of(h.node),
                    next_steps=(_cleanup_target(crm, h.resource, h.node),),
                )
            )
    return out


def assess_crm_mon(crm: CrmMon) -> tuple[Finding, ...]:
    """Every cluster finding; a crm_mon that could not reach the cluster is critical."""
    if crm.status_code != 0 and not crm.nodes:
        return (
            _f(
                Verdict.CRITICAL,
                codes.PROBE_FAILED,
                "cluster",
                f"crm_mon cannot read the cluster status: {crm.status_message}"
                f" (code {crm.status_code}); is Pacemaker running here?",
                evidence=crm.errors,
                next_steps=("pcs cluster status", "pcs cluster start"),
            ),
        )
    return (*_cluster_wide(crm), *_nodes(crm), *_resources(crm), *_failures(crm))


def parse_capture(captures: Captures) -> CrmMon | None:
    """The parsed crm_mon capture, or None when it is absent or unreadable."""
    capture = captures.first(KEY)
    if capture is None or not capture.ok:
        return None
    if isinstance(capture.parsed, CrmMon):
        return capture.parsed
    try:
        return parse_crm_mon(capture.text)
    except ProbeOutputError:
        return None


def assess(captures: Captures) -> tuple[Finding, ...]:
    capture = captures.first(KEY)
    if capture is None:
        return ()
    if capture.ok and isinstance(capture.parsed, CrmMon):
        return assess_crm_mon(capture.parsed)
    # crm_mon exits non-zero when it cannot reach the cluster, but still prints its
    # XML status with the reason: read that first.
    failed_with_xml = capture.status is CaptureStatus.FAILED and capture.text.strip()
    if not capture.ok and not failed_with_xml:
        return (
            capture_problem(AREA, capture, subject="cluster", next_steps=("pcs cluster status",)),
        )
    try:
        crm = parse_crm_mon(capture.text)
    except ProbeOutputError as err:
        if failed_with_xml:
            return (
                capture_problem(
                    AREA, capture, subject="cluster", next_steps=("pcs cluster status",)
                ),
            )
        return (unparseable(AREA, capture, err),)
    return assess_crm_mon(crm)
