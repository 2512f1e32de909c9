"""`report`: one archive for a bug report: the CIB, the cluster status, every raw output
`hakeeper check` reads (in its `--from` layout, so the unpacked archive can be checked
again anywhere), the containers' inspect JSON and recent logs, the daemons' logs, recent
scheduler inputs, and manifest.json saying what was collected and what was not and why.

Nothing missing on the host is an error: it becomes a manifest entry.
"""

from __future__ import annotations

import enum
import json
import os
import re
import shlex
import shutil
import socket
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from hakeeper.checks.capture import CaptureStatus, ProbeOutputError, file_text
from hakeeper.checks.catalog import PROBES, capture_path
from hakeeper.checks.containers import DOCKER_KEY, PODMAN_KEY, parse_ps
from hakeeper.checks.runner import CommandRunner, RunResult, SubprocessRunner
from hakeeper.checks.sources import LiveHostSource, query_unix_socket
from hakeeper.reports import CommandError, Report

SCHEMA_VERSION = 1

# Stable report codes of `report` (exit 2).
REPORT_BAD_OUTPUT: Final = "REPORT_BAD_OUTPUT"
REPORT_BAD_DURATION: Final = "REPORT_BAD_DURATION"
REPORT_CIB_NOT_FOUND: Final = "REPORT_CIB_NOT_FOUND"

DEFAULT_SINCE_S = 4 * 3600
MAX_LOG_BYTES = 32 * 1024 * 1024  # a log file keeps its last 32 MiB
MAX_TRANSITIONS = 200

# Where Pacemaker, corosync and hakeeper write their logs on the distributions we meet.
LOG_FILES: Final = (
    "/var/log/pacemaker/pacemaker.log",
    "/var/log/pacemaker.log",
    "/var/log/cluster/corosync.log",
    "/var/log/corosync/corosync.log",
    "/var/log/pcsd/pcsd.log",
)
LOG_GLOBS: Final = (("/var/log/hakeeper", "*.log"),)
PENGINE_DIR: Final = "/var/lib/pacemaker/pengine"
_TRANSITION = re.compile(r"^pe-(?:input|warn|error)-\d+\.bz2$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class ReportEnv:
    """The OS edges `report` touches: processes, the host's files (under `host_root`),
    the unix sockets, credentials in the environment, the host name and the clock."""

    runner: CommandRunner
    hostname: str
    host_root: Path = Path("/")
    environ: Mapping[str, str] = field(default_factory=dict)
    which: Callable[[str], str | None] = shutil.which
    socket_query: Callable[[str, str, float], str] = query_unix_socket
    timeout_s: float = 10.0
    logs_timeout_s: float = 60.0
    workers: int = 8
    clock: Callable[[], float] = time.time

    @classmethod
    def from_os(cls) -> ReportEnv:
        return cls(SubprocessRunner(), socket.gethostname().split(".")[0], environ=dict(os.environ))


class ItemStatus(enum.Enum):
    OK = "ok"
    FAILED = "failed"  # ran and failed; what it printed is kept
    TIMEOUT = "timeout"
    MISSING = "missing"  # command not installed, file or socket not there


@dataclass(frozen=True, slots=True)
class ManifestItem:
    what: str  # cib, status, probe, containers, container-logs, log, journal, transition
    origin: str  # the command line or the file it came from
    status: ItemStatus
    path: str | None = None  # in the archive, relative to its top folder
    reason: str = ""
    size_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "origin": self.origin,
            "status": self.status.value,
            "path": self.path,
            "reason": self.reason,
            "size_bytes": self.size_bytes,
        }


@dataclass(frozen=True, slots=True)
class ReportDto:
    schema_version: int
    archive: str
    top: str  # the folder everything is under inside the archive
    host: str
    created: float  # unix time
    since_s: float
    items: tuple[ManifestItem, ...]
    duration_s: float

    def count(self, status: ItemStatus) -> int:
        return sum(1 for i in self.items if i.status is status)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "archive": self.archive,
            "top": self.top,
            "host": self.host,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created)),
            "since_s": self.since_s,
            "counts": {s.value: self.count(s) for s in ItemStatus},
            "duration_s": round(self.duration_s, 3),
            "items": [i.as_dict() for i in self.items],
        }


Progress = Callable[[str], None]


def parse_duration(text: str | None) -> float:
    """Seconds from `90`, `90s`, `30m`, `4h`, `2d`; CommandError otherwise."""
    if text is None:
        return DEFAULT_SINCE_S
    m = _DURATION.match(text)
    if not m or float(m[1]) <= 0:
        raise CommandError(
            Report.error(
                REPORT_BAD_DURATION,
                f"not a duration: {text!r}",
                where="--since",
                hint="a number with s, m, h or d: 30m, 4h, 2d",
                value=text,
            )
        )
    return float(m[1]) * _UNIT_S[m[2]]


# ------------------------------------------------------------------------ staging


@dataclass(slots=True)
class _Stage:
    """The folder being filled; records one manifest item per thing tried."""

    root: Path
    items: list[ManifestItem] = field(default_factory=list)

    def write(
        self,
        what: str,
        origin: str,
        rel: str,
        data: bytes | str,
        status: ItemStatus = ItemStatus.OK,
        reason: str = "",
    ) -> None:
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        raw = data.encode("utf-8", errors="replace") if isinstance(data, str) else data
        target.write_bytes(raw)
        self.items.append(ManifestItem(what, origin, status, rel, reason, len(raw)))

    def note(self, what: str, origin: str, status: ItemStatus, reason: str) -> None:
        self.items.append(ManifestItem(what, origin, status, None, reason))


def _why(result: RunResult, timeout: float) -> tuple[ItemStatus, str]:
    if result.missing:
        return ItemStatus.MISSING, f"{result.argv[0]} is not installed"
    if result.timed_out:
        return ItemStatus.TIMEOUT, f"no answer within {timeout:g} s"
    if result.returncode != 0:
        tail = [line for line in result.stderr.splitlines() if line.strip()][-5:]
        return ItemStatus.FAILED, "; ".join(tail) or f"exit status {result.returncode}"
    return ItemStatus.OK, ""


def _command(
    env: ReportEnv,
    stage: _Stage,
    what: str,
    argv: Sequence[str],
    rel: str,
    *,
    timeout: float | None = None,
    with_stderr: bool = False,
) -> RunResult:
    limit = timeout or env.timeout_s
    result = env.runner.run(argv, timeout=limit)
    status, reason = _why(result, limit)
    origin = shlex.join(argv)
    if status is ItemStatus.MISSING or (status is not ItemStatus.OK and not result.stdout):
        stage.note(what, origin, status, reason)
    else:
        text = result.stdout + (result.stderr if with_stderr else "")
        stage.write(what, origin, rel, text, status, reason)
    return result


def _tail_bytes(path: Path, limit: int) -> bytes:
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - limit))
        return fh.read()


def _host(env: ReportEnv, path: str) -> Path:
    return env.host_root / path.lstrip("/")


# ------------------------------------------------------------------------ the parts


def _cib(env: ReportEnv, stage: _Stage, cib: Path | None) -> None:
    if cib is not None:
        stage.write("cib", str(cib), "cib.xml", cib.read_bytes())
        return
    _command(env, stage, "cib", ("cibadmin", "--query"), "cib.xml")


def _probes(env: ReportEnv, stage: _Stage, progress: Progress) -> tuple[str, tuple[str, ...]]:
    """Every check probe, written where `check --from` reads it; the engine and the
    containers it lists."""
    source = LiveHostSource(
        env.runner, env.hostname, env.timeout_s, env.environ, env.which, env.socket_query
    )
    jobs = source.jobs(PROBES)
    progress(f"running {len(jobs)} probes of hakeeper check")
    with ThreadPoolExecutor(max_workers=max(1, env.workers)) as pool:
        captures = list(pool.map(lambda job: job.run(), jobs))
    engine, names = "", tuple[str, ...]()
    for c in captures:
        if c.status is CaptureStatus.NOT_CAPTURED:
            stage.note("probe", c.origin, ItemStatus.MISSING, c.reason)
        elif c.status is CaptureStatus.TIMEOUT:
            stage.note("probe", c.origin, ItemStatus.TIMEOUT, c.reason)
        elif c.status is CaptureStatus.FAILED:
            # its answer if it printed one (crm_mon's XML says why it failed), else its
            # error text
            text = file_text(c) or ""
            stage.write(
                "probe", c.origin, capture_path(c.key, c.node), text, ItemStatus.FAILED, c.reason
            )
        else:
            stage.write("probe", c.origin, capture_path(c.key, c.node), c.text)
            if c.key in (PODMAN_KEY, DOCKER_KEY):
                engine = "podman" if c.key == PODMAN_KEY else "docker"
                try:
                    names = tuple(x.name for x in parse_ps(c.text))
                except ProbeOutputError:
                    names = ()
    return engine, names


def _containers(
    env: ReportEnv,
    stage: _Stage,
    engine: str,
    names: Sequence[str],
    since_s: float,
    progress: Progress,
) -> None:
    if not engine or not names:
        stage.note(
            "containers",
            "podman ps --all",
            ItemStatus.MISSING,
            "no container list: no engine, or it listed nothing",
        )
        return
    base = f"{env.hostname}/containers"
    _command(
        env,
        stage,
        "containers",
        (engine, "inspect", "--type", "container", *names),
        f"{base}/inspect.json",
    )
    progress(f"collecting the logs of {len(names)} containers (since {since_s:g} s)")

    def logs(name: str) -> None:
        _command(
            env,
            stage,
            "container-logs",
            (engine, "logs", "--since", f"{int(since_s)}s", name),
            f"{base}/{name}.log",
            timeout=env.logs_timeout_s,
            with_stderr=True,
        )

    with ThreadPoolExecutor(max_workers=max(1, env.workers)) as pool:
        list(pool.map(logs, names))


def _log_files(env: ReportEnv) -> Iterable[str]:
    yield from LOG_FILES
    for folder, pattern in LOG_GLOBS:
        where = _host(env, folder)
        if where.is_dir():
            for p in sorted(where.glob(pattern)):
                yield f"{folder}/{p.name}"


def _logs(env: ReportEnv, stage: _Stage, since_s: float) -> None:
    found = False
    for path in _log_files(env):
        host_path = _host(env, path)
        if not host_path.is_file():
            continue
        found = True
        try:
            data = _tail_bytes(host_path, MAX_LOG_BYTES)
        except OSError as err:
            stage.note("log", path, ItemStatus.FAILED, f"cannot read: {err.strerror}")
            continue
        cut = " (its last 32 MiB)" if host_path.stat().st_size > MAX_LOG_BYTES else ""
        stage.write(
            "log",
            path,
            f"{env.hostname}/logs/{path.lstrip('/').replace('/', '_')}",
            data,
            reason=cut.strip(" ()"),
        )
    if not found:
        stage.note("log", ", ".join(LOG_FILES), ItemStatus.MISSING, "no daemon log file here")
    if env.which("journalctl") is None:
        stage.note("journal", "journalctl", ItemStatus.MISSING, "journalctl is not installed")
        return
    _command(
        env,
        stage,
        "journal",
        (
            "journalctl",
            "--no-pager",
            f"--since=-{int(since_s)}s",
            "--unit=pacemaker",
            "--unit=corosync",
            "--unit=pcsd",
            "--unit=hakeeper",
        ),
        f"{env.hostname}/logs/journal.txt",
        timeout=env.logs_timeout_s,
    )


def _transitions(env: ReportEnv, stage: _Stage, since_s: float) -> None:
    folder = _host(env, PENGINE_DIR)
    if not folder.is_dir():
        stage.note("transition", PENGINE_DIR, ItemStatus.MISSING, "no scheduler inputs here")
        return
    oldest = env.clock() - since_s
    recent = []
    for p in folder.iterdir():
        try:
            mtime = p.stat().st_mtime
        except OSError:
            continue
        if _TRANSITION.match(p.name) and mtime >= oldest:
            recent.append((mtime, p))
    recent.sort()
    if not recent:
        stage.note(
            "transition",
            PENGINE_DIR,
            ItemStatus.MISSING,
            f"no scheduler input newer than {since_s:g} s",
        )
    for _, p in recent[-MAX_TRANSITIONS:]:
        stage.write(
            "transition",
            f"{PENGINE_DIR}/{p.name}",
            f"{env.hostname}/pengine/{p.name}",
            p.read_bytes(),
        )


# ------------------------------------------------------------------------ the command


def _check_output(output: Path) -> None:
    if output.is_dir() or not output.parent.is_dir():
        raise CommandError(
            Report.error(
                REPORT_BAD_OUTPUT,
                f"cannot write {output}",
                where="--output",
                hint="give a file name (.tar.gz) in an existing directory",
                path=str(output),
            )
        )


def default_output(hostname: str, now: float) -> Path:
    return Path(
        f"hakeeper-report-{hostname}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime(now))}.tar.gz"
    )


def report(
    env: ReportEnv,
    *,
    output: Path | None = None,
    since: str | None = None,
    cib: Path | None = None,
    progress: Progress = lambda _: None,
) -> ReportDto:
    """Collect everything into one .tar.gz and return what went in. Raises CommandError
    (exit 2) only for bad input: the output path, --since, a --cib file that is not there."""
    started = env.clock()
    since_s = parse_duration(since)
    out = output or default_output(env.hostname, started)
    _check_output(out)
    if cib is not None and not cib.is_file():
        raise CommandError(
            Report.error(
                REPORT_CIB_NOT_FOUND,
                f"no such file: {cib}",
                where="--cib",
                hint="give a CIB XML file (cibadmin --query > cib.xml), or leave --cib out on"
                " a cluster node",
                path=str(cib),
            )
        )
    top = out.name.removesuffix(".gz").removesuffix(".tgz").removesuffix(".tar") or "report"
    with tempfile.TemporaryDirectory(prefix=".hakeeper-report-", dir=out.parent) as tmp:
        stage = _Stage(Path(tmp) / top)
        stage.root.mkdir()
        progress("collecting the CIB and the cluster status")
        _cib(env, stage, cib)
        _command(env, stage, "status", ("crm_mon", "-1", "-r", "-f", "-A"), "crm_mon.txt")
        engine, names = _probes(env, stage, progress)
        _containers(env, stage, engine, names, since_s, progress)
        progress("collecting logs and recent transitions")
        _logs(env, stage, since_s)
        _transitions(env, stage, since_s)
        items = tuple(sorted(stage.items, key=lambda i: (i.what, i.path or "", i.origin)))
        dto = ReportDto(
            SCHEMA_VERSION,
            str(out),
            top,
            env.hostname,
            started,
            since_s,
            items,
            env.clock() - started,
        )
        (stage.root / "manifest.json").write_text(json.dumps(dto.as_dict(), indent=2) + "\n")
        progress(f"writing {out}")
        partial = Path(tmp) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(stage.root, arcname=top)
        os.replace(partial, out)
    return ReportDto(
        SCHEMA_VERSION, str(out), top, env.hostname, started, since_s, items, env.clock() - started
    )
