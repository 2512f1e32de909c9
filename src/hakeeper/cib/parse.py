"""Pacemaker CIB XML (schema pacemaker-3.x, as Pacemaker 2.1 writes it) -> model.

Every error names its place (file:line, element and id) and what to do, and is raised as
one CommandError; nothing is returned half-parsed.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from pathlib import Path
from typing import cast

from lxml import etree

from hakeeper.model.cib import Cib
from hakeeper.model.config import (
    Agent,
    AttrSet,
    Bundle,
    BundleNetwork,
    Clone,
    Colocation,
    Configuration,
    Constraint,
    DateExpression,
    DateSpec,
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
    Role,
    RscExpression,
    Rule,
    RuleTerm,
    Tag,
    Ticket,
)
from hakeeper.model.scores import ScoreError, parse_score
from hakeeper.model.status import LrmResource, NodeState, OpRecord, Status, Tickets
from hakeeper.reports import CommandError, Report, codes

KNOWN_STANDARDS = frozenset(
    {"ocf", "lsb", "heartbeat", "service", "systemd", "stonith", "upstart", "nagios", "alert"}
)
TRUE_WORDS = frozenset({"true", "yes", "on", "1", "y"})
FALSE_WORDS = frozenset({"false", "no", "off", "0", "n"})

_Element = etree._Element


# Attributes of <node_state> and <lrm_rsc_op> that have fields; the others go to `extra`.
_NODE_STATE_KNOWN = frozenset(
    {
        "id",
        "uname",
        "in_ccm",
        "crmd",
        "join",
        "expected",
        "crm-debug-origin",
        "shutdown",
        "remote_node",
    }
)
_OP_RECORD_KNOWN = frozenset(
    {
        "id",
        "operation",
        "call-id",
        "rc-code",
        "op-status",
        "interval",
        "operation_key",
        "transition-key",
        "transition-magic",
        "last-rc-change",
        "last-run",
        "exec-time",
        "queue-time",
        "op-digest",
        "op-restart-digest",
        "op-secure-digest",
        "on_node",
        "exit-reason",
        "migrate_source",
        "migrate_target",
        "crm_feature_set",
    }
)
# lrm_rsc_op's numbers: (attribute, value when absent), in the order errors are reported.
_OP_NUMBERS = (
    ("call-id", 0),
    ("rc-code", 0),
    ("op-status", 0),
    ("interval", 0),
    ("last-rc-change", None),
    ("last-run", None),
    ("exec-time", None),
    ("queue-time", None),
)


def _attrs(el: _Element) -> tuple[tuple[str, str], ...]:
    # lxml gives attribute names and values as str already ("{ns}name" when namespaced).
    return tuple(cast("list[tuple[str, str]]", el.items()))


def _extra(
    items: list[tuple[str, str]], attrib: dict[str, str], known: frozenset[str]
) -> tuple[tuple[str, str], ...]:
    """The (name, value) pairs of `items` whose name is not in `known`, in document order."""
    others = attrib.keys() - known
    if not others:
        return ()
    return tuple(item for item in items if item[0] in others)


def _line(el: _Element) -> int | None:
    line: object = el.sourceline
    return line if isinstance(line, int) else None


def is_true(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return default


# Interval units and their factors to milliseconds (0: microseconds), longest suffix first.
_INTERVAL_UNITS = sorted(
    [
        ("ms", 1),
        ("msec", 1),
        ("us", 0),
        ("usec", 0),
        ("sec", 1000),
        ("s", 1000),
        ("min", 60_000),
        ("m", 60_000),
        ("hr", 3_600_000),
        ("h", 3_600_000),
    ],
    key=lambda u: -len(u[0]),
)


def parse_interval_ms(text: str | None) -> int | None:
    """Parse an interval ("10", "10s", "1m", "500ms", "PT10S", "1h") into milliseconds."""
    if text is None:
        return 0
    value = text.strip().lower()
    if not value:
        return 0
    if value.startswith("pt") or value.startswith("p"):
        return _parse_iso_duration_ms(value.upper())
    for suffix, factor in _INTERVAL_UNITS:
        if value.endswith(suffix):
            number = value[: -len(suffix)].strip()
            try:
                amount = float(number)
            except ValueError:
                return None
            if factor == 0:
                return int(amount / 1000)
            return int(amount * factor)
    try:
        return int(float(value) * 1000)
    except ValueError:
        return None


def _parse_iso_duration_ms(value: str) -> int | None:
    total = 0.0
    number = ""
    in_time = False
    factors_date = {"Y": 365 * 86400, "M": 30 * 86400, "W": 7 * 86400, "D": 86400}
    factors_time = {"H": 3600, "M": 60, "S": 1}
    for ch in value[1:]:
        if ch == "T":
            in_time = True
        elif ch.isdigit() or ch == ".":
            number += ch
        else:
            # Pacemaker also accepts time units before the T ("P10S").
            table = factors_time if in_time or ch in "HS" else factors_date
            if ch not in table or not number:
                return None
            total += float(number) * table[ch]
            number = ""
    return int(total * 1000)


class _Parser:
    def __init__(self, root: _Element, source: str) -> None:
        self.root = root
        self.source = source
        self._by_id: dict[str, _Element] | None = None
        self.errors: list[Report] = []

    @property
    def by_id(self) -> dict[str, _Element]:
        """Every element with an id (and no id-ref), the first one per id; built on first use
        (an id-ref or a template), as most CIBs have neither."""
        if self._by_id is None:
            by_id: dict[str, _Element] = {}
            matches = self.root.xpath("//*[@id and not(@id-ref)]")  # in document order
            assert isinstance(matches, list)
            for el in matches:
                assert isinstance(el, _Element)
                by_id.setdefault(el.get("id", ""), el)
            self._by_id = by_id
        return self._by_id

    # --- helpers ---------------------------------------------------------------------

    def where(self, el: _Element) -> str:
        return f"{self.source}:{_line(el) or 0}"

    def error(self, code: str, el: _Element, message: str, hint: str, **payload: object) -> None:
        self.errors.append(Report.error(code, message, where=self.where(el), hint=hint, **payload))

    def deref(self, el: _Element) -> _Element:
        ref = el.get("id-ref")
        if ref is None:
            return el
        target = self.by_id.get(ref)
        if target is None:
            self.error(
                codes.CIB_DANGLING_IDREF,
                el,
                f'<{el.tag} id-ref="{ref}"> refers to an id that does not exist',
                f'define an element with id="{ref}" or fix the id-ref',
                id_ref=ref,
            )
            return el
        return target

    def children(self, el: _Element, *tags: str) -> Iterable[_Element]:
        """Child elements (no comments, PIs or entities), only those named `tags` if given."""
        if tags:
            return el.iterchildren(*tags)
        return el.iterchildren(etree.Element)

    def required(self, el: _Element, name: str) -> str:
        value = el.get(name)
        if value is None:
            ident = el.get("id")
            label = f'<{el.tag} id="{ident}">' if ident else f"<{el.tag}>"
            self.error(
                codes.CIB_INVALID,
                el,
                f"{label} has no '{name}' attribute",
                f'add {name}="..." to it',
                element=el.tag,
                attribute=name,
            )
            return ""
        return value

    def check_score(self, el: _Element, attr: str) -> str | None:
        value = el.get(attr)
        if value is None:
            return None
        try:
            parse_score(value)
        except ScoreError:
            self.error(
                codes.CIB_BAD_SCORE,
                el,
                f'{attr}="{value}" on <{el.tag} id="{el.get("id")}"> is not a score',
                "use an integer, INFINITY or -INFINITY",
                value=value,
            )
        return value

    # --- attribute sets and rules ----------------------------------------------------

    def attr_sets(self, el: _Element, tag: str) -> tuple[AttrSet, ...]:
        return tuple(self.attr_set(self.deref(s)) for s in self.children(el, tag))

    def attr_set(self, el: _Element) -> AttrSet:
        pairs = []
        rule = None
        for child in self.children(el):
            if child.tag == "nvpair":
                pair = child
                if child.get("id-ref") is not None and child.get("name") is None:
                    pair = self.deref(child)
                pairs.append(NvPair(pair.get("id", ""), pair.get("name", ""), pair.get("value")))
            elif child.tag == "rule":
                rule = self.rule(self.deref(child))
        return AttrSet(el.get("id", ""), tuple(pairs), self.check_score(el, "score"), rule)

    def rule(self, el: _Element) -> Rule:
        terms: list[RuleTerm] = []
        for child in self.children(el):
            child = self.deref(child)
            if child.tag == "expression":
                terms.append(
                    Expression(
                        child.get("id", ""),
                        self.required(child, "attribute"),
                        self.required(child, "operation"),
                        child.get("value"),
                        child.get("type"),
                        child.get("value-source", "literal"),
                    )
                )
            elif child.tag == "date_expression":
                spec = None
                duration = None
                for sub in self.children(child):
                    fields = tuple((k, v) for k, v in _attrs(sub) if k != "id")
                    if sub.tag == "date_spec":
                        spec = DateSpec(sub.get("id", ""), fields)
                    elif sub.tag == "duration":
                        duration = fields
                terms.append(
                    DateExpression(
                        child.get("id", ""),
                        child.get("operation", "in_range"),
                        child.get("start"),
                        child.get("end"),
                        duration,
                        spec,
                    )
                )
            elif child.tag == "rsc_expression":
                terms.append(
                    RscExpression(
                        child.get("id", ""),
                        child.get("class"),
                        child.get("provider"),
                        child.get("type"),
                    )
                )
            elif child.tag == "op_expression":
                terms.append(
                    OpExpression(child.get("id", ""), child.get("name", ""), child.get("interval"))
                )
            elif child.tag == "rule":
                terms.append(self.rule(child))
        self.check_score(el, "score")
        return Rule(
            el.get("id", ""),
            el.get("boolean-op", "and"),
            el.get("score"),
            el.get("score-attribute"),
            el.get("role"),
            tuple(terms),
        )

    # --- resources -------------------------------------------------------------------

    def ops(self, el: _Element) -> tuple[Op, ...]:
        result = []
        for ops_el in self.children(el, "operations"):
            for op in self.children(self.deref(ops_el), "op"):
                op = self.deref(op)
                interval = op.get("interval", "0")
                interval_ms = parse_interval_ms(interval)
                if interval_ms is None:
                    self.error(
                        codes.CIB_BAD_VALUE,
                        op,
                        f'interval="{interval}" of op {op.get("id")} is not a duration',
                        "use e.g. 10s, 1m or PT10S",
                    )
                    interval_ms = 0
                attrs = _attrs(op)
                result.append(
                    Op(
                        op.get("id", ""),
                        self.required(op, "name"),
                        interval,
                        interval_ms,
                        Role.parse(op.get("role")),
                        op.get("timeout"),
                        op.get("on-fail"),
                        is_true(op.get("enabled"), True),
                        attrs,
                        self.attr_sets(op, "meta_attributes"),
                        self.attr_sets(op, "instance_attributes"),
                    )
                )
        return tuple(result)

    def primitive(self, el: _Element) -> Primitive:
        ident = self.required(el, "id")
        template = el.get("template")
        standard = el.get("class")
        if template is not None:
            tpl = self.by_id.get(template)
            if tpl is None or tpl.tag != "template":
                self.error(
                    codes.CIB_DANGLING_IDREF,
                    el,
                    f'primitive {ident} uses template "{template}", which does not exist',
                    "define the <template> or remove template=",
                    id_ref=template,
                )
            else:
                standard = standard or tpl.get("class")
        if standard is None:
            standard = self.required(el, "class")
        if standard and standard not in KNOWN_STANDARDS:
            self.error(
                codes.CIB_UNKNOWN_RESOURCE_CLASS,
                el,
                f'primitive {ident} has unknown resource class "{standard}"',
                "use one of: " + ", ".join(sorted(KNOWN_STANDARDS)),
                resource=ident,
                standard=standard,
            )
        provider = el.get("provider")
        rtype = el.get("type")
        if template is not None and (tpl := self.by_id.get(template)) is not None:
            provider = provider or tpl.get("provider")
            rtype = rtype or tpl.get("type")
        if rtype is None:
            rtype = self.required(el, "type")
        if standard == "ocf" and not provider:
            self.error(
                codes.CIB_INVALID,
                el,
                f"ocf primitive {ident} has no provider",
                'add provider="heartbeat" (or the agent\'s provider)',
                resource=ident,
            )
        return Primitive(
            ident,
            Agent(standard or "", provider, rtype or ""),
            self.attr_sets(el, "meta_attributes"),
            self.attr_sets(el, "instance_attributes"),
            self.attr_sets(el, "utilization"),
            self.ops(el),
            template,
            _line(el),
            el.get("description"),
        )

    def group(self, el: _Element) -> Group:
        children = tuple(self.primitive(c) for c in self.children(el, "primitive"))
        return Group(
            self.required(el, "id"),
            children,
            self.attr_sets(el, "meta_attributes"),
            _line(el),
            el.get("description"),
        )

    def clone(self, el: _Element) -> Clone:
        inner: Primitive | Group | None = None
        for child in self.children(el, "primitive", "group"):
            inner = self.primitive(child) if child.tag == "primitive" else self.group(child)
        ident = self.required(el, "id")
        if inner is None:
            self.error(
                codes.CIB_INVALID,
                el,
                f"clone {ident} has nothing to clone",
                "put a <primitive> or <group> inside it",
                resource=ident,
            )
            inner = Primitive(ident + "-missing", Agent("ocf", "heartbeat", "Dummy"))
        return Clone(
            ident,
            inner,
            self.attr_sets(el, "meta_attributes"),
            el.tag == "master",
            _line(el),
            el.get("description"),
        )

    def bundle(self, el: _Element) -> Bundle:
        ident = self.required(el, "id")
        engine = "docker"
        engine_attrs: tuple[tuple[str, str], ...] = ()
        network = None
        storage: list[tuple[tuple[str, str], ...]] = []
        child: Primitive | None = None
        for sub in self.children(el):
            if sub.tag in ("docker", "podman", "rkt"):
                engine = sub.tag
                engine_attrs = _attrs(sub)
            elif sub.tag == "network":
                ports = tuple(_attrs(p) for p in self.children(sub, "port-mapping"))
                network = BundleNetwork(
                    sub.get("ip-range-start"),
                    sub.get("control-port"),
                    sub.get("host-interface"),
                    sub.get("host-netmask"),
                    sub.get("add-host"),
                    ports,
                )
            elif sub.tag == "storage":
                storage.extend(_attrs(m) for m in self.children(sub))
            elif sub.tag == "primitive":
                child = self.primitive(sub)
        return Bundle(
            ident,
            engine,
            engine_attrs,
            network,
            tuple(storage),
            child,
            self.attr_sets(el, "meta_attributes"),
            _line(el),
            el.get("description"),
        )

    def resources(self, el: _Element) -> tuple[Resource, ...]:
        result: list[Resource] = []
        for child in self.children(el):
            if child.tag == "primitive":
                result.append(self.primitive(child))
            elif child.tag == "group":
                result.append(self.group(child))
            elif child.tag in ("clone", "master"):
                result.append(self.clone(child))
            elif child.tag == "bundle":
                result.append(self.bundle(child))
        return tuple(result)

    # --- constraints -----------------------------------------------------------------

    def resource_sets(self, el: _Element) -> tuple[ResourceSet, ...]:
        sets = []
        for s in self.children(el, "resource_set"):
            s = self.deref(s)
            refs = tuple(self.required(r, "id") for r in self.children(s, "resource_ref"))
            seq = s.get("sequential")
            ordered = s.get("ordered")
            sets.append(
                ResourceSet(
                    s.get("id", ""),
                    refs,
                    None if seq is None else is_true(seq),
                    is_true(s.get("require-all"), True),
                    None if ordered is None else is_true(ordered),
                    s.get("action"),
                    s.get("role"),
                    self.check_score(s, "score"),
                    s.get("kind"),
                )
            )
        return tuple(sets)

    def constraints(self, el: _Element) -> tuple[Constraint, ...]:
        result: list[Constraint] = []
        for c in self.children(el):
            ident = c.get("id", "")
            if c.tag == "rsc_location":
                rules = tuple(self.rule(self.deref(r)) for r in self.children(c, "rule"))
                result.append(
                    Location(
                        ident,
                        c.get("rsc"),
                        c.get("rsc-pattern"),
                        c.get("node"),
                        self.check_score(c, "score"),
                        rules,
                        c.get("role"),
                        c.get("resource-discovery", "always"),
                        self.resource_sets(c),
                        _line(c),
                    )
                )
            elif c.tag == "rsc_colocation":
                influence = c.get("influence")
                result.append(
                    Colocation(
                        ident,
                        c.get("rsc"),
                        c.get("with-rsc"),
                        self.check_score(c, "score"),
                        c.get("rsc-role"),
                        c.get("with-rsc-role"),
                        c.get("node-attribute", "#uname"),
                        self.resource_sets(c),
                        None if influence is None else is_true(influence),
                        _line(c),
                    )
                )
            elif c.tag == "rsc_order":
                sym = c.get("symmetrical")
                result.append(
                    Order(
                        ident,
                        c.get("first"),
                        c.get("then"),
                        c.get("first-action"),
                        c.get("then-action"),
                        c.get("kind"),
                        self.check_score(c, "score"),
                        None if sym is None else is_true(sym),
                        is_true(c.get("require-all"), True),
                        self.resource_sets(c),
                        _line(c),
                    )
                )
            elif c.tag == "rsc_ticket":
                result.append(
                    Ticket(
                        ident,
                        c.get("rsc"),
                        c.get("ticket", ""),
                        _line(c),
                        c.get("rsc-role"),
                        c.get("loss-policy"),
                        self.resource_sets(c),
                    )
                )
        return tuple(result)

    # --- configuration ---------------------------------------------------------------

    def configuration(self, el: _Element | None) -> Configuration:
        if el is None:
            return Configuration()
        section = {child.tag: child for child in self.children(el)}
        crm_config: tuple[AttrSet, ...] = ()
        if "crm_config" in section:
            crm_config = self.attr_sets(section["crm_config"], "cluster_property_set")
        nodes = []
        if "nodes" in section:
            for n in self.children(section["nodes"], "node"):
                nodes.append(
                    NodeConfig(
                        self.required(n, "id"),
                        n.get("uname") or n.get("id") or "",
                        n.get("type", "member"),
                        self.attr_sets(n, "instance_attributes"),
                        self.attr_sets(n, "utilization"),
                        _line(n),
                    )
                )
        resources: tuple[Resource, ...] = ()
        templates: tuple[Primitive, ...] = ()
        if "resources" in section:
            resources = self.resources(section["resources"])
            templates = tuple(
                self.primitive(t) for t in self.children(section["resources"], "template")
            )
        constraints: tuple[Constraint, ...] = ()
        if "constraints" in section:
            constraints = self.constraints(section["constraints"])
        rsc_defaults: tuple[AttrSet, ...] = ()
        if "rsc_defaults" in section:
            rsc_defaults = self.attr_sets(section["rsc_defaults"], "meta_attributes")
        op_defaults: tuple[AttrSet, ...] = ()
        if "op_defaults" in section:
            op_defaults = self.attr_sets(section["op_defaults"], "meta_attributes")
        tags = []
        if "tags" in section:
            for t in self.children(section["tags"], "tag"):
                tags.append(
                    Tag(
                        t.get("id", ""), tuple(r.get("id", "") for r in self.children(t, "obj_ref"))
                    )
                )
        topology: tuple[tuple[tuple[str, str], ...], ...] = ()
        if "fencing-topology" in section:
            topology = tuple(_attrs(level) for level in self.children(section["fencing-topology"]))
        return Configuration(
            crm_config,
            tuple(nodes),
            resources,
            constraints,
            rsc_defaults,
            op_defaults,
            tuple(tags),
            topology,
            templates,
        )

    # --- status ----------------------------------------------------------------------

    def status(self, el: _Element | None) -> Status:
        if el is None:
            return Status()
        nodes = []
        tickets: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        lrm_resource = self.lrm_resource
        for child in el.iterchildren("tickets", "node_state"):
            if child.tag == "tickets":
                for t in child.iterchildren("ticket_state"):
                    tickets.append((t.get("id", ""), _attrs(t)))
                continue
            attrs: list[tuple[str, str]] = []
            for ta in child.iterchildren("transient_attributes"):
                for iset in ta.iterchildren("instance_attributes"):
                    for pair in iset.iterchildren("nvpair"):
                        attrs.append((pair.get("name", ""), pair.get("value", "")))
            resources: list[LrmResource] = []
            lrm_seen = False
            for lrm in child.iterchildren("lrm"):
                lrm_seen = True
                for lrs in lrm.iterchildren("lrm_resources"):
                    resources.extend(map(lrm_resource, lrs.iterchildren("lrm_resource")))
            items = cast("list[tuple[str, str]]", child.items())
            attrib = dict(items)
            get = attrib.get
            nodes.append(
                NodeState(
                    get("id", ""),
                    get("uname"),
                    get("in_ccm"),
                    get("crmd"),
                    get("join"),
                    get("expected"),
                    get("crm-debug-origin"),
                    get("shutdown"),
                    tuple(attrs),
                    tuple(resources),
                    is_true(get("remote_node")),
                    _extra(items, attrib, _NODE_STATE_KNOWN),
                    lrm_seen,
                )
            )
        return Status(tuple(nodes), Tickets(tuple(tickets)))

    def lrm_resource(self, el: _Element) -> LrmResource:
        get = el.get
        return LrmResource(
            get("id", ""),
            get("class"),
            get("provider"),
            get("type"),
            tuple(map(self.op_record, el.iterchildren("lrm_rsc_op"))),
            get("container"),
        )

    def op_record(self, el: _Element) -> OpRecord:
        # The hottest loop of parsing (one call per operation in the history): one copy of
        # the attributes, plain dict look-ups, and the numbers converted in one go.
        items = cast("list[tuple[str, str]]", el.items())
        attrib = dict(items)
        get = attrib.get
        call_id: int | None
        rc_code: int | None
        op_status: int | None
        interval: int | None
        try:
            call_id = 0 if (v := get("call-id")) is None else int(v)
            rc_code = 0 if (v := get("rc-code")) is None else int(v)
            op_status = 0 if (v := get("op-status")) is None else int(v)
            interval = 0 if (v := get("interval")) is None else int(v)
            last_rc_change = None if (v := get("last-rc-change")) is None else int(v)
            last_run = None if (v := get("last-run")) is None else int(v)
            exec_time = None if (v := get("exec-time")) is None else int(v)
            queue_time = None if (v := get("queue-time")) is None else int(v)
        except ValueError:
            (
                call_id,
                rc_code,
                op_status,
                interval,
                last_rc_change,
                last_run,
                exec_time,
                queue_time,
            ) = self.op_numbers(el, attrib)
        return OpRecord(
            get("id", ""),
            get("operation", ""),
            call_id or 0,
            rc_code or 0,
            op_status or 0,
            interval or 0,
            get("operation_key"),
            get("transition-key"),
            get("transition-magic"),
            last_rc_change,
            last_run,
            exec_time,
            queue_time,
            get("op-digest"),
            get("op-restart-digest"),
            get("op-secure-digest"),
            get("on_node"),
            get("exit-reason"),
            get("migrate_source"),
            get("migrate_target"),
            get("crm_feature_set"),
            _extra(items, attrib, _OP_RECORD_KNOWN),
        )

    def op_numbers(self, el: _Element, attrib: dict[str, str]) -> list[int | None]:
        """The numbers of an lrm_rsc_op with at least one bad one: each bad one reported, in
        attribute order, and read as its default."""
        numbers: list[int | None] = []
        for name, default in _OP_NUMBERS:
            value = attrib.get(name)
            if value is None:
                numbers.append(default)
                continue
            try:
                numbers.append(int(value))
            except ValueError:
                self.error(
                    codes.CIB_BAD_VALUE,
                    el,
                    f'{name}="{value}" on lrm_rsc_op {attrib.get("id")} is not a number',
                    "fix or remove the operation history entry",
                )
                numbers.append(default)
        return numbers

    # --- the whole CIB ---------------------------------------------------------------

    def cib(self) -> Cib:
        root = self.root
        if root.tag != "cib":
            raise CommandError(
                Report.error(
                    codes.CIB_INVALID,
                    f"the root element is <{root.tag}>, not <cib>",
                    where=self.where(root),
                    hint="give a CIB as written by cibadmin --query",
                )
            )
        self.check_duplicate_ids()
        config = None
        status = None
        for child in self.children(root):
            if child.tag == "configuration":
                config = child
            elif child.tag == "status":
                status = child
        if config is None:
            self.error(
                codes.CIB_INVALID,
                root,
                "the CIB has no <configuration> section",
                "add <configuration> with <crm_config>, <nodes>, <resources>, <constraints>",
            )
        cib = Cib(self.configuration(config), self.status(status), _attrs(root), self.source)
        if self.errors:
            raise CommandError(self.errors)
        return cib

    def check_duplicate_ids(self) -> None:
        seen: dict[str, _Element] = {}
        config = self.root.find("configuration")
        if config is None:
            return
        for el in config.iter():
            if not isinstance(el.tag, str):
                continue
            ident = el.get("id")
            if ident is None or el.get("id-ref") is not None or el.tag == "resource_ref":
                continue
            if el.tag in (
                "nvpair",
                "expression",
                "op",
                "rule",
                "date_expression",
                "date_spec",
                "duration",
                "obj_ref",
            ):
                continue
            first = seen.get(ident)
            if first is not None and first.tag != el.tag:
                continue
            if first is not None:
                self.error(
                    codes.CIB_DUPLICATE_ID,
                    el,
                    f'id "{ident}" is used twice (first at line {_line(first)})',
                    "ids must be unique in the CIB: rename one",
                    id=ident,
                )
            else:
                seen[ident] = el


def parse_cib_text(text: str | bytes, source: str = "<cib>") -> Cib:
    # Parsing makes hundreds of thousands of objects and no reference cycles: the cyclic
    # garbage collector, run again and again as they pile up, would cost a fifth of the time.
    gc_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse_cib_text(text, source)
    finally:
        if gc_enabled:
            gc.enable()


def _parse_cib_text(text: str | bytes, source: str) -> Cib:
    data = text.encode() if isinstance(text, str) else text
    parser = etree.XMLParser(
        remove_comments=True, resolve_entities=False, no_network=True, huge_tree=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        line = err.lineno if err.lineno else 0
        raise CommandError(
            Report.error(
                codes.XML_MALFORMED,
                f"not well-formed XML: {err.msg}",
                where=f"{source}:{line}",
                hint="fix the XML (xmllint --noout FILE shows the first error)",
            )
        ) from None
    return _Parser(root, source).cib()


def parse_cib_file(path: str | Path) -> Cib:
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise CommandError(
            Report.error(
                codes.FILE_NOT_FOUND,
                f"no such file: {p}",
                where=str(p),
                hint="give the path of a CIB XML file (cibadmin --query > cib.xml)",
            )
        ) from None
    except (IsADirectoryError, PermissionError) as err:
        raise CommandError(
            Report.error(
                codes.FILE_NOT_FOUND,
                f"cannot read {p}: {err.strerror}",
                where=str(p),
                hint="give the path of a readable CIB XML file",
            )
        ) from None
    return parse_cib_text(data, str(p))
