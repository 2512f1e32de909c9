"""An agent's meta-data XML (OCF resource-agent API 1.0/1.1, fence-agents) as data."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from hakeeper.cib.parse import parse_interval_ms


class MetadataError(Exception):
    """The agent's meta-data is not the XML the OCF API describes."""


@dataclass(frozen=True, slots=True)
class ParameterInfo:
    name: str
    type: str = "string"
    default: str | None = None
    required: bool = False
    unique: bool = False
    # OCF 1.1 `reloadable`; a 1.0 agent with a reload action reloads its non-unique ones
    reloadable: bool = False
    deprecated: bool = False
    shortdesc: str = ""


@dataclass(frozen=True, slots=True)
class ActionInfo:
    name: str
    timeout_ms: int | None = None
    interval_ms: int = 0
    depth: int | None = None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class AgentMetadata:
    name: str
    version: str | None
    shortdesc: str
    parameters: tuple[ParameterInfo, ...]
    actions: tuple[ActionInfo, ...]

    def parameter(self, name: str) -> ParameterInfo | None:
        return next((p for p in self.parameters if p.name == name), None)

    def supports(self, action: str) -> bool:
        return any(a.name == action for a in self.actions)

    def action(self, name: str, interval_ms: int = 0) -> ActionInfo | None:
        """The action's entry; for a monitor, the one of that interval if listed."""
        matching = [a for a in self.actions if a.name == name]
        exact = [a for a in matching if a.interval_ms == interval_ms]
        found = exact or matching
        return found[0] if found else None

    def default_timeout_ms(self, name: str, interval_ms: int = 0) -> int | None:
        entry = self.action(name, interval_ms)
        return entry.timeout_ms if entry else None

    @property
    def reload_action(self) -> str | None:
        """reload-agent (OCF 1.1) if offered, else the legacy reload, else None."""
        for name in ("reload-agent", "reload"):
            if self.supports(name):
                return name
        return None


def parse_metadata(xml: str | bytes) -> AgentMetadata:
    """Parse meta-data output; raises MetadataError if it is not a resource-agent document."""
    data = xml.encode() if isinstance(xml, str) else xml
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data.strip(), parser)
    except etree.XMLSyntaxError as exc:
        raise MetadataError(f"meta-data is not XML: {exc}") from exc
    if root.tag != "resource-agent":
        raise MetadataError(f"meta-data root is <{root.tag}>, not <resource-agent>")
    actions = tuple(_action(el) for el in root.iterfind("actions/action"))
    legacy_reload = any(a.name == "reload" for a in actions)
    params = tuple(_parameter(el, legacy_reload) for el in root.iterfind("parameters/parameter"))
    return AgentMetadata(
        name=root.get("name", ""),
        version=_text(root.find("version")) or root.get("version"),
        shortdesc=_text(root.find("shortdesc")) or root.get("shortdesc", ""),
        parameters=params,
        actions=actions,
    )


def _parameter(el: etree._Element, legacy_reload: bool) -> ParameterInfo:
    content = el.find("content")
    unique = _flag(el.get("unique"))
    reloadable_attr = el.get("reloadable")
    reloadable = (
        _flag(reloadable_attr) if reloadable_attr is not None else legacy_reload and not unique
    )
    return ParameterInfo(
        name=el.get("name", ""),
        type=content.get("type", "string") if content is not None else "string",
        default=content.get("default") if content is not None else None,
        required=_flag(el.get("required")),
        unique=unique,
        reloadable=reloadable,
        deprecated=_flag(el.get("deprecated")),
        shortdesc=_text(el.find("shortdesc")),
    )


def _action(el: etree._Element) -> ActionInfo:
    timeout = el.get("timeout")
    depth = el.get("depth")
    return ActionInfo(
        name=el.get("name", ""),
        timeout_ms=parse_interval_ms(timeout) if timeout else None,
        interval_ms=parse_interval_ms(el.get("interval")) or 0,
        depth=int(depth) if depth and depth.isdigit() else None,
        role=el.get("role"),
    )


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _text(el: etree._Element | None) -> str:
    if el is None or el.text is None:
        return ""
    return " ".join(el.text.split())
