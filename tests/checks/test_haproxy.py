"""HAProxy findings from real haproxy 2.6 `show stat` CSV."""

from __future__ import annotations

import pytest

from hakeeper.checks import codes, haproxy
from hakeeper.checks.capture import ProbeOutputError
from hakeeper.checks.finding import Verdict
from hakeeper.checks.haproxy import assess_stats, parse_show_stat

from .conftest import captures_of, fixture_text, ok_capture


def found(name: str) -> set[tuple[Verdict, str, str]]:
    rows = parse_show_stat(fixture_text(f"haproxy/{name}.csv"))
    return {(f.verdict, f.code, f.subject) for f in assess_stats(rows, node="ctl0")}


def test_healthy_with_redis_replica_down_by_design() -> None:
    assert found("show_stat_healthy") == {(Verdict.OK, codes.HAPROXY_OK, "ctl0")}


def test_server_down_and_backend_down() -> None:
    assert found("show_stat_server_down_backend_down") == {
        (Verdict.WARNING, codes.HAPROXY_SERVER_DOWN, "web_vip/ctl1"),
        (Verdict.CRITICAL, codes.HAPROXY_BACKEND_DOWN, "redis_vip"),
    }


def test_server_in_maintenance() -> None:
    assert found("show_stat_maint") == {
        (Verdict.WARNING, codes.HAPROXY_SERVER_MAINT, "web_vip/ctl2")
    }


def test_rows() -> None:
    rows = parse_show_stat(fixture_text("haproxy/show_stat_server_down_backend_down.csv"))
    down = next(r for r in rows if r.proxy == "web_vip" and r.name == "ctl1")
    assert (down.state, down.check_status) == ("DOWN", "L4CON")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Unknown command. Please enter one of the following commands only :\n",
        "# pxname,svname,status\n",
        fixture_text("haproxy/show_stat_healthy.csv").splitlines()[0] + "\nweb_vip\n",
    ],
)
def test_broken_output(text: str) -> None:
    with pytest.raises(ProbeOutputError):
        parse_show_stat(text)
    (f,) = haproxy.assess(captures_of(ok_capture(haproxy.KEY, "ctl0", text)))
    assert (f.verdict, f.code) == (Verdict.CRITICAL, codes.PROBE_UNPARSEABLE)
