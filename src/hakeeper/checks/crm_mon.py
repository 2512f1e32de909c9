"""Pacemaker's status as `crm_mon -1 --output-as=xml` prints it, read into frozen data.

Pure: text in, CrmMon out. The schema is /usr/share/pacemaker/api/api-result-*.rng;
only what the cluster checks use is read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from hakeeper.checks.capture import ProbeOutputError, require_text


@dataclass(frozen=True, slots=True)
class PcmkNode:
    name: str
    type: str  # member, remote (guest nodes of bundles are remote with id_as_resource)
    online: bool
    standby: bool
    maintenance: bool
    pending: bool
    unclean: bool
    shutdown: bool
    expected_up: bool
    is_dc: bool
    container: str | None  # id_as_resource: the container resource a guest node lives in

    @property
    def is_guest(self) -> bool:
        return self.container is not None


@dataclass(frozen=True, slots=True)
class PcmkResource:
    id: str
    agent: str
    role: str
    target_role: str | None
    active: bool
    blocked: bool
    managed: bool
    failed: bool
    nodes: tuple[str, ...]
    parent: str | None  # the top-level clone, group or bundle it belongs to
    replica: str | None  # the bundle replica id, for bundle members

    @property
    def is_stonith(self) -> bool:
        return self.agent.startswith("stonith:")

    @property
    def disabled(self) -> bool:
        return (self.target_role or "").lower() == "stopped"

    def line(self) -> str:
        """A crm_mon-like line: `galera (ocf:heartbeat:galera): Promoted galera-bundle-1`."""
        flags = [
            f
            for f, on in (
                ("FAILED", self.failed),
                ("blocked", self.blocked),
                ("unmanaged", not self.managed),
            )
            if on
        ]
        where = " ".join(self.nodes)
        text = f"{self.id} ({self.agent}): {' '.join([*flags, self.role])} {where}"
        return text.rstrip()


@dataclass(frozen=True, slots=True)
class BundleReplica:
    id: str
    resources: tuple[PcmkResource, ...]

    @property
    def container(self) -> PcmkResource | None:
        """The container resource (ocf:heartbeat:podman or docker) of the replica."""
        for r in self.resources:
            if r.agent.endswith((":podman", ":docker")):
                return r
        return None

    @property
    def running(self) -> bool:
        return all(r.active and not r.failed for r in self.resources)


@dataclass(frozen=True, slots=True)
class PcmkBundle:
    id: str
    image: str
    managed: bool
    replicas: tuple[BundleReplica, ...]


@dataclass(frozen=True, slots=True)
class PcmkFailure:
    op_key: str
    node: str
    task: str
    interval_ms: int
    exitcode: int | None
    exitstatus: str
    exitreason: str
    status: str
    last_rc_change: str
    call: str

    @property
    def resource(self) -> str:
        """`redis_monitor_45000` -> `redis` (op keys are RESOURCE_TASK_INTERVAL)."""
        parts = self.op_key.rsplit("_", 2)
        return parts[0] if len(parts) == 3 else self.op_key

    def line(self) -> str:
        reason = f" ({self.exitreason})" if self.exitreason else ""
        return (
            f"{self.op_key} on {self.node} returned '{self.exitstatus}'{reason}"
            f" rc={self.exitcode} call={self.call} at {self.last_rc_change}"
        )


@dataclass(frozen=True, slots=True)
class ResourceHistory:
    node: str
    resource: str
    fail_count: int
    migration_threshold: int | None
    last_failure: str


@dataclass(frozen=True, slots=True)
class FenceEvent:
    action: str
    target: str
    status: str
    origin: str
    delegate: str
    completed: str
    exit_reason: str

    def line(self) -> str:
        return (
            f"{self.action} of {self.target} by {self.delegate or '?'} for {self.origin}:"
            f" {self.status} {self.completed} {self.exit_reason}"
        ).rstrip()


@dataclass(frozen=True, slots=True)
class CrmMon:
    status_code: int
    status_message: str
    dc_present: bool
    dc_name: str | None
    with_quorum: bool
    stonith_enabled: bool
    maintenance_mode: bool
    stop_all_resources: bool
    no_quorum_policy: str
    nodes: tuple[PcmkNode, ...]
    resources: tuple[PcmkResource, ...]  # every primitive instance, bundle members included
    bundles: tuple[PcmkBundle, ...]
    failures: tuple[PcmkFailure, ...]
    histories: tuple[ResourceHistory, ...]
    fence_events: tuple[FenceEvent, ...]
    errors: tuple[str, ...] = ()  # <status><errors> lines, when crm_mon failed

    def node(self, name: str) -> PcmkNode | None:
        return next((n for n in self.nodes if n.name == name), None)

    def host_of(self, node_name: str) -> str:
        """The cluster node a guest node (bundle replica) runs on; itself otherwise."""
        guest = self.node(node_name)
        if guest is None or guest.container is None:
            return node_name
        for r in self.resources:
            if r.id == guest.container and r.nodes:
                return r.nodes[0]
        return node_name

    def bundle_of_node(self, node_name: str) -> PcmkBundle | None:
        """The bundle whose replica hosts guest node `node_name`."""
        guest = self.node(node_name)
        if guest is None or guest.container is None:
            return None
        for bundle in self.bundles:
            for replica in bundle.replicas:
                if any(r.id == guest.container for r in replica.resources):
                    return bundle
        return None


def _bool(el: ET.Element, attr: str, default: bool = False) -> bool:
    value = el.get(attr)
    return default if value is None else value.lower() == "true"


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.removesuffix("ms"))
    except ValueError:
        return None


def _resource(el: ET.Element, parent: str | None, replica: str | None) -> PcmkResource:
    return PcmkResource(
        id=el.get("id", "?"),
        agent=el.get("resource_agent", ""),
        role=el.get("role", "Unknown"),
        target_role=el.get("target_role"),
        active=_bool(el, "active"),
        blocked=_bool(el, "blocked"),
        managed=_bool(el, "managed", True),
        failed=_bool(el, "failed"),
        nodes=tuple(n.get("name", "?") for n in el.findall("node")),
        parent=parent,
        replica=replica,
    )


def _walk(
    el: ET.Element, top: str | None, out: list[PcmkResource], bundles: list[PcmkBundle]
) -> None:
    for child in el:
        if child.tag == "resource":
            out.append(_resource(child, top, None))
        elif child.tag in ("clone", "group"):
            _walk(child, top or child.get("id"), out, bundles)
        elif child.tag == "bundle":
            bundle_id = child.get("id", "?")
            replicas = []
            for rep in child.findall("replica"):
                members = tuple(
                    _resource(r, bundle_id, rep.get("id", "?")) for r in rep.iter("resource")
                )
                out.extend(members)
                replicas.append(BundleReplica(rep.get("id", "?"), members))
            bundles.append(
                PcmkBundle(
                    bundle_id,
                    child.get("image", ""),
                    _bool(child, "managed", True),
                    tuple(replicas),
                )
            )


def parse_crm_mon(text: str) -> CrmMon:
    """Read crm_mon's XML; ProbeOutputError if it is not that (empty, truncated, other)."""
    require_text(text, "crm_mon")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        raise ProbeOutputError(f"not well-formed XML ({err})") from err
    if root.tag not in ("pacemaker-result", "crm_mon"):
        raise ProbeOutputError(f"not crm_mon XML (root element <{root.tag}>)")
    status = root.find("status")
    code = _int(status.get("code")) if status is not None else 0
    summary = root.find("summary")
    if summary is None:
        if code and status is not None:  # crm_mon could not reach the cluster
            errors = tuple((e.text or "").strip() for e in status.iter("error"))
            return _empty(code, status.get("message", ""), errors)
        raise ProbeOutputError("crm_mon XML without a <summary>")
    dc = summary.find("current_dc")
    options = summary.find("cluster_options")
    opts = options if options is not None else ET.Element("cluster_options")
    nodes = tuple(
        PcmkNode(
            name=n.get("name", "?"),
            type=n.get("type", "member"),
            online=_bool(n, "online"),
            standby=_bool(n, "standby"),
            maintenance=_bool(n, "maintenance"),
            pending=_bool(n, "pending"),
            unclean=_bool(n, "unclean"),
            shutdown=_bool(n, "shutdown"),
            expected_up=_bool(n, "expected_up"),
            is_dc=_bool(n, "is_dc"),
            container=n.get("id_as_resource"),
        )
        for n in root.findall("nodes/node")
    )
    resources: list[PcmkResource] = []
    bundles: list[PcmkBundle] = []
    res_el = root.find("resources")
    if res_el is not None:
        _walk(res_el, None, resources, bundles)
    failures = tuple(
        PcmkFailure(
            op_key=f.get("op_key", "?"),
            node=f.get("node", "?"),
            task=f.get("task", "?"),
            interval_ms=_int(f.get("interval")) or 0,
            exitcode=_int(f.get("exitcode")),
            exitstatus=f.get("exitstatus", ""),
            exitreason=f.get("exitreason", ""),
            status=f.get("status", ""),
            last_rc_change=f.get("last-rc-change", ""),
            call=f.get("call", ""),
        )
        for f in root.findall("failures/failure")
    )
    histories = tuple(
        ResourceHistory(
            node=node.get("name", "?"),
            resource=h.get("id", "?"),
            fail_count=_int(h.get("fail-count")) or 0,
            migration_threshold=_int(h.get("migration-threshold")),
            last_failure=h.get("last-failure", ""),
        )
        for node in root.findall("node_history/node")
        for h in node.findall("resource_history")
    )
    fences = tuple(
        FenceEvent(
            action=e.get("action", "?"),
            target=e.get("target", "?"),
            status=e.get("status", "?"),
            origin=e.get("origin", ""),
            delegate=e.get("delegate", ""),
            completed=e.get("completed", ""),
            exit_reason=e.get("exit-reason", ""),
        )
        for e in root.findall("fence_history/fence_event")
    )
    return CrmMon(
        status_code=code or 0,
        status_message=status.get("message", "") if status is not None else "",
        dc_present=dc is not None and _bool(dc, "present"),
        dc_name=dc.get("name") if dc is not None else None,
        with_quorum=dc is not None and _bool(dc, "with_quorum"),
        stonith_enabled=_bool(opts, "stonith-enabled", True),
        maintenance_mode=_bool(opts, "maintenance-mode"),
        stop_all_resources=_bool(opts, "stop-all-resources"),
        no_quorum_policy=opts.get("no-quorum-policy", "stop"),
        nodes=nodes,
        resources=tuple(resources),
        bundles=tuple(bundles),
        failures=failures,
        histories=histories,
        fence_events=fences,
    )


def _empty(code: int, message: str, errors: tuple[str, ...]) -> CrmMon:
    return CrmMon(
        code,
        message,
        False,
        None,
        False,
        True,
        False,
        False,
        "stop",
        (),
        (),
        (),
        (),
        (),
        (),
        errors,
    )
