"""Clone notifications (notify=true): pre- and post-notify actions around starts and stops,
and around promotions and demotions of a promotable clone.

For each of start and stop (promote and demote), the clone gets four pseudo-actions (pre,
confirmed-pre, post, confirmed-post) ordered around its own start/running or stop/stopped
(promote/promoted, demote/demoted). Once the flags have settled, each instance gets its
`notify` actions on the nodes concerned, ordered between a clone pseudo-action and its
confirmation; they carry the lists of what starts, stops, promotes, demotes, is active,
inactive, promoted and unpromoted, which the agent reads as OCF_RESKEY_CRM_meta_notify_*
(the redis agent re-points its replicas on a post-promote notification). None of this
shows in the transition summary, only in the graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from hakeeper.cib.parse import is_true
from hakeeper.model.config import Role
from hakeeper.scheduler.cluster import Cluster
from hakeeper.scheduler.working import AF, OF, Action, Node, Rsc

# the clone action a notification surrounds, and the one that completes it
_PAIRS = (("start", "running"), ("stop", "stopped"))
_ROLE_PAIRS = (("promote", "promoted"), ("demote", "demoted"))
_COMPLETE = dict(_PAIRS + _ROLE_PAIRS)
# the lists of the instances' current roles, under Pacemaker's new and old names
_ROLE_LISTS = (
    (Role.PROMOTED, ("promoted", "master")),
    (Role.UNPROMOTED, ("unpromoted", "slave")),
)


@dataclass(slots=True)
class _Notification:
    """One operation's notification pseudo-actions and what the instances do."""

    operation: str
    pre: Action
    pre_done: Action
    post: Action
    post_done: Action


def _key(rsc_id: str, kind: str, task: str) -> str:
    return f"{rsc_id}_{kind}_notify_{task}_0"


def wants_notifications(clone: Rsc) -> bool:
    return is_true(clone.meta.get("notify"))


def _clone_action(clone: Rsc, task: str) -> Action | None:
    for action in reversed(clone.actions):
        if action.task == task and action.node is None:
            return action
    return None


def _pseudo(cluster: Cluster, clone: Rsc, around: Action, task: str, kind: str) -> Action:
    from hakeeper.scheduler.actions import custom_action

    key = _key(clone.id, kind, around.task)
    action = custom_action(cluster, clone, task, None, around.optional, key=key, pseudo=True)
    action.flags |= AF.RUNNABLE
    action.meta["notify_key_type"] = kind
    action.meta["notify_key_operation"] = around.task
    return action


def _make(cluster: Cluster, clone: Rsc, task: str) -> _Notification | None:
    """The four pseudo-actions around the clone's task and its completion, ordered."""
    from hakeeper.scheduler.actions import order_actions

    action = _clone_action(clone, task)
    complete = _clone_action(clone, _COMPLETE[task])
    if action is None or complete is None:
        return None
    pre = _pseudo(cluster, clone, action, "notify", "pre")
    pre_done = _pseudo(cluster, clone, action, "notified", "confirmed-pre")
    post = _pseudo(cluster, clone, complete, "notify", "post")
    post_done = _pseudo(cluster, clone, complete, "notified", "confirmed-post")
    for pseudo, kind in ((pre, "pre"), (pre_done, "pre"), (post, "post"), (post_done, "post")):
        pseudo.meta["notify_type"] = kind
        pseudo.meta["notify_operation"] = task
    order_actions(pre, pre_done, OF.OPTIONAL)
    order_actions(pre_done, action, OF.OPTIONAL)
    order_actions(complete, post, OF.IMPLIES_THEN)
    order_actions(post, post_done, OF.IMPLIES_THEN)
    order_actions(pre_done, post, OF.OPTIONAL)
    return _Notification(task, pre, pre_done, post, post_done)


def create_pseudo_actions(cluster: Cluster, clone: Rsc) -> None:
    """The clone's pre/post notification pseudo-actions, ordered around its own."""
    from hakeeper.scheduler.actions import order_actions

    if not wants_notifications(clone):
        return
    made = [n for n in (_make(cluster, clone, task) for task, _ in _PAIRS) if n is not None]
    if len(made) == 2:
        start, stop = made
        order_actions(stop.post_done, start.pre, OF.OPTIONAL)


def create_role_pseudo_actions(cluster: Cluster, clone: Rsc, task: str) -> None:
    """The notification pseudo-actions of a promotable clone's promote or demote, made
    right after its own pseudo-actions; after the demote's, every other notification
    waits for the demotions' to be confirmed, and the promotions' for all the others."""
    from hakeeper.scheduler.actions import order_actions

    if not wants_notifications(clone):
        return
    made = _make(cluster, clone, task)
    if task != "demote" or made is None:
        return
    start, stop, promote = (_found(clone, t) for t in ("start", "stop", "promote"))
    if promote is None:
        return
    if stop is not None:
        order_actions(stop.post_done, promote.pre, OF.OPTIONAL)
    if start is not None:
        order_actions(start.post_done, promote.pre, OF.OPTIONAL)
    order_actions(made.post_done, promote.pre, OF.OPTIONAL)
    if start is not None:
        order_actions(made.post_done, start.pre, OF.OPTIONAL)
    if stop is not None:
        order_actions(made.post_done, stop.pre, OF.OPTIONAL)


def _found(clone: Rsc, task: str) -> _Notification | None:
    action = _clone_action(clone, task)
    complete = _clone_action(clone, _COMPLETE[task])
    if action is None or complete is None:
        return None
    pre = clone.action_index.get((_key(clone.id, "pre", task), None))
    pre_done = clone.action_index.get((_key(clone.id, "confirmed-pre", task), None))
    post = clone.action_index.get((_key(clone.id, "post", complete.task), None))
    post_done = clone.action_index.get((_key(clone.id, "confirmed-post", complete.task), None))
    if pre is None or pre_done is None or post is None or post_done is None:
        return None
    return _Notification(task, pre, pre_done, post, post_done)


def _first_action(rsc: Rsc, task: str) -> Action | None:
    for action in reversed(rsc.actions):
        if action.task == task and action.interval_ms == 0:
            return action
    return None


def _keys(clone: Rsc, note: _Notification) -> dict[str, str]:
    """The notify_* lists an agent sees: what starts, stops, promotes, demotes, is active,
    inactive, promoted, unpromoted (the last two also under their old names master and
    slave, which agents still read)."""
    lists: dict[str, list[tuple[str, str]]] = {
        "start": [],
        "stop": [],
        "promote": [],
        "demote": [],
        "active": [],
        "inactive": [],
        "promoted": [],
        "unpromoted": [],
    }
    for member in clone.primitives():
        node = member.running_on[0] if member.running_on else None
        where = node.uname if node is not None else ""
        if member.role == Role.STOPPED:
            lists["inactive"].append((member.id, where))
        elif member.role >= Role.STARTED:
            lists["active"].append((member.id, where))
        for role, (name, _) in _ROLE_LISTS:
            if member.role == role:
                lists[name].append((member.id, where))
        for action in member.actions:
            if action.optional or action.node is None or action.interval_ms:
                continue
            if action.task not in lists:
                continue
            if not action.runnable and not (action.task == "stop" and action.node.unclean):
                continue
            lists[action.task].append((member.id, action.node.uname))
    keys: dict[str, str] = {}
    for name, entries in lists.items():
        entries.sort()
        keys[f"notify_{name}_resource"] = " ".join(e[0] for e in entries) or " "
        keys[f"notify_{name}_uname"] = " ".join(e[1] for e in entries if e[1]) or " "
    for _, (name, old) in _ROLE_LISTS:
        keys[f"notify_{old}_resource"] = keys[f"notify_{name}_resource"]
        keys[f"notify_{old}_uname"] = keys[f"notify_{name}_uname"]
    return keys


def _notify_action(
    cluster: Cluster,
    rsc: Rsc,
    node: Node | None,
    parent: Action,
    confirm: Action,
    keys: dict[str, str],
) -> Action | None:
    from hakeeper.scheduler.actions import custom_action, order_actions

    if node is None or not parent.runnable or not node.online:
        return None
    kind = parent.meta.get("notify_type", "")
    operation = parent.meta.get("notify_operation", "")
    key = _key(rsc.id, kind, operation)
    action = custom_action(cluster, rsc, "notify", node, parent.optional, key=key)
    action.meta.update(parent.meta)
    action.meta.update(keys)
    order_actions(parent, action, OF.OPTIONAL)
    order_actions(action, confirm, OF.OPTIONAL)
    return action


def _post_notify(
    cluster: Cluster, rsc: Rsc, node: Node | None, note: _Notification, keys: dict[str, str]
) -> None:
    from hakeeper.scheduler.actions import order_actions

    _notify_action(cluster, rsc, node, note.post, note.post_done, keys)
    for monitor in rsc.actions:
        if monitor.task == "monitor" and monitor.interval_ms:
            order_actions(note.post_done, monitor, OF.OPTIONAL)


def create_notifications(cluster: Cluster, clone: Rsc) -> None:
    """Each instance's notify actions, once the transition's flags are final."""
    if not wants_notifications(clone):
        return
    tasks = _PAIRS + _ROLE_PAIRS if clone.promotable else _PAIRS
    for task, _ in tasks:
        note = _found(clone, task)
        if note is None:
            continue
        keys = _keys(clone, note)
        listed = keys[f"notify_{task}_resource"] != " "
        if listed:
            # something does start (stop...): its notifications are part of the transition
            for pseudo in (note.pre, note.pre_done, note.post, note.post_done):
                pseudo.flags &= ~AF.OPTIONAL
        if task != "stop" and not listed:
            continue
        for member in clone.primitives():
            _instance_notifications(cluster, member, note, keys)


def _instance_notifications(
    cluster: Cluster, rsc: Rsc, note: _Notification, keys: dict[str, str]
) -> None:
    # a demotion is notified as a stop is, a promotion as a start; but the instance
    # demoted stays to hear the post-notification, and the one promoted the pre-one
    if note.operation in ("stop", "demote") and rsc.role != Role.STOPPED:
        stop = _first_action(rsc, "stop")
        for node in rsc.running_on:
            if stop is not None and stop.pseudo and node.unclean:
                continue  # the node is fenced: nobody there to notify
            _notify_action(cluster, rsc, node, note.pre, note.pre_done, keys)
            if note.operation == "demote" or stop is None or stop.optional:
                _post_notify(cluster, rsc, node, note, keys)
    if note.operation in ("start", "promote") and rsc.next_role != Role.STOPPED:
        if rsc.allocated_to is None:
            return
        start = _first_action(rsc, "start")
        if note.operation == "promote" or start is None or start.optional:
            _notify_action(cluster, rsc, rsc.allocated_to, note.pre, note.pre_done, keys)
        _post_notify(cluster, rsc, rsc.allocated_to, note, keys)
