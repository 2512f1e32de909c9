"""Promotable clones in the node state machine: promote/demote, role monitors, probes that
find a promoted instance, and notifications with their variables."""

from __future__ import annotations

from dataclasses import dataclass, field

from hakeeper.agents.request import OpRequest
from hakeeper.coord.model import StatusKey, StatusKind
from hakeeper.node import machine, records
from hakeeper.node.events import AttributeChanged, WriteStatus

from .sim import Sim

NODES = ("a", "b", "c")


def promotable_config(notify: bool = True) -> str:
    scores = "".join(
        f'<rsc_location id="p-{n}" rsc="db-clone" node="{n}" score="{30 - i}" role="Promoted"/>'
        for i, n in enumerate(NODES)
    )
    return (
        '<cib><configuration><crm_config><cluster_property_set id="o">'
        '<nvpair id="o1" name="stonith-enabled" value="false"/>'
        "</cluster_property_set></crm_config><nodes/><resources>"
        '<clone id="db-clone"><meta_attributes id="m">'
        '<nvpair id="m-p" name="promotable" value="true"/>'
        '<nvpair id="m-pm" name="promoted-max" value="1"/>'
        f'<nvpair id="m-n" name="notify" value="{str(notify).lower()}"/></meta_attributes>'
        '<primitive id="db" class="ocf" provider="pacemaker" type="Stateful"><operations>'
        '<op id="db-mp" name="monitor" interval="5s" role="Promoted"/>'
        '<op id="db-mu" name="monitor" interval="7s" role="Unpromoted"/>'
        "</operations></primitive></clone>"
        '<primitive id="vip" class="ocf" provider="heartbeat" type="Dummy"/>'
        "</resources><constraints>"
        '<rsc_colocation id="c" rsc="vip" with-rsc="db-clone" with-rsc-role="Promoted" '
        'score="INFINITY"/>'
        '<rsc_order id="o" first="db-clone" first-action="promote" then="vip" '
        'then-action="start"/>'
        f"{scores}</constraints></configuration><status/></cib>"
    )


@dataclass
class Stateful:
    """A promotable agent's answers: monitor 8 promoted, 0 unpromoted, 7 stopped."""

    roles: dict[tuple[str, str], str] = field(default_factory=dict)
    notified: list[OpRequest] = field(default_factory=list)
    fail_notify: bool = False

    def __call__(self, request: OpRequest) -> int:
        where = (request.node, request.resource)
        # as ocf_is_ms: without the clone's promotable meta, a promoted instance is "running"
        promotable = int(request.meta.get("master_max", "0")) > 0
        role = self.roles.get(where)
        if request.action == "start":
            self.roles[where] = "unpromoted"
        elif request.action == "stop":
            self.roles.pop(where, None)
        elif request.action == "promote":
            assert role == "unpromoted", f"promote of {where} in role {role}"
            self.roles[where] = "promoted"
        elif request.action == "demote":
            self.roles[where] = "unpromoted"
        elif request.action == "notify":
            self.notified.append(request)
            return 1 if self.fail_notify else 0
        elif request.action == "monitor":
            return {"promoted": 8 if promotable else 0, "unpromoted": 0}.get(role or "", 7)
        return 0

    def promoted(self) -> set[str]:
        return {n for (n, r), role in self.roles.items() if r == "db" and role == "promoted"}


def _history(sim: Sim, node: str, rsc: str) -> dict[str, dict[str, object]]:
    state = next(iter(sim.states.values()))
    ops: dict[str, dict[str, object]] = state.docs[StatusKey(node, StatusKind.OP_HISTORY, rsc)][
        "ops"
    ]
    return ops


def test_one_instance_is_promoted_its_monitor_expects_8_and_the_vip_follows() -> None:
    agent = Stateful()
    sim = Sim(NODES, agent=agent)
    sim.configure(promotable_config())
    sim.settle()
    assert agent.promoted() == {"a"}
    assert {n for (n, r) in agent.roles if r == "db"} == set(NODES)
    promoted = _history(sim, "a", "db")
    assert promoted["db_last_0"]["operation"] == "promote"
    monitor = promoted["db_monitor_5000"]
    assert monitor["rc-code"] == 8
    assert str(monitor["transition-key"]).split(":")[2] == "8"  # expected: no failure
    assert "db_monitor_7000" not in promoted  # the Unpromoted role's monitor is not run
    for node in ("b", "c"):
        ops = _history(sim, node, "db")
        assert ops["db_monitor_7000"]["rc-code"] == 0 and "db_monitor_5000" not in ops
    assert sim.started()["vip"] == "a"
    assert not any(r == "db" and n != "a" and t == "promote" for n, r, t, _ in sim.ops)


def test_the_agent_hears_promotions_with_pacemakers_variables_and_no_history_is_kept() -> None:
    agent = Stateful()
    sim = Sim(NODES, agent=agent)
    sim.configure(promotable_config())
    sim.settle()
    kinds = {(r.node, r.meta["notify_type"], r.meta["notify_operation"]) for r in agent.notified}
    for node in NODES:
        assert (node, "pre", "promote") in kinds and (node, "post", "promote") in kinds
        assert (node, "post", "start") in kinds
    post = next(
        r
        for r in agent.notified
        if r.meta["notify_type"] == "post" and r.meta["notify_operation"] == "promote"
    )
    assert post.meta["notify_promote_uname"] == "a"
    assert post.meta["notify_promote_resource"].startswith("db:")
    assert post.meta["master_max"] == "1" and post.meta["promoted_max"] == "1"
    assert post.meta["notify"] == "true" and post.meta["clone_max"] == "3"
    for node in NODES:
        assert not any("notify" in k for k in _history(sim, node, "db"))


def test_a_failed_notification_is_ignored() -> None:
    agent = Stateful(fail_notify=True)
    sim = Sim(NODES, agent=agent)
    sim.configure(promotable_config())
    sim.settle()
    assert agent.promoted() == {"a"}
    assert sim.started()["vip"] == "a"
    assert any("ignored" in s for s in sim.said)


def test_a_lost_promoted_node_is_replaced_by_a_promotion_that_replicas_hear_of() -> None:
    agent = Stateful()
    sim = Sim(NODES, agent=agent)
    sim.configure(promotable_config())
    sim.settle()
    agent.notified.clear()
    sim.lose("a")
    agent.roles = {k: v for k, v in agent.roles.items() if k[0] != "a"}
    sim.settle()
    assert agent.promoted() == {"b"}
    assert sim.started()["vip"] == "b"
    post = {
        r.node
        for r in agent.notified
        if (r.meta["notify_type"], r.meta["notify_operation"]) == ("post", "promote")
    }
    assert post == {"b", "c"}
    ops = _history(sim, "b", "db")
    assert ops["db_last_0"]["operation"] == "promote"
    # the Unpromoted monitor was cancelled with the role change, the Promoted one runs
    assert "db_monitor_7000" not in ops and ops["db_monitor_5000"]["rc-code"] == 8
    assert not any(m.action.interval_ms == 7000 for m in sim.states["b"].monitors.values())


def test_a_probe_that_finds_a_promoted_instance_records_rc_8_and_it_stays_promoted() -> None:
    agent = Stateful(roles={("a", "db"): "promoted", ("b", "db"): "unpromoted"})
    sim = Sim(NODES, agent=agent)
    sim.configure(promotable_config())
    sim.settle()
    assert agent.promoted() == {"a"}
    # adopted in its role: a is neither started nor promoted again, b not restarted
    assert not any(
        n in ("a", "b") and r == "db" and t in ("start", "stop", "promote", "demote")
        for n, r, t, _ in sim.ops
    )
    ops = _history(sim, "a", "db")
    assert ops["db_monitor_5000"]["rc-code"] == 8
    assert ops["db_last_0"]["operation"] == "monitor" and ops["db_last_0"]["rc-code"] == 8
    assert sim.started()["vip"] == "a"


def test_a_cluster_attribute_is_one_document_per_name_outside_any_node() -> None:
    sim = Sim(NODES, agent=Stateful())
    sim.configure(promotable_config())
    sim.settle()
    sim.inbox["b"].append(AttributeChanged("redis_REPL_INFO", "b", cluster=True))
    orders = sim.step("b")
    key = StatusKey(records.CLUSTER, StatusKind.ATTRIBUTES, "redis_REPL_INFO")
    writes = [o for o in orders if isinstance(o, WriteStatus)]
    assert [dict(w.changes) for w in writes] == [{key: {"value": "b", "by": "b"}}]
    sim.settle()
    assert machine.cluster_attributes(sim.states["c"]) == {"redis_REPL_INFO": "b"}
    assert sim.states["a"].dirty is None  # nothing to schedule for it
    cib = machine.current_cib(sim.states["a"])
    assert cib is not None
    assert sorted(n.uname for n in cib.status.nodes) == list(NODES)  # not a node
    sim.inbox["c"].append(AttributeChanged("redis_REPL_INFO", None, cluster=True))
    sim.settle()
    assert machine.cluster_attributes(sim.states["a"]) == {}
