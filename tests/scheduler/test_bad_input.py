"""Bad input to `hakeeper simulate`: one clear error with its place, exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakeeper.cli.main import main

GOOD_HEAD = """<cib validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o-s" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="ctl0"/><node id="2" uname="ctl1"/></nodes>
"""


def _cib(resources: str, constraints: str = "") -> str:
    return (
        GOOD_HEAD + f"    <resources>{resources}</resources>\n"
        f"    <constraints>{constraints}</constraints>\n  </configuration>\n"
        "  <status/>\n</cib>\n"
    )


def _run(
    tmp_path: Path, text: str, *extra: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    path = tmp_path / "cib.xml"
    path.write_text(text)
    code = main(["simulate", *extra, str(path)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_malformed_xml_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(tmp_path, _cib('<primitive id="a" class="ocf"'), capsys=capsys)
    assert code == 2
    assert "not well-formed XML" in err
    assert "cib.xml:" in err


def test_dangling_id_ref(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = (
        '<primitive id="a" class="ocf" provider="heartbeat" type="Dummy">'
        '<meta_attributes id-ref="nowhere"/></primitive>'
    )
    code, err = _run(tmp_path, _cib(res), capsys=capsys)
    assert code == 2
    assert '"nowhere"' in err
    assert "cib.xml:7:" in err  # the line of the <resources> element holding it


def test_unknown_resource_class(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(
        tmp_path, _cib('<primitive id="a" class="bogus" type="Dummy"/>'), capsys=capsys
    )
    assert code == 2
    assert 'unknown resource class "bogus"' in err


def test_bad_score(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = '<primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>'
    cons = '<rsc_location id="l" rsc="a" node="ctl0" score="lots"/>'
    code, err = _run(tmp_path, _cib(res, cons), capsys=capsys)
    assert code == 2
    assert 'score="lots"' in err
    assert "is not a score" in err


def test_unknown_node_in_node_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = '<primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>'
    code, err = _run(tmp_path, _cib(res), "--node-fail", "ctl9", capsys=capsys)
    assert code == 2
    assert "no node named 'ctl9'" in err
    assert "ctl0, ctl1" in err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(tmp_path / "absent.xml")]) == 2
    assert "no such file" in capsys.readouterr().err
