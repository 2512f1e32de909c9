"""hakeeper simulate against crm_simulate -S on the TripleO scenarios (tests/oracle/scenarios)."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import crm
from .compare import compare_with_crm_simulate

SCENARIOS = sorted((Path(__file__).resolve().parent / "scenarios").glob("*.xml"))

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(not crm.available(), reason="needs crm_simulate (pacemaker-cli-utils)"),
]


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_matches_crm_simulate(path: Path) -> None:
    compare_with_crm_simulate(path.read_text())
