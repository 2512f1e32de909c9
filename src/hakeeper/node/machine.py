"""The node daemon's decisions, as a pure function: `handle(state, *events) -> (state, orders)`.

Every node executes the actions of the current leader's graph that are addressed to it, in
graph order (an action runs once every action it waits for is done, on whichever node), and
runs the recurring monitors of what it started. The leader also turns the cluster (stored
configuration + status documents + membership) into a plan with the scheduler, and
publishes it as a graph; it computes the next graph only when no action of the current one
can still run, so that every decision is made on results, never on actions in flight.

No I/O, no clock, no logging here: time comes in as Ticked(now), decisions go out as Say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hakeeper.agents.request import STONITH_TARGET as TARGET
from hakeeper.agents.request import OpRequest
from hakeeper.cib.parse import parse_cib_text
from hakeeper.coord.model import JsonDoc, StatusKey, StatusKind
from hakeeper.model.cib import Cib
from hakeeper.model.config import Agent
from hakeeper.model.scores import INFINITY
from hakeeper.node import bundles, failures, probes, records
from hakeeper.node.events import (
    AttributeChanged,
    Campaign,
    CancelOp,
    ClearStatus,
    ConfigChanged,
    Event,
    Instruction,
    LeaderElected,
    LeaseLost,
    LeaveRequested,
    MemberJoined,
    MemberLost,
    OpCompleted,
    ProcessExited,
    PublishTransition,
    RunOp,
    Say,
    StatusChanged,
    StoreReread,
    Ticked,
    WatchExit,
    WriteFailed,
    WriteStatus,
)
from hakeeper.node.transition import (
    OCF_NOT_RUNNING,
    Action,
    Transition,
    build_transition,
    probe_actions,
)
from hakeeper.reports import CommandError
from hakeeper.scheduler.schedule import schedule

SELF_FENCE = "self-fence:"  # run id prefix of the stops after the lease was lost
TRANSITION = "transition"  # ATTRIBUTES document of the leader: its current graph
PROGRESS = "progress"  # ATTRIBUTES document of each node: what it did of that graph
#: ATTRIBUTES document of a node, SET_ON + another node: the attributes of that node its
#: agents set or deleted, {name: {"value": value or None, "seq": n}}, until that node says
#: it applied them. A node sets only its own attributes document; the other node applies
#: these to it, as Pacemaker's attrd takes a peer's update
SET_ON = "set-on-"
#: ATTRIBUTES document of each node: {setter: the last seq of its sets this node applied}
APPLIED_SETS = "applied-sets"
RC_TEXT = {
    0: "ok",
    1: "generic error",
    2: "bad arguments",
    3: "unimplemented",
    5: "not installed",
    6: "not configured",
    7: "not running",
}


@dataclass(frozen=True, slots=True)
class Run:
    """An agent action in flight: a graph action, or a recurring monitor's next run."""

    action: Action
    transition_key: str
    graph: tuple[str, int] | None  # (uuid, seq) for a graph action; None for a monitor
    probe: bool = False  # a probe after joining, outside any graph
    since: float = 0.0  # when it was ordered


@dataclass(frozen=True, slots=True)
class Monitor:
    """A recurring monitor this node runs; its result is written only when the rc changes."""

    action: Action
    transition_key: str
    due: float
    last_rc: int


@dataclass(frozen=True, slots=True)
class State:
    node: str
    recheck_s: float = 60.0
    now: float = 0.0
    member: bool = True
    leader: str | None = None
    leader_since: int = 0
    config_xml: str | None = None
    members: frozenset[str] = frozenset()
    docs: Mapping[StatusKey, JsonDoc] = field(default_factory=dict)
    call_id: int = 0
    # what this node does of the graph it follows
    following: tuple[str, int] | None = None
    done: frozenset[int] = frozenset()
    failed: frozenset[int] = frozenset()
    running: Mapping[str, Run] = field(default_factory=dict)
    monitors: Mapping[str, Monitor] = field(default_factory=dict)
    started: Mapping[str, Action] = field(default_factory=dict)  # resource -> its start
    # probes after joining: None before they are sent; the resources still being probed
    probing: frozenset[str] | None = None
    probed: bool = False
    # resource -> configured agent, of every resource a node probes (from config_xml)
    probe_agents: Mapping[str, probes.AgentKey] = field(default_factory=dict)
    # the leader's side
    published: Transition | None = None
    seq: int = 0
    dirty: str | None = None  # why the cluster must be scheduled again, if it must
    next_recheck: float = 0.0
    waiting_for: frozenset[str] = frozenset()  # members whose probes the leader awaits
    progress_at: float = 0.0  # when the current graph last moved (a result, a progress)
    # resource -> when its process was heard exiting, until a monitor begun since answers
    exited: Mapping[str, float] = field(default_factory=dict)
    # asked to leave (the shutdown attribute is set); left: nothing runs here any more
    leaving: bool = False
    left: bool = False
    # this node's documents whose last write failed, and when to write them again
    unwritten: frozenset[StatusKey] = frozenset()
    rewrite_at: float = 0.0
    # another node's SET_ON document for this node, or an APPLIED_SETS, changed
    sets_due: bool = False
    set_seq: int = 0  # the last seq this node gave a set on another node

    @property
    def leading(self) -> bool:
        return self.member and self.leader == self.node


def handle(state: State, *events: Event) -> tuple[State, list[Instruction]]:
    """Apply events in order, then decide; return the new state and the orders."""
    out: list[Instruction] = []
    for event in events:
        state = _apply(state, event, out)
    if state.member:
        state = _rewrite(state, out)
        state = _apply_sets(state, out)
        state = _probe(state, out)
        state = _lead(state, out)
        state = _execute(state, out)
        state = _run_monitors(state, out)
        state = _check_left(state, out)
    return state, out


# -- facts -----------------------------------------------------------------------------------


def _apply(state: State, event: Event, out: list[Instruction]) -> State:
    if isinstance(event, Ticked):
        return replace(state, now=event.now)
    if isinstance(event, ConfigChanged):
        return replace(
            state,
            config_xml=event.xml,
            probe_agents=probes.probed_agents(event.xml, state.node),
            dirty=f"the configuration changed (revision {event.revision})",
        )
    if isinstance(event, StatusChanged):
        return _peer_sets(_status_changed(state, event), event)
    if isinstance(event, MemberJoined):
        if event.node in state.members:
            return state
        # (not _forget_sets_on: a daemon starting up sees every member join; a node that
        # joins again was lost first, and that forgot the sets on it)
        return replace(
            state, members=state.members | {event.node}, dirty=f"node {event.node} joined"
        )
    if isinstance(event, MemberLost):
        if event.node == state.node:
            return _lease_lost(state, out)
        return replace(
            _forget_sets_on(state, event.node, out),
            members=state.members - {event.node},
            dirty=f"node {event.node} left (its lease lapsed)",
        )
    if isinstance(event, LeaderElected):
        return _leader_elected(state, event, out)
    if isinstance(event, LeaseLost):
        return _lease_lost(state, out)
    if isinstance(event, OpCompleted):
        return _op_completed(state, event, out)
    if isinstance(event, ProcessExited):
        return _process_exited(state, event, out)
    if isinstance(event, AttributeChanged):
        return _attribute_changed(state, event, out)
    if isinstance(event, LeaveRequested):
        if state.leaving or not state.member:
            return state
        out.append(
            Say(
                "asked to leave: setting the shutdown attribute so that the leader moves "
                "what runs here elsewhere first"
            )
        )
        state = replace(state, leaving=True)
        return _attribute_changed(state, AttributeChanged("shutdown", str(int(state.now))), out)
    if isinstance(event, StoreReread):
        return _reread(state, event, out)
    if isinstance(event, WriteFailed):
        if not state.unwritten:
            out.append(
                Say(f"writing {len(event.keys)} status documents failed: retrying in {REWRITE_S} s")
            )
        return replace(
            state, unwritten=state.unwritten | event.keys, rewrite_at=state.now + REWRITE_S
        )
    raise TypeError(f"unknown event {event!r}")


#: how long after a failed write its documents are written again
REWRITE_S = 0.2


def _check_left(state: State, out: list[Instruction]) -> State:
    """A leaving node has left once nothing runs here and no action of it is in flight
    (the leader, once its graph is over too: the starts elsewhere are its to order)."""
    if not state.leaving or state.left or state.started:
        return state
    if any(r.graph is not None or r.probe for r in state.running.values()):
        return state
    if state.leading and state.published is not None and not _graph_over(state, state.published):
        return state
    out.append(Say("nothing runs here any more: leaving the cluster"))
    return replace(state, left=True)


def _rewrite(state: State, out: list[Instruction]) -> State:
    """Write again, as they are now, the documents of this node whose write failed (the
    state already counts them written: the others would never see them otherwise)."""
    if not state.unwritten or state.now < state.rewrite_at:
        return state
    by_node: dict[str, dict[StatusKey, JsonDoc | None]] = {}  # one write is of one node
    for key in sorted(state.unwritten, key=lambda k: (k.node, k.kind.value, k.name)):
        changes = by_node.setdefault(key.node, {})
        if key == _progress_key(state):
            changes[key] = _progress_doc(state)
        elif key == StatusKey(state.node, StatusKind.ATTRIBUTES, TRANSITION):
            if state.published is not None and state.leading:
                out.append(PublishTransition(state.published))
        else:
            changes[key] = state.docs.get(key)
    out.extend(WriteStatus(changes) for changes in by_node.values() if changes)
    return replace(state, unwritten=frozenset())


def _reread(state: State, event: StoreReread, out: list[Instruction]) -> State:
    """Catch up with the store from a fresh read: each difference as the event the watch
    would have delivered. This node's own documents stay as it last wrote them (the read
    may predate its latest writes; a failed write is retried anyway)."""
    missed: list[Event] = []
    if event.config_xml is not None and event.config_xml != state.config_xml:
        missed.append(ConfigChanged(event.config_xml, event.config_revision))
    for key in sorted(set(state.docs) - set(event.docs), key=_key_order):
        if key.node != state.node:
            missed.append(StatusChanged(key, None))
    for key, doc in sorted(event.docs.items(), key=lambda kd: _key_order(kd[0])):
        if key.node != state.node and state.docs.get(key) != doc:
            missed.append(StatusChanged(key, doc))
    missed.extend(MemberJoined(n) for n in sorted(event.members - state.members))
    missed.extend(MemberLost(n) for n in sorted(state.members - event.members))
    if (event.leader, event.leader_since) != (state.leader, state.leader_since):
        missed.append(LeaderElected(event.leader, event.leader_since))
    out.append(Say(f"read the store again after its watch failed: {len(missed)} changes missed"))
    for fact in missed:
        state = _apply(state, fact, out)
    return replace(state, dirty=state.dirty or "the store was read again after a watch error")


def _key_order(key: StatusKey) -> tuple[str, str, str]:
    return (key.node, key.kind.value, key.name)


def _status_changed(state: State, event: StatusChanged) -> State:
    if event.key.node == state.node and event.doc is not None and event.key in state.docs:
        # this node's own write coming back: what it holds is as new or newer (an older
        # write's echo arriving after a newer one was made would otherwise undo it)
        return state
    if (
        event.doc is None
        and event.key.node == state.node
        and event.key.kind is StatusKind.ATTRIBUTES
        and (event.key.name.startswith(SET_ON) or event.key.name == APPLIED_SETS)
    ):
        # the echo of a delete of a document only this node writes: a write made since
        # would otherwise be undone (its sets lost, their seq given out again)
        return state
    docs = dict(state.docs)
    if event.doc is None:
        docs.pop(event.key, None)
    else:
        docs[event.key] = event.doc
    state = replace(state, docs=docs)
    if event.key.kind is StatusKind.OP_HISTORY or event.key.name == PROGRESS:
        state = replace(state, progress_at=state.now)
    if event.key.node in (state.node, records.CLUSTER) or event.doc is None:
        return state
    if event.key.kind is StatusKind.OP_HISTORY:
        changed = event.doc.get("ops", {}).get(event.doc.get("changed", ""))
        if event.key.node in state.waiting_for and not state.dirty:
            state = replace(state, dirty=f"{event.key.node} probed {event.key.name}")
        if changed is not None and not _expected(changed):
            return replace(
                state,
                dirty=f"{event.key.name} on {event.key.node} returned "
                f"{_rc(changed['rc-code'])} to {changed['operation']}",
            )
    elif event.key.name == records.NODE_ATTRIBUTES:
        return replace(state, dirty=f"attributes of {event.key.node} changed")
    elif (
        event.key.name == PROGRESS
        and event.key.node in state.waiting_for
        and event.doc.get("probed")
    ):
        return replace(state, dirty=f"{event.key.node} has probed what runs there")
    elif event.key.name == PROGRESS and event.doc.get("failed"):
        graph = (event.doc.get("uuid"), event.doc.get("seq"))
        if state.published and graph == (state.published.uuid, state.published.seq):
            return replace(
                state, dirty=f"an action of graph {state.published.seq} failed on {event.key.node}"
            )
    return state


def _attribute_changed(state: State, event: AttributeChanged, out: list[Instruction]) -> State:
    if event.cluster:
        return _cluster_attribute_changed(state, event, out)
    if event.node is not None and event.node != state.node:
        return _set_on_peer(state, event, out)
    key = StatusKey(state.node, StatusKind.ATTRIBUTES, records.NODE_ATTRIBUTES)
    attrs = dict(state.docs.get(key) or {})
    if attrs.get(event.name) == event.value or (event.value is None and event.name not in attrs):
        return state
    if event.value is None:
        del attrs[event.name]
    else:
        attrs[event.name] = event.value
    docs = dict(state.docs)
    docs[key] = attrs
    out.append(WriteStatus({key: attrs}))
    return replace(state, docs=docs, dirty=f"attribute {event.name} of {state.node} changed")


def _set_on_peer(state: State, event: AttributeChanged, out: list[Instruction]) -> State:
    """An agent here set or deleted another node's attribute: the request goes in this
    node's SET_ON document for that node, which applies it to itself. A node that is not
    a member has no transient attributes to set (they went with it)."""
    target = str(event.node)
    if target not in state.members:
        out.append(Say(f"not setting {event.name} of {target}: it is not a member of the cluster"))
        return state
    key = StatusKey(state.node, StatusKind.ATTRIBUTES, SET_ON + target)
    sets = dict(state.docs.get(key) or {})
    seq = max(state.set_seq, _last_set_seq(state)) + 1
    sets[event.name] = {"value": event.value, "seq": seq}
    out.append(WriteStatus({key: sets}))
    return replace(state, docs={**state.docs, key: sets}, set_seq=seq)


def _last_set_seq(state: State) -> int:
    """The highest seq of this node's sets on others, kept in its own SET_ON documents or
    acknowledged in the others' APPLIED_SETS (which outlive this node's restart)."""
    seqs = [0]
    for key, doc in state.docs.items():
        if key.kind is not StatusKind.ATTRIBUTES:
            continue
        if key.node == state.node and key.name.startswith(SET_ON):
            seqs.extend(_seq(entry) for entry in doc.values())
        elif key.node != state.node and key.name == APPLIED_SETS:
            seqs.append(_int(doc.get(state.node)))
    return max(seqs)


def _seq(entry: object) -> int:
    return _int(entry.get("seq")) if isinstance(entry, dict) else 0


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _peer_sets(state: State, event: StatusChanged) -> State:
    """Another node's sets of this node's attributes, or its acknowledgement of this
    node's sets, changed: dealt with once this batch of events is in (_apply_sets)."""
    key = event.key
    if (
        key.kind is StatusKind.ATTRIBUTES
        and key.node not in (state.node, records.CLUSTER)
        and key.name in (SET_ON + state.node, APPLIED_SETS)
    ):
        return replace(state, sets_due=True)
    return state


def _apply_sets(state: State, out: list[Instruction]) -> State:
    """Apply the other nodes' sets of this node's attributes, each once and in their order
    (APPLIED_SETS, this node's own document, says which it applied, across restarts);
    forget this node's sets that their node has applied."""
    if not state.sets_due:
        return state
    state = replace(state, sets_due=False)
    applied_key = StatusKey(state.node, StatusKind.ATTRIBUTES, APPLIED_SETS)
    applied = dict(state.docs.get(applied_key) or {})
    new: list[tuple[int, str, str, object]] = []
    acks: dict[str, int] = {}
    for key, doc in state.docs.items():
        if key.kind is not StatusKind.ATTRIBUTES or key.node in (state.node, records.CLUSTER):
            continue
        if key.name == SET_ON + state.node:
            last = _int(applied.get(key.node))
            new.extend(
                (_seq(entry), key.node, name, entry.get("value"))
                for name, entry in doc.items()
                if isinstance(entry, dict) and _seq(entry) > last
            )
        elif key.name == APPLIED_SETS:
            acks[key.node] = _int(doc.get(state.node))
    for seq, setter, name, value in sorted(new):
        text = "deleted" if value is None else f"set to {value}"
        out.append(Say(f"attribute {name} of this node {text} by {setter}"))
        given = value if isinstance(value, str) or value is None else str(value)
        state = _attribute_changed(state, AttributeChanged(name, given), out)
        applied[setter] = max(seq, _int(applied.get(setter)))
    if new:
        out.append(WriteStatus({applied_key: applied}))
        state = replace(state, docs={**state.docs, applied_key: applied})
    for node, done in sorted(acks.items()):
        mine_key = StatusKey(state.node, StatusKind.ATTRIBUTES, SET_ON + node)
        mine = state.docs.get(mine_key)
        if mine:
            kept = {name: entry for name, entry in mine.items() if _seq(entry) > done}
            if kept != mine:
                state = _write_sets(state, mine_key, kept, out)
    return state


def _forget_sets_on(state: State, node: str, out: list[Instruction]) -> State:
    """A node that left or joined again starts with no transient attributes: this node's
    sets not yet applied there are void."""
    key = StatusKey(state.node, StatusKind.ATTRIBUTES, SET_ON + node)
    if node == state.node or key not in state.docs:
        return state
    return _write_sets(state, key, {}, out)


def _write_sets(
    state: State, key: StatusKey, sets: dict[str, object], out: list[Instruction]
) -> State:
    docs = dict(state.docs)
    if sets:
        docs[key] = sets
        out.append(WriteStatus({key: sets}))
    else:
        docs.pop(key, None)
        out.append(WriteStatus({key: None}))
    return replace(state, docs=docs)


def _cluster_attribute_changed(
    state: State, event: AttributeChanged, out: list[Instruction]
) -> State:
    """One document per name, so that two nodes setting different names never overwrite
    each other; the last writer of a name wins. No reason to schedule: the scheduler does
    not read these."""
    key = StatusKey(records.CLUSTER, StatusKind.ATTRIBUTES, event.name)
    old = state.docs.get(key)
    if (old or {}).get("value") == event.value:
        return state
    docs = dict(state.docs)
    if event.value is None:
        docs.pop(key, None)
        out.append(WriteStatus({key: None}))
    else:
        docs[key] = {"value": event.value, "by": state.node}
        out.append(WriteStatus({key: docs[key]}))
    return replace(state, docs=docs)


def cluster_attributes(state: State) -> dict[str, str]:
    """The cluster-wide attributes agents set, as this node knows them."""
    return {
        k.name: str(doc.get("value"))
        for k, doc in state.docs.items()
        if k.node == records.CLUSTER and k.kind is StatusKind.ATTRIBUTES
    }


def current_cib(state: State) -> Cib | None:
    """The cluster as this node knows it, as the CIB the leader would schedule (None before
    a configuration is stored). Raises CommandError if the configuration is invalid."""
    if state.config_xml is None:
        return None
    return records.cluster_cib(state.config_xml, _cluster_docs(state), state.members, state.leader)


def node_attributes(state: State) -> dict[str, dict[str, str]]:
    """Every node's attributes set by its agents, as this node knows them."""
    return {
        k.node: {str(n): str(v) for n, v in doc.items()}
        for k, doc in state.docs.items()
        if k.kind is StatusKind.ATTRIBUTES and k.name == records.NODE_ATTRIBUTES
    }


def _process_exited(state: State, event: ProcessExited, out: list[Instruction]) -> State:
    if event.resource not in state.started:
        return state
    monitors = {
        k: (replace(m, due=state.now) if m.action.slot == event.resource else m)
        for k, m in state.monitors.items()
    }
    if monitors == state.monitors:
        return state
    out.append(Say(f"the process of {event.resource} exited: monitoring it now"))
    return replace(state, monitors=monitors, exited={**state.exited, event.resource: state.now})


def _leader_elected(state: State, event: LeaderElected, out: list[Instruction]) -> State:
    state = replace(state, leader=event.node, leader_since=event.since)
    if event.node is None:
        if state.member:
            out.append(Say("the leader post is vacant: campaigning for it"))
            out.append(Campaign())
        return state
    if event.node == state.node:
        out.append(Say(f"elected leader at revision {event.since}: scheduling the cluster"))
        return replace(state, published=None, seq=0, dirty="this node was elected leader")
    return state


def _lease_lost(state: State, out: list[Instruction]) -> State:
    if not state.member:
        return state
    out.append(
        Say("lost my lease: stopping every resource here before another node could be given it")
    )
    for resource, start in sorted(state.started.items(), key=_stop_order):
        stop = replace(start, task="stop", interval_ms=0, after=(), id=-1)
        out.append(RunOp(SELF_FENCE + resource, _request(state, stop)))
    return replace(state, member=False, monitors={}, started={}, published=None)


def _stop_order(item: tuple[str, Action]) -> tuple[int, str]:
    """Instances inside bundle containers first, the containers last."""
    part = item[1].part
    return ({bundles.INNER: 0, bundles.CONTAINER: 2}.get(part, 1), item[0])


def _op_completed(state: State, event: OpCompleted, out: list[Instruction]) -> State:
    run = state.running.get(event.run_id)
    running = {k: v for k, v in state.running.items() if k != event.run_id}
    state = replace(state, running=running, progress_at=state.now)
    if run is not None and not state.member and run.action.task == "start":
        # it ended after the lease was lost (its resource was not among those stopped then)
        stop = replace(run.action, task="stop", interval_ms=0, after=(), id=-1)
        out.append(Say(f"the start of {run.action.resource} ended after the lease was lost"))
        out.append(RunOp(SELF_FENCE + run.action.resource, _request(state, stop)))
    if run is None or not state.member:
        return state
    action = run.action
    if run.probe:
        return _probe_completed(state, action, event, out)
    if action.task == "stonith":
        return _fence_completed(state, run, action, event, out)
    if action.task == "notify":
        return _notified(state, run, action, event, out)
    expected = event.rc == action.target_rc and event.op_status == records.EXEC_DONE
    if run.graph is None and event.run_id not in state.monitors:
        return state  # a recurring monitor cancelled while it ran: its answer is void
    if not expected:
        state = _count_failure(state, action, event, out)
    if run.graph is None:  # a recurring monitor
        monitor = state.monitors[event.run_id]
        monitors = dict(state.monitors)
        due = state.now + action.interval_ms / 1000
        exited = dict(state.exited)
        heard = exited.get(action.slot)
        if heard is not None and run.since < heard:
            due = state.now  # it began before the exit: its answer says nothing of it
        else:
            exited.pop(action.slot, None)
        monitors[event.run_id] = replace(monitor, due=due, last_rc=event.rc)
        state = replace(state, monitors=monitors, exited=exited)
        if event.rc == monitor.last_rc:
            return state
        if expected and action.slot in state.started:  # back to normal: watch again
            out.append(WatchExit(action.slot, _request(state, action)))
        out.append(
            Say(
                f"monitor of {action.slot} returned {_rc(event.rc)} after "
                f"{_rc(monitor.last_rc)}: recording it for the leader"
            )
        )
        return _record(state, action, run.transition_key, event, expected, out)
    if not expected:
        out.append(
            Say(
                f"{action.task} of {action.slot} failed with {_rc(event.rc)}"
                f"{': ' + event.exit_reason if event.exit_reason else ''}; expected "
                f"{_rc(action.target_rc)}: the leader will recover it"
            )
        )
    started = dict(state.started)
    monitors = dict(state.monitors)
    if action.task == "start" and expected:
        started[action.slot] = action
        out.append(WatchExit(action.slot, _request(state, action)))
    elif action.task in ("promote", "demote") and expected and action.slot in started:
        out.append(WatchExit(action.slot, _request(state, started[action.slot])))
    elif action.task == "stop" and expected:
        started.pop(action.slot, None)
    if action.task == "monitor" and action.interval_ms and expected:
        monitors[_monitor_id(action)] = Monitor(
            action, run.transition_key, state.now + action.interval_ms / 1000, event.rc
        )
    state = replace(state, started=started, monitors=monitors)
    if run.graph == state.following:
        if expected:
            state = replace(state, done=state.done | {action.id})
        else:
            state = replace(state, failed=state.failed | {action.id})
    return _record(state, action, run.transition_key, event, expected, out)


def _notified(
    state: State, run: Run, action: Action, event: OpCompleted, out: list[Instruction]
) -> State:
    """A notification is done whatever it returned (Pacemaker logs and ignores a failed
    one) and, as in Pacemaker, leaves no op history."""
    if event.rc != 0 or event.op_status != records.EXEC_DONE:
        out.append(
            Say(
                f"notify of {action.resource} returned {_rc(event.rc)}"
                f"{': ' + event.exit_reason if event.exit_reason else ''}: ignored"
            )
        )
    if run.graph == state.following:
        state = replace(state, done=state.done | {action.id})
        out.append(WriteStatus({_progress_key(state): _progress_doc(state)}))
    return state


def _record(
    state: State,
    action: Action,
    transition_key: str,
    event: OpCompleted,
    expected: bool,
    out: list[Instruction],
) -> State:
    """Write the result into this node's op history (and its progress) for everyone."""
    call_id = state.call_id + 1
    key = StatusKey(state.node, StatusKind.OP_HISTORY, action.slot)
    old = state.docs.get(key) or {}
    ops: dict[str, Any] = dict(old.get("ops", {}))
    if action.task in ("stop", "promote", "demote") and expected:
        # its recurring monitors are cancelled (a role change: the old role's; the graph
        # starts the new role's after it)
        ops = {
            k: v
            for k, v in ops.items()
            if not int(v.get("interval", 0)) or k.endswith("_last_failure_0")
        }
    ids = records.record_ids(action.resource, action.task, action.interval_ms, expected)
    for record_id in ids:
        ops[record_id] = records.op_fields(
            record_id=record_id,
            resource=action.resource,
            task=action.task,
            interval_ms=action.interval_ms,
            call_id=call_id,
            rc=event.rc,
            op_status=event.op_status,
            transition_key=transition_key,
            node=action.guest or state.node,
            started=int(state.now - event.duration_ms / 1000),
            now=int(state.now),
            exec_ms=event.duration_ms,
            digest=action.digest,
            exit_reason=event.exit_reason,
        )
    doc = {"agent": list(action.agent), "ops": ops, "changed": ids[-1]}
    docs = dict(state.docs)
    docs[key] = doc
    state = replace(state, call_id=call_id, docs=docs)
    changes: dict[StatusKey, JsonDoc | None] = {key: doc}
    fails = StatusKey(state.node, StatusKind.FAIL_COUNT, action.slot)
    if not expected and fails in state.docs:  # with the result, in one write
        changes[fails] = state.docs[fails]
    if not expected:  # seen by the leader's watch too, unless the leader is this node
        state = replace(
            state,
            dirty=f"{action.slot} on {state.node} returned {_rc(event.rc)} to {action.task}",
        )
    changes[_progress_key(state)] = _progress_doc(state)
    out.append(WriteStatus(changes))
    return state


def _count_failure(
    state: State, action: Action, event: OpCompleted, out: list[Instruction]
) -> State:
    """One more failure of the action in the resource's fail counts on this node."""
    fatal = action.task == "stop" or (action.task == "start" and _start_failure_is_fatal(state))
    key = StatusKey(state.node, StatusKind.FAIL_COUNT, action.slot)
    doc = failures.bump(state.docs.get(key), action.task, action.interval_ms, int(state.now), fatal)
    docs = dict(state.docs)
    docs[key] = doc
    entry = doc[f"{action.task}_{action.interval_ms}"]
    count = "INFINITY" if entry["count"] >= INFINITY else str(entry["count"])
    out.append(Say(f"fail count of {action.slot} for {action.task} is now {count}"))
    return replace(state, docs=docs)


def _start_failure_is_fatal(state: State) -> bool:
    if state.config_xml is None:
        return True
    try:
        crm_config = parse_cib_text(state.config_xml).configuration.crm_config
    except CommandError:
        return True
    for attr_set in crm_config:
        value = attr_set.values().get("start-failure-is-fatal")
        if value is not None:
            return value.lower() not in ("false", "no", "0", "off", "n", "f")
    return True


# -- probes: what runs here already ---------------------------------------------------------


def _probe(state: State, out: list[Instruction]) -> State:
    """Once, after joining: a probe of every configured resource, before this node runs
    anything of a graph (and before the leader schedules), so that what runs here is
    adopted rather than started again elsewhere. Later, a probe of each resource added
    (or given another agent) since: the leader waits for those before scheduling."""
    if state.probed:
        return _probe_new(state, out)
    if state.probing is not None:
        return state
    if state.config_xml is None:
        return _probes_done(replace(state, probing=frozenset()), out, "nothing is configured")
    try:
        config = parse_cib_text(state.config_xml).configuration
    except CommandError:
        return _probes_done(
            replace(state, probing=frozenset()), out, "the configuration is invalid"
        )
    actions = probe_actions(config, state.node, max(len(state.members), 1))
    if not actions:
        return _probes_done(replace(state, probing=frozenset()), out, "no resource to probe")
    out.append(Say(f"probing {len(actions)} resources to learn what runs here"))
    return _send_probes(state, actions, out)


def _probe_new(state: State, out: list[Instruction]) -> State:
    busy = _busy(state)
    due = [
        rsc
        for rsc, agent in state.probe_agents.items()
        if rsc not in busy
        and probes.needs_probe(
            rsc, state.docs.get(StatusKey(state.node, StatusKind.OP_HISTORY, rsc)), agent
        )
    ]
    if not due or state.config_xml is None:
        return state
    config = parse_cib_text(state.config_xml).configuration  # probe_agents parsed it
    actions = [
        a for a in probe_actions(config, state.node, max(len(state.members), 1)) if a.slot in due
    ]
    out.append(
        Say(f"probing {', '.join(sorted(due))}: configured since this node probed what runs here")
    )
    return _send_probes(state, actions, out)


def _send_probes(state: State, actions: list[Action], out: list[Instruction]) -> State:
    running = dict(state.running)
    for action in actions:
        run_id = f"probe:{action.slot}"
        running[run_id] = Run(action, probes.probe_key(state.node), None, probe=True)
        if action.agent[0] != "stonith":
            out.append(RunOp(run_id, _request(state, action)))
    probing = (state.probing or frozenset()) | {a.slot for a in actions}
    # their recurring monitors end: the history they would add to is forgotten (a
    # cleanup), and the leader schedules them again from what the probes find
    monitors = {k: m for k, m in state.monitors.items() if m.action.slot not in probing}
    state = replace(state, running=running, probing=probing, monitors=monitors)
    return _fence_probes(state, [a for a in actions if a.agent[0] == "stonith"], out)


def _fence_probes(state: State, actions: list[Action], out: list[Instruction]) -> State:
    """A fence device's probe asks whether the device is registered on this node, not the
    device itself, as Pacemaker's executor answers it from its fencer: running (rc 0) where
    this daemon started it, else not (rc 7). So the status has a device's history on every
    node, as Pacemaker's does, and a CIB taken from it asks crm_simulate for no probe."""
    for action in actions:
        rc = 0 if action.slot in state.started else OCF_NOT_RUNNING
        event = OpCompleted(f"probe:{action.slot}", rc, records.EXEC_DONE)
        state = _op_completed(state, event, out)
    return state


def _probe_completed(
    state: State, action: Action, event: OpCompleted, out: list[Instruction]
) -> State:
    found = event.op_status == records.EXEC_DONE and event.rc in (0, 8)
    ok = event.op_status == records.EXEC_DONE and event.rc in (0, 7, 8)
    key = StatusKey(state.node, StatusKind.OP_HISTORY, action.slot)
    docs = dict(state.docs)
    docs.pop(key, None)  # the probe replaces whatever an earlier run recorded
    state = replace(state, docs=docs)
    if found:
        started = dict(state.started)
        started[action.slot] = replace(action, task="start", target_rc=0)
        state = replace(state, started=started)
        out.append(WatchExit(action.slot, _request(state, action)))
        out.append(Say(f"probe found {action.slot} running ({_rc(event.rc)}): adopting it"))
    elif ok and action.slot in state.started:  # what it started (or adopted) stopped
        started = {k: v for k, v in state.started.items() if k != action.slot}
        state = replace(state, started=started)
        out.append(WatchExit(action.slot, None))
    if not ok:
        out.append(
            Say(
                f"probe of {action.slot} returned {_rc(event.rc)}"
                f"{': ' + event.exit_reason if event.exit_reason else ''}"
            )
        )
    state = _record(state, action, probes.probe_key(state.node), event, ok, out)
    probing = (state.probing or frozenset()) - {action.slot}
    state = replace(state, probing=probing)
    if probing or state.probed:
        return state
    return _probes_done(state, out, "every resource was probed")


def _probes_done(state: State, out: list[Instruction], why: str) -> State:
    """Forget the history an earlier run of this daemon left of resources not probed now,
    and tell the leader this node is ready."""
    stale = {
        k: None
        for k, v in state.docs.items()
        if k.node == state.node
        and k.kind is StatusKind.OP_HISTORY
        and probes.changed(v).get("transition-key") != probes.probe_key(state.node)
    }
    docs = {k: v for k, v in state.docs.items() if k not in stale}
    state = replace(state, probed=True, docs=docs)
    changes: dict[StatusKey, JsonDoc | None] = dict(stale)
    changes[_progress_key(state)] = _progress_doc(state)
    out.append(Say(f"probes done ({why}): ready to run the leader's graphs"))
    out.append(WriteStatus(changes))
    return replace(state, dirty=state.dirty or "this node probed what runs here")


def _unprobed(state: State, node: str) -> bool:
    """The node has not yet probed everything the leader could start (so must wait)."""
    if node == state.node:
        if not state.probed:
            return True
    else:
        doc = state.docs.get(StatusKey(node, StatusKind.ATTRIBUTES, PROGRESS))
        if not (doc and doc.get("probed")):
            return True
    return any(
        probes.needs_probe(rsc, state.docs.get(StatusKey(node, StatusKind.OP_HISTORY, rsc)), agent)
        for rsc, agent in state.probe_agents.items()
    )


# -- fencing -----------------------------------------------------------------------------------


def _fence_completed(
    state: State, run: Run, action: Action, event: OpCompleted, out: list[Instruction]
) -> State:
    target = action.target or "?"
    ok = event.rc == 0 and event.op_status == records.EXEC_DONE
    if ok:
        out.append(
            Say(
                f"fenced {target} with {action.resource}: what it ran is stopped, "
                "its resources may start elsewhere"
            )
        )
        out.append(ClearStatus(target))
        state = replace(state, docs={k: v for k, v in state.docs.items() if k.node != target})
    else:
        out.append(
            Say(
                f"fencing {target} with {action.resource or 'no device'} failed"
                f"{': ' + event.exit_reason if event.exit_reason else ''}; "
                f"{action.reason or ''}: its resources stay where they were"
            )
        )
        state = replace(state, dirty=f"fencing {target} failed")
    # the fencing history, as the fencer keeps it: what `status` and `check` report
    record = records.FenceRecord(
        action=dict(action.params).get("action", "reboot"),
        target=target,
        status="success" if ok else "failed",
        delegate=state.node,
        origin=state.leader or state.node,
        device=action.resource,
        completed=state.now,
        exit_reason=event.exit_reason or "",
    )
    key = records.fence_key(target)
    history = records.with_fence_record(state.docs.get(key), record)
    state = replace(state, docs={**state.docs, key: history})
    out.append(WriteStatus({key: history}))
    if run.graph == state.following:
        if ok:
            state = replace(state, done=state.done | {action.id})
        else:
            state = replace(state, failed=state.failed | {action.id})
    out.append(WriteStatus({_progress_key(state): _progress_doc(state)}))
    return state


# -- the leader ------------------------------------------------------------------------------


def _lead(state: State, out: list[Instruction]) -> State:
    if not state.leading:
        return state
    graph = state.published
    if graph is not None and not _graph_over(state, graph):
        limit = _graph_timeout(graph)
        stalled = state.now > state.progress_at + limit
        if not graph.aborted and (state.dirty or stalled):
            why = state.dirty or f"graph {graph.seq} made no progress for {limit:.0f} s"
            out.append(
                Say(
                    f"aborting graph {graph.seq} because {why}; the next one is "
                    "computed when its actions in flight are over"
                )
            )
            graph = replace(graph, aborted=True)
            out.append(PublishTransition(graph))
            return replace(state, published=graph, dirty=why)
        if not stalled:
            return state
        out.append(
            Say(
                f"giving up on the actions of graph {graph.seq} still in flight: no "
                f"result within {limit:.0f} s (their timeout plus the cluster-delay)"
            )
        )
    unprobed = frozenset(m for m in state.members if _unprobed(state, m))
    if unprobed:
        if unprobed != state.waiting_for:
            out.append(
                Say(f"not scheduling until {', '.join(sorted(unprobed))} probed what runs there")
            )
        return replace(state, waiting_for=unprobed)
    state = replace(state, waiting_for=frozenset())
    reason = state.dirty
    if reason is None and graph is not None and graph.actions:
        reason = f"graph {graph.seq} is complete"
    if reason is None and state.now >= state.next_recheck:
        reason = "the recheck interval passed"
    if reason is None:
        return state
    state = replace(state, dirty=None, next_recheck=state.now + state.recheck_s)
    if state.config_xml is None:
        out.append(Say(f"nothing to schedule ({reason}): no configuration stored yet"))
        return state
    try:
        cib = records.cluster_cib(state.config_xml, _cluster_docs(state), state.members, state.node)
        plan = schedule(cib, int(state.now))
    except CommandError as err:
        text = "; ".join(r.render() for r in err.reports)
        out.append(Say(f"not scheduling ({reason}): the configuration is invalid: {text}"))
        return state
    seq = state.seq + 1
    new = build_transition(
        f"{state.node}-{state.leader_since}",
        seq,
        plan.actions,
        cib.configuration,
        state.node,
        sorted(state.members),
        records.guest_hosts(_cluster_docs(state), state.members),
    )
    if not new.actions:
        if graph is None or graph.actions:
            out.append(Say(f"the cluster is settled ({reason}): the plan has no actions"))
            out.append(PublishTransition(new))
            return replace(state, published=new, seq=seq, progress_at=state.now)
        return state
    listed = ", ".join(_describe(a) for a in new.actions[:8])
    more = f" and {len(new.actions) - 8} more" if len(new.actions) > 8 else ""
    out.append(Say(f"publishing graph {seq} because {reason}: {listed}{more}"))
    loop = new.loop()
    if loop:
        circle = " -> ".join(_describe(a) for i in loop if (a := new.action(i)) is not None)
        out.append(
            Say(
                f"graph {seq} has an ordering loop, which never runs: {circle}; the next "
                "change or the recheck interval schedules again (a scheduler bug: report it)"
            )
        )
    out.append(PublishTransition(new))
    return replace(state, published=new, seq=seq, progress_at=state.now)


#: Pacemaker's cluster-delay: how late a result may be beyond its action's timeout
CLUSTER_DELAY_S = 60.0


def _graph_timeout(graph: Transition) -> float:
    """How long a graph may go without any result before the leader stops waiting for the
    actions in flight: the longest action timeout plus the cluster-delay, as Pacemaker."""
    return max((a.timeout_ms for a in graph.actions), default=0) / 1000 + CLUSTER_DELAY_S


def _graph_over(state: State, graph: Transition) -> bool:
    """No action of the graph is running, and none can start any more."""
    for action in graph.actions:
        if action.node not in state.members:
            continue  # lost with its node
        done, failed, running = _progress(state, action.node, graph)
        if action.id in running:
            return False
        if graph.aborted or action.id in done or action.id in failed:
            continue
        if _blocked(state, graph, action) is None:
            return False  # it is waiting for its turn
    return True


def _blocked(state: State, graph: Transition, action: Action) -> str | None:
    """Why the action can never run in this graph; None if it still may."""
    for ident in action.after:
        before = graph.action(ident)
        if before is None:
            continue
        if before.node not in state.members:
            return f"{_describe(before)} was lost with its node"
        if ident in _progress(state, before.node, graph)[1]:
            return f"{_describe(before)} failed"
    return None


def _ready(state: State, graph: Transition, action: Action) -> bool:
    for ident in action.after:
        before = graph.action(ident)
        if before is not None and ident not in _progress(state, before.node, graph)[0]:
            return False
    return True


def _progress(
    state: State, node: str, graph: Transition
) -> tuple[frozenset[int], frozenset[int], frozenset[int]]:
    """(done, failed, running) action ids of the graph on node, as far as we know."""
    if node == state.node:
        if state.following != (graph.uuid, graph.seq):
            return frozenset(), frozenset(), frozenset()
        running = frozenset(
            r.action.id for r in state.running.values() if r.graph == state.following
        )
        return state.done, state.failed, running
    doc = state.docs.get(StatusKey(node, StatusKind.ATTRIBUTES, PROGRESS))
    if doc is None or (doc.get("uuid"), doc.get("seq")) != (graph.uuid, graph.seq):
        return frozenset(), frozenset(), frozenset()
    return (
        frozenset(doc.get("done", ())),
        frozenset(doc.get("failed", ())),
        frozenset(doc.get("running", ())),
    )


def _cluster_docs(state: State) -> dict[StatusKey, JsonDoc]:
    return {
        k: v
        for k, v in state.docs.items()
        if k.kind is not StatusKind.ATTRIBUTES or k.name == records.NODE_ATTRIBUTES
    }


# -- every node: executing the graph and the monitors ------------------------------------------


def _current_graph(state: State) -> Transition | None:
    if state.leader is None:
        return None
    if state.leader == state.node:
        return state.published
    doc = state.docs.get(StatusKey(state.leader, StatusKind.ATTRIBUTES, TRANSITION))
    if doc is None or doc.get("uuid") != f"{state.leader}-{state.leader_since}":
        return None  # a graph of an earlier leader: never follow it
    return Transition.from_doc(doc)


def _execute(state: State, out: list[Instruction]) -> State:
    graph = _current_graph(state)
    if graph is None or not state.probed:
        return state
    ident = (graph.uuid, graph.seq)
    if state.following != ident:
        state = replace(state, following=ident, done=frozenset(), failed=frozenset())
        out.append(WriteStatus({_progress_key(state): _progress_doc(state)}))
    if graph.aborted:
        return state
    # one operation at a time per resource, as Pacemaker's executor runs them: an action
    # waits for a recurring monitor in flight on its resource (Pacemaker would kill a
    # monitor that a start, stop, promote or demote cancels; here it ends, its answer
    # discarded), and a monitor falls due behind an action (_run_monitors)
    busy = _busy(state)
    in_flight = {r.action.id for r in state.running.values() if r.graph == ident}
    started = False
    for action in graph.actions:
        if (
            action.node != state.node
            or action.id in state.done
            or action.id in state.failed
            or action.id in in_flight
            or not _ready(state, graph, action)
        ):
            continue
        if action.task in ("start", "stop", "promote", "demote"):
            # its recurring monitors are cancelled before the resource changes (one in
            # flight is ended if the runner can, else it ends first; its answer is void)
            monitors = {k: m for k, m in state.monitors.items() if m.action.slot != action.slot}
            cancelled = len(monitors) != len(state.monitors)
            out.extend(
                CancelOp(k)
                for k in sorted(state.monitors)
                if k not in monitors and k in state.running
            )
            if cancelled or action.slot not in busy:  # once while it waits
                out.append(WatchExit(action.slot, None))
            state = replace(state, monitors=monitors)
        if action.slot in busy:
            continue  # it waits for the operation in flight on its resource
        begun = state.started.get(action.slot)
        if action.task == "stop" and begun is not None:
            # as Pacemaker's executor: stopped with the agent and parameters it was started
            # with (a changed definition's old instance; recorded under its old agent, so
            # the new agent probes it afterwards)
            action = replace(action, agent=begun.agent, params=begun.params)
        run_id = f"{graph.uuid}:{graph.seq}:{action.id}"
        running = dict(state.running)
        running[run_id] = Run(action, graph.key(action), ident)
        state = replace(state, running=running)
        busy.add(action.slot)
        out.append(
            Say(
                f"running {_describe(action)} (action {action.id} of graph "
                f"{graph.seq}){': ' + action.reason if action.reason else ''}"
            )
        )
        out.append(RunOp(run_id, _request(state, action)))
        started = True
    if started:
        out.append(WriteStatus({_progress_key(state): _progress_doc(state)}))
    return state


def _run_monitors(state: State, out: list[Instruction]) -> State:
    busy = _busy(state)
    for run_id, monitor in sorted(state.monitors.items()):
        if monitor.due > state.now or monitor.action.slot in busy:
            continue  # a monitor never overlaps another operation of its resource (nor itself)
        busy.add(monitor.action.slot)
        running = dict(state.running)
        running[run_id] = Run(monitor.action, monitor.transition_key, None, since=state.now)
        state = replace(state, running=running)
        out.append(RunOp(run_id, _request(state, monitor.action)))
    return state


def next_wakeup(state: State) -> float:
    """When handle() wants a Ticked at the latest (a monitor is due, or the recheck)."""
    times = [m.due for k, m in state.monitors.items() if k not in state.running]
    if state.unwritten:
        times.append(state.rewrite_at)
    if state.leading:
        times.append(state.next_recheck)
        if state.published is not None and state.published.actions:
            times.append(state.progress_at + _graph_timeout(state.published) + 0.001)
    return min(times, default=state.now + 1.0)


# -- small helpers ---------------------------------------------------------------------------


def _busy(state: State) -> set[str]:
    """The resources with an operation in flight here (of a graph, a probe, a monitor)."""
    return {r.action.slot for r in state.running.values()}


def _request(state: State, action: Action) -> OpRequest:
    standard, provider, kind = action.agent
    if action.task == "stonith":
        params = dict(action.params)
        fence_op = params.pop("action", "reboot")
        return OpRequest(
            action.resource,
            fence_op,
            state.node,
            Agent(standard, provider, kind),
            params,
            {TARGET: action.target or ""},
            0,
            action.timeout_ms,
        )
    return OpRequest(
        action.resource,
        action.task,
        action.guest or state.node,
        Agent(standard, provider, kind),
        dict(action.params),
        dict(action.meta),
        action.interval_ms,
        action.timeout_ms,
        container=action.container if action.part == bundles.INNER else None,
        replica=action.spec if action.part == bundles.CONTAINER else None,
        connection=action.container if action.part == bundles.CONNECTION else None,
    )


def _monitor_id(action: Action) -> str:
    return f"monitor:{action.slot}:{action.interval_ms}"


def _progress_key(state: State) -> StatusKey:
    return StatusKey(state.node, StatusKind.ATTRIBUTES, PROGRESS)


def _progress_doc(state: State) -> dict[str, Any]:
    uuid, seq = state.following or ("", 0)
    running = sorted(r.action.id for r in state.running.values() if r.graph == state.following)
    return {
        "uuid": uuid,
        "seq": seq,
        "done": sorted(state.done),
        "failed": sorted(state.failed),
        "running": running,
        "probed": state.probed,
    }


def _expected(fields: Mapping[str, Any]) -> bool:
    key = str(fields.get("transition-key") or "")
    parts = key.split(":")
    target = int(parts[2]) if len(parts) >= 4 and parts[2].isdigit() else 0
    return int(fields["rc-code"]) == target and int(fields["op-status"]) == 0


def _rc(rc: int) -> str:
    return f"rc {rc} ({RC_TEXT[rc]})" if rc in RC_TEXT else f"rc {rc}"


def _describe(action: Action) -> str:
    task = f"{action.task}/{action.interval_ms // 1000}s" if action.interval_ms else action.task
    meta = dict(action.meta)
    if action.task == "notify" and "notify_type" in meta:
        task = f"{meta['notify_type']}-{meta.get('notify_operation', '?')} notify"
    return f"{task} {action.slot} on {action.node}"
