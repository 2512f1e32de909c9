"""RabbitMQ: running vs clustered nodes, partitions, alarms, file descriptors.

Input: `rabbitmqctl cluster_status --formatter json` (3.8+), or the classic Erlang-term
output of older releases (as in the seeds). File descriptors are read when the capture
carries them (`rabbitmq-diagnostics status --formatter json` has `file_descriptors`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
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
from hakeeper.checks.erlang_terms import Term, parse_term, proplist
from hakeeper.checks.finding import Area, Finding, Verdict, finding

AREA = Area.RABBITMQ
KEY = "rabbitmq_cluster_status.json"
BUNDLE = "rabbitmq-bundle"
FD_WARNING = 0.8
FD_CRITICAL = 0.9


@dataclass(frozen=True, slots=True)
class RabbitStatus:
    disc_nodes: tuple[str, ...]
    ram_nodes: tuple[str, ...]
    running_nodes: tuple[str, ...]
    partitions: Mapping[str, tuple[str, ...]]  # node -> nodes it is partitioned from
    alarms: tuple[str, ...]  # "rabbit@x: disk" ...
    fd_used: int | None = None
    fd_limit: int | None = None

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.disc_nodes, *self.ram_nodes)))


def host_of(rabbit_node: str) -> str:
    """`rabbit@controller-0` -> `controller-0`."""
    return rabbit_node.partition("@")[2] or rabbit_node


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(v) for v in value if isinstance(v, str))


def _alarm_text(alarm: Any) -> str:
    if isinstance(alarm, dict):
        node = alarm.get("node", "")
        what = alarm.get("resource") or alarm.get("type") or json.dumps(alarm)
        return f"{node}: {what}" if node else str(what)
    return str(alarm)


def _fds(data: Mapping[str, Any]) -> tuple[int | None, int | None]:
    fd = data.get("file_descriptors")
    if isinstance(fd, list):  # classic Erlang proplist
        fd = proplist(fd)
    if isinstance(fd, dict):
        used, limit = fd.get("total_used"), fd.get("total_limit")
        if isinstance(used, int) and isinstance(limit, int):
            return used, limit
    return None, None


def _from_json(data: Any) -> RabbitStatus:
    if not isinstance(data, dict) or "running_nodes" not in data:
        raise ProbeOutputError("JSON without running_nodes: not `cluster_status` output")
    partitions_raw = data.get("partitions") or {}
    partitions: dict[str, tuple[str, ...]] = {}
    if isinstance(partitions_raw, dict):
        partitions = {str(k): _names(v) for k, v in partitions_raw.items() if v}
    alarms_raw = data.get("alarms") or []
    used, limit = _fds(data)
    return RabbitStatus(
        disc_nodes=_names(data.get("disk_nodes")),
        ram_nodes=_names(data.get("ram_nodes")),
        running_nodes=_names(data.get("running_nodes")),
        partitions=partitions,
        alarms=tuple(_alarm_text(a) for a in alarms_raw) if isinstance(alarms_raw, list) else (),
        fd_used=used,
        fd_limit=limit,
    )


def _from_erlang(term: Term) -> RabbitStatus:
    props = proplist(term)
    if "running_nodes" not in props:
        raise ProbeOutputError("Erlang term without running_nodes: not `cluster_status`")
    nodes = proplist(props.get("nodes", []))
    partitions: dict[str, tuple[str, ...]] = {}
    for item in props.get("partitions", []) or []:  # type: ignore[union-attr]
        if isinstance(item, tuple) and len(item) == 2 and _names(item[1]):
            partitions[str(item[0])] = _names(item[1])
    alarms: list[str] = []
    for item in props.get("alarms", []) or []:  # type: ignore[union-attr]
        if isinstance(item, tuple) and len(item) == 2:  # {Node, [Alarm, ...]} per node
            alarms.extend(
                f"{item[0]}: {a}" for a in (item[1] if isinstance(item[1], list) else [item[1]])
            )
        else:
            alarms.append(str(item))
    used, limit = _fds(props)
    return RabbitStatus(
        disc_nodes=_names(nodes.get("disc")),
        ram_nodes=_names(nodes.get("ram")),
        running_nodes=_names(props.get("running_nodes")),
        partitions=partitions,
        alarms=tuple(alarms),
        fd_used=used,
        fd_limit=limit,
    )


def parse_cluster_status(text: str) -> RabbitStatus:
    """Either format; a leading `Cluster status of node ...` banner is skipped."""
    text = require_text(text, "rabbitmqctl cluster_status").strip()
    if text.startswith("{"):
        try:
            return _from_json(json.loads(text))
        except json.JSONDecodeError as err:
            raise ProbeOutputError(f"truncated or invalid JSON ({err.msg})") from err
    start = text.find("[")
    if start < 0:
        raise ProbeOutputError("neither JSON nor an Erlang term", tuple(text.splitlines()[:3]))
    return _from_erlang(parse_term(text[start:]))


def _look(rabbit_node: str) -> str:
    host = host_of(rabbit_node)
    return f"ssh {host} tail -n 50 /var/log/containers/rabbitmq/{rabbit_node}.log"


def assess_status(
    status: RabbitStatus, *, node: str | None, expected: int | None = None
) -> list[Finding]:
    out: list[Finding] = []
    seen_from = f" (seen from {node})" if node else ""
    evidence = (
        f"disc: {' '.join(status.disc_nodes)}",
        f"running: {' '.join(status.running_nodes)}",
    )

    def add(
        verdict: Verdict,
        code: str,
        subject: str,
        summary: str,
        ev: Iterable[str] = evidence,
        steps: Iterable[str] = (),
    ) -> None:
        out.append(
            finding(
                verdict,
                AREA,
                code,
                subject,
                summary + seen_from,
                evidence=ev,
                next_steps=steps,
                node=node,
            )
        )

    for member in status.members:
        if member not in status.running_nodes:
            add(
                Verdict.CRITICAL,
                codes.RABBITMQ_NODE_DOWN,
                member,
                f"{member} is clustered but not running",
                steps=(_look(member), f"pcs resource cleanup {BUNDLE}"),
            )
    if expected is not None and 0 < len(status.members) < expected:
        add(
            Verdict.WARNING,
            codes.RABBITMQ_NODE_DOWN,
            "rabbitmq",
            f"{len(status.members)} nodes in the RabbitMQ cluster, {expected} expected",
            steps=("rabbitmqctl cluster_status",),
        )
    for member, others in sorted(status.partitions.items()):
        add(
            Verdict.CRITICAL,
            codes.RABBITMQ_PARTITION,
            member,
            f"network partition: {member} cannot see {', '.join(others)}",
            ev=(f"{member}: partitioned from {' '.join(others)}",),
            steps=(_look(member), f"pcs resource restart {BUNDLE}"),
        )
    for alarm in status.alarms:
        add(
            Verdict.CRITICAL,
            codes.RABBITMQ_ALARM,
            alarm.partition(":")[0] or "rabbitmq",
            f"resource alarm {alarm}: publishers are blocked",
            ev=(alarm,),
            steps=("rabbitmqctl status", "rabbitmq-diagnostics alarms"),
        )
    if status.fd_used is not None and status.fd_limit:
        ratio = status.fd_used / status.fd_limit
        if ratio >= FD_WARNING:
            add(
                Verdict.CRITICAL if ratio >= FD_CRITICAL else Verdict.WARNING,
                codes.RABBITMQ_FILE_DESCRIPTORS,
                node or "rabbitmq",
                f"{status.fd_used} of {status.fd_limit} file descriptors in use ({ratio:.0%})",
                ev=(
                    f"file_descriptors: total_used={status.fd_used} total_limit={status.fd_limit}",
                ),
                steps=("rabbitmqctl list_connections | wc -l",),
            )
    if not out:
        fds = (
            f", {status.fd_used}/{status.fd_limit} file descriptors"
            if status.fd_used is not None
            else ""
        )
        out.append(
            finding(
                Verdict.OK,
                AREA,
                codes.RABBITMQ_OK,
                node or "rabbitmq",
                f"{len(status.running_nodes)} of {len(status.members)} nodes running,"
                f" no partition, no alarm{fds}{seen_from}",
                node=node,
            )
        )
    return out


def check_capture(capture: Capture, expected: int | None) -> list[Finding]:
    if not capture.ok:
        return [capture_problem(AREA, capture, next_steps=("rabbitmqctl cluster_status",))]
    try:
        status = parse_cluster_status(capture.text)
    except ProbeOutputError as err:
        return [unparseable(AREA, capture, err)]
    return assess_status(status, node=capture.node, expected=expected)


def assess(captures: Captures, *, expected: int | None = None) -> tuple[Finding, ...]:
    """Each node's view: partitions are seen from one side only."""
    out: list[Finding] = []
    for capture in captures.all(KEY):
        out.extend(check_capture(capture, expected))
    return tuple(out)
