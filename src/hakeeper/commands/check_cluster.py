"""The third source of `check`: a live hakeeper cluster.

The cluster area comes from hakeeper's own status (the store, read as `hakeeper status`
does: nodes, quorum, resources, failed operations, fail counts, options), turned into the
same status model the crm_mon parser yields, so both clusters are judged by one set of
rules. The services are probed where the status says they run, by
hakeeper.checks.hakeeper_source.HakeeperSource, which this module feeds with the status.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterator

from hakeeper.checks.capture import CaptureStatus
from hakeeper.checks.crm_mon import (
    BundleReplica,
    CrmMon,
    FenceEvent,
    PcmkBundle,
    PcmkFailure,
    PcmkNode,
    PcmkResource,
    ResourceHistory,
)
from hakeeper.checks.hakeeper_source import SERVICES, ClusterRead, HakeeperSource
from hakeeper.checks.runner import CommandRunner
from hakeeper.checks.sources import query_unix_socket
from hakeeper.checks.where import HostView, scan
from hakeeper.cib.render import render_cib
from hakeeper.commands.env import Env
from hakeeper.commands.status import StatusDto, cluster_status_and_cib
from hakeeper.model.cib import Cib
from hakeeper.model.config import Bundle
from hakeeper.model.scores import INFINITY
from hakeeper.reports import CommandError
from hakeeper.scheduler.view import ResourceView

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


def _resource(r: ResourceView, parent: ResourceView | None, top: str | None) -> PcmkResource:
    # a bundle's replica is running where its container is, unless shown Stopped
    active = bool(r.nodes) and not r.stopped_label
    in_bundle = parent is not None and parent.kind == "bundle"
    return PcmkResource(
        id=_shown_id(r, parent).split(" ", 1)[0],  # a replica line may add " (IP)"
        agent=r.agent or "",
        role=r.role.label if active else "Stopped",
        target_role="Stopped" if r.disabled else None,
        active=active,
        blocked=r.blocked,
        managed=r.managed,
        failed=r.failed,
        nodes=r.nodes if active else (),
        parent=top,
        replica=str(parent.children.index(r)) if in_bundle and parent else None,
    )


def _resources(dto: StatusDto, bundles: list[PcmkBundle]) -> list[PcmkResource]:
    out: list[PcmkResource] = []

    def visit(r: ResourceView, parent: ResourceView | None, top: str | None) -> None:
        if r.kind != "primitive":
            for child in r.children:
                visit(child, r, top or r.id)
            return
        out.append(_resource(r, parent, top))

    for r in dto.view.resources:
        if r.kind != "bundle":
            visit(r, None, None)
    return out + [res for b in bundles for replica in b.replicas for res in replica.resources]


def _bundle_config(cib: Cib) -> dict[str, Bundle]:
    return {r.id: r for r in cib.configuration.resources if isinstance(r, Bundle)}


def _replica(bundle: ResourceView, config: Bundle | None, i: int) -> BundleReplica:
    """A replica as crm_mon lists it: the resource inside (on the guest node), the container
    (BUNDLE-ENGINE-N, on its host) and the remote connection (the guest node's name)."""
    line = bundle.children[i]
    engine = config.engine if config else "podman"
    replica = str(i)

    def member(rid: str, agent: str, role: str, nodes: tuple[str, ...]) -> PcmkResource:
        return PcmkResource(
            rid, agent, role if nodes else "Stopped", None, bool(nodes), False,
            bundle.managed, False, nodes, bundle.id, replica,
        )  # fmt: skip

    engine_agent = f"ocf:heartbeat:{engine}"
    container = member(f"{bundle.id}-{engine}-{i}", engine_agent, "Started", line.nodes)
    if config is None or config.child is None:
        return BundleReplica(replica, (container,))
    guest = line.id.split(" ", 1)[0]  # the line is named after the guest, plus " (IP)"
    inside = _resource(line, bundle, bundle.id)
    placed = (guest,) if inside.active else ()
    child = dataclasses.replace(inside, id=config.child.id, nodes=placed, replica=replica)
    remote = member(guest, "ocf:pacemaker:remote", "Started", line.nodes)
    return BundleReplica(replica, (child, container, remote))


def _bundles(dto: StatusDto, cib: Cib) -> list[PcmkBundle]:
    """Each bundle with one replica per configured replica (hakeeper shows every one, placed
    or not), so the rules see how many run against how many are configured."""
    configs = _bundle_config(cib)
    return [
        PcmkBundle(
            b.id,
            b.agent or "",
            b.managed,
            tuple(_replica(b, configs.get(b.id), i) for i in range(len(b.children))),
        )
        for b in dto.view.resources
        if b.kind == "bundle"
    ]


def _guests(bundles: list[PcmkBundle]) -> dict[str, str]:
    """Guest node (the replica's remote connection) -> the container it lives in."""
    return {
        replica.resources[2].id: replica.resources[1].id
        for b in bundles
        for replica in b.replicas
        if len(replica.resources) == 3
    }


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


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(epoch))


def crm_of(dto: StatusDto, cib: Cib) -> CrmMon:
    """hakeeper's status as the model crm_mon's XML is read into."""
    bundles = _bundles(dto, cib)
    guests = _guests(bundles)
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
                type="remote" if n.kind != "member" else "member",
                online=n.online,
                standby=n.standby,
                maintenance=n.maintenance,
                pending=n.pending,
                unclean=n.unclean,
                shutdown=n.shutdown,
                expected_up=n.online,
                is_dc=n.name == dto.dc,
                container=guests.get(n.name),
            )
            for n in dto.view.nodes
        ),
        resources=tuple(_resources(dto, bundles)),
        bundles=tuple(bundles),
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
        fence_events=tuple(
            FenceEvent(
                action=r.action,
                target=r.target,
                status=r.status,
                origin=r.origin,
                delegate=r.delegate,
                completed=_when(r.completed),
                exit_reason=r.exit_reason,
            )
            for r in dto.fencing
        ),
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
    """The status at one store revision (as `hakeeper status`, fencing history included),
    and the CIB it was computed from."""
    return cluster_status_and_cib(env)


def cluster_read(
    env: Env,
    read: Callable[[Env], tuple[StatusDto, Cib]] = read_cluster,
    render_status: Callable[[StatusDto], bytes] | None = None,
) -> Callable[[], ClusterRead]:
    """The store's read as check's cluster capture; with render_status (crm_mon's XML,
    which the CLI renders), the status as text too, for --save."""
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
            cib_xml=render_cib(cib).decode(),
            status_xml=render_status(dto).decode() if render_status else "",
        )

    return call


# The rules judge both clusters and name Pacemaker's tools; on a hakeeper cluster the next
# command is hakeeper's (its resource and property verbs take pcs's arguments).
_PCS_TO_HAKEEPER = (
    (
        re.compile(
            r"^pcs (resource (?:cleanup|enable|manage|refresh)|property set|stonith history) "
        ),
        r"hakeeper \1 ",
    ),
    (re.compile(r"^pcs status --full$"), "hakeeper status --full"),
    (
        re.compile(r"^(?:crm_resource --why --resource \S+|pcs status)$"),
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


def cluster_source(
    env: Env,
    runner: CommandRunner,
    hostname: str,
    timeout: float = 10.0,
    read: Callable[[Env], tuple[StatusDto, Cib]] = read_cluster,
    look: Callable[[], HostView] = scan,
    socket_query: Callable[[str, str, float], str] = query_unix_socket,
    render_status: Callable[[StatusDto], bytes] | None = None,
) -> HakeeperSource:
    """The source of a hakeeper cluster's check; `read`, `look` and `socket_query` are the
    seams tests replace (the store, the host's processes, HAProxy's socket)."""
    return HakeeperSource(
        env.store,
        cluster_read(env, read, render_status),
        runner,
        hostname,
        timeout,
        look,
        socket_query,
    )
