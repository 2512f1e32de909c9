"""The node's AgentRunner: sends each request to the agent kind that serves it."""

from __future__ import annotations

import threading

from hakeeper.agents.bundle import ContainerAgent
from hakeeper.agents.container import ContainerEngine
from hakeeper.agents.ocf import OcfRunner
from hakeeper.agents.request import OpRequest
from hakeeper.agents.result import OcfRc, OpResult, OpStatus, failed
from hakeeper.agents.stonith import StonithRunner
from hakeeper.agents.vip import VipAgent

#: the built-in VIP agent's name in a CIB: ocf:hakeeper:VIP
VIP_PROVIDER, VIP_TYPE = "hakeeper", "VIP"


class LocalAgentRunner:
    """Runs requests on this node: ocf:* through OcfRunner, stonith:* through StonithRunner,
    ocf:hakeeper:VIP (and ocf:heartbeat:IPaddr2 if `builtin_ipaddr2`: same parameters, a
    few ms instead of IPaddr2's shell) through VipAgent, and a request with a `container`
    through that container's exec (the bundle's inner agent)."""

    def __init__(
        self,
        *,
        ocf: OcfRunner | None = None,
        stonith: StonithRunner | None = None,
        vip: VipAgent | None = None,
        engine: ContainerEngine | None = None,
        builtin_ipaddr2: bool = False,
    ) -> None:
        self.ocf = ocf or OcfRunner()
        self.stonith = stonith or StonithRunner()
        self.vip = vip or VipAgent()
        self.engine = engine
        self.builtin_ipaddr2 = builtin_ipaddr2
        self._inner: dict[str, OcfRunner] = {}
        self._lock = threading.Lock()

    def run(self, request: OpRequest) -> OpResult:
        agent = request.agent
        if request.container is not None:
            return (
                self._inner_runner(request.container).run(request)
                if self.engine
                else (
                    failed(
                        OcfRc.NOT_CONFIGURED,
                        OpStatus.ERROR,
                        f"{request.resource} runs in container {request.container}, "
                        "but this node has no container engine",
                    )
                )
            )
        if agent.standard == "stonith":
            return self.stonith.run(request)
        if agent.standard == "ocf":
            if (agent.provider, agent.type) == (VIP_PROVIDER, VIP_TYPE) or (
                self.builtin_ipaddr2 and (agent.provider, agent.type) == ("heartbeat", "IPaddr2")
            ):
                return self.vip.run(request)
            return self.ocf.run(request)
        return failed(
            OcfRc.NOT_INSTALLED,
            OpStatus.NOT_INSTALLED,
            f"agents of class {agent.standard} are not supported ({agent})",
        )

    def _inner_runner(self, container: str) -> OcfRunner:
        assert self.engine is not None
        with self._lock:
            runner = self._inner.get(container)
            if runner is None:
                runner = ContainerAgent(self.engine).inner_runner(
                    container, ocf_root=self.ocf.ocf_root
                )
                self._inner[container] = runner
            return runner
