"""The built-in virtual IP agent: an address on an interface, announced by gratuitous ARP.

It does what ocf:heartbeat:IPaddr2 does for the common case (ip, cidr_netmask, nic) in
a few `ip` calls and without a shell, optionally inside a network namespace (`ip -n NS`,
the lab's nodes). start and stop are idempotent as OCF requires: starting an address
that is there and stopping one that is not both succeed.

Without gratuitous ARP, clients that cached the old owner's MAC stall for tens of
seconds; with it a moved address answers again in tens of milliseconds. The first
announcement leaves before start returns; the repeats (arp_count, one a second, iputils
arping) go on in the background, as IPaddr2's send_arp does, so start does not wait.
"""

from __future__ import annotations

import ipaddress
import itertools
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hakeeper.agents.process import Exit, run_process
from hakeeper.agents.request import OpRequest
from hakeeper.agents.result import OcfRc, OpResult, OpStatus, failed

IP_TIMEOUT = 5.0
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}


@dataclass(frozen=True, slots=True)
class Vip:
    """One virtual address. `netns`: the network namespace it lives in (None: this one)."""

    ip: str
    nic: str
    cidr_netmask: int | None = None
    netns: str | None = None
    arp_count: int = 3

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Vip:
        """From IPaddr2's parameter names (ip, cidr_netmask, nic, arp_count) plus netns.
        Raises ValueError for a missing or malformed one."""
        if not params.get("ip"):
            raise ValueError("parameter ip is required")
        if not params.get("nic"):
            raise ValueError("parameter nic is required")
        ipaddress.ip_address(params["ip"])
        mask = params.get("cidr_netmask")
        return cls(
            ip=params["ip"],
            nic=params["nic"],
            cidr_netmask=int(mask) if mask else None,
            netns=params.get("netns") or None,
            arp_count=int(params.get("arp_count", "3")),
        )

    @property
    def version(self) -> int:
        return ipaddress.ip_address(self.ip).version

    @property
    def cidr(self) -> str:
        bits = (
            self.cidr_netmask
            if self.cidr_netmask is not None
            else (32 if self.version == 4 else 128)
        )
        return f"{self.ip}/{bits}"


class VipAgent:
    """start/stop/monitor of a Vip; usable directly or as an AgentRunner for requests whose
    params are IPaddr2's (ip, cidr_netmask, nic) plus netns."""

    def __init__(self, *, arping: str | None = None) -> None:
        self.arping = arping or shutil.which("arping", path=ENV["PATH"])

    def run(self, request: OpRequest) -> OpResult:
        try:
            vip = Vip.from_params(request.params)
        except ValueError as exc:
            return failed(OcfRc.NOT_CONFIGURED, OpStatus.ERROR, str(exc))
        actions = {"start": self.start, "stop": self.stop, "monitor": self.monitor}
        if request.action not in actions:
            return failed(
                OcfRc.UNIMPLEMENTED,
                OpStatus.DONE,
                f"the built-in VIP agent has no {request.action} action",
            )
        return actions[request.action](vip)

    def start(self, vip: Vip) -> OpResult:
        began = time.monotonic()
        present = self._present(vip)
        if present is None:
            return failed(
                OcfRc.NOT_CONFIGURED,
                OpStatus.DONE,
                f"interface {vip.nic} not found" + _where(vip),
                _since(began),
            )
        if not present:
            outcome = run_process(
                self._ip(vip, "addr", "add", vip.cidr, "dev", vip.nic), env=ENV, timeout=IP_TIMEOUT
            )
            if outcome.exit is not Exit.EXITED or outcome.code != 0:
                return failed(
                    OcfRc.ERR_GENERIC,
                    OpStatus.DONE,
                    f"ip addr add {vip.cidr} dev {vip.nic}{_where(vip)} failed: "
                    f"{outcome.stderr.strip()}",
                    _since(began),
                )
        if vip.version == 4:
            self._announce(vip)
        return OpResult(OcfRc.OK, OpStatus.DONE, None, _since(began))

    def stop(self, vip: Vip) -> OpResult:
        began = time.monotonic()
        if not self._present(vip):  # no address, or no interface: nothing to stop
            return OpResult(OcfRc.OK, OpStatus.DONE, None, _since(began))
        outcome = run_process(
            self._ip(vip, "addr", "del", vip.cidr, "dev", vip.nic), env=ENV, timeout=IP_TIMEOUT
        )
        if (outcome.exit is not Exit.EXITED or outcome.code != 0) and self._present(vip):
            return failed(
                OcfRc.ERR_GENERIC,
                OpStatus.DONE,
                f"ip addr del {vip.cidr} dev {vip.nic}{_where(vip)} failed: "
                f"{outcome.stderr.strip()}",
                _since(began),
            )
        return OpResult(OcfRc.OK, OpStatus.DONE, None, _since(began))

    def monitor(self, vip: Vip) -> OpResult:
        began = time.monotonic()
        present = self._present(vip)
        rc = OcfRc.OK if present else OcfRc.NOT_RUNNING
        return OpResult(rc, OpStatus.DONE, None, _since(began))

    def _present(self, vip: Vip) -> bool | None:
        """Whether the address is on the interface; None if the interface does not exist."""
        family = "-4" if vip.version == 4 else "-6"
        outcome = run_process(
            self._ip(vip, "-o", family, "addr", "show", "dev", vip.nic), env=ENV, timeout=IP_TIMEOUT
        )
        if outcome.exit is not Exit.EXITED or outcome.code != 0:
            return None
        wanted = ipaddress.ip_address(vip.ip)
        for line in outcome.stdout.splitlines():
            fields = line.split()
            for key, value in itertools.pairwise(fields):
                if key in ("inet", "inet6"):
                    if ipaddress.ip_interface(value).ip == wanted:
                        return True
        return False

    def _announce(self, vip: Vip) -> None:
        """Gratuitous ARP: the first packet leaves at once; the process is reaped later."""
        if self.arping is None or vip.arp_count <= 0:
            return
        argv = [self.arping, "-U", "-c", str(vip.arp_count), "-I", vip.nic, vip.ip]
        if vip.netns:
            argv = ["ip", "netns", "exec", vip.netns, *argv]
        try:
            proc = subprocess.Popen(
                argv,
                env=ENV,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError:
            return  # announcing is best effort: the address is up either way
        threading.Thread(target=proc.wait, name=f"arping {vip.ip}", daemon=True).start()

    @staticmethod
    def _ip(vip: Vip, *args: str) -> Sequence[str]:
        if vip.netns:
            return ["ip", "-n", vip.netns, *args]
        return ["ip", *args]


def _where(vip: Vip) -> str:
    return f" in netns {vip.netns}" if vip.netns else ""


def _since(began: float) -> float:
    return time.monotonic() - began
