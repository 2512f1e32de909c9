"""Probing a live hakeeper cluster: its status (read from the store by the caller), then each
service where the status says it runs: on each node that is this host or, in the lab, a
network namespace named after the node (checks/where.py).

The status read is a callable returning a ClusterRead (hakeeper.commands.check_cluster
turns `hakeeper status` into the cluster model), so this module does the probes' I/O and
nothing above it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hakeeper.checks import galera, haproxy, rabbitmq, redis, vips
from hakeeper.checks.capture import Capture, CaptureStatus
from hakeeper.checks.catalog import ProbeSpec
from hakeeper.checks.cluster import KEY as CLUSTER_KEY
from hakeeper.checks.crm_mon import CrmMon
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
    cib_xml: str = ""  # the CIB the status was computed from (for the VIPs' addresses)
    status_xml: str = ""  # the status as crm_mon's XML, when the outputs are kept (--save)


def bounded(call: Callable[[], ClusterRead], origin: str, timeout: float) -> ClusterRead:
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


@dataclass(frozen=True, slots=True)
class HakeeperSource:
    """A hakeeper cluster: its status from the store, its services probed on the nodes of
    it that are on this host (this host itself, or the lab's namespaces)."""

    store: str
    read: Callable[[], ClusterRead]
    runner: CommandRunner
    hostname: str
    timeout: float = 10.0
    look: Callable[[], HostView] = scan
    socket_query: Callable[[str, str, float], str] = query_unix_socket
    host_probes: LiveHostSource | None = None

    @property
    def description(self) -> str:
        return f"hakeeper cluster at {self.store}"

    def jobs(self, specs: Sequence[ProbeSpec]) -> Sequence[Job]:
        # Where the services run decides what to probe: read the status first, once.
        read = bounded(self.read, self._origin(), self.timeout)
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
        if Area.HAPROXY in wanted and read.crm is not None:
            out.extend(self._vip_jobs(view, read, read.crm))
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
        return f"hakeeper status --store {self.store}"

    def _cluster_capture(self, read: ClusterRead) -> Capture:
        return Capture(
            CLUSTER_KEY,
            None,
            read.origin,
            read.status,
            text=read.status_xml,
            reason=read.reason,
            parsed=read.crm,
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

    def _vip_jobs(self, view: HostView, read: ClusterRead, crm: CrmMon) -> list[Job]:
        """The CIB (VIP addresses), each reachable node's addresses, and the haproxy.cfg
        of each haproxy running here (the addresses it binds)."""
        out: list[Job] = []
        if not any(r.agent in vips.VIP_AGENTS for r in crm.resources):
            return out
        if read.cib_xml:
            cib = Capture(vips.CIB_KEY, None, read.origin, CaptureStatus.OK, read.cib_xml)
            out.append(Job(vips.CIB_KEY, None, lambda: cib))
        for state in crm.nodes:
            if state.type != "member" or not state.online:
                continue
            node = state.name
            netns = view.netns_of(node, self.hostname)
            if netns is None:
                continue
            argv: tuple[str, ...] = ("ip", "-j", "addr", "show")
            if node != self.hostname:
                argv = ("ip", "-n", node, "-j", "addr", "show")
            out.append(self._command(vips.ADDR_KEY, node, argv))
            for process in view.service(netns, "haproxy")[:1]:
                config = haproxy_config(process)
                if config is not None:
                    path = view.path_as_seen_by(process, config)
                    out.append(_file_job(vips.CONFIG_KEY, node, path))
        return out

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


def _key(service: str) -> str:
    return {
        "redis": redis.KEY,
        "haproxy": haproxy.KEY,
        "galera": galera.STATUS_KEY,
        "rabbitmq": rabbitmq.KEY,
    }[service]


def _file_job(key: str, node: str, path: str) -> Job:
    return Job(key, node, lambda: _read_file(key, node, path))


def _read_file(key: str, node: str, path: str) -> Capture:
    try:
        with open(path, errors="replace") as f:
            return Capture(key, node, path, CaptureStatus.OK, f.read())
    except FileNotFoundError:
        return Capture(key, node, path, CaptureStatus.NOT_CAPTURED, reason="no such file")
    except OSError as err:
        return Capture(key, node, path, CaptureStatus.FAILED, reason=err.strerror or str(err))
