"""Edits the scheduler would refuse are refused before they are stored (else the leader
stops scheduling the whole cluster), and a stored configuration it refuses is reported
as the store's problem, with the way out."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakeeper.cli.main import main
from hakeeper.coord import connect

from .conftest import PROMOTABLE

BUNDLE_WITHOUT_ADDRESS = (
    '<bundle id="b1"><podman image="x"/>'
    '<primitive id="r1" class="ocf" provider="heartbeat" type="Dummy"/></bundle>'
)


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite://{tmp_path / 'store.db'}"
    assert main(["cluster", "setup", "demo", "ctl1", "ctl2", "--store", url]) == 0
    assert main(["property", "set", "stonith-enabled=false", "--store", url]) == 0
    return url


def stored(url: str) -> tuple[int, str]:
    with connect(url) as coord:
        doc = coord.read_config()
    assert doc is not None
    return doc.revision, doc.xml


def run(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main([*argv, "--store", url])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_promotable_stored_only_if_the_scheduler_takes_it(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    before = stored(url)
    code, err = run(capsys, url, "resource", "create", "p1", "ocf:pacemaker:Stateful", "promotable")
    if PROMOTABLE:
        assert code == 0, err
        assert 'id="p1-clone"' in stored(url)[1]
    else:
        assert code == 2
        assert "UNSUPPORTED_FEATURE" in err or "not supported by the scheduler" in err
        assert "nothing was written" in err and "crm_simulate" not in err
        assert stored(url) == before
    assert run(capsys, url, "status")[0] == 0


def test_bundle_the_scheduler_rejects_is_not_stored(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    assert run(capsys, url, "bundle", "create", "b1", "container", "podman", "image=x")[0] == 0
    before = stored(url)
    code, err = run(capsys, url, "resource", "create", "r1", "ocf:heartbeat:Dummy", "bundle", "b1")
    assert code == 2 and "control-port" in err and "nothing was written" in err
    assert stored(url) == before


def test_import_of_a_config_the_scheduler_rejects(
    capsys: pytest.CaptureFixture[str], url: str, tmp_path: Path
) -> None:
    before = stored(url)
    cib = before[1].replace("<resources/>", f"<resources>{BUNDLE_WITHOUT_ADDRESS}</resources>")
    assert BUNDLE_WITHOUT_ADDRESS in cib
    path = tmp_path / "cib.xml"
    path.write_text(cib)
    code, err = run(capsys, url, "cib", "import", str(path))
    assert code == 2 and "nothing was written" in err
    assert stored(url) == before


def test_status_of_a_stored_config_the_scheduler_refuses(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    """Stored behind the edit path's back (an older hakeeper, a raw store write)."""
    revision, xml = stored(url)
    bad = xml.replace("<resources/>", f"<resources>{BUNDLE_WITHOUT_ADDRESS}</resources>")
    with connect(url) as coord:
        new = coord.write_config(bad, expected_revision=revision)
    code, err = run(capsys, url, "status")
    assert code == 2
    assert url in err and f"revision {new}" in err
    assert "hakeeper cib export" in err and "resource delete" in err
    assert "<cib>" not in err and "crm_simulate" not in err
