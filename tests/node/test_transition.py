"""Publishing fencing: which device, which node runs it, what it waits for."""

from __future__ import annotations

from pathlib import Path

from hakeeper.cib.parse import parse_cib_text
from hakeeper.node.transition import Action, Transition, build_transition
from hakeeper.scheduler.schedule import PlannedAction, schedule

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "examples"

CONFIG = (
    '<cib><configuration><crm_config><cluster_property_set id="o">'
    '<nvpair id="o1" name="stonith-action" value="poweroff"/></cluster_property_set>'
    "</crm_config><nodes/><resources>"
    '<primitive id="f-ab" class="stonith" type="fence_hakeeper_lab"><instance_attributes '
    'id="f-ab-i"><nvpair id="f-ab-l" name="pcmk_host_list" value="a b"/>'
    "</instance_attributes></primitive>"
    '<primitive id="f-c" class="stonith" type="fence_ipmilan"><instance_attributes '
    'id="f-c-i"><nvpair id="f-c-l" name="pcmk_host_list" value="c"/>'
    '<nvpair id="f-c-p" name="ip" value="10.0.0.9"/></instance_attributes></primitive>'
    '<primitive id="d1" class="ocf" provider="heartbeat" type="Dummy"/>'
    "</resources><constraints/></configuration><status/></cib>"
)


def fence(ident: int, target: str) -> PlannedAction:
    return PlannedAction(
        ident,
        "stonith",
        None,
        target,
        0,
        False,
        True,
        False,
        "peer is no longer part of the cluster",
    )


def test_fencing_goes_to_the_device_for_the_target_and_never_to_the_target() -> None:
    config = parse_cib_text(CONFIG).configuration
    start = PlannedAction(3, "start", "d1", "a", 0, False, True, False, None, after=(1, 2))
    graph = build_transition(
        "a-1", 1, [fence(1, "c"), fence(2, "a"), start], config, "a", ["a", "b"]
    )
    by_id = {a.id: a for a in graph.actions}
    assert (by_id[1].resource, by_id[1].node, by_id[1].target) == ("f-c", "a", "c")
    assert dict(by_id[1].params) == {"pcmk_host_list": "c", "ip": "10.0.0.9", "action": "off"}
    assert (by_id[2].resource, by_id[2].node, by_id[2].target) == ("f-ab", "b", "a")
    assert by_id[3].after == (1, 2)  # the recovery waits for both fencings


def test_without_a_device_for_the_target_the_fencing_says_so() -> None:
    config = parse_cib_text(CONFIG).configuration
    graph = build_transition("a-1", 1, [fence(1, "z")], config, "a", ["a", "b"])
    assert graph.actions[0].resource == "" and "no fence device" in (graph.actions[0].reason or "")


def test_a_guest_nodes_fencing_is_pseudo_and_runs_no_device() -> None:
    # the host c is fenced (1); the guest g living in a container on c is "fenced" by that
    # (2, pseudo, as the scheduler plans it); the recovery (3) waits for the host's fencing
    config = parse_cib_text(CONFIG).configuration
    guest = PlannedAction(
        2, "stonith", None, "g", 0, False, True, True, "guest is unclean", after=(1,)
    )
    start = PlannedAction(3, "start", "d1", "a", 0, False, True, False, None, after=(2,))
    graph = build_transition("a-1", 1, [fence(1, "c"), guest, start], config, "a", ["a", "b"])
    assert [(a.id, a.task, a.target) for a in graph.actions] == [
        (1, "stonith", "c"),
        (3, "start", None),
    ]
    assert graph.actions[1].after == (1,)


def test_a_lost_controller_of_the_seeds_cluster_fences_only_the_controller() -> None:
    """The seeds' converged cluster (a CIB Pacemaker wrote) with controller-0 lost: the
    scheduler fences controller-0 and, as pseudo actions, the guest nodes of the bundle
    replicas it hosted; the published transition fences controller-0 alone."""
    text = (SEEDS / "pacemaker-outputs" / "converged.cib.xml").read_text()
    lost = text.replace(
        '<node_state id="1" uname="controller-0" in_ccm="true" crmd="online"',
        '<node_state id="1" uname="controller-0" in_ccm="false" crmd="offline"',
    )
    # fencing enabled, with a device (the seeds' converged CIB runs without either)
    lost = lost.replace(
        'name="stonith-enabled" value="false"', 'name="stonith-enabled" value="true"'
    ).replace(
        "</resources>",
        '<primitive id="fence-all" class="stonith" type="fence_ipmilan"/></resources>',
    )
    assert lost.count('controller-0" in_ccm="false"') == 1 and "fence-all" in lost
    cib = parse_cib_text(lost)
    plan = schedule(cib)
    guests = [a for a in plan.actions if a.task == "stonith" and a.node != "controller-0"]
    assert guests and all(a.pseudo for a in guests)  # the harness: guests are fenced too
    graph = build_transition(
        "c1-1", 1, plan.actions, cib.configuration, "controller-1", ["controller-1", "controller-2"]
    )
    assert [a.target for a in graph.actions if a.task == "stonith"] == ["controller-0"]


def test_a_graph_says_which_actions_wait_for_one_another_in_a_circle() -> None:
    def act(ident: int, *after: int) -> Action:
        return Action(ident, "start", f"r{ident}", "n1", 0, after, 0, ("ocf", "x", "y"), (), 1, "")

    line = Transition("u", 1, (act(0), act(1, 0), act(2, 0, 1), act(3, 9)))
    assert line.loop() == ()  # 9: not in this graph (another node's, done)
    assert Transition("u", 1, (act(0, 0),)).loop() == (0,)
    circle = Transition("u", 1, (act(0), act(1, 0, 3), act(2, 1), act(3, 2), act(4, 3)))
    assert circle.loop() == (1, 3, 2)
