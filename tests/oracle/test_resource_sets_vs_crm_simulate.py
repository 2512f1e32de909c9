"""Resource sets and tags against crm_simulate: who follows whom, who waits for whom.

Each case makes one resource unable to run (banned from every node) or pushes it off a
node, and asks which others stop or move with it: that shows the direction of every
colocation a set makes, sequential or not, positive or negative, and across two sets.
"""

from __future__ import annotations

import itertools

import pytest

from . import crm
from .compare import compare_with_crm_simulate

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(not crm.available(), reason="needs crm_simulate (pacemaker-cli-utils)"),
]

NOW = 1_700_000_000


def _cib(resources: list[str], constraints: str, nodes: int, extra: str = "") -> str:
    prims = "".join(
        f'<primitive id="{r}" class="ocf" provider="pacemaker" type="Dummy"/>' for r in resources
    )
    node_xml = "".join(f'<node id="{i}" uname="node{i}"/>' for i in range(1, nodes + 1))
    states = "".join(
        f'<node_state id="{i}" uname="node{i}" in_ccm="true" crmd="online" join="member" '
        f'expected="member"/>'
        for i in range(1, nodes + 1)
    )
    return (
        f'<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1" '
        f'num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1" execution-date="{NOW}">'
        f'<configuration><crm_config><cluster_property_set id="o">'
        f'<nvpair id="o-s" name="stonith-enabled" value="false"/>'
        f"</cluster_property_set></crm_config><nodes>{node_xml}</nodes>"
        f"<resources>{prims}</resources>{extra}<constraints>{constraints}</constraints>"
        f"</configuration><status>{states}</status></cib>"
    )


def _set(set_id: str, sequential: bool, members: list[str], role: str = "") -> str:
    refs = "".join(f'<resource_ref id="{m}"/>' for m in members)
    role_attr = f' role="{role}"' if role else ""
    return (
        f'<resource_set id="{set_id}" sequential="{"true" if sequential else "false"}"'
        f"{role_attr}>{refs}</resource_set>"
    )


def _ban(rsc: str, nodes: int) -> str:
    return "".join(
        f'<rsc_location id="ban-{rsc}-{i}" rsc="{rsc}" node="node{i}" score="-INFINITY"/>'
        for i in range(1, nodes + 1)
    )


TWO_SETS = list(itertools.product([True, False], [True, False], ["a1", "a2", "b1", "b2"]))


@pytest.mark.parametrize(
    ("first_sequential", "second_sequential", "unrunnable"),
    TWO_SETS,
    ids=[f"{'s' if a else 'n'}{'s' if b else 'n'}-{r}" for a, b, r in TWO_SETS],
)
def test_two_sets_the_earlier_set_follows_the_later(
    first_sequential: bool, second_sequential: bool, unrunnable: str
) -> None:
    constraint = (
        '<rsc_colocation id="c" score="INFINITY">'
        + _set("s1", first_sequential, ["a1", "a2"])
        + _set("s2", second_sequential, ["b1", "b2"])
        + "</rsc_colocation>"
        + _ban(unrunnable, 2)
    )
    compare_with_crm_simulate(_cib(["a1", "a2", "b1", "b2"], constraint, 2))


ONE_SET = list(itertools.product([True, False], ["-INFINITY", "-50", "INFINITY"], [2, 3]))


@pytest.mark.parametrize(
    ("sequential", "score", "nodes"),
    ONE_SET,
    ids=[f"{'seq' if s else 'nonseq'}-{sc}-{n}n" for s, sc, n in ONE_SET],
)
def test_one_set_sequential_chains_and_negative_keeps_every_pair_apart(
    sequential: bool, score: str, nodes: int
) -> None:
    constraint = (
        f'<rsc_colocation id="c" score="{score}">'
        + _set("s1", sequential, ["a1", "a2", "a3"])
        + "</rsc_colocation>"
        + '<rsc_location id="push" rsc="a1" node="node1" score="-INFINITY"/>'
    )
    compare_with_crm_simulate(_cib(["a1", "a2", "a3"], constraint, nodes))


def test_set_roles_reach_the_colocation_between_sets() -> None:
    constraint = (
        '<rsc_colocation id="c" score="INFINITY">'
        + _set("s1", True, ["a1", "a2"], "Started")
        + _set("s2", False, ["b1", "b2"], "Started")
        + "</rsc_colocation>"
        + _ban("b2", 2)
    )
    compare_with_crm_simulate(_cib(["a1", "a2", "b1", "b2"], constraint, 2))


TAGS = (
    '<tags><tag id="tag-a"><obj_ref id="a1"/><obj_ref id="a2"/></tag>'
    '<tag id="tag-b"><obj_ref id="b1"/><obj_ref id="b2"/></tag></tags>'
)


@pytest.mark.parametrize(
    ("dependent", "primary"),
    [("tag-a", "b1"), ("a1", "tag-b"), ("tag-a", "tag-b")],
    ids=["tag-with-rsc", "rsc-with-tag", "tag-with-tag"],
)
def test_a_tag_in_a_colocation(dependent: str, primary: str) -> None:
    constraint = f'<rsc_colocation id="c" rsc="{dependent}" with-rsc="{primary}" score="INFINITY"/>'
    compare_with_crm_simulate(_cib(["a1", "a2", "b1", "b2"], constraint, 2, TAGS))


ONE_OR_MORE = list(itertools.product(["", "a1", "a1 a2"], ["Mandatory", "Optional"], [True, False]))


@pytest.mark.parametrize(
    ("unrunnable", "kind", "symmetrical"),
    ONE_OR_MORE,
    ids=[
        f"{u.replace(' ', '+') or 'none'}-{k}-{'sym' if s else 'asym'}" for u, k, s in ONE_OR_MORE
    ],
)
def test_an_ordering_set_with_require_all_false_needs_any_one_member(
    unrunnable: str, kind: str, symmetrical: bool
) -> None:
    """b1 and b2 start once a1 or a2 can; with neither they are blocked."""
    constraint = (
        f'<rsc_order id="ord" kind="{kind}" symmetrical="{"true" if symmetrical else "false"}">'
        '<resource_set id="any-a" sequential="false" require-all="false">'
        '<resource_ref id="a1"/><resource_ref id="a2"/></resource_set>'
        + _set("then-b", True, ["b1", "b2"])
        + "</rsc_order>"
        + "".join(_ban(r, 2) for r in unrunnable.split())
    )
    compare_with_crm_simulate(_cib(["a1", "a2", "b1", "b2"], constraint, 2))
