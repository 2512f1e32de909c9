"""The third source of `check`: a live hakeeper cluster.

The cluster area comes from hakeeper's own status (the store, read as `hakeeper status`
does: nodes, quorum, resources, failed operations, fail counts, options), turned into the
same status model the crm_mon parser yields, so both clusters are judged by one set of
rules. The services are probed where the status says they run: on each node that is this
host or, in the lab, a network namespace named after the node (checks/where.py).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from hakeeper.checks import galera, haproxy, rabbitmq, redis
from hakeeper.checks.capture import Capture, CaptureStatus
from hakeeper.checks.catalog import ProbeSpec
from hakeeper.checks.cluster import KEY as CLUSTER_KEY
from hakeeper.checks.crm_mon import (
    CrmMon,
    PcmkFailure,
    PcmkNode,
    PcmkResource,
    ResourceHistory,
)
from hakeeper.checks.finding import Area
from hakeeper.checks.runner import CommandRunner, capture_command
from hakeeper.checks.sources import Job, LiveHostSource, query_unix_socket
from hakeeper.checks.where import (
    HostView,
    Process,
    haproxy_config,
    haproxy_stats_socket,
    in_netns_of,
    mysql_datadir,
    redis_address,
    scan,
)
from hakeeper.commands.cib_store import read_cib
from hakeeper.commands.env import Env
from hakeeper.commands.status import StatusDto, status_of
from hakeeper.model.cib import Cib
from hakeeper.model.scores import INFINITY
from hakeeper.node.records import cluster_cib
from hakeeper.reports import CommandError
from hakeeper.scheduler.view import ResourceView

#: the services probed where they run, by the area that judges them
SERVICES: tuple[tuple[Area, str], ...] = (
    (Area.REDIS, "redis"),
    (Area.HAPROXY, "haproxy"),
    (Area.GALERA, "galera"),
    (Area.RABBITMQ, "rabbitmq"),
)


@dataclass(frozen=True, slots=True)
class ClusterRead:
    """What the store said: the status (None if it could not be read) and why not."""

    crm: CrmMon | None
    origin: str
    status: CaptureStatus
    reason: str = ""
    placement: tuple[tuple[str, tuple[str, ...]], ...] = ()  # service -> nodes running it


# ------------------------------------------------------------------ status -> model


def _primitives(r: ResourceView, top: str | None) -> Iterator[tuple[ResourceView, str | None]]:
    if r.kind == "primitive":
        yield r, top
        return
    for child in r.children:
        yield from _primitives(child, top or r.id)


def _shown_id(r: ResourceView, parent: ResourceView | None) -> str:
    # crm_mon names anonymous clone instances by the primitive's id
    if parent is not None and parent.kind == "clone" and not parent.unique:
        return r.id.split(":", 1)[0]
    return r.id


def _resources(dto: StatusDto) -> list[PcmkResource]:
    out: list[PcmkResource] = []

    def visit(r: ResourceView, parent: ResourceView | None, top: str | None) -> None:
        if r.kind != "primitive":
            for child in r.children:
                visit(child, r, top or r.id)
            return
        out.append(
            PcmkResource(
                id=_shown_id(r, parent),
                agent=r.agent or "",
                role=r.role.label if r.nodes else "Stopped",
                target_role="Stopped" if r.disabled else None,
                active=bool(r.nodes),
                blocked=r.blocked,
                managed=r.managed,
                failed=r.failed,
                nodes=r.nodes,
                parent=top,
                replica=None,
            )
        )

    for r in dto.view.resources:
        visit(r, None, None)
    return out


def _fail_counts(cib: Cib) -> list[ResourceHistory]:
    """fail-count-RSC[#op_INTERVAL] node attributes, summed per resource and node."""
    out: list[ResourceHistory] = []
    for state in cib.status.nodes:
        counts: dict[str, int] = {}
        last: dict[str, str] = {}
        for name, value in state.attributes:
            for prefix in ("fail-count-", "last-failure-"):
                if not name.startswith(prefix):
                    continue
                rsc = re.sub(r":[0-9]+$", "", name[len(prefix) :].split("#", 1)[0])
                if prefix == "fail-count-":
                    n = INFINITY if value.upper().lstrip("+") == "INFINITY" else _int(value)
                    counts[rsc] = min(INFINITY, counts.get(rsc, 0) + n)
                elif value.isdigit():
                    last[rsc] = max(last.get(rsc, ""), _when(int(value)))
        for rsc, count in sorted(counts.items()):
            if count:
                out.append(
                    ResourceHistory(state.uname or state.id, rsc, count, None, last.get(rsc, ""))
                )
    return out


def _int(text: str) -> int:
    try:
        return max(0, int(text))
    except ValueError:
        return 0


def _when(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(epoch))


def crm_of(dto: StatusDto, cib: Cib) -> CrmMon:
    """hakeeper's status as the model crm_mon's XML is read into."""
    return CrmMon(
        status_code=0,
        status_message="OK",
        dc_present=dto.dc is not None,
        dc_name=dto.dc,
        with_quorum=dto.have_quorum,
        stonith_enabled=dto.options.stonith_enabled,
        maintenance_mode=dto.options.maintenance_mode,
        stop_all_resources=dto.options.stop_all_resources,
        no_quorum_policy=dto.options.no_quorum_policy,
        nodes=tuple(
            PcmkNode(
                name=n.name,
                type="member",
                online=n.online,
                standby=n.standby,
                maintenance=n.maintenance,
                pending=n.pending,
                unclean=n.unclean,
                shutdown=n.shutdown,
                expected_up=n.online,
                is_dc=n.name == dto.dc,
                container=None,
            )
            for n in dto.view.nodes
        ),
        resources=tuple(_resources(dto)),
        bundles=(),
        failures=tuple(
            PcmkFailure(
                op_key=f.op_key,
                node=f.node,
                task=f.task,
                interval_ms=f.interval_ms,
                exitcode=f.rc,
                exitstatus=f.rc_text,
                exitreason=f.exit_reason,
                status=f.status_text,
                last_rc_change=_when(f.last_rc_change or 0),
                call=str(f.call_id),
            )
            for f in dto.failures
        ),
        histories=tuple(_fail_counts(cib)),
        fence_events=(),
    )


def _names(service: str) -> re.Pattern[str]:
    # redis, redis:0, redis-bundle, redis-bundle-podman-0, haproxy-clone ...
    return re.compile(rf"^{re.escape(service)}(?:$|[-:_])")


def where_services_run(dto: StatusDto) -> dict[str, tuple[str, ...]]:
    """For each probed service, the nodes the status has an instance of it running on."""
    out: dict[str, tuple[str, ...]] = {}
    for _, service in SERVICES:
        pattern = _names(service)
        nodes: set[str] = set()
        for top in dto.view.resources:
            for r, parent in _primitives(top, None):
                if pattern.match(r.id) or (parent and pattern.match(parent)):
                    nodes.update(r.nodes)
        out[service] = tuple(sorted(nodes))
    return out


def read_cluster(env: Env) -> tuple[StatusDto, Cib]:
    """The status at one store revision, and the CIB it was computed from."""
    with env.coordinator() as coord:
        read_cib(coord, env.store)
        snap = coord.snapshot()
    assert snap.config is not None
    leader = snap.leader.node if snap.leader else None
    cib = cluster_cib(snap.config.xml, snap.status.documents, snap.members, leader)
    return status_of(cib, snap.revision, snap.config.revision), cib


def _bounded(call: Callable[[], ClusterRead], origin: str, timeout: float) -> ClusterRead:
    """Run `call` in a thread; a store that does not answer in time is a finding."""
    box: list[ClusterRead] = []
    worker = threading.Thread(target=lambda: box.append(call()), daemon=True)
    worker.start()
    worker.join(timeout)
    if box:
        return box[0]
    return ClusterRead(
        None, origin, CaptureStatus.TIMEOUT, f"the store did not answer within {timeout:g} s"
    )


def cluster_read(
    env: Env, read: Callable[[Env], tuple[StatusDto, Cib]] = read_cluster
) -> Callable[[], ClusterRead]:
    origin = f"hakeeper status --store {env.store}"

    def call() -> ClusterRead:
        try:
            dto, cib = read(env)
        except CommandError as err:
            reason = "; ".join(r.message for r in err.reports) or str(err)
            return ClusterRead(None, origin, CaptureStatus.FAILED, reason)
        except Exception as err:  # a bug must become a finding, not a traceback
            return ClusterRead(
                None, origin, CaptureStatus.FAILED, f"internal error: {type(err).__name__}: {err}"
            )
        return ClusterRead(
            crm_of(dto, cib),
            origin,
            CaptureStatus.OK,
            placement=tuple(where_services_run(dto).items()),
        )

    return call


# ------------------------------------------------------------------------- source


@dataclass(frozen=True, slots=True)
class HakeeperSource:
    """A hakeeper cluster: its status from the store, its services probed on the nodes of
    it that are on this host (this host itself, or the lab's namespaces)."""

    env: Env
    runner: CommandRunner
    hostname: str
    timeout: float = 10.0
    read: Callable[[Env], tuple[StatusDto, Cib]] = read_cluster
    look: Callable[[], HostView] = scan
    socket_query: Callable[[str, str, float], str] = query_unix_socket
    host_probes: LiveHostSource | None = None

    @property
    def description(self) -> str:
        return f"hakeeper cluster at {self.env.store}"

    def jobs(self, specs: Sequence[ProbeSpec]) -> Sequence[Job]:
        # Where the services run decides what to probe: read the status first, once.
        read = _bounded(cluster_read(self.env, self.read), self._origin(), self.timeout)
        view = self.look()
        wanted = {spec.area for spec in specs}
        out: list[Job] = []
        if Area.CLUSTER in wanted:
            out.append(Job(CLUSTER_KEY, None, lambda: self._cluster_capture(read)))
        placed = dict(read.placement)
        for area, service in SERVICES:
            if area not in wanted:
                continue
            if read.crm is None:
                out.append(
                    self._const(
                        _key(service),
                        None,
                        CaptureStatus.NOT_CAPTURED,
                        f"the cluster status could not be read: {read.reason}",
                    )
                )
                continue
            if not placed.get(service):
                out.append(
                    self._const(
                        _key(service),
                        None,
                        CaptureStatus.NOT_CAPTURED,
                        f"no {service} resource runs in this cluster",
                    )
                )
            for node in placed.get(service, ()):
                out.extend(self._service_jobs(view, service, node, read.crm))
        host_specs = [s for s in specs if s.area in (Area.CEPH, Area.OPENSTACK)]
        if host_specs:
            host = self.host_probes or LiveHostSource(self.runner, self.hostname, self.timeout)
            out.extend(host.host_jobs(host_specs))
        if Area.CONTAINERS in wanted:
            out.append(
                self._const(
                    "podman_ps.json",
                    None,
                    CaptureStatus.NOT_CAPTURED,
                    "containers of a hakeeper cluster are listed by `hakeeper status`"
                    " (bundles); no host-wide container list is read",
                )
            )
        return out

    def _origin(self) -> str:
        return f"hakeeper status --store {self.env.store}"

    def _cluster_capture(self, read: ClusterRead) -> Capture:
        return Capture(
            CLUSTER_KEY, None, read.origin, read.status, reason=read.reason, parsed=read.crm
        )

    def _const(
        self, key: str, node: str | None, status: CaptureStatus, reason: str, origin: str = ""
    ) -> Job:
        capture = Capture(key, node, origin or key, status, reason=reason)
        return Job(key, node, lambda: capture)

    def _service_jobs(self, view: HostView, service: str, node: str, crm: CrmMon) -> list[Job]:
        key = _key(service)
        state = crm.node(node)
        if state is not None and not state.online:
            return [self._const(key, node, CaptureStatus.NOT_CAPTURED, f"{node} is offline")]
        netns = view.netns_of(node, self.hostname)
        if netns is None:
            return [
                self._const(
                    key,
                    node,
                    CaptureStatus.NOT_CAPTURED,
                    f"{node} is another machine (not this host, no network namespace {node}):"
                    f" run hakeeper check there",
                )
            ]
        found = view.service(netns, service)
        if not found:
            # the cluster says it runs there, but nothing does: the service died under it
            return [
                self._const(
                    key,
                    node,
                    CaptureStatus.FAILED,
                    f"the cluster has {service} running on {node}, but no"
                    f" {service} process runs there",
                    origin=f"processes in {node}'s network namespace",
                )
            ]
        process = found[0]
        if service == "redis":
            host, port = redis_address(process)
            argv = in_netns_of(
                process, ("redis-cli", "-h", host, "-p", port, "INFO", "replication")
            )
            return [self._command(key, node, argv)]
        if service == "haproxy":
            return [Job(key, node, lambda: self._haproxy(view, process, node))]
        if service == "galera":
            status = in_netns_of(
                process, ("mysql", "-e", "SHOW GLOBAL STATUS LIKE 'wsrep_%'"), mounts=True
            )
            grastate = view.path_as_seen_by(process, f"{mysql_datadir(process)}/grastate.dat")
            return [
                self._command(galera.STATUS_KEY, node, status),
                Job(
                    galera.GRASTATE_KEY,
                    node,
                    lambda: _read_file(galera.GRASTATE_KEY, node, grastate),
                ),
            ]
        argv = in_netns_of(
            process, ("rabbitmqctl", "cluster_status", "--formatter", "json"), mounts=True
        )
        return [self._command(key, node, argv)]

    def _command(self, key: str, node: str, argv: tuple[str, ...]) -> Job:
        return Job(
            key,
            node,
            lambda: capture_command(self.runner, key, node, argv, timeout=self.timeout),
        )

    def _haproxy(self, view: HostView, process: Process, node: str) -> Capture:
        key = haproxy.KEY
        config = haproxy_config(process)
        origin = f"haproxy pid {process.pid} on {node}"
        if config is None:
            return Capture(
                key,
                node,
                origin,
                CaptureStatus.NOT_CAPTURED,
                reason="haproxy runs without -f FILE: its stats socket is unknown",
            )
        try:
            with open(view.path_as_seen_by(process, config), errors="replace") as f:
                text = f.read()
        except OSError as err:
            return Capture(
                key,
                node,
                origin,
                CaptureStatus.FAILED,
                reason=f"cannot read {config}: {err.strerror}",
            )
        path = haproxy_stats_socket(text)
        if path is None:
            return Capture(
                key,
                node,
                config,
                CaptureStatus.NOT_CAPTURED,
                reason=f"no `stats socket` in {config}",
            )
        origin = f"echo 'show stat' | socat stdio {path}  (on {node})"
        try:
            out = self.socket_query(view.path_as_seen_by(process, path), "show stat", self.timeout)
        except TimeoutError:
            return Capture(
                key,
                node,
                origin,
                CaptureStatus.TIMEOUT,
                reason=f"no answer within {self.timeout:g} s",
            )
        except OSError as err:
            return Capture(key, node, origin, CaptureStatus.FAILED, reason=err.strerror or str(err))
        return Capture(key, node, origin, CaptureStatus.OK, out)


# The rules judge both clusters and name Pacemaker's tools; on a hakeeper cluster the next
# command is hakeeper's (its resource and property verbs take pcs's arguments).
_PCS_TO_HAKEEPER = (
    (
        re.compile(r"^pcs (resource (?:cleanup|enable|manage|refresh)|property set) "),
        r"hakeeper \1 ",
    ),
    (
        re.compile(r"^(?:crm_resource --why --resource \S+|pcs status(?: --full)?)$"),
        "hakeeper status",
    ),
    (re.compile(r"^pcs cluster status$"), "hakeeper status"),
)


def hakeeper_step(step: str) -> str:
    """A next step for a Pacemaker cluster, as the command to run on a hakeeper cluster."""
    for pattern, replacement in _PCS_TO_HAKEEPER:
        if pattern.search(step):
            return pattern.sub(replacement, step)
    return step


def _key(service: str) -> str:
    return {
        "redis": redis.KEY,
        "haproxy": haproxy.KEY,
        "galera": galera.STATUS_KEY,
        "rabbitmq": rabbitmq.KEY,
    }[service]


def _read_file(key: str, node: str, path: str) -> Capture:
    try:
        with open(path, errors="replace") as f:
            return Capture(key, node, path, CaptureStatus.OK, f.read())
    except FileNotFoundError:
        return Capture(key, node, path, CaptureStatus.NOT_CAPTURED, reason="no such file")
    except OSError as err:
        return Capture(key, node, path, CaptureStatus.FAILED, reason=err.strerror or str(err))
