"""Fixtures of the check tests: real captured outputs under fixtures/ (see its README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakeeper.checks.capture import Capture, Captures, CaptureStatus

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()


def ok_capture(key: str, node: str | None, text: str) -> Capture:
    return Capture(key, node, f"fixture {key}", CaptureStatus.OK, text)


def captures_of(*captures: Capture) -> Captures:
    return Captures.of(captures)


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
