"""Galera: each node's wsrep status, and after a full outage which node to bootstrap from.

Inputs: `mysql -e "SHOW GLOBAL STATUS LIKE 'wsrep_%'"` (tab-separated, or the `-t`/tty
table) and grastate.dat, per node.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

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

AREA = Area.GALERA
STATUS_KEY = "galera_status.txt"
GRASTATE_KEY = "grastate.dat"
BUNDLE = "galera-bundle"
GRASTATE_PATH = "/var/lib/mysql/grastate.dat"

_CLIENT_ERROR = re.compile(r"^ERROR \d+ \(\w+\)")
_TRANSIENT_STATES = frozenset({"Donor/Desynced", "Joining", "Joined", "Waiting on SST"})
_SHOWN = (
    "wsrep_local_state_comment",
    "wsrep_evs_state",
    "wsrep_cluster_status",
    "wsrep_cluster_size",
    "wsrep_ready",
    "wsrep_connected",
)


@dataclass(frozen=True, slots=True)
class WsrepStatus:
    values: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    lines: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    client_error: str | None = None  # the server did not answer: the client's message

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def evidence(self, *names: str) -> tuple[str, ...]:
        return tuple(self.lines[n] for n in names if n in self.lines)


@dataclass(frozen=True, slots=True)
class Grastate:
    node: str
    uuid: str
    seqno: int
    safe_to_bootstrap: bool | None  # absent before galera 3.19

    def line(self) -> str:
        safe = "?" if self.safe_to_bootstrap is None else int(self.safe_to_bootstrap)
        return f"{self.node}: uuid={self.uuid} seqno={self.seqno} safe_to_bootstrap={safe}"


def parse_wsrep_status(text: str) -> WsrepStatus:
    """The wsrep_* variables of SHOW GLOBAL STATUS, in either of mysql's layouts."""
    require_text(text, "wsrep status")
    values: dict[str, str] = {}
    lines: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if _CLIENT_ERROR.match(line):
            return WsrepStatus(client_error=line)
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
        else:
            cells = [c.strip() for c in line.split("\t")]
        if len(cells) < 2 or not cells[0].startswith("wsrep_"):
            continue
        values[cells[0]] = cells[1]
        lines[cells[0]] = " ".join(line.split())
    if not values:
        raise ProbeOutputError(
            "no wsrep_* variable in the output (is this galera?)", tuple(text.splitlines()[:3])
        )
    return WsrepStatus(MappingProxyType(values), MappingProxyType(lines))


def parse_grastate(text: str, node: str) -> Grastate:
    """grastate.dat: `uuid:`, `seqno:` and `safe_to_bootstrap:` lines."""
    require_text(text, "grastate.dat")
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if ":" in line and not line.lstrip().startswith("#"):
            name, _, value = line.partition(":")
            fields[name.strip()] = value.strip()
    if "uuid" not in fields or "seqno" not in fields:
        raise ProbeOutputError("grastate.dat without uuid or seqno", tuple(text.splitlines()[:3]))
    try:
        seqno = int(fields["seqno"])
    except ValueError as err:
        raise ProbeOutputError(f"grastate.dat seqno is not a number: {fields['seqno']!r}") from err
    safe = fields.get("safe_to_bootstrap")
    return Grastate(node, fields["uuid"], seqno, None if safe is None else safe == "1")


def _looks(node: str | None) -> tuple[str, ...]:
    target = f"ssh {node} " if node else ""
    return (f"{target}tail -n 50 /var/log/containers/mysql/mysqld.log",)


def assess_status(status: WsrepStatus, *, node: str | None, expected: int | None) -> list[Finding]:
    """Findings for one node's wsrep status."""
    subject = node or "galera"
    out: list[Finding] = []

    def add(
        verdict: Verdict,
        code: str,
        summary: str,
        evidence: Sequence[str],
        steps: Iterable[str] = (),
    ) -> None:
        out.append(
            finding(
                verdict,
                AREA,
                code,
                subject,
                summary,
                evidence=evidence,
                next_steps=(*_looks(node), *steps),
                node=node,
            )
        )

    if status.client_error is not None:
        add(
            Verdict.CRITICAL,
            codes.GALERA_NOT_READY,
            "the database does not answer",
            (status.client_error,),
            (f"pcs resource cleanup {BUNDLE}",),
        )
        return out
    primary = status.get("wsrep_cluster_status")
    if primary is not None and primary != "Primary":
        add(
            Verdict.CRITICAL,
            codes.GALERA_NOT_PRIMARY,
            f"not in the Primary component (wsrep_cluster_status={primary}): it refuses writes",
            status.evidence("wsrep_cluster_status", "wsrep_cluster_size"),
        )
    state = status.get("wsrep_local_state_comment")
    if state is not None and state != "Synced":
        verdict = Verdict.WARNING if state in _TRANSIENT_STATES else Verdict.CRITICAL
        add(
            verdict,
            codes.GALERA_NOT_SYNCED,
            f"local state is {state}, not Synced",
            status.evidence("wsrep_local_state_comment"),
        )
    evs = status.get("wsrep_evs_state")
    if evs is not None and evs != "OPERATIONAL":
        add(
            Verdict.CRITICAL,
            codes.GALERA_EVS_NOT_OPERATIONAL,
            f"group communication is {evs}, not OPERATIONAL",
            status.evidence("wsrep_evs_state"),
        )
    for flag in ("wsrep_ready", "wsrep_connected"):
        if status.get(flag) not in (None, "ON"):
            add(
                Verdict.CRITICAL,
                codes.GALERA_NOT_READY,
                f"{flag}={status.get(flag)}",
                status.evidence(flag),
            )
    size_text = status.get("wsrep_cluster_size")
    size = int(size_text) if size_text and size_text.isdigit() else None
    if size is not None and expected is not None and size != expected:
        add(
            Verdict.WARNING,
            codes.GALERA_CLUSTER_SIZE,
            f"cluster size {size}, expected {expected}: "
            + ("nodes are missing from the cluster" if size < expected else "unexpected members"),
            status.evidence("wsrep_cluster_size", "wsrep_incoming_addresses"),
        )
    if not out:
        seen = ", ".join(
            f"{n.removeprefix('wsrep_')}={status.get(n)}"
            for n in _SHOWN
            if status.get(n) is not None
        )
        out.append(
            finding(Verdict.OK, AREA, codes.GALERA_OK, subject, f"healthy: {seen}", node=node)
        )
    return out


def _unsafe_to_safe(node: str) -> str:
    return f"ssh {node} \"sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' {GRASTATE_PATH}\""


def bootstrap_advice(states: Sequence[Grastate], *, pacemaker: bool) -> Finding | None:
    """After a full outage (no node in a Primary component): whom to bootstrap from.

    The node with safe_to_bootstrap: 1 (it left last, cleanly); else the highest seqno;
    if every seqno is -1 (all crashed) the positions must be recovered first.
    """
    if not states:
        return None
    evidence = tuple(s.line() for s in states)
    uuids = {s.uuid for s in states if s.uuid.strip("0-")}
    if len(uuids) > 1:
        return finding(
            Verdict.CRITICAL,
            AREA,
            codes.GALERA_UUID_MISMATCH,
            "galera",
            "nodes hold different cluster histories (grastate uuids differ):"
            " do not bootstrap before finding out why",
            evidence=evidence,
            next_steps=tuple(f"ssh {s.node} cat {GRASTATE_PATH}" for s in states),
        )
    safe = [s for s in states if s.safe_to_bootstrap]
    known = [s for s in states if s.seqno >= 0]
    if safe:
        chosen = max(safe, key=lambda s: (s.seqno, s.node))
        why = "it has safe_to_bootstrap: 1 (it left the cluster last)"
    elif known:
        chosen = max(known, key=lambda s: (s.seqno, s.node))
        why = f"it has the highest seqno ({chosen.seqno})"
    else:
        return finding(
            Verdict.CRITICAL,
            AREA,
            codes.GALERA_RECOVER_POSITION,
            "galera",
            "no node in a Primary component and every seqno is -1 (all crashed):"
            " recover each node's position, then bootstrap from the highest",
            evidence=evidence,
            next_steps=tuple(f"ssh {s.node} mysqld_safe --wsrep-recover" for s in states),
        )
    steps: list[str] = []
    if not chosen.safe_to_bootstrap:
        steps.append(_unsafe_to_safe(chosen.node))
    steps.append(
        f"pcs resource cleanup {BUNDLE}" if pacemaker else f"ssh {chosen.node} galera_new_cluster"
    )
    return finding(
        Verdict.CRITICAL,
        AREA,
        codes.GALERA_BOOTSTRAP_FROM,
        chosen.node,
        f"no node in a Primary component: bootstrap from {chosen.node}, {why}",
        evidence=evidence,
        next_steps=steps,
        node=chosen.node,
    )


def _node_name(capture: Capture) -> str:
    return capture.node or "local"


def assess(
    captures: Captures, *, expected: int | None = None, pacemaker: bool = False
) -> tuple[Finding, ...]:
    """Every node's status; bootstrap advice when no node is in a Primary component."""
    out: list[Finding] = []
    any_primary = False
    for capture in captures.all(STATUS_KEY):
        if not capture.ok:
            # A failed mysql client is the usual face of a stopped server.
            if capture.status.value == "failed" and _CLIENT_ERROR.match(capture.reason):
                out.extend(
                    assess_status(
                        WsrepStatus(client_error=capture.reason),
                        node=capture.node,
                        expected=expected,
                    )
                )
            else:
                out.append(capture_problem(AREA, capture, next_steps=_looks(capture.node)))
            continue
        try:
            status = parse_wsrep_status(capture.text)
        except ProbeOutputError as err:
            out.append(unparseable(AREA, capture, err))
            continue
        any_primary = any_primary or status.get("wsrep_cluster_status") == "Primary"
        out.extend(assess_status(status, node=capture.node, expected=expected))
    states: list[Grastate] = []
    for capture in captures.all(GRASTATE_KEY):
        if not capture.ok:
            continue
        try:
            states.append(parse_grastate(capture.text, _node_name(capture)))
        except ProbeOutputError as err:
            out.append(unparseable(AREA, capture, err))
    if not any_primary:
        advice = bootstrap_advice(states, pacemaker=pacemaker)
        if advice is not None:
            out.append(advice)
    return tuple(out)
