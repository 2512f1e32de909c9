"""rsc_ticket constraints: resources that may run only while a ticket is granted.

A ticket's state comes from the status section (`<tickets><ticket_state granted=...
standby=...>`); a ticket no status names is not granted. Losing a ticket while the
resource runs applies the constraint's loss-policy (stop, demote, fence, freeze); a
ticket not granted, or granted but in standby, keeps the resource from starting.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hakeeper.cib.parse import is_true
from hakeeper.model.config import Role, Ticket
from hakeeper.model.scores import INFINITY
from hakeeper.scheduler.cluster import Cluster, fence_node
from hakeeper.scheduler.working import Rsc


class LossPolicy(enum.Enum):
    STOP = "stop"
    DEMOTE = "demote"
    FENCE = "fence"
    FREEZE = "freeze"


@dataclass(frozen=True, slots=True)
class TicketState:
    id: str
    granted: bool
    standby: bool


@dataclass(frozen=True, slots=True)
class RscTicket:
    id: str
    rsc: Rsc
    ticket: TicketState
    role: Role  # UNKNOWN: any role
    loss_policy: LossPolicy


def ticket_states(cluster: Cluster) -> dict[str, TicketState]:
    """Every ticket the status section describes, by id."""
    result: dict[str, TicketState] = {}
    for ident, attrs in cluster.cib.status.tickets.values:
        if not ident:
            continue
        values = dict(attrs)
        result[ident] = TicketState(
            ident, is_true(values.get("granted")), is_true(values.get("standby"))
        )
    return result


def apply_tickets(cluster: Cluster) -> list[RscTicket]:
    """Unpack every rsc_ticket and apply what a missing or standby ticket means now."""
    states = ticket_states(cluster)
    result: list[RscTicket] = []
    for cons in cluster.cib.configuration.constraints:
        if not isinstance(cons, Ticket) or not cons.ticket:
            continue
        ticket = states.get(cons.ticket) or TicketState(cons.ticket, False, False)
        if cons.sets:
            _unpack_sets(cluster, cons, ticket, result)
            continue
        targets = _resources(cluster, cons.rsc)
        if targets is None:
            continue
        for rsc in targets:
            result.append(_new(cluster, cons.id, rsc, ticket, cons.rsc_role, cons.loss_policy))
    return result


def _unpack_sets(
    cluster: Cluster, cons: Ticket, ticket: TicketState, result: list[RscTicket]
) -> None:
    for rset in cons.sets:
        for ref in rset.resources:
            targets = _resources(cluster, ref)
            if targets is None:
                return  # Pacemaker drops the rest of the constraint at an unknown member
            for rsc in targets:
                result.append(_new(cluster, rset.id, rsc, ticket, rset.role, cons.loss_policy))


def _resources(cluster: Cluster, ident: str | None) -> list[Rsc] | None:
    """A resource, or a tag's members; None if the id names neither."""
    from hakeeper.scheduler.placement import _tag_members

    if ident is None:
        return None
    rsc = cluster.rsc_by_id.get(ident)
    if rsc is not None:
        return [rsc]
    members = _tag_members(cluster, ident)
    return members if members else None


def _new(
    cluster: Cluster,
    ident: str,
    rsc: Rsc,
    ticket: TicketState,
    role_text: str | None,
    policy_text: str | None,
) -> RscTicket:
    role = Role.parse(role_text) if role_text else None
    if role is None or role == Role.STARTED:
        role = Role.UNKNOWN
    policy_name = (policy_text or "").lower()
    if policy_name == "fence" and not cluster.options.stonith_enabled:
        policy_name = "stop"
    if policy_name in ("fence", "freeze", "demote", "stop"):
        policy = LossPolicy(policy_name)
    elif role == Role.PROMOTED:
        policy = LossPolicy.DEMOTE
    else:
        policy = LossPolicy.STOP
    rsc_ticket = RscTicket(ident, rsc, ticket, role, policy)
    if not ticket.granted or ticket.standby:
        _apply(cluster, rsc, rsc_ticket)
        if role == Role.PROMOTED:
            # a promotable clone then promotes no instance (its promotion scores are banned)
            rsc.ticket_blocks_promotion = True
    return rsc_ticket


def _ban(cluster: Cluster, rsc: Rsc, tag: str) -> None:
    from hakeeper.scheduler.placement import resource_location

    resource_location(cluster, rsc, None, -INFINITY, tag)


def _apply(cluster: Cluster, rsc: Rsc, rt: RscTicket) -> None:
    if rsc.children:
        for child in rsc.children:
            _apply(cluster, child, rt)
        return
    role_applies = rt.role == Role.UNKNOWN or rt.role == rsc.role
    if not rt.ticket.granted and rsc.running_on:
        policy = rt.loss_policy
        if policy == LossPolicy.STOP:
            _ban(cluster, rsc, "__loss_of_ticket__")
        elif policy == LossPolicy.DEMOTE:
            if rt.role != Role.PROMOTED:
                _ban(cluster, rsc, "__loss_of_ticket__")
        elif policy == LossPolicy.FENCE:
            if not role_applies:
                return
            _ban(cluster, rsc, "__loss_of_ticket__")
            for node in rsc.running_on:
                fence_node(cluster, node, "deadman ticket was lost")
        elif policy == LossPolicy.FREEZE:
            if not role_applies:
                return
            rsc.managed = False
            rsc.block = True
            rsc.ticket_frozen = True
    elif not rt.ticket.granted:
        if rt.role != Role.PROMOTED or rt.loss_policy == LossPolicy.STOP:
            _ban(cluster, rsc, "__no_ticket__")
    elif rt.ticket.standby:
        if rt.role != Role.PROMOTED or rt.loss_policy == LossPolicy.STOP:
            _ban(cluster, rsc, "__ticket_standby__")
