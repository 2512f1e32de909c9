"""HAProxy: backends and servers DOWN or in maintenance, from the stats socket's
`show stat` CSV.

A backend named like `redis*` is taken as single-active: its health check accepts only
the master (`tcp-check expect string role:master`), so the replicas are DOWN by design.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
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

AREA = Area.HAPROXY
KEY = "haproxy_stat.csv"
STATS_SOCKET = "/var/lib/haproxy/stats"
SINGLE_ACTIVE_PREFIXES = ("redis",)
_REQUIRED = ("pxname", "svname", "status")


@dataclass(frozen=True, slots=True)
class StatRow:
    proxy: str
    name: str  # FRONTEND, BACKEND or the server's name
    status: str  # UP, DOWN, OPEN, MAINT, "UP 1/3", "no check", DRAIN, NOLB ...
    check_status: str
    check_desc: str
    last_change_s: int | None

    @property
    def is_server(self) -> bool:
        return self.name not in ("FRONTEND", "BACKEND")

    @property
    def state(self) -> str:
        """The status word without the transition counter: `DOWN 1/2` -> `DOWN`."""
        return self.status.split(" ", 1)[0] if self.status != "no check" else self.status

    def line(self) -> str:
        check = " ".join(p for p in (self.check_status, self.check_desc) if p)
        since = f" for {self.last_change_s} s" if self.last_change_s is not None else ""
        return f"{self.proxy}/{self.name} {self.status}{since}" + (f" ({check})" if check else "")


def parse_show_stat(text: str) -> tuple[StatRow, ...]:
    """The CSV of `show stat`; its first line is the `# pxname,svname,...` header."""
    text = require_text(text, "show stat")
    lines = text.lstrip().splitlines()
    if not lines[0].startswith("# pxname,"):
        raise ProbeOutputError("no `# pxname,...` header: not `show stat` CSV", (lines[0],))
    reader = csv.DictReader(io.StringIO("\n".join([lines[0][2:], *lines[1:]])))
    rows: list[StatRow] = []
    for record in reader:
        if not record.get("pxname"):
            continue
        if any(record.get(k) is None for k in _REQUIRED):
            raise ProbeOutputError(
                "truncated `show stat` line",
                (",".join(v for v in record.values() if isinstance(v, str)),),
            )
        lastchg = record.get("lastchg") or ""
        rows.append(
            StatRow(
                proxy=record["pxname"],
                name=record["svname"],
                status=record["status"],
                check_status=(record.get("check_status") or "").strip(),
                check_desc=(record.get("check_desc") or "").strip(),
                last_change_s=int(lastchg) if lastchg.isdigit() else None,
            )
        )
    if not rows:
        raise ProbeOutputError("`show stat` lists no proxy")
    return tuple(rows)


def _socket_cmd(command: str) -> str:
    return f"echo '{command}' | socat stdio {STATS_SOCKET}"


def assess_stats(rows: Sequence[StatRow], *, node: str | None) -> tuple[Finding, ...]:
    out: list[Finding] = []
    backends = [r for r in rows if r.name == "BACKEND"]
    servers = [r for r in rows if r.is_server]
    look = f"ssh {node} " if node else ""
    log = f"{look}tail -n 50 /var/log/containers/haproxy/haproxy.log"
    for backend in backends:
        mine = [s for s in servers if s.proxy == backend.proxy]
        up = [s for s in mine if s.state == "UP"]
        single = backend.proxy.startswith(SINGLE_ACTIVE_PREFIXES)
        if backend.state == "DOWN":
            out.append(
                finding(
                    Verdict.CRITICAL,
                    AREA,
                    codes.HAPROXY_BACKEND_DOWN,
                    backend.proxy,
                    f"backend {backend.proxy} is DOWN: no server answers its health check",
                    evidence=[backend.line(), *(s.line() for s in mine)],
                    next_steps=(log, _socket_cmd("show servers state " + backend.proxy)),
                    node=node,
                )
            )
            continue
        for server in mine:
            subject = f"{server.proxy}/{server.name}"
            if server.state == "MAINT":
                out.append(
                    finding(
                        Verdict.WARNING,
                        AREA,
                        codes.HAPROXY_SERVER_MAINT,
                        subject,
                        f"server {subject} is in maintenance (disabled by hand)",
                        evidence=(server.line(),),
                        next_steps=(_socket_cmd(f"enable server {subject}"),),
                        node=node,
                    )
                )
            elif server.state in ("DOWN", "DRAIN", "NOLB") and not (single and len(up) == 1):
                out.append(
                    finding(
                        Verdict.WARNING,
                        AREA,
                        codes.HAPROXY_SERVER_DOWN,
                        subject,
                        f"server {subject} is {server.status}; backend still UP with"
                        f" {len(up)} of {len(mine)} servers",
                        evidence=(server.line(),),
                        next_steps=(log,),
                        node=node,
                    )
                )
    if not out:
        up_servers = sum(1 for s in servers if s.state == "UP")
        out.append(
            finding(
                Verdict.OK,
                AREA,
                codes.HAPROXY_OK,
                node or "haproxy",
                f"{len(backends)} backends UP, {up_servers} of {len(servers)} servers UP"
                " (replicas of single-active backends are DOWN by design)",
                node=node,
            )
        )
    return tuple(out)


def assess(captures: Captures) -> tuple[Finding, ...]:
    out: list[Finding] = []
    for capture in captures.all(KEY):
        if not capture.ok:
            out.append(
                capture_problem(
                    AREA, capture, next_steps=("podman ps --all --filter name=haproxy-bundle",)
                )
            )
            continue
        try:
            rows = parse_show_stat(capture.text)
        except ProbeOutputError as err:
            out.append(unparseable(AREA, capture, err))
            continue
        out.extend(assess_stats(rows, node=capture.node))
    return tuple(out)
