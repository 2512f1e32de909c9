"""Type checks of the values an edit stores: what Pacemaker would reject or misread
(a port that is not a number, a role it does not know, utilization that is not an
integer, a score that is not a score). Run on the whole edited configuration, so every
edit and `cib import` gets them."""

from __future__ import annotations

from collections.abc import Iterator

from hakeeper.cib.edit import values_of, walk
from hakeeper.model.config import Bundle, Configuration, Primitive, Role
from hakeeper.model.scores import ScoreError, parse_score
from hakeeper.reports import Report, codes

ROLES = "Stopped, Started, Unpromoted, Promoted"
SCORE_META = ("resource-stickiness", "priority", "migration-threshold")
COUNT_ENGINE = ("replicas", "replicas-per-host", "promoted-max", "masters")


def _bad(what: str, value: str, where: str, hint: str) -> Report:
    return Report.error(
        codes.CIB_BAD_VALUE,
        f"{what} '{value}' is not valid",
        where=where,
        value=value,
        hint=hint,
    )


def _is_int(text: str, minimum: int, maximum: int | None = None) -> bool:
    try:
        value = int(text.strip())
    except ValueError:
        return False
    return value >= minimum and (maximum is None or value <= maximum)


def check_values(config: Configuration) -> list[Report]:
    return list(_reports(config))


def _reports(config: Configuration) -> Iterator[Report]:
    for rsc in walk(config.resources):
        where = f"resource {rsc.id}"
        meta = values_of(rsc.meta)
        role = meta.get("target-role")
        if role is not None and Role.parse(role) in (None, Role.UNKNOWN):
            yield _bad("target-role", role, where, f"use one of {ROLES}")
        for name in SCORE_META:
            if name in meta:
                try:
                    parse_score(meta[name])
                except ScoreError:
                    yield _bad(name, meta[name], where, "use an integer, INFINITY or -INFINITY")
        if isinstance(rsc, Primitive):
            yield from _utilization(values_of(rsc.utilization), where)
        if isinstance(rsc, Bundle):
            yield from _bundle(rsc, where)
    for node in config.nodes:
        yield from _utilization(values_of(node.utilization), f"node {node.uname}")


def _utilization(values: dict[str, str], where: str) -> Iterator[Report]:
    for name, value in values.items():
        if not _is_int(value, 0):
            yield _bad(f"utilization {name}", value, where, "utilization is a non-negative integer")


def _bundle(bundle: Bundle, where: str) -> Iterator[Report]:
    port_hint = "a port is an integer from 1 to 65535"
    for name in COUNT_ENGINE:
        value = bundle.engine_attr(name)
        if value is not None and not _is_int(value, 0):
            yield _bad(name, value, where, "use a non-negative integer")
    net = bundle.network
    if net is None:
        return
    if net.control_port is not None and not _is_int(net.control_port, 1, 65535):
        yield _bad("control-port", net.control_port, where, port_hint)
    for mapping in net.port_mappings:
        for name, value in mapping:
            if name in ("port", "internal-port") and not _is_int(value, 1, 65535):
                yield _bad(f"port-map {name}", value, where, port_hint)
