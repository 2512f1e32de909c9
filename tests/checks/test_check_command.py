"""The `check` library command and `hakeeper check` end to end on a --from directory."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hakeeper.checks import codes
from hakeeper.checks.finding import Area, Finding, Verdict
from hakeeper.cli.main import main
from hakeeper.commands.check import SCHEMA_VERSION, CapturedDir, CheckEnv, check
from hakeeper.reports import CommandError

from .conftest import FIXTURES
from .test_probes import FakeRunner

CAPTURED = FIXTURES / "captured"


def env() -> CheckEnv:
    return CheckEnv(FakeRunner({}), "test-host", {})


def _by(dto_findings: tuple[Finding, ...]) -> set[tuple[str, str, str, str]]:
    return {(f.area.value, f.verdict.value, f.code, f.subject) for f in dto_findings}


def healthy_dir(tmp: Path) -> Path:
    """A healthy cluster assembled from the real captures."""
    root = tmp / "healthy"
    for node in ("controller-0", "controller-1", "controller-2"):
        (root / node).mkdir(parents=True)
        shutil.copy(FIXTURES / "haproxy/show_stat_healthy.csv", root / node / "haproxy_stat.csv")
        shutil.copy(
            FIXTURES / "rabbitmq/cluster_status_3node.json",
            root / node / "rabbitmq_cluster_status.json",
        )
    shutil.copy(FIXTURES / "pacemaker/live-3node.crm_mon.xml", root / "crm_mon.xml")
    shutil.copy(
        FIXTURES / "redis/master_2replicas.txt", root / "controller-0/redis_info_replication.txt"
    )
    shutil.copy(FIXTURES / "redis/replica_up.txt", root / "controller-1/redis_info_replication.txt")
    shutil.copy(
        FIXTURES / "redis/replica2_up.txt", root / "controller-2/redis_info_replication.txt"
    )
    shutil.copy(FIXTURES / "constructed/ceph_status_ok.json", root / "ceph_status.json")
    for name in (
        "openstack_volume_service_list",
        "openstack_hypervisor_list",
        "openstack_network_agent_list",
    ):
        shutil.copy(FIXTURES / f"seeds/{name}.txt", root / f"{name}.json")
    return root


def test_incident_directory_findings() -> None:
    dto = check(env(), source=CapturedDir(CAPTURED))
    found = _by(dto.findings)
    assert {
        ("containers", "critical", codes.CONTAINER_UNHEALTHY, "redis-bundle-podman-0"),
        ("cluster", "critical", codes.FAILED_ACTION, "redis"),
        ("galera", "critical", codes.GALERA_NOT_READY, "controller-1"),
        ("galera", "warning", codes.GALERA_CLUSTER_SIZE, "controller-0"),
        ("redis", "ok", codes.REDIS_OK, "controller-0"),
        ("haproxy", "critical", codes.HAPROXY_BACKEND_DOWN, "redis_vip"),
        ("ceph", "ok", codes.CEPH_OK, "ceph"),
        (
            "openstack",
            "critical",
            codes.OPENSTACK_SERVICE_DOWN,
            "cinder-volume on hostgroup@tripleo_ceph",
        ),
    } <= found
    assert dto.has_critical and dto.verdict is Verdict.CRITICAL
    assert dto.areas == tuple(Area)


def test_only_limits_areas_but_keeps_cluster_context() -> None:
    dto = check(env(), source=CapturedDir(CAPTURED), only={"galera"})
    assert dto.areas == (Area.GALERA,)
    assert {f.area for f in dto.findings} == {Area.GALERA}
    # the expected size (3) comes from crm_mon's galera-bundle replicas
    assert any(f.code == codes.GALERA_CLUSTER_SIZE for f in dto.findings)


def test_only_accepts_comma_lists() -> None:
    dto = check(env(), source=CapturedDir(CAPTURED), only={"redis,haproxy"})
    assert dto.areas == (Area.REDIS, Area.HAPROXY)


def test_unknown_area_is_bad_input() -> None:
    with pytest.raises(CommandError) as err:
        check(env(), source=CapturedDir(CAPTURED), only={"galera", "mongo"})
    assert err.value.codes == [codes.CHECK_UNKNOWN_AREA]
    assert err.value.exit_code == 2


def test_missing_directory_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as err:
        check(env(), source=CapturedDir(tmp_path / "nope"))
    assert err.value.codes == [codes.CHECK_SOURCE_NOT_FOUND]


def test_empty_directory_skips_every_area(tmp_path: Path) -> None:
    dto = check(env(), source=CapturedDir(tmp_path))
    assert {f.verdict for f in dto.findings} == {Verdict.SKIPPED}
    assert {f.area for f in dto.findings} == set(Area)
    assert not dto.has_critical


def test_garbage_files_are_critical_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "ctl0").mkdir()
    for name in ("crm_mon.xml", "ceph_status.json", "openstack_hypervisor_list.json"):
        (tmp_path / name).write_bytes(b"\x00\xff garbage \x89PNG")
    for name in (
        "podman_ps.json",
        "galera_status.txt",
        "grastate.dat",
        "rabbitmq_cluster_status.json",
        "redis_info_replication.txt",
        "haproxy_stat.csv",
    ):
        (tmp_path / "ctl0" / name).write_text(
            (FIXTURES / "pacemaker/converged.crm_mon.xml").read_text()[:300]
        )
    dto = check(env(), source=CapturedDir(tmp_path))
    assert {f.area for f in dto.findings if f.code == codes.PROBE_UNPARSEABLE} == set(Area)
    assert all(
        f.verdict is Verdict.CRITICAL for f in dto.findings if f.code == codes.PROBE_UNPARSEABLE
    )


def test_cli_text_on_the_incident_directory(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--from", str(CAPTURED)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("CRITICAL")
    headers = [line for line in out.splitlines() if line.startswith("== ")]
    assert [h.split(":")[0][3:] for h in headers] == [a.value for a in Area]
    assert "$ pcs resource cleanup redis-bundle" in out


def test_cli_json_is_stable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--from", str(CAPTURED), "--output", "json", "--only", "redis"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == SCHEMA_VERSION
    assert set(data) == {
        "schema_version",
        "source",
        "verdict",
        "counts",
        "duration_s",
        "areas",
        "findings",
    }
    assert data["areas"] == [{"area": "redis", "verdict": "ok"}]
    assert set(data["findings"][0]) == {
        "verdict",
        "area",
        "code",
        "subject",
        "node",
        "summary",
        "evidence",
        "next_steps",
    }
    assert data["counts"]["ok"] == 3


def test_cli_healthy_directory_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = healthy_dir(tmp_path)
    assert main(["check", "--from", str(root), "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    verdicts = {f["verdict"] for f in data["findings"]}
    assert "critical" not in verdicts
    # the live lab had fenced a node once; fence history stays a warning
    assert {f["code"] for f in data["findings"] if f["verdict"] == "warning"} == {codes.NODE_FENCED}


def test_cli_bad_input_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["check", "--from", str(tmp_path / "missing")]) == 2
    assert "--from" in capsys.readouterr().err
    assert main(["check", "--from", str(CAPTURED), "--only", "nosuch"]) == 2
    assert "choose from" in capsys.readouterr().err


def test_save_writes_what_was_read_and_from_reads_it_back(tmp_path: Path) -> None:
    first = check(env(), source=CapturedDir(CAPTURED), save=tmp_path / "saved")
    saved = sorted(str(p.relative_to(tmp_path / "saved")) for p in (tmp_path / "saved").rglob("*"))
    assert "crm_mon.xml" in saved and "controller-0/galera_status.txt" in saved
    for rel in saved:
        if (CAPTURED / rel).is_file():
            assert (tmp_path / "saved" / rel).read_bytes() == (CAPTURED / rel).read_bytes(), rel
    again = check(env(), source=CapturedDir(tmp_path / "saved"))
    assert _by(again.findings) == _by(first.findings)


def test_save_into_a_directory_in_use_is_refused_before_any_probe(tmp_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine\n")
    with pytest.raises(CommandError) as err:
        check(env(), source=CapturedDir(CAPTURED), save=used)
    assert err.value.codes == [codes.CHECK_SAVE_NOT_EMPTY] and err.value.exit_code == 2
    assert [p.name for p in used.iterdir()] == ["notes.txt"]
