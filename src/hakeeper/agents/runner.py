"""The node's AgentRunner: sends each request to the agent kind that serves it."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from hakeeper.agents.bundle import ContainerAgent, on_node
from hakeeper.agents.container import ContainerEngine, ContainerError, ContainerLauncher, Mount
from hakeeper.agents.container import State as ContainerState
from hakeeper.agents.ocf import DEFAULT_PATH, OcfRunner
from hakeeper.agents.remote import RemoteExecutor
from hakeeper.agents.request import OpRequest
from hakeeper.agents.result import OcfRc, OpResult, OpStatus, failed
from hakeeper.agents.stonith import StonithRunner
from hakeeper.agents.vip import VipAgent

#: the built-in VIP agent's name in a CIB: ocf:hakeeper:VIP
VIP_PROVIDER, VIP_TYPE = "hakeeper", "VIP"
#: the executor run in bundle containers (the shims' directory is mounted there as here)
EXECUTOR = str(Path(__file__).resolve().parent / "shims" / "hk_executor")
#: a unix socket's path is at most 107 bytes
SOCKET_PATH_MAX = 100


class LocalAgentRunner:
    """Runs requests on this node: ocf:* through OcfRunner, stonith:* through StonithRunner,
    ocf:hakeeper:VIP (and ocf:heartbeat:IPaddr2 if `builtin_ipaddr2`: same parameters, a
    few ms instead of IPaddr2's shell) through VipAgent, and a request with a `container`
    through that container's exec (the bundle's inner agent, with `inner_path` and
    `inner_env`: where the shims are inside the container). A request with a `replica` is
    the bundle container itself (run on the node's namespace `netns` when network is
    "host", with `mounts` added: the shims and the attribute socket), one with a
    `connection` the bundle's connection (up while that container runs)."""

    def __init__(
        self,
        *,
        ocf: OcfRunner | None = None,
        stonith: StonithRunner | None = None,
        vip: VipAgent | None = None,
        engine: ContainerEngine | None = None,
        builtin_ipaddr2: bool = False,
        netns: str | None = None,
        mounts: tuple[Mount, ...] = (),
        inner_path: str = DEFAULT_PATH,
        inner_env: Mapping[str, str] | None = None,
        executor_dirs: tuple[str, str] | None = None,
    ) -> None:
        self.ocf = ocf or OcfRunner()
        self.stonith = stonith or StonithRunner()
        self.vip = vip or VipAgent()
        self.engine = engine
        self.builtin_ipaddr2 = builtin_ipaddr2
        self.netns = netns
        self.mounts = mounts
        self.inner_path = inner_path
        self.inner_env = dict(inner_env or {})
        # (as this daemon sees it, as the containers see it): the directory shared with the
        # containers (in `mounts`) where their executors' sockets are; None: engine exec
        self.executor_dirs = executor_dirs
        self._inner: dict[str, OcfRunner] = {}
        self._remotes: dict[str, RemoteExecutor] = {}
        self._lock = threading.Lock()

    def run(self, request: OpRequest) -> OpResult:
        agent = request.agent
        bundled = request.container or request.connection or request.replica
        if bundled is not None:
            if self.engine is None:
                return failed(
                    OcfRc.NOT_CONFIGURED,
                    OpStatus.ERROR,
                    f"{request.resource} is part of a bundle, but this node has no "
                    "container engine",
                )
            return self._bundled(self.engine, request)
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

    def _bundled(self, engine: ContainerEngine, request: OpRequest) -> OpResult:
        agent = ContainerAgent(engine)
        if request.replica is not None:
            if request.action == "start":
                return agent.start(on_node(request.replica, self.netns, self.mounts))
            if request.action == "stop":
                return agent.stop(request.replica.name)
            return agent.monitor(request.replica.name)
        if request.connection is not None:
            return agent.connection(request.action, request.connection)
        assert request.container is not None
        if request.action == "monitor" and request.interval_ms == 0:
            # a probe: no container, no instance in it
            try:
                state = engine.inspect(request.container).state
            except ContainerError as exc:
                return failed(OcfRc.ERR_GENERIC, OpStatus.ERROR, str(exc))
            if state is not ContainerState.RUNNING:
                return OpResult(OcfRc.NOT_RUNNING, OpStatus.DONE, None, 0.0)
        result = self._inner_runner(engine, request.container).run(request)
        if request.action not in ("monitor", "stop", "demote") or _answered(request, result):
            return result
        # the exec failed, or the container died under it (podman: 137): with its container
        # gone, the instance is not running (Pacemaker's guest node is down then) and a stop
        # has nothing left to stop
        try:
            state = engine.inspect(request.container).state
        except ContainerError:
            return result
        if state is ContainerState.RUNNING:
            return result
        rc = OcfRc.NOT_RUNNING if request.action == "monitor" else OcfRc.OK
        return OpResult(rc, OpStatus.DONE, None, result.duration)

    def cancel(self, request: OpRequest) -> None:
        """End this request's run now if it can be: an inner agent's action in a container
        whose executor runs it (elsewhere it runs to its end, and its answer is void)."""
        if request.container is None:
            return
        with self._lock:
            remote = self._remotes.get(request.container)
        if remote is not None:
            remote.cancel(request.action, request.interval_ms)

    def _inner_runner(self, engine: ContainerEngine, container: str) -> OcfRunner:
        with self._lock:
            runner = self._inner.get(container)
            if runner is None:
                remote = self._executor(container)
                if remote is not None:
                    self._remotes[container] = remote
                runner = OcfRunner(
                    ocf_root=self.ocf.ocf_root,
                    launcher=ContainerLauncher(engine, container, remote),
                    check_installed=False,
                    path=self.inner_path,
                    extra_env=self.inner_env,
                )
                self._inner[container] = runner
            return runner

    def _executor(self, container: str) -> RemoteExecutor | None:
        if self.executor_dirs is None or self.engine is None:
            return None
        engine = self.engine
        here, there = self.executor_dirs

        def start(argv: Sequence[str]) -> bool:
            try:
                return engine.exec(container, argv, detach=True).code == 0
            except ContainerError:
                return False  # the engine cannot run: its exec will say so

        name = f"{container}.exec"
        if len(f"{here}/{name}".encode()) >= SOCKET_PATH_MAX:
            return None
        return RemoteExecutor(start, f"{here}/{name}", f"{there}/{name}", EXECUTOR)


def _answered(request: OpRequest, result: OpResult) -> bool:
    """Whether an inner monitor, stop or demote got an answer that needs no second look at
    its container: a state for a monitor, success for a stop or a demote."""
    if result.status is not OpStatus.DONE:
        return False
    if request.action == "monitor":
        return result.rc in (OcfRc.OK, OcfRc.RUNNING_PROMOTED, OcfRc.NOT_RUNNING)
    return result.rc == OcfRc.OK
