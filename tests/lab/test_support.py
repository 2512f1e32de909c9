"""What the daemon can run of each profile, asked of its own scheduler and transitions."""

from __future__ import annotations

from hakeeper.lab.plan import Profile, make_plan
from hakeeper.lab.support import daemon_gap


def test_the_daemon_runs_the_minimal_profile() -> None:
    assert daemon_gap(make_plan(3, profile=Profile.MINIMAL)) is None


def test_a_gap_in_the_openstack_profile_names_the_bundles_it_cannot_start() -> None:
    gap = daemon_gap(make_plan(3, profile=Profile.OPENSTACK))
    # None once bundles run in the daemon; until then it says which
    assert gap is None or ("bundles" in gap and "galera-bundle" in gap)
