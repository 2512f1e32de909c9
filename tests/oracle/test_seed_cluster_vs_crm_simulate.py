"""The seeds' TripleO controller cluster (shared/examples): hakeeper beside crm_simulate.

The CIB is the real shape of an OpenStack control plane: haproxy, galera (promotable, all
promoted), rabbitmq, redis (promotable, one promoted) and cinder-volume bundles, VIPs and
fence devices.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from . import crm
from .compare import HAKEEPER

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "examples"
CIBS = sorted(EXAMPLES.glob("openstack-controllers*.cib.xml"))

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(not crm.available(), reason="crm_simulate not installed"),
    pytest.mark.skipif(not CIBS, reason=f"no seed CIBs in {EXAMPLES}"),
]


def _section(text: str, start: str, end: str | None) -> str:
    body = text.split(start, 1)[1]
    return body.split(end, 1)[0] if end else body


def _both(path: Path, *args: str) -> tuple[str, str]:
    want = crm.crm_simulate(path, "-S", *args, timeout=120)
    assert want.ok, want.error()
    got = crm.run([HAKEEPER, "simulate", *args, str(path)], timeout=120)
    assert got.ok, got.error()
    return want.stdout, got.stdout


@pytest.mark.parametrize("cib", CIBS, ids=[p.name for p in CIBS])
def test_cold_start_plans_and_shows_what_pacemaker_does(cib: Path) -> None:
    want, got = _both(cib)
    # the same actions; reasons differ on one line (see the session notes):
    # "unrunnable galera-bundle promote" in Pacemaker, "... promoted" here
    assert crm.summary_set(got, reasons=False) == crm.summary_set(want, reasons=False)
    assert _section(got, "Current cluster status:", "Transition Summary:") == _section(
        want, "Current cluster status:", "Transition Summary:"
    )
    # bundle sets, GuestOnline, Promoted/Unpromoted replicas after the transition
    assert _section(got, "Revised Cluster Status:", None) == _section(
        want, "Revised Cluster Status:", None
    )


@pytest.mark.parametrize("cib", CIBS, ids=[p.name for p in CIBS])
def test_a_lost_controller_plans_what_pacemaker_does(cib: Path) -> None:
    with tempfile.TemporaryDirectory() as d:
        converged = Path(d) / "converged.xml"
        # start from the cluster crm_simulate itself converged, histories and digests included
        run = crm.crm_simulate(cib, "-S", "-O", str(converged), timeout=120)
        assert run.ok, run.error()
        want, got = _both(converged, "--node-fail", "controller-0")
    assert crm.summary_set(got, reasons=False) == crm.summary_set(want, reasons=False)
    assert crm.summary_set(want), "harness: losing controller-0 should change something"
