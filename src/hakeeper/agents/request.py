"""An order to run one action of one resource's agent on one node, and the runner seam."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from hakeeper.agents.container import ContainerSpec
from hakeeper.agents.result import OpResult
from hakeeper.model.config import Agent

#: Pacemaker's timeout for an operation that configures none
DEFAULT_TIMEOUT_MS = 20_000
#: OpRequest.meta key naming the node a fencing request (reboot, off, on) is aimed at
STONITH_TARGET = "stonith_target"


@dataclass(frozen=True, slots=True)
class OpRequest:
    """One action to run. `resource` is the instance name the agent sees (OCF_RESOURCE_INSTANCE:
    "galera:0" for a clone instance). `meta` becomes OCF_RESKEY_CRM_meta_* (clone, notify_...).
    `container` names the container to run the agent in (a bundle replica), None: on the host.
    `replica`: the action is on that bundle container itself (start runs it, stop removes
    it, monitor inspects it); `connection`: a bundle's connection to the container named so
    (no remote daemon: up while the container runs).
    """

    resource: str
    action: str
    node: str
    agent: Agent
    params: Mapping[str, str] = field(default_factory=dict)
    meta: Mapping[str, str] = field(default_factory=dict)
    interval_ms: int = 0
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    container: str | None = None
    replica: ContainerSpec | None = None
    connection: str | None = None

    @property
    def key(self) -> str:
        """Pacemaker's operation key: galera_monitor_10000."""
        return f"{self.resource}_{self.action}_{self.interval_ms}"


class AgentRunner(Protocol):
    """What the node executor calls. Never raises for an agent's failure: that is a result."""

    def run(self, request: OpRequest) -> OpResult:
        """Run the action to its end or its timeout."""
        ...
