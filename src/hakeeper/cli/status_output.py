"""StatusDto -> text (pcs status / crm_mon), JSON (hakeeper.status/1) and crm_mon XML.

The XML is crm_mon's `--output-as=xml` form (Pacemaker's api-result schema, crm_mon
2.25), so a tool that reads `crm_mon --output-as=xml` reads it unchanged.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Any

from lxml import etree

from hakeeper import __version__
from hakeeper.commands.status import StatusDto
from hakeeper.node.records import FenceRecord
from hakeeper.scheduler.view import NodeView, ResourceView, render_nodes, render_resources

JSON_SCHEMA = "hakeeper.status/1"
API_VERSION = "2.25"


def _when(seconds: int | None) -> str:
    return time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(seconds)) if seconds else ""


#: who asks for fencing, in crm_mon's client field (Pacemaker's is pacemaker-controld.PID)
FENCE_CLIENT = "hakeeper-controller"


def _utc(seconds: float) -> str:
    """A time as crm_mon's XML and fencing lines write it: UTC, 2026-11-22 00:17:34Z."""
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(seconds))


def fence_line(r: FenceRecord) -> str:
    """One fencing event as crm_mon lists it."""
    done, stamp = (
        ("successful", "completed") if r.status == "success" else ("failed", "last-failed")
    )
    reason = f" ({r.exit_reason})" if r.exit_reason and r.status != "success" else ""
    return (
        f"  * {r.action} of {r.target} {done}: delegate={r.delegate}, client={FENCE_CLIENT}, "
        f"origin={r.origin}, {stamp}='{_utc(r.completed)}'{reason}"
    )


# --- text ----------------------------------------------------------------------------------


def _section(lines: list[str], title: str) -> list[str]:
    """The scheduler view's lines ("  * Title:", "    * ...") as crm_mon's top level."""
    return [title, *(line[2:] for line in lines[1:])]


def _as_crm_mon(rsc: ResourceView, inside_anonymous: bool = False) -> ResourceView:
    """The view as crm_mon words it: the instances of an anonymous clone are named by the
    primitive's id, and a clone's "Stopped:" list leaves out every node where an instance
    is active (crm_mon lists a failed instance by itself, not as stopped)."""
    anonymous = inside_anonymous or (rsc.kind == "clone" and not rsc.unique)
    shown = rsc.id.split(":", 1)[0] if inside_anonymous else rsc.id
    children = tuple(_as_crm_mon(c, anonymous) for c in rsc.children)
    eligible = rsc.eligible
    if rsc.kind == "clone":
        active = {n for c in rsc.children for p in _primitives(c) for n in p.nodes}
        eligible = tuple(n for n in eligible if n not in active)
    return replace(rsc, id=shown, children=children, eligible=eligible)


_ORPHAN_FLAG = re.compile(r"^(?P<head>.*\t )(?P<state>.*?) \((?P<flags>ORPHANED(?:, [^)]*)?)\)$")


def _orphan_first(line: str) -> str:
    """crm_mon words an orphan "ORPHANED Started node (unmanaged)": the word comes before
    the state, not among the flags."""
    m = _ORPHAN_FLAG.match(line)
    if m is None:
        return line
    rest = m["flags"].removeprefix("ORPHANED").removeprefix(", ")
    return f"{m['head']}ORPHANED {m['state']}" + (f" ({rest})" if rest else "")


def render_text(dto: StatusDto, *, now: int | None = None, full: bool = False) -> str:
    """crm_mon's text; full adds the whole fencing history (as `pcs status --full`), not
    only the failed fencing actions."""
    out: list[str] = []
    if dto.cluster_name:
        out.append(f"Cluster name: {dto.cluster_name}")
    quorum = "partition with quorum" if dto.have_quorum else "partition WITHOUT quorum"
    dc = f"{dto.dc} (version hakeeper {__version__}) - {quorum}" if dto.dc else "NONE"
    out += [
        "Cluster Summary:",
        "  * Stack: hakeeper",
        f"  * Current DC: {dc}",
        f"  * Last updated: {_when(now if now is not None else int(time.time()))}",
        f"  * Configuration revision: {dto.config_revision} (store revision {dto.revision})",
        f"  * {dto.nodes_configured} nodes configured",
        f"  * {dto.resources_configured} resource instances configured"
        + (f" ({dto.resources_disabled} DISABLED)" if dto.resources_disabled else ""),
        "",
    ]
    out += _section(render_nodes(dto.view), "Node List:")
    out.append("")
    shown = replace(dto.view, resources=tuple(_as_crm_mon(r) for r in dto.view.resources))
    out += [
        _orphan_first(line) for line in _section(render_resources(shown), "Full List of Resources:")
    ]
    if dto.failures:
        out += ["", "Failed Resource Actions:"]
        for f in dto.failures:
            rsc, _, _ = f.op_key.rpartition(f"_{f.task}_")
            what = f"{f.interval_ms // 1000}s-interval {f.task}" if f.interval_ms else f.task
            reason = f" ({f.exit_reason})" if f.exit_reason else ""
            out.append(
                f"  * {rsc or f.op_key} {what} on {f.node} returned '{f.rc_text}'"
                f"{reason} at {_when(f.last_rc_change)} after {f.exec_ms}ms"
            )
    failed = [r for r in dto.fencing if r.status != "success"]
    if full and dto.fencing:
        out += ["", "Fencing History:", *(fence_line(r) for r in dto.fencing)]
    elif failed:
        out += ["", "Failed Fencing Actions:", *(fence_line(r) for r in failed)]
    return "\n".join(out) + "\n"


# --- JSON ------------------------------------------------------------------------------------


def fencing_json(records: tuple[FenceRecord, ...]) -> list[dict[str, Any]]:
    return [r.to_doc() for r in records]


def _rsc_json(r: ResourceView) -> dict[str, Any]:
    return {
        "id": r.id,
        "kind": r.kind,
        "agent": r.agent,
        "role": r.role.label,
        "nodes": list(r.nodes),
        "failed": r.failed,
        "managed": r.managed,
        "blocked": r.blocked,
        "disabled": r.disabled,
        "orphaned": r.orphan,
        "children": [_rsc_json(c) for c in r.children],
    }


def _node_json(n: NodeView, dto: StatusDto) -> dict[str, Any]:
    return {
        "name": n.name,
        "id": dto.node_ids.get(n.name, n.name),
        "online": n.online,
        "standby": n.standby,
        "maintenance": n.maintenance,
        "unclean": n.unclean,
        "pending": n.pending,
        "shutdown": n.shutdown,
        "is_dc": n.name == dto.dc,
        "resources_running": _running(dto, n.name),
    }


def as_json(dto: StatusDto) -> dict[str, Any]:
    return {
        "schema": JSON_SCHEMA,
        "cluster_name": dto.cluster_name,
        "revision": dto.revision,
        "config_revision": dto.config_revision,
        "dc": dto.dc,
        "have_quorum": dto.have_quorum,
        "counts": {
            "nodes": dto.nodes_configured,
            "resources": dto.resources_configured,
            "disabled": dto.resources_disabled,
            "blocked": dto.resources_blocked,
        },
        "options": {
            "stonith_enabled": dto.options.stonith_enabled,
            "symmetric_cluster": dto.options.symmetric_cluster,
            "no_quorum_policy": dto.options.no_quorum_policy,
            "maintenance_mode": dto.options.maintenance_mode,
            "stop_all_resources": dto.options.stop_all_resources,
        },
        "nodes": [_node_json(n, dto) for n in dto.view.nodes],
        "resources": [_rsc_json(r) for r in dto.view.resources],
        "bans": [
            {
                "id": b.id,
                "resource": b.resource,
                "node": b.node,
                "weight": b.weight,
                "promoted_only": b.promoted_only,
            }
            for b in dto.bans
        ],
        "failures": [
            {
                "op_key": f.op_key,
                "node": f.node,
                "task": f.task,
                "interval_ms": f.interval_ms,
                "rc": f.rc,
                "rc_text": f.rc_text,
                "status": f.status_text,
                "exit_reason": f.exit_reason,
                "call_id": f.call_id,
                "last_rc_change": f.last_rc_change,
            }
            for f in dto.failures
        ],
        "fencing": fencing_json(dto.fencing),
        # what migration-threshold is compared with: each resource that failed on a node
        "fail_counts": [
            {
                "resource": r.resource,
                "node": h.node,
                "count": r.fail_count,
                "migration_threshold": r.migration_threshold,
                "last_failure": r.last_failure,
            }
            for h in dto.history
            for r in h.resources
            if r.fail_count
        ],
    }


# --- crm_mon XML -------------------------------------------------------------------------------


def _b(value: bool) -> str:
    return "true" if value else "false"


def _primitives(r: ResourceView) -> list[ResourceView]:
    if r.kind == "primitive":
        return [r]
    return [p for c in r.children for p in _primitives(c)]


def _parts(r: ResourceView) -> list[ResourceView]:
    """Every primitive instance, a bundle's containers, connections and inner resources
    included."""
    if r.kind == "bundle":
        return [p for line in r.children for part in line.parts for p in _primitives(part)]
    return _primitives(r)


def _running(dto: StatusDto, node: str) -> int:
    return sum(1 for r in dto.view.resources for p in _parts(r) if node in p.nodes)


def _guest_containers(dto: StatusDto) -> dict[str, str]:
    """Guest node -> the container it lives in (crm_mon's id_as_resource): in a replica,
    the connection is named after the guest, the container runs the engine's agent."""
    out: dict[str, str] = {}
    for r in dto.view.resources:
        if r.kind != "bundle":
            continue
        for line in r.children:
            ids = {p.id for p in line.parts}
            container = next(
                (p.id for p in line.parts if (p.agent or "").endswith((":podman", ":docker"))),
                None,
            )
            for p in line.parts:
                if p.agent == "ocf:pacemaker:remote" and container is not None and p.id in ids:
                    out[p.id] = container
    return out


def _xml_resource(
    parent: etree._Element, r: ResourceView, dto: StatusDto, shown_id: str | None = None
) -> None:
    active = bool(r.nodes)
    el = etree.SubElement(
        parent,
        "resource",
        {
            "id": shown_id or r.id,
            "resource_agent": r.agent or "",
            "role": r.role.label if active else "Stopped",
        },
    )
    if r.disabled:
        el.set("target_role", "Stopped")
    for key, value in (
        ("active", active),
        ("orphaned", r.orphan),
        ("blocked", r.blocked),
        ("managed", r.managed),
        ("failed", r.failed),
        ("failure_ignored", False),
    ):
        el.set(key, _b(value))
    el.set("nodes_running_on", str(len(r.nodes)))
    for node in r.nodes:
        etree.SubElement(
            el, "node", {"name": node, "id": dto.node_ids.get(node, node), "cached": "true"}
        )


def _xml_group(
    parent: etree._Element, r: ResourceView, dto: StatusDto, shown_id: str | None = None
) -> None:
    el = etree.SubElement(
        parent,
        "group",
        {
            "id": shown_id or r.id,
            "number_resources": str(len(r.children)),
            "managed": _b(r.managed),
            "disabled": _b(r.disabled),
        },
    )
    for child in r.children:
        _xml_resource(el, child, dto)


def _xml_clone(parent: etree._Element, r: ResourceView, dto: StatusDto) -> None:
    children = r.children
    el = etree.SubElement(
        parent,
        "clone",
        {
            "id": r.id,
            "multi_state": _b(r.id in dto.promotable),
            "unique": _b(r.unique),
            "managed": _b(r.managed),
            "disabled": _b(r.disabled),
            # the clone's own flag, not its instances': crm_mon leaves it false
            "failed": "false",
            "failure_ignored": "false",
        },
    )
    if r.disabled:
        el.set("target_role", "Stopped")
    for child in children:
        # crm_mon names anonymous instances by the primitive's id, unique ones by instance
        shown = child.id if r.unique else child.id.split(":", 1)[0]
        if child.kind == "group":
            _xml_group(el, child, dto, shown)
        else:
            _xml_resource(el, child, dto, shown)


def _xml_bundle(parent: etree._Element, r: ResourceView, dto: StatusDto) -> None:
    """As crm_mon: one <replica> per replica, holding its resources (agents inside a
    bundle read this: galera's and redis' "is a promoted instance active?")."""
    el = etree.SubElement(
        parent,
        "bundle",
        {
            "id": r.id,
            "type": "podman",
            "image": r.agent or "",
            "unique": _b(r.unique),
            "managed": _b(r.managed),
            "failed": "false",
        },
    )
    for index, line in enumerate(r.children):
        replica = etree.SubElement(el, "replica", {"id": str(index)})
        for part in line.parts:
            _xml_resource(replica, part, dto)


def _xml_resources(parent: etree._Element, dto: StatusDto) -> None:
    el = etree.SubElement(parent, "resources")
    for r in dto.view.resources:
        if r.kind == "bundle":
            _xml_bundle(el, r, dto)
        elif r.kind == "clone":
            _xml_clone(el, r, dto)
        elif r.kind == "group":
            _xml_group(el, r, dto)
        else:
            _xml_resource(el, r, dto)


def _xml_history(parent: etree._Element, dto: StatusDto) -> None:
    history = etree.SubElement(parent, "node_history")
    for n in dto.history:
        node = etree.SubElement(history, "node", {"name": n.node})
        for r in n.resources:
            rsc = etree.SubElement(
                node,
                "resource_history",
                {
                    "id": r.resource,
                    "orphan": _b(r.orphan),
                    "migration-threshold": str(r.migration_threshold),
                },
            )
            if r.fail_count:
                rsc.set("fail-count", str(r.fail_count))
                rsc.set("last-failure", _when(r.last_failure))
            for op in r.ops:
                el = etree.SubElement(
                    rsc,
                    "operation_history",
                    {"call": str(op.call_id), "task": op.task, "rc": str(op.rc)},
                )
                el.set("rc_text", op.rc_text)
                if op.interval_ms:
                    el.set("interval", f"{op.interval_ms}ms")
                if op.last_rc_change:
                    el.set("last-rc-change", _when(op.last_rc_change))
                el.set("exec-time", f"{op.exec_ms}ms")
                el.set("queue-time", f"{op.queue_ms}ms")


def as_xml(dto: StatusDto, *, now: int | None = None) -> bytes:
    root = etree.Element(
        "pacemaker-result", {"api-version": API_VERSION, "request": "hakeeper status --output xml"}
    )
    summary = etree.SubElement(root, "summary")
    etree.SubElement(summary, "stack", {"type": "hakeeper"})
    dc = etree.SubElement(summary, "current_dc", {"present": _b(dto.dc is not None)})
    if dto.dc is not None:
        dc.set("version", f"hakeeper-{__version__}")
        dc.set("name", dto.dc)
        dc.set("id", dto.dc_id or dto.dc)
        dc.set("with_quorum", _b(dto.have_quorum))
    etree.SubElement(
        summary, "last_update", {"time": _when(now if now is not None else int(time.time()))}
    )
    etree.SubElement(summary, "last_change", {"time": "", "user": "", "client": "", "origin": ""})
    etree.SubElement(summary, "nodes_configured", {"number": str(dto.nodes_configured)})
    etree.SubElement(
        summary,
        "resources_configured",
        {
            "number": str(dto.resources_configured),
            "disabled": str(dto.resources_disabled),
            "blocked": str(dto.resources_blocked),
        },
    )
    opts = dto.options
    etree.SubElement(
        summary,
        "cluster_options",
        {
            "stonith-enabled": _b(opts.stonith_enabled),
            "symmetric-cluster": _b(opts.symmetric_cluster),
            "no-quorum-policy": opts.no_quorum_policy,
            "maintenance-mode": _b(opts.maintenance_mode),
            "stop-all-resources": _b(opts.stop_all_resources),
            "stonith-timeout-ms": "60000",
            "priority-fencing-delay-ms": "0",
        },
    )
    nodes = etree.SubElement(root, "nodes")
    guests = _guest_containers(dto)
    for n in dto.view.nodes:
        member = n.kind == "member"
        node = etree.SubElement(
            nodes,
            "node",
            {
                "name": n.name,
                "id": dto.node_ids.get(n.name, n.name),
                "online": _b(n.online),
                "standby": _b(n.standby),
                "standby_onfail": _b(n.standby_onfail),
                "maintenance": _b(n.maintenance),
                "pending": _b(n.pending),
                "unclean": _b(n.unclean),
                "health": "green",
                "shutdown": _b(n.shutdown),
                # a remote or guest node is not a cluster member: crm_mon says false
                "expected_up": _b(n.online and member),
                "is_dc": _b(n.name == dto.dc),
                "resources_running": str(_running(dto, n.name)),
                "type": "member" if member else "remote",
            },
        )
        if n.name in guests:
            node.set("id_as_resource", guests[n.name])
    _xml_resources(root, dto)
    if dto.history:
        _xml_history(root, dto)
    if dto.failures:
        failures = etree.SubElement(root, "failures")
        for f in dto.failures:
            etree.SubElement(
                failures,
                "failure",
                {
                    "op_key": f.op_key,
                    "node": f.node,
                    "exitstatus": f.rc_text,
                    "exitreason": f.exit_reason,
                    "exitcode": str(f.rc),
                    "call": str(f.call_id),
                    "status": f.status_text,
                    "last-rc-change": _utc(f.last_rc_change or 0),
                    "queued": str(f.queue_ms),
                    "exec": str(f.exec_ms),
                    "interval": str(f.interval_ms),
                    "task": f.task,
                },
            )
    if dto.fencing:
        history = etree.SubElement(root, "fence_history")
        for r in dto.fencing:
            event = etree.SubElement(
                history,
                "fence_event",
                {
                    "action": r.action,
                    "target": r.target,
                    "client": FENCE_CLIENT,
                    "origin": r.origin,
                    "status": "success" if r.status == "success" else "failed",
                },
            )
            if r.exit_reason:
                event.set("exit-reason", r.exit_reason)
            event.set("delegate", r.delegate)
            event.set("completed", _utc(r.completed))
    if dto.bans:
        bans = etree.SubElement(root, "bans")
        for b in dto.bans:
            etree.SubElement(
                bans,
                "ban",
                {
                    "id": b.id,
                    "resource": b.resource,
                    "node": b.node,
                    "weight": str(b.weight),
                    "promoted-only": _b(b.promoted_only),
                    "master_only": _b(b.promoted_only),
                },
            )
    etree.SubElement(root, "status", {"code": "0", "message": "OK"})
    return bytes(etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8"))
