"""Permanent node attributes written for agents (crm_attribute -l forever): a write that
changes nothing leaves the configuration, its revision and epoch alone."""

from __future__ import annotations

from pathlib import Path

from hakeeper.cib.parse import parse_cib_text
from hakeeper.coord import connect
from hakeeper.node import permanent
from hakeeper.node.permanent import Written

CIB = """<cib epoch="4" num_updates="0" admin_epoch="0" validate-with="pacemaker-3.9">
  <configuration><crm_config/><nodes/><resources/><constraints/></configuration>
  <status/>
</cib>"""


def test_a_repeated_write_is_unchanged_and_stores_nothing(tmp_path: Path) -> None:
    coord = connect(f"sqlite:///{tmp_path}/s.db")
    assert permanent.write(coord, "ctl0", "rmq-last", "rabbit@a") is Written.NO_CONFIGURATION
    coord.write_config(CIB, expected_revision=0)

    assert permanent.write(coord, "ctl0", "rmq-last", "rabbit@a") is Written.CHANGED
    first = coord.read_config()
    assert first is not None
    assert parse_cib_text(first.xml).root_attr("epoch") == "5"

    assert permanent.write(coord, "ctl0", "rmq-last", "rabbit@a") is Written.UNCHANGED
    again = coord.read_config()
    assert again is not None and again.revision == first.revision
    assert permanent.read(coord, "ctl0", "rmq-last") == "rabbit@a"

    assert permanent.write(coord, "ctl0", "rmq-last", "rabbit@b") is Written.CHANGED
    assert permanent.read(coord, "ctl0", "rmq-last") == "rabbit@b"
    assert permanent.write(coord, "ctl0", "rmq-last", None) is Written.CHANGED
    assert permanent.write(coord, "ctl0", "rmq-last", None) is Written.UNCHANGED
    assert permanent.write(coord, "ctl9", "rmq-last", None) is Written.UNCHANGED
