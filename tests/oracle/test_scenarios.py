"""The TripleO scenario files: up to date with their script, and what their names say."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from . import crm

HERE = Path(__file__).resolve().parent / "scenarios"
NAMES = ["tripleo-converged", "tripleo-node-failure", "tripleo-failed-monitor", "tripleo-standby"]


def test_scenario_files_are_up_to_date() -> None:
    sys.path.insert(0, str(HERE))
    try:
        import make_scenarios
    finally:
        sys.path.remove(str(HERE))
    assert sorted(make_scenarios.SCENARIOS) == sorted(NAMES)
    assert make_scenarios.main(["--check"]) == 0


def _summary(name: str) -> frozenset[str]:
    got = crm.summary_set((HERE / f"{name}.summary").read_text())
    assert got is not None
    return got


def test_scenarios_show_what_their_names_say() -> None:
    assert _summary("tripleo-converged") == frozenset()
    assert _summary("tripleo-failed-monitor") == {
        "* Recover openstack-cinder-volume (controller-1)"
    }
    failure = _summary("tripleo-node-failure")
    assert "* Fence (reboot) controller-1 'peer is no longer part of the cluster'" in failure
    assert "* Move openstack-cinder-volume (controller-1 -> controller-2)" in failure
    standby = _summary("tripleo-standby")
    assert standby and all("( controller-0 ->" in ln or "(controller-0 ->" in ln for ln in standby)


@pytest.mark.skipif(not crm.available(), reason="needs crm_simulate (pacemaker-cli-utils)")
@pytest.mark.parametrize("name", NAMES)
def test_stored_summaries_are_crm_simulates(name: str) -> None:
    sim = crm.crm_simulate(HERE / f"{name}.xml", "-S")
    assert sim.ok, sim.error()
    assert crm.summary_set(sim.stdout) == _summary(name)
    verify = crm.crm_verify(HERE / f"{name}.xml", "-VV")
    assert verify.returncode in (0, 78), verify.stderr
