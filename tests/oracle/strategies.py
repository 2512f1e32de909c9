"""Hypothesis strategies for small random Pacemaker CIBs (2-5 nodes, 1-8 primitives).

`clusters(features=...)` draws only the features named, so the oracle tests can widen what
they cover as the scheduler grows; `ALL_FEATURES` lists them. Every drawn CIB is one that
crm_verify and crm_simulate accept (test_generated_cibs_are_valid checks it), shaped like
what an operator's cluster could really hold: no constraint names an unknown resource,
orders and colocations never point a resource at itself, at least one node is online.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import replace

from hypothesis import strategies as st

from .cibxml import (
    INFINITY,
    Bundle,
    Clone,
    Cluster,
    Colocation,
    ColocationSets,
    Constraint,
    Expression,
    Group,
    History,
    Location,
    Node,
    NodeState,
    Op,
    Order,
    OrderSets,
    Primitive,
    Resource,
    RscSet,
    RscState,
    Rule,
    Ticket,
    score_text,
)

ALL_FEATURES = frozenset(
    {
        "groups",  # primitives gathered in groups
        "location",  # rsc_location with a node and a score, INFINITY and -INFINITY included
        "rules",  # rsc_location rules on node attributes (#uname, site, ssd, weight)
        "colocation",  # rsc_colocation with scores, INFINITY and -INFINITY included
        "order",  # rsc_order: Mandatory/Optional/Serialize, symmetrical, first/then actions
        "stickiness",  # resource-stickiness as a default and per resource
        "target-role",  # target-role=Stopped (and Started)
        "is-managed",  # is-managed=false
        "standby",  # nodes in standby
        "offline",  # nodes that left the cluster cleanly
        "unclean",  # nodes lost without leaving, or never seen
        "history",  # op history: probed, running, stopped, found running by a probe
        "failures",  # failed monitors, starts and stops in the history
        "fail-counts",  # old failures left on resources that run again
        "migration-threshold",  # migration-threshold as a default and per resource
        "failure-timeout",  # failure-timeout, with failures older and younger than it
        "stonith",  # a fence device and stonith-enabled=true
        "allow-migrate",  # allow-migrate=true, and migrations half done in the history
        "utilization",  # node capacity, resource utilization, each placement-strategy
        "tickets",  # rsc_ticket with each loss-policy; tickets granted, revoked, standby
        # an ocf:pacemaker:Stateful clone with promotable=true (promoted-max, promoted-node-
        # max), master-stateful scores, instances running and promoted, role constraints
        "promotable",
        "sets",  # rsc_colocation and rsc_order of resource sets, sequential or not
    }
)
# Drawn only when asked for (test_random_vs_crm_simulate has its own test for them):
# bundles do not yet meet utilization and placement strategies as Pacemaker's do, and
# Pacemaker probes resources on a remote node as it comes up, whose orderings change some
# reasons that hakeeper (which plans no probes) words differently.
EXTRA_FEATURES = frozenset(
    {
        "bundles",  # podman bundles, some wrapping a primitive run on guest nodes
        "remote",  # a Pacemaker Remote node behind an ocf:pacemaker:remote connection
    }
)

SCORES = (-INFINITY, -100, -10, 0, 10, 50, 100, 1000, INFINITY)
AGENTS = (
    ("heartbeat", "Dummy"),
    ("pacemaker", "Dummy"),
    ("heartbeat", "IPaddr2"),
)


PROMOTABLE = "stateful-clone"
PROMOTABLE_CHILD = "stateful"
STATEFUL_OPS = (Op("start", 0, 20), Op("stop", 0, 20))
PROMOTION_SCORES = (-INFINITY, 1, 5, 10, 100, 1000, INFINITY)


def _pairs(*items: tuple[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(i for i in items if i is not None)


@st.composite
def _nodes(draw: st.DrawFn, f: frozenset[str], max_nodes: int) -> tuple[Node, ...]:
    count = draw(st.integers(2, max_nodes))
    states = [NodeState.ONLINE]
    if "offline" in f:
        states.append(NodeState.OFFLINE)
    if "unclean" in f:
        states += [NodeState.LOST, NodeState.UNSEEN]
    nodes = []
    for i in range(count):
        name = f"node{i + 1}"
        state = NodeState.ONLINE if i == 0 else draw(st.sampled_from(states), label=name)
        attrs: list[tuple[str, str]] = []
        if "rules" in f:
            attrs.append(("site", draw(st.sampled_from("ab"))))
            if draw(st.booleans()):
                attrs.append(("ssd", "true"))
            attrs.append(("weight", str(draw(st.integers(0, 10)))))
        if "standby" in f and draw(st.booleans()):
            attrs.append(("standby", "on"))
        capacity: tuple[tuple[str, str], ...] = ()
        if "utilization" in f:
            capacity = (
                ("cpu", str(draw(st.integers(0, 8)))),
                ("mem", str(draw(st.integers(2, 8)))),
            )
        nodes.append(Node(name, str(i + 1), attrs=tuple(attrs), state=state, utilization=capacity))
    return tuple(nodes)


@st.composite
def _primitive(draw: st.DrawFn, f: frozenset[str], i: int) -> Primitive:
    provider, typ = draw(st.sampled_from(AGENTS))
    params: tuple[tuple[str, str], ...] = ()
    if typ == "IPaddr2":
        params = (("ip", f"192.168.122.{10 + i}"), ("cidr_netmask", "24"))
    meta: list[tuple[str, str] | None] = []
    if "target-role" in f:
        role = draw(st.sampled_from([None, None, None, "Stopped", "Started"]))
        meta.append(("target-role", role) if role else None)
    if "is-managed" in f and draw(st.integers(0, 4)) == 0:
        meta.append(("is-managed", "false"))
    if "stickiness" in f and draw(st.booleans()):
        meta.append(("resource-stickiness", draw(st.sampled_from(["0", "50", "INFINITY"]))))
    if "migration-threshold" in f and draw(st.booleans()):
        meta.append(("migration-threshold", str(draw(st.integers(1, 3)))))
    if "failure-timeout" in f and draw(st.booleans()):
        meta.append(("failure-timeout", "120s"))
    if "allow-migrate" in f and draw(st.booleans()):
        meta.append(("allow-migrate", "true"))
    used: tuple[tuple[str, str], ...] = ()
    if "utilization" in f and draw(st.integers(0, 3)) > 0:
        used = (("cpu", str(draw(st.integers(0, 4)))), ("mem", str(draw(st.integers(0, 4)))))
    name = {"Dummy": "dummy", "IPaddr2": "vip"}[typ]
    return Primitive(
        f"{name}{i}", "ocf", typ, provider, params=params, meta=_pairs(*meta), utilization=used
    )


@st.composite
def _resources(draw: st.DrawFn, f: frozenset[str], max_primitives: int) -> list[Resource]:
    count = draw(st.integers(1, max_primitives))
    prims = [draw(_primitive(f, i + 1), label=f"primitive {i + 1}") for i in range(count)]
    out: list[Resource] = []
    i = 0
    while i < len(prims):
        if "groups" in f and i + 1 < len(prims) and draw(st.integers(0, 2)) == 0:
            size = draw(st.integers(2, min(3, len(prims) - i)))
            meta: tuple[tuple[str, str], ...] = ()
            if "target-role" in f and draw(st.integers(0, 4)) == 0:
                meta = (("target-role", "Stopped"),)
            out.append(Group(f"group{len(out) + 1}", tuple(prims[i : i + size]), meta=meta))
            i += size
        else:
            out.append(prims[i])
            i += 1
    if "promotable" in f and draw(st.integers(0, 2)) == 0:
        meta: list[tuple[str, str] | None] = [("promotable", "true")]
        if draw(st.booleans()):
            meta.append(("promoted-max", str(draw(st.integers(1, 3)))))
        if draw(st.integers(0, 3)) == 0:
            meta.append(("promoted-node-max", str(draw(st.integers(1, 2)))))
        if "target-role" in f and draw(st.integers(0, 5)) == 0:
            meta.append(("target-role", draw(st.sampled_from(["Stopped", "Unpromoted"]))))
        # No recurring monitor: which role a monitor runs in is a separate question.
        child = Primitive(PROMOTABLE_CHILD, "ocf", "Stateful", "pacemaker", ops=STATEFUL_OPS)
        out.append(Clone(PROMOTABLE, child, meta=_pairs(*meta)))
    if "bundles" in f:
        for k in range(draw(st.integers(0, 2))):
            inner = None
            if draw(st.booleans()):
                inner = Primitive(f"app{k + 1}", "ocf", "Dummy", "pacemaker")
            meta: tuple[tuple[str, str], ...] = ()
            if "target-role" in f and draw(st.integers(0, 4)) == 0:
                meta = (("target-role", "Stopped"),)
            out.append(
                Bundle(
                    f"bundle{k + 1}",
                    f"registry.local/app{k + 1}:latest",
                    replicas=draw(st.integers(1, 3)),
                    inner=inner,
                    control_port=3121 + k,
                    meta=meta,
                )
            )
    if "remote" in f:
        out.append(
            Primitive(
                "remote1",
                "ocf",
                "remote",
                "pacemaker",
                params=(("server", "192.168.122.201"),),
                ops=(Op("monitor", 20, 20),),
            )
        )
    return out


@st.composite
def _expression(draw: st.DrawFn, nodes: tuple[Node, ...]) -> Expression:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return Expression("#uname", draw(st.sampled_from(["eq", "ne"])), draw(_node_name(nodes)))
    if kind == 1:
        return Expression("site", draw(st.sampled_from(["eq", "ne"])), draw(st.sampled_from("ab")))
    if kind == 2:
        return Expression("ssd", draw(st.sampled_from(["defined", "not_defined"])))
    if kind == 3:
        op = draw(st.sampled_from(["gt", "lt", "gte", "lte"]))
        return Expression("weight", op, str(draw(st.integers(0, 10))), type="number")
    return Expression("ssd", "eq", "true")


def _node_name(nodes: tuple[Node, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from([n.name for n in nodes])


@st.composite
def _constraints(
    draw: st.DrawFn, f: frozenset[str], nodes: tuple[Node, ...], tops: list[str]
) -> list[Constraint]:
    out: list[Constraint] = []
    rsc = st.sampled_from(tops)
    if "location" in f:
        for k in range(draw(st.integers(0, 4))):
            r, node = draw(rsc), draw(_node_name(nodes))
            out.append(Location(f"loc{k}-{r}-{node}", r, draw(st.sampled_from(SCORES)), node=node))
    if "rules" in f:
        for k in range(draw(st.integers(0, 2))):
            r = draw(rsc)
            exprs = tuple(draw(st.lists(_expression(nodes), min_size=1, max_size=2)))
            rule = Rule(draw(st.sampled_from(SCORES)), exprs, draw(st.sampled_from(["and", "or"])))
            out.append(Location(f"rule{k}-{r}", r, rule=rule))
    pair = st.tuples(rsc, rsc).filter(lambda p: p[0] != p[1])
    if "colocation" in f and len(tops) > 1:
        for k in range(draw(st.integers(0, 3))):
            a, b = draw(pair)
            score = draw(st.sampled_from(SCORES))
            out.append(Colocation(f"col{k}-{a}-with-{b}", a, b, score))
    if "order" in f and len(tops) > 1:
        for k in range(draw(st.integers(0, 3))):
            a, b = draw(pair)
            kind = draw(st.sampled_from(["Mandatory", "Mandatory", "Optional", "Serialize"]))
            sym = None
            if kind != "Serialize":
                sym = draw(st.sampled_from([None, None, False]))
            first_action = then_action = None
            if draw(st.integers(0, 3)) == 0:
                first_action = draw(st.sampled_from(["start", "stop"]))
                then_action = draw(st.sampled_from(["start", "stop"]))
            out.append(Order(f"order{k}-{a}-then-{b}", a, b, kind, sym, first_action, then_action))
    if "sets" in f and len(tops) > 2:
        out += draw(_set_constraints(tops))
    if PROMOTABLE in tops:
        for k in range(draw(st.integers(0, 2))):
            node = draw(_node_name(nodes))
            score = draw(st.sampled_from(SCORES))
            out.append(Location(f"promo{k}-{node}", PROMOTABLE, score, node=node, role="Promoted"))
        # Not a bundle: hakeeper words the reason for a bundle's blocked starts differently
        # when it is colocated with a promoted role that no instance can take (TODO).
        others = [t for t in tops if t != PROMOTABLE and not t.startswith("bundle")]
        if others and draw(st.booleans()):
            r = draw(st.sampled_from(others))
            score = draw(st.sampled_from(SCORES))
            out.append(
                Colocation(f"col-{r}-with-promoted", r, PROMOTABLE, score, with_rsc_role="Promoted")
            )
    if "tickets" in f:
        for k in range(draw(st.integers(0, 2))):
            r = draw(rsc)
            policy = draw(st.sampled_from([None, "stop", "demote", "fence", "freeze"]))
            ticket = draw(st.sampled_from(["ticketA", "ticketB"]))
            out.append(Ticket(f"tkt{k}-{r}", r, ticket, policy))
    return out


@st.composite
def _rsc_sets(draw: st.DrawFn, cid: str, tops: list[str], ordering: bool) -> tuple[RscSet, ...]:
    """One to three sets of distinct resources, each sequential or not."""
    pool = draw(st.permutations(tops))
    count = draw(st.integers(1, min(3, len(pool))))
    cuts = sorted(draw(st.sets(st.integers(1, len(pool) - 1), max_size=count - 1)))
    bounds = [0, *cuts, draw(st.integers((cuts[-1] if cuts else 0) + 1, len(pool)))]
    sets = []
    for i, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        require_all = draw(st.sampled_from([None, None, False])) if ordering else None
        sequential = draw(st.sampled_from([None, True, False]))
        sets.append(RscSet(f"{cid}-set{i}", tuple(pool[lo:hi]), sequential, require_all))
    return tuple(sets)


@st.composite
def _set_constraints(draw: st.DrawFn, tops: list[str]) -> list[Constraint]:
    out: list[Constraint] = []
    for k in range(draw(st.integers(0, 1))):
        cid = f"colset{k}"
        score = draw(st.sampled_from(SCORES))
        out.append(ColocationSets(cid, draw(_rsc_sets(cid, tops, False)), score))
    for k in range(draw(st.integers(0, 1))):
        cid = f"ordset{k}"
        kind = draw(st.sampled_from([None, "Mandatory", "Optional", "Serialize"]))
        sym = draw(st.sampled_from([None, False])) if kind != "Serialize" else None
        out.append(OrderSets(cid, draw(_rsc_sets(cid, tops, True)), kind, sym))
    return out


@st.composite
def _history(
    draw: st.DrawFn, f: frozenset[str], nodes: tuple[Node, ...], prims: Iterable[Primitive]
) -> list[History]:
    if "history" not in f:
        return []
    home_states = [RscState.RUNNING, RscState.RUNNING]
    if "failures" in f:
        home_states += [
            RscState.MONITOR_FAILED,
            RscState.MONITOR_ERROR,
            RscState.START_FAILED,
            RscState.STOP_FAILED,
        ]
    # None: never probed there.
    other_states = [None, RscState.NOT_RUNNING, RscState.NOT_RUNNING, RscState.STOPPED]
    # A node that left cleanly stopped its resources first, and an unseen node has no history.
    homes = [n for n in nodes if n.state in (NodeState.ONLINE, NodeState.LOST)]
    out = []
    for p in prims:
        if p.id == PROMOTABLE_CHILD:
            out += draw(_clone_history(homes, p))
            continue
        home = draw(st.sampled_from([None, *homes]), label=f"{p.id} runs on")
        states: dict[str, RscState | None] = {}
        for n in nodes:
            if home is not None and n.name == home.name:
                states[n.name] = draw(st.sampled_from(home_states))
            else:
                states[n.name] = draw(st.sampled_from(other_states))
        others = [n.name for n in homes if home is None or n.name != home.name]
        # Rarer states, one node at most each: active where nothing started it (a resource
        # active on several nodes), and a start that failed on a node it left since.
        if others and draw(st.integers(0, 15)) == 0:
            states[draw(st.sampled_from(others))] = RscState.FOUND_RUNNING
        if "failures" in f and others and draw(st.integers(0, 4)) == 0:
            states[draw(st.sampled_from(others))] = RscState.START_FAILED
        target = None
        migratable = ("allow-migrate", "true") in p.meta
        if migratable and home is not None and others and draw(st.integers(0, 2)) == 0:
            # a migration half done: migrate_to ran on the source, migrate_from not yet
            states[home.name] = RscState.MIGRATED_TO
            target = draw(st.sampled_from(others))
        for n in nodes:
            state = states[n.name]
            if state is None:
                continue
            count = None
            failed = state in (RscState.MONITOR_FAILED, RscState.MONITOR_ERROR)
            if failed or (
                "fail-counts" in f and state is RscState.RUNNING and draw(st.integers(0, 3)) == 0
            ):
                count = draw(st.integers(1, 3))
            age = 3600
            if "failure-timeout" in f:
                age = draw(st.sampled_from([30, 3600]))
            out.append(
                History(n.name, p.id, state, fail_count=count, age_s=age, migrate_target=target)
            )
    return out


@st.composite
def _clone_history(draw: st.DrawFn, homes: list[Node], p: Primitive) -> list[History]:
    """Clone instances: several nodes run one, some promoted (rc 8 when a probe finds it)."""
    states = [
        None,
        RscState.NOT_RUNNING,
        RscState.RUNNING,
        RscState.RUNNING,
        RscState.PROMOTED,
        RscState.FOUND_PROMOTED,
    ]
    out = []
    for n in homes:
        state = draw(st.sampled_from(states), label=f"{p.id} on {n.name}")
        if state is not None:
            out.append(History(n.name, p.id, state))
    return out


def clusters(
    features: Iterable[str] = ALL_FEATURES,
    *,
    max_nodes: int = 5,
    max_primitives: int = 8,
) -> st.SearchStrategy[Cluster]:
    """Small random clusters, configuration plus status, drawing only `features`."""
    f = frozenset(features)
    unknown = f - ALL_FEATURES - EXTRA_FEATURES
    if unknown:
        known = sorted(ALL_FEATURES | EXTRA_FEATURES)
        raise ValueError(f"unknown features {sorted(unknown)}; known: {known}")
    return _clusters(f, max_nodes, max_primitives)


@st.composite
def _clusters(draw: st.DrawFn, f: frozenset[str], max_nodes: int, max_primitives: int) -> Cluster:
    nodes = draw(_nodes(f, max_nodes), label="nodes")
    resources = draw(_resources(f, max_primitives), label="resources")
    tops = [r.id for r in resources]
    constraints = draw(_constraints(f, nodes, tops), label="constraints")
    prims = [p for r in resources for p in r.primitives()]
    history = draw(_history(f, nodes, prims), label="history")
    if PROMOTABLE in tops:
        nodes = tuple(
            replace(n, transient=(("master-" + PROMOTABLE_CHILD, score_text(score)),))
            if draw(st.integers(0, 2)) > 0 and (score := draw(st.sampled_from(PROMOTION_SCORES)))
            else n
            for n in nodes
        )

    props: list[tuple[str, str]] = []
    if "stonith" in f:
        fence = Primitive(
            "fence1",
            "stonith",
            "fence_ipmilan",
            params=(
                ("ip", "192.168.24.1"),
                ("password", "secret"),
                ("pcmk_host_list", " ".join(n.name for n in nodes)),
                ("username", "admin"),
            ),
            ops=(Op("monitor", 60, 20),),
        )
        resources = [fence, *resources]
        # The fence device runs on the first node (always online) unless history is off.
        if "history" in f:
            history = [History(nodes[0].name, fence.id, RscState.RUNNING), *history]
            history += [
                History(n.name, fence.id, RscState.NOT_RUNNING)
                for n in nodes[1:]
                if n.state is NodeState.ONLINE
            ]
        props.append(("stonith-enabled", "true"))
    else:
        props.append(("stonith-enabled", "false"))
    if "utilization" in f:
        strategy = draw(st.sampled_from(["default", "utilization", "minimal", "balanced"]))
        props.append(("placement-strategy", strategy))
    tickets: list[tuple[str, bool, bool]] = []
    if "tickets" in f:
        for ticket in ("ticketA", "ticketB"):
            state = draw(st.sampled_from(["none", "granted", "revoked", "standby"]))
            if state != "none":
                tickets.append((ticket, state != "revoked", state == "standby"))

    defaults: list[tuple[str, str]] = []
    if "stickiness" in f:
        value = draw(st.sampled_from([None, "1", "100", "INFINITY"]), label="stickiness")
        if value:
            defaults.append(("resource-stickiness", value))
    if "migration-threshold" in f:
        value = draw(st.sampled_from([None, "1", "2", "3"]), label="migration-threshold")
        if value:
            defaults.append(("migration-threshold", value))
    return Cluster(
        nodes=nodes,
        resources=tuple(resources),
        constraints=tuple(constraints),
        history=tuple(history),
        properties=tuple(props),
        rsc_defaults=tuple(defaults),
        name="hypothesis",
        tickets=tuple(tickets),
    )
