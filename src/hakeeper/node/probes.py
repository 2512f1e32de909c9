"""Which resources a node must probe (a one-off monitor: does it run here?) and when the
leader must wait for those probes, read from the op history documents.

Pacemaker probes a resource on every node whose status section has no history of it
before starting it anywhere: at a node's join, and when a resource is added or its agent
changed while the cluster runs. Here a node probes whatever it has no history of (or only
an inactive history under another agent), and the leader schedules only once every member
has such a history of every configured resource, so a resource running somewhere already
(started by hand, left by an earlier cluster) is adopted, never started a second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hakeeper.cib.parse import parse_cib_text
from hakeeper.coord.model import JsonDoc
from hakeeper.node.transition import probe_actions
from hakeeper.reports import CommandError

AgentKey = tuple[str, str | None, str]


def probe_key(node: str) -> str:
    """The transition-key of a node's probes (outside any graph; they expect rc 7)."""
    return f"-1:0:7:probe-{node}"


def probed_agents(config_xml: str | None, node: str) -> dict[str, AgentKey]:
    """resource -> its configured agent, for every resource a node probes."""
    if config_xml is None:
        return {}
    try:
        config = parse_cib_text(config_xml).configuration
    except CommandError:
        return {}
    return {a.slot: a.agent for a in probe_actions(config, node)}


def changed(doc: JsonDoc) -> Mapping[str, Any]:
    """The record a history document's last write changed."""
    ops: Mapping[str, Any] = doc.get("ops", {})
    record: Mapping[str, Any] = ops.get(str(doc.get("changed", "")), {})
    return record


def may_be_active(resource: str, doc: JsonDoc) -> bool:
    """The history leaves the resource possibly running (anything but a clean stop or a
    probe that found it stopped): the scheduler must stop it before anything else."""
    last = doc.get("ops", {}).get(f"{resource}_last_0")
    if last is None:
        return False
    rc, op = int(last.get("rc-code", 1)), last.get("operation")
    if int(last.get("op-status", 0)) != 0:
        return True
    return not ((op == "stop" and rc == 0) or (op == "monitor" and rc == 7))


def needs_probe(resource: str, doc: JsonDoc | None, agent: AgentKey) -> bool:
    """No history here, or only an inactive one under another agent (its definition changed
    type: what the old agent knew says nothing of the new one)."""
    if doc is None:
        return True
    if tuple(doc.get("agent") or ()) == agent:
        return False
    return not may_be_active(resource, doc)
