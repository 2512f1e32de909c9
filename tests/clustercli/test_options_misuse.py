"""Options that used to be ignored silently: --before/--after on a new group or together,
unsetting a property that is not set."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakeeper.cli.main import main
from hakeeper.coord import connect


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite://{tmp_path / 'store.db'}"
    assert main(["cluster", "setup", "demo", "ctl1", "--store", url]) == 0
    for rsc in ("d1", "d2"):
        assert main(["resource", "create", rsc, "ocf:heartbeat:Dummy", "--store", url]) == 0
    assert main(["resource", "group", "add", "g", "d2", "--store", url]) == 0
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
    except SystemExit as exit_:  # argparse's usage errors
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


CASES = [
    (["resource", "group", "add", "newg", "d1", "--before", "nope"], "the group is new"),
    (["resource", "group", "add", "newg", "d1", "--after", "d2"], "the group is new"),
    (["resource", "group", "add", "g", "d1", "--before", "d2", "--after", "d2"], "not allowed"),
    (
        ["resource", "create", "d3", "ocf:heartbeat:Dummy", "--group", "newg", "--before", "x"],
        "the group is new",
    ),
    (
        ["resource", "create", "d3", "ocf:heartbeat:Dummy", "--group", "g", "--before", "d2",
         "--after", "d2"],
        "together",
    ),
    (["property", "unset", "nope"], "cannot unset 'nope'"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_refused_with_nothing_stored(
    capsys: pytest.CaptureFixture[str], url: str, argv: list[str], message: str
) -> None:
    before = stored(url)
    code, err = run(capsys, url, *argv)
    assert code == 2 and message in err
    assert stored(url) == before


def test_unset_names_what_is_set(capsys: pytest.CaptureFixture[str], url: str) -> None:
    assert run(capsys, url, "property", "set", "stonith-enabled=false")[0] == 0
    code, err = run(capsys, url, "property", "unset", "stonith-enabeld")
    assert code == 2 and "stonith-enabled" in err  # the hint lists what is set
    assert run(capsys, url, "property", "unset", "stonith-enabled")[0] == 0
    assert "stonith-enabled" not in stored(url)[1]
