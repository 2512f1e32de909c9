"""The hakeeper-cluster source without a lab: its status read into the cluster model, and
every way a probe of it can break (store missing, hanging, a bug; a client missing, hanging
or printing garbage; a service gone) giving a finding with the reason, never a crash.

The status is hakeeper's own (status_of on a CIB with history); the processes on the host
are a HostView built by hand, the OS edges (runner, socket) fakes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from hakeeper.checks import codes
from hakeeper.checks.finding import Area, Finding, Verdict
from hakeeper.checks.runner import RunResult
from hakeeper.checks.where import HostView, Process
from hakeeper.cib.parse import parse_cib_file, parse_cib_text
from hakeeper.commands.check import CheckDto, CheckEnv, HakeeperCluster, check
from hakeeper.commands.check_cluster import (
    cluster_source,
    crm_of,
    hakeeper_step,
    where_services_run,
)
from hakeeper.commands.env import Env
from hakeeper.commands.status import StatusDto, status_of
from hakeeper.model.cib import Cib
from hakeeper.reports import CommandError, Report
from hakeeper.reports import codes as report_codes

from .conftest import FIXTURES, fixture_text

OP = (
    '<lrm_rsc_op id="{id}" operation_key="{rsc}_{op}_{iv}" operation="{op}" call-id="{call}"'
    ' rc-code="{rc}" op-status="0" interval="{iv}" last-rc-change="1763700000"'
    ' exec-time="10" queue-time="0" transition-key="1:1:0:x" crm_feature_set="3.16.1"'
    ' on_node="{node}"{reason}/>'
)


def _op(rsc: str, node: str, op: str, iv: int, rc: int, call: int, id_: str = "") -> str:
    reason = ' exit-reason="not running"' if rc not in (0, 7) or (op == "monitor" and rc) else ""
    return OP.format(
        id=id_ or f"{rsc}_last_0", rsc=rsc, op=op, iv=iv, rc=rc, call=call, node=node, reason=reason
    )


def cib_text(redis_failed: bool = False) -> str:
    def state(node: str, nid: str, lrm: str, attrs: str = "") -> str:
        return (
            f'<node_state id="{nid}" uname="{node}" in_ccm="true" crmd="online" join="member"'
            f' expected="member"><transient_attributes id="{nid}"><instance_attributes'
            f' id="status-{nid}">{attrs}</instance_attributes></transient_attributes>'
            f'<lrm id="{nid}"><lrm_resources>{lrm}</lrm_resources></lrm></node_state>'
        )

    def rsc(rid: str, kind: str, ops: str) -> str:
        return (
            f'<lrm_resource id="{rid}" class="ocf" provider="heartbeat" type="{kind}">'
            f"{ops}</lrm_resource>"
        )

    n1_redis = _op("redis", "n1", "start", 0, 0, 3)
    n1_attrs = ""
    if redis_failed:
        n1_redis += _op("redis", "n1", "monitor", 5000, 7, 4, "redis_last_failure_0")
        n1_attrs = (
            '<nvpair id="fc" name="fail-count-redis#monitor_5000" value="2"/>'
            '<nvpair id="lf" name="last-failure-redis#monitor_5000" value="1763700000"/>'
        )
    return f"""<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1"
 num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1">
<configuration>
 <crm_config><cluster_property_set id="o">
  <nvpair id="o-s" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
 <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
 <resources>
  <primitive id="redis" class="ocf" provider="heartbeat" type="redis"/>
  <clone id="haproxy-clone"><primitive id="haproxy" class="ocf" provider="heartbeat"
   type="anything"/></clone>
 </resources>
 <constraints/>
</configuration>
<status>
 {
        state(
            "n1",
            "1",
            rsc("redis", "redis", n1_redis)
            + rsc("haproxy", "anything", _op("haproxy", "n1", "start", 0, 0, 5)),
            n1_attrs,
        )
    }
 {
        state(
            "n2",
            "2",
            rsc("redis", "redis", _op("redis", "n2", "monitor", 0, 7, 2))
            + rsc("haproxy", "anything", _op("haproxy", "n2", "start", 0, 0, 6)),
        )
    }
</status>
</cib>"""


def status(redis_failed: bool = False) -> tuple[StatusDto, Cib]:
    cib = parse_cib_text(cib_text(redis_failed))
    return status_of(cib, 1, 1), cib


class FakeRunner:
    """Answers expected argv with canned results; fails on anything else."""

    def __init__(self, answers: dict[tuple[str, ...], RunResult]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], *, timeout: float) -> RunResult:
        key = tuple(argv)
        self.calls.append(key)
        if key not in self.answers:
            raise AssertionError(f"unexpected command {key}")
        return self.answers[key]


REDIS_PID, HAPROXY_PID = 101, 202
REDIS_CLI = (
    "nsenter", "--target", str(REDIS_PID), "--net", "--",
    "redis-cli", "-h", "10.1.0.1", "-p", "6379", "INFO", "replication",
)  # fmt: skip


def host(tmp_path: Path, *, redis_running: bool = True) -> HostView:
    """Node n1 is this host: redis and haproxy run in its namespace (inode 1)."""
    root = tmp_path / str(HAPROXY_PID) / "root"
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "haproxy.cfg").write_text(
        "global\n    stats socket /run/haproxy/admin.sock mode 600 level admin\n"
    )
    procs = [Process(HAPROXY_PID, "haproxy", ("/usr/sbin/haproxy", "-f", "/etc/haproxy.cfg"), 1)]
    if redis_running:
        procs.append(
            Process(REDIS_PID, "redis-server", ("/usr/bin/redis-server 10.1.0.1:6379",), 1)
        )
    return HostView(tuple(procs), host_netns=1, proc=tmp_path)


def run(
    tmp_path: Path,
    runner: FakeRunner,
    *,
    view: HostView | None = None,
    socket_answer: object = None,
    read: object = None,
) -> dict[tuple[str, str | None], Finding]:
    def query(path: str, command: str, timeout: float) -> str:
        assert path == f"{tmp_path}/{HAPROXY_PID}/root/run/haproxy/admin.sock"
        if isinstance(socket_answer, BaseException):
            raise socket_answer
        return str(socket_answer or fixture_text("haproxy/show_stat_healthy.csv"))

    source = cluster_source(
        Env("memory://test"),
        runner,
        "n1",
        timeout=0.5,
        read=read or (lambda env: status()),  # type: ignore[arg-type]
        look=lambda: view or host(tmp_path),
        socket_query=query,
    )
    from hakeeper.commands import check as check_module

    captures = [job.run() for job in source.jobs(check_module.probes_for(frozenset(Area)))]
    from hakeeper.checks.capture import Captures

    assessors = check_module._assessors(Captures.of(captures))
    found: dict[tuple[str, str | None], Finding] = {}
    for area in (Area.CLUSTER, Area.REDIS, Area.HAPROXY, Area.GALERA):
        for f in check_module._judge(area, assessors[area]):
            found.setdefault((f.code, f.node), f)
            found.setdefault((f.code, f"{f.node}/{f.area.value}"), f)
    return found


def ok(argv: tuple[str, ...], out: str) -> RunResult:
    return RunResult(argv, 0, out)


def test_status_becomes_the_cluster_model_with_failures_and_fail_counts() -> None:
    dto, cib = status(redis_failed=True)
    crm = crm_of(dto, cib)
    assert [(n.name, n.online) for n in crm.nodes] == [("n1", True), ("n2", True)]
    assert crm.with_quorum and crm.dc_present
    (failure,) = crm.failures
    assert (failure.resource, failure.node, failure.task, failure.exitcode) == (
        "redis",
        "n1",
        "monitor",
        7,
    )
    (history,) = crm.histories
    assert (history.resource, history.node, history.fail_count) == ("redis", "n1", 2)
    assert where_services_run(dto)["haproxy"] == ("n1", "n2")


def test_a_fenced_node_from_hakeeper_fencing_history_is_named_with_what_to_do() -> None:
    from hakeeper.checks import cluster
    from hakeeper.node.records import FenceRecord

    dto, cib = status()
    dto = replace(
        dto,
        fencing=(
            FenceRecord("reboot", "n2", "success", "n1", "n1", "fence-n2", 1_794_995_260.0),
            FenceRecord(
                "reboot", "n2", "failed", "n1", "n1", "fence-n2", 1_794_995_200.0, "timeout"
            ),
        ),
    )
    crm = crm_of(dto, cib)
    assert [(e.target, e.status, e.completed) for e in crm.fence_events] == [
        ("n2", "success", "2026-11-18 09:47:40Z"),
        ("n2", "failed", "2026-11-18 09:46:40Z"),
    ]
    found = {f.code: f for f in cluster.assess_crm_mon(crm) if f.subject == "n2"}
    fenced, failed = found[codes.NODE_FENCED], found[codes.FENCING_FAILED]
    assert (fenced.verdict, fenced.node) == (Verdict.WARNING, "n2")
    assert (failed.verdict, failed.node) == (Verdict.CRITICAL, "n2")
    assert [hakeeper_step(s) for s in fenced.next_steps] == [
        "hakeeper stonith history show n2",
        "hakeeper stonith history cleanup n2",
    ]


def test_the_live_read_of_a_hakeeper_cluster_carries_its_fencing_history(tmp_path: Path) -> None:
    """A real SQLite store, read as `check` reads it: the history the leader recorded."""
    from hakeeper.commands.check_cluster import read_cluster
    from hakeeper.commands.cluster import cluster_setup
    from hakeeper.node.records import FenceRecord, fence_key, with_fence_record

    env = Env(f"sqlite://{tmp_path}/store.db", str(tmp_path / "run"))
    cluster_setup(env, "demo", ["n1", "n2"])
    record = FenceRecord("reboot", "n2", "success", "n1", "n1", "fence-n2", 1_794_995_200.0)
    with env.coordinator() as coord:
        coord.write_status({fence_key("n2"): with_fence_record(None, record)})
    dto, cib = read_cluster(env)
    assert dto.fencing == (record,)
    assert [(e.target, e.status) for e in crm_of(dto, cib).fence_events] == [("n2", "success")]


def test_save_keeps_a_hakeeper_clusters_status_as_the_crm_mon_xml_it_judged(
    tmp_path: Path,
) -> None:
    from hakeeper.cli.status_output import as_xml
    from hakeeper.commands.check import CapturedDir
    from hakeeper.commands.cluster import cluster_setup
    from hakeeper.node.records import FenceRecord, fence_key, with_fence_record

    env = Env(f"sqlite://{tmp_path}/store.db", str(tmp_path / "run"))
    cluster_setup(env, "demo", ["n1", "n2"])
    record = FenceRecord("reboot", "n2", "success", "n1", "n1", "fence-n2", 1_794_995_200.0)
    with env.coordinator() as coord:
        coord.write_status({fence_key("n2"): with_fence_record(None, record)})
    check_env = CheckEnv(FakeRunner({}), "test-host", {})
    live = check(
        check_env, source=HakeeperCluster(env, as_xml), only={"cluster"}, save=tmp_path / "saved"
    )
    assert [p.name for p in (tmp_path / "saved").iterdir()] == ["crm_mon.xml"]
    again = check(check_env, source=CapturedDir(tmp_path / "saved"), only={"cluster"})

    def judged(dto: CheckDto) -> list[tuple[str, str, str | None]]:
        return sorted((f.code, f.subject, f.node) for f in dto.findings)

    assert (codes.NODE_FENCED, "n2", "n2") in judged(live)
    assert judged(again) == judged(live)


def test_failed_action_from_hakeeper_status_names_the_node(tmp_path: Path) -> None:
    runner = FakeRunner({REDIS_CLI: ok(REDIS_CLI, "# Replication\r\nrole:master\r\n")})
    found = run(tmp_path, runner, read=lambda env: status(redis_failed=True))
    failed = found[(codes.FAILED_ACTION, "n1")]
    assert failed.verdict is Verdict.CRITICAL and "fail-count 2" in failed.summary
    assert found[(codes.STONITH_DISABLED, None)].verdict is Verdict.WARNING


def test_services_probed_where_they_run_healthy(tmp_path: Path) -> None:
    runner = FakeRunner(
        {REDIS_CLI: ok(REDIS_CLI, "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n")}
    )
    found = run(tmp_path, runner)
    assert found[(codes.REDIS_OK, "n1")].verdict is Verdict.OK
    assert found[(codes.HAPROXY_OK, "n1")].verdict is Verdict.OK
    # n2 is another machine: its haproxy is not probed from here, and that is said
    skipped = found[(codes.PROBE_NOT_CAPTURED, "n2")]
    assert skipped.verdict is Verdict.SKIPPED and "another machine" in skipped.summary
    assert "no galera resource" in found[(codes.PROBE_NOT_CAPTURED, None)].summary
    assert runner.calls == [REDIS_CLI]


def test_client_missing_is_skipped_with_the_reason(tmp_path: Path) -> None:
    runner = FakeRunner({REDIS_CLI: RunResult(REDIS_CLI, None, missing=True)})
    f = run(tmp_path, runner)[(codes.PROBE_NOT_CAPTURED, "n1")]
    assert f.verdict is Verdict.SKIPPED and "not installed" in f.summary


def test_client_hanging_is_critical(tmp_path: Path) -> None:
    runner = FakeRunner({REDIS_CLI: RunResult(REDIS_CLI, None, timed_out=True)})
    f = run(tmp_path, runner)[(codes.PROBE_TIMEOUT, "n1")]
    assert f.verdict is Verdict.CRITICAL and f.area is Area.REDIS


def test_garbage_output_is_unparseable(tmp_path: Path) -> None:
    runner = FakeRunner({REDIS_CLI: ok(REDIS_CLI, "\x00\x01 segfault ###")})
    found = run(tmp_path, runner, socket_answer="<html>not csv</html>")
    for area in (Area.REDIS, Area.HAPROXY):
        f = found[(codes.PROBE_UNPARSEABLE, f"n1/{area.value}")]
        assert f.verdict is Verdict.CRITICAL and f.node == "n1"


def test_stats_socket_hanging_or_refusing(tmp_path: Path) -> None:
    runner = FakeRunner({REDIS_CLI: ok(REDIS_CLI, "role:master\r\n")})
    hung = run(tmp_path, runner, socket_answer=TimeoutError())
    assert hung[(codes.PROBE_TIMEOUT, "n1")].area is Area.HAPROXY
    refused = run(tmp_path, runner, socket_answer=ConnectionRefusedError(111, "refused"))
    assert "refused" in refused[(codes.PROBE_FAILED, "n1")].summary


def test_service_gone_under_the_cluster_is_critical_on_its_node(tmp_path: Path) -> None:
    found = run(tmp_path, FakeRunner({}), view=host(tmp_path, redis_running=False))
    f = found[(codes.PROBE_FAILED, "n1")]
    assert f.area is Area.REDIS and f.verdict is Verdict.CRITICAL
    assert "no redis process runs there" in f.summary


def test_store_without_a_cluster_is_a_critical_finding(tmp_path: Path) -> None:
    """A real (empty) SQLite store, through the CLI's library command."""
    url = f"sqlite://{tmp_path}/empty.db"
    env = CheckEnv.from_os()
    dto = check(env, source=HakeeperCluster(Env(url)), only={"cluster", "redis"})
    cluster = next(f for f in dto.findings if f.area is Area.CLUSTER)
    assert (cluster.verdict, cluster.code) == (Verdict.CRITICAL, codes.PROBE_FAILED)
    assert url in cluster.evidence[0]
    redis_f = next(f for f in dto.findings if f.area is Area.REDIS)
    assert redis_f.verdict is Verdict.SKIPPED and "could not be read" in redis_f.summary


def test_store_hanging_or_a_bug_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    def hang(env: Env) -> tuple[StatusDto, Cib]:
        time.sleep(3)
        return status()

    def bug(env: Env) -> tuple[StatusDto, Cib]:
        raise KeyError("boom")

    def refused(env: Env) -> tuple[StatusDto, Cib]:
        raise CommandError(Report.error(report_codes.STORE_UNAVAILABLE, "etcd refused"))

    runner = FakeRunner({})
    began = time.monotonic()
    hung = run(tmp_path, runner, read=hang)
    assert time.monotonic() - began < 2
    assert hung[(codes.PROBE_TIMEOUT, None)].area is Area.CLUSTER
    assert (
        "internal error: KeyError"
        in run(tmp_path, runner, read=bug)[(codes.PROBE_FAILED, None)].summary
    )
    assert "etcd refused" in run(tmp_path, runner, read=refused)[(codes.PROBE_FAILED, None)].summary


def test_next_steps_are_hakeeper_commands_on_a_hakeeper_cluster() -> None:
    assert hakeeper_step("pcs resource cleanup redis --node n1") == (
        "hakeeper resource cleanup redis --node n1"
    )
    assert hakeeper_step("crm_resource --why --resource redis") == "hakeeper status"
    assert hakeeper_step("pcs property set stonith-enabled=true") == (
        "hakeeper property set stonith-enabled=true"
    )
    assert hakeeper_step("pcs stonith history cleanup n2") == "hakeeper stonith history cleanup n2"
    assert hakeeper_step("pcs status --full") == "hakeeper status --full"
    # what has no hakeeper counterpart stays as it is
    assert hakeeper_step("ssh n1 podman logs --tail 100 x") == "ssh n1 podman logs --tail 100 x"


def _judged(crm_or_text: object) -> list[tuple[str, str, str | None, str]]:
    from hakeeper.checks import cluster
    from hakeeper.checks.capture import Capture, Captures, CaptureStatus
    from hakeeper.checks.crm_mon import CrmMon

    if isinstance(crm_or_text, CrmMon):
        capture = Capture(cluster.KEY, None, "status", CaptureStatus.OK, parsed=crm_or_text)
    else:
        capture = Capture(cluster.KEY, None, "crm_mon", CaptureStatus.OK, str(crm_or_text))
    found = cluster.assess(Captures.of([capture]))
    return sorted((f.code, f.subject, f.node, f.verdict.value) for f in found)


@pytest.mark.parametrize(
    "state", ["converged", "after-redis-fail", "after-stonith-nodefail", "after-stop-fail"]
)
def test_hakeeper_status_and_crm_mon_of_one_state_give_the_same_findings(state: str) -> None:
    # the seeds' cluster in four states: Pacemaker's crm_mon XML of each, and hakeeper's own
    # status of the CIB it was printed from, judged by the same rules
    cib = parse_cib_file(str(FIXTURES / "pacemaker" / f"{state}.cib.xml"))
    ours = _judged(crm_of(status_of(cib, 1, 1), cib))
    assert ours == _judged(fixture_text(f"pacemaker/{state}.crm_mon.xml"))


def test_bundle_with_fewer_replicas_running_than_configured_from_hakeeper_status() -> None:
    # controller-0 was fenced: every bundle has 2 of its 3 configured replicas running
    cib = parse_cib_file(str(FIXTURES / "pacemaker" / "after-stonith-nodefail.cib.xml"))
    crm = crm_of(status_of(cib, 1, 1), cib)
    galera = next(b for b in crm.bundles if b.id == "galera-bundle")
    assert [r.running for r in galera.replicas] == [False, True, True]
    assert [r.id for r in galera.replicas[1].resources] == [
        "galera",
        "galera-bundle-podman-1",
        "galera-bundle-1",
    ]
    assert crm.host_of("galera-bundle-1") == "controller-1"
    found = {(f[0], f[1]): f for f in _judged(crm)}
    for bundle in ("galera-bundle", "rabbitmq-bundle", "redis-bundle", "haproxy-bundle"):
        assert found[(codes.BUNDLE_DEGRADED, bundle)][3] == "warning"
    # a guest node is not a cluster member: only controller-0 is offline
    assert [f[1] for f in found.values() if f[0] == codes.NODE_OFFLINE] == ["controller-0"]
