"""`--wait`: after an edit, wait until the cluster has settled on the new configuration.

Settled means, on one snapshot of the store: the configuration is at the edit's revision
or later, there is a leader, no node reports an action of the leader's graph in flight,
and scheduling that configuration against the recorded status needs no action at all
(nothing to probe, start, stop, promote, demote or fence). This reads the same store the
leader does and runs the same scheduler, so it does not depend on which graph the leader
published when: an edit that needs no action is settled at once; one that needs actions is
settled once their results are in the op history.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from hakeeper.commands.env import Env
from hakeeper.coord import ClusterSnapshot, StatusKind
from hakeeper.node.machine import PROGRESS
from hakeeper.node.records import cluster_cib
from hakeeper.node.transition import build_transition
from hakeeper.reports import CommandError, Report, codes
from hakeeper.scheduler.schedule import schedule

DEFAULT_WAIT_S = 60.0
WAIT_TIMEOUT_EXIT = 1  # the edit is in; the cluster did not settle in time


@dataclass(frozen=True, slots=True)
class WaitDto:
    revision: int
    waited_s: float


def pending(snap: ClusterSnapshot, revision: int, now: int) -> str | None:
    """Why the cluster has not settled on configuration `revision` yet; None if it has."""
    if snap.config is None or snap.config.revision < revision:
        return "the configuration is not stored yet"
    if snap.leader is None:
        return "there is no leader (are the node daemons running? `hakeeper cluster start`)"
    for key, doc in snap.status.documents.items():
        if key.kind is StatusKind.ATTRIBUTES and key.name == PROGRESS and doc.get("running"):
            return f"{key.node} is running actions of the leader's graph"
    cib = cluster_cib(snap.config.xml, snap.status.documents, snap.members, snap.leader.node)
    plan = schedule(cib, now)
    todo = build_transition("wait", 0, plan.actions, cib.configuration).actions
    if todo:
        first = todo[0]
        more = f" and {len(todo) - 1} more" if len(todo) > 1 else ""
        return f"{first.task} {first.resource} on {first.node}{more} still to do"
    return None


def wait_settled(
    env: Env,
    revision: int,
    timeout: float = DEFAULT_WAIT_S,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = 0.2,
) -> WaitDto:
    start = clock()
    with env.coordinator() as coord:
        while True:
            why = pending(coord.snapshot(), revision, int(time.time()))
            if why is None:
                return WaitDto(revision, clock() - start)
            if clock() - start >= timeout:
                raise CommandError(
                    Report.error(
                        codes.WAIT_TIMEOUT,
                        f"the cluster did not settle on configuration "
                        f"revision {revision} within {timeout:g} s: {why}",
                        where="--wait",
                        revision=revision,
                        reason=why,
                        hint="the change is stored; look at `hakeeper status`, or wait longer "
                        "with --wait=SECONDS",
                    ),
                    exit_code=WAIT_TIMEOUT_EXIT,
                )
            sleep(interval)
