"""`check`: every probe of the control plane, run in parallel, judged into findings."""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hakeeper.checks import (
    ceph,
    cluster,
    codes,
    containers,
    galera,
    haproxy,
    openstack,
    rabbitmq,
    redis,
    vips,
)
from hakeeper.checks.capture import Capture, Captures, CaptureStatus, file_text
from hakeeper.checks.catalog import capture_path, probes_for
from hakeeper.checks.finding import Area, Finding, Verdict, finding, worst
from hakeeper.checks.runner import CommandRunner, SubprocessRunner
from hakeeper.checks.sources import CaptureSource, DirectorySource, Job, LiveHostSource
from hakeeper.reports import CommandError, Report

if TYPE_CHECKING:  # the store clients: only a hakeeper cluster's check opens one
    from hakeeper.commands.env import Env
    from hakeeper.commands.status import StatusDto

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class LiveHost:
    """Probe the Pacemaker cluster node this runs on."""


@dataclass(frozen=True, slots=True)
class CapturedDir:
    """Read outputs captured earlier (`--from DIR`); see docs/check.md for the layout."""

    path: Path


@dataclass(frozen=True, slots=True)
class HakeeperCluster:
    """A live hakeeper cluster: its status from the store, services probed where they run
    on this host (this node, or the lab's namespaces)."""

    env: Env
    # the status as crm_mon's XML (the CLI's renderer), for the outputs kept by --save
    render_status: Callable[[StatusDto], bytes] | None = None


CheckSource = LiveHost | CapturedDir | HakeeperCluster


@dataclass(frozen=True, slots=True)
class CheckEnv:
    """The OS edges `check` touches: processes, the host name, credentials, time."""

    runner: CommandRunner
    hostname: str
    environ: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = 10.0
    workers: int = 8
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def from_os(cls) -> CheckEnv:
        return cls(SubprocessRunner(), socket.gethostname().split(".")[0], dict(os.environ))


@dataclass(frozen=True, slots=True)
class CheckDto:
    schema_version: int
    source: str
    areas: tuple[Area, ...]
    findings: tuple[Finding, ...]
    duration_s: float

    @property
    def verdict(self) -> Verdict:
        return worst(f.verdict for f in self.findings)

    def area_verdict(self, area: Area) -> Verdict:
        return worst(f.verdict for f in self.findings if f.area is area)

    @property
    def has_critical(self) -> bool:
        return any(f.verdict is Verdict.CRITICAL for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        counts = {v.value: sum(1 for f in self.findings if f.verdict is v) for v in Verdict}
        return {
            "schema_version": self.schema_version,
            "source": self.source,
            "verdict": self.verdict.value,
            "counts": counts,
            "duration_s": round(self.duration_s, 3),
            "areas": [{"area": a.value, "verdict": self.area_verdict(a).value} for a in self.areas],
            "findings": [f.as_dict() for f in self.findings],
        }


def parse_areas(only: Iterable[str] | None) -> tuple[Area, ...]:
    """The areas to check, in display order; CommandError for an unknown name."""
    if not only:
        return tuple(Area)
    names = {part.strip().lower() for item in only for part in item.split(",") if part.strip()}
    known = {a.value for a in Area}
    unknown = sorted(names - known)
    if unknown:
        raise CommandError(
            Report.error(
                codes.CHECK_UNKNOWN_AREA,
                f"unknown area {', '.join(unknown)}",
                where="--only",
                hint=f"choose from: {', '.join(a.value for a in Area)}",
                areas=unknown,
            )
        )
    return tuple(a for a in Area if a.value in names)


def _check_save_dir(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise CommandError(
            Report.error(
                codes.CHECK_SAVE_NOT_EMPTY,
                f"{path} already exists and is not an empty directory",
                where="--save",
                hint="name a new directory: the captures of one check, not mixed with others",
                path=str(path),
            )
        )


def save_captures(path: Path, captures: Iterable[Capture]) -> list[str]:
    """Write each output a probe printed (a failed probe's, else its error text, as `cmd >
    file 2>&1` would keep it) where `--from` reads it; the files written, relative."""
    written = []
    for c in captures:
        text = file_text(c)
        if not text:
            continue  # not run, no answer in time, or read as a model only
        rel = capture_path(c.key, c.node)
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        written.append(rel)
    return sorted(written)


def _resolve(env: CheckEnv, source: CheckSource) -> CaptureSource:
    if isinstance(source, CapturedDir):
        if not source.path.is_dir():
            raise CommandError(
                Report.error(
                    codes.CHECK_SOURCE_NOT_FOUND,
                    f"no such directory: {source.path}",
                    where="--from",
                    hint="give the directory holding crm_mon.xml and the"
                    " node folders (see docs/check.md)",
                    path=str(source.path),
                )
            )
        return DirectorySource(source.path)
    if isinstance(source, HakeeperCluster):
        # imported here: it brings the scheduler and the store clients, which --from and a
        # Pacemaker host do not need
        from hakeeper.commands.check_cluster import cluster_source

        return cluster_source(
            source.env,
            env.runner,
            env.hostname,
            env.timeout_s,
            render_status=source.render_status,
        )
    return LiveHostSource(env.runner, env.hostname, env.timeout_s, env.environ)


def _run(job: Job) -> Capture:
    try:
        return job.run()
    except Exception as err:  # a bug in a probe must not take the whole check down
        return Capture(
            job.key,
            job.node,
            job.key,
            CaptureStatus.FAILED,
            reason=f"internal error: {type(err).__name__}: {err}",
        )


def _assessors(captures: Captures) -> dict[Area, Callable[[], tuple[Finding, ...]]]:
    crm = cluster.parse_capture(captures)
    facts = cluster.facts(crm) if crm is not None else None

    def replicas(bundle: str) -> int | None:
        if facts is None or crm is None:
            return None
        # a bundle's replicas; else the instances of the service (a clone, or one primitive)
        service = re.compile(rf"^{re.escape(bundle.removesuffix('-bundle'))}(?:$|[-:_])")
        instances = sum(
            1
            for r in crm.resources
            if not r.is_stonith and (service.match(r.id) or service.match(r.parent or ""))
        )
        return facts.replicas(bundle) or instances or (len(facts.members) or None)

    return {
        Area.CONTAINERS: lambda: containers.assess(captures),
        Area.CLUSTER: lambda: cluster.assess(captures),
        Area.GALERA: lambda: galera.assess(
            captures,
            expected=replicas(galera.BUNDLE),
            pacemaker=facts is not None and galera.BUNDLE in facts.bundle_replicas,
        ),
        Area.RABBITMQ: lambda: rabbitmq.assess(captures, expected=replicas(rabbitmq.BUNDLE)),
        Area.REDIS: lambda: redis.assess(captures, expected=replicas(redis.BUNDLE)),
        Area.HAPROXY: lambda: haproxy.assess(captures) + vips.assess(captures, crm),
        Area.CEPH: lambda: ceph.assess(captures),
        Area.OPENSTACK: lambda: openstack.assess(captures),
    }


def _judge(area: Area, assess: Callable[[], tuple[Finding, ...]]) -> Sequence[Finding]:
    try:
        found = assess()
    except Exception as err:  # a parser bug is reported, never a traceback
        return [
            finding(
                Verdict.CRITICAL,
                area,
                codes.PROBE_UNPARSEABLE,
                area.value,
                f"internal error while checking {area.value}: {type(err).__name__}: {err}",
            )
        ]
    if not found:
        return [
            finding(
                Verdict.SKIPPED,
                area,
                codes.PROBE_NOT_CAPTURED,
                area.value,
                f"nothing captured for {area.value}",
            )
        ]
    return sorted(found, key=lambda f: -f.verdict.rank if f.verdict is not Verdict.SKIPPED else 0)


def check(
    env: CheckEnv,
    *,
    source: CheckSource,
    only: set[str] | None = None,
    save: Path | None = None,
) -> CheckDto:
    """Run the probes of the chosen areas in parallel and judge their outputs; with save,
    also write every output read into that new directory, where `--from` reads it.

    Raises CommandError (exit 2) for an unknown area, a missing --from directory or a save
    directory that already holds something; a probe that is missing, hangs or prints
    garbage becomes a finding instead.
    """
    started = env.clock()
    areas = parse_areas(only)
    if save is not None:
        _check_save_dir(save)
    capture_source = _resolve(env, source)
    jobs = capture_source.jobs(probes_for(frozenset(areas)))
    with ThreadPoolExecutor(max_workers=max(1, env.workers)) as pool:
        captures = Captures.of(pool.map(_run, jobs))
    if save is not None:
        save_captures(save, captures.by_key.values())
    assessors = _assessors(captures)
    findings: list[Finding] = []
    for area in areas:
        findings.extend(_judge(area, assessors[area]))
    if isinstance(source, HakeeperCluster):
        from hakeeper.commands.check_cluster import hakeeper_step

        findings = [
            replace(f, next_steps=tuple(hakeeper_step(s) for s in f.next_steps)) for f in findings
        ]
    return CheckDto(
        SCHEMA_VERSION, capture_source.description, areas, tuple(findings), env.clock() - started
    )
