"""The configuration section of the CIB, as frozen data.

Names follow Pacemaker's XML so that a reader of Pacemaker Explained finds them here.
Attribute sets keep their rules: which values apply is decided where a context
(node, time) exists, not at parse time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Role(enum.IntEnum):
    """Resource roles in Pacemaker's order (a higher role includes the lower ones)."""

    UNKNOWN = 0
    STOPPED = 1
    STARTED = 2
    UNPROMOTED = 3
    PROMOTED = 4

    @classmethod
    def parse(cls, text: str | None) -> Role | None:
        if text is None:
            return None
        return _ROLE_NAMES.get(text.strip().lower())

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_NAMES = {
    "unknown": Role.UNKNOWN,
    "stopped": Role.STOPPED,
    "started": Role.STARTED,
    "slave": Role.UNPROMOTED,
    "unpromoted": Role.UNPROMOTED,
    "master": Role.PROMOTED,
    "promoted": Role.PROMOTED,
}
_ROLE_LABELS = {
    Role.UNKNOWN: "Unknown",
    Role.STOPPED: "Stopped",
    Role.STARTED: "Started",
    Role.UNPROMOTED: "Unpromoted",
    Role.PROMOTED: "Promoted",
}


# --- rules -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expression:
    """`<expression attribute= operation= value=/>` on a node attribute."""

    id: str
    attribute: str
    operation: str
    value: str | None = None
    type: str | None = None
    value_source: str = "literal"


@dataclass(frozen=True, slots=True)
class DateSpec:
    id: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class DateExpression:
    id: str
    operation: str
    start: str | None = None
    end: str | None = None
    duration: tuple[tuple[str, str], ...] | None = None
    spec: DateSpec | None = None


@dataclass(frozen=True, slots=True)
class RscExpression:
    id: str
    standard: str | None = None
    provider: str | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True)
class OpExpression:
    id: str
    name: str
    interval: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    boolean_op: str = "and"
    score: str | None = None
    score_attribute: str | None = None
    role: str | None = None
    terms: tuple[RuleTerm, ...] = ()


RuleTerm = Expression | DateExpression | RscExpression | OpExpression | Rule


# --- attribute sets --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NvPair:
    id: str
    name: str
    value: str | None


@dataclass(frozen=True, slots=True)
class AttrSet:
    """meta_attributes, instance_attributes, utilization, cluster_property_set, ..."""

    id: str
    pairs: tuple[NvPair, ...] = ()
    score: str | None = None
    rule: Rule | None = None

    def values(self) -> dict[str, str]:
        return {p.name: p.value for p in self.pairs if p.value is not None}


# --- resources -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Op:
    id: str
    name: str
    interval: str = "0"
    interval_ms: int = 0
    role: Role | None = None
    timeout: str | None = None
    on_fail: str | None = None
    enabled: bool = True
    attributes: tuple[tuple[str, str], ...] = ()
    meta: tuple[AttrSet, ...] = ()
    params: tuple[AttrSet, ...] = ()

    def attr(self, name: str) -> str | None:
        for key, value in self.attributes:
            if key == name:
                return value
        for attr_set in self.meta:
            for pair in attr_set.pairs:
                if pair.name == name:
                    return pair.value
        return None


@dataclass(frozen=True, slots=True)
class Agent:
    standard: str
    provider: str | None
    type: str

    def __str__(self) -> str:
        if self.provider:
            return f"{self.standard}:{self.provider}:{self.type}"
        return f"{self.standard}:{self.type}"


@dataclass(frozen=True, slots=True)
class Primitive:
    id: str
    agent: Agent
    meta: tuple[AttrSet, ...] = ()
    params: tuple[AttrSet, ...] = ()
    utilization: tuple[AttrSet, ...] = ()
    ops: tuple[Op, ...] = ()
    template: str | None = None
    line: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    children: tuple[Primitive, ...]
    meta: tuple[AttrSet, ...] = ()
    line: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Clone:
    id: str
    child: Primitive | Group
    meta: tuple[AttrSet, ...] = ()
    promotable_tag: bool = False  # written as <master> (legacy) rather than <clone>
    line: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class BundleNetwork:
    ip_range_start: str | None = None
    control_port: str | None = None
    host_interface: str | None = None
    host_netmask: str | None = None
    add_host: str | None = None
    port_mappings: tuple[tuple[tuple[str, str], ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Bundle:
    id: str
    engine: str  # docker, podman, rkt
    engine_attrs: tuple[tuple[str, str], ...] = ()
    network: BundleNetwork | None = None
    storage: tuple[tuple[tuple[str, str], ...], ...] = ()
    child: Primitive | None = None
    meta: tuple[AttrSet, ...] = ()
    line: int | None = None
    description: str | None = None

    def engine_attr(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.engine_attrs:
            if key == name:
                return value
        return default


Resource = Primitive | Group | Clone | Bundle


# --- constraints -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResourceRef:
    id: str


@dataclass(frozen=True, slots=True)
class ResourceSet:
    id: str
    resources: tuple[str, ...]
    sequential: bool | None = None
    require_all: bool = True
    ordered: bool | None = None
    action: str | None = None
    role: str | None = None
    score: str | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    id: str
    rsc: str | None
    rsc_pattern: str | None = None
    node: str | None = None
    score: str | None = None
    rules: tuple[Rule, ...] = ()
    role: str | None = None
    resource_discovery: str = "always"
    sets: tuple[ResourceSet, ...] = ()
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Colocation:
    id: str
    rsc: str | None
    with_rsc: str | None
    score: str | None
    rsc_role: str | None = None
    with_rsc_role: str | None = None
    node_attribute: str = "#uname"
    sets: tuple[ResourceSet, ...] = ()
    influence: bool | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    first: str | None
    then: str | None
    first_action: str | None = None
    then_action: str | None = None
    kind: str | None = None
    score: str | None = None
    symmetrical: bool | None = None
    require_all: bool = True
    sets: tuple[ResourceSet, ...] = ()
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    """rsc_ticket: resources that may run only while a ticket is granted (and not standby)."""

    id: str
    rsc: str | None
    ticket: str
    line: int | None = None
    rsc_role: str | None = None
    loss_policy: str | None = None
    sets: tuple[ResourceSet, ...] = ()


Constraint = Location | Colocation | Order | Ticket


# --- nodes and the whole configuration --------------------------------------------------


@dataclass(frozen=True, slots=True)
class NodeConfig:
    id: str
    uname: str
    type: str = "member"
    attributes: tuple[AttrSet, ...] = ()
    utilization: tuple[AttrSet, ...] = ()
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Tag:
    id: str
    refs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Configuration:
    crm_config: tuple[AttrSet, ...] = ()
    nodes: tuple[NodeConfig, ...] = ()
    resources: tuple[Resource, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    rsc_defaults: tuple[AttrSet, ...] = ()
    op_defaults: tuple[AttrSet, ...] = ()
    tags: tuple[Tag, ...] = ()
    fencing_topology: tuple[tuple[tuple[str, str], ...], ...] = ()
    templates: tuple[Primitive, ...] = ()  # <template>s: primitives that others instantiate
    unsupported: tuple[str, ...] = field(default=())
