"""Runs OCF resource agents (Debian's resource-agents: /usr/lib/ocf/resource.d/PROVIDER/TYPE).

The OCF protocol is argv[1] = the action and everything else in the environment:
OCF_ROOT, OCF_RA_VERSION_*, OCF_RESOURCE_INSTANCE/TYPE/PROVIDER, one OCF_RESKEY_<name>
per parameter, and OCF_RESKEY_CRM_meta_* for the operation (timeout and interval in
milliseconds, as Pacemaker passes them). The environment is built from nothing, so what
an agent sees does not depend on how the daemon was started.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import replace

from hakeeper.agents.metadata import AgentMetadata, MetadataError, parse_metadata
from hakeeper.agents.process import Exit, Launcher, ProcessOutcome, run_process
from hakeeper.agents.request import OpRequest
from hakeeper.agents.result import OcfRc, OpResult, OpStatus, as_rc, failed
from hakeeper.model.config import Agent

OCF_ROOT = "/usr/lib/ocf"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: the feature set our CIB speaks; some agents (pacemaker:remote, ...) read it
CRM_FEATURE_SET = "3.16.2"
EXIT_REASON_PREFIX = "ocf-exit-reason:"
OUTPUT_TAIL = 4096
METADATA_TIMEOUT = 10.0


class OcfRunner:
    """Runs actions of ocf:PROVIDER:TYPE agents, on this host or through a launcher.

    `rsctmp` is HA_RSCTMP, where agents keep state files (Dummy's, IPaddr2's); None uses
    the agents' default /run/resource-agents. A launcher other than run_process runs the
    agent elsewhere (inside a container: ContainerLauncher), where `ocf_root` is the path
    in that place.
    """

    def __init__(
        self,
        *,
        ocf_root: str = OCF_ROOT,
        rsctmp: str | None = None,
        path: str = DEFAULT_PATH,
        launcher: Launcher = run_process,
        check_installed: bool = True,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.ocf_root = ocf_root
        # e.g. where the node daemon's crm_attribute is (HA_SBIN_DIR, HAKEEPER_ATTRD)
        self.extra_env = dict(extra_env or {})
        self.rsctmp = rsctmp
        self.path = path
        self.launcher = launcher
        # inside a container the host cannot see the file: the exec's exit code tells
        self.check_installed = check_installed
        self._metadata: dict[str, AgentMetadata] = {}
        self._lock = threading.Lock()

    def agent_path(self, agent: Agent) -> str:
        return os.path.join(self.ocf_root, "resource.d", agent.provider or "heartbeat", agent.type)

    def environment(self, request: OpRequest) -> dict[str, str]:
        """The whole environment the agent runs with. Raises ValueError for a name or value
        that cannot be an environment variable."""
        env = {
            "PATH": self.path,
            "LC_ALL": "C",
            "OCF_ROOT": self.ocf_root,
            "OCF_RA_VERSION_MAJOR": "1",
            "OCF_RA_VERSION_MINOR": "1",
            "OCF_RESOURCE_INSTANCE": request.resource,
            "OCF_RESOURCE_TYPE": request.agent.type,
            "OCF_RESOURCE_PROVIDER": request.agent.provider or "heartbeat",
            # log to stderr (we keep its tail), not to syslog or a file
            "HA_LOGFACILITY": "none",
            "HA_LOGFILE": "",
            "HA_DEBUGLOG": "",
            "OCF_RESKEY_crm_feature_set": CRM_FEATURE_SET,
            "OCF_RESKEY_CRM_meta_timeout": str(request.timeout_ms),
            "OCF_RESKEY_CRM_meta_interval": str(request.interval_ms),
            "OCF_RESKEY_CRM_meta_on_node": request.node,
            "OCF_RESKEY_CRM_meta_name": request.action,
        }
        env.update(self.extra_env)
        if self.rsctmp is not None:
            env["HA_RSCTMP"] = self.rsctmp
        for name, value in request.meta.items():
            env[_checked(f"OCF_RESKEY_CRM_meta_{name.replace('-', '_')}", value)] = value
        for name, value in request.params.items():
            if name == "OCF_CHECK_LEVEL":  # an op attribute, passed under its own name
                env[_checked(name, value)] = value
                continue
            env[_checked(f"OCF_RESKEY_{name}", value)] = value
        return env

    def run(self, request: OpRequest) -> OpResult:
        """Run request.action; a timeout kills the agent's process group."""
        if request.agent.standard != "ocf":
            return failed(
                OcfRc.NOT_CONFIGURED, OpStatus.ERROR, f"{request.agent} is not an OCF agent"
            )
        path = self.agent_path(request.agent)
        if self.check_installed and not os.path.isfile(path):
            return failed(
                OcfRc.NOT_INSTALLED,
                OpStatus.NOT_INSTALLED,
                f"{request.agent} is not installed ({path} does not exist)",
            )
        try:
            env = self.environment(request)
        except ValueError as exc:
            return failed(OcfRc.NOT_CONFIGURED, OpStatus.ERROR, str(exc))
        outcome = self.launcher([path, request.action], env=env, timeout=request.timeout_ms / 1000)
        return result_of(outcome, f"{request.agent} {request.action}", request.timeout_ms)

    def reload(self, request: OpRequest) -> OpResult:
        """Reload changed parameters: reload-agent (OCF 1.1) or reload, whichever the agent
        offers; UNIMPLEMENTED if neither (the caller restarts the resource instead)."""
        try:
            action = self.metadata(request.agent).reload_action
        except MetadataError as exc:
            return failed(OcfRc.ERR_GENERIC, OpStatus.ERROR, str(exc))
        if action is None:
            return failed(
                OcfRc.UNIMPLEMENTED,
                OpStatus.DONE,
                f"{request.agent} offers neither reload-agent nor reload",
            )
        return self.run(replace(request, action=action, interval_ms=0))

    def metadata(self, agent: Agent) -> AgentMetadata:
        """The agent's meta-data, cached per agent. Raises MetadataError."""
        key = str(agent)
        with self._lock:
            cached = self._metadata.get(key)
        if cached is not None:
            return cached
        path = self.agent_path(agent)
        if self.check_installed and not os.path.isfile(path):
            raise MetadataError(f"{agent} is not installed ({path} does not exist)")
        env = {
            "PATH": self.path,
            "LC_ALL": "C",
            "OCF_ROOT": self.ocf_root,
            "OCF_RA_VERSION_MAJOR": "1",
            "OCF_RA_VERSION_MINOR": "1",
            "OCF_RESOURCE_TYPE": agent.type,
            "OCF_RESOURCE_PROVIDER": agent.provider or "",
            "HA_LOGFACILITY": "none",
        }
        outcome = self.launcher([path, "meta-data"], env=env, timeout=METADATA_TIMEOUT)
        if outcome.exit is not Exit.EXITED or outcome.code != 0:
            raise MetadataError(
                f"{agent} meta-data failed ({outcome.exit.value}, "
                f"code {outcome.code}): {outcome.stderr.strip()[-500:]}"
            )
        parsed = parse_metadata(outcome.stdout)
        with self._lock:
            self._metadata[key] = parsed
        return parsed


def result_of(outcome: ProcessOutcome, what: str, timeout_ms: int) -> OpResult:
    """Turn a process outcome into an OpResult (shared with stonith and container exec)."""
    output = _tail(outcome)
    reason = exit_reason(outcome.stderr)
    if outcome.exit is Exit.TIMEOUT:
        return OpResult(
            OcfRc.ERR_GENERIC,
            OpStatus.TIMEOUT,
            reason or f"{what} timed out after {timeout_ms} ms",
            outcome.duration,
            output,
        )
    if outcome.exit is Exit.NOT_FOUND:
        return OpResult(
            OcfRc.NOT_INSTALLED,
            OpStatus.NOT_INSTALLED,
            f"{what}: {outcome.stderr.strip()}",
            outcome.duration,
            output,
        )
    if outcome.exit is Exit.NOT_EXECUTABLE:
        return OpResult(
            OcfRc.ERR_PERM,
            OpStatus.ERROR,
            f"{what}: {outcome.stderr.strip()}",
            outcome.duration,
            output,
        )
    code = outcome.code if outcome.code is not None else OcfRc.ERR_GENERIC
    if code < 0:  # killed by a signal someone else sent
        return OpResult(
            OcfRc.ERR_GENERIC,
            OpStatus.ERROR,
            reason or f"{what} was killed by signal {-code}",
            outcome.duration,
            output,
        )
    return OpResult(as_rc(code), OpStatus.DONE, reason, outcome.duration, output)


def exit_reason(stderr: str) -> str | None:
    """The last `ocf-exit-reason:` line an agent printed (ocf_exit_reason), if any."""
    reason = None
    for line in stderr.splitlines():
        at = line.find(EXIT_REASON_PREFIX)
        if at >= 0:
            reason = line[at + len(EXIT_REASON_PREFIX) :].strip() or reason
    return reason


def _tail(outcome: ProcessOutcome) -> str:
    text = "\n".join(part.strip() for part in (outcome.stdout, outcome.stderr) if part.strip())
    return text[-OUTPUT_TAIL:]


def _checked(name: str, value: str) -> str:
    if not name or "=" in name or "\0" in name:
        raise ValueError(f"parameter name {name!r} cannot be an environment variable")
    if "\0" in value:
        raise ValueError(f"value of {name} contains a NUL byte")
    return name
