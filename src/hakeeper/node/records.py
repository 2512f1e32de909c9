"""Op history as the store holds it, and the CIB status section the leader builds from it.

One OP_HISTORY document per (node, resource):
`{"agent": [standard, provider, type], "ops": {record id: lrm_rsc_op fields}, "changed": id}`
with the record ids Pacemaker uses: RSC_last_0 (the last non-recurring operation),
RSC_last_failure_0 (the last unexpected result), RSC_monitor_INTERVAL (a recurring one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from hakeeper.cib.parse import parse_cib_text
from hakeeper.coord.model import JsonDoc, StatusKey, StatusKind
from hakeeper.model.cib import Cib
from hakeeper.model.config import NodeConfig
from hakeeper.model.status import LrmResource, NodeState, OpRecord, Status
from hakeeper.node import failures

#: the op-status of a completed operation (PCMK_EXEC_DONE)
EXEC_DONE = 0
#: ATTRIBUTES document of each node holding the node attributes its agents set
#: (crm_attribute -l reboot/forever), read by the scheduler as transient attributes
NODE_ATTRIBUTES = "node"
#: the pseudo-node under which cluster-wide attributes live, one ATTRIBUTES document per
#: name ({"value": ..., "by": node}): what agents set with crm_attribute --type crm_config
#: (the redis agent's REPL_INFO, who was master last). Not a node, never cleared by a
#: node's fencing, not read by the scheduler.
CLUSTER = "@cluster"
#: how many fencing events of one target its history keeps (newest first)
FENCE_HISTORY_KEPT = 10


@dataclass(frozen=True, slots=True)
class FenceRecord:
    """One fencing of a node, as Pacemaker's fencer records it: which node's device ran
    it (delegate) for which controller (origin), how it ended, when (epoch seconds)."""

    action: str  # reboot, off
    target: str
    status: str  # success, failed
    delegate: str
    origin: str
    device: str
    completed: float
    exit_reason: str = ""

    def to_doc(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "target": self.target,
            "status": self.status,
            "delegate": self.delegate,
            "origin": self.origin,
            "device": self.device,
            "completed": self.completed,
            "exit_reason": self.exit_reason,
        }


def fence_key(target: str) -> StatusKey:
    """Where target's fencing history lives: under the cluster, so that the fencing it
    records (which clears the target's own status) does not erase it."""
    return StatusKey(CLUSTER, StatusKind.FENCING, target)


def with_fence_record(doc: JsonDoc | None, record: FenceRecord) -> dict[str, Any]:
    """The history document with record added first, the oldest beyond the limit dropped."""
    events = list((doc or {}).get("events", ()))
    return {"events": [record.to_doc(), *events][:FENCE_HISTORY_KEPT]}


def fence_history(docs: Mapping[StatusKey, JsonDoc]) -> tuple[FenceRecord, ...]:
    """Every node's fencing events, newest first (as crm_mon lists them)."""
    out = []
    for key, doc in docs.items():
        if key.node != CLUSTER or key.kind is not StatusKind.FENCING:
            continue
        for e in doc.get("events", ()):
            try:
                out.append(
                    FenceRecord(
                        action=str(e["action"]),
                        target=str(e.get("target", key.name)),
                        status=str(e["status"]),
                        delegate=str(e.get("delegate", "")),
                        origin=str(e.get("origin", "")),
                        device=str(e.get("device", "")),
                        completed=float(e["completed"]),
                        exit_reason=str(e.get("exit_reason", "")),
                    )
                )
            except (KeyError, TypeError, ValueError):
                continue  # written by a newer hakeeper, or damaged: not ours to show
    return tuple(sorted(out, key=lambda r: (-r.completed, r.target)))


def record_ids(resource: str, task: str, interval_ms: int, expected: bool) -> list[str]:
    """The history records a result replaces: the operation's own and, if it failed,
    the resource's last failure."""
    own = f"{resource}_{task}_{interval_ms}" if interval_ms else f"{resource}_last_0"
    return [own] if expected else [own, f"{resource}_last_failure_0"]


def op_fields(
    *,
    record_id: str,
    resource: str,
    task: str,
    interval_ms: int,
    call_id: int,
    rc: int,
    op_status: int,
    transition_key: str,
    node: str,
    started: int,
    now: int,
    exec_ms: int,
    digest: str,
    exit_reason: str | None,
) -> dict[str, Any]:
    """One lrm_rsc_op, with the fields the scheduler reads, its times as Pacemaker's
    executor records them: a one-shot operation's last-run and last-rc-change are when it
    began (`started`); a recurring one has no last-run, and its last-rc-change is when the
    result that changed came back (`now`)."""
    fields: dict[str, Any] = {
        "id": record_id,
        "operation_key": f"{resource}_{task}_{interval_ms}",
        "operation": task,
        "call-id": call_id,
        "rc-code": rc,
        "op-status": op_status,
        "interval": interval_ms,
        "transition-key": transition_key,
        "transition-magic": f"{op_status}:{rc};{transition_key}",
        "on_node": node,
        "last-rc-change": now if interval_ms else started,
        "exec-time": exec_ms,
        "queue-time": 0,
        "op-digest": digest,
        "exit-reason": exit_reason,
    }
    if not interval_ms:
        fields["last-run"] = started
    return fields


def _record(fields: Mapping[str, Any]) -> OpRecord:
    return OpRecord(
        id=str(fields["id"]),
        operation=str(fields["operation"]),
        call_id=int(fields["call-id"]),
        rc_code=int(fields["rc-code"]),
        op_status=int(fields["op-status"]),
        interval_ms=int(fields["interval"]),
        operation_key=fields.get("operation_key"),
        transition_key=fields.get("transition-key"),
        transition_magic=fields.get("transition-magic"),
        last_rc_change=fields.get("last-rc-change"),
        last_run=fields.get("last-run"),
        exec_time=fields.get("exec-time"),
        queue_time=fields.get("queue-time"),
        op_digest=fields.get("op-digest"),
        on_node=fields.get("on_node"),
        exit_reason=fields.get("exit-reason"),
    )


def lrm_resource(resource: str, doc: JsonDoc) -> LrmResource:
    standard, provider, kind = doc["agent"]
    ops = sorted((_record(f) for f in doc.get("ops", {}).values()), key=lambda r: r.call_id)
    return LrmResource(resource, standard, provider, kind, tuple(ops))


def max_call_id(docs: Iterable[JsonDoc]) -> int:
    best = 0
    for doc in docs:
        for fields in doc.get("ops", {}).values():
            best = max(best, int(fields.get("call-id", 0)))
    return best


def _feature_set_at_least(value: str | None, wanted: tuple[int, ...]) -> bool:
    try:
        return tuple(int(x) for x in (value or "").split(".")) >= wanted
    except ValueError:
        return False


#: the agent of a bundle's connection: its history tells where a guest node is up
REMOTE_AGENT = ["ocf", "pacemaker", "remote"]


def guest_of(name: str) -> tuple[str, str | None]:
    """(resource, guest node) of a history or fail-count document's name: RSC@GUEST is an
    instance on a bundle's guest node, kept by the node hosting its container."""
    resource, _, guest = name.partition("@")
    return resource, guest or None


def _runs(resource: str, doc: JsonDoc) -> bool:
    last = doc.get("ops", {}).get(f"{resource}_last_0")
    return (
        last is not None
        and last.get("operation") in ("start", "monitor", "migrate_from")
        and int(last.get("rc-code", 1)) == 0
        and int(last.get("op-status", 1)) == EXEC_DONE
    )


def guest_hosts(docs: Mapping[StatusKey, JsonDoc], members: Iterable[str]) -> dict[str, str]:
    """Guest node -> the member whose history says its bundle connection runs there."""
    members = frozenset(members)
    found: dict[str, str] = {}
    for key, doc in sorted(docs.items(), key=lambda kd: (kd[0].node, kd[0].name)):
        if (
            key.kind is StatusKind.OP_HISTORY
            and key.node in members
            and list(doc.get("agent", ())) == REMOTE_AGENT
            and "@" not in key.name
            and _runs(key.name, doc)
        ):
            found.setdefault(key.name, key.node)
    return found


def cluster_cib(
    config_xml: str, docs: Mapping[StatusKey, JsonDoc], members: Iterable[str], leader: str | None
) -> Cib:
    """The stored configuration plus a status section.

    Each member is online with its op history and, as transient attributes, its fail
    counts and the node attributes its agents set. A known node that is not a member but
    still has op history left without a goodbye (its lease lapsed): it is "unexpectedly
    down", with its history, so that with fencing enabled the scheduler fences it before
    recovering what it ran (without fencing Pacemaker ignores an offline node's history).
    A node without history is cleanly down. Quorum: more than half of the known nodes are
    members."""
    cib = parse_cib_text(config_xml)
    docs = {k: v for k, v in docs.items() if k.node != CLUSTER}
    members = frozenset(members)
    hosts = guest_hosts(docs, members)
    guests = _guest_states(
        docs, hosts, _feature_set_at_least(cib.root_attr("crm_feature_set"), (3, 0, 13))
    )
    docs = {k: v for k, v in docs.items() if guest_of(k.name)[1] is None}
    config = cib.configuration
    known = {n.uname for n in config.nodes} | members | {k.node for k in docs}
    nodes = list(config.nodes) + [
        NodeConfig(id=n, uname=n) for n in sorted(known) if n not in {c.uname for c in config.nodes}
    ]
    ids = {n.uname: n.id for n in nodes}
    per_op = _feature_set_at_least(cib.root_attr("crm_feature_set"), (3, 0, 13))
    states = []
    for name in sorted(known):
        mine = sorted(
            ((k, d) for k, d in docs.items() if k.node == name),
            key=lambda kd: (kd[0].kind.value, kd[0].name),
        )
        resources = tuple(
            lrm_resource(k.name, d) for k, d in mine if k.kind is StatusKind.OP_HISTORY
        )
        if name in members:
            attrs: list[tuple[str, str]] = []
            for key, doc in mine:
                if key.kind is StatusKind.FAIL_COUNT:
                    attrs.extend(failures.attributes(key.name, doc, per_op))
                elif key.kind is StatusKind.ATTRIBUTES and key.name == NODE_ATTRIBUTES:
                    attrs.extend((str(k), str(v)) for k, v in sorted(doc.items()))
            states.append(
                NodeState(
                    ids[name],
                    name,
                    in_ccm="true",
                    crmd="online",
                    join="member",
                    expected="member",
                    attributes=tuple(attrs),
                    resources=resources,
                )
            )
        elif resources:
            states.append(
                NodeState(
                    ids[name],
                    name,
                    in_ccm="false",
                    crmd="offline",
                    join="down",
                    expected="member",
                    resources=resources,
                )
            )
        else:
            states.append(
                NodeState(
                    ids[name], name, in_ccm="false", crmd="offline", join="down", expected="down"
                )
            )
    states.extend(guests)
    quorum = 2 * len(members) > len(known)
    root = [(k, v) for k, v in cib.root_attributes if k not in ("have-quorum", "dc-uuid")]
    root.append(("have-quorum", "1" if quorum else "0"))
    if leader is not None:
        root.append(("dc-uuid", ids.get(leader, leader)))
    return replace(
        cib,
        configuration=replace(config, nodes=tuple(nodes)),
        status=Status(tuple(states), cib.status.tickets),
        root_attributes=tuple(root),
    )


def _guest_states(
    docs: Mapping[StatusKey, JsonDoc], hosts: Mapping[str, str], per_op: bool
) -> list[NodeState]:
    """A node_state for each guest node whose connection runs, with the history and fail
    counts its host keeps of it (only those of that host: another node's are stale)."""
    states = []
    for guest, host in sorted(hosts.items()):
        resources = []
        attrs: list[tuple[str, str]] = []
        for key, doc in sorted(docs.items(), key=lambda kd: (kd[0].kind.value, kd[0].name)):
            resource, of = guest_of(key.name)
            if of != guest or key.node != host:
                continue
            if key.kind is StatusKind.OP_HISTORY:
                resources.append(lrm_resource(resource, doc))
            elif key.kind is StatusKind.FAIL_COUNT:
                attrs.extend(failures.attributes(resource, doc, per_op))
        states.append(
            NodeState(
                guest,
                guest,
                in_ccm="true",
                crmd="online",
                join="member",
                expected="member",
                attributes=tuple(attrs),
                resources=tuple(resources),
                remote_node=True,
            )
        )
    return states
