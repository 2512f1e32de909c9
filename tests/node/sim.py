"""Several node state machines wired together with plain data: a store in a dict.

Writes are delivered to every node as StatusChanged, RunOp goes to a function that answers
with an rc. No threads, no clock: `now` is a number the test moves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hakeeper.agents.request import STONITH_TARGET, OpRequest
from hakeeper.coord.model import StatusKey, StatusKind
from hakeeper.node import machine
from hakeeper.node.events import (
    Campaign,
    ClearStatus,
    ConfigChanged,
    Event,
    Instruction,
    LeaderElected,
    MemberJoined,
    MemberLost,
    OpCompleted,
    PublishTransition,
    RunOp,
    Say,
    StatusChanged,
    Ticked,
    WriteStatus,
)

Agent = Callable[[OpRequest], int]


def dummy_config(*resources: str, extra: str = "", constraints: str = "") -> str:
    prims = "".join(
        f'<primitive id="{r}" class="ocf" provider="heartbeat" type="Dummy">'
        f'<instance_attributes id="{r}-i"><nvpair id="{r}-s" name="state" '
        f'value="/tmp/{r}.state"/></instance_attributes><operations>'
        f'<op id="{r}-m" name="monitor" interval="10s" timeout="20s"/></operations></primitive>'
        for r in resources
    )
    return (
        '<cib><configuration><crm_config><cluster_property_set id="o">'
        '<nvpair id="o1" name="stonith-enabled" value="false"/>'
        f"</cluster_property_set></crm_config><nodes/><resources>{prims}{extra}</resources>"
        f"<constraints>{constraints}</constraints></configuration><status/></cib>"
    )


@dataclass
class Sim:
    nodes: tuple[str, ...]
    agent: Agent | None = None  # None: `dummy`, which remembers what it started
    now: float = 1_000_000.0
    states: dict[str, machine.State] = field(default_factory=dict)
    runs: dict[str, list[RunOp]] = field(default_factory=dict)
    said: list[str] = field(default_factory=list)
    ops: list[tuple[str, str, str, int]] = field(default_factory=list)  # node, rsc, task, ms
    inbox: dict[str, list[Event]] = field(default_factory=dict)
    leader: str | None = None
    revision: int = 0
    active: set[tuple[str, str]] = field(default_factory=set)  # (node, resource) running
    fenced: list[str] = field(default_factory=list)
    held: set[str] = field(default_factory=set)  # nodes whose agent runs never end
    docs: dict[StatusKey, object] = field(default_factory=dict)  # the store's status
    config: str | None = None
    duration_ms: int = 0  # how long each agent run took, as its result says

    def dummy(self, request: OpRequest) -> int:
        """A Dummy agent's answers: monitor 0 if started on that node, else 7."""
        where = (request.node, request.resource.split(":")[0])
        if request.agent.standard == "stonith" and request.action in ("reboot", "off"):
            target = request.meta[STONITH_TARGET]
            self.fenced.append(target)
            self.active = {(n, r) for n, r in self.active if n != target}
            return 0
        if request.action == "start":
            self.active.add(where)
        elif request.action == "stop":
            self.active.discard(where)
        elif request.action == "monitor":
            return 0 if where in self.active else 7
        return 0

    def __post_init__(self) -> None:
        for node in self.nodes:
            self.states[node] = machine.State(node, recheck_s=60.0, now=self.now)
            self.runs[node] = []
            self.inbox[node] = [MemberJoined(n) for n in self.nodes]
            self.inbox[node].append(LeaderElected(None, 0))

    def broadcast(self, event: Event, nodes: tuple[str, ...] | None = None) -> None:
        for node in nodes or tuple(self.states):
            self.inbox[node].append(event)

    def configure(self, xml: str) -> None:
        self.config = xml
        self.revision += 1
        self.broadcast(ConfigChanged(xml, self.revision))

    def lose(self, node: str) -> None:
        del self.states[node]
        del self.inbox[node]
        self.runs.pop(node)
        self.broadcast(MemberLost(node))
        if self.leader == node:
            self.leader = None
            self.revision += 1
            self.broadcast(LeaderElected(None, self.revision))

    def step(self, node: str) -> list[Instruction]:
        events, self.inbox[node] = self.inbox[node], []
        self.states[node], orders = machine.handle(self.states[node], Ticked(self.now), *events)
        for order in orders:
            if isinstance(order, Say):
                self.said.append(f"{node}: {order.text}")
            elif isinstance(order, RunOp):
                self.runs[node].append(order)
            elif isinstance(order, Campaign) and self.leader is None:
                self.leader = node
                self.revision += 1
                self.broadcast(LeaderElected(node, self.revision))
            elif isinstance(order, WriteStatus):
                for key, doc in order.changes.items():
                    self._store(key, doc)
            elif isinstance(order, ClearStatus):
                for key in [k for k in self.docs if k.node == order.node]:
                    self._store(key, None)
            elif isinstance(order, PublishTransition):
                key = StatusKey(node, StatusKind.ATTRIBUTES, machine.TRANSITION)
                self._store(key, order.transition.to_doc())
        return orders

    def _store(self, key: StatusKey, doc: object) -> None:
        if doc is None:
            self.docs.pop(key, None)
        else:
            self.docs[key] = doc
        self.broadcast(StatusChanged(key, doc))  # type: ignore[arg-type]

    def restart(self, node: str) -> None:
        """The node's daemon starts again, resuming its lease: it reads the store."""
        self.states[node] = machine.State(node, recheck_s=60.0, now=self.now)
        self.runs[node] = []
        self.inbox[node] = []
        if self.config is not None:
            self.inbox[node].append(ConfigChanged(self.config, self.revision))
        self.inbox[node].extend(StatusChanged(k, d) for k, d in self.docs.items())  # type: ignore[arg-type]
        self.inbox[node].extend(MemberJoined(n) for n in self.states)
        self.inbox[node].append(LeaderElected(self.leader, self.revision))

    def finish_runs(self, node: str) -> None:
        if node in self.held:
            return
        runs, self.runs[node] = self.runs[node], []
        for run in runs:
            rc = (self.agent or self.dummy)(run.request)
            self.ops.append(
                (node, run.request.resource, run.request.action, run.request.interval_ms)
            )
            self.inbox[node].append(OpCompleted(run.run_id, rc, 0, duration_ms=self.duration_ms))

    def probe_new(self) -> None:
        """Every node probes what was configured since it joined; the leader last, so that
        its next step (which records its own probes) schedules."""
        others = [n for n in self.states if n != self.leader]
        for node in others:
            self.step(node)
            self.finish_runs(node)
            self.step(node)
        if self.leader is not None:
            self.step(self.leader)
            self.finish_runs(self.leader)

    def settle(self, rounds: int = 50) -> None:
        """Deliver events and complete every action until nothing moves."""
        for _ in range(rounds):
            moved = False
            for node in list(self.states):
                if self.inbox[node] or (self.runs[node] and node not in self.held):
                    moved = True
                if self.step(node):
                    moved = True
                self.finish_runs(node)
            if not moved:
                return
        raise AssertionError("the cluster did not settle:\n" + "\n".join(self.said[-20:]))

    def started(self) -> dict[str, str]:
        """resource -> node, from the op history documents the nodes wrote."""
        where: dict[str, str] = {}
        state = next(iter(self.states.values()))
        for key, doc in state.docs.items():
            if key.kind is StatusKind.OP_HISTORY and key.node in self.states:
                last = doc["ops"].get(f"{key.name}_last_0")
                if last and last["operation"] == "start" and last["rc-code"] == 0:
                    where[key.name] = key.node
        return where
