"""The oracle's own harness: every CIB the generators write is one Pacemaker accepts.

If these fail, the comparison with crm_simulate means nothing; they must pass whatever state
the scheduler is in.
"""

from __future__ import annotations

import re
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from . import crm
from .cibxml import (
    Cluster,
    Group,
    History,
    Location,
    Node,
    NodeState,
    Op,
    Primitive,
    RscState,
)
from .strategies import ALL_FEATURES, clusters

pytestmark = pytest.mark.skipif(not crm.available(), reason="needs crm_simulate, crm_verify")

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


# stonith-enabled=false: crm_verify always warns, and rightly.
NO_FENCING = r"Blind faith: not fencing unseen nodes"
# What crm_verify says about the state a CIB describes rather than its configuration: the
# generators draw failed, lost and multiply-active resources on purpose.
STATE_DIAGNOSES = re.compile(
    "|".join(
        [
            r"Scheduling node \S+ for fencing",
            r"Cluster node \S+ will be fenced",
            r"(Remote|Guest) node \S+ will be fenced",
            r"\S+ is unclean",
            r"Unexpected result .* was recorded for",
            r"cannot run on \S+ due to reaching migration threshold",
            r"is unrunnable \(node is offline\)",
            r"might be active on \d+ nodes",
            r"Skipping action \S+_clear_failcount_0 .*unclean node",
            r"Chose \S+ for \S+ from \d+ nodes with score",
            r"(Warnings|Errors) found during check",
            r"-V may provide more details",
            NO_FENCING,
        ]
    )
)


def _check_accepted(cluster: Cluster) -> str:
    """Pacemaker accepts the CIB; return what crm_simulate -S prints for it.

    The configuration alone (all nodes online, no history) must pass crm_verify with nothing
    to say; on the whole CIB crm_verify may only diagnose the state, and crm_simulate -S must
    run and print a transition summary.
    """
    bare = replace(
        cluster,
        history=(),
        nodes=tuple(replace(n, state=NodeState.ONLINE) for n in cluster.nodes),
    )
    xml = cluster.render()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "cib.xml"
        path.write_text(bare.render())
        verify = crm.crm_verify(path, "-VV")
        noise = [ln for ln in verify.stderr.splitlines() if ln.strip() and NO_FENCING not in ln]
        assert verify.returncode in (0, 78) and not noise, (
            f"crm_verify rejects the configuration: {verify.stderr}\n{bare.render()}"
        )
        path.write_text(xml)
        verify = crm.crm_verify(path, "-VV")
        other = [
            line
            for line in verify.stderr.splitlines()
            if line.strip() and not STATE_DIAGNOSES.search(line)
        ]
        assert not verify.timed_out and not other, (
            "crm_verify finds more than the state's problems:\n" + "\n".join(other) + "\n" + xml
        )
        sim = crm.crm_simulate(path, "-S", timeout=60)
        # Pacemaker itself can plan a transition its simulated execution cannot finish (an
        # unmanaged group member blocks the group): the plan, which is what the oracle
        # compares, is still printed.
        assert sim.ok or (sim.returncode == 1 and crm.INVALID_TRANSITION in sim.stderr), (
            f"crm_simulate -S fails: {sim.error()}\n{sim.stdout}\n{sim.stderr}\n{xml}"
        )
        assert crm.transition_summary(sim.stdout) is not None, sim.stdout
        return sim.stdout


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=False,
)
@given(cluster=clusters(ALL_FEATURES))
def test_generated_cibs_are_valid(cluster: Cluster) -> None:
    _check_accepted(cluster)


@settings(max_examples=10, derandomize=True, deadline=None, print_blob=False)
@given(cluster=clusters(frozenset()))
def test_the_smallest_feature_set_is_valid(cluster: Cluster) -> None:
    _check_accepted(cluster)


def test_unknown_feature_is_refused() -> None:
    with pytest.raises(ValueError, match="clones"):
        clusters({"clones"})


def test_a_converged_cluster_needs_no_action() -> None:
    """Op digests as Pacemaker computes them: nothing restarts, no monitor is re-scheduled."""
    vip = Primitive(
        "vip", "ocf", "IPaddr2", "heartbeat", params=(("ip", "10.0.0.5"), ("cidr_netmask", "24"))
    )
    fence = Primitive(
        "fence-n1",
        "stonith",
        "fence_ipmilan",
        params=(("ip", "10.1.0.1"), ("pcmk_host_list", "n1"), ("username", "admin")),
        ops=(Op("monitor", 60, 30),),
    )
    group = Group(
        "g",
        (Primitive("a", "ocf", "Dummy", "pacemaker"), Primitive("b", "ocf", "Dummy", "heartbeat")),
    )
    nodes = (Node("n1", "1"), Node("n2", "2"))
    where = {"vip": "n1", "a": "n2", "b": "n2", "fence-n1": "n2"}
    history = tuple(
        History(n.name, rsc, RscState.RUNNING if where[rsc] == n.name else RscState.NOT_RUNNING)
        for n in nodes
        for rsc in where
    )
    cluster = Cluster(
        nodes,
        (vip, fence, group),
        (Location("fence-n1-not-on-n1", "fence-n1", -1_000_000, node="n1"),),
        history,
        properties=(("stonith-enabled", "true"),),
    )
    out = _check_accepted(cluster)
    assert crm.transition_summary(out) == []
    executed = out.split("Executing Cluster Transition:")[1].split("Revised Cluster Status:")[0]
    assert "action" not in executed, executed


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"unprobed": 0.3}, {"clones": 0.3}, {"stonith": False}],
    ids=["probed", "unprobed", "clones", "no-stonith"],
)
def test_benchmark_cibs_are_valid(kwargs: dict[str, object]) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import cibgen
    finally:
        sys.path.remove(str(BENCHMARKS))
    profile = cibgen.Profile(4, 40, seed=7, **kwargs)  # type: ignore[arg-type]
    cluster = cibgen.generate(profile)
    _check_accepted(cluster)
    assert cluster.render() == cibgen.generate(profile).render()
