"""`report`: the archive's contents and manifest, the round trip through `check --from`,
missing commands as manifest entries, bad input codes, and the CLI."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest

from hakeeper.checks import galera, haproxy, rabbitmq, redis
from hakeeper.checks.catalog import PROBES
from hakeeper.checks.runner import RunResult
from hakeeper.cli.main import main
from hakeeper.commands import report as report_cmd
from hakeeper.commands.check import CapturedDir, CheckEnv, check
from hakeeper.commands.report import (
    REPORT_BAD_DURATION,
    REPORT_BAD_OUTPUT,
    REPORT_CIB_NOT_FOUND,
    ItemStatus,
    ReportEnv,
    parse_duration,
    report,
)
from hakeeper.reports import CommandError

from .fakes import MISSING, FakeRunner, ok

CAPTURED = Path(__file__).parents[1] / "checks" / "fixtures" / "captured"
NODE = "controller-0"
NOW = 1_795_000_000.0
CONTAINERS = (
    "galera-bundle-podman-0",
    "redis-bundle-podman-0",
    "rabbitmq-bundle-podman-0",
    "haproxy-bundle-podman-0",
    "nova_scheduler",
)


def _argv(key: str) -> tuple[str, ...]:
    return next(p.argv for p in PROBES if p.key == key)


def _exec(container: str, key: str) -> tuple[str, ...]:
    return ("podman", "exec", container, *_argv(key))


def _text(rel: str) -> str:
    return (CAPTURED / rel).read_text()


def _answers(since_s: int) -> dict[tuple[str, ...], RunResult]:
    answers: dict[tuple[str, ...], RunResult] = {
        ("cibadmin", "--query"): ok("<cib epoch='1'/>\n"),
        ("crm_mon", "-1", "-r", "-f", "-A"): ok("Cluster Summary:\n"),
        ("crm_mon", "-1", "--output-as=xml"): ok(_text("crm_mon.xml")),
        ("podman", "ps", "--all", "--format", "json"): ok(_text(f"{NODE}/podman_ps.json")),
        _exec("galera-bundle-podman-0", galera.STATUS_KEY): ok(_text(f"{NODE}/galera_status.txt")),
        _exec("rabbitmq-bundle-podman-0", rabbitmq.KEY): ok(
            _text(f"{NODE}/rabbitmq_cluster_status.json")
        ),
        _exec("redis-bundle-podman-0", redis.KEY): ok(_text(f"{NODE}/redis_info_replication.txt")),
        ("podman", "inspect", "--type", "container", *CONTAINERS): ok("[]\n"),
        (
            "journalctl",
            "--no-pager",
            f"--since=-{since_s}s",
            "--unit=pacemaker",
            "--unit=corosync",
            "--unit=pcsd",
            "--unit=hakeeper",
        ): MISSING,
    }
    for name in CONTAINERS:
        answers[("podman", "logs", "--since", f"{since_s}s", name)] = RunResult(
            (), 0, f"{name} stdout\n", f"{name} stderr\n"
        )
    return answers


def _env(tmp_path: Path, runner: FakeRunner, installed: set[str]) -> ReportEnv:
    def stats(path: str, command: str, timeout: float) -> str:
        assert (path, command) == (haproxy.STATS_SOCKET, "show stat")
        return _text(f"{NODE}/haproxy_stat.csv")

    def which(name: str) -> str | None:
        return f"/usr/bin/{name}" if name in installed else None

    return ReportEnv(
        runner,
        NODE,
        host_root=tmp_path / "host",
        environ={},
        which=which,
        socket_query=stats,
        clock=lambda: NOW,
    )


def _unpack(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        tops = {m.name.split("/")[0] for m in tar.getmembers()}
        tar.extractall(into, filter="data")
    assert len(tops) == 1
    return into / tops.pop()


def _host_tree(tmp_path: Path) -> None:
    host = tmp_path / "host"
    log = host / "var/log/pacemaker/pacemaker.log"
    log.parent.mkdir(parents=True)
    log.write_text("Nov 18 11:00:00 controller-0 pacemaker-controld: notice: State transition\n")
    pengine = host / "var/lib/pacemaker/pengine"
    pengine.mkdir(parents=True)
    for name, age in (
        ("pe-input-41.bz2", 30 * 3600),
        ("pe-input-42.bz2", 60),
        ("pe-warn-3.bz2", 120),
        ("pe-input.last", 60),
    ):
        (pengine / name).write_bytes(b"BZh9")
        os.utime(pengine / name, (NOW - age, NOW - age))


def _findings(path: Path) -> set[tuple[Any, ...]]:
    dto = check(CheckEnv(FakeRunner({}), "test-host", {}), source=CapturedDir(path))
    return {(f.area.value, f.verdict.value, f.code, f.subject, f.node) for f in dto.findings}


def test_archive_round_trips_through_check_from(tmp_path: Path) -> None:
    _host_tree(tmp_path)
    runner = FakeRunner(_answers(3600))
    steps: list[str] = []
    out = tmp_path / "bug.tar.gz"
    dto = report(
        _env(tmp_path, runner, {"crm_mon", "podman", "journalctl"}),
        output=out,
        since="1h",
        progress=steps.append,
    )
    runner.assert_done()
    assert dto.archive == str(out) and out.is_file() and steps
    top = _unpack(out, tmp_path / "unpacked")
    assert top.name == "bug"
    files = {str(p.relative_to(top)) for p in top.rglob("*") if p.is_file()}
    assert {
        "manifest.json",
        "cib.xml",
        "crm_mon.txt",
        "crm_mon.xml",
        f"{NODE}/podman_ps.json",
        f"{NODE}/galera_status.txt",
        f"{NODE}/rabbitmq_cluster_status.json",
        f"{NODE}/redis_info_replication.txt",
        f"{NODE}/haproxy_stat.csv",
        f"{NODE}/containers/inspect.json",
        f"{NODE}/containers/nova_scheduler.log",
        f"{NODE}/logs/var_log_pacemaker_pacemaker.log",
        f"{NODE}/pengine/pe-input-42.bz2",
        f"{NODE}/pengine/pe-warn-3.bz2",
    } <= files
    assert f"{NODE}/pengine/pe-input-41.bz2" not in files  # older than --since
    assert (
        top / f"{NODE}/containers/nova_scheduler.log"
    ).read_text() == "nova_scheduler stdout\nnova_scheduler stderr\n"

    # The same checks, the same findings, as on the captured directory itself.
    expected = tmp_path / "expected"
    (expected / NODE).mkdir(parents=True)
    shutil.copy(CAPTURED / "crm_mon.xml", expected)
    for name in (
        "podman_ps.json",
        "galera_status.txt",
        "rabbitmq_cluster_status.json",
        "redis_info_replication.txt",
        "haproxy_stat.csv",
    ):
        shutil.copy(CAPTURED / NODE / name, expected / NODE)
    if Path(galera.GRASTATE_PATH).is_file():  # the probe reads this host's file
        shutil.copy(galera.GRASTATE_PATH, expected / NODE)
    found = _findings(top)
    assert found == _findings(expected)
    assert {"FAILED_ACTION", "CONTAINER_UNHEALTHY", "HAPROXY_OK"} <= {
        code for _, _, code, _, _ in found
    }

    manifest = json.loads((top / "manifest.json").read_text())
    assert manifest["schema_version"] == 1 and manifest["host"] == NODE
    assert manifest["since_s"] == 3600
    by_origin = {i["origin"]: i for i in manifest["items"]}
    assert by_origin["ceph -s -f json"]["status"] == "missing"
    assert by_origin["ceph -s -f json"]["reason"] == "ceph is not installed"
    assert (
        by_origin[
            "journalctl --no-pager --since=-3600s --unit=pacemaker --unit=corosync"
            " --unit=pcsd --unit=hakeeper"
        ]["status"]
        == "missing"
    )
    assert by_origin["cibadmin --query"] == {
        "what": "cib",
        "origin": "cibadmin --query",
        "status": "ok",
        "path": "cib.xml",
        "reason": "",
        "size_bytes": len("<cib epoch='1'/>\n"),
    }
    assert manifest["counts"] == {s.value: dto.count(s) for s in ItemStatus}


def test_failed_probe_keeps_its_error_text_and_nothing_installed_is_no_crash(
    tmp_path: Path,
) -> None:
    mysql = _exec("galera-bundle-podman-0", galera.STATUS_KEY)
    ps = ("podman", "ps", "--all", "--format", "json")
    runner = FakeRunner(
        {
            ("cibadmin", "--query"): MISSING,
            ("crm_mon", "-1", "-r", "-f", "-A"): MISSING,
            ps: ok(json.dumps([{"Names": ["galera-bundle-podman-0"], "State": "running"}])),
            mysql: RunResult((), 1, "", "ERROR 2002 (HY000): Can't connect to local server\n"),
            ("podman", "inspect", "--type", "container", "galera-bundle-podman-0"): RunResult(
                (), None, timed_out=True
            ),
            ("podman", "logs", "--since", "14400s", "galera-bundle-podman-0"): ok(""),
        }
    )
    out = tmp_path / "r.tar.gz"
    dto = report(_env(tmp_path, runner, {"podman"}), output=out)
    runner.assert_done()
    top = _unpack(out, tmp_path / "u")
    assert (top / NODE / galera.STATUS_KEY).read_text().startswith("ERROR 2002")
    status = {i.origin: i.status for i in dto.items}
    assert status["cibadmin --query"] is ItemStatus.MISSING
    assert status["crm_mon -1 --output-as=xml"] is ItemStatus.MISSING
    assert status["podman inspect --type container galera-bundle-podman-0"] is ItemStatus.TIMEOUT
    assert status[shlex.join(mysql)] is ItemStatus.FAILED
    assert any(i.what == "log" and i.status is ItemStatus.MISSING for i in dto.items)
    galera_codes = {code for area, _, code, _, _ in _findings(top) if area == "galera"}
    assert "GALERA_NOT_READY" in galera_codes


def test_given_cib_file_is_used(tmp_path: Path) -> None:
    cib = tmp_path / "cib.xml"
    cib.write_text("<cib/>\n")
    runner = FakeRunner({("crm_mon", "-1", "-r", "-f", "-A"): MISSING})
    dto = report(_env(tmp_path, runner, set()), output=tmp_path / "r.tar.gz", cib=cib)
    top = _unpack(tmp_path / "r.tar.gz", tmp_path / "u")
    assert (top / "cib.xml").read_text() == "<cib/>\n"
    assert any(i.what == "containers" and i.status is ItemStatus.MISSING for i in dto.items)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("30m", 1800), ("4h", 14400), ("2d", 172800), ("1.5h", 5400)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("kwargs", "code", "where"),
    [
        ({"since": "yesterday"}, REPORT_BAD_DURATION, "--since"),
        ({"since": "0m"}, REPORT_BAD_DURATION, "--since"),
        ({"output": Path("/no/such/dir/r.tar.gz")}, REPORT_BAD_OUTPUT, "--output"),
        ({"cib": Path("/no/such/cib.xml")}, REPORT_CIB_NOT_FOUND, "--cib"),
    ],
)
def test_bad_input(tmp_path: Path, kwargs: dict[str, Any], code: str, where: str) -> None:
    kwargs.setdefault("output", tmp_path / "r.tar.gz")
    with pytest.raises(CommandError) as err:
        report(_env(tmp_path, FakeRunner({}), set()), **kwargs)
    assert err.value.codes == [code] and err.value.reports[0].where == where
    assert err.value.exit_code == 2
    assert not list(tmp_path.glob(".hakeeper-report-*"))


def test_cli_progress_on_stderr_summary_on_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = FakeRunner(
        {("cibadmin", "--query"): MISSING, ("crm_mon", "-1", "-r", "-f", "-A"): MISSING}
    )
    monkeypatch.setattr(
        report_cmd.ReportEnv, "from_os", classmethod(lambda cls: _env(tmp_path, runner, set()))
    )
    out = tmp_path / "r.tar.gz"
    assert main(["report", "--output", str(out), "--since", "30m"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"{out}: ")
    assert "missing  cib: cibadmin --query: cibadmin is not installed" in captured.out
    assert "hakeeper report: writing" in captured.err
    assert main(["report", "--output", str(out), "--since", "soon"]) == 2
    assert "--since: error: not a duration" in capsys.readouterr().err
