"""Resource agents: OCF scripts, fence agents, the built-in VIP, container engines for bundles.

Every action ends in an OpResult (rc, status, exit reason); an agent's failure is a
result, never an exception. The node executor talks to an AgentRunner: LocalAgentRunner
on a real node, FakeAgentRunner in unit tests.
"""

from hakeeper.agents.fake import Call, FakeAgentRunner, UnexpectedCall
from hakeeper.agents.metadata import AgentMetadata, MetadataError, parse_metadata
from hakeeper.agents.ocf import OcfRunner
from hakeeper.agents.process import NetnsLauncher
from hakeeper.agents.request import DEFAULT_TIMEOUT_MS, AgentRunner, OpRequest
from hakeeper.agents.result import OcfRc, OpResult, OpStatus
from hakeeper.agents.runner import LocalAgentRunner
from hakeeper.agents.stonith import FenceResult, Power, StonithDevice, StonithRunner
from hakeeper.agents.vip import Vip, VipAgent

__all__ = [
    "DEFAULT_TIMEOUT_MS",
    "AgentMetadata",
    "AgentRunner",
    "Call",
    "FakeAgentRunner",
    "FenceResult",
    "LocalAgentRunner",
    "MetadataError",
    "NetnsLauncher",
    "OcfRc",
    "OcfRunner",
    "OpRequest",
    "OpResult",
    "OpStatus",
    "Power",
    "StonithDevice",
    "StonithRunner",
    "UnexpectedCall",
    "Vip",
    "VipAgent",
    "parse_metadata",
]
