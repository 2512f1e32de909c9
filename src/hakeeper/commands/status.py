"""`status`: the cluster as crm_mon shows it, from the store (or from a CIB file).

The resource and node view is the scheduler's (hakeeper.scheduler.view.view_of) on the CIB
the leader would schedule: the stored configuration plus a status section built from the
store's op history and membership (hakeeper.node.records.cluster_cib).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from hakeeper.cib.edit import values_of, walk
from hakeeper.cib.parse import is_true, parse_cib_file
from hakeeper.commands.cib_store import read_cib
from hakeeper.commands.env import Env
from hakeeper.model.cib import Cib
from hakeeper.model.config import Clone, Location, Role
from hakeeper.model.scores import INFINITY, parse_score
from hakeeper.node.records import FenceRecord, cluster_cib, fence_history
from hakeeper.reports import CommandError
from hakeeper.scheduler.cluster import Cluster, failures_of, unpack
from hakeeper.scheduler.view import ClusterView, view_of
from hakeeper.scheduler.working import Rsc, Variant

RC_TEXT = {
    0: "ok",
    1: "error",
    2: "invalid parameter",
    3: "unimplemented feature",
    4: "insufficient privileges",
    5: "not installed",
    6: "not configured",
    7: "not running",
    8: "promoted",
    9: "promoted (failed)",
}
OP_STATUS_TEXT = {
    0: "complete",
    1: "pending",
    2: "cancelled",
    3: "timed out",
    4: "not supported",
    5: "error",
    6: "error",
    7: "not installed",
}


@dataclass(frozen=True, slots=True)
class Ban:
    """A negative location constraint on one node, as crm_mon's `bans` list."""

    id: str
    resource: str
    node: str
    weight: int
    promoted_only: bool


@dataclass(frozen=True, slots=True)
class OpHistory:
    """One operation in a node's history of a resource (crm_mon's operation_history)."""

    call_id: int
    task: str
    rc: int
    interval_ms: int
    last_rc_change: int | None
    exec_ms: int
    queue_ms: int

    @property
    def rc_text(self) -> str:
        return RC_TEXT.get(self.rc, "unknown")


@dataclass(frozen=True, slots=True)
class Failure(OpHistory):
    """A resource's last failed operation on a node (crm_mon's "Failed Resource Actions"):
    the operation, where, and how it ended."""

    op_key: str
    node: str
    exit_reason: str
    op_status: int

    @property
    def status_text(self) -> str:
        return OP_STATUS_TEXT.get(self.op_status, "unknown")


@dataclass(frozen=True, slots=True)
class ResourceHistory:
    """What a node did with a resource and how often it failed there (crm_mon's
    resource_history): the fail count is what migration-threshold is compared with."""

    resource: str
    orphan: bool
    migration_threshold: int
    fail_count: int
    last_failure: int | None
    ops: tuple[OpHistory, ...]


@dataclass(frozen=True, slots=True)
class NodeHistory:
    node: str
    resources: tuple[ResourceHistory, ...]


@dataclass(frozen=True, slots=True)
class ClusterOptions:
    stonith_enabled: bool
    symmetric_cluster: bool
    no_quorum_policy: str
    maintenance_mode: bool
    stop_all_resources: bool


@dataclass(frozen=True, slots=True)
class StatusDto:
    """Everything `hakeeper status` prints, in every output form."""

    cluster_name: str | None
    revision: int  # the store's, as of which this was read
    config_revision: int  # the configuration's (what --revision / conflicts refer to)
    dc: str | None
    dc_id: str | None
    have_quorum: bool
    nodes_configured: int
    resources_configured: int
    resources_disabled: int
    resources_blocked: int
    options: ClusterOptions
    view: ClusterView
    node_ids: Mapping[str, str]
    promotable: frozenset[str]
    bans: tuple[Ban, ...]
    failures: tuple[Failure, ...]
    fencing: tuple[FenceRecord, ...] = ()  # newest first; a CIB file has none
    history: tuple[NodeHistory, ...] = ()  # online nodes' operations and fail counts


def cluster_status(env: Env) -> StatusDto:
    """The running cluster, as of one store revision."""
    return cluster_status_and_cib(env)[0]


def cluster_status_and_cib(env: Env) -> tuple[StatusDto, Cib]:
    """The running cluster as of one store revision, and the CIB it was computed from."""
    with env.coordinator() as coord:
        read_cib(coord, env.store)  # a clear report when the store holds no cluster
        snap = coord.snapshot()
    assert snap.config is not None
    leader = snap.leader.node if snap.leader else None
    cib = cluster_cib(snap.config.xml, snap.status.documents, snap.members, leader)
    try:
        dto = status_of(cib, snap.revision, snap.config.revision)
    except CommandError as err:
        raise stored_config_refused(env.store, snap.config.revision, err) from None
    return dataclasses.replace(dto, fencing=fence_history(snap.status.documents)), cib


def stored_config_refused(store: str, revision: int, err: CommandError) -> CommandError:
    """The scheduler refuses what the store holds (stored before edits were checked, or by
    an older hakeeper): say which store and how to get out, not a line of a CIB file that
    the user never had."""
    return CommandError(
        tuple(
            dataclasses.replace(
                r,
                message=f"the configuration stored in {store} (revision {revision}) cannot be "
                f"scheduled, so the leader does not act on it: {r.message}",
                where="--store",
                hint="see it with `hakeeper cib export`; remove what is refused "
                "(`hakeeper resource delete ID`), or fix the exported CIB and "
                f"`hakeeper cib import FILE --revision {revision}`",
            )
            for r in err.reports
        ),
        err.exit_code,
    )


def file_status(path: str) -> StatusDto:
    """A CIB file's status section, as `CIB_file=PATH crm_mon` shows it."""
    return status_of(parse_cib_file(path), 0, 0)


def status_of(cib: Cib, revision: int, config_revision: int) -> StatusDto:
    cluster = unpack(cib, cib.execution_date)
    view = view_of(cluster)
    config = cib.configuration
    props = values_of(config.crm_config)
    options = cluster.options
    node_ids = {n.uname: n.id for n in config.nodes}
    dc = cluster.dc_node.uname if cluster.dc_node else None
    primitives = [r for r in cluster.primitives()]
    return StatusDto(
        cluster_name=props.get("cluster-name"),
        revision=revision,
        config_revision=config_revision,
        dc=dc,
        dc_id=node_ids.get(dc) if dc else None,
        have_quorum=cib.have_quorum,
        nodes_configured=len(config.nodes),
        resources_configured=len(primitives),
        resources_disabled=sum(1 for r in primitives if _disabled(cluster, r.id)),
        resources_blocked=sum(1 for r in primitives if r.block),
        options=ClusterOptions(
            options.stonith_enabled,
            options.symmetric,
            options.no_quorum_policy,
            options.maintenance_mode,
            options.stop_all_resources,
        ),
        view=view,
        node_ids=node_ids,
        promotable=frozenset(
            r.id
            for r in walk(config.resources)
            if isinstance(r, Clone)
            and (r.promotable_tag or is_true(values_of(r.meta).get("promotable")))
        ),
        bans=tuple(_bans(cib)),
        failures=tuple(_failures(cib)),
        history=tuple(_history(cluster)),
    )


def _disabled(cluster: Cluster, rsc_id: str) -> bool:
    rsc = cluster.rsc_by_id.get(rsc_id)
    while rsc is not None:
        if rsc.target_role == Role.STOPPED:
            return True
        rsc = rsc.parent
    return False


def _bans(cib: Cib) -> list[Ban]:
    bans = []
    for c in cib.configuration.constraints:
        if not isinstance(c, Location) or c.rsc is None or c.node is None or c.score is None:
            continue
        weight = parse_score(c.score)
        if weight < 0:
            role = Role.parse(c.role)
            bans.append(Ban(c.id, c.rsc, c.node, weight, role == Role.PROMOTED))
    return bans


def _failures(cib: Cib) -> list[Failure]:
    found = []
    for state in cib.status.nodes:
        for lrm in state.resources:
            for op in lrm.ops:
                if not op.id.endswith("_last_failure_0"):
                    continue
                found.append(
                    Failure(
                        call_id=op.call_id,
                        task=op.operation,
                        rc=op.rc_code,
                        interval_ms=op.interval_ms,
                        last_rc_change=op.last_rc_change,
                        exec_ms=op.exec_time or 0,
                        queue_ms=op.queue_time or 0,
                        op_key=op.operation_key or f"{lrm.id}_{op.operation}_{op.interval_ms}",
                        node=state.uname or state.id,
                        exit_reason=op.exit_reason or "",
                        op_status=op.op_status,
                    )
                )
    return found


def _history(cluster: Cluster) -> list[NodeHistory]:
    """crm_mon's node history: for each online node, each resource it has a history of,
    that history's operations by call id (notifications and probes that found nothing
    left out, as crm_mon does) with the resource's fail count and migration-threshold."""
    found = []
    for state in cluster.cib.status.nodes:
        node = cluster.node_by_id.get(state.id) or cluster.node_by_name.get(state.uname or "")
        if node is None or not node.online:
            continue
        resources = []
        for lrm in state.resources:
            ops = sorted(
                (
                    OpHistory(
                        op.call_id,
                        op.operation,
                        op.rc_code,
                        op.interval_ms,
                        op.last_rc_change,
                        op.exec_time or 0,
                        op.queue_time or 0,
                    )
                    for op in lrm.ops
                    if op.operation != "notify"
                    and not (op.operation == "monitor" and op.interval_ms == 0 and op.rc_code == 7)
                ),
                key=lambda o: o.call_id,
            )
            if not ops:
                continue
            rsc = _history_rsc(cluster, lrm.id)
            count, last = failures_of(cluster, node, rsc) if rsc is not None else (0, 0)
            resources.append(
                ResourceHistory(
                    lrm.id,
                    rsc is None,  # crm_mon: false for a resource the scheduler made an orphan
                    rsc.migration_threshold if rsc is not None else INFINITY,
                    count,
                    last if count and last else None,
                    tuple(ops),
                )
            )
        if resources:
            found.append(NodeHistory(node.uname, tuple(resources)))
    return found


def _history_rsc(cluster: Cluster, lrm_id: str) -> Rsc | None:
    """The primitive a history entry is of: itself, or (an anonymous clone's entry) any of
    its instances, which share its meta attributes and fail-count attribute names."""
    rsc = cluster.rsc_by_id.get(lrm_id)
    if rsc is not None and rsc.variant == Variant.PRIMITIVE:
        return rsc
    base = lrm_id.split(":", 1)[0]
    return next((r for r in cluster.primitives() if r.base_id == base), None)
