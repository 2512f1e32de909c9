"""A whole CIB: configuration, status and the attributes of its root element."""

from __future__ import annotations

from dataclasses import dataclass

from hakeeper.model.config import Configuration
from hakeeper.model.status import Status


@dataclass(frozen=True, slots=True)
class Cib:
    configuration: Configuration
    status: Status
    root_attributes: tuple[tuple[str, str], ...] = ()
    source: str | None = None

    def root_attr(self, name: str) -> str | None:
        for key, value in self.root_attributes:
            if key == name:
                return value
        return None

    @property
    def have_quorum(self) -> bool:
        value = (self.root_attr("have-quorum") or "false").lower()
        return value in ("1", "true", "yes", "on", "y")

    @property
    def dc_uuid(self) -> str | None:
        return self.root_attr("dc-uuid")

    @property
    def execution_date(self) -> int | None:
        value = self.root_attr("execution-date")
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            return None
