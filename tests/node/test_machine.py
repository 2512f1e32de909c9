"""The node state machine on plain data: no store, no agents, no clock."""

from __future__ import annotations

from dataclasses import replace

from hakeeper.agents.request import OpRequest
from hakeeper.coord.model import StatusKey, StatusKind
from hakeeper.node import machine, records
from hakeeper.node.events import (
    AttributeChanged,
    CancelOp,
    LeaseLost,
    OpCompleted,
    RunOp,
    Say,
    StoreReread,
    Ticked,
    WriteFailed,
    WriteStatus,
)

from .sim import Sim, dummy_config

ORDERED = (
    '<rsc_location id="l1" rsc="d1" node="a" score="INFINITY"/>'
    '<rsc_location id="l2" rsc="d2" node="b" score="INFINITY"/>'
    '<rsc_order id="o1" first="d1" then="d2" kind="Mandatory"/>'
)


def test_vacant_leadership_is_campaigned_for_and_the_leader_settles_the_cluster() -> None:
    sim = Sim(("a", "b"))
    sim.settle()
    assert sim.leader == "a"
    sim.configure(dummy_config("d1", "d2"))
    sim.settle()
    assert sim.started() == {"d1": "a", "d2": "b"}
    # each resource probed on both nodes (configured after they joined), started once,
    # then its monitor: nothing restarted after the results
    assert sorted(sim.ops) == [
        ("a", "d1", "monitor", 0),
        ("a", "d1", "monitor", 10000),
        ("a", "d1", "start", 0),
        ("a", "d2", "monitor", 0),
        ("b", "d1", "monitor", 0),
        ("b", "d2", "monitor", 0),
        ("b", "d2", "monitor", 10000),
        ("b", "d2", "start", 0),
    ]
    assert any("the cluster is settled (graph 1 is complete)" in s for s in sim.said)


def test_results_are_op_history_records_with_the_expected_rc() -> None:
    sim = Sim(("a",))
    sim.configure(dummy_config("d1"))
    sim.settle()
    doc = sim.states["a"].docs[StatusKey("a", StatusKind.OP_HISTORY, "d1")]
    assert doc["agent"] == ["ocf", "heartbeat", "Dummy"]
    start, monitor = doc["ops"]["d1_last_0"], doc["ops"]["d1_monitor_10000"]
    assert (start["operation"], start["rc-code"], start["op-status"], start["interval"]) == (
        "start",
        0,
        0,
        0,
    )
    assert start["transition-key"].split(":")[1:3] == ["1", "0"]  # graph 1, expects rc 0
    assert monitor["interval"] == 10000 and monitor["call-id"] > start["call-id"]
    assert start["op-digest"] and start["last-rc-change"] == int(sim.now)


def test_op_history_times_are_when_the_operation_began() -> None:
    """As Pacemaker's executor records them: a one-shot operation's last-run and
    last-rc-change are when the run began, not when its result came; a recurring monitor
    has no last-run, and its last-rc-change is when its changed result came."""
    sim = Sim(("a",), now=1_000_000.0, duration_ms=3_000)
    sim.configure(dummy_config("d1"))
    sim.settle()
    ops = sim.states["a"].docs[StatusKey("a", StatusKind.OP_HISTORY, "d1")]["ops"]
    start, monitor = ops["d1_last_0"], ops["d1_monitor_10000"]
    assert (start["exec-time"], start["last-run"], start["last-rc-change"]) == (
        3_000,
        int(sim.now) - 3,
        int(sim.now) - 3,
    )
    assert "last-run" not in monitor and monitor["last-rc-change"] == int(sim.now)


def test_an_action_waits_for_what_it_follows_on_its_own_node() -> None:
    sim = Sim(("a",))
    sim.configure(dummy_config("d1"))
    sim.step("a")  # probe d1 and campaign
    assert [(r.request.action, r.request.interval_ms) for r in sim.runs["a"]] == [("monitor", 0)]
    sim.finish_runs("a")
    sim.step("a")  # elected, probes done: publish, run the start only
    assert [(r.request.action, r.request.interval_ms) for r in sim.runs["a"]] == [("start", 0)]


def test_an_action_waits_for_an_action_of_another_node() -> None:
    sim = Sim(("a", "b"))
    sim.settle()
    sim.configure(dummy_config("d1", "d2", constraints=ORDERED))
    sim.probe_new()  # each node probes the resources configured since it joined
    sim.step("a")  # the leader publishes and starts d1
    assert [r.request.resource for r in sim.runs["a"]] == ["d1"]
    sim.step("b")
    assert sim.runs["b"] == []  # d2 waits for d1's start on a
    sim.finish_runs("a")
    sim.step("a")  # records d1's start: progress goes out
    sim.step("b")
    assert [(r.request.resource, r.request.action) for r in sim.runs["b"]] == [("d2", "start")]
    sim.settle()
    assert sim.started() == {"d1": "a", "d2": "b"}


def test_an_unchanged_monitor_result_is_not_written_again() -> None:
    sim = Sim(("a",))
    sim.configure(dummy_config("d1"))
    sim.settle()
    sim.now += 10
    state, orders = machine.handle(sim.states["a"], Ticked(sim.now))
    runs = [o for o in orders if isinstance(o, RunOp)]
    assert [(r.request.action, r.request.interval_ms) for r in runs] == [("monitor", 10000)]
    state, orders = machine.handle(state, Ticked(sim.now), OpCompleted(runs[0].run_id, 0, 0))
    assert not [o for o in orders if isinstance(o, WriteStatus)]


def test_a_failed_monitor_is_recorded_and_the_resource_recovered() -> None:
    failing = {"on": False}

    def agent(request: OpRequest) -> int:
        if failing["on"] and request.action == "monitor" and request.resource == "d1":
            failing["on"] = False  # fails once; the restart brings it back
            return 7
        return sim.dummy(request)

    sim = Sim(("a", "b"))
    sim.agent = agent
    sim.configure(dummy_config("d1", "d2"))
    sim.settle()
    sim.ops.clear()
    failing["on"] = True
    sim.now += 10
    sim.settle()
    assert ("a", "d1", "stop", 0) in sim.ops and ("a", "d1", "start", 0) in sim.ops
    doc = sim.states["a"].docs[StatusKey("a", StatusKind.OP_HISTORY, "d1")]
    assert doc["ops"]["d1_last_failure_0"]["rc-code"] == 7
    assert any("monitor of d1 returned rc 7 (not running) after rc 0" in s for s in sim.said)
    assert any("publishing graph" in s and "returned rc 7" in s for s in sim.said)


def test_the_resources_of_a_lost_node_start_on_a_survivor() -> None:
    sim = Sim(("a", "b", "c"))
    sim.configure(dummy_config("d1", "d2"))
    sim.settle()
    lost = sim.started()["d2"]
    assert lost != sim.leader
    sim.lose(lost)
    sim.settle()
    assert set(sim.started()) == {"d1", "d2"} and lost not in sim.started().values()
    assert any(f"node {lost} left" in s for s in sim.said)


def test_a_new_leader_takes_over_when_the_leader_is_lost() -> None:
    sim = Sim(("a", "b", "c"))
    sim.configure(dummy_config("d1", "d2"))
    sim.settle()
    sim.lose("a")
    sim.settle()
    assert sim.leader in ("b", "c")
    assert set(sim.started()) == {"d1", "d2"}
    assert any("elected leader" in s and s.startswith(sim.leader) for s in sim.said)


def test_a_node_that_loses_its_lease_stops_what_it_started() -> None:
    sim = Sim(("a",))
    sim.configure(dummy_config("d1", "d2"))
    sim.settle()
    state, orders = machine.handle(sim.states["a"], LeaseLost())
    stops = sorted((o.request.resource, o.request.action) for o in orders if isinstance(o, RunOp))
    assert stops == [("d1", "stop"), ("d2", "stop")]
    assert not state.member and not state.monitors


def test_a_config_change_aborts_a_graph_in_flight() -> None:
    sim = Sim(("a", "b"))
    sim.settle()
    sim.configure(dummy_config("d1", "d2", constraints=ORDERED))
    sim.probe_new()
    sim.step("a")  # graph 1 runs d1's start on a
    sim.configure(dummy_config("d1"))
    sim.step("a")
    assert any("aborting graph 1 because the configuration changed" in s for s in sim.said)
    sim.step("b")
    sim.finish_runs("a")
    sim.settle()
    assert sim.started() == {"d1": "a"}
    assert ("b", "d2", "start", 0) not in sim.ops


def fencing_config(*resources: str, meta: str = "") -> str:
    return dummy_config(
        *resources, extra=('<primitive id="fence-lab" class="stonith" type="fence_hakeeper_lab"/>')
    ).replace('name="stonith-enabled" value="false"', 'name="stonith-enabled" value="true"')


def test_a_restarted_daemon_probes_and_adopts_what_runs_without_restarting_it() -> None:
    sim = Sim(("a", "b"))
    sim.configure(dummy_config("d1", "d2"))
    sim.settle()
    placed = sim.started()
    sim.ops.clear()
    sim.restart(placed["d1"])
    sim.settle()
    node = placed["d1"]
    assert (node, "d1", "monitor", 0) in sim.ops  # probed
    assert (node, "d1", "monitor", 10000) in sim.ops  # its recurring monitor runs again
    assert not [op for op in sim.ops if op[2] in ("start", "stop")], sim.ops
    assert any("probe found d1 running (rc 0 (ok)): adopting it" in s for s in sim.said)
    doc = sim.docs[StatusKey(node, StatusKind.OP_HISTORY, "d1")]
    assert doc["ops"]["d1_last_0"]["operation"] == "monitor"  # type: ignore[index]


def test_the_leader_waits_for_a_joining_nodes_probes() -> None:
    sim = Sim(("a", "b"))
    sim.configure(dummy_config("d1"))
    sim.step("a")  # probes d1, campaigns
    sim.step("b")  # probes d1
    sim.finish_runs("a")
    sim.step("a")  # a's probes are done; b's are not: nothing is scheduled
    assert any("not scheduling until b probed what runs there" in s for s in sim.said)
    assert not any("publishing graph" in s for s in sim.said)
    sim.settle()
    assert len(sim.started()) == 1


def test_a_lost_node_is_fenced_before_its_resources_start_elsewhere() -> None:
    sim = Sim(("a", "b", "c"))
    sim.configure(fencing_config("d1", "d2"))
    sim.settle()
    # a fence device is not among them: Pacemaker starts it on a survivor without waiting
    # for the fencing (crm_simulate: its stop is a pseudo-op with no input)
    lost = next(n for r, n in sim.started().items() if n != sim.leader and r != "fence-lab")
    moved = [r for r, n in sim.started().items() if n == lost and r != "fence-lab"]
    assert moved
    sim.ops.clear()
    sim.lose(lost)
    sim.settle()
    assert sim.fenced == [lost]
    fence = next(
        i for i, op in enumerate(sim.ops) if op[1] == "fence-lab" and op[2] in ("reboot", "off")
    )
    assert sim.ops[fence][0] == sim.leader
    for rsc in moved:
        start = next(i for i, op in enumerate(sim.ops) if op[1:3] == (rsc, "start"))
        assert fence < start, sim.ops
    assert lost not in sim.started().values() and set(moved) <= set(sim.started())
    assert not [k for k in sim.docs if k.node == lost]  # its status went with it
    assert any(f"fenced {lost} with fence-lab" in s for s in sim.said)
    # the fencing history outlives the status it cleared; the leader ran the device
    history = records.fence_history(sim.docs)  # type: ignore[arg-type]
    assert [(r.target, r.status, r.delegate, r.origin, r.device) for r in history] == [
        (lost, "success", sim.leader, sim.leader, "fence-lab")
    ]
    assert history[0].action == "reboot" and history[0].completed == sim.now


def test_a_fencing_history_keeps_the_newest_events_first_and_no_more_than_its_limit() -> None:
    doc = None
    for when in range(records.FENCE_HISTORY_KEPT + 3):
        record = records.FenceRecord("reboot", "c", "success", "a", "a", "fence-lab", when)
        doc = records.with_fence_record(doc, record)
    key = records.fence_key("c")
    damaged = {"events": [{"action": "off"}]}  # no status, no time: skipped, not a crash
    history = records.fence_history({key: doc, records.fence_key("d"): damaged})
    assert [r.completed for r in history] == list(range(records.FENCE_HISTORY_KEPT + 2, 2, -1))


def test_without_fencing_a_lost_node_is_not_fenced() -> None:
    sim = Sim(("a", "b", "c"))
    sim.configure(dummy_config("d1", "d2"))
    sim.settle()
    lost = next(n for n in sim.started().values() if n != sim.leader)
    sim.lose(lost)
    sim.settle()
    assert sim.fenced == [] and lost not in sim.started().values()


def test_failures_count_and_migration_threshold_moves_the_resource() -> None:
    sim = Sim(("a", "b"))
    xml = dummy_config("d1").replace(
        "<operations>",
        '<meta_attributes id="d1-m"><nvpair id="d1-mt" '
        'name="migration-threshold" value="2"/></meta_attributes><operations>',
    )
    sim.configure(xml.replace("<cib>", '<cib crm_feature_set="3.16.2">'))
    sim.settle()
    first = sim.started()["d1"]
    for expected_count in (1, 2):
        sim.active.discard((first, "d1"))  # the service dies
        sim.now += 10
        sim.settle()
        fails = sim.docs[StatusKey(first, StatusKind.FAIL_COUNT, "d1")]
        assert fails["monitor_10000"]["count"] == expected_count  # type: ignore[index]
    assert sim.started()["d1"] != first  # two failures: banned from that node


def test_on_fail_stop_is_honoured_from_the_recorded_failure() -> None:
    sim = Sim(("a", "b"))
    sim.configure(
        dummy_config("d1").replace(
            'interval="10s" timeout="20s"/>', 'interval="10s" timeout="20s" on-fail="stop"/>'
        )
    )
    sim.settle()
    node = sim.started()["d1"]
    sim.ops.clear()
    sim.active.discard((node, "d1"))  # it dies
    sim.now += 10
    sim.settle()
    assert (node, "d1", "stop", 0) in sim.ops
    assert not [op for op in sim.ops if op[2] == "start"], sim.ops  # stopped, not recovered


def test_a_failed_start_counts_infinity_and_the_resource_starts_elsewhere() -> None:
    sim = Sim(("a", "b"))
    failing_on: set[str] = set()

    def agent(request: OpRequest) -> int:
        if request.action == "start" and request.node in failing_on:
            return 1
        return sim.dummy(request)

    sim.agent = agent
    sim.configure(dummy_config("d1").replace("<cib>", '<cib crm_feature_set="3.16.2">'))
    sim.step("a")
    sim.step("b")
    failing_on.add("a")
    failing_on.add("b")
    sim.settle()
    tried = [op[0] for op in sim.ops if op[2] == "start"]
    assert sorted(tried) == ["a", "b"]  # each node once: INFINITY bans it after one failure
    for node in ("a", "b"):
        fails = sim.docs[StatusKey(node, StatusKind.FAIL_COUNT, "d1")]
        assert fails["start_0"]["count"] == 1_000_000  # type: ignore[index]


def test_a_graph_without_results_is_given_up_after_its_timeout() -> None:
    sim = Sim(("a", "b"))
    sim.configure(
        dummy_config("d1", constraints='<rsc_location id="l" rsc="d1" node="b" score="100"/>')
    )
    for node in ("a", "b"):
        sim.step(node)
        sim.finish_runs(node)  # the probes
    sim.held.add("b")  # b's agent hangs: its start never returns
    sim.settle()
    assert any("publishing graph 1" in s and "start d1 on b" in s for s in sim.said)
    sim.now += 79  # start timeout 20 s (op default) + cluster-delay 60 s: not yet
    sim.settle()
    assert not any("made no progress" in s for s in sim.said)
    sim.now += 2
    sim.settle()
    assert any("aborting graph 1 because graph 1 made no progress for 80 s" in s for s in sim.said)
    assert any("giving up on the actions of graph 1" in s for s in sim.said)
    assert any("publishing graph 2" in s for s in sim.said)


def test_a_resource_configured_later_is_probed_everywhere_and_adopted_where_it_runs() -> None:
    sim = Sim(("a", "b", "c"))
    sim.configure(dummy_config("d1"))
    sim.settle()
    sim.active.add(("c", "d3"))  # started by hand on c while the cluster runs
    sim.ops.clear()
    sim.configure(dummy_config("d1", "d3"))
    sim.settle()
    assert sorted(op for op in sim.ops if op[1] == "d3") == [
        ("a", "d3", "monitor", 0),
        ("b", "d3", "monitor", 0),
        ("c", "d3", "monitor", 0),
        ("c", "d3", "monitor", 10000),  # adopted where it runs: monitored, never started
    ]
    assert not any(task == "start" for _, _, task, _ in sim.ops)
    assert any("c: probe found d3 running" in s for s in sim.said)


def test_a_changed_agent_stops_with_the_old_one_and_probes_with_the_new_before_starting() -> None:
    sim = Sim(("a", "b"))
    calls: list[tuple[str, str, str, str]] = []

    def agent(request: OpRequest) -> int:
        recurring = "r" if request.interval_ms else ""
        calls.append((request.node, request.action, recurring, request.agent.provider or ""))
        return sim.dummy(request)

    sim.agent = agent
    on_a = '<rsc_location id="l1" rsc="d1" node="a" score="INFINITY"/>'
    sim.configure(dummy_config("d1", constraints=on_a))
    sim.settle()
    assert sim.started() == {"d1": "a"}
    calls.clear()
    xml = dummy_config("d1", constraints=on_a)
    sim.configure(xml.replace('provider="heartbeat"', 'provider="pacemaker"'))
    sim.settle()
    one_offs = [c for c in calls if c[2] == ""]
    # the old instance stopped by its own agent, then every node probes the new agent's
    # (b at once: its history is inactive; a once it stopped), then the start
    assert ("a", "stop", "", "heartbeat") in one_offs
    assert ("b", "monitor", "", "pacemaker") in one_offs
    a_calls = [c for c in one_offs if c[0] == "a"]
    assert a_calls == [
        ("a", "stop", "", "heartbeat"),
        ("a", "monitor", "", "pacemaker"),
        ("a", "start", "", "pacemaker"),
    ]
    doc = sim.states["b"].docs[StatusKey("a", StatusKind.OP_HISTORY, "d1")]
    assert doc["agent"] == ["ocf", "pacemaker", "Dummy"]


def test_documents_whose_write_failed_are_written_again_as_they_are_now() -> None:
    sim = Sim(("a",))
    sim.configure(dummy_config("d1"))
    sim.settle()
    key = StatusKey("a", StatusKind.OP_HISTORY, "d1")
    progress = StatusKey("a", StatusKind.ATTRIBUTES, machine.PROGRESS)
    state = sim.states["a"]
    state, orders = machine.handle(state, Ticked(sim.now), WriteFailed(frozenset({key, progress})))
    assert not [o for o in orders if isinstance(o, WriteStatus)]  # not at once: a pause first
    state, orders = machine.handle(state, Ticked(sim.now + machine.REWRITE_S))
    writes = [o for o in orders if isinstance(o, WriteStatus)]
    assert len(writes) == 1 and set(writes[0].changes) == {key, progress}
    assert writes[0].changes[key] == state.docs[key]
    assert not state.unwritten


def test_a_reread_store_brings_the_changes_the_watch_missed() -> None:
    sim = Sim(("a", "b"))
    sim.configure(dummy_config("d1", "d2"))
    sim.settle()
    state = sim.states["a"]
    mine = {k: v for k, v in state.docs.items() if k.node == "a"}
    # while the watch was down: b left (its history still there), d2 was deleted from
    # the configuration; a's own documents as the store has them
    theirs = {k: v for k, v in state.docs.items() if k.node == "b" and k.name != "progress"}
    reread = StoreReread(
        dummy_config("d1"), sim.revision + 5, {**mine, **theirs}, frozenset({"a"}), "a", 2
    )
    state, orders = machine.handle(state, Ticked(sim.now), reread)
    assert state.members == frozenset({"a"})
    assert state.config_xml == dummy_config("d1")
    assert StatusKey("b", StatusKind.ATTRIBUTES, "progress") not in state.docs
    said = [o.text for o in orders if isinstance(o, Say)]
    assert said[0] == "read the store again after its watch failed: 3 changes missed"
    assert any("publishing graph" in s for s in said)  # the leader schedules what it learnt


def test_a_fence_device_is_probed_on_every_node_from_its_registration_not_its_agent() -> None:
    # Pacemaker's executor answers a fence device's probe from its fencer: every node
    # records one (rc 7 where it is not started), and the device's agent is not run for it
    sim = Sim(("a", "b", "c"))
    sim.configure(fencing_config("d1"))
    sim.settle()
    where = sim.started()["fence-lab"]
    assert not [op for op in sim.ops if op[1:] == ("fence-lab", "monitor", 0)], sim.ops
    for node in ("a", "b", "c"):
        doc = sim.docs[StatusKey(node, StatusKind.OP_HISTORY, "fence-lab")]
        ops = doc["ops"]
        assert isinstance(ops, dict)
        probe = ops.get("fence-lab_monitor_0") or ops["fence-lab_last_0"]
        if node == where:
            assert ops["fence-lab_last_0"]["operation"] == "start"
        else:
            assert (probe["operation"], probe["rc-code"]) == ("monitor", 7), ops
    sim.ops.clear()
    sim.restart(where)  # a daemon that comes back: the device is not registered any more
    sim.settle()
    # its probe found it not running (no agent run for it), so the leader started it again
    assert [op for op in sim.ops if op[1] == "fence-lab"] == [(where, "fence-lab", "start", 0)]


def test_one_operation_at_a_time_per_resource_as_pacemakers_executor() -> None:
    """A stop waits for the recurring monitor in flight on its resource, whose answer
    (the stop cancelled it) counts for nothing; a monitor that falls due while another
    operation of its resource runs waits for it."""
    prefer_a = '<rsc_location id="l1" rsc="d1" node="a" score="100"/>'
    sim = Sim(("a", "b"))
    sim.configure(dummy_config("d1", constraints=prefer_a))
    sim.settle()
    assert sim.started() == {"d1": "a"}
    sim.now += 10
    sim.step("a")
    assert [(r.request.action, r.request.interval_ms) for r in sim.runs["a"]] == [
        ("monitor", 10000)
    ]
    monitor = sim.runs["a"][0]
    sim.configure(dummy_config("d1", constraints=prefer_a.replace('"100"', '"-INFINITY"')))
    orders = sim.step("a")  # the leader publishes: stop d1 here, start it on b
    assert [r.request.action for r in sim.runs["a"]] == ["monitor"], "the stop did not wait"
    # and the monitor is ended if the runner can (Pacemaker's executor kills it)
    assert [o for o in orders if isinstance(o, CancelOp)] == [CancelOp(monitor.run_id)]
    sim.runs["a"] = []
    sim.inbox["a"].append(OpCompleted(monitor.run_id, 1, 0))  # it failed, but was cancelled
    sim.step("a")
    assert [(r.request.action, r.request.interval_ms) for r in sim.runs["a"]] == [("stop", 0)]
    stop = sim.runs["a"][0]
    sim.now += 30  # the stop runs long: no monitor of d1 begins meanwhile
    sim.step("a")
    assert sim.runs["a"] == [stop]
    sim.settle()
    assert sim.started() == {"d1": "b"}
    assert not [s for s in sim.said if "fail count" in s], "a cancelled monitor counted"
    ops = sim.states["a"].docs[StatusKey("a", StatusKind.OP_HISTORY, "d1")]["ops"]
    assert ops["d1_last_0"]["operation"] == "stop" and "d1_last_failure_0" not in ops


def test_a_monitor_due_during_a_notify_waits_for_it() -> None:
    """Not only the actions that cancel a monitor: any operation of the resource (here a
    notification, which cancels nothing) holds its monitor back until it ends."""
    sim = Sim(("a",))
    sim.configure(dummy_config("d1"))
    sim.settle()
    sim.now += 10
    state = sim.states["a"]
    run = next(iter(state.monitors.values()))
    notify = replace(run.action, task="notify", interval_ms=0)
    held = machine.Run(notify, run.transition_key, ("g", 1))
    state = replace(state, running={"g:1:99": held})
    state, orders = machine.handle(state, Ticked(sim.now))
    assert not [o for o in orders if isinstance(o, RunOp)]
    state, orders = machine.handle(state, Ticked(sim.now), OpCompleted("g:1:99", 0, 0))
    assert [(o.request.action, o.request.interval_ms) for o in orders if isinstance(o, RunOp)] == [
        ("monitor", 10000)
    ]


def test_a_node_sets_another_nodes_attribute_which_that_node_applies_once() -> None:
    """As Pacemaker's attrd takes crm_attribute -N for any node (galera's promote gives
    every peer its promotion score): b's set reaches a's attributes through a, which
    alone writes them; b forgets it once a says it applied it."""
    sim = Sim(("a", "b"))
    sim.configure(dummy_config("d1"))
    sim.settle()
    set_on_a = StatusKey("b", StatusKind.ATTRIBUTES, machine.SET_ON + "a")
    applied = StatusKey("a", StatusKind.ATTRIBUTES, machine.APPLIED_SETS)
    mine = StatusKey("a", StatusKind.ATTRIBUTES, records.NODE_ATTRIBUTES)

    sim.inbox["b"].append(AttributeChanged("master-d1", "100", node="a"))
    writes = [o for o in sim.step("b") if isinstance(o, WriteStatus)]
    assert [dict(w.changes) for w in writes] == [
        {set_on_a: {"master-d1": {"value": "100", "seq": 1}}}
    ]
    sim.settle()
    assert sim.docs[mine] == {"master-d1": "100"}
    assert machine.node_attributes(sim.states["b"])["a"] == {"master-d1": "100"}
    assert sim.docs[applied] == {"b": 1}
    assert set_on_a not in sim.docs  # applied: forgotten by b
    assert "a: attribute master-d1 of this node set to 100 by b" in sim.said

    # a's own agent clears it; a's daemon restarts and reads the store: not applied again
    sim.inbox["a"].append(AttributeChanged("master-d1", None))
    sim.settle()
    sim.restart("a")
    sim.settle()
    assert "master-d1" not in sim.docs.get(mine, {})

    # b's daemon restarts too: its next set is still newer than what a applied
    sim.restart("b")
    sim.settle()
    sim.inbox["b"].append(AttributeChanged("master-d1", "5", node="a"))
    sim.inbox["b"].append(AttributeChanged("master-d1", None, node="a"))
    sim.inbox["b"].append(AttributeChanged("other", "x", node="a"))
    sim.settle()
    assert sim.docs[mine] == {"other": "x"}  # the delete came after the set
    assert sim.docs[applied] == {"b": 4}


def test_a_set_on_a_node_not_applied_before_it_left_is_void() -> None:
    sim = Sim(("a", "b", "c"))
    sim.configure(dummy_config("d1"))
    sim.settle()
    sim.inbox["b"].append(AttributeChanged("master-d1", "100", node="a"))
    sim.step("b")
    set_on_a = StatusKey("b", StatusKind.ATTRIBUTES, machine.SET_ON + "a")
    assert set_on_a in sim.docs
    sim.lose("a")  # before it read b's set
    sim.settle()
    assert set_on_a not in sim.docs
    # and a node that is not a member has no attributes to set
    sim.inbox["b"].append(AttributeChanged("master-d1", "100", node="a"))
    orders = sim.step("b")
    assert not [o for o in orders if isinstance(o, WriteStatus)]
    assert "b: not setting master-d1 of a: it is not a member of the cluster" in sim.said


def test_sets_on_another_node_survive_the_setters_restart_and_late_echoes() -> None:
    sim = Sim(("a", "b"))
    sim.configure(dummy_config("d1"))
    sim.settle()
    mine = StatusKey("a", StatusKind.ATTRIBUTES, records.NODE_ATTRIBUTES)
    set_on_a = StatusKey("b", StatusKind.ATTRIBUTES, machine.SET_ON + "a")
    # b's daemon restarts (resuming its lease) before a read its set: a still applies it
    sim.inbox["b"].append(AttributeChanged("x", "1", node="a"))
    sim.step("b")
    sim.restart("b")
    sim.step("b")  # reads the store: every member "joins" its fresh state
    assert set_on_a in sim.docs
    sim.settle()
    assert sim.docs[mine] == {"x": "1"}
    # b drops the sets a applied (a delete) and makes a new one before that delete's
    # echo comes back to it: the echo undoes nothing, and no seq is given out twice
    sim.inbox["b"].append(AttributeChanged("y", "2", node="a"))
    sim.step("b")
    sim.step("a")
    sim.step("b")  # a's acknowledgement: b deletes its document; the echo is queued
    assert set_on_a not in sim.docs
    echo, sim.inbox["b"] = sim.inbox["b"], []
    sim.inbox["b"] = [AttributeChanged("z", "3", node="a"), *echo]
    sim.step("b")
    assert sim.states["b"].docs.get(set_on_a) == sim.docs[set_on_a]
    sim.inbox["b"].append(AttributeChanged("w", "4", node="a"))
    sim.step("b")
    seqs = [e["seq"] for e in sim.docs[set_on_a].values()]  # type: ignore[union-attr]
    assert len(seqs) == len(set(seqs)) == 2
    sim.settle()
    assert sim.docs[mine] == {"x": "1", "y": "2", "z": "3", "w": "4"}
