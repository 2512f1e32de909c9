"""Pacemaker scores: integers clamped to +/-INFINITY (1,000,000), where -INFINITY wins."""

from __future__ import annotations

from typing import Final

INFINITY: Final = 1_000_000

_NAMED = {
    "INFINITY": INFINITY,
    "+INFINITY": INFINITY,
    "-INFINITY": -INFINITY,
}


class ScoreError(ValueError):
    """A string that is not a score."""


def parse_score(text: str, *, red: int = -INFINITY, yellow: int = 0, green: int = 0) -> int:
    """Parse a score as Pacemaker does: INFINITY forms, red/yellow/green, or an integer."""
    value = text.strip()
    named = _NAMED.get(value.upper())
    if named is not None:
        return named
    lowered = value.lower()
    if lowered == "red":
        return red
    if lowered == "yellow":
        return yellow
    if lowered == "green":
        return green
    try:
        number = int(value)
    except ValueError:
        raise ScoreError(f"'{text}' is not a score") from None
    return clamp(number)


def clamp(value: int) -> int:
    return max(-INFINITY, min(INFINITY, value))


def add(a: int, b: int) -> int:
    """Add two scores: -INFINITY beats +INFINITY, both absorb finite values."""
    if a <= -INFINITY or b <= -INFINITY:
        return -INFINITY
    if a >= INFINITY or b >= INFINITY:
        return INFINITY
    return clamp(a + b)


def render(value: int) -> str:
    if value >= INFINITY:
        return "INFINITY"
    if value <= -INFINITY:
        return "-INFINITY"
    return str(value)
