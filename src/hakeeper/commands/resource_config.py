"""Library commands that edit resources in the stored configuration (pcs resource ...).

Each takes env first, edits through cib_store.edit_config (read, change, validate,
compare-and-swap) and returns a frozen EditResult; nothing here prints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from hakeeper.agents.metadata import AgentMetadata, MetadataError
from hakeeper.cib import edit
from hakeeper.commands.cib_store import EditResult, edit_config, load, simple
from hakeeper.commands.env import Env
from hakeeper.model.config import (
    Agent,
    AttrSet,
    Bundle,
    BundleNetwork,
    Clone,
    Configuration,
    NvPair,
    Primitive,
    Resource,
)
from hakeeper.reports import CommandError, Report, codes

OCF_ROOT = "/usr/lib/ocf/resource.d"
STANDARDS_WITH_PROVIDER = frozenset({"ocf"})
KNOWN_STANDARDS = frozenset({"ocf", "lsb", "service", "systemd", "stonith"})


@dataclass(frozen=True, slots=True)
class OpSpec:
    name: str
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """What `resource create` asks for, parsed from pcs's argument form by the CLI."""

    id: str
    agent: str
    params: tuple[tuple[str, str], ...] = ()
    ops: tuple[OpSpec, ...] = ()
    meta: tuple[tuple[str, str], ...] = ()
    clone: tuple[tuple[str, str], ...] | None = None
    promotable: bool = False
    group: str | None = None
    before: str | None = None
    after: str | None = None
    disabled: bool = False
    bundle: str | None = None  # put the primitive in this (empty) bundle
    force: bool = False  # skip the checks against the agent's meta-data
    ocf_root: str = field(default=OCF_ROOT)


def parse_agent(text: str, ocf_root: str = OCF_ROOT) -> Agent:
    """standard:provider:type, standard:type, or a bare ocf type found under ocf_root."""
    parts = text.split(":")
    if len(parts) == 3 and parts[0] in STANDARDS_WITH_PROVIDER and all(parts):
        return Agent(parts[0], parts[1], parts[2])
    if len(parts) == 2 and parts[0] in KNOWN_STANDARDS - STANDARDS_WITH_PROVIDER and parts[1]:
        return Agent(parts[0], None, parts[1])
    if len(parts) == 1 and text:
        providers = sorted(
            p for p in _listdir(ocf_root) if os.path.exists(os.path.join(ocf_root, p, text))
        )
        if len(providers) == 1:
            return Agent("ocf", providers[0], text)
        if len(providers) > 1:
            raise CommandError(
                Report.error(
                    codes.CIB_BAD_VALUE,
                    f"agent '{text}' is provided by several providers: " + ", ".join(providers),
                    where="agent",
                    agent=text,
                    hint="name it in full, e.g. ocf:" + providers[0] + ":" + text,
                )
            )
    raise CommandError(
        Report.error(
            codes.CIB_UNKNOWN_RESOURCE_CLASS,
            f"'{text}' is not a resource agent name",
            where="agent",
            agent=text,
            hint="use STANDARD:PROVIDER:TYPE (ocf:heartbeat:IPaddr2), stonith:TYPE, "
            "systemd:UNIT, or the type of an agent installed under " + ocf_root,
        )
    )


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _pairs(
    used: set[str], owner: str, suffix: str, values: Sequence[tuple[str, str]]
) -> tuple[AttrSet, ...]:
    if not values:
        return ()
    set_id = edit.unique_id(used, f"{owner}-{suffix}")
    used.add(set_id)
    pairs = []
    for name, value in values:
        pair_id = edit.unique_id(used, f"{set_id}-{name}")
        used.add(pair_id)
        pairs.append(NvPair(pair_id, name, value))
    return (AttrSet(set_id, tuple(pairs)),)


def agent_metadata(env: Env, agent: Agent, *, force: bool) -> AgentMetadata | None:
    """The OCF agent's meta-data from this host; None for other classes, or with force
    when this host cannot tell (the agent may be installed on the nodes only)."""
    if agent.standard != "ocf":
        return None
    try:
        return env.metadata(agent)
    except MetadataError as err:
        if force:
            return None
        raise CommandError(
            Report.error(
                codes.AGENT_NOT_FOUND,
                f"agent {agent} cannot be used here: {err}",
                where="agent",
                agent=str(agent),
                hint="install it (resource-agents), check the name, or pass --force if it is "
                "installed on the cluster's nodes only",
            )
        ) from None


def check_options(
    md: AgentMetadata | None, agent: Agent, params: Mapping[str, str | None], *, creating: bool
) -> None:
    """Option names the agent does not declare, and (when creating) required ones left
    out, are errors, as pcs reports them."""
    if md is None:
        return
    known = [p.name for p in md.parameters]
    unknown = sorted(n for n in params if n not in known)
    if unknown:
        raise CommandError(
            Report.error(
                codes.CIB_BAD_VALUE,
                f"invalid option(s) for {agent}: " + ", ".join(unknown),
                where="resource options",
                agent=str(agent),
                options=unknown,
                hint="allowed: " + (", ".join(known) or "none") + " (--force to set them anyway)",
            )
        )
    if creating:
        missing = [p.name for p in md.parameters if p.required and not params.get(p.name)]
        if missing:
            raise CommandError(
                Report.error(
                    codes.CIB_BAD_VALUE,
                    f"required option(s) of {agent} missing: " + ", ".join(missing),
                    where="resource options",
                    agent=str(agent),
                    options=missing,
                    hint="give them as name=value (--force to create it anyway)",
                )
            )


def build_primitive(
    config: Configuration, spec: ResourceSpec, used: set[str], md: AgentMetadata | None = None
) -> Primitive:
    edit.check_new_id(config, spec.id, "resource")
    used.add(spec.id)
    agent = parse_agent(spec.agent, spec.ocf_root)
    meta = list(spec.meta)
    if spec.disabled and spec.clone is None and not spec.promotable:
        meta.append(("target-role", "Stopped"))
    ops = tuple(edit.make_op(used, spec.id, op.name, dict(op.options)) for op in spec.ops)
    if not any(op.name == "monitor" for op in ops):
        # pcs gives every resource a monitor: the agent's advertised one, else 10s (60s
        # for fence devices)
        options = {"interval": "60s" if agent.standard == "stonith" else "10s"}
        advertised = md.action("monitor") if md is not None else None
        if advertised is not None and advertised.interval_ms:
            options["interval"] = f"{advertised.interval_ms // 1000}s"
            if advertised.timeout_ms:
                options["timeout"] = f"{advertised.timeout_ms // 1000}s"
        ops = (*ops, edit.make_op(used, spec.id, "monitor", options))
    return Primitive(
        spec.id,
        agent,
        meta=_pairs(used, spec.id, "meta_attributes", meta),
        params=_pairs(used, spec.id, "instance_attributes", spec.params),
        ops=ops,
    )


def resource_create(env: Env, spec: ResourceSpec) -> EditResult:
    agent = parse_agent(spec.agent, spec.ocf_root)
    md = agent_metadata(env, agent, force=spec.force)
    check_options(md, agent, dict(spec.params), creating=True)

    def change(config: Configuration) -> Configuration:
        used = edit.all_ids(config)
        prim = build_primitive(config, spec, used, md)
        rsc: Resource = prim
        if spec.clone is not None or spec.promotable:
            if spec.group is not None:
                raise CommandError(
                    Report.error(
                        codes.BAD_OPTION,
                        "a resource cannot be both cloned and put in a group",
                        where="--group",
                        hint="create the group, then `resource clone` it",
                    )
                )
            clone_meta = list(spec.clone or ())
            if spec.promotable:
                clone_meta.append(("promotable", "true"))
            if spec.disabled:
                clone_meta.append(("target-role", "Stopped"))
            clone_id = edit.unique_id(used, f"{spec.id}-clone")
            used.add(clone_id)
            rsc = Clone(clone_id, prim, _pairs(used, clone_id, "meta_attributes", clone_meta))
        if spec.bundle is not None:
            return _into_bundle(config, spec.bundle, prim)
        return edit.add_resource(
            config, rsc, group=spec.group, before=spec.before, after=spec.after
        )

    return edit_config(env, simple(change))


def _into_bundle(config: Configuration, bundle_id: str, prim: Primitive) -> Configuration:
    bundle = edit.require_resource(config, bundle_id)
    if not isinstance(bundle, Bundle) or bundle.child is not None:
        raise CommandError(
            Report.error(
                codes.CIB_BAD_VALUE,
                f"'{bundle_id}' is not a bundle without a resource",
                where="bundle",
                resource_id=bundle_id,
                hint="a bundle holds at most one primitive: name an empty bundle",
            )
        )
    return edit.map_resource(
        config, bundle_id, lambda b: replace(b, child=prim) if isinstance(b, Bundle) else b
    )


def resource_update(
    env: Env,
    rsc_id: str,
    *,
    params: Mapping[str, str | None] = {},
    meta: Mapping[str, str | None] = {},
    ops: Sequence[OpSpec] = (),
    force: bool = False,
) -> EditResult:
    """pcs resource update: set (or, with an empty value, remove) instance and meta
    attributes; an `op NAME ...` replaces the resource's ops of that name."""
    if params and not force:
        current = edit.find_resource(load(env).cib.configuration, rsc_id)
        if isinstance(current, Primitive):
            check_options(
                agent_metadata(env, current.agent, force=True),
                current.agent,
                params,
                creating=False,
            )

    def change(config: Configuration) -> Configuration:
        edit.require_resource(config, rsc_id)
        if params:
            config = edit.set_params(config, rsc_id, params)
        if meta:
            config = edit.set_meta(config, rsc_id, meta)
        if ops:
            used = edit.all_ids(config)
            prim = edit.require_resource(config, rsc_id)
            if not isinstance(prim, Primitive):
                raise CommandError(
                    Report.error(
                        codes.CIB_BAD_VALUE,
                        f"'{rsc_id}' is not a primitive: it has no ops",
                        where="op",
                        resource_id=rsc_id,
                        hint="update the primitive inside it",
                    )
                )
            dropped = {o.id for o in prim.ops if o.name in {s.name for s in ops}}
            used -= dropped  # the replaced ops' ids may be reused
            new_ops = [edit.make_op(used, rsc_id, s.name, dict(s.options)) for s in ops]
            config = edit.map_resource(
                config,
                rsc_id,
                lambda r: edit.replace_ops(r, new_ops) if isinstance(r, Primitive) else r,
            )
        return config

    return edit_config(env, simple(change))


def resource_delete(env: Env, rsc_id: str) -> EditResult:
    return edit_config(env, lambda config: _delete(config, rsc_id))


def _delete(config: Configuration, rsc_id: str) -> tuple[Configuration, tuple[str, ...]]:
    config, removed = edit.remove_resource(config, rsc_id)
    return config, tuple(removed)


def resource_enable(env: Env, rsc_ids: Sequence[str]) -> EditResult:
    """Remove target-role (pcs resource enable): the cluster may run it again."""
    return _target_role(env, rsc_ids, None)


def resource_disable(env: Env, rsc_ids: Sequence[str]) -> EditResult:
    """target-role=Stopped (pcs resource disable)."""
    return _target_role(env, rsc_ids, "Stopped")


def _target_role(env: Env, rsc_ids: Sequence[str], role: str | None) -> EditResult:
    def change(config: Configuration) -> Configuration:
        for rsc_id in rsc_ids:
            config = edit.set_meta(config, rsc_id, {"target-role": role})
        return config

    return edit_config(env, simple(change))


def resource_meta(env: Env, rsc_id: str, values: Mapping[str, str | None]) -> EditResult:
    """pcs resource meta: set (None: remove) meta attributes of any resource."""
    return edit_config(env, simple(lambda config: edit.set_meta(config, rsc_id, values)))


def group_add(
    env: Env,
    group_id: str,
    rsc_ids: Sequence[str],
    *,
    before: str | None = None,
    after: str | None = None,
) -> EditResult:
    def change(config: Configuration) -> Configuration:
        if edit.find_resource(config, group_id) is None:
            edit.check_new_id(config, group_id, "group")
        return edit.group_add(config, group_id, rsc_ids, before=before, after=after)

    return edit_config(env, simple(change))


def group_remove(env: Env, group_id: str, rsc_ids: Sequence[str] = ()) -> EditResult:
    def change(config: Configuration) -> tuple[Configuration, tuple[str, ...]]:
        config, removed = edit.group_remove(config, group_id, rsc_ids)
        return config, tuple(removed)

    return edit_config(env, change)


def resource_clone(
    env: Env, rsc_id: str, meta: Sequence[tuple[str, str]] = (), *, promotable: bool = False
) -> EditResult:
    """pcs resource clone|promotable ID [name=value...]: the clone is ID-clone."""
    values = list(meta) + ([("promotable", "true")] if promotable else [])

    def change(config: Configuration) -> Configuration:
        used = edit.all_ids(config)
        clone_id = f"{rsc_id}-clone"
        return edit.clone(
            config, rsc_id, clone_id, _pairs(used | {clone_id}, clone_id, "meta_attributes", values)
        )

    return edit_config(env, simple(change))


def resource_unclone(env: Env, rsc_id: str) -> EditResult:
    def change(config: Configuration) -> tuple[Configuration, tuple[str, ...]]:
        config, removed = edit.unclone(config, rsc_id)
        return config, tuple(removed)

    return edit_config(env, change)


def resource_manage(env: Env, rsc_ids: Sequence[str], managed: bool) -> EditResult:
    def change(config: Configuration) -> Configuration:
        for rsc_id in rsc_ids:
            config = edit.set_meta(config, rsc_id, {"is-managed": None if managed else "false"})
        return config

    return edit_config(env, simple(change))


def _check_node(config: Configuration, node: str) -> str:
    return edit.require_node(config, node).uname


def resource_move(
    env: Env,
    rsc_id: str,
    node: str | None,
    *,
    promoted: bool = False,
    current_node: str | None = None,
) -> EditResult:
    """crm_resource --move: prefer NODE (cli-prefer-RSC, INFINITY); without a node, ban the
    node it runs on now (current_node, found by the caller from the status)."""
    if node is None:
        if current_node is None:
            raise CommandError(
                Report.error(
                    codes.RESOURCE_NOT_ACTIVE,
                    f"'{rsc_id}' is not running anywhere: give the node to move it to",
                    where="resource move",
                    resource_id=rsc_id,
                    hint=f"hakeeper resource move {rsc_id} NODE",
                )
            )
        return resource_ban(env, rsc_id, current_node, promoted=promoted)
    role = "Promoted" if promoted else None

    def change(config: Configuration) -> Configuration:
        edit.require_resource(config, rsc_id)
        name = _check_node(config, node)
        return edit.set_cli_location(
            config, edit.cli_prefer_id(rsc_id), rsc_id, name, "INFINITY", role
        )

    return edit_config(env, simple(change))


def resource_ban(env: Env, rsc_id: str, node: str, *, promoted: bool = False) -> EditResult:
    """crm_resource --ban: cli-ban-RSC-on-NODE at -INFINITY."""
    role = "Promoted" if promoted else None

    def change(config: Configuration) -> Configuration:
        edit.require_resource(config, rsc_id)
        name = _check_node(config, node)
        return edit.set_cli_location(
            config, edit.cli_ban_id(rsc_id, name), rsc_id, name, "-INFINITY", role
        )

    return edit_config(env, simple(change))


def resource_clear(env: Env, rsc_id: str, node: str | None = None) -> EditResult:
    """crm_resource --clear: remove the cli-prefer-/cli-ban- constraints move and ban made."""

    def change(config: Configuration) -> tuple[Configuration, tuple[str, ...]]:
        edit.require_resource(config, rsc_id)
        config, removed = edit.clear_cli_locations(config, rsc_id, node)
        return config, tuple(removed)

    return edit_config(env, change)


@dataclass(frozen=True, slots=True)
class BundleSpec:
    id: str
    engine: str = "podman"
    container: tuple[tuple[str, str], ...] = ()  # image=, replicas=, run-command=, ...
    network: tuple[tuple[str, str], ...] = ()
    port_maps: tuple[tuple[tuple[str, str], ...], ...] = ()
    storage_maps: tuple[tuple[tuple[str, str], ...], ...] = ()
    meta: tuple[tuple[str, str], ...] = ()
    disabled: bool = False


ENGINES = ("podman", "docker", "rkt")


def _bundle_parts(spec: BundleSpec, used: set[str], old: Bundle | None) -> Bundle:
    if spec.engine not in ENGINES:
        raise CommandError(
            Report.error(
                codes.CIB_BAD_VALUE,
                f"'{spec.engine}' is not a container engine",
                where="container",
                hint="use one of: " + ", ".join(ENGINES),
            )
        )
    engine_attrs = dict(old.engine_attrs) if old else {}
    for k, v in spec.container:
        if v:
            engine_attrs[k] = v
        else:
            engine_attrs.pop(k, None)
    if "image" not in engine_attrs:
        raise CommandError(
            Report.error(
                codes.BAD_OPTION,
                f"bundle '{spec.id}' needs a container image",
                where="container",
                hint=f"add `container {spec.engine} image=NAME`",
            )
        )
    network = old.network if old else None
    if spec.network:
        base = {
            k: v
            for k, v in (
                ("ip-range-start", network.ip_range_start if network else None),
                ("control-port", network.control_port if network else None),
                ("host-interface", network.host_interface if network else None),
                ("host-netmask", network.host_netmask if network else None),
                ("add-host", network.add_host if network else None),
            )
            if v is not None
        }
        base.update(dict(spec.network))
        unknown = set(base) - {
            "ip-range-start",
            "control-port",
            "host-interface",
            "host-netmask",
            "add-host",
        }
        if unknown:
            raise CommandError(
                Report.error(
                    codes.BAD_OPTION,
                    "unknown network option(s): " + ", ".join(sorted(unknown)),
                    where="network",
                    hint="use ip-range-start, control-port, host-interface, host-netmask, add-host",
                )
            )
        network = BundleNetwork(
            base.get("ip-range-start") or None,
            base.get("control-port") or None,
            base.get("host-interface") or None,
            base.get("host-netmask") or None,
            base.get("add-host") or None,
            network.port_mappings if network else (),
        )
    if spec.port_maps:
        maps = list(network.port_mappings) if network else []
        for mapping in spec.port_maps:
            maps.append(_with_id(used, spec.id, "port-map", mapping))
        network = replace(network or BundleNetwork(), port_mappings=tuple(maps))
    storage = list(old.storage) if old else []
    for mapping in spec.storage_maps:
        storage.append(_with_id(used, spec.id, "storage-map", mapping))
    meta = old.meta if old else ()
    values: dict[str, str | None] = {k: (v or None) for k, v in spec.meta}
    if spec.disabled:
        values["target-role"] = "Stopped"
    if values:
        meta = edit.set_values(meta, spec.id, "meta_attributes", values, used)
    return Bundle(
        spec.id,
        spec.engine,
        tuple(engine_attrs.items()),
        network,
        tuple(storage),
        old.child if old else None,
        meta,
    )


def _with_id(
    used: set[str], bundle: str, kind: str, mapping: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    values = dict(mapping)
    if "id" not in values:
        detail = values.get("port") or values.get("target-dir") or values.get("source-dir")
        values = {
            "id": edit.unique_id(used, f"{bundle}-{kind}-{detail or ''}".rstrip("-")),
            **values,
        }
    used.add(values["id"])
    return tuple(values.items())


def bundle_create(env: Env, spec: BundleSpec) -> EditResult:
    def change(config: Configuration) -> Configuration:
        edit.check_new_id(config, spec.id, "bundle")
        used = edit.all_ids(config) | {spec.id}
        return edit.add_resource(config, _bundle_parts(spec, used, None))

    return edit_config(env, simple(change))


def bundle_update(env: Env, spec: BundleSpec) -> EditResult:
    def change(config: Configuration) -> Configuration:
        old = edit.require_resource(config, spec.id)
        if not isinstance(old, Bundle):
            raise CommandError(
                Report.error(
                    codes.CIB_BAD_VALUE,
                    f"'{spec.id}' is not a bundle",
                    where="bundle update",
                    resource_id=spec.id,
                    hint="use `resource update` for other resources",
                )
            )
        new = _bundle_parts(
            replace(spec, engine=old.engine if not spec.container else spec.engine),
            edit.all_ids(config),
            old,
        )
        return edit.map_resource(config, spec.id, lambda r: new)

    return edit_config(env, simple(change))


def stonith_create(env: Env, spec: ResourceSpec) -> EditResult:
    """A fence device: a primitive of class stonith (pcs stonith create ID TYPE ...)."""
    agent = spec.agent if spec.agent.startswith("stonith:") else f"stonith:{spec.agent}"
    return resource_create(env, replace(spec, agent=agent))


def _active(env: Env, rsc_id: str) -> list[str]:
    from hakeeper.commands.status import cluster_status

    view = cluster_status(env).view
    found: list[str] = []

    def visit(r: object, inside: bool) -> None:
        from hakeeper.scheduler.view import ResourceView

        assert isinstance(r, ResourceView)
        mine = inside or r.id == rsc_id or r.id.split(":", 1)[0] == rsc_id
        if mine:
            found.extend(r.nodes)
        for c in r.children:
            visit(c, mine)

    for r in view.resources:
        visit(r, False)
    return found


def active_nodes(env: Env, rsc_id: str) -> list[str]:
    """The nodes a resource (or any instance or member of it) runs on now."""
    return _active(env, rsc_id)
