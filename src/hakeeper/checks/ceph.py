"""Ceph: overall health, OSDs up/in, monitor quorum, placement groups, from
`ceph -s -f json` (Nautilus and later; the nested osdmap of Luminous is read too)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hakeeper.checks import codes
from hakeeper.checks.capture import (
    Captures,
    ProbeOutputError,
    capture_problem,
    require_text,
    unparseable,
)
from hakeeper.checks.finding import Area, Finding, Verdict, finding

AREA = Area.CEPH
KEY = "ceph_status.json"
DETAIL = "ceph health detail"


@dataclass(frozen=True, slots=True)
class CephStatus:
    health: str  # HEALTH_OK, HEALTH_WARN, HEALTH_ERR
    checks: tuple[tuple[str, str, str], ...]  # (name, severity, message)
    num_osds: int
    up_osds: int
    in_osds: int
    num_mons: int | None
    quorum: tuple[str, ...]
    pgs_by_state: tuple[tuple[str, int], ...]


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def parse_ceph_status(text: str) -> CephStatus:
    require_text(text, "ceph -s")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ProbeOutputError(
            f"truncated or invalid JSON ({err.msg})", tuple(text.splitlines()[:2])
        ) from err
    if not isinstance(data, dict) or not isinstance(data.get("health"), dict):
        raise ProbeOutputError("JSON without a health section: not `ceph -s -f json`")
    health = data["health"]
    status = health.get("status") or health.get("overall_status") or "UNKNOWN"
    checks_raw = health.get("checks") or {}
    checks = (
        tuple(
            (name, str(c.get("severity", "")), str((c.get("summary") or {}).get("message", "")))
            for name, c in sorted(checks_raw.items())
            if isinstance(c, dict)
        )
        if isinstance(checks_raw, dict)
        else ()
    )
    osdmap = data.get("osdmap") or {}
    if isinstance(osdmap.get("osdmap"), dict):  # Luminous nests it once more
        osdmap = osdmap["osdmap"]
    monmap = data.get("monmap") or {}
    num_mons = monmap.get("num_mons")
    if num_mons is None and isinstance(monmap.get("mons"), list):
        num_mons = len(monmap["mons"])
    pgmap = data.get("pgmap") or {}
    pgs = tuple(
        (str(p.get("state_name")), _int(p.get("count")))
        for p in pgmap.get("pgs_by_state") or []
        if isinstance(p, dict)
    )
    return CephStatus(
        health=str(status),
        checks=checks,
        num_osds=_int(osdmap.get("num_osds")),
        up_osds=_int(osdmap.get("num_up_osds")),
        in_osds=_int(osdmap.get("num_in_osds")),
        num_mons=num_mons if isinstance(num_mons, int) else None,
        quorum=tuple(str(q) for q in data.get("quorum_names") or []),
        pgs_by_state=pgs,
    )


def assess_ceph(s: CephStatus, *, node: str | None = None) -> tuple[Finding, ...]:
    out: list[Finding] = []
    check_lines = [f"{name} ({severity}): {message}" for name, severity, message in s.checks]
    if s.health != "HEALTH_OK":
        verdict = Verdict.CRITICAL if s.health == "HEALTH_ERR" else Verdict.WARNING
        out.append(
            finding(
                verdict,
                AREA,
                codes.CEPH_HEALTH,
                "ceph",
                f"ceph is {s.health}",
                evidence=check_lines or (s.health,),
                next_steps=(DETAIL,),
                node=node,
            )
        )
    if s.up_osds < s.num_osds:
        down = s.num_osds - s.up_osds
        out.append(
            finding(
                Verdict.CRITICAL if s.up_osds * 2 <= s.num_osds else Verdict.WARNING,
                AREA,
                codes.CEPH_OSD_DOWN,
                "osd",
                f"{down} of {s.num_osds} OSDs down",
                evidence=(f"osd: {s.num_osds} osds: {s.up_osds} up, {s.in_osds} in",),
                next_steps=("ceph osd tree down", DETAIL),
                node=node,
            )
        )
    if s.num_mons is not None and len(s.quorum) < s.num_mons:
        out.append(
            finding(
                Verdict.CRITICAL if len(s.quorum) * 2 <= s.num_mons else Verdict.WARNING,
                AREA,
                codes.CEPH_MON_QUORUM,
                "mon",
                f"{len(s.quorum)} of {s.num_mons} monitors in quorum",
                evidence=(f"quorum: {', '.join(s.quorum)}",),
                next_steps=("ceph mon stat", DETAIL),
                node=node,
            )
        )
    unclean = [(state, n) for state, n in s.pgs_by_state if state != "active+clean"]
    if unclean:
        inactive = any("active" not in state.split("+") for state, _ in unclean)
        out.append(
            finding(
                Verdict.CRITICAL if inactive else Verdict.WARNING,
                AREA,
                codes.CEPH_PGS_NOT_CLEAN,
                "pgs",
                f"{sum(n for _, n in unclean)} placement groups not active+clean"
                + (" (some inactive: I/O blocked)" if inactive else ""),
                evidence=[f"{n} {state}" for state, n in unclean],
                next_steps=("ceph pg dump_stuck", DETAIL),
                node=node,
            )
        )
    if not out:
        pgs = sum(n for _, n in s.pgs_by_state)
        out.append(
            finding(
                Verdict.OK,
                AREA,
                codes.CEPH_OK,
                "ceph",
                f"HEALTH_OK, {s.up_osds}/{s.num_osds} OSDs up, {len(s.quorum)} monitors in"
                f" quorum, {pgs} pgs active+clean",
                node=node,
            )
        )
    return tuple(out)


def assess(captures: Captures) -> tuple[Finding, ...]:
    capture = captures.first(KEY)
    if capture is None:
        return ()
    if not capture.ok:
        return (capture_problem(AREA, capture, subject="ceph", next_steps=("ceph -s",)),)
    try:
        return assess_ceph(parse_ceph_status(capture.text), node=capture.node)
    except ProbeOutputError as err:
        return (unparseable(AREA, capture, err),)
