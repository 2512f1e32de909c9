"""`simulate`: the scheduler on a CIB file, with crm_simulate's injections. No cluster needed."""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass

from hakeeper.cib.parse import parse_cib_file
from hakeeper.model.cib import Cib
from hakeeper.model.status import LrmResource, NodeState, OpRecord, Status
from hakeeper.reports import CommandError, Report, codes
from hakeeper.scheduler.schedule import Plan, schedule

_INJECT_RE = re.compile(
    r"^(?P<key>.+)_(?P<task>[a-z_-]+)_(?P<interval>\d+)@(?P<node>[^=]+)="
    r"(?P<rc>-?\d+)$"
)


@dataclass(frozen=True, slots=True)
class Injection:
    resource: str
    task: str
    interval_ms: int
    node: str
    rc: int


@dataclass(frozen=True, slots=True)
class SimulateDto:
    cib: Cib
    plan: Plan


def parse_injection(text: str) -> Injection:
    m = _INJECT_RE.match(text)
    if m is None:
        raise CommandError(
            Report.error(
                codes.BAD_OPTION,
                f"'{text}' is not an operation to inject",
                where="--op-inject",
                hint="use RESOURCE_TASK_INTERVALMS@NODE=RC, e.g. rsc1_monitor_10000@node1=7",
            )
        )
    return Injection(m["key"], m["task"], int(m["interval"]), m["node"], int(m["rc"]))


def simulate(
    path: str, *, node_fail: tuple[str, ...] = (), inject: tuple[str, ...] = ()
) -> SimulateDto:
    cib = parse_cib_file(path)
    cib = apply_injections(cib, node_fail, tuple(parse_injection(i) for i in inject))
    # As crm_simulate: the CIB's execution-date is "now"; without one, the real time.
    now = cib.execution_date if cib.execution_date is not None else int(time.time())
    # As crm_simulate: a CIB file may come from crm_report, with its secrets masked.
    return SimulateDto(cib, schedule(cib, now, sanitized=True))


def _node_id(cib: Cib, name: str, option: str) -> str:
    for node in cib.configuration.nodes:
        if node.uname == name or node.id == name:
            return node.id
    raise CommandError(
        Report.error(
            codes.CIB_UNKNOWN_NODE,
            f"no node named '{name}' in the CIB",
            where=option,
            hint="use one of: " + ", ".join(n.uname for n in cib.configuration.nodes),
        )
    )


def apply_injections(
    cib: Cib, node_fail: tuple[str, ...], injections: tuple[Injection, ...]
) -> Cib:
    if not node_fail and not injections:
        return cib
    states = {s.id: s for s in cib.status.nodes}
    order = [s.id for s in cib.status.nodes]
    for name in node_fail:
        nid = _node_id(cib, name, "--node-fail")
        base = states.get(nid) or NodeState(nid, name)
        states[nid] = dataclasses.replace(
            base, in_ccm="false", crmd="offline", join="down", expected="member"
        )
        if nid not in order:
            order.append(nid)
    for inj in injections:
        nid = _node_id(cib, inj.node, "--op-inject")
        base = states.get(nid) or NodeState(nid, inj.node, "true", "online", "member", "member")
        if nid not in order:
            order.append(nid)
        states[nid] = _inject_op(cib, base, inj)
    status = Status(tuple(states[i] for i in order), cib.status.tickets)
    return dataclasses.replace(cib, status=status)


def _inject_op(cib: Cib, state: NodeState, inj: Injection) -> NodeState:
    resources = list(state.resources)
    index = next((i for i, r in enumerate(resources) if r.id == inj.resource), None)
    if index is None:
        agent = _agent_of(cib, inj.resource)
        resources.append(LrmResource(inj.resource, *agent))
        index = len(resources) - 1
    lrm = resources[index]
    call_id = max((op.call_id for op in lrm.ops), default=0) + 1
    target = 7 if inj.task == "monitor" and inj.interval_ms == 0 else 0
    if inj.task == "stop":
        target = 0
    key = f"{inj.resource}_{inj.task}_{inj.interval_ms}"
    record = OpRecord(
        f"{key}_inject",
        inj.task,
        call_id,
        inj.rc,
        0,
        inj.interval_ms,
        key,
        f"1:1:{target}:00000000-0000-0000-0000-000000000000",
        f"0:{inj.rc};1:1:{target}:00000000-0000-0000-0000-000000000000",
        last_rc_change=cib.execution_date,
        on_node=state.uname,
    )
    ops = [
        op for op in lrm.ops if not (op.operation == inj.task and op.interval_ms == inj.interval_ms)
    ]
    ops.append(record)
    resources[index] = dataclasses.replace(lrm, ops=tuple(ops))
    return dataclasses.replace(state, resources=tuple(resources))


def _agent_of(cib: Cib, rsc_id: str) -> tuple[str | None, str | None, str | None]:
    from hakeeper.model.config import Group, Primitive

    for res in cib.configuration.resources:
        prims = (
            [res]
            if isinstance(res, Primitive)
            else (list(res.children) if isinstance(res, Group) else [])
        )
        for prim in prims:
            if isinstance(prim, Primitive) and prim.id == rsc_id:
                return prim.agent.standard, prim.agent.provider, prim.agent.type
    raise CommandError(
        Report.error(
            codes.CIB_UNKNOWN_RESOURCE,
            f"no resource named '{rsc_id}' in the CIB",
            where="--op-inject",
            hint="give the id of a primitive from the CIB",
        )
    )
