"""Values are type-checked before they are stored, and what the CLI stores is a CIB
Pacemaker's own crm_verify accepts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hakeeper.cli.main import main
from hakeeper.coord import connect


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite://{tmp_path / 'store.db'}"
    assert main(["cluster", "setup", "demo", "ctl1", "ctl2", "--store", url]) == 0
    assert main(["property", "set", "stonith-enabled=false", "--store", url]) == 0
    assert main(["resource", "create", "d1", "ocf:heartbeat:Dummy", "--store", url]) == 0
    return url


def stored(url: str) -> tuple[int, str]:
    with connect(url) as coord:
        doc = coord.read_config()
    assert doc is not None
    return doc.revision, doc.xml


def run(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    try:
        code = main([*argv, "--store", url])
    except SystemExit as exit_:  # argparse's own usage errors
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


BAD = [
    (
        ["bundle", "create", "b1", "container", "podman", "image=x", "network", "control-port=abc"],
        "control-port 'abc'",
    ),
    (
        ["bundle", "create", "b1", "container", "podman", "image=x", "port-map", "port=99999"],
        "port-map port '99999'",
    ),
    (["bundle", "create", "b1", "container", "podman", "image=x", "replicas=two"], "replicas"),
    (["resource", "meta", "d1", "target-role=Bogus"], "target-role 'Bogus'"),
    (["resource", "meta", "d1", "resource-stickiness=lots"], "resource-stickiness 'lots'"),
    (["resource", "create", "d2", "ocf:heartbeat:Dummy", "meta", "target-role=x"], "target-role"),
    (["node", "utilization", "ctl1", "cpu=abc"], "utilization cpu 'abc'"),
    (["resource", "update", "d1", "fake=1", "--wait=-1"], "positive number of seconds"),
    (["resource", "update", "d1", "fake=1", "--wait=abc"], "positive number of seconds"),
    (["resource", "meta", "d1", "priority=1", "--wait=0"], "positive number of seconds"),
    (["resource", "restart", "d1", "--timeout=-5"], "positive number of seconds"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_values_are_refused_and_nothing_is_stored(
    capsys: pytest.CaptureFixture[str], url: str, argv: list[str], message: str
) -> None:
    before = stored(url)
    code, err = run(capsys, url, *argv)
    assert code == 2
    assert message in err
    assert stored(url) == before


GOOD_EDITS = [
    ["resource", "create", "vip", "ocf:heartbeat:IPaddr2", "ip=10.0.0.9", "op", "monitor",
     "interval=5s", "meta", "resource-stickiness=INFINITY"],
    ["resource", "create", "web", "ocf:heartbeat:Dummy", "clone", "interleave=true"],
    ["resource", "create", "a", "ocf:heartbeat:Dummy", "--group", "g"],
    ["resource", "create", "b", "ocf:heartbeat:Dummy", "--group", "g", "--before", "a"],
    ["resource", "meta", "d1", "target-role=Stopped", "migration-threshold=3", "priority=-5"],
    ["resource", "update", "d1", "fake=x"],
    ["node", "utilization", "ctl1", "cpu=4", "memory=2048"],
    ["node", "attribute", "ctl2", "rack=r1"],
    ["node", "standby", "ctl2"],
    ["bundle", "create", "rb", "container", "podman", "image=localhost/redis", "replicas=2",
     "network", "control-port=3121", "port-map", "port=6379"],
    ["resource", "create", "redis", "ocf:heartbeat:redis", "bundle", "rb"],
    ["constraint", "location", "add", "vip", "ctl1", "100"],
    ["constraint", "colocation", "add", "vip", "with", "web-clone", "INFINITY"],
    ["constraint", "order", "add", "web-clone", "then", "vip"],
    ["resource", "ban", "vip", "ctl2"],
    ["property", "set", "no-quorum-policy=ignore"],
]  # fmt: skip


@pytest.mark.skipif(shutil.which("crm_verify") is None, reason="needs pacemaker-cli-utils")
def test_crm_verify_accepts_every_cib_the_cli_stores(
    capsys: pytest.CaptureFixture[str], url: str, tmp_path: Path
) -> None:
    path = tmp_path / "cib.xml"
    for argv in GOOD_EDITS:
        code, err = run(capsys, url, *argv)
        assert code == 0, (argv, err)
        path.write_text(stored(url)[1])
        verdict = subprocess.run(
            ["crm_verify", "-V", "-x", str(path)], capture_output=True, text=True, check=False
        )
        assert verdict.returncode == 0, (argv, verdict.stdout + verdict.stderr)
