"""Virtual IPs: is each address bound on exactly the node the cluster started it on, and
is HAProxy running wherever an address it listens on is bound?

The seeds check this by hand (`ip a` on each controller beside `pcs status`): a VIP
the cluster shows Started whose address is on no interface, the same address on two
controllers after a split, or a VIP sitting on a node whose haproxy is down (TCP resets
for every API behind it) are the failures the cluster status alone does not show.

Inputs: the cluster status (which VIP resource runs where; crm_mon), `ip -j addr show`
per node (or the plain `ip addr` text of a sosreport), the CIB for each VIP's `ip`
parameter (else the TripleO id `ip-ADDRESS` names it), and haproxy.cfg per node for
the addresses HAProxy binds.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lxml import etree

from hakeeper.checks import codes
from hakeeper.checks.capture import (
    Captures,
    ProbeOutputError,
    capture_problem,
    require_text,
    unparseable,
)
from hakeeper.checks.crm_mon import CrmMon
from hakeeper.checks.finding import Area, Finding, Verdict, finding

AREA = Area.HAPROXY
ADDR_KEY = "ip_addr.json"
CIB_KEY = "cib.xml"
CONFIG_KEY = "haproxy.cfg"
#: where TripleO keeps the haproxy container's configuration on the host
CONFIG_PATH = "/var/lib/config-data/puppet-generated/haproxy/etc/haproxy/haproxy.cfg"
VIP_AGENTS = ("ocf:heartbeat:IPaddr2", "ocf:heartbeat:IPaddr", "ocf:hakeeper:VIP")
_ID_ADDRESS = re.compile(r"^ip-(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]+:[0-9a-fA-F:]*)$")
_TEXT_INET = re.compile(r"^\s*(?:\d+:\s+\S+\s+)?inet6?\s+([0-9a-fA-F.:]+)/\d+", re.MULTILINE)
_BIND = re.compile(r"^\s*bind\s+(\S+)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Vip:
    resource: str
    address: str
    nodes: tuple[str, ...]  # where the cluster has it started


def _normal(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


def parse_ip_addr(text: str) -> frozenset[str]:
    """The addresses of `ip -j addr show` (JSON) or of plain `ip addr` / `ip -o addr`."""
    text = require_text(text, "ip addr")
    if text.lstrip().startswith("["):
        try:
            links = json.loads(text)
        except json.JSONDecodeError as err:
            raise ProbeOutputError(
                f"not JSON: {err.msg} at line {err.lineno}", text.splitlines()[:3]
            ) from None
        if not isinstance(links, list):
            raise ProbeOutputError("not a list of links: not `ip -j addr show`")
        found: set[str] = set()
        for link in links:
            infos = link.get("addr_info", []) if isinstance(link, dict) else []
            for info in infos if isinstance(infos, list) else []:
                local = info.get("local") if isinstance(info, dict) else None
                if isinstance(local, str):
                    found.add(_normal(local))
        return frozenset(found)
    found_text = {_normal(m) for m in _TEXT_INET.findall(text)}
    if not found_text and "mtu" not in text:
        raise ProbeOutputError("no link or inet line: not `ip addr` output", text.splitlines()[:3])
    return frozenset(found_text)


def parse_cib_addresses(text: str) -> dict[str, str]:
    """Each VIP primitive's `ip` parameter, by resource id, from a CIB (cibadmin -Q)."""
    text = require_text(text, "CIB")
    try:
        root = etree.fromstring(text.encode())
    except etree.XMLSyntaxError as err:
        raise ProbeOutputError(f"not XML: {err.msg}", text.splitlines()[:3]) from None
    out: dict[str, str] = {}
    for prim in root.iter("primitive"):
        agent = f"{prim.get('class')}:{prim.get('provider')}:{prim.get('type')}"
        if agent not in VIP_AGENTS:
            continue
        for nv in prim.iterfind("instance_attributes/nvpair"):
            if nv.get("name") == "ip" and nv.get("value"):
                out[str(prim.get("id"))] = _normal(str(nv.get("value")))
    return out


def haproxy_binds(text: str) -> frozenset[str]:
    """The addresses a haproxy.cfg binds explicitly (`bind ADDR:PORT`; not `*` or `:::`)."""
    found: set[str] = set()
    for spec in _BIND.findall(text):
        for part in spec.split(","):
            host = part.rsplit(":", 1)[0].strip("[]")
            if host and host not in ("*", "::", "0.0.0.0"):
                found.add(_normal(host))
    return frozenset(found)


def vips_of(crm: CrmMon, addresses: Mapping[str, str]) -> tuple[Vip, ...]:
    """The VIP resources of the status, with their addresses (CIB, else the id)."""
    out: list[Vip] = []
    for r in crm.resources:
        if r.agent not in VIP_AGENTS:
            continue
        address = addresses.get(r.id)
        if address is None:
            match = _ID_ADDRESS.match(r.id)
            if match is None:
                continue
            address = _normal(match.group(1))
        out.append(Vip(r.id, address, r.nodes if r.active else ()))
    return tuple(sorted(out, key=lambda v: v.resource))


def _member(crm: CrmMon, node: str | None) -> str | None:
    """The cluster node a capture was taken on: its name, or the one member whose short
    name is the host's (`controller-0` captured on `controller-0.localdomain`)."""
    if node is None:
        return None
    names = [n.name for n in crm.nodes if n.type == "member"]
    if node in names:
        return node
    short = node.split(".", 1)[0]
    same = [n for n in names if n.split(".", 1)[0] == short]
    return same[0] if len(same) == 1 else None


def _haproxy_nodes(crm: CrmMon) -> frozenset[str]:
    pattern = re.compile(r"^haproxy(?:$|[-:_])")
    return frozenset(
        n
        for r in crm.resources
        if r.active and (pattern.match(r.id) or pattern.match(r.parent or ""))
        for n in r.nodes
    )


def assess_vips(
    vips: Iterable[Vip],
    bound: Mapping[str, frozenset[str]],
    *,
    listened: frozenset[str] = frozenset(),
    haproxy_nodes: frozenset[str] = frozenset(),
) -> tuple[Finding, ...]:
    """Judge each VIP against the addresses seen on the nodes (`bound`: node -> addresses;
    only nodes whose addresses were read). `listened`: the addresses HAProxy binds."""
    out: list[Finding] = []
    fine: list[str] = []
    for vip in vips:
        holders = sorted(n for n, addrs in bound.items() if vip.address in addrs)
        seen = "on " + ", ".join(holders) if holders else "on no node"
        evidence = (
            f"cluster: {vip.resource} started on {', '.join(vip.nodes) or 'no node'}",
            f"interfaces: {vip.address} {seen} (read on {', '.join(sorted(bound))})",
        )
        look = f"ip -br addr | grep -w {vip.address}"
        if len(holders) > 1:
            out.append(
                finding(
                    Verdict.CRITICAL,
                    AREA,
                    codes.VIP_DUPLICATE,
                    vip.resource,
                    f"{vip.address} is bound on {len(holders)} nodes ({', '.join(holders)}):"
                    " clients reach whichever answers ARP last",
                    evidence=evidence,
                    next_steps=(
                        look,
                        f"ip addr del {vip.address}/32 dev IFACE  (on the node the cluster"
                        f" does not have {vip.resource} on)",
                        f"pcs resource cleanup {vip.resource}",
                    ),
                    node=holders[0],
                )
            )
            continue
        missing = [n for n in vip.nodes if n in bound and n not in holders]
        if missing:
            elsewhere = f"; it is on {holders[0]}" if holders else ""
            out.append(
                finding(
                    Verdict.CRITICAL,
                    AREA,
                    codes.VIP_MISSING,
                    vip.resource,
                    f"the cluster has {vip.resource} started on {missing[0]}, but"
                    f" {vip.address} is not on any interface there{elsewhere}",
                    evidence=evidence,
                    next_steps=(
                        f"pcs resource debug-monitor {vip.resource}",
                        f"pcs resource restart {vip.resource}",
                    ),
                    node=missing[0],
                )
            )
            continue
        if holders and not vip.nodes:
            out.append(
                finding(
                    Verdict.CRITICAL,
                    AREA,
                    codes.VIP_STRAY,
                    vip.resource,
                    f"{vip.address} is bound on {holders[0]} but the cluster has"
                    f" {vip.resource} stopped: nothing moves or watches it",
                    evidence=evidence,
                    next_steps=(
                        f"pcs resource refresh {vip.resource}",
                        f"ip addr del {vip.address}/32 dev IFACE  (on {holders[0]})",
                    ),
                    node=holders[0],
                )
            )
            continue
        if holders and vip.address in listened and holders[0] not in haproxy_nodes:
            out.append(
                finding(
                    Verdict.CRITICAL,
                    AREA,
                    codes.HAPROXY_VIP_WITHOUT_HAPROXY,
                    vip.resource,
                    f"{vip.address} is on {holders[0]}, where haproxy is not running:"
                    " every service HAProxy serves on it refuses connections",
                    evidence=(
                        *evidence,
                        f"haproxy runs on {', '.join(sorted(haproxy_nodes)) or 'no node'}",
                    ),
                    next_steps=(
                        "pcs status | grep -A4 haproxy-bundle",
                        "pcs constraint colocation | grep " + vip.resource,
                    ),
                    node=holders[0],
                )
            )
            continue
        if holders:
            fine.append(f"{vip.resource} {vip.address} on {holders[0]}")
    if not out and fine:
        out.append(
            finding(
                Verdict.OK,
                AREA,
                codes.VIPS_OK,
                "vips",
                f"{len(fine)} VIPs each bound once, where the cluster started them"
                + (" and where haproxy runs" if listened else ""),
                evidence=fine,
            )
        )
    return tuple(out)


def assess(captures: Captures, crm: CrmMon | None) -> tuple[Finding, ...]:
    """The VIP findings, or nothing when there is no status or no address list at all."""
    address_captures = captures.all(ADDR_KEY)
    if crm is None or not address_captures:
        return ()
    out: list[Finding] = []
    bound: dict[str, frozenset[str]] = {}
    for capture in address_captures:
        if not capture.ok:
            if capture.node is not None:
                out.append(capture_problem(AREA, capture, next_steps=("ip -br addr",)))
            continue
        try:
            addrs = parse_ip_addr(capture.text)
        except ProbeOutputError as err:
            out.append(unparseable(AREA, capture, err))
            continue
        node = _member(crm, capture.node)
        if node is not None:
            bound[node] = addrs
    addresses: dict[str, str] = {}
    cib = captures.first(CIB_KEY)
    if cib is not None and cib.ok:
        try:
            addresses = parse_cib_addresses(cib.text)
        except ProbeOutputError as err:
            out.append(unparseable(AREA, cib, err))
    listened: set[str] = set()
    for capture in captures.all(CONFIG_KEY):
        if capture.ok:
            listened |= haproxy_binds(capture.text)
    vips = vips_of(crm, addresses)
    if vips and bound:
        out.extend(
            assess_vips(
                vips, bound, listened=frozenset(listened), haproxy_nodes=_haproxy_nodes(crm)
            )
        )
    return tuple(out)
