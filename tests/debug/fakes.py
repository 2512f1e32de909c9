"""Fakes at the seams of `resource debug` and `report`: they answer the calls a test
declares and fail on any other call, and on declared calls never made."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hakeeper.checks.runner import RunResult


@dataclass(frozen=True)
class Call:
    argv: tuple[str, ...]
    rc: int | None = 0
    stdout: str = ""
    stderr: str = ""
    missing: bool = False
    timed_out: bool = False

    def result(self) -> RunResult:
        return RunResult(
            self.argv,
            self.rc,
            self.stdout,
            self.stderr,
            timed_out=self.timed_out,
            missing=self.missing,
        )


def missing(*argv: str) -> Call:
    return Call(tuple(argv), None, missing=True)


class FakeRunner:
    """CommandRunner answering declared calls: in order, or in any order (`ordered=False`,
    for commands run in parallel threads)."""

    def __init__(self, expect: Iterable[Call], *, ordered: bool = True) -> None:
        self.expected = list(expect)
        self.ordered = ordered
        self.calls: list[tuple[str, ...]] = []
        self._lock = threading.Lock()

    def run(self, argv: Sequence[str], *, timeout: float) -> RunResult:
        key = tuple(argv)
        with self._lock:
            self.calls.append(key)
            candidates = self.expected[:1] if self.ordered else self.expected
            for i, call in enumerate(candidates):
                if call.argv == key:
                    del self.expected[i]
                    return call.result()
        raise AssertionError(
            f"unexpected command {key}; next expected: "
            f"{self.expected[0].argv if self.expected else None}"
        )

    def assert_done(self) -> None:
        assert not self.expected, f"expected calls not made: {[c.argv for c in self.expected]}"


class FakeTerminal:
    """Terminal seam: records the interactive commands, returns their exit status."""

    def __init__(self, expect: Iterable[tuple[tuple[str, ...], int]] = ()) -> None:
        self.expected = list(expect)

    def attach(self, argv: Sequence[str]) -> int:
        assert self.expected, f"unexpected interactive command {tuple(argv)}"
        want, rc = self.expected.pop(0)
        assert tuple(argv) == want, f"interactive {tuple(argv)}, expected {want}"
        return rc

    def assert_done(self) -> None:
        assert not self.expected, f"interactive commands not run: {self.expected}"
