"""Fail counts as the store holds them, and as the node attributes Pacemaker's scheduler reads.

One FAIL_COUNT document per (node, resource): `{"monitor_10000": {"count": 2, "last": T}}`,
keyed by operation and interval. A failed start (when start-failure-is-fatal, the default)
or a failed stop counts INFINITY at once, as Pacemaker's controller does; any other failure
adds one. The scheduler reads them as transient node attributes: per operation
(`fail-count-RSC#monitor_10000`) from crm_feature_set 3.0.13 on, else one per resource.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hakeeper.coord.model import JsonDoc
from hakeeper.model.scores import INFINITY


def bump(doc: JsonDoc | None, task: str, interval_ms: int, now: int, fatal: bool) -> dict[str, Any]:
    """The document after one more failure of task/interval."""
    new: dict[str, Any] = {k: dict(v) for k, v in (doc or {}).items()}
    entry = new.setdefault(f"{task}_{interval_ms}", {"count": 0, "last": 0})
    entry["count"] = INFINITY if fatal else min(INFINITY, int(entry["count"]) + 1)
    entry["last"] = now
    return new


def _count_text(count: int) -> str:
    return "INFINITY" if count >= INFINITY else str(count)


def attributes(resource: str, doc: Mapping[str, Any], per_op: bool) -> Iterator[tuple[str, str]]:
    """The fail-count-* and last-failure-* node attributes of one resource."""
    if per_op:
        for op, entry in sorted(doc.items()):
            yield f"fail-count-{resource}#{op}", _count_text(int(entry["count"]))
            yield f"last-failure-{resource}#{op}", str(int(entry["last"]))
        return
    if doc:
        total = min(INFINITY, sum(int(e["count"]) for e in doc.values()))
        yield f"fail-count-{resource}", _count_text(total)
        yield f"last-failure-{resource}", str(max(int(e["last"]) for e in doc.values()))
