"""Probes: real subprocesses for the runner; fakes at the seams for the live source."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from hakeeper.checks import galera, haproxy
from hakeeper.checks.capture import CaptureStatus
from hakeeper.checks.catalog import PROBES, How, ProbeSpec, Scope
from hakeeper.checks.finding import Area
from hakeeper.checks.runner import RunResult, SubprocessRunner, capture_command
from hakeeper.checks.sources import DirectorySource, LiveHostSource

from .conftest import fixture_text

PY = sys.executable


def test_runner_ok() -> None:
    c = capture_command(SubprocessRunner(), "k", "n", (PY, "-c", "print('hi')"), timeout=10)
    assert (c.status, c.text.strip()) == (CaptureStatus.OK, "hi")


def test_runner_missing_command_is_not_captured() -> None:
    c = capture_command(SubprocessRunner(), "k", None, ("no-such-cmd-hakeeper",), timeout=5)
    assert c.status is CaptureStatus.NOT_CAPTURED
    assert "not installed" in c.reason


def test_runner_timeout_kills_and_reports() -> None:
    code = (
        "import subprocess,sys,time; subprocess.Popen([sys.executable,'-c','import time;"
        " time.sleep(30)']); time.sleep(30)"
    )
    c = capture_command(SubprocessRunner(), "k", None, (PY, "-c", code), timeout=0.5)
    assert c.status is CaptureStatus.TIMEOUT


def test_runner_timeout_with_a_daemon_holding_the_pipes() -> None:
    # the probe starts a daemon in its own session (as rabbitmqctl's erl starts epmd) that
    # keeps stdout open: the timeout still ends the probe, at once
    code = (
        "import subprocess,sys,time; subprocess.Popen([sys.executable,'-c','import time;"
        " time.sleep(30)'], start_new_session=True); time.sleep(30)"
    )
    began = time.monotonic()
    c = capture_command(SubprocessRunner(), "k", None, (PY, "-c", code), timeout=0.5)
    assert c.status is CaptureStatus.TIMEOUT
    assert time.monotonic() - began < 10


def test_runner_non_zero_exit_keeps_stderr_tail() -> None:
    code = "import sys; print('ERROR 2002 (HY000): no socket', file=sys.stderr); sys.exit(1)"
    c = capture_command(SubprocessRunner(), "k", None, (PY, "-c", code), timeout=10)
    assert c.status is CaptureStatus.FAILED
    assert c.reason.startswith("ERROR 2002")


class FakeRunner:
    """Answers expected argv with canned results; fails on anything else."""

    def __init__(self, answers: dict[tuple[str, ...], RunResult]) -> None:
        self.answers = dict(answers)
        self.calls: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], *, timeout: float) -> RunResult:
        key = tuple(argv)
        self.calls.append(key)
        if key not in self.answers:
            raise AssertionError(f"unexpected command {key}")
        return self.answers[key]


def ok(argv: tuple[str, ...], out: str) -> RunResult:
    return RunResult(argv, 0, out)


def _spec(key: str) -> ProbeSpec:
    return next(p for p in PROBES if p.key == key)


def test_live_source_execs_service_clis_in_the_local_replica() -> None:
    ps = ("podman", "ps", "--all", "--format", "json")
    mysql = ("podman", "exec", "galera-bundle-podman-0", *_spec(galera.STATUS_KEY).argv)
    runner = FakeRunner(
        {
            ps: ok(ps, fixture_text("podman/ps_all.json")),
            mysql: ok(mysql, fixture_text("galera/wsrep_synced_single.txt")),
        }
    )
    source = LiveHostSource(runner, "ctl0", environ={}, which=lambda name: f"/usr/bin/{name}")
    specs = [
        _spec("podman_ps.json"),
        _spec("docker_ps.json"),
        _spec(galera.STATUS_KEY),
        _spec("openstack_hypervisor_list.json"),
    ]
    captures = {j.key: j.run() for j in source.jobs(specs)}
    assert set(captures) == {"podman_ps.json", galera.STATUS_KEY, "openstack_hypervisor_list.json"}
    assert captures[galera.STATUS_KEY].ok and captures[galera.STATUS_KEY].node == "ctl0"
    assert captures["openstack_hypervisor_list.json"].status is CaptureStatus.NOT_CAPTURED
    assert runner.calls.count(ps) == 1


def test_live_source_without_engine_or_container() -> None:
    source = LiveHostSource(FakeRunner({}), "ctl0", environ={}, which=lambda name: None)
    captures = [
        j.run()
        for j in source.jobs(
            [_spec("podman_ps.json"), _spec("rabbitmq_cluster_status.json"), _spec("crm_mon.xml")]
        )
    ]
    assert [c.status for c in captures] == [CaptureStatus.NOT_CAPTURED] * 3


def test_live_socket_probe_seams() -> None:
    def refused(path: str, command: str, timeout: float) -> str:
        raise ConnectionRefusedError(111, "Connection refused")

    def missing(path: str, command: str, timeout: float) -> str:
        raise FileNotFoundError(2, "No such file")

    def answer(path: str, command: str, timeout: float) -> str:
        assert command == "show stat"
        return fixture_text("haproxy/show_stat_healthy.csv")

    statuses = []
    for query in (refused, missing, answer):
        source = LiveHostSource(
            FakeRunner({}), "ctl0", environ={}, which=lambda n: None, socket_query=query
        )
        (job,) = source.jobs([_spec(haproxy.KEY)])
        statuses.append(job.run().status)
    assert statuses == [CaptureStatus.FAILED, CaptureStatus.NOT_CAPTURED, CaptureStatus.OK]


def test_live_file_probe(tmp_path: Path) -> None:
    path = tmp_path / "grastate.dat"
    path.write_text(fixture_text("galera/grastate_clean_shutdown.dat"))
    spec = ProbeSpec(galera.GRASTATE_KEY, Area.GALERA, Scope.NODE, How.FILE, (str(path),))
    source = LiveHostSource(FakeRunner({}), "ctl0", environ={}, which=lambda n: None)
    (job,) = source.jobs([spec])
    capture = job.run()
    assert capture.ok and "seqno:   3" in capture.text


def test_directory_layout(tmp_path: Path) -> None:
    (tmp_path / "ctl0").mkdir()
    (tmp_path / "ctl1").mkdir()
    (tmp_path / "ctl1" / "crm_mon.xml").write_text("<x/>")
    (tmp_path / "ctl0" / "redis_info_replication.txt").write_text("role:master\n")
    (tmp_path / "redis_info_replication.txt").write_text("role:slave\n")
    source = DirectorySource(tmp_path)
    jobs = source.jobs(
        [_spec("crm_mon.xml"), _spec("redis_info_replication.txt"), _spec("ceph_status.json")]
    )
    got = {(j.key, j.node): j.run() for j in jobs}
    assert set(got) == {
        ("crm_mon.xml", "ctl1"),
        ("redis_info_replication.txt", None),
        ("redis_info_replication.txt", "ctl0"),
        ("ceph_status.json", None),
    }
    assert got[("ceph_status.json", None)].status is CaptureStatus.NOT_CAPTURED
    assert got[("redis_info_replication.txt", "ctl0")].text == "role:master\n"


def test_every_probe_key_is_unique_and_has_an_area() -> None:
    keys = [p.key for p in PROBES]
    assert len(keys) == len(set(keys))
    assert {p.area for p in PROBES} == set(Area)


@pytest.mark.parametrize("spec", [p for p in PROBES if p.how is How.CONTAINER])
def test_container_probes_have_a_pattern(spec: ProbeSpec) -> None:
    assert spec.container
