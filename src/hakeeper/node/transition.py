"""A published transition: the plan's actions that a node must execute, as JSON-ready data.

The scheduler's graph holds pseudo and optional actions too; a node only runs real ones, so
each published action waits for the real actions reached through the unpublished ones.
The leader also resolves what a node needs to run an action without reading the
configuration: agent, parameters, timeout, the expected rc and the op digest.

Clones: an action of a clone instance carries the clone's meta-attributes as the agent
reads them (OCF_RESKEY_CRM_meta_clone, _clone_max, _notify, _promoted_max / _master_max,
which tell the redis agent it is promotable), a notify action its type, operation and
lists, and a monitor of the Promoted role expects OCF_RUNNING_PROMOTED (8).

Fencing: the scheduler's `stonith` action names its target as its node; published, it is
addressed to the leader (Pacemaker's DC asks its fencer too), names the fence device that
can fence the target in `resource` and the target in `target`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hakeeper.agents.bundle import spec_doc, spec_from_doc
from hakeeper.agents.container import ContainerSpec
from hakeeper.cib.parse import parse_interval_ms
from hakeeper.model.config import AttrSet, Clone, Configuration, Primitive, Role
from hakeeper.node import bundles
from hakeeper.scheduler.digest import digest
from hakeeper.scheduler.rules import RuleContext, resolve_sets
from hakeeper.scheduler.schedule import PlannedAction

DEFAULT_TIMEOUT_MS = 20_000
OCF_NOT_RUNNING = 7
OCF_RUNNING_PROMOTED = 8
_TRUE = ("true", "yes", "1", "on", "y")


@dataclass(frozen=True, slots=True)
class Action:
    """One action of a transition, with everything its node needs to run it."""

    id: int
    task: str
    resource: str
    node: str
    interval_ms: int
    after: tuple[int, ...]
    target_rc: int
    agent: tuple[str, str | None, str]  # standard, provider, type
    params: tuple[tuple[str, str], ...]
    timeout_ms: int
    digest: str
    reason: str | None = None
    target: str | None = None  # the node a stonith action fences
    meta: tuple[tuple[str, str], ...] = ()  # OCF_RESKEY_CRM_meta_* beside the operation's
    # bundles: part is "container" (spec: what to run), "connection" (container: whose
    # state it is) or "inner" (run inside container, recorded on guest node)
    part: str = ""
    container: str | None = None
    guest: str | None = None
    spec: ContainerSpec | None = None

    @property
    def slot(self) -> str:
        """The name of its op history on the executing node: RSC, or RSC@GUEST for an
        instance on a bundle's guest node (run by the node hosting its container)."""
        return f"{self.resource}@{self.guest}" if self.guest else self.resource

    def to_doc(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task": self.task,
            "resource": self.resource,
            "node": self.node,
            "interval_ms": self.interval_ms,
            "after": list(self.after),
            "target_rc": self.target_rc,
            "agent": list(self.agent),
            "params": dict(self.params),
            "timeout_ms": self.timeout_ms,
            "digest": self.digest,
            "reason": self.reason,
            "target": self.target,
            "meta": dict(self.meta),
            "part": self.part,
            "container": self.container,
            "guest": self.guest,
            "spec": spec_doc(self.spec) if self.spec is not None else None,
        }

    @staticmethod
    def from_doc(doc: Mapping[str, Any]) -> Action:
        standard, provider, kind = doc["agent"]
        return Action(
            int(doc["id"]),
            str(doc["task"]),
            str(doc["resource"]),
            str(doc["node"]),
            int(doc["interval_ms"]),
            tuple(int(i) for i in doc["after"]),
            int(doc["target_rc"]),
            (str(standard), provider, str(kind)),
            tuple(sorted((str(k), str(v)) for k, v in doc["params"].items())),
            int(doc["timeout_ms"]),
            str(doc["digest"]),
            doc.get("reason"),
            doc.get("target"),
            tuple(sorted((str(k), str(v)) for k, v in (doc.get("meta") or {}).items())),
            str(doc.get("part") or ""),
            doc.get("container"),
            doc.get("guest"),
            spec_from_doc(doc["spec"]) if doc.get("spec") else None,
        )


@dataclass(frozen=True, slots=True)
class Transition:
    """The leader's current graph. `uuid` names the leader's term; `seq` counts its graphs."""

    uuid: str
    seq: int
    actions: tuple[Action, ...]
    aborted: bool = False

    def action(self, action_id: int) -> Action | None:
        return next((a for a in self.actions if a.id == action_id), None)

    def key(self, action: Action) -> str:
        """Pacemaker's transition-key: action:transition:expected-rc:uuid."""
        return f"{action.id}:{self.seq}:{action.target_rc}:{self.uuid}"

    def loop(self) -> tuple[int, ...]:
        """Actions that wait for one another in a circle (empty if none): none of them can
        ever run. The scheduler must not plan one; this makes a slip loud."""
        after = {a.id: a.after for a in self.actions}
        state: dict[int, int] = {}  # 1: on the current path, 2: done
        for first in after:
            if first in state:
                continue
            path, stack = [first], [iter(after[first])]
            state[first] = 1
            while stack:
                step = next(stack[-1], None)
                if step is None:
                    state[path.pop()] = 2
                    stack.pop()
                elif state.get(step) == 1:
                    return tuple(path[path.index(step) :])
                elif step in after and step not in state:
                    state[step] = 1
                    path.append(step)
                    stack.append(iter(after[step]))
        return ()

    def to_doc(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "seq": self.seq,
            "aborted": self.aborted,
            "actions": [a.to_doc() for a in self.actions],
        }

    @staticmethod
    def from_doc(doc: Mapping[str, Any]) -> Transition:
        return Transition(
            str(doc["uuid"]),
            int(doc["seq"]),
            tuple(Action.from_doc(a) for a in doc["actions"]),
            bool(doc.get("aborted", False)),
        )


def primitives(config: Configuration) -> dict[str, Primitive]:
    """Every primitive by id, inside groups and clones too."""
    found: dict[str, Primitive] = {}

    def visit(rsc: object) -> None:
        if isinstance(rsc, Primitive):
            found[rsc.id] = rsc
            return
        for child in getattr(rsc, "children", ()) or ():
            visit(child)
        child = getattr(rsc, "child", None)
        if child is not None:
            visit(child)

    for rsc in config.resources:
        visit(rsc)
    return found


def _plain_values(sets: Iterable[AttrSet]) -> dict[str, str]:
    """Values of the sets without rules; the first set naming a value wins, as Pacemaker's."""
    values: dict[str, str] = {}
    for attr_set in sets:
        if attr_set.rule is None:
            for name, value in attr_set.values().items():
                values.setdefault(name, value)
    return values


def clone_meta(clone: Clone, instance: str, nodes: int) -> dict[str, str]:
    """The clone's meta-attributes as Pacemaker passes them to an instance's agent; the
    promoted counts under their old names too, which agents still test (ocf_is_ms)."""
    values = _plain_values(clone.meta)

    def get(*names: str, default: str) -> str:
        return next((values[n] for n in names if n in values), default)

    _, _, number = instance.partition(":")
    meta = {
        "clone": number or "0",
        "clone_max": get("clone-max", default=str(nodes)),
        "clone_node_max": get("clone-node-max", default="1"),
        "globally_unique": get("globally-unique", default="false"),
        "notify": get("notify", default="false"),
    }
    if clone.promotable_tag or get("promotable", default="false").lower() in _TRUE:
        promoted_max = get("promoted-max", "master-max", default="1")
        promoted_node_max = get("promoted-node-max", "master-node-max", default="1")
        meta.update(
            promoted_max=promoted_max,
            promoted_node_max=promoted_node_max,
            master_max=promoted_max,
            master_node_max=promoted_node_max,
        )
    return meta


def clones_of(config: Configuration) -> dict[str, Clone]:
    """The clone around each primitive that is in one."""
    found: dict[str, Clone] = {}
    for rsc in config.resources:
        if isinstance(rsc, Clone):
            for prim in primitives(Configuration(resources=(rsc.child,))):
                found[prim] = rsc
    return found


def monitor_target_rc(prim: Primitive, interval_ms: int) -> int:
    """What a recurring monitor expects: OCF_RUNNING_PROMOTED for the Promoted role's."""
    op = next((o for o in prim.ops if o.name == "monitor" and o.interval_ms == interval_ms), None)
    return OCF_RUNNING_PROMOTED if op is not None and op.role == Role.PROMOTED else 0


def _timeout_ms(
    prim: Primitive, task: str, interval_ms: int, op_defaults: Mapping[str, str]
) -> tuple[int, Mapping[str, str]]:
    op = next((o for o in prim.ops if o.name == task and o.interval_ms == interval_ms), None)
    timeout = (op.timeout if op is not None else None) or op_defaults.get("timeout")
    ms = parse_interval_ms(timeout) if timeout else None
    return (ms or DEFAULT_TIMEOUT_MS), (_plain_values(op.params) if op is not None else {})


def node_params(prim: Primitive, node: str) -> dict[str, str]:
    """A primitive's parameters on one node: sets whose rules hold there (#uname, node
    attributes are not known here) by score, the first value of a name winning."""
    return resolve_sets(prim.params, RuleContext(node_attrs={"#uname": node}))


def stonith_action(config: Configuration) -> str:
    """The cluster's stonith-action property (reboot; poweroff means off)."""
    action = _plain_values(config.crm_config).get("stonith-action", "reboot")
    return "off" if action == "poweroff" else action


def fence_device(config: Configuration, target: str) -> Primitive | None:
    """The first stonith resource that may fence target: its pcmk_host_list names it,
    or it has no list (the device is asked, as Pacemaker's dynamic-list)."""
    for prim in primitives(config).values():
        if prim.agent.standard != "stonith":
            continue
        hosts = _plain_values(prim.params).get("pcmk_host_list")
        if hosts is None or target in hosts.replace(",", " ").split():
            return prim
    return None


def anonymous_clone_primitives(config: Configuration) -> frozenset[str]:
    """Primitives inside clones that are not globally unique: Pacemaker runs and records
    their instances under the primitive's own id ("haproxy", not "haproxy:1"), so an
    instance keeps its history whatever number the scheduler gives it next time."""
    found: set[str] = set()
    for rsc in config.resources:
        if isinstance(rsc, Clone) and _plain_values(rsc.meta).get(
            "globally-unique", "false"
        ).lower() not in ("true", "yes", "1", "on", "y"):
            found |= set(primitives(Configuration(resources=(rsc.child,))))
    return frozenset(found)


def probe_actions(config: Configuration, node: str, nodes: int = 1) -> list[Action]:
    """A one-off monitor (expected: not running) of every primitive this node could run,
    as Pacemaker's probes. Anonymous clone instances are probed under the clone's
    primitive id, as Pacemaker records them, with the clone's meta (a promotable agent
    reports a promoted instance, rc 8, only when told it is promotable). A fence device is
    probed too, though no agent runs for it (see machine._fence_probes). `nodes`: how many
    there are (the default clone-max)."""
    op_defaults = _plain_values(config.op_defaults)
    clones = clones_of(config)
    found = []
    inner = {p.prim.id for p in bundles.bundle_parts(config).values()}
    for prim in primitives(config).values():
        if prim.id in inner:
            continue  # a bundle's inner primitive runs in its containers only
        params = node_params(prim, node)
        timeout_ms, op_params = _timeout_ms(prim, "monitor", 0, op_defaults)
        found.append(
            Action(
                -1,
                "monitor",
                prim.id,
                node,
                0,
                (),
                OCF_NOT_RUNNING,
                (prim.agent.standard, prim.agent.provider, prim.agent.type),
                tuple(sorted({**params, **op_params}.items())),
                timeout_ms,
                digest({**params, **op_params}),
                "probe: is it running here?",
                meta=tuple(sorted(clone_meta(clones[prim.id], prim.id, nodes).items()))
                if prim.id in clones
                else (),
            )
        )
    found.extend(_bundle_probes(config, node, op_defaults))
    return found


def _bundle_probes(
    config: Configuration, node: str, op_defaults: Mapping[str, str]
) -> list[Action]:
    """Every bundle replica's container (inspect), connection (the same) and inner
    instance (a monitor inside the container, not running if there is none) on this node."""
    found = []
    for part in bundles.bundle_parts(config).values():
        planned = PlannedAction(
            -1,
            "monitor",
            part.prim.id if part.kind != bundles.INNER else f"{part.prim.id}:{part.index}",
            part.guest if part.kind == bundles.INNER else node,
            0,
            False,
            True,
            False,
            "probe: is it running here?",
        )
        action = _bundle_action(planned, part, (), lambda _: node, op_defaults, 1)
        found.append(action)
    return found


def build_transition(
    uuid: str,
    seq: int,
    planned: Iterable[PlannedAction],
    config: Configuration,
    executor: str = "",
    fencers: Iterable[str] = (),
    hosts: Mapping[str, str] | None = None,
) -> Transition:
    """The real actions of a plan (required, runnable, not pseudo, on a node, of a known
    primitive; fencing, run by `executor`, or by the first of `fencers` when the target is
    the executor: a node does not fence itself), each waiting for the real actions it reaches
    through the others.

    Bundles: a container's and a connection's actions are the host node's; an action on a
    guest node is run by the node hosting its container (`hosts`: guest -> where its
    connection runs now; a stop or demote, or a pre-notification, runs there, anything
    else where the plan starts the connection, if it does)."""
    planned = tuple(planned)
    by_id = {a.id: a for a in planned}
    prims = {**primitives(config), **bundles.generated_primitives(config)}
    parts = bundles.bundle_parts(config)
    op_defaults = _plain_values(config.op_defaults)
    current = dict(hosts or {})
    starting = {
        a.resource: a.node
        for a in planned
        if a.task == "start"
        and not a.optional
        and a.runnable
        and a.resource in parts
        and parts[a.resource].kind == bundles.CONNECTION
        and a.node is not None
    }

    def host_of(a: PlannedAction) -> str | None:
        assert a.node is not None
        old_first = a.task in ("stop", "demote") or dict(a.meta).get("notify_type") == "pre"
        if old_first:
            return current.get(a.node) or starting.get(a.node)
        return starting.get(a.node) or current.get(a.node)

    def base(resource: str) -> str:
        return resource.split(":", 1)[0]  # clone instance "rsc:0" runs rsc's definition

    def real(a: PlannedAction) -> bool:
        if a.task == "stonith":
            # a guest node's fencing is a pseudo action, done once its container is stopped
            # (or its host fenced): there is no device to run, as in Pacemaker's graph
            return not a.optional and a.runnable and a.node is not None and not a.pseudo
        if a.optional or not a.runnable or a.pseudo or a.node is None or a.resource is None:
            return False
        if a.resource in parts:
            return True
        inner = bundles.inner_part(parts, a.node)
        if inner is not None:
            return base(a.resource) == inner.prim.id and host_of(a) is not None
        return base(a.resource) in prims

    def waits_for(a: PlannedAction) -> tuple[int, ...]:
        found: set[int] = set()
        seen: set[int] = set()
        stack = list(a.after)
        while stack:
            ident = stack.pop()
            if ident in seen or ident not in by_id:
                continue
            seen.add(ident)
            before = by_id[ident]
            if real(before):
                found.add(ident)
            else:
                stack.extend(before.after)
        return tuple(sorted(found))

    actions = []
    fence_with = stonith_action(config)
    anonymous = anonymous_clone_primitives(config)
    clones = clones_of(config)
    fencers = tuple(fencers)
    for a in planned:
        if not real(a):
            continue
        if a.task == "stonith":
            assert a.node is not None
            by = executor
            if a.node == executor:
                by = next((f for f in fencers if f != a.node), executor)
            actions.append(_fence(a, waits_for(a), config, by, fence_with))
            continue
        assert a.resource is not None and a.node is not None
        part = parts.get(a.resource) or bundles.inner_part(parts, a.node)
        if part is not None:
            actions.append(
                _bundle_action(a, part, waits_for(a), host_of, op_defaults, len(fencers) or 1)
            )
            continue
        prim = prims[base(a.resource)]
        params = node_params(prim, a.node)
        timeout_ms, op_params = _timeout_ms(prim, a.task, a.interval_ms, op_defaults)
        digest_params = {**params, **op_params}
        if a.interval_ms:
            digest_params["CRM_meta_timeout"] = str(timeout_ms)
        probe = a.task == "monitor" and a.interval_ms == 0
        target_rc = OCF_NOT_RUNNING if probe else 0
        if a.task == "monitor" and a.interval_ms:
            target_rc = monitor_target_rc(prim, a.interval_ms)
        meta = dict(a.meta)
        clone = clones.get(prim.id)
        if clone is not None:
            meta.update(clone_meta(clone, a.resource, len(fencers) or 1))
        actions.append(
            Action(
                a.id,
                a.task,
                base(a.resource) if base(a.resource) in anonymous else a.resource,
                a.node,
                a.interval_ms,
                waits_for(a),
                target_rc,
                (prim.agent.standard, prim.agent.provider, prim.agent.type),
                tuple(sorted({**params, **op_params}.items())),
                timeout_ms,
                digest(digest_params),
                a.reason,
                meta=tuple(sorted(meta.items())),
            )
        )
    return Transition(uuid, seq, tuple(actions))


def _bundle_action(
    a: PlannedAction,
    part: bundles.Part,
    after: tuple[int, ...],
    host_of: Callable[[PlannedAction], str | None],
    op_defaults: Mapping[str, str],
    nodes: int,
) -> Action:
    """A container's, a connection's or an inner instance's action, with what the host
    node needs to run it."""
    assert a.resource is not None and a.node is not None
    prim = part.prim
    node, guest, resource = a.node, None, a.resource
    if part.kind == bundles.INNER:
        guest = a.node
        node = host_of(a) or a.node
        clone = bundles.inner_clone(part)
        if (
            clone is not None
            and _plain_values(clone.meta).get("globally-unique", "false").lower() not in _TRUE
        ):
            resource = a.resource.split(":", 1)[0]
    params = node_params(prim, guest or node)
    if part.kind == bundles.CONNECTION and params.get("addr") == "#uname":
        params["addr"] = node  # as the scheduler's digest: the container's host
    timeout_ms, op_params = _timeout_ms(prim, a.task, a.interval_ms, op_defaults)
    digest_params = {**params, **op_params}
    if a.interval_ms:
        digest_params["CRM_meta_timeout"] = str(timeout_ms)
    probe = a.task == "monitor" and a.interval_ms == 0
    target_rc = OCF_NOT_RUNNING if probe else 0
    if a.task == "monitor" and a.interval_ms:
        target_rc = monitor_target_rc(prim, a.interval_ms)
    meta = dict(a.meta)
    if part.kind == bundles.INNER:
        clone = bundles.inner_clone(part)
        if clone is not None:
            meta.update(clone_meta(clone, a.resource, nodes))
        target = _plain_values(part.bundle.meta).get("container-attribute-target")
        if target:
            meta["container_attribute_target"] = target
        meta["physical_host"] = node
    return Action(
        a.id,
        a.task,
        resource,
        node,
        a.interval_ms,
        after,
        target_rc,
        (prim.agent.standard, prim.agent.provider, prim.agent.type),
        tuple(sorted({**params, **op_params}.items())),
        timeout_ms,
        digest(digest_params),
        a.reason,
        meta=tuple(sorted(meta.items())),
        part=part.kind,
        container=part.container,
        guest=guest,
        spec=part.spec if part.kind == bundles.CONTAINER else None,
    )


def _fence(
    a: PlannedAction, after: tuple[int, ...], config: Configuration, executor: str, fence_with: str
) -> Action:
    assert a.node is not None
    device = fence_device(config, a.node)
    if device is None:  # published anyway: it fails, and says why
        return Action(
            a.id,
            "stonith",
            "",
            executor,
            0,
            after,
            0,
            ("stonith", None, ""),
            (),
            DEFAULT_TIMEOUT_MS,
            "",
            f"no fence device can fence {a.node}",
            a.node,
        )
    params = _plain_values(device.params)
    timeout_ms, _ = _timeout_ms(device, "stonith", 0, _plain_values(config.op_defaults))
    timeout = params.get("pcmk_reboot_timeout") or params.get("pcmk_off_timeout")
    if timeout:
        timeout_ms = parse_interval_ms(timeout) or timeout_ms
    return Action(
        a.id,
        "stonith",
        device.id,
        executor,
        0,
        after,
        0,
        (device.agent.standard, device.agent.provider, device.agent.type),
        tuple(sorted({**params, "action": fence_with}.items())),
        timeout_ms,
        "",
        a.reason,
        a.node,
    )
