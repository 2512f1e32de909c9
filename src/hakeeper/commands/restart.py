"""`resource restart` (pcs resource restart): stop a resource everywhere, then start it.

It needs a running cluster (a leader) to mean anything, so it refuses without one and
writes nothing. The stop is target-role=Stopped; once the cluster has settled on that
(the leader's own scheduler run needs nothing more, the same test as --wait), the old
target-role is put back and the command waits for the cluster to settle again (the
start). Putting it back re-reads the configuration each time (a concurrent edit is not
overwritten: only a target-role still at our Stopped is reset) and retries on
CONFIG_CONFLICT, so a race never leaves the resource stopped behind the user's back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from hakeeper.cib import edit
from hakeeper.commands.cib_store import EditResult, edit_config, load
from hakeeper.commands.env import Env
from hakeeper.commands.wait import pending, wait_settled
from hakeeper.model.config import Configuration
from hakeeper.reports import CommandError, Report, codes

STOPPED = "Stopped"
RESTORE_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class RestartDto:
    resource: str
    stopped_after_s: float
    started_after_s: float


def resource_restart(
    env: Env,
    rsc_id: str,
    *,
    timeout: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> RestartDto:
    stored = load(env)
    rsc = edit.require_resource(stored.cib.configuration, rsc_id)
    before = edit.values_of(rsc.meta).get("target-role")
    _require_leader(env, stored.revision)
    start = clock()
    stop = edit_config(
        env, lambda config: (edit.set_meta(config, rsc_id, {"target-role": STOPPED}), ())
    )
    try:
        wait_settled(env, stop.revision, timeout, clock=clock, sleep=sleep)
    except CommandError as err:
        _restore_or_report(env, rsc_id, before, err)
        raise CommandError(
            Report.error(
                codes.WAIT_TIMEOUT,
                f"'{rsc_id}' did not stop within {timeout:g} s: "
                + str(err.reports[0].payload.get("reason", err)),
                where="resource restart",
                resource_id=rsc_id,
                hint="its target-role was put back; look at `hakeeper status`",
            ),
            exit_code=err.exit_code,
        ) from None
    stopped = clock() - start
    restored = _restore_or_report(env, rsc_id, before, None)
    remaining = max(timeout - stopped, 1.0)
    try:
        wait_settled(env, restored.revision, remaining, clock=clock, sleep=sleep)
    except CommandError as err:
        raise CommandError(
            Report.error(
                codes.WAIT_TIMEOUT,
                f"'{rsc_id}' stopped but the cluster did not settle on starting it again "
                f"within {remaining:g} s: " + str(err.reports[0].payload.get("reason", err)),
                where="resource restart",
                resource_id=rsc_id,
                hint="its target-role is back; look at `hakeeper status` for what it waits on",
            ),
            exit_code=err.exit_code,
        ) from None
    return RestartDto(rsc_id, stopped, clock() - start)


def _require_leader(env: Env, revision: int) -> None:
    with env.coordinator() as coord:
        snap = coord.snapshot()
    if snap.leader is None:
        why = pending(snap, revision, int(time.time()))
        raise CommandError(
            Report.error(
                codes.CLUSTER_NOT_RUNNING,
                f"cannot restart: {why}; nothing was changed",
                where="resource restart",
                hint="start the node daemons (`hakeeper cluster start --all`) first",
            )
        )


def _restore_or_report(
    env: Env, rsc_id: str, before: str | None, original: CommandError | None
) -> EditResult:
    """Put target-role back; on failure, an error naming the first failure too."""
    try:
        return restore_target_role(env, rsc_id, before)
    except CommandError as err:
        first = f" after: {original.reports[0].message}" if original is not None else ""
        raise CommandError(
            (
                Report.error(
                    err.reports[0].code,
                    f"'{rsc_id}' was left with target-role=Stopped: putting back its "
                    f"target-role failed ({err.reports[0].message}){first}",
                    where="resource restart",
                    resource_id=rsc_id,
                    hint=f"start it with `hakeeper resource enable {rsc_id}`"
                    if before is None
                    else f"set it with `hakeeper resource meta {rsc_id} target-role={before}`",
                ),
            ),
            err.exit_code,
        ) from None


def restore_target_role(env: Env, rsc_id: str, before: str | None) -> EditResult:
    def change(config: Configuration) -> tuple[Configuration, tuple[str, ...]]:
        rsc = edit.find_resource(config, rsc_id)
        if rsc is None or edit.values_of(rsc.meta).get("target-role") != STOPPED:
            return config, ()  # deleted or changed meanwhile: the other writer's value stays
        return edit.set_meta(config, rsc_id, {"target-role": before}), ()

    for attempt in range(RESTORE_ATTEMPTS):
        try:
            return edit_config(env, change)
        except CommandError as err:
            if err.codes != [codes.CONFIG_CONFLICT] or attempt == RESTORE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
