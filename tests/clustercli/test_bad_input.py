"""Bad input through the command line: a message saying what, where and what to do, a
non-zero exit code, no traceback, and the stored configuration untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakeeper.cli.main import main
from hakeeper.coord import connect


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite://{tmp_path / 'store.db'}"
    assert main(["cluster", "setup", "demo", "ctl1", "ctl2", "--store", url]) == 0
    assert (
        main(["resource", "create", "vip", "ocf:heartbeat:IPaddr2", "ip=10.0.0.10", "--store", url])
        == 0
    )
    return url


def config_xml(url: str) -> str:
    with connect(url) as coord:
        doc = coord.read_config()
    assert doc is not None
    return doc.xml


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


CASES = [
    (
        ["resource", "update", "nope", "ip=1.2.3.4"],
        "no resource 'nope' in the configuration",
        "known resources: vip",
    ),
    (["resource", "disable", "nope"], "no resource 'nope'", "known resources: vip"),
    (["resource", "move", "nope", "ctl1"], "no resource 'nope'", "known resources"),
    (["resource", "ban", "vip", "ctl9"], "no node 'ctl9'", "known nodes: ctl1, ctl2"),
    (
        ["constraint", "location", "add", "vip", "ctl1", "lots"],
        "'lots' is not a score",
        "use an integer, INFINITY or -INFINITY",
    ),
    (
        ["constraint", "colocation", "add", "vip", "with", "ghost"],
        "no resource 'ghost'",
        "known resources: vip",
    ),
    (
        ["resource", "create", "vip", "ocf:heartbeat:Dummy"],
        "id 'vip' is already used",
        "choose another id",
    ),
    (
        ["constraint", "location", "add", "vip", "vip", "ctl1", "10"],
        "id 'vip' is already used",
        "choose another id",
    ),
    (
        ["resource", "create", "9lives", "ocf:heartbeat:Dummy"],
        "'9lives' is not a valid resource id",
        "start with a letter",
    ),
    (
        ["resource", "create", "x", "ocf:heartbeat:Dummy", "oops"],
        "'oops' is not of the form name=value",
        "name=value",
    ),
    (
        ["resource", "create", "x", "nosuch:agent"],
        "not a resource agent name",
        "STANDARD:PROVIDER:TYPE",
    ),
    (
        ["resource", "update", "vip", "op", "monitor", "interval=often"],
        "'often' is not an interval",
        "10s",
    ),
    (
        ["constraint", "remove", "no-such-constraint"],
        "no constraint 'no-such-constraint'",
        "constraint list --full",
    ),
    (
        ["constraint", "order", "add", "vip", "after", "vip"],
        "needs `FIRST then THEN`",
        "constraint order add",
    ),
    (["node", "standby", "ctl7"], "no node 'ctl7'", "known nodes"),
    (
        ["resource", "create", "x", "ocf:heartbeat:IPaddr2", "ipp=10.0.0.1"],
        "invalid option(s) for ocf:heartbeat:IPaddr2: ipp",
        "allowed: ip, ",
    ),
    (
        ["resource", "create", "x", "ocf:heartbeat:IPaddr2", "cidr_netmask=24"],
        "required option(s) of ocf:heartbeat:IPaddr2 missing: ip",
        "name=value",
    ),
    (["resource", "update", "vip", "ipp=10.0.0.1"], "invalid option(s)", "allowed: ip, "),
    (
        ["resource", "create", "x", "ocf:heartbeat:NoSuchAgent"],
        "agent ocf:heartbeat:NoSuchAgent cannot be used here",
        "--force",
    ),
    (
        ["property", "set", "stonith-enable=false"],
        "'stonith-enable' is not a cluster property",
        "did you mean stonith-enabled",
    ),
    (
        ["property", "set", "no-quorum-policy=maybe"],
        "'maybe' is not a value of no-quorum-policy",
        "stop, freeze, ignore, demote, suicide",
    ),
    (["property", "set", "stonith-enabled=perhaps"], "'perhaps' is not a value", "true, false"),
]


@pytest.mark.parametrize(
    ("argv", "message", "hint"), CASES, ids=[" ".join(c[0][:3]) for c in CASES]
)
def test_bad_input_is_reported_and_nothing_changes(
    store: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str, hint: str
) -> None:
    before = config_xml(store)
    code, err = run(capsys, *argv, "--store", store)
    assert code == 2
    what, _, advice = err.partition("\n  hint: ")
    assert message in what and hint in advice
    assert config_xml(store) == before


def test_no_cluster_in_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "status", "--store", f"sqlite://{tmp_path / 'empty.db'}")
    assert code == 2
    assert "holds no cluster configuration" in err and "cluster setup" in err


def test_a_bad_store_url(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "property", "list", "--store", "zookeeper://x")
    assert code == 2
    assert "unknown store" in err and "hint: use sqlite:///PATH" in err


def test_store_from_the_environment(
    store: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HAKEEPER_STORE", store)
    code, _ = run(capsys, "resource", "disable", "vip")
    assert code == 0
    assert 'name="target-role" value="Stopped"' in config_xml(store)


def test_import_of_a_cib_with_a_dangling_reference(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = config_xml(store)
    bad = before.replace(
        "<constraints/>",
        '<constraints><rsc_location id="l1" rsc="ghost" node="ctl1" score="10"/></constraints>',
    )
    assert bad != before
    path = tmp_path / "bad.xml"
    path.write_text(bad)
    code, err = run(capsys, "cib", "import", str(path), "--store", store)
    assert code == 2
    assert "constraint 'l1' names resource 'ghost', which does not exist" in err
    assert config_xml(store) == before


def test_an_unreachable_store(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "status", "--store", "etcd://127.0.0.1:1?timeout=1")
    assert code == 2
    assert "the store etcd://127.0.0.1:1?timeout=1 could not be used" in err
    assert "hint: check that the store is reachable" in err
