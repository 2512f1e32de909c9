"""Unpack a CIB into the working set: options, nodes, resources, and what the history says."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from hakeeper.cib.parse import is_true, parse_interval_ms
from hakeeper.model.cib import Cib
from hakeeper.model.config import Bundle, Clone, Group, Op, Primitive, Resource, Role
from hakeeper.model.scores import INFINITY, ScoreError, parse_score
from hakeeper.model.status import LrmResource, NodeState, OpRecord
from hakeeper.reports import CommandError, Report, codes
from hakeeper.scheduler.rules import RuleContext, resolve_sets
from hakeeper.scheduler.working import (
    AF,
    ON_FAIL_RANK,
    Action,
    Coloc,
    FailInfo,
    Node,
    OnFail,
    OrderSpec,
    Rsc,
    Variant,
)

PCMK_OCF_OK = 0
PCMK_OCF_NOT_RUNNING = 7
PCMK_OCF_RUNNING_PROMOTED = 8
PCMK_OCF_FAILED_PROMOTED = 9

EXEC_PENDING = -1
EXEC_DONE = 0
EXEC_CANCELLED = 1
EXEC_TIMEOUT = 2
EXEC_NOT_SUPPORTED = 3
EXEC_ERROR = 4
EXEC_ERROR_HARD = 5
EXEC_ERROR_FATAL = 6
EXEC_NOT_INSTALLED = 7


@dataclass(slots=True)
class Options:
    stonith_enabled: bool = True
    symmetric: bool = True
    no_quorum_policy: str = "stop"
    stop_orphan_resources: bool = True
    stop_orphan_actions: bool = True
    start_failure_is_fatal: bool = True
    maintenance_mode: bool = False
    stonith_action: str = "reboot"
    startup_fencing: bool = True
    placement_strategy: str = "default"
    concurrent_fencing: bool = False
    stop_all_resources: bool = False
    have_quorum: bool = False
    have_stonith_resource: bool = False
    # secret parameters may be masked in the CIB (crm_simulate's view of crm_report data)
    sanitized: bool = False
    health_strategy: str = "none"
    health_red: str = "0"
    health_yellow: str = "0"
    health_green: str = "0"


@dataclass(eq=False, slots=True)
class Cluster:
    """All mutable state of one scheduling run."""

    cib: Cib
    now: int | None
    options: Options = field(default_factory=Options)
    nodes: list[Node] = field(default_factory=list)
    node_by_id: dict[str, Node] = field(default_factory=dict)
    node_by_name: dict[str, Node] = field(default_factory=dict)
    resources: list[Rsc] = field(default_factory=list)  # top level, in configuration order
    rsc_by_id: dict[str, Rsc] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    singletons: dict[str, Action] = field(default_factory=dict)
    orderings: list[OrderSpec] = field(default_factory=list)
    colocations: list[Coloc] = field(default_factory=list)
    failcount_attrs: dict[str, dict[str, str]] = field(default_factory=dict)
    fence_reasons: dict[str, str] = field(default_factory=dict)
    rsc_defaults: dict[str, str] = field(default_factory=dict)
    op_defaults: dict[str, str] = field(default_factory=dict)
    dc_node: Node | None = None
    clone_of: dict[str, Rsc] = field(default_factory=dict)  # primitive id -> its clone
    failure_index: dict[str, dict[str, list[tuple[str, str]]]] = field(default_factory=dict)
    config_warnings: list[str] = field(default_factory=list)
    promotion_scores: list[tuple[str, str, int]] = field(default_factory=list)
    have_remote_nodes: bool = False
    stop_needed: list[Rsc] = field(default_factory=list)  # containers of failed bundle conns

    @property
    def legacy_failcounts(self) -> bool:
        return _version_tuple(self.cib.root_attr("crm_feature_set")) < (3, 0, 13)

    def primitives(self) -> list[Rsc]:
        result: list[Rsc] = []
        for rsc in self.resources:
            result.extend(rsc.primitives())
        return result

    def all_resources(self) -> list[Rsc]:
        result: list[Rsc] = []

        def walk(rsc: Rsc) -> None:
            result.append(rsc)
            for child in rsc.children:
                walk(child)

        for rsc in self.resources:
            walk(rsc)
        return result


def _flag(values: dict[str, str], name: str, default: bool) -> bool:
    return is_true(values.get(name), default)


def unpack_options(cluster: Cluster) -> None:
    cib = cluster.cib
    ctx = RuleContext(now=cluster.now)
    values = resolve_sets(cib.configuration.crm_config, ctx)
    opts = cluster.options
    opts.stonith_enabled = _flag(values, "stonith-enabled", True)
    opts.symmetric = _flag(values, "symmetric-cluster", True)
    opts.no_quorum_policy = values.get("no-quorum-policy", "stop").lower()
    opts.stop_orphan_resources = _flag(values, "stop-orphan-resources", True)
    opts.stop_orphan_actions = _flag(values, "stop-orphan-actions", True)
    opts.start_failure_is_fatal = _flag(values, "start-failure-is-fatal", True)
    opts.maintenance_mode = _flag(values, "maintenance-mode", False)
    action = values.get("stonith-action", "reboot")
    opts.stonith_action = "off" if action == "poweroff" else action
    opts.startup_fencing = _flag(values, "startup-fencing", True)
    opts.placement_strategy = values.get("placement-strategy", "default").lower()
    opts.concurrent_fencing = _flag(values, "concurrent-fencing", False)
    opts.stop_all_resources = _flag(values, "stop-all-resources", False)
    opts.have_quorum = cib.have_quorum
    # SBD's watchdog fences as a device would
    opts.have_stonith_resource = _flag(values, "have-watchdog", False)
    opts.health_strategy = values.get("node-health-strategy", "none").lower()
    opts.health_red = values.get("node-health-red", "0")
    opts.health_yellow = values.get("node-health-yellow", "0")
    opts.health_green = values.get("node-health-green", "0")
    if opts.no_quorum_policy == "suicide" and not opts.stonith_enabled:
        opts.no_quorum_policy = "stop"
    cluster.rsc_defaults = resolve_sets(cib.configuration.rsc_defaults, ctx)
    cluster.op_defaults = resolve_sets(cib.configuration.op_defaults, ctx)


def unpack_nodes(cluster: Cluster) -> None:
    cib = cluster.cib
    states = {s.id: s for s in cib.status.nodes}
    for index, cfg in enumerate(cib.configuration.nodes):
        remote = cfg.type == "remote"
        node = Node(cfg.id, cfg.uname, kind="remote" if remote else "member", index=index)
        node.attrs = resolve_sets(cfg.attributes, RuleContext(now=cluster.now))
        state = states.get(cfg.id)
        if state is not None:
            for key, value in state.attributes:
                node.attrs[key] = value
        node.attrs["#uname"] = cfg.uname
        if cfg.utilization:
            from hakeeper.scheduler.utilization import unpack_utilization

            node.utilization = unpack_utilization(cluster, cfg.utilization)
        node.attrs["#id"] = cfg.id
        node.attrs["#kind"] = "remote" if remote else "cluster"
        node.is_dc = cib.dc_uuid == cfg.id
        node.attrs["#is_dc"] = "true" if node.is_dc else "false"
        if cfg.type == "ping":
            node.standby = True
        if remote:
            # startup fencing applies once its connection is known (link_remote_nodes)
            node.unclean = node.unseen = False
        else:
            # never seen: unclean until fenced, if fencing is on at all
            node.unclean = cluster.options.startup_fencing and cluster.options.stonith_enabled
            node.unseen = True
        cluster.nodes.append(node)
        cluster.node_by_id[cfg.id] = node
        cluster.node_by_name[cfg.uname] = node
        if node.is_dc:
            cluster.dc_node = node


def fence_node(cluster: Cluster, node: Node, reason: str) -> None:
    """Mark a node unclean; the first reason is the one reported.

    A guest node is fenced by recovering its container, so it is not marked unclean:
    it may run resources again in this transition once the container is back.
    """
    if node.is_guest:
        assert node.remote_rsc is not None and node.remote_rsc.container is not None
        container = node.remote_rsc.container
        if not container.failed and container.managed:
            node.remote_requires_reset = True
            container.failed = True
            container.stop_needed = True
        return
    if node.kind == "remote":
        rsc = node.remote_rsc
        if rsc is None or rsc.managed:
            node.remote_requires_reset = True
        node.unclean = True
        cluster.fence_reasons.setdefault(node.id, reason)
        return
    if node.unclean:
        cluster.fence_reasons.setdefault(node.id, reason)
        return
    node.unclean = True
    cluster.fence_reasons.setdefault(node.id, reason)


def unpack_node_states(cluster: Cluster) -> None:
    states = {s.id: s for s in cluster.cib.status.nodes}
    for node in cluster.nodes:
        state = states.get(node.id)
        if state is None:
            continue
        if node.kind == "remote":
            # online only once the connection's history is known (unpack_status)
            fenced = dict(state.extra).get("node_fenced", "0")
            node.remote_was_fenced = fenced.isdigit() and fenced != "0"
            continue
        node.has_state = True
        node.unclean = False
        node.unseen = False
        node.shutdown = bool(state.attribute("shutdown")) and state.attribute("shutdown") != "0"
        node.expected_up = (state.expected or "") == "member"
        if is_true(node.attrs.get("standby")):
            node.standby = True
        if is_true(node.attrs.get("maintenance")):
            node.maintenance = True
        if cluster.options.stonith_enabled:
            node.online = _online_fencing(cluster, state, node)
        else:
            node.online = _online_no_fencing(cluster, state, node)
    opts = cluster.options
    panic = is_true(cluster.cib.root_attr("no-quorum-panic"))
    if not opts.have_quorum and opts.no_quorum_policy == "suicide" and panic:
        for node in cluster.nodes:
            if node.online:
                fence_node(cluster, node, "cluster does not have quorum")


def _is_peer_online(state: NodeState) -> bool:
    value = (state.crmd or "").lower()
    return value in ("online", "true") or (value.isdigit() and value != "0")


def _in_cluster(state: NodeState) -> bool | None:
    if state.in_ccm is None:
        return None
    value = state.in_ccm.lower()
    return is_true(value) or (value.isdigit() and value != "0")


def _online_no_fencing(cluster: Cluster, state: NodeState, node: Node) -> bool:
    in_cluster = _in_cluster(state)
    if not in_cluster:
        return False
    if _is_peer_online(state):
        return (state.join or "") == "member"
    if not node.expected_up:
        return False
    fence_node(cluster, node, "peer is unexpectedly down")
    return False


def _online_fencing(cluster: Cluster, state: NodeState, node: Node) -> bool:
    terminate = node.attrs.get("terminate")
    do_terminate = is_true(terminate) or bool(
        terminate and terminate[0].isdigit() and terminate[0] != "0"
    )
    in_cluster = _in_cluster(state)
    crmd_online = _is_peer_online(state)
    expected = state.expected or "down"
    join = state.join or ""
    online = bool(in_cluster)
    if node.shutdown:
        online = crmd_online
    elif state.in_ccm is None:
        fence_node(cluster, node, "peer has not been seen by the cluster")
    elif join == "banned":
        fence_node(cluster, node, "peer failed Pacemaker membership criteria")
    elif not do_terminate and expected == "down":
        if in_cluster or crmd_online:
            node.standby = True
            node.pending = True
    elif do_terminate and join == "down" and not in_cluster and not crmd_online:
        online = False
    elif not in_cluster:
        fence_node(cluster, node, "peer is no longer part of the cluster")
    elif not crmd_online:
        fence_node(cluster, node, "peer process is no longer available")
    elif do_terminate:
        fence_node(cluster, node, "termination was requested")
    elif join == "member":
        pass
    elif join in ("pending", "down"):
        node.standby = True
        node.pending = True
    else:
        fence_node(cluster, node, "peer was in an unknown state")
    return online


# --- resources -------------------------------------------------------------------------


def create_remote_nodes(cluster: Cluster) -> list[Primitive]:
    """Nodes for the remote connections and guests the resources define; their connections."""
    from hakeeper.scheduler import remote

    implicit: list[Primitive] = []
    for name, conn in remote.implicit_connections(cluster.cib.configuration.resources):
        if conn is not None:
            implicit.append(conn)
        if name in cluster.node_by_id or name in cluster.node_by_name:
            continue
        node = Node(name, name, kind="remote", index=len(cluster.nodes))
        node.unseen = False
        node.attrs.update({"#uname": name, "#id": name, "#kind": "remote", "#is_dc": "false"})
        cluster.nodes.append(node)
        cluster.node_by_id[name] = node
        cluster.node_by_name[name] = node
    cluster.have_remote_nodes = any(n.kind == "remote" for n in cluster.nodes)
    return implicit


def unpack_resources(cluster: Cluster, implicit: list[Primitive] | None = None) -> None:
    configured: list[Resource] = list(cluster.cib.configuration.resources)
    for index, res in enumerate(configured + list(implicit or ())):
        rsc = _build(cluster, res, None)
        rsc.index = index
        cluster.resources.append(rsc)
    for rsc in cluster.all_resources():
        if rsc.variant == Variant.PRIMITIVE and rsc.config is not None:
            if rsc.config.agent.standard == "stonith":
                cluster.options.have_stonith_resource = True
    if cluster.have_remote_nodes:
        _link_remote_nodes(cluster)


def _link_remote_nodes(cluster: Cluster) -> None:
    from hakeeper.scheduler import remote

    for rsc in cluster.resources:
        remote.link_containers(rsc, cluster.rsc_by_id)
    for rsc in cluster.resources:
        if not rsc.is_remote_node:
            continue
        node = cluster.node_by_name.get(rsc.id)
        if node is None:
            continue
        node.remote_rsc = rsc
        if rsc.container is None:
            # startup fencing as for cluster nodes
            opts = cluster.options
            node.unclean = opts.startup_fencing and opts.stonith_enabled
            node.unseen = True
        else:
            node.attrs["#kind"] = "container"


def _build(cluster: Cluster, res: Resource, parent: Rsc | None, instance: int | None = None) -> Rsc:
    if isinstance(res, Clone):
        return _build_clone(cluster, res)
    if isinstance(res, Bundle):
        from hakeeper.scheduler.bundle_unpack import build_bundle

        return build_bundle(cluster, res)
    ctx = RuleContext(now=cluster.now)
    if isinstance(res, Primitive):
        ident = res.id if instance is None else f"{res.id}:{instance}"
        if res.template is not None:
            res = _from_template(cluster, res)
        rsc = Rsc(ident, Variant.PRIMITIVE, parent=parent, config=res)
        if instance is not None:
            rsc.base_id = res.id
            rsc.unique = False
        meta = resolve_sets(res.meta, ctx)
        rsc.params = resolve_sets(res.params, ctx)
        rsc.ops = res.ops
        if res.utilization:
            from hakeeper.scheduler.utilization import unpack_utilization

            rsc.utilization = unpack_utilization(cluster, res.utilization)
    else:
        assert isinstance(res, Group)
        ident = res.id if instance is None else f"{res.id}:{instance}"
        rsc = Rsc(ident, Variant.GROUP, parent=parent)
        if instance is not None:
            rsc.base_id = res.id
            rsc.unique = False
        meta = resolve_sets(res.meta, ctx)
    if parent is not None:
        for key, value in parent.meta.items():
            meta.setdefault(key, value)
    agent = res.agent if isinstance(res, Primitive) else None
    defaults_ctx = RuleContext(
        now=cluster.now,
        rsc_standard=agent.standard if agent else None,
        rsc_provider=agent.provider if agent else None,
        rsc_type=agent.type if agent else None,
    )
    resolve_sets(cluster.cib.configuration.rsc_defaults, defaults_ctx, into=meta)
    rsc.meta = meta
    if rsc.id in cluster.rsc_by_id:
        raise CommandError(
            Report.error(
                codes.CIB_DUPLICATE_ID,
                f"resource id {rsc.id} is used twice",
                where=f"{cluster.cib.source}:{getattr(res, 'line', 0)}",
                hint="rename one of the resources",
            )
        )
    cluster.rsc_by_id[rsc.id] = rsc
    _apply_meta(cluster, rsc)
    if isinstance(res, Primitive) and res.agent.type == "remote":
        from hakeeper.scheduler import remote

        if remote.is_connection_agent(res.agent):
            remote.unpack_connection_meta(rsc)
    if isinstance(res, Group):
        rsc.ordered = is_true(meta.get("ordered"), True)
        rsc.colocated = is_true(meta.get("collocated"), True)
        for child_cfg in res.children:
            child = _build(cluster, child_cfg, rsc, instance)
            rsc.children.append(child)
    return rsc


def _from_template(cluster: Cluster, res: Primitive) -> Primitive:
    """A primitive with its template's attributes and operations under its own."""
    tpl = next((t for t in cluster.cib.configuration.templates if t.id == res.template), None)
    if tpl is None:
        return res
    own_ops = {(op.name, op.interval_ms) for op in res.ops}
    ops = res.ops + tuple(op for op in tpl.ops if (op.name, op.interval_ms) not in own_ops)
    return dataclasses.replace(
        res,
        meta=res.meta + tpl.meta,
        params=res.params + tpl.params,
        utilization=res.utilization + tpl.utilization,
        ops=ops,
    )


def _build_clone(cluster: Cluster, res: Clone, parent: Rsc | None = None) -> Rsc:
    ctx = RuleContext(now=cluster.now)
    meta = resolve_sets(res.meta, ctx)
    if parent is not None:  # a bundle's clone takes the bundle's options
        for key, value in parent.meta.items():
            meta.setdefault(key, value)
    resolve_sets(cluster.cib.configuration.rsc_defaults, ctx, into=meta)
    unique = is_true(meta.get("globally-unique"))
    if res.id in cluster.rsc_by_id:
        raise CommandError(
            Report.error(
                codes.CIB_DUPLICATE_ID,
                f"resource id {res.id} is used twice",
                where=f"{cluster.cib.source}:{res.line or 0}",
                hint="rename one of the resources",
            )
        )
    rsc = Rsc(res.id, Variant.CLONE, parent=parent)
    rsc.meta = meta
    rsc.promotable = res.promotable_tag or is_true(meta.get("promotable"))
    if rsc.promotable:
        rsc.promoted_max = max(0, _meta_score(_first_meta(meta, "promoted-max", "master-max"), 1))
        rsc.promoted_node_max = max(
            0, _meta_score(_first_meta(meta, "promoted-node-max", "master-node-max"), 1)
        )
    cluster.rsc_by_id[rsc.id] = rsc
    _apply_meta(cluster, rsc)
    nodes = len(cluster.nodes)  # remote and guest nodes count too
    rsc.clone_max = max(0, _meta_score(meta.get("clone-max"), nodes))
    rsc.clone_node_max = max(0, _meta_score(meta.get("clone-node-max"), 1))
    rsc.interleave = is_true(meta.get("interleave"))
    rsc.ordered = is_true(meta.get("ordered"))
    rsc.unique = unique
    for index in range(rsc.clone_max):
        child = _build(cluster, res.child, rsc, index)
        if unique:
            for member in [child, *child.children]:
                member.base_id = None  # unique instances keep their own history and counts
                member.unique = True
        rsc.children.append(child)
    cluster.clone_of[res.child.id] = rsc
    if isinstance(res.child, Group):
        for member_cfg in res.child.children:
            cluster.clone_of[member_cfg.id] = rsc
    return rsc


def _first_meta(meta: dict[str, str], *names: str) -> str | None:
    for name in names:
        if name in meta:
            return meta[name]
    return None


def _meta_score(value: str | None, default: int) -> int:
    if value is None:
        return default
    try:
        return parse_score(value)
    except ScoreError:
        return default


def _apply_meta(cluster: Cluster, rsc: Rsc) -> None:
    meta = rsc.meta
    opts = cluster.options
    rsc.priority = _meta_score(meta.get("priority"), 0)
    rsc.managed = is_true(meta.get("is-managed"), True)
    if opts.maintenance_mode or is_true(meta.get("maintenance"), False):
        rsc.managed = False
    rsc.stickiness = _meta_score(meta.get("resource-stickiness"), 0)
    threshold = _meta_score(meta.get("migration-threshold"), INFINITY)
    rsc.migration_threshold = max(0, threshold)
    timeout = parse_interval_ms(meta.get("failure-timeout")) if "failure-timeout" in meta else 0
    rsc.failure_timeout = (timeout or 0) // 1000
    rsc.multiple_active = meta.get("multiple-active", "stop_start")
    target = meta.get("target-role")
    if target is not None:
        role = Role.parse(target)
        if rsc.uber_parent().promotable:
            # Promoted is what promotion decides anyway; Unpromoted caps the instances
            if role in (Role.STOPPED, Role.UNPROMOTED):
                rsc.target_role = role
        # Unpromoted and Promoted mean nothing outside a promotable clone: ignored
        elif role is not None and role not in (Role.UNKNOWN, Role.UNPROMOTED, Role.PROMOTED):
            rsc.target_role = role
    rsc.critical = is_true(meta.get("critical"), True)
    rsc.allow_migrate = is_true(meta.get("allow-migrate"))
    rsc.restart_type_restart = meta.get("restart-type") == "restart"
    requires = meta.get("requires")
    standard = rsc.config.agent.standard if rsc.config else None
    if requires is None:
        if standard == "stonith":
            requires = "quorum"
        elif opts.stonith_enabled:
            requires = "fencing"
        else:
            requires = "quorum"
    if requires == "fencing" and not opts.stonith_enabled:
        requires = "quorum"
    rsc.needs_fencing = requires in ("fencing", "unfencing")
    rsc.needs_quorum = requires != "nothing"


# --- fail counts ---------------------------------------------------------------------------


def fail_count(cluster: Cluster, node: Node, rsc: Rsc, *, effective: bool = True) -> int:
    """Sum of the fail-count attributes of rsc on node, honouring failure-timeout.

    Clusters whose DC speaks feature set 3.0.13 or later keep one count per operation
    (fail-count-RSC#monitor_10000); older ones one per resource (fail-count-RSC). Each
    reads only its own form, as Pacemaker does.
    """
    total, last_failure = failures_of(cluster, node, rsc)
    if (
        effective
        and total > 0
        and rsc.failure_timeout > 0
        and last_failure > 0
        and cluster.now is not None
        and cluster.now >= last_failure + rsc.failure_timeout
    ):
        return 0
    return total


def failures_of(cluster: Cluster, node: Node, rsc: Rsc) -> tuple[int, int]:
    """rsc's fail count on node as its attributes hold it (failure-timeout not applied) and
    its last failure's time (0: none)."""
    legacy = cluster.legacy_failcounts
    total = 0
    last_failure = 0
    ident = rsc.base_id or rsc.id
    for key, value in _failure_attrs(cluster, node).get(re.sub(r":[0-9]+$", "", ident), ()):
        if _failure_key(key, "fail-count-", ident, legacy):
            total = _add_counts(total, value)
        elif _failure_key(key, "last-failure-", ident, legacy):
            try:
                last_failure = max(last_failure, int(value))
            except ValueError:
                pass
    return total, last_failure


_OP_SUFFIX = re.compile(r"#.+_[0-9]+")


def _failure_attrs(cluster: Cluster, node: Node) -> dict[str, list[tuple[str, str]]]:
    """A node's fail-count-*/last-failure-* attributes, by the resource id they may name."""
    index = cluster.failure_index.get(node.id)
    if index is None:
        index = {}
        for key, value in node.attrs.items():
            for prefix in ("fail-count-", "last-failure-"):
                if key.startswith(prefix):
                    name = key[len(prefix) :].split("#", 1)[0]
                    name = re.sub(r":[0-9]+$", "", name)
                    index.setdefault(name, []).append((key, value))
        cluster.failure_index[node.id] = index
    return index


def _failure_key(key: str, prefix: str, rsc_id: str, legacy: bool) -> bool:
    head = prefix + rsc_id
    if not key.startswith(head):
        return False
    rest = key[len(head) :]
    instance = re.match(r":[0-9]+", rest)
    if instance:
        rest = rest[instance.end() :]
    if legacy:
        return rest == ""
    return _OP_SUFFIX.fullmatch(rest) is not None


def _version_tuple(text: str | None) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in (text or "0").split("."))
    except ValueError:
        return (0,)


def _add_counts(total: int, value: str) -> int:
    try:
        return min(INFINITY, total + parse_score(value))
    except ScoreError:
        return total


# --- operation configuration ---------------------------------------------------------------


def find_op_config(rsc: Rsc, task: str, interval_ms: int) -> Op | None:
    for op in rsc.ops:
        if op.name == task and op.interval_ms == interval_ms:
            return op
    return None


def op_on_fail(cluster: Cluster, rsc: Rsc, task: str, interval_ms: int) -> tuple[OnFail, Role]:
    """on-fail and the role to recover to, for an operation of rsc (Pacemaker's defaults)."""
    op = find_op_config(rsc, task, interval_ms)
    if op is None and task == "monitor" and interval_ms == 0:
        # a probe takes its on-fail from the first recurring monitor... only if explicitly set
        value = None
    else:
        value = op.on_fail if op is not None else None
    if value is None:
        value = cluster.op_defaults.get("on-fail")
    opts = cluster.options
    fail_role = Role.STARTED
    if value is not None and value.lower() == "restart-container" and rsc.container is None:
        value = None
    remote_conn = (
        rsc.is_remote_node
        and rsc.container is None
        and not (task == "monitor" and interval_ms == 0)
        and task != "start"
    )
    if (value is None or value == "") and rsc.container is not None:
        result = OnFail.RESTART_CONTAINER
    elif (value is None or value == "" or not rsc.managed) and remote_conn:
        # losing an active connection means the remote node's state is unknown: fence it
        if not rsc.managed:
            return OnFail.STOP, Role.STOPPED
        result = OnFail.RESET_REMOTE
        if rsc.remote_reconnect_ms:
            fail_role = Role.STOPPED
    elif value is None or value == "":
        if task == "stop":
            result = OnFail.FENCE if opts.stonith_enabled else OnFail.BLOCK
        else:
            result = OnFail.RECOVER
    else:
        value = value.lower()
        mapping = {
            "ignore": OnFail.IGNORE,
            "nothing": OnFail.IGNORE,
            "block": OnFail.BLOCK,
            "fence": OnFail.FENCE,
            "stonith": OnFail.FENCE,
            "standby": OnFail.STANDBY,
            "migrate": OnFail.MIGRATE,
            "stop": OnFail.STOP,
            "restart": OnFail.RECOVER,
            "demote": OnFail.DEMOTE,
            "restart-container": OnFail.RESTART_CONTAINER,
        }
        result = mapping.get(value, OnFail.RECOVER)
        if result == OnFail.FENCE and not opts.stonith_enabled:
            result = OnFail.STOP
        if result == OnFail.DEMOTE and task not in ("monitor", "promote"):
            result = OnFail.RECOVER
    if result == OnFail.STOP:
        fail_role = Role.STOPPED
    elif task == "promote":
        fail_role = Role.UNPROMOTED
    return result, fail_role


# --- status: what the history says ----------------------------------------------------------


def unpack_status(cluster: Cluster) -> None:
    """Read each node's history, remote nodes' once their connection is known to be up.

    Passes repeat while one node's history may make another's readable; a last pass
    reads the rest when fencing is enabled (what they ran must be fenced away).
    """
    from hakeeper.scheduler import remote
    from hakeeper.scheduler.actions import stop_action

    while _unpack_histories(cluster, fence=False):
        pass
    _unpack_histories(cluster, fence=cluster.options.stonith_enabled)
    for container in cluster.stop_needed:
        if container.running_on:
            stop_action(cluster, container, container.running_on[0], optional=False)
    cluster.stop_needed = []
    for node in cluster.nodes:
        if node.kind != "remote":
            continue
        if node.shutdown and node.remote_rsc is not None:
            node.remote_rsc.next_role = Role.STOPPED
            node.remote_rsc.next_role_reason = "remote shutdown"
        if not node.unpacked:
            remote.online_status(node)


def _unpack_histories(cluster: Cluster, *, fence: bool) -> bool:
    from hakeeper.scheduler import remote

    changed = False
    for state in cluster.cib.status.nodes:
        node = cluster.node_by_id.get(state.id)
        if node is None and state.uname is not None:
            node = cluster.node_by_name.get(state.uname)
        if node is None or node.unpacked:
            continue
        if fence:
            pass
        elif node.kind == "remote":
            if not remote.history_ready(node):
                continue
        elif not node.online and not cluster.options.stonith_enabled:
            continue  # without fencing, an offline node runs nothing
        if node.kind == "remote":
            remote.online_status(node)
            remote.remote_attrs(node, state, cluster.options.stonith_enabled)
        node.unpacked = True
        changed = True
        _unpack_node_history(cluster, node, state)
    return changed


def _unpack_node_history(cluster: Cluster, node: Node, state: NodeState) -> None:
    for lrm_rsc in state.resources:
        rsc = cluster.rsc_by_id.get(lrm_rsc.id)
        base = lrm_rsc.id.split(":", 1)[0]
        if (
            base in cluster.clone_of
            and not cluster.clone_of[base].unique
            and (rsc is None or rsc.parent is not None)
        ):
            clone = cluster.clone_of[base]
            if clone.parent is not None and clone.parent.bundle is not None:
                # a bundle's instance N lives only on its guest node N
                rsc = next((r.child for r in clone.parent.bundle.replicas if r.node is node), None)
                if rsc is None:
                    rsc = _orphan(cluster, lrm_rsc)
                elif rsc.variant == Variant.GROUP:
                    rsc = next((m for m in rsc.children if m.base_id == base), rsc)
            else:
                rsc = _anonymous_instance(cluster, clone, node, base)
        if rsc is None or rsc.variant != Variant.PRIMITIVE:
            if rsc is not None:
                continue
            rsc = _orphan(cluster, lrm_rsc)
        # the id the history knows an instance by (its latest entry's)
        rsc.clone_name = lrm_rsc.id if lrm_rsc.id != rsc.id else None
        _unpack_lrm_resource(cluster, node, rsc, lrm_rsc)
    for lrm_rsc in state.resources:
        # an orphan recorded as running inside a container: map it to that container
        orphan = cluster.rsc_by_id.get(lrm_rsc.id)
        if orphan is not None and orphan.orphan and lrm_rsc.container and orphan.container is None:
            container = cluster.rsc_by_id.get(lrm_rsc.container)
            if container is not None:
                orphan.container = container
                container.fillers.append(orphan)


def _instance_member(child: Rsc, base: str) -> Rsc | None:
    """The primitive of a clone instance (or of its cloned group) that `base` names."""
    if child.variant != Variant.GROUP:
        return child
    return next((m for m in child.children if m.base_id == base), None)


def _instance_nodes(child: Rsc) -> list[Node]:
    nodes: list[Node] = []
    for member in child.primitives():
        for node in [*member.running_on, *([member.pending_node] if member.pending_node else [])]:
            if node not in nodes:
                nodes.append(node)
    return nodes


def _anonymous_instance(cluster: Cluster, clone: Rsc, node: Node, base: str) -> Rsc:
    """Which instance of an anonymous clone a node's history belongs to.

    The instance already active there; else the first inactive one; a second history
    of an instance active on the same node is an orphan.
    """
    found: Rsc | None = None
    inactive: Rsc | None = None
    skip_inactive = False
    for child in clone.children:
        nodes = _instance_nodes(child)
        if nodes:
            if nodes[0] is node:
                member = _instance_member(child, base)
                if member is not None and member.running_on:
                    skip_inactive = True
                elif member is not None:
                    found = member
                    break
        elif not skip_inactive and inactive is None and not child.block:
            inactive = _instance_member(child, base)
            if (
                inactive is not None
                and inactive.pending_node is not None
                and inactive.pending_node is not node
            ):
                inactive = None
    if found is None and not skip_inactive:
        found = inactive
    if (
        found is not None
        and not found.needs_fencing
        and (not node.online or node.unclean)
        and not node.is_guest
        and clone.clone_max != len(cluster.nodes)
    ):
        found = None  # an instance there may be started elsewhere: its history is an orphan
    if found is None:
        found = _anonymous_orphan(cluster, clone, base)
    return found


def _anonymous_orphan(cluster: Cluster, clone: Rsc, base: str) -> Rsc:
    """A new instance beyond clone-max for history that no instance can take."""
    config = next(r for r in cluster.cib.configuration.resources if r.id == clone.id)
    assert isinstance(config, Clone)
    child = _build(cluster, config.child, clone, len(clone.children))
    for member in [child, *child.children]:
        member.orphan = True
    child.index = len(clone.children)
    clone.children.append(child)
    found = _instance_member(child, base)
    return found if found is not None else child


def _orphan(cluster: Cluster, lrm: LrmResource) -> Rsc:
    from hakeeper.model.config import Agent

    agent = Agent(lrm.standard or "ocf", lrm.provider, lrm.type or "unknown")
    rsc = Rsc(lrm.id, Variant.PRIMITIVE, config=Primitive(lrm.id, agent))
    rsc.orphan = True
    rsc.meta = dict(cluster.rsc_defaults)
    _apply_meta(cluster, rsc)
    if not cluster.options.stop_orphan_resources:
        rsc.managed = False
    rsc.index = len(cluster.resources)
    cluster.resources.append(rsc)
    cluster.rsc_by_id[rsc.id] = rsc
    rsc.target_role = None
    if agent.type == "remote":
        _orphan_connection(cluster, rsc)
    return rsc


def _orphan_connection(cluster: Cluster, rsc: Rsc) -> None:
    """A connection no longer configured: its node is shut down (and fenced if unclean)."""
    from hakeeper.scheduler import remote

    assert rsc.config is not None
    if not remote.is_connection_agent(rsc.config.agent):
        return
    remote.unpack_connection_meta(rsc)
    node = cluster.node_by_name.get(rsc.id)
    if node is None:
        node = Node(rsc.id, rsc.id, kind="remote", index=len(cluster.nodes))
        node.attrs.update({"#uname": rsc.id, "#id": rsc.id, "#kind": "remote", "#is_dc": "false"})
        cluster.nodes.append(node)
        cluster.node_by_id[node.id] = node
        cluster.node_by_name[node.uname] = node
    node.remote_rsc = rsc
    opts = cluster.options
    node.unclean = opts.startup_fencing and opts.stonith_enabled
    node.unseen = True
    node.shutdown = True
    cluster.have_remote_nodes = True


def _sort_key(op: OpRecord) -> tuple[int, int]:
    call_id = op.call_id
    if op.op_status == EXEC_PENDING or call_id < 0:
        return (1, 0)
    return (0, call_id)


@dataclass(slots=True)
class _OpState:
    on_fail: OnFail = OnFail.IGNORE
    last_failure: OpRecord | None = None


def _unpack_lrm_resource(cluster: Cluster, node: Node, rsc: Rsc, lrm: LrmResource) -> None:
    ops = lrm.ops
    if not ops:
        return
    saved_role = rsc.role
    rsc.role = Role.UNKNOWN
    state = _OpState()
    ordered = sorted(ops, key=_sort_key)
    rsc.history[node.id] = ordered
    rsc.lrm_agent[node.id] = (lrm.standard, lrm.provider, lrm.type)
    for op in ordered:
        _unpack_op(cluster, node, rsc, op, state)
    _process_rsc_state(cluster, node, rsc, state.on_fail)
    if rsc.target_role is not None and (
        rsc.next_role == Role.UNKNOWN or rsc.target_role < rsc.next_role
    ):
        rsc.next_role = rsc.target_role
        rsc.next_role_reason = "target-role"
    if saved_role > rsc.role:
        rsc.role = saved_role


def _op_key(op: OpRecord, rsc: Rsc) -> str:
    if op.operation_key:
        return op.operation_key
    return f"{rsc.id}_{op.operation}_{op.interval_ms}"


def _target_rc(op: OpRecord) -> int:
    value = op.target_rc
    return -1 if value is None else value


def _set_active(rsc: Rsc) -> None:
    # an instance of a promotable clone seen running is unpromoted until shown otherwise
    rsc.role = Role.UNPROMOTED if rsc.uber_parent().promotable else Role.STARTED


def _unpack_op(cluster: Cluster, node: Node, rsc: Rsc, op: OpRecord, st: _OpState) -> None:
    from hakeeper.scheduler.placement import resource_location

    task = op.operation
    if task in ("notify", "meta-data"):
        return
    rc = op.rc_code
    status = op.op_status
    interval_ms = op.interval_ms
    target_rc = _target_rc(op)
    expired = False
    if status != EXEC_NOT_INSTALLED and _check_expiry(cluster, node, rsc, op, rc):
        expired = True
    status, rc = _remap(cluster, node, rsc, op, target_rc, rc, status, st)
    if expired and rc != target_rc:
        if interval_ms == 0:
            return
        if node.online and not node.unclean:
            return
    if status == EXEC_CANCELLED:
        return
    if status == EXEC_PENDING:
        if task == "start":
            rsc.start_pending = True
            _set_active(rsc)
        elif task == "promote":
            rsc.role = Role.PROMOTED
        elif task == "migrate_to":
            from hakeeper.scheduler.migration import pending_migrate_to

            pending_migrate_to(cluster, rsc, node, op)
        if rsc.pending_task is None and (interval_ms != 0 or task != "monitor"):
            rsc.pending_task = task
            rsc.pending_node = node
        return
    if status == EXEC_DONE:
        _update_state(cluster, node, rsc, op, task, rc, st)
        return
    if status == EXEC_NOT_INSTALLED:
        on_fail, _ = op_on_fail(cluster, rsc, task, interval_ms)
        if on_fail == OnFail.IGNORE:
            st.on_fail = OnFail.MIGRATE
        resource_location(cluster, rsc, node, -INFINITY, "hard-error")
        _unpack_failure(cluster, node, rsc, op, rc, st)
        return
    on_fail, _ = op_on_fail(cluster, rsc, task, interval_ms)
    if on_fail == OnFail.IGNORE or (on_fail == OnFail.RESTART_CONTAINER and task == "stop"):
        # a failed stop inside a container is as good as done once the container restarts
        _update_state(cluster, node, rsc, op, task, target_rc, st)
        rsc.failure_ignored = True
        _record_failure(rsc, node, op)
        if (
            on_fail == OnFail.RESTART_CONTAINER
            and ON_FAIL_RANK[st.on_fail] <= ON_FAIL_RANK[OnFail.RECOVER]
        ):
            st.on_fail = on_fail
        return
    _unpack_failure(cluster, node, rsc, op, rc, st)
    if status == EXEC_ERROR_HARD:
        resource_location(cluster, rsc, node, -INFINITY, "hard-error")
    elif status == EXEC_ERROR_FATAL:
        resource_location(cluster, rsc, None, -INFINITY, "fatal-error")


def _check_expiry(cluster: Cluster, node: Node, rsc: Rsc, op: OpRecord, rc: int) -> bool:
    if rsc.failure_timeout <= 0 or op.last_rc_change is None or cluster.now is None:
        return False
    expired = cluster.now >= op.last_rc_change + rsc.failure_timeout
    if (
        expired
        and rsc.remote_reconnect_ms
        and cluster.options.stonith_enabled
        and op.interval_ms != 0
        and op.operation == "monitor"
    ):
        # a lost connection's monitor failure stands until its remote node is fenced
        target = cluster.node_by_name.get(rsc.id)
        if target is not None and not target.remote_was_fenced:
            expired = False
    if expired:
        if fail_count(cluster, node, rsc, effective=False):
            if fail_count(cluster, node, rsc, effective=True) != 0:
                expired = False
    if expired and op.interval_ms == 0 and op.operation == "monitor" and rc in (0, 7, 8):
        expired = False
    return expired


def _remap(
    cluster: Cluster,
    node: Node,
    rsc: Rsc,
    op: OpRecord,
    target_rc: int,
    rc: int,
    status: int,
    st: _OpState,
) -> tuple[int, int]:
    task = op.operation
    is_probe = task == "monitor" and op.interval_ms == 0
    if status not in (EXEC_DONE, EXEC_ERROR):
        return status, rc
    status = EXEC_DONE
    if target_rc < 0 or target_rc != rc:
        status = EXEC_ERROR
    if rc == PCMK_OCF_OK:
        if is_probe and target_rc == PCMK_OCF_NOT_RUNNING:
            status = EXEC_DONE
    elif rc == PCMK_OCF_NOT_RUNNING:
        if is_probe or target_rc == rc or not rsc.managed:
            status = EXEC_DONE
            rsc.role = Role.STOPPED
            st.on_fail = OnFail.IGNORE
            rsc.next_role = Role.UNKNOWN
    elif rc == PCMK_OCF_RUNNING_PROMOTED:
        if is_probe and rc != target_rc:
            status = EXEC_DONE
        rsc.role = Role.PROMOTED
    elif rc in (PCMK_OCF_FAILED_PROMOTED, 191):
        rsc.role = Role.PROMOTED
        status = EXEC_ERROR
    elif rc == 6:
        status = EXEC_ERROR_FATAL
    elif rc == 3:
        status = EXEC_ERROR_HARD if op.interval_ms == 0 else EXEC_NOT_SUPPORTED
    elif rc in (5, 2, 4):
        status = EXEC_ERROR_HARD
    elif (status == EXEC_DONE and rc != 0) or rc not in (0, 7, 8):
        status = EXEC_ERROR
    return status, rc


def _update_state(
    cluster: Cluster, node: Node, rsc: Rsc, op: OpRecord, task: str, rc: int, st: _OpState
) -> None:
    clear = False
    if rc == PCMK_OCF_NOT_RUNNING:
        clear = True
    elif task == "monitor":
        if st.last_failure is not None and _op_key(st.last_failure, rsc) == _op_key(op, rsc):
            clear = True
        if rsc.role < Role.STARTED:
            _set_active(rsc)
    elif task == "start":
        rsc.role = Role.STARTED
        clear = True
    elif task == "stop":
        rsc.role = Role.STOPPED
        clear = True
    elif task == "promote":
        rsc.role = Role.PROMOTED
        clear = True
    elif task == "demote":
        if st.on_fail == OnFail.DEMOTE:
            clear = True
        rsc.role = Role.UNPROMOTED
    elif task == "migrate_from":
        rsc.role = Role.STARTED
        clear = True
    elif task == "migrate_to":
        from hakeeper.scheduler.migration import unpack_migrate_to_success

        unpack_migrate_to_success(cluster, rsc, node, op)
    elif rsc.role < Role.STARTED:
        _set_active(rsc)
    if clear and st.on_fail in (
        OnFail.BLOCK,
        OnFail.IGNORE,
        OnFail.DEMOTE,
        OnFail.RECOVER,
        OnFail.RESTART_CONTAINER,
    ):
        st.on_fail = OnFail.IGNORE
        rsc.next_role = Role.UNKNOWN
    elif clear and st.on_fail == OnFail.RESET_REMOTE and rsc.remote_reconnect_ms == 0:
        # without a reconnect interval the connection may start again once stopped
        st.on_fail = OnFail.IGNORE
        rsc.next_role = Role.UNKNOWN


def _record_failure(rsc: Rsc, node: Node, op: OpRecord) -> None:
    rsc.failures.append(
        FailInfo(
            rsc.id,
            node.uname,
            op.operation_key or f"{rsc.id}_{op.operation}_{op.interval_ms}",
            op.operation,
            op.interval_ms,
            op.rc_code,
            op.op_status,
            op.call_id,
            op.last_rc_change,
            op.exec_time,
            op.exit_reason,
            op.queue_time,
        )
    )


def _unpack_failure(
    cluster: Cluster, node: Node, rsc: Rsc, op: OpRecord, rc: int, st: _OpState
) -> None:
    from hakeeper.scheduler.placement import resource_location

    task = op.operation
    is_probe = task == "monitor" and op.interval_ms == 0
    st.last_failure = op
    if not (not cluster.options.symmetric and rc == 5):
        _record_failure(rsc, node, op)
    on_fail, fail_role = op_on_fail(cluster, rsc, task, op.interval_ms)
    if ON_FAIL_RANK[st.on_fail] < ON_FAIL_RANK[on_fail]:
        st.on_fail = on_fail
    if task == "stop":
        resource_location(cluster, rsc, node, -INFINITY, "__stop_fail__")
    elif task in ("migrate_to", "migrate_from"):
        from hakeeper.scheduler import migration

        if task == "migrate_to":
            migration.unpack_migrate_to_failure(cluster, rsc, node, op)
        else:
            migration.unpack_migrate_from_failure(cluster, rsc, node, op)
    elif task == "promote":
        rsc.role = Role.PROMOTED
    elif task == "demote":
        if on_fail == OnFail.BLOCK:
            rsc.role = Role.PROMOTED
            rsc.next_role = Role.STOPPED
        elif rc == PCMK_OCF_NOT_RUNNING:
            rsc.role = Role.STOPPED
        else:
            rsc.role = Role.UNPROMOTED
    if is_probe and rc == 5:
        rsc.role = Role.STOPPED
    elif rsc.role < Role.STARTED:
        _set_active(rsc)
    if on_fail <= OnFail.FENCE and fail_role != Role.STARTED and rsc.next_role < fail_role:
        rsc.next_role = fail_role
    if fail_role == Role.STOPPED:
        for other in cluster.nodes:
            resource_location(cluster, rsc, other, -INFINITY, "on-fail=stop")


def _multiply_active(rsc: Rsc) -> None:
    """multiple-active: stop_only keeps it down everywhere; block leaves it alone."""
    if rsc.multiple_active == "stop_only":
        rsc.banned_everywhere = True
    elif rsc.multiple_active == "block":
        members = [rsc]
        parent = rsc.parent
        if parent is not None and parent.multiple_active == "block":
            members = parent.children
        for member in members:
            member.managed = False
            member.block = True


def _process_rsc_state(cluster: Cluster, node: Node, rsc: Rsc, on_fail: OnFail) -> None:
    from hakeeper.scheduler.actions import stop_action
    from hakeeper.scheduler.placement import resource_location

    if rsc.role != Role.UNKNOWN:
        rsc.known_on.add(node.id)
    if rsc.role > Role.STOPPED and not node.online and not node.maintenance and rsc.managed:
        reason = f"{rsc.id} is thought to be active there"
        if node.is_guest:
            # fenced by recovering its container, fencing enabled or not
            rsc.failed = True
            rsc.stop_needed = True
            fence_node(cluster, node, reason)
        elif cluster.options.stonith_enabled:
            if node.kind == "remote" and node.remote_rsc is not None and not node.remote_rsc.failed:
                # fenced only if its connection cannot come up elsewhere
                node.unseen = True
                reason = (
                    f"{rsc.id} is active there (fencing will be revoked if remote "
                    "connection can be re-established elsewhere)"
                )
            fence_node(cluster, node, reason)
    if node.unclean:
        on_fail = OnFail.IGNORE
    if on_fail == OnFail.DEMOTE:
        from hakeeper.scheduler.actions import custom_action

        rsc.failed = True
        custom_action(cluster, rsc, "demote", node, False)
    elif on_fail == OnFail.FENCE:
        fence_node(cluster, node, f"{rsc.id} failed there")
    elif on_fail == OnFail.STANDBY:
        node.standby = True
        node.standby_onfail = True
    elif on_fail == OnFail.BLOCK:
        rsc.managed = False
        rsc.block = True
    elif on_fail == OnFail.MIGRATE:
        resource_location(cluster, rsc, node, -INFINITY, "__action_migration_auto__")
    elif on_fail == OnFail.STOP:
        rsc.next_role = Role.STOPPED
        rsc.next_role_reason = "on-fail=stop"
    elif on_fail == OnFail.RECOVER:
        if rsc.role not in (Role.STOPPED, Role.UNKNOWN):
            rsc.failed = True
            rsc.stop_needed = True
            stop_action(cluster, rsc, node, optional=False)
    elif on_fail in (OnFail.RESTART_CONTAINER, OnFail.RESET_REMOTE):
        _remote_failure(cluster, node, rsc, on_fail)
    if rsc.failed and rsc.is_remote_node:
        # a failed connection to an unclean remote node: fence it even if it reconnects
        conn_node = cluster.node_by_name.get(rsc.id)
        if conn_node is not None and conn_node.unclean:
            conn_node.unseen = False
    if rsc.role not in (Role.STOPPED, Role.UNKNOWN):
        if node not in rsc.running_on:
            rsc.running_on.append(node)
            node.running.append(rsc)
            if len(rsc.running_on) == 2:
                _multiply_active(rsc)
            parent = rsc.parent
            while parent is not None:
                if node not in parent.running_on:
                    parent.running_on.append(node)
                parent = parent.parent
        if on_fail in (OnFail.DEMOTE, OnFail.BLOCK):
            rsc.failed = True
        elif on_fail != OnFail.IGNORE:
            rsc.failed = True
            rsc.stop_needed = True
    else:
        for action in rsc.actions:
            if action.task == "stop" and action.node is node:
                action.flags |= AF.OPTIONAL
    if rsc.partial_source is node:
        from hakeeper.scheduler.migration import after_history

        after_history(rsc, node)


def _remote_failure(cluster: Cluster, node: Node, rsc: Rsc, on_fail: OnFail) -> None:
    from hakeeper.scheduler.actions import stop_action

    rsc.failed = True
    rsc.stop_needed = True
    active = rsc.role not in (Role.STOPPED, Role.UNKNOWN)
    if on_fail == OnFail.RESTART_CONTAINER:
        if rsc.container is not None and rsc.top().variant == Variant.BUNDLE:
            # a bundle's connection may run elsewhere than its container: stop it later
            cluster.stop_needed.insert(0, rsc.container)
        elif rsc.container is not None:
            stop_action(cluster, rsc.container, node, optional=False)
        elif active:
            stop_action(cluster, rsc, node, optional=False)
        return
    if cluster.options.stonith_enabled and rsc.is_remote_node:
        target = cluster.node_by_name.get(rsc.id)
        if target is not None and target.is_remote and not target.remote_was_fenced:
            fence_node(cluster, target, "remote connection is unrecoverable")
    if rsc.role > Role.STOPPED:
        stop_action(cluster, rsc, node, optional=False)
    if rsc.remote_reconnect_ms:
        # wait for the failure to expire before reconnecting
        rsc.next_role = Role.STOPPED
        rsc.next_role_reason = "remote reset"


def unpack(cib: Cib, now: int | None) -> Cluster:
    cluster = Cluster(cib, now)
    unpack_options(cluster)
    unpack_nodes(cluster)
    implicit = create_remote_nodes(cluster)
    unpack_resources(cluster, implicit)
    unpack_node_states(cluster)
    unpack_status(cluster)
    for rsc in cluster.primitives():
        if rsc.role == Role.UNKNOWN:
            rsc.role = Role.STOPPED
        if rsc.target_role is not None and (
            rsc.next_role == Role.UNKNOWN or rsc.target_role < rsc.next_role
        ):
            rsc.next_role = rsc.target_role
            rsc.next_role_reason = "target-role"
    for rsc in cluster.resources:
        _derive_group_role(rsc)
    return cluster


def _derive_group_role(rsc: Rsc) -> None:
    if rsc.variant == Variant.GROUP and rsc.children:
        for child in rsc.children:
            _derive_group_role(child)
        rsc.role = rsc.children[0].role
    elif rsc.variant == Variant.CLONE and rsc.children:
        rsc.role = max(child.role for child in rsc.children)
    elif rsc.variant == Variant.BUNDLE and rsc.children:
        for child in rsc.children:
            _derive_group_role(child)
        rsc.role = max(child.role for child in rsc.children)
