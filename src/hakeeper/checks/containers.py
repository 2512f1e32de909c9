"""Containers: unhealthy, exited and restarting ones, from `podman|docker ps --all`.

Reads podman's JSON array, docker's one-object-per-line JSON, and, for captures made by
hand, the plain `ps` table.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hakeeper.checks import codes
from hakeeper.checks.capture import (
    Capture,
    Captures,
    ProbeOutputError,
    capture_problem,
    require_text,
    unparseable,
)
from hakeeper.checks.finding import Area, Finding, Verdict, finding

AREA = Area.CONTAINERS
PODMAN_KEY = "podman_ps.json"
DOCKER_KEY = "docker_ps.json"
KEYS = (PODMAN_KEY, DOCKER_KEY)

_BUNDLE_REPLICA = re.compile(r"^(?P<bundle>.+)-(?:podman|docker)-\d+$")
_STATUS_IN_TABLE = re.compile(
    r"\s(?P<status>(?:Up|Exited|Restarting|Created|Paused|Dead|Removal)\b.*?)(?:\s{2,}|$)"
)
_EXIT_CODE = re.compile(r"^(?:Exited|Restarting) \((?P<code>-?\d+)\)")


class Health(enum.Enum):
    NONE = "none"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    STARTING = "starting"


@dataclass(frozen=True, slots=True)
class Container:
    name: str
    state: str  # running, exited, restarting, created, paused ...
    status: str  # the human column: "Up 26 hours (unhealthy)"
    exit_code: int | None
    restarts: int | None  # only some engine versions report it
    health: Health
    line: str  # the evidence: what the engine printed for it


def bundle_of(container: str) -> str | None:
    """`galera-bundle-podman-0` -> `galera-bundle`; None for other containers."""
    match = _BUNDLE_REPLICA.match(container)
    return match.group("bundle") if match else None


def _health_of(status: str, explicit: object) -> Health:
    if isinstance(explicit, str) and explicit:
        try:
            return Health(explicit.lower())
        except ValueError:
            pass
    for health in (Health.UNHEALTHY, Health.HEALTHY, Health.STARTING):
        if f"({health.value}" in status:
            return health
    return Health.NONE


def _exit_code(status: str, explicit: object) -> int | None:
    if isinstance(explicit, int):
        return explicit
    match = _EXIT_CODE.match(status)
    return int(match.group("code")) if match else None


def _from_object(obj: Any) -> Container:
    if not isinstance(obj, dict):
        raise ProbeOutputError("a container entry is not a JSON object")
    names = obj.get("Names")
    name = names[0] if isinstance(names, list) and names else names
    if not isinstance(name, str) or not name:
        raise ProbeOutputError("a container entry has no name", (json.dumps(obj)[:200],))
    status = str(obj.get("Status") or "")
    state = str(obj.get("State") or "").lower()
    restarts = obj.get("Restarts", obj.get("RestartCount"))
    exit_code = obj.get("ExitCode") if state in ("exited", "restarting") else None
    line = f"{name}  {state}  {status}".rstrip()
    return Container(
        name=name,
        state=state,
        status=status,
        exit_code=_exit_code(status, exit_code),
        restarts=restarts if isinstance(restarts, int) else None,
        health=_health_of(status, obj.get("Health")),
        line=line,
    )


def _state_of(status: str) -> str:
    word = status.split(" ", 1)[0].lower()
    return {"up": "running"}.get(word, word)


def _from_table(text: str) -> list[Container]:
    containers = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("CONTAINER ID"):
            continue
        match = _STATUS_IN_TABLE.search(line)
        if match is None:
            raise ProbeOutputError("not a container list", (line,))
        status = match.group("status").strip()
        name = line.split()[-1]
        containers.append(
            Container(
                name,
                _state_of(status),
                status,
                _exit_code(status, None),
                None,
                _health_of(status, None),
                line.rstrip(),
            )
        )
    return containers


def parse_ps(text: str) -> tuple[Container, ...]:
    """Containers from `ps --all` output (JSON array, JSON lines, or the plain table)."""
    text = require_text(text, "container list").strip()
    if text.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ProbeOutputError(f"truncated or invalid JSON ({err.msg})") from err
        if not isinstance(data, list):
            raise ProbeOutputError("JSON is not a list of containers")
        return tuple(_from_object(obj) for obj in data)
    if text.startswith("{"):
        try:
            return tuple(_from_object(json.loads(line)) for line in text.splitlines() if line)
        except json.JSONDecodeError as err:
            raise ProbeOutputError(f"truncated or invalid JSON line ({err.msg})") from err
    return tuple(_from_table(text))


def assess_containers(
    containers: Iterable[Container], *, engine: str, node: str | None
) -> tuple[Finding, ...]:
    """One finding per container in trouble, or one OK finding for the lot."""
    found: list[Finding] = []
    running = 0
    for c in containers:
        logs = f"{engine} logs --tail 100 {c.name}"
        bundle = bundle_of(c.name)
        fix = (f"pcs resource cleanup {bundle}",) if bundle else (f"{engine} restart {c.name}",)
        if c.state == "running":
            running += 1
        if c.state == "restarting" or c.status.startswith("Restarting"):
            found.append(
                finding(
                    Verdict.CRITICAL,
                    AREA,
                    codes.CONTAINER_RESTARTING,
                    c.name,
                    f"{c.name} is restarting in a loop",
                    evidence=(c.line,),
                    next_steps=(logs, f"{engine} inspect {c.name}"),
                    node=node,
                )
            )
        elif c.health is Health.UNHEALTHY:
            found.append(
                finding(
                    Verdict.CRITICAL,
                    AREA,
                    codes.CONTAINER_UNHEALTHY,
                    c.name,
                    f"{c.name} is running but its healthcheck fails",
                    evidence=(c.line,),
                    next_steps=(
                        f"{engine} inspect --format '{{{{json .State.Health}}}}' {c.name}",
                        logs,
                        *fix,
                    ),
                    node=node,
                )
            )
        elif c.state in ("exited", "dead") and c.exit_code not in (0, None):
            # One-shot set-up containers exit too; only a non-zero code is news, and it
            # is critical only for a bundle replica Pacemaker expects to be running.
            verdict = Verdict.CRITICAL if bundle else Verdict.WARNING
            found.append(
                finding(
                    verdict,
                    AREA,
                    codes.CONTAINER_EXITED,
                    c.name,
                    f"{c.name} exited with code {c.exit_code}",
                    evidence=(c.line,),
                    next_steps=(logs, *fix),
                    node=node,
                )
            )
        elif c.restarts:
            found.append(
                finding(
                    Verdict.WARNING,
                    AREA,
                    codes.CONTAINER_RESTARTING,
                    c.name,
                    f"{c.name} has restarted {c.restarts} times",
                    evidence=(c.line,),
                    next_steps=(logs,),
                    node=node,
                )
            )
    if not found:
        found.append(
            finding(
                Verdict.OK,
                AREA,
                codes.CONTAINERS_OK,
                node or "containers",
                f"{running} containers running, none unhealthy, exited in error or restarting",
                node=node,
            )
        )
    return tuple(found)


def check_capture(capture: Capture) -> tuple[Finding, ...]:
    engine = "docker" if capture.key == DOCKER_KEY else "podman"
    if not capture.ok:
        return (capture_problem(AREA, capture),)
    try:
        containers = parse_ps(capture.text)
    except ProbeOutputError as err:
        return (unparseable(AREA, capture, err),)
    return assess_containers(containers, engine=engine, node=capture.node)


def assess(captures: Captures) -> tuple[Finding, ...]:
    """Every node's container list; podman's when both engines were captured."""
    by_node: dict[str | None, Capture] = {}
    for key in KEYS:
        for capture in captures.all(key):
            previous = by_node.get(capture.node)
            if previous is None or (not previous.ok and capture.ok):
                by_node[capture.node] = capture
    findings: list[Finding] = []
    for capture in by_node.values():
        findings.extend(check_capture(capture))
    return tuple(findings)
