"""What an agent action returns: the OCF rc, how the run ended, why it failed."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class OcfRc(enum.IntEnum):
    """OCF exit codes (OCF 1.1; RUNNING_PROMOTED was OCF_RUNNING_MASTER)."""

    OK = 0
    ERR_GENERIC = 1
    ERR_ARGS = 2
    UNIMPLEMENTED = 3
    ERR_PERM = 4
    NOT_INSTALLED = 5
    NOT_CONFIGURED = 6
    NOT_RUNNING = 7
    RUNNING_PROMOTED = 8
    FAILED_PROMOTED = 9
    DEGRADED = 190
    DEGRADED_PROMOTED = 191


def as_rc(code: int) -> int:
    """code as an OcfRc member when it is one; agents may return anything else too."""
    try:
        return OcfRc(code)
    except ValueError:
        return code


class OpStatus(enum.Enum):
    """How the run of an action ended, apart from its rc (Pacemaker's op-status)."""

    DONE = "done"  # the agent ran and exited: rc is its answer
    TIMEOUT = "timeout"  # killed at the deadline: rc is ERR_GENERIC
    ERROR = "error"  # it could not be run (not executable, bad parameters, engine error)
    NOT_INSTALLED = "not installed"  # no such agent: rc is NOT_INSTALLED

    @property
    def pacemaker_code(self) -> int:
        """The op-status number Pacemaker writes in lrm_rsc_op (PCMK_EXEC_*)."""
        return _PCMK_EXEC[self]


_PCMK_EXEC = {OpStatus.DONE: 0, OpStatus.TIMEOUT: 2, OpStatus.ERROR: 4, OpStatus.NOT_INSTALLED: 7}


@dataclass(frozen=True, slots=True)
class OpResult:
    """One action's result. rc is an OcfRc member when the code is one (compare with ==)."""

    rc: int
    status: OpStatus
    exit_reason: str | None = None
    duration: float = 0.0
    output: str = ""  # the end of stdout then stderr, for a human reading a failure

    @property
    def running(self) -> bool:
        """The answer of a monitor or probe: the resource is active (in any role)."""
        return self.status is OpStatus.DONE and self.rc in (
            OcfRc.OK,
            OcfRc.RUNNING_PROMOTED,
            OcfRc.DEGRADED,
            OcfRc.DEGRADED_PROMOTED,
        )


def failed(rc: int, status: OpStatus, reason: str, duration: float = 0.0) -> OpResult:
    """A result for an action that did not get an answer from the agent itself."""
    return OpResult(as_rc(rc), status, reason, duration, "")
