"""Runs fence agents (Debian's fence-agents: /usr/sbin/fence_*) by their stdin protocol.

The agent reads `key=value` lines on stdin: action=, port= (or plug=) naming the victim's
outlet, nodename= the victim's node name, and the device's own parameters (ip=,
username=, ...). Exit codes: 0 success; for status 0 means on and 2 off; anything else
is a failure. Pacemaker's pcmk_* parameters are Pacemaker's own and never reach the agent.
"""

from __future__ import annotations

import enum
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from hakeeper.agents.ocf import result_of
from hakeeper.agents.process import Exit, Launcher, run_process
from hakeeper.agents.request import STONITH_TARGET, OpRequest
from hakeeper.agents.result import OcfRc, OpResult, OpStatus, failed

FENCE_DIR = "/usr/sbin"
#: hakeeper's own fence agents (fence_hakeeper_lab), used when fence_dir has no such agent
BUILTIN_FENCE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fence")
TARGET = STONITH_TARGET
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
DEFAULT_TIMEOUT = 60.0
ACTIONS = ("list", "status", "monitor", "reboot", "off", "on", "metadata")


class Power(enum.Enum):
    ON = "on"
    OFF = "off"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class StonithDevice:
    """A configured fence device: agent (fence_ipmilan) and its parameters, pcmk_* included
    (pcmk_host_map "node1:port1;node2:port2", pcmk_host_argument port|plug|none)."""

    id: str
    agent: str
    params: Mapping[str, str] = field(default_factory=dict)

    def port_for(self, target: str) -> str:
        """The outlet name of a node: pcmk_host_map's entry for it, else its name."""
        for entry in self.params.get("pcmk_host_map", "").replace(",", ";").split(";"):
            node, sep, port = entry.strip().partition(":")
            if sep and node == target:
                return port
        return target


@dataclass(frozen=True, slots=True)
class FenceResult:
    """A fence action's result. `power` is set by status; `ports` by list."""

    ok: bool
    code: int | None
    status: OpStatus
    power: Power | None = None
    ports: tuple[str, ...] = ()
    reason: str | None = None
    duration: float = 0.0
    output: str = ""


class StonithRunner:
    """Runs fence actions. As an AgentRunner it serves a stonith resource's own operations:
    start and monitor check the device (monitor action), stop succeeds."""

    def __init__(self, *, fence_dir: str = FENCE_DIR, launcher: Launcher = run_process) -> None:
        self.fence_dir = fence_dir
        self.launcher = launcher

    def agent_path(self, agent: str) -> str:
        if os.path.isabs(agent):
            return agent
        path = os.path.join(self.fence_dir, agent)
        builtin = os.path.join(BUILTIN_FENCE_DIR, agent)
        return builtin if not os.path.isfile(path) and os.path.isfile(builtin) else path

    def stdin_for(self, device: StonithDevice, action: str, target: str | None) -> bytes:
        """The stdin lines. Raises ValueError for a key or value that would break a line."""
        lines = {"action": action}
        host_argument = device.params.get("pcmk_host_argument", "port")
        if target is not None:
            lines["nodename"] = target
            if host_argument != "none":
                lines[host_argument] = device.port_for(target)
        for key, value in device.params.items():
            if key.startswith("pcmk_") or key in lines:
                continue
            lines[key] = value
        for key, value in lines.items():
            if not key or any(c in key for c in "=\n\r\0") or any(c in value for c in "\n\r\0"):
                raise ValueError(f"stonith parameter {key!r} cannot be passed on a line")
        return "".join(f"{k}={v}\n" for k, v in lines.items()).encode()

    def fence(
        self,
        device: StonithDevice,
        action: str,
        target: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> FenceResult:
        """Run one action (list, status, monitor, reboot, off, on) against the device;
        reboot/off/on/status need a target node."""
        if action not in ACTIONS:
            return FenceResult(False, None, OpStatus.ERROR, reason=f"unknown action {action}")
        path = self.agent_path(device.agent)
        if not os.path.isfile(path):
            return FenceResult(
                False,
                None,
                OpStatus.NOT_INSTALLED,
                reason=f"fence agent {device.agent} is not installed ({path})",
            )
        try:
            stdin = self.stdin_for(device, action, target)
        except ValueError as exc:
            return FenceResult(False, None, OpStatus.ERROR, reason=str(exc))
        began = time.monotonic()
        outcome = self.launcher([path], env=ENV, timeout=timeout, stdin=stdin)
        common = result_of(outcome, f"{device.agent} {action}", int(timeout * 1000))
        if outcome.exit is not Exit.EXITED or outcome.code is None or outcome.code < 0:
            return FenceResult(
                False,
                outcome.code,
                common.status,
                reason=common.exit_reason,
                duration=time.monotonic() - began,
                output=common.output,
            )
        code = outcome.code
        power = None
        ok = code == 0
        if action == "status":
            power = {0: Power.ON, 2: Power.OFF}.get(code, Power.UNKNOWN)
            ok = power is not Power.UNKNOWN
        ports = _ports(outcome.stdout) if action == "list" and ok else ()
        return FenceResult(
            ok,
            code,
            OpStatus.DONE,
            power,
            ports,
            None if ok else _fence_reason(outcome.stderr, action),
            time.monotonic() - began,
            common.output,
        )

    def list(self, device: StonithDevice, *, timeout: float = DEFAULT_TIMEOUT) -> FenceResult:
        return self.fence(device, "list", timeout=timeout)

    def run(self, request: OpRequest) -> OpResult:
        """A stonith resource's operation; request.params are the device's."""
        device = StonithDevice(request.resource, request.agent.type, request.params)
        if request.action == "stop":
            return OpResult(OcfRc.OK, OpStatus.DONE)
        if request.action in ("reboot", "off", "on"):
            target = request.meta.get(TARGET)
            if not target:
                return failed(
                    OcfRc.ERR_ARGS,
                    OpStatus.ERROR,
                    f"{request.action} needs a target node (meta {TARGET})",
                )
            fenced = self.fence(device, request.action, target, timeout=request.timeout_ms / 1000)
            rc = OcfRc.OK if fenced.ok else OcfRc.ERR_GENERIC
            return OpResult(rc, fenced.status, fenced.reason, fenced.duration, fenced.output)
        if request.action not in ("start", "monitor"):
            return failed(
                OcfRc.UNIMPLEMENTED,
                OpStatus.DONE,
                f"a stonith resource has no {request.action} operation",
            )
        result = self.fence(device, "monitor", timeout=request.timeout_ms / 1000)
        if result.status is not OpStatus.DONE:
            rc = (
                OcfRc.NOT_INSTALLED
                if result.status is OpStatus.NOT_INSTALLED
                else (OcfRc.ERR_GENERIC)
            )
            return OpResult(rc, result.status, result.reason, result.duration, result.output)
        rc = OcfRc.OK if result.ok else OcfRc.ERR_GENERIC
        return OpResult(rc, OpStatus.DONE, result.reason, result.duration, result.output)


def _ports(stdout: str) -> tuple[str, ...]:
    """`list` prints one outlet a line, `port,alias` or `port`."""
    ports = []
    for line in stdout.splitlines():
        name = line.split(",", 1)[0].strip()
        if name:
            ports.append(name)
    return tuple(ports)


def _fence_reason(stderr: str, action: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    # fencing.py logs the cause ("Failed: ...") first, then advice ("Please use '-h'")
    failures = [ln for ln in lines if "Failed" in ln]
    errors = [ln for ln in lines if "ERROR" in ln]
    if failures:
        picked = failures[0]
    else:
        picked = (errors or lines or [f"{action} failed"])[-1]
    return picked.split("ERROR: ", 1)[-1]
