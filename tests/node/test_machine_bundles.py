"""Bundles in the node state machine (no I/O: tests/node/sim.py): the host node runs a
replica's container, its connection and, inside the container, the inner instance, whose
history is the host's document RSC@GUEST; a converged bundle cluster schedules nothing."""

from __future__ import annotations

from hakeeper.coord.model import StatusKey, StatusKind
from hakeeper.node import machine, records
from hakeeper.node.events import ProcessExited
from hakeeper.node.transition import Transition
from hakeeper.scheduler.schedule import schedule

from .sim import Sim, dummy_config

NODES = ("n1", "n2", "n3")
BUNDLE = (
    '<bundle id="b"><podman image="localhost/b:1" replicas="3" network="host" '
    'run-command="/bin/sleep infinity"/><network control-port="3125"/>'
    '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><operations>'
    '<op id="d-m" name="monitor" interval="10s" timeout="20s"/></operations></primitive>'
    "</bundle>"
)


def converged() -> Sim:
    sim = Sim(NODES)
    sim.configure(dummy_config(extra=BUNDLE))
    sim.settle()
    return sim


def last_graph(sim: Sim) -> Transition:
    assert sim.leader is not None
    doc = sim.docs[StatusKey(sim.leader, StatusKind.ATTRIBUTES, machine.TRANSITION)]
    return Transition.from_doc(doc)  # type: ignore[arg-type]


def test_each_host_runs_its_container_connection_and_inner_instance() -> None:
    sim = converged()
    started = {(n, r) for n, r, task, _ in sim.ops if task == "start"}
    hosts = {n for n, r in started if r.startswith("b-podman-")}
    assert hosts == set(NODES)
    for i in range(3):
        host = next(n for n, r in started if r == f"b-podman-{i}")
        assert (host, f"b-{i}") in started  # the connection, by the same node
        assert (host, "d") in started  # the inner instance, by the same node
    # the inner agent was told its guest node, and ran on the container's host
    assert {("b-0", "d"), ("b-1", "d"), ("b-2", "d")} <= sim.active


def test_a_converged_bundle_cluster_schedules_nothing() -> None:
    sim = converged()
    assert last_graph(sim).actions == ()
    state = sim.states[NODES[0]]
    cib = machine.current_cib(state)
    assert cib is not None
    assert [a for a in schedule(cib).actions if not a.optional and not a.pseudo] == []
    guests = {s.uname for s in cib.status.nodes if s.remote_node}
    assert guests == {"b-0", "b-1", "b-2"}
    for s in cib.status.nodes:
        if s.remote_node:
            assert [r.id for r in s.resources] == ["d"]


def test_inner_history_is_kept_by_the_host_and_fencing_it_clears_its_guests() -> None:
    sim = converged()
    hosts = records.guest_hosts(sim.docs, NODES)  # type: ignore[arg-type]
    assert sorted(hosts) == ["b-0", "b-1", "b-2"]
    host = hosts["b-0"]
    assert StatusKey(host, StatusKind.OP_HISTORY, "d@b-0") in sim.docs
    lost = [k for k in sim.docs if k.node == host]
    for key in lost:
        sim._store(key, None)
    assert records.guest_hosts(sim.docs, NODES).get("b-0") is None  # type: ignore[arg-type]


def test_a_dead_replica_container_is_recovered_in_one_graph() -> None:
    """The guest's fencing comes after its container's stop, and it implies the stop of the
    bundle's inner clone, as Pacemaker orders it: not the stop of the bundle itself, which
    comes before the containers' stops (that made the container's stop wait for itself, so
    the recovery stalled until the inner monitor failed too)."""
    sim = converged()
    host = records.guest_hosts(sim.docs, NODES)["b-0"]  # type: ignore[arg-type]
    before = len(sim.said)
    sim.active.discard((host, "b-podman-0"))
    sim.inbox[host].append(ProcessExited("b-podman-0"))
    sim.settle()
    graph = last_graph(sim)
    assert all(a.id not in a.after for a in graph.actions)
    restarted = [(n, r, t) for n, r, t, _ in sim.ops if r == "b-podman-0" and t == "start"]
    assert restarted == [(host, "b-podman-0", "start")] * 2  # at first, then recovered
    assert (host, "b-podman-0") in sim.active
    # recovered without a failure of the inner instance's monitor to abort the graph
    said = sim.said[before:]
    assert not any("monitor of d@b-0 returned" in s for s in said), said
    assert f"{host}: running start d@b-0 on {host} (action 23 of graph 3)" in said
