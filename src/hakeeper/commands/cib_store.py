"""Read the stored CIB, apply an edit, validate it, write it back with compare-and-swap.

`edit_config(env, change)` is the one path every configuration command takes:
read config + revision -> change(configuration) -> check references -> render -> parse the
rendered text (ids, scores, structure) -> write_config(expected_revision). A writer that
lost the race gets CONFIG_CONFLICT (exit code 3) and the store holds the winner's
configuration untouched: nothing is ever half-applied.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

from hakeeper.cib.edit import check_references
from hakeeper.cib.parse import parse_cib_text
from hakeeper.cib.render import render_cib
from hakeeper.commands.cib_values import check_values
from hakeeper.commands.env import Env
from hakeeper.coord import Conflict, Coordinator
from hakeeper.model.cib import Cib
from hakeeper.model.config import Configuration
from hakeeper.model.status import Status
from hakeeper.reports import CommandError, Report, codes

CONFLICT_EXIT = 3


@dataclass(frozen=True, slots=True)
class StoredCib:
    cib: Cib
    revision: int


@dataclass(frozen=True, slots=True)
class EditResult:
    """What an edit wrote: the new revision, and what it removed on the way."""

    revision: int
    changed: bool
    removed: tuple[str, ...] = ()


def read_cib(coord: Coordinator, store: str) -> StoredCib:
    doc = coord.read_config()
    if doc is None:
        raise CommandError(
            Report.error(
                codes.CLUSTER_NOT_SET_UP,
                f"the store {store} holds no cluster configuration",
                where="--store",
                url=store,
                hint="create one with `hakeeper cluster setup NAME NODE...`, or import a CIB "
                "with `hakeeper cib import FILE`, or point --store at the right store",
            )
        )
    return StoredCib(parse_cib_text(doc.xml, source="stored configuration"), doc.revision)


def load(env: Env) -> StoredCib:
    with env.coordinator() as coord:
        return read_cib(coord, env.store)


def _bump_epoch(root: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Each write increments epoch and resets num_updates, as the CIB manager does, so
    tools that compare versions (cibadmin, crm_diff) see the change."""
    attrs = dict(root)
    try:
        epoch = int(attrs.get("epoch", "0"))
    except ValueError:
        epoch = 0
    attrs["epoch"] = str(epoch + 1)
    attrs["num_updates"] = "0"
    attrs.setdefault("admin_epoch", "0")
    attrs.setdefault("validate-with", "pacemaker-3.9")
    return tuple(attrs.items())


def validated_xml(cib: Cib, config: Configuration) -> str:
    """The CIB text to store for config; CommandError (every problem at once) if invalid."""
    reports = check_references(config) + check_values(config)
    if reports:
        raise CommandError(reports)
    new = Cib(config, Status(), _bump_epoch(cib.root_attributes))
    text = render_cib(new).decode()
    parsed = parse_cib_text(text, source="edited configuration")  # ids, scores, structure
    check_schedulable(parsed)
    return text


def check_schedulable(cib: Cib) -> None:
    """Refuse a configuration the scheduler refuses (UNSUPPORTED_FEATURE, invalid bundles,
    ...): stored, it would stop the leader scheduling the whole cluster. The scheduler's own
    verdict, so a feature it learns is accepted here without a change."""
    # imported here: commands that only read the store (status, check) need no scheduler
    from hakeeper.scheduler.schedule import schedule

    try:
        schedule(cib, int(time.time()))
    except CommandError as err:
        raise CommandError(
            tuple(
                dataclasses.replace(
                    r,
                    message=f"{r.message}; nothing was written",
                    where="the edited configuration",
                    hint="the cluster's scheduler could not act on this configuration, so it "
                    "was not stored: leave that out (see `hakeeper simulate` on an exported "
                    "CIB to try a change without storing it)",
                )
                for r in err.reports
            ),
            err.exit_code,
        ) from None


def write(coord: Coordinator, store: str, stored: StoredCib, config: Configuration) -> int:
    text = validated_xml(stored.cib, config)
    try:
        return coord.write_config(text, expected_revision=stored.revision)
    except Conflict as err:
        raise conflict(store, err) from None


def conflict(store: str, err: Conflict) -> CommandError:
    return CommandError(
        Report.error(
            codes.CONFIG_CONFLICT,
            f"the configuration changed while this edit was being made (read at revision "
            f"{err.expected_revision}, now at {err.actual_revision}); nothing was written",
            where="--store",
            url=store,
            expected_revision=err.expected_revision,
            actual_revision=err.actual_revision,
            hint="look at the new configuration (`hakeeper cib export`) and run the command again",
        ),
        exit_code=CONFLICT_EXIT,
    )


EditFn = Callable[[Configuration], tuple[Configuration, tuple[str, ...]]]


def edit_config(
    env: Env, change: EditFn, *, after_read: Callable[[], None] | None = None
) -> EditResult:
    """Apply change to the stored configuration, once, with compare-and-swap.

    `after_read` runs between the read and the write (tests use it to lose the race on
    purpose). An edit that changes nothing writes nothing."""
    with env.coordinator() as coord:
        stored = read_cib(coord, env.store)
        config, removed = change(stored.cib.configuration)
        if after_read is not None:
            after_read()
        if config == stored.cib.configuration:
            return EditResult(stored.revision, False, removed)
        revision = write(coord, env.store, stored, config)
        return EditResult(revision, True, removed)


def simple(change: Callable[[Configuration], Configuration]) -> EditFn:
    return lambda config: (change(config), ())
