"""OpenStack services as the control plane sees them: `openstack volume service list`,
`openstack hypervisor list`, `openstack network agent list` (`-f json`, or the default
table as check_services.sh prints it)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hakeeper.checks import codes
from hakeeper.checks.capture import (
    Captures,
    ProbeOutputError,
    capture_problem,
    require_text,
    unparseable,
)
from hakeeper.checks.finding import Area, Finding, Verdict, finding

AREA = Area.OPENSTACK
VOLUME_KEY = "openstack_volume_service_list.json"
HYPERVISOR_KEY = "openstack_hypervisor_list.json"
AGENT_KEY = "openstack_network_agent_list.json"
KEYS = (VOLUME_KEY, HYPERVISOR_KEY, AGENT_KEY)

Row = Mapping[str, str]


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def parse_listing(text: str) -> tuple[Row, ...]:
    """Rows of an `openstack ... list`: a JSON list of objects, or the ASCII table."""
    text = require_text(text, "openstack list").strip()
    if text.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ProbeOutputError(f"truncated or invalid JSON ({err.msg})") from err
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ProbeOutputError("JSON is not a list of objects")
        return tuple({str(k): _cell(v) for k, v in r.items()} for r in data)
    rows = [line.strip() for line in text.splitlines() if line.strip().startswith("|")]
    if not text.startswith("+") or not rows:
        raise ProbeOutputError("neither JSON nor an openstack table", tuple(text.splitlines()[:2]))
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    out: list[Row] = []
    for line in rows[1:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) != len(header):
            raise ProbeOutputError("a table row does not match the header", (line,))
        out.append(dict(zip(header, cells, strict=True)))
    return tuple(out)


def _alive(value: str) -> bool:
    return value.lower() in ("true", ":-)", "up", "yes", "1")


@dataclass(frozen=True, slots=True)
class _Kind:
    key: str
    what: str
    subject_cols: tuple[str, ...]
    alive_col: str  # the service answers (heartbeat)
    admin_col: str | None  # an operator enabled it
    look: str  # command template, {host} and {id} filled in


_KINDS = {
    VOLUME_KEY: _Kind(
        VOLUME_KEY,
        "volume services",
        ("Binary", "Host"),
        "State",
        "Status",
        "openstack volume service list --host {host}",
    ),
    HYPERVISOR_KEY: _Kind(
        HYPERVISOR_KEY,
        "hypervisors",
        ("Hypervisor Hostname",),
        "State",
        "Status",
        "openstack compute service list --service nova-compute --host {host}",
    ),
    AGENT_KEY: _Kind(
        AGENT_KEY,
        "network agents",
        ("Binary", "Host"),
        "Alive",
        "State",
        "openstack network agent show {id}",
    ),
}


def assess_listing(key: str, rows: Sequence[Row]) -> tuple[Finding, ...]:
    kind = _KINDS[key]
    out: list[Finding] = []
    for row in rows:
        subject = " on ".join(row.get(c, "?") for c in kind.subject_cols)
        host = row.get("Host") or row.get("Hypervisor Hostname") or "?"
        look = kind.look.format(host=host, id=row.get("ID", "?"))
        evidence = (" | ".join(f"{k}={v}" for k, v in row.items() if k != "ID"),)
        if not _alive(row.get(kind.alive_col, "")):
            out.append(
                finding(
                    Verdict.CRITICAL,
                    AREA,
                    codes.OPENSTACK_SERVICE_DOWN,
                    subject,
                    f"down ({kind.alive_col}={row.get(kind.alive_col)})",
                    evidence=evidence,
                    next_steps=(look,),
                )
            )
        elif kind.admin_col and row.get(kind.admin_col, "enabled").lower() in (
            "disabled",
            "false",
            "down",
        ):
            out.append(
                finding(
                    Verdict.WARNING,
                    AREA,
                    codes.OPENSTACK_SERVICE_DISABLED,
                    subject,
                    f"administratively disabled ({kind.admin_col}={row.get(kind.admin_col)})",
                    evidence=evidence,
                    next_steps=(look,),
                )
            )
    if not out:
        out.append(
            finding(
                Verdict.OK, AREA, codes.OPENSTACK_OK, kind.what, f"{len(rows)} {kind.what}, all up"
            )
        )
    return tuple(out)


def assess(captures: Captures) -> tuple[Finding, ...]:
    out: list[Finding] = []
    for key in KEYS:
        capture = captures.first(key)
        if capture is None:
            continue
        if not capture.ok:
            out.append(capture_problem(AREA, capture, subject=_KINDS[key].what))
            continue
        try:
            out.extend(assess_listing(key, parse_listing(capture.text)))
        except ProbeOutputError as err:
            out.append(unparseable(AREA, capture, err))
    return tuple(out)
