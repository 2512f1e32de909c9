"""Report items and the one exception library commands raise."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Report:
    """One finding: a stable code, a human sentence, where it is, and what to do about it."""

    severity: Severity
    code: str
    message: str
    where: str | None = None
    hint: str | None = None
    payload: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def error(
        cls,
        code: str,
        message: str,
        *,
        where: str | None = None,
        hint: str | None = None,
        **payload: Any,
    ) -> Report:
        return cls(Severity.ERROR, code, message, where, hint, MappingProxyType(payload))

    @classmethod
    def warning(
        cls,
        code: str,
        message: str,
        *,
        where: str | None = None,
        hint: str | None = None,
        **payload: Any,
    ) -> Report:
        return cls(Severity.WARNING, code, message, where, hint, MappingProxyType(payload))

    def render(self) -> str:
        place = f"{self.where}: " if self.where else ""
        text = f"{place}{self.severity.value}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "where": self.where,
            "hint": self.hint,
            "payload": dict(self.payload),
        }


class CommandError(Exception):
    """Raised by library commands and parsers; carries reports, never a traceback for users."""

    def __init__(self, reports: Report | Iterable[Report], exit_code: int = 2) -> None:
        self.reports: tuple[Report, ...] = (
            (reports,) if isinstance(reports, Report) else tuple(reports)
        )
        self.exit_code = exit_code
        super().__init__("; ".join(r.message for r in self.reports))

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reports]
