"""hakeeper simulate against Pacemaker's crm_simulate -S on random small CIBs.

The transition summaries must be the same set of lines, reasons included, after folding
white space (as ../shared/tools/pcmk-agreement compares them). Widen FEATURES, never narrow
it, as the scheduler grows; a mismatch prints both outputs and the CIB.

Hypothesis does not shrink a failing example by default here: each try runs both programs,
and shrinking takes minutes. ORACLE_SHRINK=1 turns it on to get a minimal CIB;
HAKEEPER=PATH tests another build.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from . import crm
from .cibxml import Cluster
from .compare import compare_with_crm_simulate
from .strategies import ALL_FEATURES, EXTRA_FEATURES, clusters

FEATURES = ALL_FEATURES
PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
if os.environ.get("ORACLE_SHRINK") == "1":
    PHASES.append(Phase.shrink)

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(not crm.available(), reason="needs crm_simulate (pacemaker-cli-utils)"),
]


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=False,
    phases=PHASES,
)
@given(cluster=clusters(FEATURES))
def test_transition_summary_matches_crm_simulate(cluster: Cluster) -> None:
    compare_with_crm_simulate(cluster.render())


BUNDLE_FEATURES = (ALL_FEATURES - {"utilization", "allow-migrate", "tickets"}) | (
    EXTRA_FEATURES - {"remote"}
)


@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=False,
    phases=PHASES,
)
@given(cluster=clusters(BUNDLE_FEATURES))
def test_bundles_among_other_resources_match_crm_simulate(cluster: Cluster) -> None:
    compare_with_crm_simulate(cluster.render())
