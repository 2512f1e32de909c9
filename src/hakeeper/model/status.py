"""The status section of the CIB: node membership, attributes and operation history."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OpRecord:
    """One `lrm_rsc_op`: the last result of an operation of a resource on a node."""

    id: str
    operation: str
    call_id: int
    rc_code: int
    op_status: int
    interval_ms: int = 0
    operation_key: str | None = None
    transition_key: str | None = None
    transition_magic: str | None = None
    last_rc_change: int | None = None
    last_run: int | None = None
    exec_time: int | None = None
    queue_time: int | None = None
    op_digest: str | None = None
    op_restart_digest: str | None = None
    op_secure_digest: str | None = None
    on_node: str | None = None
    exit_reason: str | None = None
    migrate_source: str | None = None
    migrate_target: str | None = None
    crm_feature_set: str | None = None
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def target_rc(self) -> int | None:
        """The rc the controller expected, from the transition key (action:transition:rc:uuid)."""
        key = self.transition_key
        if not key:
            return None
        parts = key.split(":")
        if len(parts) < 4:
            return None
        try:
            return int(parts[2])
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class LrmResource:
    id: str
    standard: str | None
    provider: str | None
    type: str | None
    ops: tuple[OpRecord, ...] = ()
    container: str | None = None


@dataclass(frozen=True, slots=True)
class NodeState:
    id: str
    uname: str | None
    in_ccm: str | None = None
    crmd: str | None = None
    join: str | None = None
    expected: str | None = None
    crm_debug_origin: str | None = None
    shutdown: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    resources: tuple[LrmResource, ...] = ()
    remote_node: bool = False
    extra: tuple[tuple[str, str], ...] = ()
    has_lrm: bool = True

    def attribute(self, name: str) -> str | None:
        for key, value in self.attributes:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Tickets:
    values: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Status:
    nodes: tuple[NodeState, ...] = ()
    tickets: Tickets = Tickets()
