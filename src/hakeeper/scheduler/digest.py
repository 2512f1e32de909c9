"""Has a resource's definition changed since it started? Pacemaker's operation digests.

An operation's op-digest is the MD5 of `<parameters .../>` (attributes sorted by name,
one line, a leading space, a trailing newline) over the resource's parameters, the
operation's own parameters and, for recurring operations, CRM_meta_timeout.
op-restart-digest covers only the parameters named in op-force-restart.
op-secure-digest leaves out the secret parameters (op-secure-params): a CIB taken with
crm_report has those masked, so crm_simulate (a "sanitized" run) accepts a match on it
as "unchanged" rather than restart every fencing device with a password.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping

from hakeeper.cib.parse import parse_interval_ms
from hakeeper.model.status import OpRecord
from hakeeper.scheduler.rules import RuleContext, resolve_sets
from hakeeper.scheduler.working import Node, Rsc

DEFAULT_TIMEOUT_MS = 20_000


class Change(enum.Enum):
    NONE = "none"
    RELOAD = "reload"  # only reloadable parameters changed
    RESTART = "restart"


_ESCAPES = {
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&apos;",
    "&": "&amp;",
    "\t": "    ",
    "\n": "\\n",
    "\r": "\\r",
}


def _escape(value: str) -> str:
    """An attribute value as Pacemaker writes it (always in double quotes)."""
    out = []
    for byte in value.encode():
        char = chr(byte)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif byte < 0x20 or byte > 0x7E:
            # a signed char in C: bytes above 0x7f print as negative octal, as Pacemaker's
            signed = byte - 256 if byte > 0x7F else byte
            out.append("\\%.3o" % (signed & 0xFFFFFFFF if signed < 0 else signed))
        else:
            out.append(char)
    return "".join(out)


def digest(params: Mapping[str, str]) -> str:
    attrs = "".join(f' {k}="{_escape(v)}"' for k, v in sorted(params.items()))
    return hashlib.md5(f" <parameters{attrs}/>\n".encode()).hexdigest()


def _op_params(
    rsc: Rsc,
    task: str,
    interval_ms: int,
    node: Node,
    op_defaults: Mapping[str, str],
    now: int | None,
) -> dict[str, str]:
    ctx = RuleContext(node_attrs=node.attrs, now=now)
    config = rsc.config
    params: dict[str, str] = {}
    if config is not None:
        params = resolve_sets(config.params, ctx)
    op = next((o for o in rsc.ops if o.name == task and o.interval_ms == interval_ms), None)
    if op is not None:
        resolve_sets(op.params, ctx, into=params, overwrite=True)
    if rsc.is_remote_node and params.get("addr") == "#uname" and rsc.container is not None:
        # a bundle connection without its own IP reaches the container's host
        host = rsc.container.allocated_to or rsc.container.current_node()
        if host is not None:
            params["addr"] = host.uname
    if interval_ms:
        timeout = (op.timeout if op is not None else None) or op_defaults.get("timeout")
        ms = parse_interval_ms(timeout) if timeout else DEFAULT_TIMEOUT_MS
        params["CRM_meta_timeout"] = str(ms if ms else DEFAULT_TIMEOUT_MS)
    return params


def definition_change(
    rsc: Rsc,
    node: Node,
    record: OpRecord,
    op_defaults: Mapping[str, str],
    now: int | None,
    *,
    sanitized: bool = False,
) -> Change:
    """Compare the digests recorded with record against the current definition."""
    if record.op_digest is None:
        return Change.RESTART  # what it started with is unknown: assume it changed
    params = _op_params(rsc, record.operation, record.interval_ms, node, op_defaults, now)
    if digest(params) == record.op_digest:
        return Change.NONE
    if sanitized and record.op_secure_digest is not None:
        if digest(_secure_params(rsc, record, params)) == record.op_secure_digest:
            return Change.NONE
    if record.interval_ms == 0 and record.op_restart_digest is not None:
        listed = set(dict(record.extra).get("op-force-restart", "").split())
        op_specific = _op_specific(rsc, record.operation, record.interval_ms, node, now)
        restart = {k: v for k, v in params.items() if k in listed or k in op_specific}
        if digest(restart) == record.op_restart_digest:
            return Change.RELOAD
    return Change.RESTART


def _op_specific(rsc: Rsc, task: str, interval_ms: int, node: Node, now: int | None) -> set[str]:
    op = next((o for o in rsc.ops if o.name == task and o.interval_ms == interval_ms), None)
    if op is None:
        return set()
    return set(resolve_sets(op.params, RuleContext(node_attrs=node.attrs, now=now)))


# Before feature set 3.16.0 the executor did not hash the parameters the fencer adds to
# every device, so they are left out of an older record's secure digest too.
_FENCER_PARAMS = frozenset(
    (
        "provides",
        "stonith-timeout",
        "pcmk_action_limit",
        "pcmk_delay_base",
        "pcmk_delay_max",
        "pcmk_host_argument",
        "pcmk_host_check",
        "pcmk_host_list",
        "pcmk_host_map",
    )
)
_FENCER_SUFFIXES = ("_action", "_timeout", "_retries")


def _fencer_param(name: str) -> bool:
    if name in _FENCER_PARAMS:
        return True
    if not name.startswith("pcmk_"):
        return False
    rest = name[len("pcmk_") :]
    cut = rest.find("_")
    return cut > 0 and rest[cut:] in _FENCER_SUFFIXES


def _secure_params(rsc: Rsc, record: OpRecord, params: Mapping[str, str]) -> dict[str, str]:
    secret = set(dict(record.extra).get("op-secure-params", "").split())
    kept = {k: v for k, v in params.items() if k not in secret}
    old = _version(record.crm_feature_set) < (3, 16, 0)
    if old and rsc.config is not None and rsc.config.agent.standard == "stonith":
        kept = {k: v for k, v in kept.items() if not _fencer_param(k)}
    return kept


def _version(text: str | None) -> tuple[int, ...]:
    parts: list[int] = []
    for part in (text or "").split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)
