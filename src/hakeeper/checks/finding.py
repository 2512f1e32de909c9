"""What a check says about one thing: a verdict, its evidence and the next command to run."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class Verdict(enum.Enum):
    """Ordered from best to worst, except SKIPPED: nothing was looked at."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    SKIPPED = "skipped"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Verdict.SKIPPED: 0, Verdict.OK: 1, Verdict.WARNING: 2, Verdict.CRITICAL: 3}


class Area(enum.Enum):
    CONTAINERS = "containers"
    CLUSTER = "cluster"
    GALERA = "galera"
    RABBITMQ = "rabbitmq"
    REDIS = "redis"
    HAPROXY = "haproxy"
    CEPH = "ceph"
    OPENSTACK = "openstack"


@dataclass(frozen=True, slots=True)
class Finding:
    """One verdict about one subject.

    `subject` is what the finding is about (a node, a resource, a backend/server);
    `node` is where it was observed, when that differs or matters. `next_steps` is
    ordered: the first command is the one to run next (usually a look), later ones fix.
    """

    verdict: Verdict
    area: Area
    code: str
    subject: str
    summary: str
    evidence: tuple[str, ...] = ()
    next_steps: tuple[str, ...] = ()
    node: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "area": self.area.value,
            "code": self.code,
            "subject": self.subject,
            "node": self.node,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "next_steps": list(self.next_steps),
        }


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The worst verdict seen; SKIPPED when nothing was checked."""
    result = Verdict.SKIPPED
    for verdict in verdicts:
        if verdict.rank > result.rank:
            result = verdict
    return result


def finding(
    verdict: Verdict,
    area: Area,
    code: str,
    subject: str,
    summary: str,
    *,
    evidence: Iterable[str] = (),
    next_steps: Iterable[str] = (),
    node: str | None = None,
) -> Finding:
    """Build a Finding from any iterables (keeps call sites short)."""
    return Finding(verdict, area, code, subject, summary, tuple(evidence), tuple(next_steps), node)
