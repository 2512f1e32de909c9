"""Resources' configuration as `pcs resource config` prints it, as JSON, or as CIB XML."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lxml import etree

from hakeeper.cib.edit import require_resource, values_of
from hakeeper.cib.render import render_cib
from hakeeper.model.cib import Cib
from hakeeper.model.config import (
    AttrSet,
    Bundle,
    Clone,
    Configuration,
    Group,
    Op,
    Primitive,
    Resource,
)
from hakeeper.model.status import Status


def selected(config: Configuration, ids: Sequence[str]) -> list[Resource]:
    if not ids:
        return list(config.resources)
    return [require_resource(config, i) for i in ids]


def _pairs(sets: tuple[AttrSet, ...]) -> str:
    return " ".join(f"{k}={v}" for k, v in values_of(sets).items())


def _op_line(op: Op) -> str:
    extra = [f"{k}={v}" for k, v in op.attributes if k not in ("id", "name")]
    if not op.attributes:
        extra = [f"interval={op.interval}"] + ([f"timeout={op.timeout}"] if op.timeout else [])
    return f"{op.name} {' '.join(extra)} ({op.id})"


def _lines(rsc: Resource, indent: str) -> list[str]:
    out: list[str] = []
    if isinstance(rsc, Primitive):
        a = rsc.agent
        provider = f" provider={a.provider}" if a.provider else ""
        out.append(f"{indent}Resource: {rsc.id} (class={a.standard}{provider} type={a.type})")
        if rsc.params:
            out.append(f"{indent}  Attributes: {_pairs(rsc.params)}")
        if rsc.meta:
            out.append(f"{indent}  Meta Attrs: {_pairs(rsc.meta)}")
        if rsc.ops:
            ops = [_op_line(op) for op in rsc.ops]
            out.append(f"{indent}  Operations: {ops[0]}")
            out += [f"{indent}              {line}" for line in ops[1:]]
    elif isinstance(rsc, Group):
        out.append(f"{indent}Group: {rsc.id}")
        if rsc.meta:
            out.append(f"{indent}  Meta Attrs: {_pairs(rsc.meta)}")
        for child in rsc.children:
            out += _lines(child, indent + "  ")
    elif isinstance(rsc, Clone):
        out.append(f"{indent}Clone: {rsc.id}")
        if rsc.meta:
            out.append(f"{indent}  Meta Attrs: {_pairs(rsc.meta)}")
        out += _lines(rsc.child, indent + "  ")
    else:
        out.append(f"{indent}Bundle: {rsc.id}")
        attrs = " ".join(f"{k}={v}" for k, v in rsc.engine_attrs)
        out.append(f"{indent}  {rsc.engine.capitalize()}: {attrs}")
        net = rsc.network
        if net is not None:
            fields = (
                ("ip-range-start", net.ip_range_start),
                ("control-port", net.control_port),
                ("host-interface", net.host_interface),
                ("host-netmask", net.host_netmask),
                ("add-host", net.add_host),
            )
            text = " ".join(f"{k}={v}" for k, v in fields if v is not None)
            if text:
                out.append(f"{indent}  Network: {text}")
            for mapping in net.port_mappings:
                out.append(
                    f"{indent}  Port Mapping: "
                    + " ".join(f"{k}={v}" for k, v in mapping if k != "id")
                )
        for mapping in rsc.storage:
            out.append(
                f"{indent}  Storage Mapping: "
                + " ".join(f"{k}={v}" for k, v in mapping if k != "id")
            )
        if rsc.meta:
            out.append(f"{indent}  Meta Attrs: {_pairs(rsc.meta)}")
        if rsc.child is not None:
            out += _lines(rsc.child, indent + "  ")
    return out


def render_text(config: Configuration, ids: Sequence[str]) -> str:
    lines: list[str] = []
    for rsc in selected(config, ids):
        lines += _lines(rsc, " ")
    return "".join(line + "\n" for line in lines)


def _json(rsc: Resource) -> dict[str, Any]:
    base: dict[str, Any] = {"id": rsc.id, "meta": values_of(rsc.meta)}
    if isinstance(rsc, Primitive):
        return {
            **base,
            "kind": "primitive",
            "agent": str(rsc.agent),
            "params": values_of(rsc.params),
            "ops": [
                {
                    "id": op.id,
                    "name": op.name,
                    "interval": op.interval,
                    "options": {
                        k: v for k, v in op.attributes if k not in ("id", "name", "interval")
                    },
                }
                for op in rsc.ops
            ],
        }
    if isinstance(rsc, Group):
        return {**base, "kind": "group", "children": [_json(c) for c in rsc.children]}
    if isinstance(rsc, Clone):
        return {**base, "kind": "clone", "children": [_json(rsc.child)]}
    assert isinstance(rsc, Bundle)
    return {
        **base,
        "kind": "bundle",
        "engine": rsc.engine,
        "container": dict(rsc.engine_attrs),
        "children": [_json(rsc.child)] if rsc.child is not None else [],
    }


def render_json(config: Configuration, ids: Sequence[str]) -> dict[str, Any]:
    return {
        "schema": "hakeeper.resources/1",
        "resources": [_json(r) for r in selected(config, ids)],
    }


def render_xml(config: Configuration, ids: Sequence[str]) -> str:
    """The resources' elements, as in the CIB's <resources> section."""
    only = Configuration(resources=tuple(selected(config, ids)))
    root = etree.fromstring(render_cib(Cib(only, Status())))
    section = root.find("configuration/resources")
    assert section is not None
    return "".join(etree.tostring(el, pretty_print=True).decode() for el in section)
