"""Model -> Pacemaker CIB XML: the inverse of hakeeper.cib.parse.

Element and attribute names are those parse.py reads, so parse(render(cib)) gives back an
equal model (apart from source lines). An id that the model holds twice because the input
used id-ref (attribute sets, rules, resource sets, nvpairs) is written once in full and then
as an id-ref, so the ids stay unique.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable

from lxml import etree

from hakeeper.model.cib import Cib
from hakeeper.model.config import (
    AttrSet,
    Bundle,
    Clone,
    Colocation,
    Configuration,
    Constraint,
    DateExpression,
    Expression,
    Group,
    Location,
    NodeConfig,
    NvPair,
    Op,
    OpExpression,
    Order,
    Primitive,
    Resource,
    ResourceSet,
    RscExpression,
    Rule,
    RuleTerm,
    Ticket,
)
from hakeeper.model.status import LrmResource, NodeState, OpRecord, Status
from hakeeper.reports import CommandError, Report, codes

_Element = etree._Element
_Attrs = Iterable[tuple[str, str | None]]


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _set(el: _Element, attrs: _Attrs) -> None:
    for name, value in attrs:
        if value is not None:
            el.set(name, value)


def _sub(parent: _Element, tag: str, attrs: _Attrs = ()) -> _Element:
    el = etree.SubElement(parent, tag)
    _set(el, attrs)
    return el


class _Renderer:
    def __init__(self) -> None:
        # Objects already written in full, by id: a repeat is written as an id-ref.
        self.written: dict[str, object] = {}

    def reuse(self, parent: _Element, tag: str, ident: str, value: object) -> bool:
        """Write `<tag id-ref=ident/>` if an equal object with this id was already written."""
        if not ident:
            return False
        seen = self.written.get(ident)
        if seen is None:
            self.written[ident] = value
            return False
        if seen != value:
            return False
        _sub(parent, tag, [("id-ref", ident)])
        return True

    # --- attribute sets and rules ----------------------------------------------------

    def attr_sets(self, parent: _Element, tag: str, sets: Iterable[AttrSet]) -> None:
        for attr_set in sets:
            self.attr_set(parent, tag, attr_set)

    def attr_set(self, parent: _Element, tag: str, attr_set: AttrSet) -> None:
        if self.reuse(parent, tag, attr_set.id, attr_set):
            return
        el = _sub(parent, tag, [("id", attr_set.id), ("score", attr_set.score)])
        if attr_set.rule is not None:
            self.rule(el, attr_set.rule)
        for pair in attr_set.pairs:
            self.nvpair(el, pair)

    def nvpair(self, parent: _Element, pair: NvPair) -> None:
        if self.reuse(parent, "nvpair", pair.id, pair):
            return
        _sub(parent, "nvpair", [("id", pair.id), ("name", pair.name), ("value", pair.value)])

    def rule(self, parent: _Element, rule: Rule) -> None:
        if self.reuse(parent, "rule", rule.id, rule):
            return
        el = _sub(
            parent,
            "rule",
            [
                ("id", rule.id),
                ("boolean-op", rule.boolean_op),
                ("score", rule.score),
                ("score-attribute", rule.score_attribute),
                ("role", rule.role),
            ],
        )
        for term in rule.terms:
            self.term(el, term)

    def term(self, parent: _Element, term: RuleTerm) -> None:
        if isinstance(term, Rule):
            self.rule(parent, term)
        elif isinstance(term, Expression):
            _sub(
                parent,
                "expression",
                [
                    ("id", term.id),
                    ("attribute", term.attribute),
                    ("operation", term.operation),
                    ("value", term.value),
                    ("type", term.type),
                    ("value-source", None if term.value_source == "literal" else term.value_source),
                ],
            )
        elif isinstance(term, DateExpression):
            el = _sub(
                parent,
                "date_expression",
                [
                    ("id", term.id),
                    ("operation", term.operation),
                    ("start", term.start),
                    ("end", term.end),
                ],
            )
            if term.spec is not None:
                _sub(el, "date_spec", [("id", term.spec.id), *term.spec.fields])
            if term.duration is not None:
                _sub(el, "duration", [("id", f"{term.id}-duration"), *term.duration])
        elif isinstance(term, RscExpression):
            _sub(
                parent,
                "rsc_expression",
                [
                    ("id", term.id),
                    ("class", term.standard),
                    ("provider", term.provider),
                    ("type", term.type),
                ],
            )
        elif isinstance(term, OpExpression):
            _sub(
                parent,
                "op_expression",
                [
                    ("id", term.id),
                    ("name", term.name),
                    ("interval", term.interval),
                ],
            )

    # --- resources -------------------------------------------------------------------

    def op(self, parent: _Element, op: Op) -> None:
        if op.attributes:
            el = _sub(parent, "op", op.attributes)
        else:
            el = _sub(
                parent,
                "op",
                [
                    ("id", op.id),
                    ("name", op.name),
                    ("interval", op.interval),
                    ("role", op.role.label if op.role is not None else None),
                    ("timeout", op.timeout),
                    ("on-fail", op.on_fail),
                    ("enabled", None if op.enabled else "false"),
                ],
            )
        self.attr_sets(el, "meta_attributes", op.meta)
        self.attr_sets(el, "instance_attributes", op.params)

    def primitive(self, parent: _Element, rsc: Primitive, tag: str = "primitive") -> None:
        el = _sub(
            parent,
            tag,
            [
                ("id", rsc.id),
                ("class", rsc.agent.standard),
                ("provider", rsc.agent.provider),
                ("type", rsc.agent.type),
                ("template", rsc.template),
                ("description", rsc.description),
            ],
        )
        self.attr_sets(el, "instance_attributes", rsc.params)
        self.attr_sets(el, "meta_attributes", rsc.meta)
        self.attr_sets(el, "utilization", rsc.utilization)
        if rsc.ops:
            ops = _sub(el, "operations")
            for op in rsc.ops:
                self.op(ops, op)

    def group(self, parent: _Element, rsc: Group) -> None:
        el = _sub(parent, "group", [("id", rsc.id), ("description", rsc.description)])
        self.attr_sets(el, "meta_attributes", rsc.meta)
        for child in rsc.children:
            self.primitive(el, child)

    def clone(self, parent: _Element, rsc: Clone) -> None:
        tag = "master" if rsc.promotable_tag else "clone"
        el = _sub(parent, tag, [("id", rsc.id), ("description", rsc.description)])
        self.attr_sets(el, "meta_attributes", rsc.meta)
        if isinstance(rsc.child, Group):
            self.group(el, rsc.child)
        else:
            self.primitive(el, rsc.child)

    def bundle(self, parent: _Element, rsc: Bundle) -> None:
        el = _sub(parent, "bundle", [("id", rsc.id), ("description", rsc.description)])
        _sub(el, rsc.engine, rsc.engine_attrs)
        net = rsc.network
        if net is not None:
            net_el = _sub(
                el,
                "network",
                [
                    ("ip-range-start", net.ip_range_start),
                    ("control-port", net.control_port),
                    ("host-interface", net.host_interface),
                    ("host-netmask", net.host_netmask),
                    ("add-host", net.add_host),
                ],
            )
            for mapping in net.port_mappings:
                _sub(net_el, "port-mapping", mapping)
        if rsc.storage:
            storage = _sub(el, "storage")
            for mapping in rsc.storage:
                _sub(storage, "storage-mapping", mapping)
        self.attr_sets(el, "meta_attributes", rsc.meta)
        if rsc.child is not None:
            self.primitive(el, rsc.child)

    def resource(self, parent: _Element, rsc: Resource) -> None:
        if isinstance(rsc, Primitive):
            self.primitive(parent, rsc)
        elif isinstance(rsc, Group):
            self.group(parent, rsc)
        elif isinstance(rsc, Clone):
            self.clone(parent, rsc)
        else:
            self.bundle(parent, rsc)

    # --- constraints -----------------------------------------------------------------

    def resource_sets(self, parent: _Element, sets: Iterable[ResourceSet]) -> None:
        for s in sets:
            if self.reuse(parent, "resource_set", s.id, s):
                continue
            el = _sub(
                parent,
                "resource_set",
                [
                    ("id", s.id),
                    ("sequential", None if s.sequential is None else _bool(s.sequential)),
                    ("require-all", None if s.require_all else "false"),
                    ("ordered", None if s.ordered is None else _bool(s.ordered)),
                    ("action", s.action),
                    ("role", s.role),
                    ("score", s.score),
                    ("kind", s.kind),
                ],
            )
            for ref in s.resources:
                _sub(el, "resource_ref", [("id", ref)])

    def constraint(self, parent: _Element, c: Constraint) -> None:
        if isinstance(c, Location):
            el = _sub(
                parent,
                "rsc_location",
                [
                    ("id", c.id),
                    ("rsc", c.rsc),
                    ("rsc-pattern", c.rsc_pattern),
                    ("node", c.node),
                    ("score", c.score),
                    ("role", c.role),
                    (
                        "resource-discovery",
                        None if c.resource_discovery == "always" else c.resource_discovery,
                    ),
                ],
            )
            self.resource_sets(el, c.sets)
            for rule in c.rules:
                self.rule(el, rule)
        elif isinstance(c, Colocation):
            el = _sub(
                parent,
                "rsc_colocation",
                [
                    ("id", c.id),
                    ("rsc", c.rsc),
                    ("with-rsc", c.with_rsc),
                    ("score", c.score),
                    ("rsc-role", c.rsc_role),
                    ("with-rsc-role", c.with_rsc_role),
                    ("node-attribute", None if c.node_attribute == "#uname" else c.node_attribute),
                    ("influence", None if c.influence is None else _bool(c.influence)),
                ],
            )
            self.resource_sets(el, c.sets)
        elif isinstance(c, Order):
            el = _sub(
                parent,
                "rsc_order",
                [
                    ("id", c.id),
                    ("first", c.first),
                    ("then", c.then),
                    ("first-action", c.first_action),
                    ("then-action", c.then_action),
                    ("kind", c.kind),
                    ("score", c.score),
                    ("symmetrical", None if c.symmetrical is None else _bool(c.symmetrical)),
                    ("require-all", None if c.require_all else "false"),
                ],
            )
            self.resource_sets(el, c.sets)
        elif isinstance(c, Ticket):
            el = _sub(
                parent,
                "rsc_ticket",
                [
                    ("id", c.id),
                    ("rsc", c.rsc),
                    ("rsc-role", c.rsc_role),
                    ("ticket", c.ticket),
                    ("loss-policy", c.loss_policy),
                ],
            )
            self.resource_sets(el, c.sets)

    # --- configuration ---------------------------------------------------------------

    def node(self, parent: _Element, node: NodeConfig) -> None:
        el = _sub(parent, "node", [("id", node.id), ("uname", node.uname), ("type", node.type)])
        self.attr_sets(el, "instance_attributes", node.attributes)
        self.attr_sets(el, "utilization", node.utilization)

    def configuration(self, parent: _Element, config: Configuration) -> None:
        el = _sub(parent, "configuration")
        self.attr_sets(_sub(el, "crm_config"), "cluster_property_set", config.crm_config)
        nodes = _sub(el, "nodes")
        for node in config.nodes:
            self.node(nodes, node)
        resources = _sub(el, "resources")
        for template in config.templates:
            self.primitive(resources, template, "template")
        for rsc in config.resources:
            self.resource(resources, rsc)
        constraints = _sub(el, "constraints")
        for c in config.constraints:
            self.constraint(constraints, c)
        if config.fencing_topology:
            topology = _sub(el, "fencing-topology")
            for level in config.fencing_topology:
                _sub(topology, "fencing-level", level)
        if config.rsc_defaults:
            self.attr_sets(_sub(el, "rsc_defaults"), "meta_attributes", config.rsc_defaults)
        if config.op_defaults:
            self.attr_sets(_sub(el, "op_defaults"), "meta_attributes", config.op_defaults)
        if config.tags:
            tags = _sub(el, "tags")
            for tag in config.tags:
                tag_el = _sub(tags, "tag", [("id", tag.id)])
                for ref in tag.refs:
                    _sub(tag_el, "obj_ref", [("id", ref)])

    # --- status ----------------------------------------------------------------------

    def status(self, parent: _Element, status: Status) -> None:
        el = _sub(parent, "status")
        for node in status.nodes:
            self.node_state(el, node)
        if status.tickets.values:
            tickets = _sub(el, "tickets")
            for ident, attrs in status.tickets.values:
                names = {k for k, _ in attrs}
                _sub(
                    tickets,
                    "ticket_state",
                    [*([("id", ident)] if "id" not in names else []), *attrs],
                )

    def node_state(self, parent: _Element, node: NodeState) -> None:
        el = _sub(
            parent,
            "node_state",
            [
                ("id", node.id),
                ("uname", node.uname),
                ("in_ccm", node.in_ccm),
                ("crmd", node.crmd),
                ("crm-debug-origin", node.crm_debug_origin),
                ("join", node.join),
                ("expected", node.expected),
                ("shutdown", node.shutdown),
                ("remote_node", "true" if node.remote_node else None),
                *node.extra,
            ],
        )
        if node.attributes:
            transient = _sub(el, "transient_attributes", [("id", node.id)])
            iset = _sub(transient, "instance_attributes", [("id", f"status-{node.id}")])
            for name, value in node.attributes:
                _sub(
                    iset,
                    "nvpair",
                    [("id", f"status-{node.id}-{name}"), ("name", name), ("value", value)],
                )
        if node.has_lrm or node.resources:
            lrm = _sub(el, "lrm", [("id", node.id)])
            lrm_resources = _sub(lrm, "lrm_resources")
            for rsc in node.resources:
                self.lrm_resource(lrm_resources, rsc)

    def lrm_resource(self, parent: _Element, rsc: LrmResource) -> None:
        el = _sub(
            parent,
            "lrm_resource",
            [
                ("id", rsc.id),
                ("type", rsc.type),
                ("class", rsc.standard),
                ("provider", rsc.provider),
                ("container", rsc.container),
            ],
        )
        for op in rsc.ops:
            self.op_record(el, op)

    def op_record(self, parent: _Element, op: OpRecord) -> None:
        def num(value: int | None) -> str | None:
            return None if value is None else str(value)

        _sub(
            parent,
            "lrm_rsc_op",
            [
                ("id", op.id),
                ("operation_key", op.operation_key),
                ("operation", op.operation),
                ("crm_feature_set", op.crm_feature_set),
                ("transition-key", op.transition_key),
                ("transition-magic", op.transition_magic),
                ("exit-reason", op.exit_reason),
                ("on_node", op.on_node),
                ("call-id", str(op.call_id)),
                ("rc-code", str(op.rc_code)),
                ("op-status", str(op.op_status)),
                ("interval", str(op.interval_ms)),
                ("last-rc-change", num(op.last_rc_change)),
                ("last-run", num(op.last_run)),
                ("exec-time", num(op.exec_time)),
                ("queue-time", num(op.queue_time)),
                ("op-digest", op.op_digest),
                ("op-restart-digest", op.op_restart_digest),
                ("op-secure-digest", op.op_secure_digest),
                ("migrate_source", op.migrate_source),
                ("migrate_target", op.migrate_target),
                *op.extra,
            ],
        )


def render_cib(cib: Cib) -> bytes:
    """The CIB as Pacemaker XML (UTF-8, pretty-printed, no XML declaration)."""
    root = etree.Element("cib")
    _set(root, cib.root_attributes)
    renderer = _Renderer()
    renderer.configuration(root, cib.configuration)
    renderer.status(root, cib.status)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)


def write_cib(cib: Cib, path: str) -> None:
    """Write the CIB to `path` atomically (a temporary file in the same directory, renamed)."""
    data = render_cib(cib)
    directory = os.path.dirname(os.path.abspath(path))
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(
            dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
        )
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            mode = 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    except OSError as err:
        raise CommandError(
            Report.error(
                codes.FILE_WRITE_FAILED,
                f"cannot write {path}: {err.strerror or err}",
                where=path,
                hint="give a path in an existing, writable directory",
                path=path,
            )
        ) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
