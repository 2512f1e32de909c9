"""A small model of a Pacemaker CIB (configuration plus status) rendered to XML as 2.1.5 writes it.

Standard library only: the benchmarks' generator, the hypothesis strategies and the scenario
script all build a `Cluster` and call `render()`. Op history carries the op digests Pacemaker
2.1 computes (md5 of the sorted parameters), so a running resource whose definition did not
change is not restarted and a converged cluster stays converged.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

# crm_simulate 2.1.5 aborts -S above this feature set; pacemaker-3.7 is a schema it validates.
FEATURE_SET = "3.16.1"
SCHEMA = "pacemaker-3.7"
INFINITY = 1_000_000
# The DC's uuid that transition keys carry; any fixed value will do.
DC_UUID = "5f8e3c1a-2b4d-4e6f-8a9b-0c1d2e3f4a5b"

Pairs = tuple[tuple[str, str], ...]


def score_text(score: int) -> str:
    """A score as the CIB spells it: INFINITY, -INFINITY or an integer."""
    if score >= INFINITY:
        return "INFINITY"
    if score <= -INFINITY:
        return "-INFINITY"
    return str(score)


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _nvpairs(tag: str, set_id: str, pairs: Iterable[tuple[str, str]], indent: str) -> list[str]:
    pairs = list(pairs)
    if not pairs:
        return []
    out = [f'{indent}<{tag} id="{set_id}">']
    for name, value in pairs:
        pid = f"{set_id}-{name}".replace("#", ".")
        out.append(
            f'{indent}  <nvpair id="{_attr(pid)}" name="{_attr(name)}" value="{_attr(value)}"/>'
        )
    out.append(f"{indent}</{tag}>")
    return out


def op_digest(params: Mapping[str, str], interval_ms: int, timeout_ms: int) -> str:
    """The op-digest Pacemaker 2.1 records for an operation of a resource with these parameters.

    It hashes `<parameters .../>` with attributes sorted by name, as one line with a leading
    space and a trailing newline; recurring operations also carry their timeout.
    """
    items = dict(params)
    if interval_ms:
        items["CRM_meta_timeout"] = str(timeout_ms)
    attrs = "".join(f' {k}="{_attr(v)}"' for k, v in sorted(items.items()))
    return hashlib.md5(f" <parameters{attrs}/>\n".encode()).hexdigest()


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class Op:
    name: str
    interval_s: int = 0
    timeout_s: int = 20

    @property
    def interval_ms(self) -> int:
        return self.interval_s * 1000

    def key(self, rsc: str) -> str:
        return f"{rsc}_{self.name}_{self.interval_ms}"


DEFAULT_OPS = (Op("start", 0, 20), Op("stop", 0, 20), Op("monitor", 10, 20))


@dataclass(frozen=True, slots=True)
class Primitive:
    id: str
    standard: str  # the CIB's "class": ocf, stonith, systemd, ...
    type: str
    provider: str | None = None
    params: Pairs = ()
    meta: Pairs = ()
    ops: tuple[Op, ...] = DEFAULT_OPS
    utilization: Pairs = ()

    @property
    def monitor(self) -> Op | None:
        return next((o for o in self.ops if o.name == "monitor" and o.interval_s), None)

    @property
    def agent(self) -> str:
        if self.provider:
            return f"{self.standard}:{self.provider}:{self.type}"
        return f"{self.standard}:{self.type}"

    def primitives(self) -> tuple[Primitive, ...]:
        return (self,)


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    members: tuple[Primitive, ...]
    meta: Pairs = ()

    def primitives(self) -> tuple[Primitive, ...]:
        return self.members


@dataclass(frozen=True, slots=True)
class Clone:
    """An anonymous clone; its op history is recorded under the child primitive's own id."""

    id: str
    child: Primitive | Group
    meta: Pairs = ()

    def primitives(self) -> tuple[Primitive, ...]:
        return self.child.primitives()


@dataclass(frozen=True, slots=True)
class Bundle:
    """A podman bundle on the host network; with an inner primitive it needs control_port.

    Its resources are Pacemaker's to create (containers, connections, the inner clone), so
    it brings no primitives of its own to the op history.
    """

    id: str
    image: str
    replicas: int = 1
    inner: Primitive | None = None
    control_port: int = 3121
    meta: Pairs = ()

    def primitives(self) -> tuple[Primitive, ...]:
        return ()


Resource = Primitive | Group | Clone | Bundle


@dataclass(frozen=True, slots=True)
class Expression:
    attribute: str
    operation: str  # eq ne lt gt lte gte defined not_defined
    value: str | None = None
    type: str | None = None  # string, number (integer in newer schemas), version


@dataclass(frozen=True, slots=True)
class Rule:
    score: int
    expressions: tuple[Expression, ...]
    boolean_op: str = "and"


@dataclass(frozen=True, slots=True)
class Location:
    id: str
    rsc: str
    score: int = 0
    node: str | None = None
    rule: Rule | None = None
    resource_discovery: str | None = None  # always, never, exclusive
    role: str | None = None  # Promoted, Unpromoted, Started


@dataclass(frozen=True, slots=True)
class Colocation:
    id: str
    rsc: str
    with_rsc: str
    score: int
    rsc_role: str | None = None
    with_rsc_role: str | None = None


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    first: str
    then: str
    kind: str | None = "Mandatory"  # Mandatory, Optional, Serialize
    symmetrical: bool | None = None
    first_action: str | None = None
    then_action: str | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    """rsc_ticket: rsc runs only while the ticket is granted (and not in standby)."""

    id: str
    rsc: str
    ticket: str
    loss_policy: str | None = None  # stop, demote, fence, freeze
    rsc_role: str | None = None


@dataclass(frozen=True, slots=True)
class RscSet:
    """A resource_set: members in order; sequential None means the default (true)."""

    id: str
    members: tuple[str, ...]
    sequential: bool | None = None
    require_all: bool | None = None  # ordering sets only


@dataclass(frozen=True, slots=True)
class ColocationSets:
    """rsc_colocation made of resource sets."""

    id: str
    sets: tuple[RscSet, ...]
    score: int


@dataclass(frozen=True, slots=True)
class OrderSets:
    """rsc_order made of resource sets."""

    id: str
    sets: tuple[RscSet, ...]
    kind: str | None = None
    symmetrical: bool | None = None


Constraint = Location | Colocation | Order | Ticket | ColocationSets | OrderSets


# ---------------------------------------------------------------- status


class NodeState(enum.Enum):
    ONLINE = "online"
    OFFLINE = "offline"  # left the cluster cleanly
    LOST = "lost"  # expected to be a member but gone: unclean, fenced if stonith is on
    UNSEEN = "unseen"  # no node_state at all (never seen since the cluster started)


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    id: str
    attrs: Pairs = ()  # permanent attributes (<nodes>): standby, site, ...
    state: NodeState = NodeState.ONLINE
    transient: Pairs = ()  # status attributes besides fail counts
    utilization: Pairs = ()  # capacity for placement-strategy


class RscState(enum.Enum):
    """What a node's op history says about one primitive there."""

    NOT_RUNNING = "not-running"  # probed: rc 7
    FOUND_RUNNING = "found-running"  # probed: rc 0, nothing started it
    RUNNING = "running"  # started, monitor ok
    STOPPED = "stopped"  # started once, stopped since
    MONITOR_FAILED = "monitor-failed"  # started, then the monitor said not running (rc 7)
    MONITOR_ERROR = "monitor-error"  # started, then the monitor said error (rc 1)
    START_FAILED = "start-failed"  # start returned rc 1
    STOP_FAILED = "stop-failed"  # started, stop returned rc 1
    MIGRATED_TO = "migrated-to"  # started, then migrate_to (to History.migrate_target) done
    PROMOTED = "promoted"  # promotable clone instance: started, promoted, monitor rc 8
    FOUND_PROMOTED = "found-promoted"  # probed: rc 8, promoted where nothing promoted it


@dataclass(frozen=True, slots=True)
class History:
    """One primitive's op history on one node; no History at all means never probed there.

    fail_count None means the usual count for the state (1 for a failed monitor, INFINITY for
    a failed start or stop, none otherwise); an explicit count can leave old failures behind a
    resource that runs again.
    """

    node: str
    rsc: str
    state: RscState
    fail_count: int | None = None
    age_s: int = 3600  # how long before "now" the last op changed the result
    migrate_target: str | None = None  # for MIGRATED_TO


@dataclass(frozen=True, slots=True)
class Cluster:
    nodes: tuple[Node, ...]
    resources: tuple[Resource, ...]
    constraints: tuple[Constraint, ...] = ()
    history: tuple[History, ...] = ()
    properties: Pairs = ()
    rsc_defaults: Pairs = ()
    op_defaults: Pairs = ()
    name: str = "hakeeper-test"
    now: int = 1_700_000_000
    have_quorum: bool = True
    dc: str | None = None  # node name; default the first online node
    tickets: tuple[tuple[str, bool, bool], ...] = ()  # status: (ticket, granted, standby)

    def primitives(self) -> dict[str, Primitive]:
        return {p.id: p for r in self.resources for p in r.primitives()}

    def render(self) -> str:
        return _Renderer(self).render()


# ---------------------------------------------------------------- rendering


def _resource_xml(r: Resource, ind: str) -> list[str]:
    if isinstance(r, Primitive):
        prov = f' provider="{r.provider}"' if r.provider else ""
        out = [f'{ind}<primitive class="{r.standard}" id="{r.id}"{prov} type="{r.type}">']
        out += _nvpairs("instance_attributes", f"{r.id}-instance_attributes", r.params, ind + "  ")
        out += _nvpairs("meta_attributes", f"{r.id}-meta_attributes", r.meta, ind + "  ")
        out += _nvpairs("utilization", f"{r.id}-utilization", r.utilization, ind + "  ")
        if r.ops:
            out.append(f"{ind}  <operations>")
            for o in r.ops:
                oid = f"{r.id}-{o.name}-interval-{o.interval_s}s"
                out.append(
                    f'{ind}    <op id="{oid}" interval="{o.interval_s}s" name="{o.name}"'
                    f' timeout="{o.timeout_s}s"/>'
                )
            out.append(f"{ind}  </operations>")
        out.append(f"{ind}</primitive>")
        return out
    if isinstance(r, Group):
        out = [f'{ind}<group id="{r.id}">']
        for m in r.members:
            out += _resource_xml(m, ind + "  ")
        out += _nvpairs("meta_attributes", f"{r.id}-meta_attributes", r.meta, ind + "  ")
        out.append(f"{ind}</group>")
        return out
    if isinstance(r, Bundle):
        out = [
            f'{ind}<bundle id="{r.id}">',
            f'{ind}  <podman image="{r.image}" network="host" replicas="{r.replicas}"/>',
        ]
        if r.inner is not None:
            out.append(f'{ind}  <network control-port="{r.control_port}"/>')
            out += _resource_xml(r.inner, ind + "  ")
        out += _nvpairs("meta_attributes", f"{r.id}-meta_attributes", r.meta, ind + "  ")
        out.append(f"{ind}</bundle>")
        return out
    out = [f'{ind}<clone id="{r.id}">']
    out += _resource_xml(r.child, ind + "  ")
    out += _nvpairs("meta_attributes", f"{r.id}-meta_attributes", r.meta, ind + "  ")
    out.append(f"{ind}</clone>")
    return out


def _set_xml(r: RscSet, ind: str) -> list[str]:
    extra = ""
    if r.sequential is not None:
        extra += f' sequential="{"true" if r.sequential else "false"}"'
    if r.require_all is not None:
        extra += f' require-all="{"true" if r.require_all else "false"}"'
    return [
        f'{ind}<resource_set id="{r.id}"{extra}>',
        *(f'{ind}  <resource_ref id="{m}"/>' for m in r.members),
        f"{ind}</resource_set>",
    ]


def _constraint_xml(c: Constraint, ind: str) -> list[str]:
    if isinstance(c, ColocationSets):
        sets = [line for r in c.sets for line in _set_xml(r, ind + "  ")]
        head = f'{ind}<rsc_colocation id="{c.id}" score="{score_text(c.score)}">'
        return [head, *sets, f"{ind}</rsc_colocation>"]
    if isinstance(c, OrderSets):
        extra = f' kind="{c.kind}"' if c.kind else ""
        if c.symmetrical is not None:
            extra += f' symmetrical="{"true" if c.symmetrical else "false"}"'
        sets = [line for r in c.sets for line in _set_xml(r, ind + "  ")]
        return [f'{ind}<rsc_order id="{c.id}"{extra}>', *sets, f"{ind}</rsc_order>"]
    if isinstance(c, Location):
        disc = f' resource-discovery="{c.resource_discovery}"' if c.resource_discovery else ""
        disc += f' role="{c.role}"' if c.role else ""
        if c.rule is None:
            return [
                f'{ind}<rsc_location id="{c.id}" rsc="{c.rsc}" node="{c.node}"'
                f' score="{score_text(c.score)}"{disc}/>'
            ]
        rule = c.rule
        bop = f' boolean-op="{rule.boolean_op}"' if len(rule.expressions) > 1 else ""
        out = [
            f'{ind}<rsc_location id="{c.id}" rsc="{c.rsc}"{disc}>',
            f'{ind}  <rule id="{c.id}-rule" score="{score_text(rule.score)}"{bop}>',
        ]
        for i, e in enumerate(rule.expressions):
            val = f' value="{_attr(e.value)}"' if e.value is not None else ""
            typ = f' type="{e.type}"' if e.type else ""
            out.append(
                f'{ind}    <expression id="{c.id}-rule-expr-{i}" attribute="{_attr(e.attribute)}"'
                f' operation="{e.operation}"{val}{typ}/>'
            )
        out += [f"{ind}  </rule>", f"{ind}</rsc_location>"]
        return out
    if isinstance(c, Ticket):
        extra = f' loss-policy="{c.loss_policy}"' if c.loss_policy else ""
        extra += f' rsc-role="{c.rsc_role}"' if c.rsc_role else ""
        return [f'{ind}<rsc_ticket id="{c.id}" rsc="{c.rsc}" ticket="{c.ticket}"{extra}/>']
    if isinstance(c, Colocation):
        roles = f' rsc-role="{c.rsc_role}"' if c.rsc_role else ""
        roles += f' with-rsc-role="{c.with_rsc_role}"' if c.with_rsc_role else ""
        return [
            f'{ind}<rsc_colocation id="{c.id}" rsc="{c.rsc}" score="{score_text(c.score)}"'
            f' with-rsc="{c.with_rsc}"{roles}/>'
        ]
    extra = ""
    if c.kind:
        extra += f' kind="{c.kind}"'
    if c.symmetrical is not None:
        extra += f' symmetrical="{"true" if c.symmetrical else "false"}"'
    if c.first_action:
        extra += f' first-action="{c.first_action}"'
    if c.then_action:
        extra += f' then-action="{c.then_action}"'
    return [f'{ind}<rsc_order id="{c.id}" first="{c.first}" then="{c.then}"{extra}/>']


_LAST = "last_0"
_FAIL = "last_failure_0"


class _Renderer:
    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster
        self.prims = cluster.primitives()
        self.call_id = 0

    def render(self) -> str:
        c = self.c
        online = [n for n in c.nodes if n.state is NodeState.ONLINE]
        dc_name = c.dc or (online[0].name if online else None)
        dc = next((n.id for n in c.nodes if n.name == dc_name), None)
        dc_attr = f' dc-uuid="{dc}"' if dc else ""
        out = [
            f'<cib crm_feature_set="{FEATURE_SET}" validate-with="{SCHEMA}" epoch="42"'
            f' num_updates="7" admin_epoch="0" cib-last-written="Tue Nov 14 22:13:20 2023"'
            f' update-origin="{dc_name or ""}" update-client="cibadmin" update-user="root"'
            f' have-quorum="{1 if c.have_quorum else 0}"{dc_attr} execution-date="{c.now}">',
            "  <configuration>",
            "    <crm_config>",
        ]
        props = [
            ("have-watchdog", "false"),
            ("dc-version", "2.1.5-a3f44794f94"),
            ("cluster-infrastructure", "corosync"),
            ("cluster-name", c.name),
            *c.properties,
        ]
        out += _nvpairs("cluster_property_set", "cib-bootstrap-options", props, "      ")
        out += ["    </crm_config>", "    <nodes>"]
        for n in c.nodes:
            if n.attrs or n.utilization:
                out.append(f'      <node id="{n.id}" uname="{n.name}">')
                out += _nvpairs("instance_attributes", f"nodes-{n.id}", n.attrs, "        ")
                out += _nvpairs("utilization", f"nodes-{n.id}-u", n.utilization, "        ")
                out.append("      </node>")
            else:
                out.append(f'      <node id="{n.id}" uname="{n.name}"/>')
        out += ["    </nodes>", "    <resources>"]
        for r in c.resources:
            out += _resource_xml(r, "      ")
        out += ["    </resources>", "    <constraints>"]
        for k in c.constraints:
            out += _constraint_xml(k, "      ")
        out.append("    </constraints>")
        if c.rsc_defaults:
            out.append("    <rsc_defaults>")
            out += _nvpairs(
                "meta_attributes", "rsc_defaults-meta_attributes", c.rsc_defaults, "      "
            )
            out.append("    </rsc_defaults>")
        if c.op_defaults:
            out.append("    <op_defaults>")
            out += _nvpairs(
                "meta_attributes", "op_defaults-meta_attributes", c.op_defaults, "      "
            )
            out.append("    </op_defaults>")
        out += ["  </configuration>", "  <status>"]
        by_node: dict[str, list[History]] = {}
        for h in c.history:
            by_node.setdefault(h.node, []).append(h)
        for n in c.nodes:
            out += self._node_state(n, by_node.get(n.name, []))
        if c.tickets:
            out.append("    <tickets>")
            for ticket, granted, standby in c.tickets:
                out.append(
                    f'      <ticket_state id="{ticket}" granted="{str(granted).lower()}"'
                    f' standby="{str(standby).lower()}"/>'
                )
            out.append("    </tickets>")
        out += ["  </status>", "</cib>", ""]
        return "\n".join(out)

    def _node_state(self, n: Node, hist: list[History]) -> list[str]:
        if n.state is NodeState.UNSEEN:
            return []
        if n.state is NodeState.ONLINE:
            flags = 'in_ccm="true" crmd="online" join="member" expected="member"'
        elif n.state is NodeState.OFFLINE:
            flags = 'in_ccm="false" crmd="offline" join="down" expected="down"'
        else:
            flags = 'in_ccm="false" crmd="offline" join="down" expected="member"'
        out = [
            f'    <node_state id="{n.id}" uname="{n.name}" {flags}'
            ' crm-debug-origin="do_update_resource">'
        ]
        transient: list[tuple[str, str]] = [("#feature-set", FEATURE_SET), *n.transient]
        for h in hist:
            transient += self._fail_attrs(h)
        out += ['      <transient_attributes id="' + n.id + '">']
        out += _nvpairs("instance_attributes", f"status-{n.id}", transient, "        ")
        out += [
            "      </transient_attributes>",
            f'      <lrm id="{n.id}">',
            "        <lrm_resources>",
        ]
        for h in hist:
            out += self._lrm_resource(n, h)
        out += ["        </lrm_resources>", "      </lrm>", "    </node_state>"]
        return out

    def _fail_attrs(self, h: History) -> list[tuple[str, str]]:
        p = self.prims[h.rsc]
        mon = p.monitor or Op("monitor", 10)
        count = h.fail_count
        if h.state in (RscState.MONITOR_FAILED, RscState.MONITOR_ERROR):
            op = mon.key(p.id)
            count = 1 if count is None else count
        elif h.state is RscState.START_FAILED:
            op = f"{p.id}_start_0"
            count = INFINITY if count is None else count
        elif h.state is RscState.STOP_FAILED:
            op = f"{p.id}_stop_0"
            count = INFINITY if count is None else count
        else:
            op = mon.key(p.id)
            count = count or 0
        if not count:
            return []
        name = op.replace(f"{p.id}_", f"{p.id}#", 1)  # rsc#monitor_10000
        return [
            (f"fail-count-{name}", score_text(count)),
            (f"last-failure-{name}", str(self.c.now - h.age_s)),
        ]

    def _op(
        self,
        p: Primitive,
        node: str,
        rid: str,
        op: Op,
        rc: int,
        target: int,
        when: int,
        *,
        same_call: bool = False,
    ) -> str:
        # A last-failure record repeats the call it records.
        if not same_call:
            self.call_id += 1
        cid = self.call_id
        tkey = f"{cid}:{cid // 50 + 1}:{target}:{DC_UUID}"
        params = dict(p.params)
        digest = op_digest(params, op.interval_ms, op.timeout_s * 1000)
        ok = rc == target or (rc == 8 and target == 7)  # a probe may find it promoted
        reason = "" if ok else ("not running" if rc == 7 else "simulated failure")
        return (
            f'            <lrm_rsc_op id="{rid}" operation_key="{op.key(p.id)}"'
            f' operation="{op.name}" crm-debug-origin="do_update_resource"'
            f' crm_feature_set="{FEATURE_SET}" transition-key="{tkey}"'
            f' transition-magic="0:{rc};{tkey}" exit-reason="{reason}" on_node="{node}"'
            f' call-id="{cid}" rc-code="{rc}" op-status="0" interval="{op.interval_ms}"'
            f' last-rc-change="{when}" exec-time="{13 + cid % 40}" queue-time="0"'
            f' op-digest="{digest}"/>'
        )

    def _lrm_resource(self, n: Node, h: History) -> list[str]:
        p = self.prims[h.rsc]
        prov = f' provider="{p.provider}"' if p.provider else ""
        out = [f'          <lrm_resource id="{p.id}" class="{p.standard}"{prov} type="{p.type}">']
        mon = p.monitor
        start = Op("start", 0, _timeout(p, "start"))
        stop = Op("stop", 0, _timeout(p, "stop"))
        probe = Op("monitor", 0, 20)
        t = self.c.now - h.age_s
        last, fail = f"{p.id}_{_LAST}", f"{p.id}_{_FAIL}"
        s = h.state
        if s is RscState.NOT_RUNNING:
            out.append(self._op(p, n.name, last, probe, 7, 7, t))
        elif s is RscState.FOUND_RUNNING:
            out.append(self._op(p, n.name, last, probe, 0, 7, t))
        elif s is RscState.RUNNING:
            out.append(self._op(p, n.name, last, start, 0, 0, t))
            if mon:
                out.append(self._op(p, n.name, mon.key(p.id), mon, 0, 0, t))
        elif s is RscState.STOPPED:
            out.append(self._op(p, n.name, last, stop, 0, 0, t))
        elif s is RscState.FOUND_PROMOTED:
            out.append(self._op(p, n.name, last, probe, 8, 7, t))
        elif s is RscState.PROMOTED:
            out.append(self._op(p, n.name, last, Op("promote", 0, 20), 0, 0, t))
            if mon:
                out.append(self._op(p, n.name, mon.key(p.id), mon, 8, 8, t))
        elif s is RscState.MIGRATED_TO:
            if mon:
                out.append(self._op(p, n.name, mon.key(p.id), mon, 0, 0, t - 600))
            migrate = Op("migrate_to", 0, 20)
            line = self._op(p, n.name, last, migrate, 0, 0, t)
            where = f' migrate_source="{n.name}" migrate_target="{h.migrate_target}"'
            out.append(line.replace("/>", where + "/>"))
        elif s in (RscState.MONITOR_FAILED, RscState.MONITOR_ERROR):
            m = mon or Op("monitor", 10)
            rc = 7 if s is RscState.MONITOR_FAILED else 1
            out.append(self._op(p, n.name, last, start, 0, 0, t - 600))
            out.append(self._op(p, n.name, m.key(p.id), m, rc, 0, t))
            out.append(self._op(p, n.name, fail, m, rc, 0, t, same_call=True))
        elif s is RscState.START_FAILED:
            out.append(self._op(p, n.name, last, start, 1, 0, t))
            out.append(self._op(p, n.name, fail, start, 1, 0, t, same_call=True))
        elif s is RscState.STOP_FAILED:
            out.append(self._op(p, n.name, last, stop, 1, 0, t))
            out.append(self._op(p, n.name, fail, stop, 1, 0, t, same_call=True))
        out.append("          </lrm_resource>")
        return out


def _timeout(p: Primitive, name: str) -> int:
    return next((o.timeout_s for o in p.ops if o.name == name and not o.interval_s), 20)
