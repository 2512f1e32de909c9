"""Redis: exactly one master, every replica linked to it, replication lag.

Input: `redis-cli INFO replication` from each node.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from hakeeper.checks import codes
from hakeeper.checks.capture import (
    Captures,
    ProbeOutputError,
    capture_problem,
    require_text,
    unparseable,
)
from hakeeper.checks.finding import Area, Finding, Verdict, finding

AREA = Area.REDIS
KEY = "redis_info_replication.txt"
BUNDLE = "redis-bundle"
LAG_WARNING_S = 10


@dataclass(frozen=True, slots=True)
class ReplicaLink:
    """A `slaveN:` line of a master: one replica as the master sees it."""

    ip: str
    port: str
    state: str
    offset: int
    lag: int


@dataclass(frozen=True, slots=True)
class Replication:
    node: str
    role: str  # master or slave
    fields: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    replicas: tuple[ReplicaLink, ...] = ()

    def get(self, name: str) -> str | None:
        return self.fields.get(name)

    def int(self, name: str) -> int | None:
        value = self.get(name)
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    def evidence(self, *names: str) -> tuple[str, ...]:
        return tuple(f"{n}:{self.fields[n]}" for n in names if n in self.fields)


def _replica(value: str) -> ReplicaLink:
    parts = dict(p.partition("=")[::2] for p in value.split(","))

    def num(name: str) -> int:
        try:
            return int(parts.get(name, "0"))
        except ValueError:
            return 0

    return ReplicaLink(
        parts.get("ip", "?"),
        parts.get("port", "?"),
        parts.get("state", "?"),
        num("offset"),
        num("lag"),
    )


def parse_info_replication(text: str, node: str) -> Replication:
    """`INFO replication` (CRLF or LF); ProbeOutputError without a role line."""
    require_text(text, "INFO replication")
    if text.lstrip().startswith("NOAUTH"):
        raise ProbeOutputError("redis requires a password (NOAUTH): pass it to the probe")
    fields: dict[str, str] = {}
    replicas: list[ReplicaLink] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        name, _, value = line.partition(":")
        fields[name] = value
        if name.startswith("slave") and name[5:].isdigit():
            replicas.append(_replica(value))
    role = fields.get("role")
    if role not in ("master", "slave"):
        raise ProbeOutputError(
            "no role: line: not `INFO replication` output", tuple(text.splitlines()[:3])
        )
    return Replication(node, role, MappingProxyType(fields), tuple(replicas))


def _look(node: str) -> str:
    return f"ssh {node} tail -n 50 /var/log/containers/redis/redis.log"


def assess_replication(
    views: Sequence[Replication], *, expected: int | None = None
) -> tuple[Finding, ...]:
    """Judge the nodes together: one master, linked replicas, lag."""
    out: list[Finding] = []
    masters = [v for v in views if v.role == "master"]
    replicas = [v for v in views if v.role == "slave"]
    # With one node in view (live mode), a replica whose link is up proves a master exists.
    all_seen = len(views) >= expected if expected is not None else len(views) > 1
    if len(masters) > 1:
        out.append(
            finding(
                Verdict.CRITICAL,
                AREA,
                codes.REDIS_MULTIPLE_MASTERS,
                "redis",
                f"{len(masters)} masters ({', '.join(m.node for m in masters)}): split brain,"
                " writes go to different copies",
                evidence=[
                    f"{m.node}: role:master connected_slaves:{m.get('connected_slaves')}"
                    for m in masters
                ],
                next_steps=("pcs status --full", f"pcs resource cleanup {BUNDLE}"),
            )
        )
    elif not masters and (all_seen or any(r.get("master_link_status") != "up" for r in replicas)):
        out.append(
            finding(
                Verdict.CRITICAL,
                AREA,
                codes.REDIS_NO_MASTER,
                "redis",
                "no master: every node is a replica, nothing accepts writes",
                evidence=[
                    f"{r.node}: role:slave master_host:{r.get('master_host')}"
                    f" master_link_status:{r.get('master_link_status')}"
                    for r in replicas
                ],
                next_steps=("pcs status --full", f"pcs resource cleanup {BUNDLE}"),
            )
        )
    for r in replicas:
        master = f"{r.get('master_host')}:{r.get('master_port')}"
        if r.get("master_link_status") != "up":
            down_for = r.int("master_link_down_since_seconds")
            since = f" for {down_for} s" if down_for is not None and down_for >= 0 else ""
            out.append(
                finding(
                    Verdict.CRITICAL,
                    AREA,
                    codes.REDIS_LINK_DOWN,
                    r.node,
                    f"replica of {master} with the link down{since}",
                    evidence=r.evidence(
                        "role",
                        "master_host",
                        "master_port",
                        "master_link_status",
                        "master_last_io_seconds_ago",
                        "master_sync_in_progress",
                    ),
                    next_steps=(_look(r.node), f"pcs resource cleanup {BUNDLE}"),
                    node=r.node,
                )
            )
            continue
        io = r.int("master_last_io_seconds_ago")
        if (io is not None and io > LAG_WARNING_S) or r.get("master_sync_in_progress") == "1":
            out.append(
                finding(
                    Verdict.WARNING,
                    AREA,
                    codes.REDIS_LAG,
                    r.node,
                    f"replica of {master} is behind (last I/O {io} s ago, sync in progress:"
                    f" {r.get('master_sync_in_progress')})",
                    evidence=r.evidence("master_last_io_seconds_ago", "master_sync_in_progress"),
                    next_steps=(_look(r.node),),
                    node=r.node,
                )
            )
        else:
            out.append(
                finding(
                    Verdict.OK,
                    AREA,
                    codes.REDIS_OK,
                    r.node,
                    f"replica of {master}, link up, last I/O {io} s ago",
                    node=r.node,
                )
            )
    for m in masters:
        problems = False
        for link in m.replicas:
            if link.state != "online" or link.lag > LAG_WARNING_S:
                problems = True
                out.append(
                    finding(
                        Verdict.WARNING,
                        AREA,
                        codes.REDIS_LAG,
                        f"{link.ip}:{link.port}",
                        f"replica {link.ip}:{link.port} of master {m.node} is {link.state},"
                        f" lag {link.lag} s",
                        evidence=m.evidence(
                            *(k for k in m.fields if k.startswith("slave") and k[5:].isdigit())
                        ),
                        next_steps=(_look(m.node),),
                        node=m.node,
                    )
                )
        want = expected - 1 if expected else None
        connected = m.int("connected_slaves") or 0
        if want is not None and connected < want:
            problems = True
            out.append(
                finding(
                    Verdict.WARNING,
                    AREA,
                    codes.REDIS_REPLICA_MISSING,
                    m.node,
                    f"master has {connected} replicas connected, {want} expected",
                    evidence=m.evidence("role", "connected_slaves"),
                    next_steps=("pcs status --full",),
                    node=m.node,
                )
            )
        if not problems and len(masters) == 1:
            out.append(
                finding(
                    Verdict.OK,
                    AREA,
                    codes.REDIS_OK,
                    m.node,
                    f"the only master, {connected} replicas online",
                    node=m.node,
                )
            )
    return tuple(out)


def assess(captures: Captures, *, expected: int | None = None) -> tuple[Finding, ...]:
    out: list[Finding] = []
    views: list[Replication] = []
    for capture in captures.all(KEY):
        if not capture.ok:
            out.append(
                capture_problem(
                    AREA, capture, next_steps=(f"podman ps --all --filter name={BUNDLE}",)
                )
            )
            continue
        try:
            views.append(parse_info_replication(capture.text, capture.node or "local"))
        except ProbeOutputError as err:
            out.append(unparseable(AREA, capture, err))
    if views:
        out.extend(assess_replication(views, expected=expected))
    return tuple(out)
