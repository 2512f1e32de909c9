"""The transition summary: one line per resource change, in crm_simulate's words."""

from __future__ import annotations

from dataclasses import dataclass

from hakeeper.model.config import Role
from hakeeper.scheduler.cluster import Cluster
from hakeeper.scheduler.working import Action, Node, Rsc


@dataclass(frozen=True, slots=True)
class Change:
    """One summary line as data: what changes for a resource, where, and why."""

    verb: str  # Start, Stop, Move, Recover, Restart, Promote, Demote, Re-promote, Migrate
    resource: str
    details: str
    reason: str | None
    from_node: str | None = None
    to_node: str | None = None

    def line(self, width: int) -> str:
        text = f"  * {self.verb:<8}   {self.resource:<{width}}   ( {self.details} )"
        if self.reason:
            text += f"  {self.reason}"
        return text


@dataclass(frozen=True, slots=True)
class Fence:
    node: str
    action: str
    reason: str
    container: str | None = None  # a guest node is fenced by recovering this resource

    def line(self) -> str:
        where = (
            self.node if self.container is None else (f"{self.node} (resource: {self.container})")
        )
        return f"  * Fence ({self.action}) {where} '{self.reason}'"


def _first(rsc: Rsc, task: str, node: Node | None) -> Action | None:
    """The newest matching action: Pacemaker prepends each new action to its list."""
    for action in reversed(rsc.actions):
        if (
            action.task == task
            and action.interval_ms == 0
            and (node is None or action.node is node)
        ):
            return action
    return None


def _item(
    verb: str,
    rsc: Rsc,
    origin: Node | None,
    destination: Node | None,
    action: Action | None,
    source: Action | None,
) -> Change:
    source = action if source is None else source
    need_role = rsc.role > Role.STARTED or rsc.next_role > Role.UNPROMOTED
    same_host = origin is not None and destination is not None and origin is destination
    same_role = rsc.role == rsc.next_role
    role = rsc.role.label
    next_role = rsc.next_role.label
    if need_role and origin is None:
        assert destination is not None
        details = f"{role} -> {next_role} {destination.uname}"
    elif origin is None:
        assert destination is not None
        details = destination.uname
    elif need_role and destination is None:
        details = f"{role} {origin.uname}"
    elif destination is None:
        details = origin.uname
    elif need_role and same_role and same_host:
        details = f"{role} {origin.uname}"
    elif same_role and same_host:
        details = origin.uname
    elif need_role and same_role:
        details = f"{origin.uname} -> {destination.uname} {role}"
    elif same_role:
        details = f"{origin.uname} -> {destination.uname}"
    elif same_host:
        details = f"{role} -> {next_role} {origin.uname}"
    else:
        details = f"{role} {origin.uname} -> {next_role} {destination.uname}"
    reason = None
    runnable = action.runnable if action is not None else True
    if source is not None and source.reason and not runnable:
        reason = f"due to {source.reason} (blocked)"
    elif source is not None and source.reason:
        reason = f"due to {source.reason}"
    elif not runnable:
        reason = "blocked"
    return Change(
        verb,
        rsc.id,
        details,
        reason,
        origin.uname if origin else None,
        destination.uname if destination else None,
    )


def resource_changes(rsc: Rsc) -> list[Change]:
    if rsc.children:
        result: list[Change] = []
        for child in rsc.children:
            result.extend(resource_changes(child))
        return result
    nxt = rsc.allocated_to
    current = rsc.current_node()
    if current is not None and rsc.role == Role.STOPPED:
        rsc.role = Role.STARTED
    if current is None and rsc.orphan:
        return []
    if not rsc.managed or (current is None and nxt is None):
        return []
    moving = current is not None and nxt is not None and current is not nxt
    start = _first(rsc, "start", nxt)
    start_node = current if start is not None and start.runnable else None
    stop = _first(rsc, "stop", start_node)
    promote = _first(rsc, "promote", nxt)
    demote = _first(rsc, "demote", nxt)
    out: list[Change] = []
    if rsc.role == rsc.next_role:
        if nxt is None:
            return out
        migrate = _first(rsc, "migrate_from", nxt)
        if migrate is not None and current is not None and migrate.runnable:
            out.append(_item("Migrate", rsc, current, nxt, start, None))
        elif rsc.reload and not moving and (start is None or start.optional):
            out.append(_item("Reload", rsc, current, nxt, start, None))
        elif start is None or start.optional:
            if (
                demote is not None
                and promote is not None
                and not demote.optional
                and not promote.optional
            ):
                out.append(_item("Re-promote", rsc, current, nxt, promote, demote))
        elif not start.runnable:
            reason_op: Action | None = start if stop is None or stop.reason is None else stop
            out.append(_item("Stop", rsc, current, None, stop, reason_op))
        elif moving and current is not None:
            out.append(_item("Recover" if rsc.failed else "Move", rsc, current, nxt, stop, None))
        elif rsc.failed:
            out.append(_item("Recover", rsc, current, None, stop, None))
        else:
            out.append(_item("Restart", rsc, current, nxt, start, None))
        return out
    if stop is not None and (
        rsc.next_role == Role.STOPPED or (start is not None and not start.runnable)
    ):
        for node in rsc.running_on:
            stop_op = _first(rsc, "stop", node)
            reason_op = start
            if stop_op is not None and stop_op.reason is not None:
                reason_op = stop_op
            out.append(_item("Stop", rsc, node, None, stop_op, reason_op))
    elif stop is not None and rsc.failed and rsc.stop_needed:
        out.append(_item("Recover", rsc, current, nxt, stop, start))
    elif moving:
        out.append(_item("Move", rsc, current, nxt, stop, None))
    elif start is not None and not start.optional:
        if current is not None:
            out.append(_item("Restart", rsc, current, nxt, start, None))
        elif rsc.next_role == Role.PROMOTED and promote is not None and not promote.optional:
            out.append(_item("Promote", rsc, current, nxt, promote, None))
        else:
            out.append(_item("Start", rsc, current, nxt, start, None))
    elif promote is not None and not promote.optional:
        out.append(_item("Promote", rsc, current, nxt, promote, None))
    elif demote is not None and not demote.optional:
        out.append(_item("Demote", rsc, current, nxt, demote, None))
    return out


def fence_changes(cluster: Cluster) -> list[Fence]:
    result = []
    for action in cluster.actions:
        if action.task == "stonith" and not action.optional and action.node is not None:
            container = (
                action.node.remote_rsc.container
                if action.node.is_guest and action.node.remote_rsc is not None
                else None
            )
            result.append(
                Fence(
                    action.node.uname,
                    action.meta.get("stonith_action", "reboot"),
                    action.reason or "",
                    container.id if container is not None else None,
                )
            )
    return result


def summary_width(changes: list[Change]) -> int:
    width = 5
    for change in changes:
        if len(change.resource) > width:
            width = len(change.resource) + 2
    return width
