"""A probe's captured output, whatever produced it (a live command or a file), and what
a check says when the capture itself went wrong."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from hakeeper.checks import codes
from hakeeper.checks.finding import Area, Finding, Verdict, finding

# Evidence is for a human at 3 a.m.: a few lines, never a whole dump.
MAX_EVIDENCE_LINES = 12


class CaptureStatus(enum.Enum):
    OK = "ok"
    NOT_CAPTURED = "not-captured"  # file absent, command or container not there
    TIMEOUT = "timeout"
    FAILED = "failed"  # the command ran and exited non-zero


@dataclass(frozen=True, slots=True)
class Capture:
    """Raw output of one probe on one node (`node` None: cluster-wide or this host)."""

    key: str
    node: str | None
    origin: str  # the command line or the file it came from
    status: CaptureStatus
    text: str = ""
    reason: str = ""  # why status is not OK; for FAILED, the tail of stderr
    # already read into the parser's model (a source that reads structured data, such as
    # a hakeeper cluster's status, needs no text round trip); parsers use it when set
    parsed: object = None

    @property
    def ok(self) -> bool:
        return self.status is CaptureStatus.OK


def file_text(capture: Capture) -> str | None:
    """What `cmd > file 2>&1` would have kept of the probe, where `check --from` reads it:
    its output; for a failed probe that printed nothing, its error text ("ERROR 2002 ..."
    reads as down); None when it did not run or gave no answer in time."""
    if capture.status is CaptureStatus.OK:
        return capture.text
    if capture.status is CaptureStatus.FAILED:
        return capture.text if capture.text.strip() else capture.reason + "\n"
    return None


class ProbeOutputError(Exception):
    """A parser cannot read a probe's output: empty, truncated or garbage."""

    def __init__(self, reason: str, evidence: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.evidence = tuple(evidence)


@dataclass(frozen=True, slots=True)
class Captures:
    """Every capture of one run, addressed by (key, node)."""

    by_key: Mapping[tuple[str, str | None], Capture] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @classmethod
    def of(cls, captures: Iterable[Capture]) -> Captures:
        return cls(MappingProxyType({(c.key, c.node): c for c in captures}))

    def all(self, key: str) -> tuple[Capture, ...]:
        """Every capture of `key`, cluster-wide first, then by node name."""
        found = [c for (k, _), c in self.by_key.items() if k == key]
        return tuple(sorted(found, key=lambda c: (c.node is not None, c.node or "")))

    def first(self, key: str) -> Capture | None:
        """The cluster-wide capture of `key`, else the first node's that succeeded."""
        found = self.all(key)
        for capture in found:
            if capture.ok:
                return capture
        return found[0] if found else None


def head(lines: Iterable[str], limit: int = MAX_EVIDENCE_LINES) -> tuple[str, ...]:
    """At most `limit` non-blank lines, right-stripped, with a marker when cut."""
    kept: list[str] = []
    extra = 0
    for line in lines:
        line = line.rstrip()
        if not line.strip():
            continue
        if len(kept) < limit:
            kept.append(line)
        else:
            extra += 1
    if extra:
        kept.append(f"... ({extra} more lines)")
    return tuple(kept)


def capture_problem(
    area: Area, capture: Capture, *, subject: str | None = None, next_steps: Iterable[str] = ()
) -> Finding:
    """The finding for a capture that did not produce output to parse.

    Not captured -> skipped (the area is not here); timeout or failure -> critical,
    since a hung or failing service CLI is itself a symptom.
    """
    subject = subject or capture.node or capture.key
    where = f" on {capture.node}" if capture.node else ""
    if capture.status is CaptureStatus.NOT_CAPTURED:
        return finding(
            Verdict.SKIPPED,
            area,
            codes.PROBE_NOT_CAPTURED,
            subject,
            f"{capture.key} not available{where}: {capture.reason}",
            evidence=(capture.origin,),
            node=capture.node,
        )
    if capture.status is CaptureStatus.TIMEOUT:
        return finding(
            Verdict.CRITICAL,
            area,
            codes.PROBE_TIMEOUT,
            subject,
            f"{capture.key} probe timed out{where}: {capture.reason}",
            evidence=(capture.origin,),
            next_steps=next_steps,
            node=capture.node,
        )
    return finding(
        Verdict.CRITICAL,
        area,
        codes.PROBE_FAILED,
        subject,
        f"{capture.key} probe failed{where}: {capture.reason}",
        evidence=(capture.origin, *head((capture.text + "\n" + capture.reason).splitlines())),
        next_steps=next_steps,
        node=capture.node,
    )


def unparseable(
    area: Area, capture: Capture, error: ProbeOutputError, *, next_steps: Iterable[str] = ()
) -> Finding:
    """The finding for output a parser could not read."""
    where = f" on {capture.node}" if capture.node else ""
    evidence = error.evidence or head(capture.text.splitlines(), 5)
    return finding(
        Verdict.CRITICAL,
        area,
        codes.PROBE_UNPARSEABLE,
        capture.node or capture.key,
        f"cannot read {capture.key}{where}: {error.reason}",
        evidence=(capture.origin, *evidence),
        next_steps=next_steps,
        node=capture.node,
    )


def require_text(text: str, what: str) -> str:
    """The text, or ProbeOutputError if there is nothing in it."""
    if not text.strip():
        raise ProbeOutputError(f"empty {what} output")
    return text
